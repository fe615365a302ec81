"""One claimed message, start to finish: expiry, quiet hours, route, bucket, render, send.

:meth:`Deliverer.deliver` turns a :class:`~scheduler.claims.Claim` into a :class:`DeliveryResult`:
the row's new state (an :class:`~scheduler.claims.Outcome`), its attempt rows, and what to mark
on contact points. It touches no database: the dispatcher records results in bulk.

Errors come classified from the adapters (``platforms.base``) and are handled by class:
transient -> backoff with full jitter (after ``max_attempts``, the patient's next channel with
its own retries, else failed); rate limited -> pause the platform's bucket and come back after
``retry_after`` without burning an attempt; permanent -> mark the contact point and fall back
along the patient's channel order; configuration -> failed.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from jinja2.exceptions import TemplateError

from core.logs import redact
from core.templating import TemplateRenderer
from platforms.base import (
    Channel,
    ChannelSender,
    ConfigurationError,
    ContactEffect,
    DeliveryError,
    OutboundMessage,
    OutcomeUnknownError,
    PermanentError,
    RateLimitedError,
    Receipt,
)
from scheduler import metrics
from scheduler.backoff import backoff_delay
from scheduler.breaker import Breakers
from scheduler.buckets import Limiter
from scheduler.claims import AttemptRow, Claim, Outcome
from scheduler.dispatch_config import DispatcherConfig
from scheduler.expiry import expiry_time
from scheduler.holds import withheld_reason
from scheduler.questions import asked_question
from scheduler.quiet_hours import is_deferrable, quiet_window_end
from scheduler.rendering import only_this_channel, render_or_fallback
from scheduler.routing import Route, plan_routes

_ERROR_TEXT_MAX = 500  # last_error / error_message length cap
# A send must end this long before the lease does (clock drift between us and the database, the
# flush that records it); a tenth of the lease when that is shorter (tests).
_LEASE_MARGIN_SECONDS = 5.0
# A reminder or follow-up is only worth sending while its dose awaits an answer (a caregiver
# alert, by contrast, is about a dose that was missed).
DOSE_PROMPT_KINDS = frozenset({"medication_reminder", "dose_followup"})
OPEN_DOSE_STATUSES = ("due", "snoozed")


@dataclass(slots=True)
class DeliveryResult:
    """What processing one claim produced, waiting for the next flush."""

    outcome: Outcome
    attempts: list[AttemptRow] = field(default_factory=list)
    effects: list[tuple[UUID, str, str]] = field(default_factory=list)
    moves: list[tuple[UUID, str]] = field(default_factory=list)


def _failed(
    c: Claim,
    error: str,
    tried: list[str],
    attempts: list[AttemptRow],
    effects: list[tuple[UUID, str, str]],
) -> DeliveryResult:
    """The row fails (no retry) with ``error``, after the channels in ``tried``."""
    return DeliveryResult(
        Outcome(c.id, c.lease_token, "failed", last_error=error, channels_tried=tuple(tried)),
        attempts,
        effects,
    )


def _pending(
    c: Claim,
    error: str,
    tried: list[str] | tuple[str, ...],
    attempts: list[AttemptRow],
    effects: list[tuple[UUID, str, str]] | None = None,
    *,
    next_time: datetime | None = None,
    attempts_delta: int = -1,
) -> DeliveryResult:
    """Back to pending (not counted as an attempt unless ``attempts_delta`` says otherwise)."""
    return DeliveryResult(
        Outcome(
            c.id,
            c.lease_token,
            "pending",
            next_time=next_time,
            attempts_delta=attempts_delta,
            last_error=error,
            channels_tried=tuple(tried),
        ),
        attempts,
        effects if effects is not None else [],
    )


def may_fall_back(c: Claim) -> bool:
    """Whether a failed channel passes ``c`` on to the patient's next one (not a caregiver's)."""
    return c.caregiver_id is None and (c.platform == "auto" or c.allow_fallback)


def error_text(exc: BaseException) -> str:
    """An error's text for ``last_error``: PHI patterns scrubbed, length capped."""
    text = str(exc) or type(exc).__name__
    return redact(text)[:_ERROR_TEXT_MAX]


def ms_since(started: float) -> int:
    """Milliseconds since ``started`` (a ``time.perf_counter()`` value)."""
    return int((time.perf_counter() - started) * 1000)


class Deliverer:
    """Delivers one claim at a time; shared by all of a dispatcher's concurrent sends."""

    def __init__(
        self,
        senders: Mapping[Channel, ChannelSender],
        renderer: TemplateRenderer | None,
        clock: Callable[[], datetime],
        config: DispatcherConfig,
        buckets: Limiter,
        rng: random.Random,
    ) -> None:
        self.senders = senders
        self.renderer = renderer
        self.clock = clock
        self.config = config
        self.buckets = buckets
        self.rng = rng
        self._lease_margin = min(_LEASE_MARGIN_SECONDS, config.lease_seconds / 10)
        self.send_timeout = config.send_timeout  # whole inside the lease (see there)
        self.breakers = Breakers()
        # Breakers go per provider account (the sender's rate key), like the rate limits.
        self._accounts = {ch: getattr(s, "rate_key", None) or str(ch) for ch, s in senders.items()}

    async def deliver(self, c: Claim, lease_ends: float = math.inf) -> DeliveryResult:
        """Deliver ``c`` (or decide not to); classified delivery errors become the result.

        ``lease_ends`` (``time.monotonic()``) bounds every wait and send: none may outlive the
        lease, or the reaper would hand the row to another worker while this one still sends it.
        A claim whose lease is too short for a send goes back to pending, not counted as an attempt.
        """
        now = self.clock()
        if now >= expiry_time(c.kind, c.scheduled_time, c.expires_at, c.appointment_starts_at):
            metrics.EXPIRED.inc()
            return DeliveryResult(
                Outcome(
                    c.id,
                    c.lease_token,
                    "expired",
                    attempts_delta=-1,
                    last_error="expired before it could be sent",
                )
            )
        withheld = withheld_reason(
            c.kind,
            patient_status=c.patient_status,
            reminders_paused=c.reminders_paused,
            consented=c.consented,
        )
        if withheld is not None:
            # Paused, no consent, or erased after this row was created: whatever path made it.
            return DeliveryResult(
                Outcome(c.id, c.lease_token, "cancelled", attempts_delta=-1, last_error=withheld)
            )
        if c.kind in DOSE_PROMPT_KINDS and c.dose_status not in (None, *OPEN_DOSE_STATUSES):
            # Answered (or missed) after this reminder was claimed: a nag now would be wrong.
            return DeliveryResult(
                Outcome(
                    c.id,
                    c.lease_token,
                    "cancelled",
                    attempts_delta=-1,
                    last_error=f"dose already {c.dose_status}",
                )
            )
        deferred = self._quiet_deferral(c, now)
        if deferred is not None:
            metrics.DEFERRED.inc()
            return DeliveryResult(
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
        notes: list[str] = []  # why the patient got another text or channel (kept on the row)
        plan = plan_routes(c, tried, self.senders.keys())
        while plan.routes:
            route = plan.routes[0]
            # The last moment a send may start with its whole timeout inside the lease.
            start_by = lease_ends - self._lease_margin - self.send_timeout
            if start_by - time.monotonic() < 0.0:
                return self._lease_ran_short(c, tried, attempts, effects)
            account = self._accounts[route.channel]
            closed_in = self.breakers.wait(account)
            if closed_in > 0.0:
                # The provider keeps failing: wait for the breaker's probe, attempts unspent.
                error = f"{route.channel}: the provider keeps failing (circuit open); waiting"
                return self._later(c, "breaker", error, closed_in, tried, attempts, effects)
            ticket = await self.buckets.acquire(
                route.channel,
                route.address,
                min(self.config.max_bucket_wait_seconds, start_by - time.monotonic()),
            )
            if ticket is None:
                # The queue (or a pause) is longer than we hold a lease: come back later.
                hint = self.buckets.wait_hint(route.channel, route.address, time.monotonic())
                error = f"waiting for the {route.channel} rate limit"
                return self._later(c, "rate_limit", error, hint, tried, attempts, effects)
            if ticket.waited > 0:
                metrics.BUCKET_WAIT.labels(route.channel).observe(ticket.waited)

            try:
                message, note = render_or_fallback(self.renderer, c, route.channel)
            except (ValueError, LookupError, TemplateError, TypeError, AttributeError) as exc:
                ticket.release()
                error = f"cannot render the message: {error_text(exc)}"
                if only_this_channel(exc):
                    # Too long for this channel, or no version for it: the next may take it.
                    error = f"{route.channel}: {error_text(exc)}"
                    attempts.append(self._attempt(c, route, "failed", "permanent", error))
                    metrics.FAILED.labels(route.channel, "permanent").inc()
                    tried.append(str(route.channel))
                    if c.caregiver_id is None and (c.platform == "auto" or c.allow_fallback):
                        plan = plan_routes(c, tried, self.senders.keys())
                        if plan.routes:
                            notes.append(error)
                            continue
                        error = f"{error}; {plan.reason}"
                    return _failed(c, error, tried, attempts, effects)
                attempts.append(self._attempt(c, route, "failed", "config", error))
                metrics.FAILED.labels(route.channel, "config").inc()
                return DeliveryResult(
                    Outcome(c.id, c.lease_token, "failed", last_error=error), attempts, effects
                )
            if note is not None:
                notes.append(f"{route.channel}: {error_text(ValueError(note))}")

            if time.monotonic() > start_by:
                # Checked after the wait, which may overrun: a send now could outlive the lease.
                ticket.release()
                return self._lease_ran_short(c, tried, attempts, effects)
            started = time.perf_counter()
            sent_at = self.clock()
            try:
                # asyncio.timeout, not wait_for: no extra task per send.
                async with asyncio.timeout(self.send_timeout):
                    try:
                        receipt = await self.senders[route.channel].send(route.address, message)
                    finally:
                        ticket.release()  # the provider's rate window counts from its answer
            except RateLimitedError as exc:
                ms = ms_since(started)
                self.buckets.pause(route.channel, time.monotonic(), exc.retry_after)
                attempts.append(
                    self._attempt(c, route, "rate_limited", "rate_limited", error_text(exc), ms=ms)
                )
                metrics.FAILED.labels(route.channel, "rate_limited").inc()
                metrics.RETRIED.labels("rate_limit").inc()
                return _pending(
                    c,
                    f"{route.channel} rate limited: {error_text(exc)}",
                    tried,
                    attempts,
                    effects,
                    next_time=self.clock() + timedelta(seconds=exc.retry_after),
                )
            except PermanentError as exc:
                self.breakers.success(account, route.channel)  # the recipient's fault, not its
                error = f"{route.channel}: {error_text(exc)}"
                attempts.append(
                    self._attempt(c, route, "failed", "permanent", error, ms=ms_since(started))
                )
                metrics.FAILED.labels(route.channel, "permanent").inc()
                if route.contact_id is not None and exc.effect != ContactEffect.NONE:
                    effects.append((route.contact_id, str(exc.effect), error))
                tried.append(str(route.channel))
                if may_fall_back(c):
                    plan = plan_routes(c, tried, self.senders.keys())
                    if plan.routes:
                        continue
                    error = f"{error}; {plan.reason}"
                return _failed(c, error, tried, attempts, effects)
            except ConfigurationError as exc:
                error = f"channel {route.channel} is not configured: {error_text(exc)}"
                attempts.append(
                    self._attempt(c, route, "failed", "config", error, ms=ms_since(started))
                )
                metrics.FAILED.labels(route.channel, "config").inc()
                return _failed(c, error, tried, attempts, effects)
            except (DeliveryError, TimeoutError, OSError) as exc:
                self.breakers.failure(account, route.channel)
                result = self.retry_or_fail(
                    c, route, exc, attempts, ms=ms_since(started), tried=tried
                )
                result.effects = effects
                return result
            self.breakers.success(account, route.channel)
            sent = self._sent(
                c, route, receipt, sent_at, ms_since(started), tried, attempts, effects, message
            )
            if notes:
                # Sent, but not as asked: the row says why (the clinic sees it on the message).
                note = "; ".join(notes)[:_ERROR_TEXT_MAX]
                sent.outcome = sent.outcome._replace(last_error=note)
            return sent

        # Nothing (left) to try.
        error_class = "config" if plan.config else "permanent"
        attempts.append(AttemptRow(c.id, self.clock(), "failed", None, error_class, plan.reason))
        metrics.FAILED.labels("none", error_class).inc()
        return _failed(c, plan.reason, tried, attempts, effects)

    def _later(
        self,
        c: Claim,
        reason: str,
        error: str,
        seconds: float,
        tried: list[str],
        attempts: list[AttemptRow],
        effects: list[tuple[UUID, str, str]],
    ) -> DeliveryResult:
        """Back to pending for ``seconds``, unsent and not counted (``reason`` for the metric)."""
        metrics.RETRIED.labels(reason).inc()
        next_time = self.clock() + timedelta(seconds=seconds)
        return _pending(c, error, tried, attempts, effects, next_time=next_time)

    @staticmethod
    def _lease_ran_short(
        c: Claim,
        tried: list[str],
        attempts: list[AttemptRow],
        effects: list[tuple[UUID, str, str]],
    ) -> DeliveryResult:
        """Back to pending unsent, not counted as an attempt: too little lease left to send."""
        metrics.RETRIED.labels("lease").inc()
        error = "the claim's lease ran short before the send; returned"
        return _pending(c, error, tried, attempts, effects)

    def _quiet_deferral(self, c: Claim, now: datetime) -> datetime | None:
        """The end of the recipient's quiet window if ``now`` is inside it (None: send now).

        A patient's message: the patient's own window, else their clinic's default, else the
        service default, in the patient's timezone. A caregiver's: the patient's own window is
        the patient's night, not the caregiver's, so the clinic's default, else the service
        default, in the caregiver's timezone (the patient's when the caregiver has none).
        """
        if not is_deferrable(c.kind, c.urgent):
            return None
        caregiver = c.caregiver_id is not None
        if not caregiver and c.quiet_start is not None and c.quiet_end is not None:
            start, end = c.quiet_start, c.quiet_end
        elif c.default_quiet_start is not None and c.default_quiet_end is not None:
            start, end = c.default_quiet_start, c.default_quiet_end
        else:
            start, end = self.config.quiet_start, self.config.quiet_end
        zones = (c.caregiver_timezone, c.timezone) if caregiver else (c.timezone,)
        for zone in zones:
            if zone:
                try:
                    return quiet_window_end(now, zone, start, end)
                except (ValueError, KeyError):  # an unknown timezone must not block delivery
                    continue
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
        message: OutboundMessage,
    ) -> DeliveryResult:
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
        return DeliveryResult(
            Outcome(
                c.id,
                c.lease_token,
                "sent",
                sent_at=sent_at,
                provider_message_id=receipt.provider_message_id,
                channel_used=str(route.channel),
                channels_tried=(*tried, str(route.channel)),
                rendered_text=message.text if c.message_content is None else None,
                # A caregiver's alert asks the caregiver nothing the patient's answers could match.
                question=None
                if c.caregiver_id is not None
                else asked_question(route.channel, route.address, message, receipt),
            ),
            attempts,
            effects,
            moves,
        )

    def retry_or_fail(
        self,
        c: Claim,
        route: Route | None,
        exc: BaseException,
        attempts: list[AttemptRow],
        *,
        ms: int | None = None,
        tried: list[str] | None = None,
    ) -> DeliveryResult:
        """A transient failure: back off with full jitter, or fail after ``max_attempts``."""
        error = f"{route.channel if route else 'dispatch'}: {error_text(exc)}"
        if isinstance(exc, TimeoutError):
            error = f"{route.channel if route else 'dispatch'}: timed out"
        # Timed out with the request possibly at the provider: retried (a reminder that may be
        # lost is worse than one that may come twice), but recorded and counted as unknown.
        unknown = route is not None and isinstance(exc, (TimeoutError, OutcomeUnknownError))
        if unknown:
            assert route is not None
            metrics.UNKNOWN_OUTCOMES.labels(str(route.channel)).inc()
        attempts.append(
            AttemptRow(
                c.id,
                self.clock(),
                "unknown" if unknown else "failed",
                str(route.channel) if route else None,
                "transient",
                error,
                duration_ms=ms,
            )
        )
        metrics.FAILED.labels(str(route.channel) if route else "none", "transient").inc()
        tried_tuple = tuple(tried) if tried is not None else None
        if c.attempts >= c.max_attempts and route is not None and may_fall_back(c):
            # Retries on this channel are spent: the patient's next channel, as after a
            # permanent error, with its own retries (attempts count afresh).
            after = [*(tried or ()), str(route.channel)]
            if plan_routes(c, after, self.senders.keys()).routes:
                metrics.RETRIED.labels("fallback").inc()
                return _pending(
                    c,
                    f"gave up on {route.channel} after {c.attempts} attempts: {error};"
                    " trying the next channel",
                    after,
                    attempts,
                    next_time=self.clock(),
                    attempts_delta=-c.attempts,
                )
        if c.attempts >= c.max_attempts:
            return DeliveryResult(
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
            rng=self.rng,
        )
        metrics.RETRIED.labels("transient").inc()
        return DeliveryResult(
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
