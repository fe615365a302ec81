"""The dispatcher: claim due ``scheduled_messages``, send them, record what happened.

One loop claims batches (``FOR UPDATE SKIP LOCKED``, with a lease and a fresh lease token) into a
queue; while a backlog lasts (the last claim came back full) the next claim starts while the one
before it is still in flight, on a second claim connection (``_CLAIMS_IN_FLIGHT``). Sender
coroutines take claims from it one at a time -- check expiry and quiet hours, pick a route, wait
for the rate-limit buckets, render and send, outside any transaction -- at most
``concurrency`` of them at once. A sender starts another only while claims wait and none is
already starting, so slow sends (HTTP) fan out to ``concurrency`` within a few loop iterations,
while fast ones (a local adapter) are drained by one or two coroutines without a task apiece.
Outcomes and attempt rows are buffered and written by a flusher in bulk, one statement per flush,
guarded by each row's lease token. While a flush is in flight the next outcomes accumulate, so
batches grow with load and latency stays low when it is quiet (group commit); up to
``_WRITES_IN_FLIGHT`` flushes run at once, each on its own pooled connection, and rows already
sent do not hold back the next claim (only the unsent ones count against the claim's target), so
during a burst the next claim, the sends and the records overlap instead of taking turns: one
flush at a time, with its three round trips each waiting for the loop between two sends, was the
burst's bottleneck (issue 20: a record of 75 rows took 37 ms of wall time for ~11 ms of
Postgres CPU, and the claims waited for the room it freed).

When a rate limit paces the sends, outcomes trickle in one at a time and group commit groups
nothing: a claim and a record per message cost ~7 ms of CPU at Telegram's 30/s
(bench/dispatch.py scenario 8). So the loop claims only once half its target is free, in batches,
and the flusher lets results gather for up to ``_FLUSH_LINGER_SECONDS`` unless the loop waits for
the room a flush frees, or a batch's worth is buffered.

Delivery is at least once: a worker that dies after a send but before its flush leaves the row
``processing``; the reaper returns it to ``pending`` when the lease expires and it is sent again.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import heapq
import logging
import math
import random
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterator, Mapping
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from core.reply_files import load_files
from core.templating import TemplateRenderer
from platforms.base import Channel, ChannelSender
from scheduler import metrics
from scheduler.breaker import Breakers
from scheduler.buckets import BucketSet, Limiter
from scheduler.claim_session import ClaimSession
from scheduler.claims import (
    Claim,
    Outcome,
    cancelled_rows,
    mark_contacts,
    move_addresses,
    next_due,
    record_mended,
)
from scheduler.custom_templates import prefetch_templates
from scheduler.delivery import Deliverer, DeliveryResult, SendersFor, time_critical
from scheduler.dispatch_config import DispatcherConfig, default_worker_id, utc_now
from scheduler.fleet_limits import FleetLimiter
from scheduler.fleet_share import WHOLE, FleetShare, Share
from scheduler.lease_keeper import LeaseKeeper
from scheduler.record_session import RecordSession
from scheduler.render_ahead import RenderAhead, RenderedAhead
from scheduler.routing import RoutePlan
from scheduler.send_checks import SendChecks

__all__ = [
    "DB_ERRORS",
    "Dispatcher",
    "DispatcherConfig",
    "default_worker_id",
    "enqueue",
    "utc_now",
]

logger = logging.getLogger(__name__)

# Database errors the loop survives (server restart, network blip): log, back off, carry on.
DB_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,  # a pooled connection caught mid-reset by a server restart
    TimeoutError,
)
_DB_RETRY_MAX_SECONDS = 5.0  # reconnect attempts back off up to this
_MIN_IDLE_SECONDS = 0.02  # due rows exist but were locked by others: do not spin
# A sender that never waits yields after this many sends: each yield lets a claim's or a flush's
# answer in, so it bounds how long a round trip waits for the loop (~8 sends: ~1-2 ms).
_SENDS_BETWEEN_YIELDS = 8
# Flushes in flight at once (each a pooled connection); see the module docstring.
_WRITES_IN_FLIGHT = 2
# Claims in flight at once while a backlog lasts (each on a claim connection of its own). One
# claim at a time was the burst's serial chain (issue 20): a claim was in flight 97% of an 08:00
# burst, the sends waiting on the next, and each claim's round trips and its cache barrier left
# the cores idle meanwhile. After a claim that came back short (nothing more due) one at a time.
_CLAIMS_IN_FLIGHT = 2
# A final flush's statement may run this long past the shutdown deadline (its statement timeout).
_FINAL_WRITE_SECONDS = 35.0
# The send rate that sizes claims: the last this-many completions, if the newest is recent.
_RATE_SAMPLE = 2000
_RATE_STALE_SECONDS = 10.0
_RATE_MIN_SPAN_SECONDS = 1.0
# While a rate limit paces the sends, the loop claims in batches of half its target (see above):
# at Telegram's 30/s one claim every ~1.2 s, and a time-critical dose that fell due meanwhile
# waited for it, behind a peak of routine reminders. With room for any row, a claim goes at least
# this often; the claim takes due rows in priority order, so the dose is among the first.
_CLAIM_AT_LEAST_EVERY = 0.25
# Rows claimed ahead are checked this many at a time, once fewer than this wait to be sent
# (Dispatcher._check_released); with senders busy elsewhere, looked at again this often.
_CHECK_AHEAD_ROWS = 500
_CHECK_AHEAD_POLL = 0.05
# Rows claimed ahead whose read before the handover failed (the database away): read again then.
_CHECK_AHEAD_RETRY = 0.25
# Trickling outcomes wait this long at most for others to share their statement (see above).
_FLUSH_LINGER_SECONDS = 0.2
# A stopping worker's word to the fleet that its share is free (else seen gone in 15 s).
_LEAVE_SECONDS = 1.0
# In a fleet, after a claim ahead took all of the worker's share: the next one no sooner.
_AHEAD_AGAIN_SECONDS = 0.5


def _done(result: DeliveryResult) -> bool:
    """Whether a result is a send or a final outcome, not a row put back unsent."""
    return bool(result.attempts) or result.outcome.status != "pending"


async def aclose_limiter(limiter: Limiter) -> None:
    """Close a limiter that has something to close (the fleet's writes its pending pauses)."""
    close = getattr(limiter, "aclose", None)
    if close is not None:
        await close()


def enqueue(queue: deque[tuple[Claim, float]], claims: list[Claim], claimed_at: float) -> None:
    """Add a claim's rows to the send queue: the time-critical ones (``time_critical``) after
    those already waiting and ahead of every routine one, the others at the end, each in claim
    order. A worker full of a peak's routine reminders sent a dose claimed after them only after
    all of them. The queue stays time-critical rows first, then routine ones."""
    critical = [(c, claimed_at) for c in claims if time_critical(c)]
    if not critical:
        queue.extend((c, claimed_at) for c in claims)
        return
    if queue and not time_critical(queue[-1][0]):
        place = 0
        while time_critical(queue[place][0]):  # stops: the last one is routine
            place += 1
        queue.rotate(-place)
        queue.extendleft(reversed(critical))
        queue.rotate(place)
    else:
        queue.extend(critical)
    if len(critical) < len(claims):
        queue.extend((c, claimed_at) for c in claims if not time_critical(c))


class Dispatcher:
    """Claims, sends and records ``scheduled_messages``; see the module docstring.

    ``senders`` maps each configured channel to its :class:`ChannelSender` (``senders_for``, when
    given, answers a clinic's own over them); ``clock`` returns the
    current aware time (injected in tests); ``connect`` opens a connection of the claims' own
    (:class:`scheduler.claim_session.ClaimSession`). Use :meth:`run_once` to process one batch
    (tests) or :meth:`run` to loop until :meth:`request_stop`.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        senders: Mapping[Channel, ChannelSender],
        renderer: TemplateRenderer | None = None,
        clock: Callable[[], datetime] = utc_now,
        config: DispatcherConfig | None = None,
        *,
        rng: random.Random | None = None,
        senders_for: SendersFor | None = None,
        connect: Callable[[], Awaitable[asyncpg.Connection]] | None = None,
    ) -> None:
        self.pool = pool
        self.config = config or DispatcherConfig()
        # Claims on a connection of their own when ``connect`` is given (scheduler.claim_session).
        self._claims = ClaimSession(
            pool, connect, cache_size=self.config.read_ahead, connections=_CLAIMS_IN_FLIGHT
        )
        # Records on connections of their own too, one per flush in flight (record_session).
        self._records = RecordSession(pool, connect, size=_WRITES_IN_FLIGHT)
        self.senders = dict(senders)
        self.renderer = renderer
        self.clock = clock
        limiter: Limiter
        if self.config.fleet_limits:
            accounts = {
                ch: getattr(sender, "rate_key", None) or str(ch)
                for ch, sender in self.senders.items()
            }
            limiter = FleetLimiter(
                pool,
                accounts,
                self.config.platform_rates,
                self.config.recipient_rates,
                hold_seconds=self.config.send_timeout + 1.0,
            )
        else:
            limiter = BucketSet(dict(self.config.platform_rates), dict(self.config.recipient_rates))
        self._send_checks = SendChecks(pool)
        self._deliverer = Deliverer(
            self.senders,
            renderer,
            clock,
            self.config,
            limiter,
            rng or random.Random(),
            recheck=self._send_checks,
            senders_for=senders_for,
            files=functools.partial(load_files, pool),
        )
        # Texts rendered before they are due, with the claims' patient cache (own connections).
        self._ahead: RenderAhead | None = None
        self._share: FleetShare | None = None
        self._ahead_short_at = -math.inf  # when a claim ahead last took less than its room
        if connect is not None and renderer is not None and self.config.read_ahead > 0:
            self._deliverer.ahead = RenderedAhead(self.config.read_ahead)
            # Each worker of a fleet prepares its share of a peak (scheduler.fleet_share).
            self._share = FleetShare(self.config.worker_id)
            self._claims.share = self._share
            self._ahead = RenderAhead(
                pool,
                lambda: self._claims.cache,
                renderer,
                self._deliverer.first_channel,
                self._deliverer.ahead,
                clock,
                share=self._share,
            )
        # Claims should be sent within this long of the claim (the lease, less the send timeout
        # and the margin): a worker claims what it can send in it at its recent rate.
        self._claim_window = max(
            1.0,
            self.config.lease_seconds
            - self.config.send_timeout
            - min(5.0, self.config.lease_seconds / 10),
        )
        # Seconds of sends a worker holds (see _claim_target).
        self._hold_seconds = min(self._claim_window, self.config.max_bucket_wait_seconds) / 2
        self._completions: deque[float] = deque(maxlen=_RATE_SAMPLE)
        self._capacity = self.config.concurrency + self.config.batch_size
        # Rows held at most, sent ones waiting for their flush included: the claim target, a
        # batch buffered and one in each flush in flight (bounds memory while writes are slow).
        self._held_max = self._capacity + (_WRITES_IN_FLIGHT + 1) * self.config.batch_size
        self._unfinished = 0  # claimed rows whose outcome is not yet written
        self._unsent = 0  # claimed rows without a result yet (queued or being sent)
        # Claims in flight (oldest first) with the rows each may bring: room they hold.
        self._claiming: deque[tuple[asyncio.Task[list[Claim]], int, float]] = deque()
        self._reserved = 0
        # The claim loop waits until _unsent falls to this (see run), or a flush ends.
        self._wake_unsent = -1
        self._claimed_at = -math.inf  # when the last claim began (time.monotonic())
        self._writes: set[asyncio.Task[None]] = set()  # flushes in flight
        self._writing: list[list[DeliveryResult]] = []  # their results (rows still held)
        self._db_back = asyncio.Event()  # a lease renewal succeeded after failing: flush now
        self._write_done = asyncio.Event()
        self._write_failures = 0
        # Claimed, not yet taken by a sender; with the monotonic time its claim began.
        self._queue: deque[tuple[Claim, float]] = deque()
        self._senders: dict[asyncio.Task[None], Claim | None] = {}  # sender -> claim it holds
        self._starting = 0  # senders created that have not taken their first claim yet
        self._queue_empty = asyncio.Event()  # no queued claim and no sender running
        self._queue_empty.set()
        self._buffer: list[DeliveryResult] = []
        self._wake = asyncio.Event()
        # When the next row is due, as the table said at _due_asked (time.monotonic()) or a
        # notification since (see _idle_seconds); _timed_out: the last idle ended unwoken.
        self._next_due: datetime | None = None
        self._due_asked = -math.inf
        self._timed_out = True
        self._flush_wanted = asyncio.Event()
        self._room = asyncio.Event()
        self._room_wanted = False  # the claim loop waits for a flush to free room
        self._stopping = False
        self._closing_deadline: float | None = None  # set at shutdown: the flusher's last call
        self._out_of_time = False  # out_of_time(): the shutdown waits no more
        self._running = False
        self.lease_lost = 0  # outcomes refused because the lease had moved on (for tests/logs)
        # Rows given back unsent whose return was refused because the clinic had cancelled them
        # while held (claimed ahead): let go, not lost (for tests/logs).
        self.returns_cancelled = 0
        # Claimed ahead of a peak (see _claim_ahead): held until due, by (due, order, claim,
        # lease start, read start); the ids not yet recorded (they hold no claim room), each
        # with the token of its lease held ahead; the read start of those released and not yet
        # taken by a sender; how many are unrecorded.
        self._held_ahead: list[tuple[datetime, int, Claim, float, float, int]] = []
        self._ahead_order = 0
        # By lease, not by id alone: a row the clinic edits while held is released (migration
        # 20260101018500) and may be claimed again, by this worker too, while the entry of its
        # first lease still waits here; that one must go unsent (_still_held), not both.
        self._ahead_ids: dict[UUID, UUID] = {}
        # Also the routes its check named (Deliverer.first_checked), planned once.
        self._ahead_read: dict[UUID, tuple[float, RoutePlan]] = {}
        # Due rows claimed ahead, not checked yet (claim, lease start, read start): see
        # _check_released.
        self._due_ahead: deque[tuple[Claim, float, float, int]] = deque()
        self._ahead_unfinished = 0
        self._ahead_channels: Counter[Channel] = Counter()  # first channels of this peak's
        self._ahead_added = asyncio.Event()
        self.claimed_ahead = 0  # rows claimed before they were due (for tests and benchmarks)
        # Sends claimed ahead checked row by row at the handover: their patient or caregiver
        # changed since the claim (for tests and benchmarks).
        self.checked_at_handover = 0
        self._sending = 0
        # Read at scrape time: cheaper than a locked inc/dec around every send.
        metrics.IN_FLIGHT.set_function(lambda: self._sending)

    @property
    def share(self) -> Share | None:
        """This worker's share of the fleet's peaks as its last render-ahead pass learnt it
        (None: it prepares no peak: :mod:`scheduler.fleet_share`)."""
        return self._share.current if self._share is not None else None

    @property
    def rendered_ahead(self) -> RenderedAhead | None:
        """The texts rendered before they were due and its counters (None: not rendering ahead,
        a dispatcher without claims of its own or without a renderer)."""
        return self._deliverer.ahead

    # -- lifecycle -------------------------------------------------------------------------

    def notify(self, due: datetime | None = None) -> None:
        """Wake the loop: new rows may be due (LISTEN callback). ``due`` is the earliest time.

        The notification carries the due time of what its statement made due (within five
        minutes): the loop sleeps until it without asking the table. ``None`` (the listener
        reconnected: notifications may have been missed) makes the loop ask again.
        """
        if due is None:
            self._due_asked = -math.inf
        elif self._next_due is None or due < self._next_due:
            self._next_due = due
        self._wake.set()

    def request_stop(self) -> None:
        """Stop claiming; :meth:`run` then finishes in-flight sends and returns. Idempotent."""
        self._stopping = True
        self._wake.set()
        self._room.set()

    def out_of_time(self) -> None:
        """The stop has run out of time (the worker is about to abort its database
        connections, medremind.worker_process): the shutdown gives the sends no more time and
        the final flush no further try. Idempotent."""
        self._out_of_time = True
        if self._closing_deadline is not None:
            self._closing_deadline = time.monotonic()
            self._flush_wanted.set()
            self._db_back.set()

    @property
    def breakers(self) -> Breakers:
        """The circuit breakers of this dispatcher's provider accounts."""
        return self._deliverer.breakers

    @property
    def buckets(self) -> Limiter:
        """The rate limiter: this process's buckets, or the fleet's (``fleet_limits``)."""
        return self._deliverer.buckets

    @buckets.setter
    def buckets(self, value: Limiter) -> None:
        self._deliverer.buckets = value

    def _claim_target(self) -> int:
        """How many rows to hold (queued and in flight): what the recent rate sends in time.

        A worker that claimed ``concurrency + batch`` whatever its rate aged its claims toward
        the lease's end behind a rate limit, and the first worker awake took a whole burst.
        Holding what half its lease window sent was still too much for a fleet at a cap: six
        workers sharing Telegram's 30/s held ~17 s of sends, longer than a send waits for its
        slot (``max_bucket_wait_seconds``), and put every row back twice on average (6,364 for
        3,000 messages). So a worker holds what it sends in half that wait (or half the window,
        if shorter). Until a rate is known, and while it is measured over less than a second,
        ``min(batch, concurrency)`` at least.
        """
        floor = min(self.config.batch_size, self.config.concurrency)
        done = self._completions
        if len(done) < 2:
            return floor
        now = time.monotonic()
        span = now - done[0]
        if span <= 0 or now - done[-1] > _RATE_STALE_SECONDS:
            return floor
        rate = len(done) / max(span, _RATE_MIN_SPAN_SECONDS)
        held = int(rate * self._hold_seconds)
        return max(floor, held) if span < _RATE_MIN_SPAN_SECONDS else max(1, held)

    def _claim_goal(self) -> tuple[int, int]:
        """(rows to hold, the fewest worth a claim): claims come in batches of half the target.

        Claiming whatever one flush freed cost a claim statement per message or two while a
        rate limit paced the sends.
        """
        target = min(self._capacity, self._claim_target())
        return target, max(1, min(self.config.batch_size, target) // 2)

    def _claim_room(self) -> tuple[int, int]:
        """(rows the next claim may take, the fewest worth a claim): the target less the rows
        not yet sent, within what may be held at all (:attr:`_held_max`)."""
        target, least = self._claim_goal()
        unsent, unfinished = self._unsent + self._reserved, self._unfinished + self._reserved
        return min(target - unsent, self._held_max - unfinished), least

    def _room_for_a_claim(self) -> int | None:
        """Rows a claim may take now (None: too few to be worth a claim)."""
        room, least = self._claim_room()
        return room if room >= least else None

    def _flush_now(self) -> bool:
        """Write the buffer at once (else let it gather): stopping, a batch's worth, or the
        claim loop waits for the room this flush frees."""
        if self._stopping or self._closing_deadline is not None:
            return True
        if len(self._buffer) >= max(1, self.config.batch_size // 2):
            return True
        if not self._room_wanted:  # the loop is idle (nothing due) or claiming
            return False
        target, least = self._claim_goal()
        freed = self._held_max - (self._unfinished - len(self._buffer))
        return min(target - self._unsent, freed) >= least

    @property
    def in_flight(self) -> int:
        """Claimed rows not yet recorded (those claimed ahead of their time too)."""
        return self._unfinished + self._ahead_unfinished

    async def run(self) -> None:
        """Claim and send until :meth:`request_stop`; then shut down gracefully."""
        if self._running:
            raise RuntimeError("dispatcher is already running")
        self._running = True
        flusher = asyncio.create_task(self._flush_loop(), name="dispatch-flush")
        ahead = (
            None
            if self._ahead is None
            else asyncio.create_task(self._ahead.run(), name="dispatch-render-ahead")
        )
        releaser = asyncio.create_task(self._release_loop(), name="dispatch-release-ahead")
        failures = 0
        backlog = False  # the last claim came back full: more may be due
        try:
            while not self._stopping:
                if self._claiming and (
                    not backlog
                    or len(self._claiming) >= _CLAIMS_IN_FLIGHT
                    or self._room_for_a_claim() is None
                ):
                    # The oldest claim's rows first: at once when it is the only one (nothing
                    # more was due last time), or while the next waits for room.
                    task, limit, claimed_at = self._claiming.popleft()
                    self._reserved -= limit
                    try:
                        claims = await task
                        failures = 0
                    except Exception as exc:  # the loop outlives any failure; DB_ERRORS expected
                        backlog = False
                        failures += 1
                        delay = min(_DB_RETRY_MAX_SECONDS, 0.1 * 2**failures)
                        logger.warning(
                            "claim failed; retrying",
                            extra={"error": type(exc).__name__, "retry_in": delay},
                        )
                        if not self._claiming:
                            await self._idle(delay)
                        continue
                    self._start(claims, claimed_at)
                    backlog = len(claims) == limit
                    if not backlog and not self._claiming:
                        if await self._claim_ahead():
                            continue
                        await self._idle(await self._idle_seconds())
                    continue
                room, least = self._claim_room()
                # Some room, and the last claim a while ago: claim what fits (a time-critical
                # dose due since then comes first in any claim; see _CLAIM_AT_LEAST_EVERY).
                overdue = room >= 1 and time.monotonic() - self._claimed_at >= _CLAIM_AT_LEAST_EVERY
                if room < least and not overdue:
                    self._room.clear()
                    self._room_wanted = True
                    # Woken by a flush's end, or by the sends once the unsent rows leave room.
                    self._wake_unsent = self._unsent - (least - room)
                    self._flush_wanted.set()  # results buffered now may be what it waits for
                    wait = self._claimed_at + _CLAIM_AT_LEAST_EVERY - time.monotonic()
                    try:
                        # Room for some rows: claim them at the latest when a claim is due.
                        async with asyncio.timeout(wait if room >= 1 else None):
                            await self._room.wait()
                    except TimeoutError:
                        pass
                    finally:
                        self._room_wanted = False
                        self._wake_unsent = -1
                    continue
                limit = min(self.config.batch_size, room)
                self._wake.clear()
                # Taken before the claim: the lease the database grants ends no earlier than its
                # lease_seconds after this, and what the claim read is no older.
                claimed_at = self._claimed_at = time.monotonic()
                task = asyncio.create_task(self._claim(limit), name="dispatch-claim")
                self._claiming.append((task, limit, claimed_at))
                self._reserved += limit
        finally:
            releaser.cancel()
            await asyncio.gather(releaser, return_exceptions=True)
            try:
                await self._claims_landed()
            finally:
                if ahead is not None:
                    assert self._ahead is not None
                    self._ahead.stop()
                    ahead.cancel()  # a pass may be in a statement: the sends' shutdown first
                    await asyncio.gather(ahead, return_exceptions=True)
                await self._shutdown(flusher)
                if self._share is not None and not self._out_of_time:
                    await self._share.leave(self.pool, _LEAVE_SECONDS)
                self._running = False

    async def run_once(self) -> int:
        """Claim one batch, process it completely and record it; return the number claimed."""
        claimed_at = time.monotonic()
        try:
            claims = await self._claim(self.config.batch_size)
        finally:
            await self._claims.aclose()
        self._start(claims, claimed_at)
        await self._queue_empty.wait()
        try:
            await self._flush_all()
        finally:
            await self._records.aclose()
        return len(claims)

    # -- the loop's pieces -----------------------------------------------------------------

    async def _claims_landed(self) -> None:
        """At the loop's end: the claims still in flight land in the queue (shutdown returns
        what is not sent); one that fails leaves its rows leased, to the reaper."""
        while self._claiming:
            task, limit, claimed_at = self._claiming.popleft()
            self._reserved -= limit
            try:
                claims = await task
            except Exception as exc:  # failed: its rows (if any) come back with their lease
                logger.warning("claim at shutdown failed", extra={"error": type(exc).__name__})
                continue
            self._start(claims, claimed_at)

    async def _claim(self, limit: int, ahead: float = 0.0) -> list[Claim]:
        now = self.clock()
        claims = await self._claims.claim(
            # Ahead of a peak: what falls due within ``ahead``, leased from then on.
            now=now + timedelta(seconds=ahead) if ahead > 0 else now,
            limit=limit,
            worker=self.config.worker_id,
            lease_seconds=self.config.lease_seconds,
            # Ahead: the worker's share, the rows it rendered ahead. Due: any row.
            share=self._share.current if ahead > 0 and self._share is not None else WHOLE,
        )
        metrics.CLAIM_BATCH.observe(len(claims))
        # Clinician templates the batch names, in one query (none when it names none).
        await prefetch_templates(self.pool, self.renderer, claims)
        return claims

    # -- claiming ahead of a peak ----------------------------------------------------------

    def _ahead_wanted(self) -> bool:
        """Whether to claim rows before they are due: a peak is forecast (a batch's worth of
        texts rendered ahead, scheduler.render_ahead), and no capped channel holds more of this
        peak's rows than it sends while they wait."""
        if self.config.claim_ahead_seconds <= 0 or self._stopping:
            return False
        held = self._deliverer.ahead
        if held is None or len(held) < self.config.batch_size:
            return False
        if not self._ahead_unfinished:
            self._ahead_channels.clear()  # the last peak's rows are all recorded
        window = self.config.claim_ahead_seconds + self._hold_seconds
        rates = self.config.platform_rates
        return all(n <= rates[ch] * window for ch, n in self._ahead_channels.items() if ch in rates)

    async def _claim_ahead(self) -> bool:
        """Claim what falls due within ``claim_ahead_seconds`` and hold it until its time;
        whether the claim came back full (more may be due in the window).

        A burst's claims cost as much Postgres and worker CPU as its records (issue 20: 100,000
        reminders at one instant, ~46 of ~115 us of Postgres a message were the claim's). Made
        in the seconds before the instant, when the cores are idle, they leave the peak its
        sends and records. A row claimed ahead is leased from its claim's window end on, so its
        send has a whole lease; the check before each send (scheduler.send_checks) still stops
        a reminder paused, answered or opted out of meanwhile, and a clinic may still cancel or
        change the row until a second before its time (:meth:`_still_held`: a change releases
        the lease, and the row is claimed again as changed).
        """
        if not self._ahead_wanted():
            return False
        room = min(self.config.batch_size, self.config.claim_ahead_max - self._ahead_unfinished)
        if room < 1:
            return False
        ahead = self.config.claim_ahead_seconds
        read_at = time.monotonic()
        try:
            # Before the claim's own snapshot: what changes after it is logged from here on.
            since = await self._send_checks.watermark()
            claims = await self._claim(room, ahead=ahead)
        except Exception as exc:  # the loop outlives any failure: claimed when due instead
            logger.warning("claim ahead failed", extra={"error": type(exc).__name__})
            return False
        self._hold(claims, read_at + ahead, read_at, since)
        if len(claims) < room and self._share is not None and self._share.current.workers > 1:
            self._ahead_short_at = time.monotonic()
        return len(claims) == room

    def _hold(self, claims: list[Claim], lease_from: float, read_at: float, since: int) -> None:
        """Hold claims made ahead until their time (``_release_loop``); ``since``: the
        watermark read before the claim (:meth:`SendChecks.watermark`)."""
        if not claims:
            return
        first_channel = self._deliverer.first_channel
        for c in claims:
            self._ahead_order += 1
            heapq.heappush(
                self._held_ahead,
                (c.scheduled_time, self._ahead_order, c, lease_from, read_at, since),
            )
            self._ahead_ids[c.id] = c.lease_token
            channel = first_channel(c)
            if channel is not None:
                self._ahead_channels[channel] += 1
        self._ahead_unfinished += len(claims)
        self.claimed_ahead += len(claims)
        self._ahead_added.set()

    async def _release_loop(self) -> None:
        """Hand each row claimed ahead to the senders at its time (by the dispatcher's clock),
        checked just before the senders need it (:meth:`_check_released`)."""
        held, due = self._held_ahead, self._due_ahead
        while True:
            self._ahead_added.clear()
            if due and len(self._queue) < _CHECK_AHEAD_ROWS:
                await self._check_released()
                continue
            now = self.clock()
            if held and held[0][0] <= now:
                while held and held[0][0] <= now:
                    _due, _order, c, lease_from, read_at, since = heapq.heappop(held)
                    due.append((c, lease_from, read_at, since))
                continue
            wait = None if not held else (held[0][0] - now).total_seconds()
            if due:  # woken when the senders have taken enough (_send_loop), else soon
                wait = _CHECK_AHEAD_POLL if wait is None else min(wait, _CHECK_AHEAD_POLL)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._ahead_added.wait()

    async def _check_released(self) -> None:
        """Check the next due rows claimed ahead in one statement and queue those that may go.

        A send that starts more than a quarter of a second after its claim's read is checked
        again first (a /pause, an answer, an opt-out since: scheduler.send_checks), so every
        row claimed ahead would be, a statement for each few dozen sends, and each send waiting
        for one: slower than claiming at the instant (issue 20: 14.3 s against 11.4 for the
        burst). Checked here 500 at a time, just before the senders take them, they start
        within that quarter second of this read, and the send's own check is skipped. The
        check reads whose rows changed since the claims first (:meth:`_check_changed`).
        """
        due = self._due_ahead
        chunk = [due.popleft() for _ in range(min(len(due), _CHECK_AHEAD_ROWS))]
        if not await self._still_held(chunk):
            return
        routed = [(entry, self._deliverer.first_checked(entry[0])) for entry in chunk]
        asks = [(entry[0], contact) for entry, (plan, contact) in routed if plan.routes]
        checked_at = time.monotonic()
        try:
            verdicts = (
                iter(await self._check_changed(asks, min(entry[3] for entry in chunk)))
                if asks
                else iter(())
            )
        except asyncio.CancelledError:  # stopping: shutdown returns them with the rest
            due.extendleft(reversed(chunk))
            raise
        except DB_ERRORS as exc:  # each send checks for itself (and fails safe) instead
            logger.warning(
                "could not check rows claimed ahead", extra={"error": type(exc).__name__}
            )
            verdicts = None
        go: list[tuple[Claim, float]] = []
        for (c, lease_from, read_at, _since), (plan, _contact) in routed:
            has_route = bool(plan.routes)
            verdict = next(verdicts) if verdicts is not None and has_route else None
            if verdict is not None:  # stopped: recorded as a send's check would have
                self._buffer.append(verdict)
                self._flush_wanted.set()
                continue
            fresh = verdicts is not None and has_route
            self._ahead_read[c.id] = (checked_at if fresh else read_at, plan)
            go.append((c, lease_from))
        start = 0
        for end in range(1, len(go) + 1):  # each claim's rows in its order (enqueue's)
            if end == len(go) or go[end][1] != go[start][1]:
                enqueue(self._queue, [c for c, _ in go[start:end]], go[start][1])
                start = end
        if go:
            self._queue_empty.clear()
            self._spawn_sender()

    async def _check_changed(
        self, asks: list[tuple[Claim, UUID | None]], since: int
    ) -> list[DeliveryResult | None]:
        """The check of sends claimed ahead: whose rows changed since the claims' watermark
        ``since``, then those sends row by row (``dispatch.sql: hold_at_send``); every other
        send goes as its claim read it, which nothing has changed since. At the 08:00 peak that
        is one statement for 500 sends instead of six key lookups each (issue 20). Raises the
        database's errors."""
        changes = await self._send_checks.changed_since(since)
        touched = [n for n, (c, contact) in enumerate(asks) if changes.touch(c, contact)]
        verdicts: list[DeliveryResult | None] = [None] * len(asks)
        if touched:
            checked = await self._send_checks.check([asks[n] for n in touched])
            for n, verdict in zip(touched, checked, strict=True):
                verdicts[n] = verdict
        self.checked_at_handover += len(touched)
        return verdicts

    async def _still_held(self, chunk: list[tuple[Claim, float, float, int]]) -> bool:
        """Keep in ``chunk`` the rows claimed ahead that this worker still holds, and let go of
        those a clinic cancelled before their time (migration 20260101018320): they are not
        sent, and the cancel wrote their outcome. False: not read (the database away), the
        chunk is back in the queue of due rows and is read again shortly; none goes unread."""
        try:
            held = await self._send_checks.still_held(
                self.config.worker_id,
                [(c.id, c.lease_token) for c, _from, _read, _since in chunk],
            )
        except asyncio.CancelledError:  # stopping: shutdown returns them with the rest
            self._due_ahead.extendleft(reversed(chunk))
            raise
        except DB_ERRORS as exc:
            self._due_ahead.extendleft(reversed(chunk))
            logger.warning("could not read rows claimed ahead", extra={"error": type(exc).__name__})
            await asyncio.sleep(_CHECK_AHEAD_RETRY)
            return False
        # A row is held under its latest lease only: an earlier lease of an id claimed again
        # since an edit released it is gone, even when the database names the id as held.
        ahead = self._ahead_ids
        gone = [
            c
            for c, _from, _read, _since in chunk
            if c.id not in held or ahead.get(c.id) != c.lease_token
        ]
        if gone:
            chunk[:] = [
                entry
                for entry in chunk
                if entry[0].id in held and ahead.get(entry[0].id) == entry[0].lease_token
            ]
            for c in gone:
                if ahead.get(c.id) == c.lease_token:
                    del ahead[c.id]
            self._ahead_unfinished -= len(gone)
            logger.info(
                "rows claimed ahead were cancelled or changed before their time",
                extra={"count": len(gone)},
            )
        return True

    def _held_under(self, message_id: UUID, token: UUID | None) -> bool:
        """Whether ``message_id`` is a row claimed ahead under lease ``token`` (not a row
        claimed again, at its time, after an edit released that lease)."""
        return self._ahead_ids.get(message_id) == token

    def _start(self, claims: list[Claim], claimed_at: float) -> None:
        if not claims:
            return
        enqueue(self._queue, claims, claimed_at)
        self._unfinished += len(claims)
        self._unsent += len(claims)
        self._queue_empty.clear()
        self._spawn_sender()

    def _spawn_sender(self) -> None:
        """Start one more sender if claims wait, none is starting, and there is room."""
        if self._queue and not self._starting and len(self._senders) < self.config.concurrency:
            self._starting += 1
            task = asyncio.create_task(self._send_loop())
            self._senders[task] = None
            task.add_done_callback(self._sender_done)

    def _sender_done(self, task: asyncio.Task[None]) -> None:
        self._senders.pop(task, None)
        if not self._senders and not self._queue:
            self._queue_empty.set()

    async def _idle_seconds(self) -> float:
        """Sleep until the next due row or the poll interval, whichever comes first.

        The table is asked (``next_due``) when the last sleep ran out, or its answer is a poll
        interval old; after a notification's wake-up its due time and the last answer suffice: a
        row written later that is due within five minutes was announced with its due time, and
        one due later is seen by an answer at most a poll interval old. At 1,000/s this asked
        once per claim, a statement per message or two (issue 20).
        """
        if self._timed_out or time.monotonic() - self._due_asked >= self.config.poll_seconds:
            try:
                self._next_due = await next_due(self.pool)
            except DB_ERRORS:
                return self.config.poll_seconds
            self._due_asked = time.monotonic()
        due = self._next_due
        if due is None:
            return self.config.poll_seconds
        # Due now or past (claimed meanwhile, or locked by another worker): look again soon.
        seconds = (due - self.clock()).total_seconds()
        if self._ahead_unfinished < self.config.claim_ahead_max and self._ahead_wanted():
            seconds -= self.config.claim_ahead_seconds  # claimed ahead of its time
            if time.monotonic() - self._ahead_short_at < _AHEAD_AGAIN_SECONDS:
                # The last claim ahead took all of this worker's share in its window: what is
                # due there is another's share, claimed by it ahead or by anyone when due. Not
                # asked again at once (every 20 ms until the peak: claims that find nothing).
                seconds = max(seconds, _AHEAD_AGAIN_SECONDS)
        return min(self.config.poll_seconds, max(_MIN_IDLE_SECONDS, seconds))

    async def _idle(self, seconds: float) -> None:
        if self._stopping:
            return
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
            self._timed_out = False
        except TimeoutError:
            self._timed_out = True

    async def _send_loop(self) -> None:
        """One sender: take queued claims until none is left."""
        me = asyncio.current_task()
        assert me is not None
        self._starting -= 1
        queue, senders = self._queue, self._senders
        lease = self.config.lease_seconds
        since_yield = 0
        while queue:
            since_yield += 1
            if since_yield > _SENDS_BETWEEN_YIELDS:
                # A sender whose sends complete without waiting (a local adapter) would hold the
                # loop for a whole queue: let the claim and flush round trips in between.
                since_yield = 0
                await asyncio.sleep(0)
                if not queue:
                    break
            c, claimed_at = queue.popleft()
            if self._due_ahead and len(queue) < _CHECK_AHEAD_ROWS:
                self._ahead_added.set()  # check the next rows claimed ahead
            senders[me] = c
            self._spawn_sender()  # fan out while this one waits on the network
            self._sending += 1
            # A row claimed ahead was read before its lease began (see _claim_ahead).
            read_at, plan = claimed_at, None
            if self._ahead_read:
                ahead = self._ahead_read.pop(c.id, None)
                if ahead is not None:
                    read_at, plan = ahead
            try:
                result = await self._deliverer.deliver(
                    c, claimed_at + lease, read_at=read_at, plan=plan
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a bug must not lose the row: retry it later
                logger.exception(
                    "unexpected error while dispatching", extra={"message_id": str(c.id)}
                )
                result = self._deliverer.retry_or_fail(c, None, exc, [])
            finally:
                self._sending -= 1
            senders[me] = None
            if _done(result) and self._held_under(c.id, c.lease_token):
                self._completions.append(time.monotonic())  # a send: the rate counts it
            elif _done(result):
                # Sizes claims: a row put back unsent (waiting for a rate limit or a breaker)
                # is no send, and counting it claimed more rows to put back. Nor does it free
                # room before its flush: claiming again at once only to put back more churned a
                # fleet's whole backlog behind a rate limit.
                self._completions.append(time.monotonic())
                self._unsent -= 1
                if self._unsent <= self._wake_unsent:
                    self._room.set()
            self._buffer.append(result)
            self._flush_wanted.set()

    # -- one message -----------------------------------------------------------------------

    # -- recording -------------------------------------------------------------------------

    async def _flush_loop(self) -> None:
        """Write buffered results as they come, up to ``_WRITES_IN_FLIGHT`` flushes at once; at
        shutdown, until none is left (or time is up).

        The final flushes run here too. A write is never cancelled while another deadline
        remains: one cancelled after the server applied it would be written again, with every
        attempt row twice. Each result is in one flush at a time (a failed flush puts its
        results back for the next), so flushes in flight never write the same row.

        Meanwhile the leases of the rows held are renewed (scheduler/lease_keeper.py), so that a
        record delayed by its retries does not let the reaper send a row again.
        """
        keeper = LeaseKeeper(
            self.pool,
            self.clock,
            self.config.lease_seconds,
            self._held,
            self._db_back.set,
            worker=self.config.worker_id,
        )
        renewing = asyncio.create_task(keeper.run(), name="dispatch-lease-keeper")
        try:
            await self._record_loop()
        finally:
            renewing.cancel()
            await asyncio.gather(renewing, return_exceptions=True)

    async def _record_loop(self) -> None:
        while True:
            if self._closing_deadline is not None and not self._buffer and not self._writes:
                return
            if len(self._writes) >= _WRITES_IN_FLIGHT:
                self._write_done.clear()
                await self._write_done.wait()
                continue
            if self._write_failures:
                delay = min(_DB_RETRY_MAX_SECONDS, 0.1 * 2**self._write_failures)
                if self._closing_deadline is not None and time.monotonic() + delay > (
                    self._closing_deadline
                ):
                    # The leases expire and the reaper returns these rows: nothing is lost.
                    await asyncio.gather(*self._writes, return_exceptions=True)
                    logger.warning(
                        "could not record outcomes at shutdown",
                        extra={"count": len(self._buffer)},
                    )
                    return
                # The database answers renewals again: no need to sit out the backoff.
                self._db_back.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._db_back.wait()
            await self._flush_wanted.wait()
            self._flush_wanted.clear()
            await self._linger()
            if self._buffer:
                results, self._buffer = self._buffer, []
                task = asyncio.create_task(self._flush(results))
                self._writes.add(task)

    async def _flush(self, results: list[DeliveryResult]) -> None:
        """One flush in flight: on failure its results go back to the buffer for the next."""
        self._writing.append(results)
        try:
            await self._write(results)
        except Exception as exc:  # the flusher must outlive any failure, or claims stall
            self._buffer[:0] = results
            self._write_failures += 1
            logger.warning(
                "recording outcomes failed; retrying",
                extra={"error": type(exc).__name__, "count": len(results)},
            )
        else:
            self._write_failures = 0
            # The database answers: a backoff the loop began while this flush was in flight
            # (counted from the failures before it) ends now.
            self._db_back.set()
            self._written(results)
        finally:
            self._writing = [w for w in self._writing if w is not results]  # this flush's
            task = asyncio.current_task()
            if task is not None:
                self._writes.discard(task)
            self._write_done.set()
            self._flush_wanted.set()

    async def _linger(self) -> None:
        """Let trickling results gather (up to ``_FLUSH_LINGER_SECONDS``) unless one is urgent."""
        give_up = time.monotonic() + _FLUSH_LINGER_SECONDS
        while not self._flush_now():
            left = give_up - time.monotonic()
            if left <= 0:
                return
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(left):
                    await self._flush_wanted.wait()
            self._flush_wanted.clear()

    async def _flush_all(self) -> None:
        """Write every buffered result; on error they stay buffered for the next try."""
        while self._buffer:
            results, self._buffer = self._buffer, []
            try:
                await self._write(results)
            except BaseException:
                self._buffer[:0] = results
                raise
            self._written(results)

    def _held(self) -> Iterator[tuple[UUID, UUID]]:
        """(message id, lease token) of every row being sent, or sent and not yet recorded
        (buffered or in a flush): the lease keeper renews them."""
        for held in self._senders.values():
            if held is not None:
                yield held.id, held.lease_token
        for results in (self._buffer, *self._writing):
            for r in results:
                if r.outcome.status == "sent":
                    yield r.outcome.id, r.outcome.lease_token

    def _written(self, results: list[DeliveryResult]) -> None:
        """Account for flushed results: they no longer hold room (rows put back unsent held
        it until now; rows claimed ahead never held any)."""
        ahead = self._ahead_ids
        if ahead:
            mine = [r for r in results if not self._held_under(r.outcome.id, r.outcome.lease_token)]
            for r in results:
                if self._held_under(r.outcome.id, r.outcome.lease_token):
                    del ahead[r.outcome.id]
            self._ahead_unfinished -= len(results) - len(mine)
            results = mine
        self._unfinished -= len(results)
        self._unsent -= sum(1 for r in results if not _done(r))
        self._room.set()

    async def _write(self, results: list[DeliveryResult]) -> None:
        outcomes = [r.outcome for r in results]
        attempts = [a for r in results for a in r.attempts]
        effects = [e for r in results for e in r.effects]
        moves = [m for r in results for m in r.moves]
        applied, outcomes = await record_mended(self._records.record, self.pool, outcomes, attempts)
        if effects or moves:
            async with self.pool.acquire() as conn:
                if effects:
                    await mark_contacts(conn, effects, self.clock())
                if moves:
                    await move_addresses(conn, moves)
        lost = len(outcomes) - len(applied)
        if lost:
            lost -= await self._cancelled_returns(outcomes, applied)
        if lost:
            self.lease_lost += lost
            metrics.LEASE_LOST.inc(lost)
            logger.warning(
                "outcomes not applied: lease lost to another worker", extra={"count": lost}
            )

    async def _cancelled_returns(self, outcomes: list[Outcome], applied: set[UUID]) -> int:
        """How many refused returns to pending (rows given back unsent, as at shutdown) were of
        rows the clinic cancelled while this worker held them claimed ahead: the cancel released
        the lease, so the return is refused, rightly. Counted and logged as cancelled, not as a
        lease lost to another worker. A refused send's outcome is never one of them: that is a
        lease lost whatever the row's status now."""
        returns = [o.id for o in outcomes if o.status == "pending" and o.id not in applied]
        if not returns:
            return 0
        try:
            cancelled = await cancelled_rows(self.pool, returns)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
            # The outcomes are recorded: a failed look must not make the flush write them again.
            return 0
        if cancelled:
            self.returns_cancelled += cancelled
            metrics.RETURN_CANCELLED.inc(cancelled)
            logger.info(
                "rows given back unsent were cancelled by the clinic meanwhile",
                extra={"count": cancelled},
            )
        return cancelled

    # -- shutdown --------------------------------------------------------------------------

    async def _shutdown(self, flusher: asyncio.Task[None]) -> None:
        """Let in-flight sends finish up to the grace period, return the rest to pending, flush."""
        # Claims no sender has taken yet go back at once; the senders finish what they hold.
        unsent = [c for c, _claimed_at in self._queue]
        self._queue.clear()
        # Rows claimed ahead and not yet sent go back too (under their latest lease: an
        # earlier one an edit released is no longer this worker's to give back).
        ahead = [entry[0] for entry in self._due_ahead]
        ahead += [entry[2] for entry in sorted(self._held_ahead)]
        unsent += [c for c in ahead if self._held_under(c.id, c.lease_token)]
        self._due_ahead.clear()
        self._held_ahead.clear()
        senders = list(self._senders)
        if senders:
            grace = 0.0 if self._out_of_time else self.config.shutdown_grace_seconds
            _done, pending = await asyncio.wait(senders, timeout=grace)
            if pending:
                unsent += [c for t in pending if (c := self._senders.get(t)) is not None]
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
        for c in unsent:
            self._buffer.append(
                DeliveryResult(
                    Outcome(
                        c.id,
                        c.lease_token,
                        "pending",
                        attempts_delta=-1,
                        last_error="returned at shutdown before sending",
                    )
                )
            )
        if unsent:
            logger.info("returned unsent claims at shutdown", extra={"count": len(unsent)})
        self._queue_empty.set()
        # The flusher writes what is left and returns; a write in flight is never cancelled.
        grace = 0.0 if self._out_of_time else max(1.0, self.config.shutdown_grace_seconds / 5)
        self._closing_deadline = time.monotonic() + grace
        self._flush_wanted.set()
        self._db_back.set()  # a record backoff under way ends: the loop checks the deadline
        _done, stuck = await asyncio.wait({flusher}, timeout=grace + _FINAL_WRITE_SECONDS)
        if stuck:  # a write that hangs past every deadline: give up (the reaper returns the rows)
            writes = [flusher, *self._writes]
            for task in writes:
                task.cancel()
            await asyncio.gather(*writes, return_exceptions=True)
            logger.warning("final flush did not finish", extra={"count": len(self._buffer)})
        await self._claims.aclose()
        await self._records.aclose()
        await aclose_limiter(self._deliverer.buckets)
