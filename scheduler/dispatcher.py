"""The dispatcher: claim due ``scheduled_messages``, send them, record what happened.

One loop claims batches (``FOR UPDATE SKIP LOCKED``, with a lease and a fresh lease token); each
claimed row becomes a task that checks expiry and quiet hours, picks a route, waits for its
rate-limit buckets, renders and sends -- outside any transaction, at most ``concurrency`` at once.
Outcomes and attempt rows are buffered and written by a flusher in bulk, one statement per flush,
guarded by each row's lease token. While one flush is in flight the next outcomes accumulate, so
batches grow with load and latency stays low when it is quiet (group commit).

Delivery is at least once: a worker that dies after a send but before its flush leaves the row
``processing``; the reaper returns it to ``pending`` when the lease expires and it is sent again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from uuid import UUID

import asyncpg
from jinja2.exceptions import TemplateError

from core.logs import redact
from core.settings import Settings
from core.templating import TemplateRenderer
from platforms.base import (
    Channel,
    ChannelSender,
    ConfigurationError,
    ContactEffect,
    DeliveryError,
    PermanentError,
    RateLimitedError,
    Receipt,
)
from scheduler import metrics
from scheduler.backoff import DEFAULT_BASE_SECONDS, DEFAULT_CAP_SECONDS, backoff_delay
from scheduler.buckets import DEFAULT_PLATFORM_RATES, DEFAULT_RECIPIENT_RATES, BucketSet
from scheduler.claims import (
    AttemptRow,
    Claim,
    Outcome,
    claim,
    mark_contacts,
    move_addresses,
    next_due,
    record,
)
from scheduler.expiry import expiry_time
from scheduler.quiet_hours import is_deferrable, quiet_window_end
from scheduler.rendering import render_claim
from scheduler.routing import Route, plan_routes

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
_ERROR_TEXT_MAX = 500  # last_error / error_message length cap


def utc_now() -> datetime:
    """The real clock (aware UTC)."""
    return datetime.now(UTC)


def default_worker_id() -> str:
    """``host:pid``, stored in ``locked_by`` so an operator can see who holds a lease."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True, slots=True)
class DispatcherConfig:
    """Knobs of one dispatcher; :meth:`from_settings` reads them from :class:`Settings`."""

    worker_id: str = field(default_factory=default_worker_id)
    batch_size: int = 100
    concurrency: int = 64
    lease_seconds: float = 60.0
    poll_seconds: float = 5.0
    shutdown_grace_seconds: float = 25.0
    send_timeout_seconds: float = 30.0
    backoff_base_seconds: float = DEFAULT_BASE_SECONDS
    backoff_cap_seconds: float = DEFAULT_CAP_SECONDS
    # A bucket slot further away than this puts the row back to pending (instead of holding the
    # lease while it waits); at 1 SMS/s a batch of 100 would otherwise outlive its lease.
    max_bucket_wait_seconds: float = 5.0
    platform_rates: Mapping[Channel, float] = field(
        default_factory=lambda: dict(DEFAULT_PLATFORM_RATES)
    )
    recipient_rates: Mapping[Channel, float] = field(
        default_factory=lambda: dict(DEFAULT_RECIPIENT_RATES)
    )
    quiet_start: dtime = dtime(21, 0)
    quiet_end: dtime = dtime(8, 0)

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: object) -> DispatcherConfig:
        """The configuration of ``medremind worker`` from the environment."""
        rates = dict(DEFAULT_PLATFORM_RATES)
        rates[Channel.EMAIL] = settings.email_rate_per_second
        values: dict[str, object] = {
            "batch_size": settings.worker_batch_size,
            "concurrency": settings.worker_concurrency,
            "lease_seconds": settings.worker_lease_seconds,
            "poll_seconds": settings.worker_poll_seconds,
            "shutdown_grace_seconds": settings.shutdown_grace_seconds,
            "platform_rates": rates,
            "quiet_start": settings.quiet_hours_start,
            "quiet_end": settings.quiet_hours_end,
        }
        return cls(**(values | overrides))  # type: ignore[arg-type]


@dataclass(slots=True)
class _Result:
    """What processing one claim produced, waiting for the next flush."""

    outcome: Outcome
    attempts: list[AttemptRow] = field(default_factory=list)
    effects: list[tuple[UUID, str, str]] = field(default_factory=list)
    moves: list[tuple[UUID, str]] = field(default_factory=list)


def _error_text(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return redact(text)[:_ERROR_TEXT_MAX]


class Dispatcher:
    """Claims, sends and records ``scheduled_messages``; see the module docstring.

    ``senders`` maps each configured channel to its :class:`ChannelSender`; ``clock`` returns the
    current aware time (injected in tests). Use :meth:`run_once` to process one batch (tests) or
    :meth:`run` to loop until :meth:`request_stop`.
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
    ) -> None:
        self.pool = pool
        self.senders = dict(senders)
        self.renderer = renderer
        self.clock = clock
        self.config = config or DispatcherConfig()
        self.buckets = BucketSet(
            dict(self.config.platform_rates), dict(self.config.recipient_rates)
        )
        self._rng = rng or random.Random()
        self._sem = asyncio.Semaphore(self.config.concurrency)
        self._capacity = self.config.concurrency + self.config.batch_size
        self._unfinished = 0  # claimed rows whose outcome is not yet written
        self._tasks: dict[asyncio.Task[None], Claim] = {}
        self._buffer: list[_Result] = []
        self._wake = asyncio.Event()
        self._flush_wanted = asyncio.Event()
        self._room = asyncio.Event()
        self._stopping = False
        self._running = False
        self.lease_lost = 0  # outcomes refused because the lease had moved on (for tests/logs)
        self._sending = 0
        # Read at scrape time: cheaper than a locked inc/dec around every send.
        metrics.IN_FLIGHT.set_function(lambda: self._sending)

    # -- lifecycle -------------------------------------------------------------------------

    def notify(self, due: datetime | None = None) -> None:
        """Wake the loop: new rows may be due (LISTEN callback). ``due`` is the earliest time."""
        self._wake.set()

    def request_stop(self) -> None:
        """Stop claiming; :meth:`run` then finishes in-flight sends and returns. Idempotent."""
        self._stopping = True
        self._wake.set()
        self._room.set()

    @property
    def in_flight(self) -> int:
        """Claimed rows not yet recorded."""
        return self._unfinished

    async def run(self) -> None:
        """Claim and send until :meth:`request_stop`; then shut down gracefully."""
        if self._running:
            raise RuntimeError("dispatcher is already running")
        self._running = True
        flusher = asyncio.create_task(self._flush_loop(), name="dispatch-flush")
        failures = 0
        try:
            while not self._stopping:
                room = self._capacity - self._unfinished
                if room <= 0:
                    self._room.clear()
                    await self._room.wait()
                    continue
                limit = min(self.config.batch_size, room)
                self._wake.clear()
                try:
                    claims = await self._claim(limit)
                    failures = 0
                except Exception as exc:  # the loop outlives any failure; DB_ERRORS expected
                    failures += 1
                    delay = min(_DB_RETRY_MAX_SECONDS, 0.1 * 2**failures)
                    logger.warning(
                        "claim failed; retrying",
                        extra={"error": type(exc).__name__, "retry_in": delay},
                    )
                    await self._idle(delay)
                    continue
                self._start(claims)
                if len(claims) == limit:
                    continue  # a full batch: more may be waiting
                await self._idle(await self._idle_seconds())
        finally:
            await self._shutdown(flusher)
            self._running = False

    async def run_once(self) -> int:
        """Claim one batch, process it completely and record it; return the number claimed."""
        claims = await self._claim(self.config.batch_size)
        tasks = self._start(claims)
        if tasks:
            await asyncio.gather(*tasks)
        await self._flush_all()
        return len(claims)

    # -- the loop's pieces -----------------------------------------------------------------

    async def _claim(self, limit: int) -> list[Claim]:
        claims = await claim(
            self.pool,
            now=self.clock(),
            limit=limit,
            worker=self.config.worker_id,
            lease_seconds=self.config.lease_seconds,
        )
        metrics.CLAIM_BATCH.observe(len(claims))
        return claims

    def _start(self, claims: list[Claim]) -> list[asyncio.Task[None]]:
        tasks = []
        for c in claims:
            task = asyncio.create_task(self._process(c))
            self._tasks[task] = c
            task.add_done_callback(self._tasks.pop)  # type: ignore[arg-type]
            tasks.append(task)
        self._unfinished += len(claims)
        return tasks

    async def _idle_seconds(self) -> float:
        """Sleep until the next due row or the poll interval, whichever comes first."""
        try:
            due = await next_due(self.pool)
        except DB_ERRORS:
            return self.config.poll_seconds
        if due is None:
            return self.config.poll_seconds
        seconds = (due - self.clock()).total_seconds()
        return min(self.config.poll_seconds, max(_MIN_IDLE_SECONDS, seconds))

    async def _idle(self, seconds: float) -> None:
        if self._stopping:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)

    async def _process(self, c: Claim) -> None:
        async with self._sem:
            self._sending += 1
            try:
                result = await self._deliver(c)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a bug must not lose the row: retry it later
                logger.exception(
                    "unexpected error while dispatching", extra={"message_id": str(c.id)}
                )
                result = self._retry_or_fail(c, None, exc, [])
            finally:
                self._sending -= 1
        self._buffer.append(result)
        self._flush_wanted.set()

    # -- one message -----------------------------------------------------------------------

    async def _deliver(self, c: Claim) -> _Result:
        now = self.clock()
        if now >= expiry_time(c.kind, c.scheduled_time, c.expires_at, c.appointment_starts_at):
            metrics.EXPIRED.inc()
            return _Result(
                Outcome(
                    c.id,
                    c.lease_token,
                    "expired",
                    attempts_delta=-1,
                    last_error="expired before it could be sent",
                )
            )
        if c.patient_status == "deleted":
            return _Result(
                Outcome(
                    c.id,
                    c.lease_token,
                    "cancelled",
                    attempts_delta=-1,
                    last_error="patient deleted",
                )
            )
        deferred = self._quiet_deferral(c, now)
        if deferred is not None:
            metrics.DEFERRED.inc()
            return _Result(
                Outcome(
                    c.id,
                    c.lease_token,
                    "pending",
                    next_time=deferred,
                    attempts_delta=-1,
                    last_error="deferred to the end of quiet hours",
                )
            )

        tried = list(c.channels_tried)
        attempts: list[AttemptRow] = []
        effects: list[tuple[UUID, str, str]] = []
        plan = plan_routes(c, tried, self.senders.keys())
        while plan.routes:
            route = plan.routes[0]
            wait = self.buckets.reserve(
                route.channel, route.address, time.monotonic(), self.config.max_bucket_wait_seconds
            )
            if wait is None:  # the bucket is booked (or paused) for longer: come back later
                hint = self.buckets.wait_hint(route.channel, route.address, time.monotonic())
                metrics.RETRIED.labels("rate_limit").inc()
                return _Result(
                    Outcome(
                        c.id,
                        c.lease_token,
                        "pending",
                        next_time=self.clock() + timedelta(seconds=hint),
                        attempts_delta=-1,
                        last_error=f"waiting for the {route.channel} rate limit",
                        channels_tried=tuple(tried),
                    ),
                    attempts,
                    effects,
                )
            if wait > 0:
                metrics.BUCKET_WAIT.labels(route.channel).observe(wait)
                await asyncio.sleep(wait)

            try:
                message = render_claim(self.renderer, c, route.channel)
            except (ValueError, LookupError, TemplateError, TypeError, AttributeError) as exc:
                error = f"cannot render the message: {_error_text(exc)}"
                attempts.append(self._attempt(c, route, "failed", "config", error))
                metrics.FAILED.labels(route.channel, "config").inc()
                return _Result(
                    Outcome(c.id, c.lease_token, "failed", last_error=error), attempts, effects
                )

            started = time.perf_counter()
            sent_at = self.clock()
            try:
                # asyncio.timeout, not wait_for: no extra task per send.
                async with asyncio.timeout(self.config.send_timeout_seconds):
                    receipt = await self.senders[route.channel].send(route.address, message)
            except RateLimitedError as exc:
                ms = _ms(started)
                self.buckets.pause(route.channel, time.monotonic(), exc.retry_after)
                attempts.append(
                    self._attempt(c, route, "rate_limited", "rate_limited", _error_text(exc), ms=ms)
                )
                metrics.FAILED.labels(route.channel, "rate_limited").inc()
                metrics.RETRIED.labels("rate_limit").inc()
                return _Result(
                    Outcome(
                        c.id,
                        c.lease_token,
                        "pending",
                        next_time=self.clock() + timedelta(seconds=exc.retry_after),
                        attempts_delta=-1,
                        last_error=f"{route.channel} rate limited: {_error_text(exc)}",
                        channels_tried=tuple(tried),
                    ),
                    attempts,
                    effects,
                )
            except PermanentError as exc:
                error = f"{route.channel}: {_error_text(exc)}"
                attempts.append(
                    self._attempt(c, route, "failed", "permanent", error, ms=_ms(started))
                )
                metrics.FAILED.labels(route.channel, "permanent").inc()
                if route.contact_id is not None and exc.effect != ContactEffect.NONE:
                    effects.append((route.contact_id, str(exc.effect), error))
                tried.append(str(route.channel))
                fallback = c.caregiver_id is None and (c.platform == "auto" or c.allow_fallback)
                if fallback:
                    plan = plan_routes(c, tried, self.senders.keys())
                    if plan.routes:
                        continue
                    error = f"{error}; {plan.reason}"
                return _Result(
                    Outcome(
                        c.id, c.lease_token, "failed", last_error=error, channels_tried=tuple(tried)
                    ),
                    attempts,
                    effects,
                )
            except ConfigurationError as exc:
                error = f"channel {route.channel} is not configured: {_error_text(exc)}"
                attempts.append(self._attempt(c, route, "failed", "config", error, ms=_ms(started)))
                metrics.FAILED.labels(route.channel, "config").inc()
                return _Result(
                    Outcome(
                        c.id, c.lease_token, "failed", last_error=error, channels_tried=tuple(tried)
                    ),
                    attempts,
                    effects,
                )
            except (DeliveryError, TimeoutError, OSError) as exc:
                result = self._retry_or_fail(c, route, exc, attempts, ms=_ms(started), tried=tried)
                result.effects = effects
                return result
            return self._sent(c, route, receipt, sent_at, _ms(started), tried, attempts, effects)

        # Nothing (left) to try.
        error_class = "config" if plan.config else "permanent"
        attempts.append(AttemptRow(c.id, self.clock(), "failed", None, error_class, plan.reason))
        metrics.FAILED.labels("none", error_class).inc()
        return _Result(
            Outcome(
                c.id, c.lease_token, "failed", last_error=plan.reason, channels_tried=tuple(tried)
            ),
            attempts,
            effects,
        )

    def _quiet_deferral(self, c: Claim, now: datetime) -> datetime | None:
        if not is_deferrable(c.kind, c.urgent):
            return None
        # The patient's own window, else their clinic's default, else the service default.
        if c.quiet_start is not None and c.quiet_end is not None:
            start, end = c.quiet_start, c.quiet_end
        elif c.default_quiet_start is not None and c.default_quiet_end is not None:
            start, end = c.default_quiet_start, c.default_quiet_end
        else:
            start, end = self.config.quiet_start, self.config.quiet_end
        try:
            return quiet_window_end(now, c.timezone or "UTC", start, end)
        except (ValueError, KeyError):  # an unknown timezone must not block delivery
            return quiet_window_end(now, "UTC", start, end)

    def _sent(
        self,
        c: Claim,
        route: Route,
        receipt: Receipt,
        sent_at: datetime,
        ms: int,
        tried: list[str],
        attempts: list[AttemptRow],
        effects: list[tuple[UUID, str, str]],
    ) -> _Result:
        metrics.sent_counter(route.channel).inc()
        metrics.LAG.observe(max(0.0, (sent_at - c.scheduled_time).total_seconds()))
        attempts.append(
            AttemptRow(
                c.id,
                sent_at,
                "sent",
                str(route.channel),
                provider_message_id=receipt.provider_message_id,
                duration_ms=ms,
            )
        )
        moves = []
        if receipt.new_address and route.contact_id is not None:
            moves.append((route.contact_id, receipt.new_address))
        return _Result(
            Outcome(
                c.id,
                c.lease_token,
                "sent",
                sent_at=sent_at,
                provider_message_id=receipt.provider_message_id,
                channel_used=str(route.channel),
                channels_tried=(*tried, str(route.channel)),
            ),
            attempts,
            effects,
            moves,
        )

    def _retry_or_fail(
        self,
        c: Claim,
        route: Route | None,
        exc: BaseException,
        attempts: list[AttemptRow],
        *,
        ms: int | None = None,
        tried: list[str] | None = None,
    ) -> _Result:
        """A transient failure: back off with full jitter, or fail after ``max_attempts``."""
        error = f"{route.channel if route else 'dispatch'}: {_error_text(exc)}"
        if isinstance(exc, TimeoutError):
            error = f"{route.channel if route else 'dispatch'}: timed out"
        attempts.append(
            AttemptRow(
                c.id,
                self.clock(),
                "failed",
                str(route.channel) if route else None,
                "transient",
                error,
                duration_ms=ms,
            )
        )
        metrics.FAILED.labels(str(route.channel) if route else "none", "transient").inc()
        tried_tuple = tuple(tried) if tried is not None else None
        if c.attempts >= c.max_attempts:
            return _Result(
                Outcome(
                    c.id,
                    c.lease_token,
                    "failed",
                    last_error=f"gave up after {c.attempts} attempts: {error}",
                    channels_tried=tried_tuple,
                ),
                attempts,
            )
        delay = backoff_delay(
            c.attempts,
            base=self.config.backoff_base_seconds,
            cap=self.config.backoff_cap_seconds,
            rng=self._rng,
        )
        metrics.RETRIED.labels("transient").inc()
        return _Result(
            Outcome(
                c.id,
                c.lease_token,
                "pending",
                next_time=self.clock() + delay,
                last_error=error,
                channels_tried=tried_tuple,
            ),
            attempts,
        )

    def _attempt(
        self,
        c: Claim,
        route: Route,
        status: str,
        error_class: str | None,
        error: str | None,
        *,
        ms: int | None = None,
    ) -> AttemptRow:
        return AttemptRow(
            c.id, self.clock(), status, str(route.channel), error_class, error, duration_ms=ms
        )

    # -- recording -------------------------------------------------------------------------

    async def _flush_loop(self) -> None:
        failures = 0
        while True:
            await self._flush_wanted.wait()
            self._flush_wanted.clear()
            try:
                await self._flush_all()
                failures = 0
            except Exception as exc:  # the flusher must outlive any failure, or claims stall
                failures += 1
                delay = min(_DB_RETRY_MAX_SECONDS, 0.1 * 2**failures)
                logger.warning(
                    "recording outcomes failed; retrying",
                    extra={"error": type(exc).__name__, "retry_in": delay},
                )
                await asyncio.sleep(delay)
                self._flush_wanted.set()

    async def _flush_all(self) -> None:
        """Write every buffered result; on error they stay buffered for the next try."""
        while self._buffer:
            results, self._buffer = self._buffer, []
            try:
                await self._write(results)
            except BaseException:
                self._buffer[:0] = results
                raise
            self._unfinished -= len(results)
            self._room.set()

    async def _write(self, results: list[_Result]) -> None:
        outcomes = [r.outcome for r in results]
        attempts = [a for r in results for a in r.attempts]
        effects = [e for r in results for e in r.effects]
        moves = [m for r in results for m in r.moves]
        async with self.pool.acquire() as conn:
            applied = await record(conn, outcomes, attempts)
            if effects:
                await mark_contacts(conn, effects, self.clock())
            if moves:
                await move_addresses(conn, moves)
        lost = len(outcomes) - len(applied)
        if lost:
            self.lease_lost += lost
            metrics.LEASE_LOST.inc(lost)
            logger.warning(
                "outcomes not applied: lease lost to another worker", extra={"count": lost}
            )

    # -- shutdown --------------------------------------------------------------------------

    async def _shutdown(self, flusher: asyncio.Task[None]) -> None:
        """Let in-flight sends finish up to the grace period, return the rest to pending, flush."""
        tasks = list(self._tasks)
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=self.config.shutdown_grace_seconds)
            if pending:
                unsent = [self._tasks[t] for t in pending if t in self._tasks]
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
                for c in unsent:
                    self._buffer.append(
                        _Result(
                            Outcome(
                                c.id,
                                c.lease_token,
                                "pending",
                                attempts_delta=-1,
                                last_error="returned at shutdown before sending",
                            )
                        )
                    )
                logger.info("returned unsent claims at shutdown", extra={"count": len(unsent)})
        flusher.cancel()
        await asyncio.gather(flusher, return_exceptions=True)
        deadline = time.monotonic() + max(1.0, self.config.shutdown_grace_seconds / 5)
        while self._buffer:
            try:
                await self._flush_all()
            except Exception as exc:
                if time.monotonic() > deadline:
                    # The leases expire and the reaper returns these rows: nothing is lost.
                    logger.warning(
                        "could not record outcomes at shutdown",
                        extra={"error": type(exc).__name__, "count": len(self._buffer)},
                    )
                    return
                await asyncio.sleep(0.2)


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
