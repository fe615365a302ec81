/*
 * The wall clock moved by FAKETIME seconds ("+N" or "-N"), for the commands run_at.py has
 * libfaketime skip (FAKETIME_SKIP_CMDS): the embedded PostgreSQL server.
 *
 * Why not libfaketime there: libfaketime returns the real time from every clock call made while
 * one of its wrapped blocking calls (epoll_wait, poll, select, nanosleep...) is in progress on the
 * same thread (a thread-local "dont_fake" flag set around the real call). A signal handler that
 * interrupts such a call therefore reads the real clock. PostgreSQL's SIGALRM handler
 * (src/backend/utils/misc/timeout.c, handle_sig_alarm) does exactly that while a backend waits
 * for a lock in epoll_wait: it compares the real "now" with a deadline computed on the faked
 * clock, so with the clock moved forward deadlock_timeout never fires (the alarm is re-armed for
 * the offset, days away) and with it moved back every pending timeout fires at the first alarm.
 *
 * This library only adds the offset to the realtime clocks, reading them from glibc directly: no
 * wrapped sleeps, no locks, no thread-local state, so a signal handler sees the same moved clock
 * as the code it interrupted. The monotonic clock is left real (PostgreSQL only measures
 * intervals with it). It is listed before libfaketime in LD_PRELOAD, and does nothing in a
 * command libfaketime does not skip (it passes the call on to libfaketime there).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static int active;
static long long offset;
static int (*next_clock_gettime)(clockid_t, struct timespec *);
static int (*next_gettimeofday)(struct timeval *, void *);
static time_t (*next_time)(time_t *);

/* Whether this program's name is one of the comma-separated names in `list`. */
static int listed(const char *list, const char *name)
{
    size_t length = strlen(name);
    for (const char *item = list; *item != '\0';) {
        const char *end = strchr(item, ',');
        size_t size = end ? (size_t)(end - item) : strlen(item);
        if (size == length && strncmp(item, name, length) == 0) {
            return 1;
        }
        if (!end) {
            break;
        }
        item = end + 1;
    }
    return 0;
}

/* Runs before main: PostgreSQL overwrites argv (its process titles) once it has started. */
__attribute__((constructor)) static void wall_clock_offset_init(void)
{
    const char *skipped = getenv("FAKETIME_SKIP_CMDS");
    const char *moved = getenv("FAKETIME");
    char *end = NULL;
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);

    next_clock_gettime = dlsym(RTLD_NEXT, "clock_gettime");
    next_gettimeofday = dlsym(RTLD_NEXT, "gettimeofday");
    next_time = dlsym(RTLD_NEXT, "time");
    if (!skipped || !moved || !libc || !listed(skipped, program_invocation_short_name)) {
        return;
    }
    errno = 0;
    offset = strtoll(moved, &end, 10);
    if (errno != 0 || end == moved || *end != '\0') {
        return; /* not the "+N" seconds run_at.py sets: leave the clock alone */
    }
    /* glibc's own functions (vDSO), not libfaketime's wrappers that come next in the order. */
    next_clock_gettime = dlsym(libc, "clock_gettime");
    next_gettimeofday = dlsym(libc, "gettimeofday");
    next_time = dlsym(libc, "time");
    active = next_clock_gettime && next_gettimeofday && next_time;
}

static int realtime(clockid_t clock)
{
    return clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE || clock == CLOCK_TAI ||
           clock == CLOCK_REALTIME_ALARM;
}

/* Another library's constructor may read the clock before ours has run. */
static void ready(void)
{
    if (!next_clock_gettime || !next_gettimeofday || !next_time) {
        wall_clock_offset_init();
    }
}

int clock_gettime(clockid_t clock, struct timespec *now)
{
    ready();
    int result = next_clock_gettime(clock, now);
    if (active && result == 0 && realtime(clock)) {
        now->tv_sec += offset;
    }
    return result;
}

int gettimeofday(struct timeval *now, void *zone)
{
    ready();
    int result = next_gettimeofday(now, zone);
    if (active && result == 0 && now) {
        now->tv_sec += offset;
    }
    return result;
}

time_t time(time_t *now)
{
    ready();
    time_t result = next_time(NULL);
    if (active && result != (time_t)-1) {
        result += offset;
    }
    if (now) {
        *now = result;
    }
    return result;
}
