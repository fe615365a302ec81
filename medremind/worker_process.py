"""``medremind worker``: the dispatcher loop, its LISTEN wake-ups and the housekeeping jobs.

One process runs: the :class:`~scheduler.dispatcher.Dispatcher` (claim, send, record), a
:class:`~scheduler.listener.DueListener` that wakes it on ``NOTIFY medremind_due``, and an
APScheduler ``AsyncIOScheduler`` with the lease reaper and, when the planner module is present,
the planner tick, the reload of clinics' provider accounts, and a heartbeat with its counters
(``scheduler/heartbeat.py``; they are also served on ``MEDREMIND_WORKER_METRICS_PORT`` when
set). At start it writes its default quiet window (``MEDREMIND_QUIET_HOURS_*``) where the planner
reads it: a window changed since the last start re-judges the messages deferred by the old one.
SIGTERM/SIGINT stop claiming, let in-flight sends finish for ``MEDREMIND_SHUTDOWN_GRACE`` seconds
(Heroku kills 30 s after SIGTERM), return unsent claims to pending, give a housekeeping job
under way 2 s more (:mod:`medremind.housekeeping_jobs`) and exit 0. A stop still waiting on the
database 2 s after its grace (:func:`stop_deadline_seconds`; a database that answers nothing: a
cancelled statement waits for its unanswered CancelRequest, a connect for 60 s) aborts every
database connection: what waits on one ends at once and the stop finishes; the reaper returns
what was not recorded, as after a kill.

Start-up (the pool, then the accounts, bots and limits it reads) waits out a PostgreSQL restart
for ``MEDREMIND_DB_STARTUP_WAIT_SECONDS`` in all; a refused login or a missing migration ends it at
once with exit 1 and a line on stderr saying what to fix (:mod:`core.db_startup`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from core.credentials import SecretBox
from core.db import CUSTOM_PLANS, Database
from core.db_startup import StartupError
from core.inbound_window import LastInboundLookup
from core.service_limits import publish_limits
from core.settings import Settings
from core.sign_in_links import app_url
from core.templating import TemplateRenderer
from medremind.caregiver_relinks import offer_relinks
from medremind.housekeeping_jobs import JobRuns
from medremind.runtime import run_async, settle_heap
from medremind.stop_deadline import StopDeadline
from platforms.base import Channel, ChannelSender
from platforms.whatsapp_content_store import PostgresContentStore
from scheduler.clinic_senders import REFRESH_SECONDS as ACCOUNTS_REFRESH_SECONDS
from scheduler.clinic_senders import ClinicSenders
from scheduler.dispatcher import DB_ERRORS, Dispatcher, DispatcherConfig
from scheduler.fleet_breakers import DEFAULT_SYNC_SECONDS as BREAKERS_SYNC_SECONDS
from scheduler.fleet_breakers import FleetBreakers
from scheduler.fleet_clock import FleetClock
from scheduler.heartbeat import beat, serve_metrics
from scheduler.listener import DueListener
from scheduler.quiet_release import adopt_service_window
from scheduler.reaper import ReapJob
from scheduler.retention import prune_all
from scheduler.webhook_sender import sender_from_settings

logger = logging.getLogger(__name__)

_REAPER_MIN_SECONDS = 0.5  # tests run with leases of a second or two
_REAPER_MAX_SECONDS = 30.0
# How long a stopping worker waits for a housekeeping job under way (Heroku kills 30 s after
# SIGTERM, and the dispatcher may have used MEDREMIND_SHUTDOWN_GRACE, 25 s, of them).
_JOBS_FINISH_SECONDS = 2.0
# After SIGTERM and the grace, how long the stop may still wait on the database before it aborts
# every connection (Database.terminate): a final flush of a database that answers takes
# milliseconds, and the default 25 s grace plus this stays inside Heroku's 30 s.
_STOP_MARGIN_SECONDS = 2.0


def stop_deadline_seconds(grace: float) -> float:
    """How long after SIGTERM a stop still waiting on the database aborts its connections: the
    grace and :data:`_STOP_MARGIN_SECONDS`, and never before the housekeeping jobs' own time
    (a short grace, in tests, must not cut a job that the database answers)."""
    return max(grace, 2 * _JOBS_FINISH_SECONDS) + _STOP_MARGIN_SECONDS


def reaper_interval(lease_seconds: float) -> float:
    """How often to look for expired leases: half a lease, within sane bounds."""
    return max(_REAPER_MIN_SECONDS, min(_REAPER_MAX_SECONDS, lease_seconds / 2))


def run_worker(settings: Settings) -> int:
    """Run the worker until SIGTERM/SIGINT; return the exit code (1: see stderr)."""
    try:
        return run_async(serve(settings, settle=True))
    except StartupError as exc:
        # What is wrong and the fix, without a traceback (core.db_startup logged it too).
        print(f"medremind worker: {exc}", file=sys.stderr)
        return 1


def _planner_tick() -> Any:
    """The planner's entry point, when that module exists (it is built separately)."""
    try:
        from scheduler.planner import run_planner_tick  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    return run_planner_tick


async def serve(
    settings: Settings,
    senders: Mapping[Channel, ChannelSender] | None = None,
    *,
    config: DispatcherConfig | None = None,
    install_signal_handlers: bool = True,
    stop: asyncio.Event | None = None,
    reload_templates: bool = False,
    settle: bool = False,
) -> int:
    """The worker's body; ``senders`` and ``config`` can be replaced (tests, benchmarks).

    ``reload_templates``: template files edited while running are used (``medremind dev``);
    otherwise each is read once. ``settle``: the process is the worker's own
    (``medremind worker``): once set up, its heap is frozen for the garbage collector
    (:func:`medremind.runtime.settle_heap`); not in a process that runs other things.
    """
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    # No reset query per release (one more round trip per statement: ~1.4 per message at a rate
    # limit's pace, bench/dispatch.py scenario 8): the worker leaves no session state on pooled
    # connections (advisory locks are transaction-scoped; LISTEN has its own connection).
    # The deadline outlives the database block: it also covers the pool's close.
    async with (
        StopDeadline() as deadline,
        Database(
            settings,
            server_settings=CUSTOM_PLANS,
            reset_sessions=False,
            startup_wait_seconds=settings.db_startup_wait_seconds,
        ) as db,
    ):
        assert db.pool is not None
        pool = db.pool
        own_senders = senders is None
        if senders is None:
            from platforms.registry import build_senders

            senders = build_senders(
                settings,
                last_inbound_lookup=LastInboundLookup(db),
                content_store=PostgresContentStore(db),
                database=db,
            )
        config = config or DispatcherConfig.from_settings(settings)
        renderer = TemplateRenderer(
            sms_max_segments=settings.sms_max_segments,
            auto_reload=reload_templates,
            app_url=app_url(settings.app_base_url),
        )
        renderer.warm()  # the built-in templates compiled now, not in the first messages
        # Clinics' own provider accounts over the default senders (scheduler.clinic_senders).
        clinics = ClinicSenders(
            pool,
            settings,
            senders,
            SecretBox.from_settings(settings),
            last_inbound_lookup=LastInboundLookup(db),
            content_store=PostgresContentStore(db),
        )
        # Which clinics pay for Telegram broadcasts (platforms.telegram_bots), kept fresh below.
        telegram_bots = getattr(senders.get(Channel.TELEGRAM), "refresh", None)

        # Leases, reaping and what is due in the database's clock, shared by the whole fleet
        # (scheduler.fleet_clock): not this host's, which may be minutes off.
        clock = FleetClock()

        async def load() -> None:
            await clock.sync(pool)
            await clinics.refresh()
            if telegram_bots is not None:
                await telegram_bots(pool)
            await publish_limits(pool, settings)  # for the dashboard's length checks
            # MEDREMIND_QUIET_HOURS_* changed since the last start: the planner's first pass
            # (at once, below) re-times what waits out the old window (scheduler.quiet_release).
            async with pool.acquire() as conn:
                await adopt_service_window(
                    conn, (settings.quiet_hours_start, settings.quiet_hours_end)
                )

        # All again while PostgreSQL restarts under the start-up, within the same wait as the
        # pool's: each reads or upserts. The LISTEN connection reconnects by itself (DueListener).
        await db.during_startup(load, what="loading accounts, bots and limits")
        dispatcher = Dispatcher(
            pool,
            senders,
            renderer,
            clock.now,
            config,
            senders_for=clinics.for_clinic,
            connect=db.connect,  # the claims' own connection (scheduler/claim_session.py)
        )
        listener = DueListener(
            db.connect, dispatcher.notify, keepalive=settings.worker_poll_seconds
        )

        # Expired leases back to pending, sparing those live workers' keepers have not yet had
        # the database to renew (after an outage); and the idle keys of the rate ledger.
        reaper = ReapJob(
            pool, clock.now, config.lease_seconds, reaper_interval(config.lease_seconds)
        )

        async def reap() -> None:
            await reaper.run_once()

        started_at = clock.now()

        async def heartbeat(*, stopped: bool = False) -> None:
            try:
                await clock.sync(pool)
                await beat(
                    pool,
                    config.worker_id,
                    started_at,
                    clock.now(),
                    dispatcher.breakers.snapshot(),
                    stopped=stopped,
                )
            except DB_ERRORS as exc:
                logger.warning("heartbeat failed", extra={"error": type(exc).__name__})

        jobs = AsyncIOScheduler(timezone=UTC)
        runs = JobRuns()
        runs.every(
            jobs,
            heartbeat,
            id="heartbeat",
            seconds=settings.worker_heartbeat_seconds,
            next_run_time=datetime.now(UTC),
        )

        async def retention() -> None:
            try:
                removed = await prune_all(pool, clock.now(), settings.retention_days)
            except DB_ERRORS as exc:
                logger.warning("retention failed", extra={"error": type(exc).__name__})
                return
            if any(removed.values()):
                logger.info("retention: old rows deleted", extra={"counts": removed})

        runs.every(jobs, retention, id="retention", seconds=3600)

        # The circuit breakers shared with the fleet: one worker's opening holds this one, one
        # probe per cooldown for all (scheduler/fleet_breakers.py).
        fleet_breakers = FleetBreakers(dispatcher.breakers, config.worker_id)

        async def share_breakers() -> None:
            try:
                await fleet_breakers.sync(pool)
            except DB_ERRORS as exc:
                logger.warning(
                    "sharing circuit breakers failed", extra={"error": type(exc).__name__}
                )

        # Read once before the first claim: the job below runs beside the dispatcher, and a
        # worker started during an outage sent its first claims to an account the fleet held
        # open before that job's first read (tests/dispatch/test_breakers_at_start.py).
        await share_breakers()
        runs.every(jobs, share_breakers, id="breaker_sync", seconds=BREAKERS_SYNC_SECONDS)
        metrics_server = None
        if settings.worker_metrics_port is not None:
            metrics_server = serve_metrics(settings.worker_metrics_port)
        runs.every(jobs, reap, id="lease_reaper", seconds=reaper_interval(config.lease_seconds))
        tick = _planner_tick()
        if tick is not None:

            async def plan() -> None:
                try:
                    await tick(pool, clock.now(), settings)
                except DB_ERRORS as exc:
                    logger.warning("planner tick failed", extra={"error": type(exc).__name__})
                except Exception as exc:  # a bug: said by its class, never a traceback's values
                    logger.error("planner tick failed", extra={"error": type(exc).__name__})

            runs.every(
                jobs,
                plan,
                id="planner_tick",
                seconds=settings.planner_interval_seconds,
                next_run_time=datetime.now(UTC),
            )

        relink_telegram = senders.get(Channel.TELEGRAM)
        if relink_telegram is not None:

            async def offer_caregiver_relinks() -> None:
                try:
                    await offer_relinks(pool, relink_telegram, clock.now())
                except DB_ERRORS as exc:
                    logger.warning("caregiver relinks failed", extra={"error": type(exc).__name__})

            runs.every(
                jobs,
                offer_caregiver_relinks,
                id="caregiver_relinks",
                seconds=settings.planner_interval_seconds,
                next_run_time=datetime.now(UTC),
            )

        async def refresh_accounts() -> None:
            try:
                await clinics.refresh()
                if telegram_bots is not None:
                    await telegram_bots(pool)
            except DB_ERRORS as exc:
                logger.warning(
                    "loading provider accounts failed", extra={"error": type(exc).__name__}
                )

        runs.every(jobs, refresh_accounts, id="provider_accounts", seconds=ACCOUNTS_REFRESH_SECONDS)

        webhooks = sender_from_settings(pool, settings)

        async def send_webhooks() -> None:
            try:
                await webhooks.run_once(clock.now())  # until nothing due is left to take
            except DB_ERRORS as exc:
                logger.warning("webhook sender failed", extra={"error": type(exc).__name__})

        runs.every(jobs, send_webhooks, id="webhook_sender", seconds=settings.webhook_poll_seconds)

        def time_up() -> None:
            dispatcher.out_of_time()  # no more waiting for sends or a final flush
            db.terminate()  # and every await on a connection ends now

        def request_stop() -> None:
            dispatcher.request_stop()
            deadline.start(stop_deadline_seconds(config.shutdown_grace_seconds), time_up)

        loop = asyncio.get_running_loop()
        if install_signal_handlers:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, request_stop)
        stopper = None
        if stop is not None:

            async def wait_stop() -> None:
                await stop.wait()
                request_stop()

            stopper = asyncio.create_task(wait_stop())

        listening = asyncio.create_task(listener.run(), name="due-listener")
        jobs.start()
        logger.info(
            "worker started",
            extra={"worker": config.worker_id, "channels": ",".join(sorted(senders))},
        )
        if settle:
            settle_heap()
        try:
            await dispatcher.run()
        finally:
            # No job starts from now on; one under way (a planner tick) may end, briefly: the
            # dispatcher's grace has already been spent. What is left is cancelled, quietly.
            jobs.pause()
            await runs.finish(_JOBS_FINISH_SECONDS)
            jobs.shutdown(wait=False)
            await runs.finish(_JOBS_FINISH_SECONDS)
            listener.stop()
            await asyncio.gather(listening, return_exceptions=True)
            if stopper is not None:
                stopper.cancel()
            if install_signal_handlers:
                for sig in (signal.SIGTERM, signal.SIGINT):
                    loop.remove_signal_handler(sig)
            await webhooks.aclose()
            if telegram_bots is not None:
                # The last paid broadcasts counted for their clinics, before the pool goes.
                with contextlib.suppress(*DB_ERRORS):
                    await telegram_bots(pool)
            await clinics.aclose()
            if own_senders:
                for sender in senders.values():
                    await sender.aclose()
            # The last counters, as the worker leaves: no longer counted alive from now on.
            # Past the deadline the pool is gone and this fails at once; before it, a new
            # connection to a silent database would wait 60 s: no later than the deadline's.
            left = deadline.left()
            try:
                await asyncio.wait_for(
                    heartbeat(stopped=True), timeout=None if left is None else left + 1
                )
            except TimeoutError:
                logger.warning("heartbeat failed", extra={"error": "TimeoutError"})
            if metrics_server is not None:
                await asyncio.to_thread(metrics_server.shutdown)
        logger.info("worker stopped", extra={"worker": config.worker_id})
    return 0
