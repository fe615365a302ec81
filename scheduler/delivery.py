"""One claimed message, start to finish: expiry, quiet hours, route, bucket, render, send.

:meth:`Deliverer.deliver` turns a :class:`~scheduler.claims.Claim` into a :class:`DeliveryResult`:
the row's new state (an :class:`~scheduler.claims.Outcome`), its attempt rows, and what to mark
on contact points. It touches no database: the dispatcher records results in bulk.

Errors come classified from the adapters (``platforms.base``) and are handled by class:
transient -> backoff with full jitter (after ``max_attempts``, the patient's next channel with
its own retries, else failed); rate limited -> pause the platform's bucket and come back after
``retry_after`` without burning an attempt; permanent -> mark the contact point and fall back
along the patient's channel order; the provider refusing an account's credentials (a revoked bot
token) -> the account's breaker opens at once, the message goes to the patient's next channel when
it may, else waits (pending, attempts unspent) for the breaker's slow probe or its own expiry;
any other configuration error -> failed.

The checks before routing (expiry, holds, answered doses, quiet hours) live in
:mod:`scheduler.delivery_gate`; the result type and its helpers in
:mod:`scheduler.delivery_results`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from uuid import UUID

from jinja2.exceptions import TemplateError

from core.templating import TemplateRenderer
from platforms.base import (
    Channel,
    ChannelSender,
    ConfigurationError,
    ContactEffect,
    CredentialsRefusedError,
    DeliveryError,
    OutboundMessage,
    OutcomeUnknownError,
    PermanentError,
    RateLimitedError,
    Receipt,
)
from scheduler import metrics
from scheduler.backoff import backoff_delay
from scheduler.breaker import DEFAULT_MAX_COOLDOWN_SECONDS, Breakers
from scheduler.buckets import Limiter
from scheduler.claims import AttemptRow, Claim, Outcome
from scheduler.delivery_gate import held_back
from scheduler.delivery_results import (
    ERROR_TEXT_MAX,
    DeliveryResult,
    error_text,
    failed,
    may_fall_back,
    ms_since,
    pending,
)
from scheduler.dispatch_config import DispatcherConfig
from scheduler.planning_rules import TIME_CRITICAL_PRIORITY
from scheduler.questions import QuestionParts, asked_question
from scheduler.render_ahead import RenderedAhead
from scheduler.rendering import only_this_channel, render_or_fallback
from scheduler.routing import Route, RoutePlan, plan_routes
from scheduler.send_timeouts import SendTimeouts

# Reads what may have changed since the claim right before a send (scheduler.send_checks).
SendCheck = Callable[[Claim, UUID | None], Awaitable[DeliveryResult | None]]
# A bot reply's stored files by its id (core.reply_files.load_files).
FilesLoader = Callable[[UUID], Awaitable[tuple[tuple[str, str, bytes], ...]]]
# A clinic's senders by its organization id (None: a patient of no clinic).
SendersFor = Callable[[UUID | None], Mapping[Channel, ChannelSender]]


# The member itself, read once (a lookup on the Enum class costs ~0.1 us on Python 3.11).
_TELEGRAM = Channel.TELEGRAM


def _rate_key(sender: ChannelSender) -> str:
    return getattr(sender, "rate_key", None) or str(sender.channel)


logger = logging.getLogger(__name__)

# After an unknown outcome: a message the provider created up to this long before our send started
# still counts as ours (the provider's clock and ours), and a lookup needs at least this long.
_LOOKUP_CLOCK_SKEW_SECONDS = 60.0
_MIN_LOOKUP_SECONDS = 0.2
# The claim read the patient's pause, consent, opt-outs and the dose's answer: a send that starts
# within this long of the claim goes on that read. Re-reading it (scheduler.send_checks) costs a
# statement and its round trip in the pickup path; when the send waits (a rate limit, a queue of
# sends) the re-read sees what changed meanwhile. At a steady 200-1,000/s nearly every send
# starts within milliseconds of its claim (issue 20).
CLAIM_READ_FRESH_SECONDS = 0.25
# A send must end this long before the lease does (clock drift between us and the database, the
# flush that records it); a tenth of the lease when that is shorter (tests).
_LEASE_MARGIN_SECONDS = 5.0


def _plan(c: Claim, tried: list[str], senders: Mapping[Channel, ChannelSender]) -> RoutePlan:
    """The routes of ``c`` with these senders; a Telegram chat whose bot they lack is passed over
    (several bots behind the channel: ``TelegramBots.missing``)."""
    missing = getattr(senders.get(_TELEGRAM), "missing", None)
    return plan_routes(c, tried, senders.keys(), missing)


def _refused_error(channel: Channel, reason: str) -> str:
    """Why ``channel`` did not take a message: the provider refuses its account's credentials."""
    return f"{channel}: the provider refused the account's credentials ({reason})"


# ``last_error`` of a message held for such an account, after :func:`_refused_error`.
_HELD = "; waiting until they work again (circuit open), attempts unspent"


def time_critical(c: Claim) -> bool:
    """Whether a claim goes ahead of routine sends: priority 0, the claim priority of a
    time-critical dose (``medications.time_critical``) and of a bot reply (or of an API message
    that asked for it). ``urgent`` is not enough: it only lifts quiet hours, and an urgent
    broadcast (priority 5 by default) booking the ledger seconds ahead as a critical send would
    put every time-critical dose behind it again."""
    return c.priority <= TIME_CRITICAL_PRIORITY


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
        recheck: SendCheck | None = None,
        senders_for: SendersFor | None = None,
        files: FilesLoader | None = None,
    ) -> None:
        """``senders_for(organization_id)``: a clinic's senders (its own provider accounts over
        ``senders``, the defaults; :class:`scheduler.clinic_senders.ClinicSenders`). ``files``:
        the stored files of a reply whose payload names some (``files``: how many)."""
        self.senders = senders
        self.recheck = recheck
        self.files = files
        self.senders_for = senders_for
        self.renderer = renderer
        self.clock = clock
        self.config = config
        self.buckets = buckets
        self.rng = rng
        self._lease_margin = min(_LEASE_MARGIN_SECONDS, config.lease_seconds / 10)
        self.send_timeout = config.send_timeout  # whole inside the lease (see there)
        self._timeouts = SendTimeouts()
        # Texts rendered before they were due (scheduler.render_ahead), when the worker does.
        self.ahead: RenderedAhead | None = None
        self.breakers = Breakers(
            config.breaker_threshold,
            config.breaker_cooldown_seconds,
            max(DEFAULT_MAX_COOLDOWN_SECONDS, config.breaker_cooldown_seconds),
        )
        # Breakers go per provider account (the sender's rate key), like the rate limits.
        self._accounts = {ch: getattr(s, "rate_key", None) or str(ch) for ch, s in senders.items()}

    def first_channel(self, c: Claim) -> Channel | None:
        """The channel a send of ``c`` would try first now, or None (no route)."""
        plan = _plan(c, list(c.channels_tried), self.clinic_senders(c))
        return plan.routes[0].channel if plan.routes else None

    def first_checked(self, c: Claim) -> tuple[RoutePlan, UUID | None]:
        """(the routes of a send of ``c`` now, the contact its check before the send names: the
        first route's contact point, or a caregiver alert's caregiver; None without a route).
        The plan may be handed to :meth:`deliver` (``plan``) for a send that starts right
        after the check, which then goes where it was checked."""
        plan = _plan(c, list(c.channels_tried), self.clinic_senders(c))
        if not plan.routes:
            return plan, None
        return plan, plan.routes[0].contact_id or c.caregiver_id

    def clinic_senders(self, c: Claim) -> Mapping[Channel, ChannelSender]:
        """The senders for ``c``: its clinic's own accounts over the defaults."""
        return self.senders if self.senders_for is None else self.senders_for(c.organization_id)

    async def deliver(
        self,
        c: Claim,
        lease_ends: float = math.inf,
        *,
        read_at: float = -math.inf,
        plan: RoutePlan | None = None,
    ) -> DeliveryResult:
        """Deliver ``c`` (or decide not to); classified delivery errors become the result.

        ``lease_ends`` (``time.monotonic()``) bounds every wait and send: none may outlive the
        lease, or the reaper would hand the row to another worker while this one still sends it.
        A claim whose lease is too short for a send goes back to pending, not counted as an attempt.
        ``read_at`` (``time.monotonic()``): when the claim's read began; a send that starts more
        than :data:`CLAIM_READ_FRESH_SECONDS` after it is checked again first (``recheck``).
        ``plan``: the routes :meth:`first_checked` gave for this claim at its check (planned
        once: routing was a tenth of the worker's CPU in the 08:00 burst, issue 20).
        """
        now = self.clock()
        stopped = held_back(c, now, self.config)
        if stopped is not None:
            return stopped

        senders = self.clinic_senders(c)
        tried = list(c.channels_tried)
        attempts: list[AttemptRow] = []
        effects: list[tuple[UUID, str, str]] = []
        notes: list[str] = []  # why the patient got another text or channel (kept on the row)
        # A coroutine only for a reply that names stored files (most rows name none).
        files = await self._files(c, notes) if c.payload and "files" in c.payload else ()
        if plan is None or (plan.routes and plan.routes[0].channel not in senders):
            plan = _plan(c, tried, senders)  # (or the clinic's senders changed since the check)
        while plan.routes:
            if plan.notes:
                # A chat passed over (its bot is gone): the row says why another channel served.
                notes.extend(n for n in plan.notes if n not in notes)
            route = plan.routes[0]
            # The last moment a send may start with its whole timeout inside the lease.
            start_by = lease_ends - self._lease_margin - self.send_timeout
            if start_by - time.monotonic() < 0.0:
                return self._lease_ran_short(c, tried, attempts, effects)
            sender = senders[route.channel]
            pick = getattr(sender, "sender_for", None)
            if pick is not None:
                # Several accounts behind one channel (Telegram bots: the chat's own bot).
                sender = pick(c, route, now)
            # A clinic's own account has its own caps and breaker; the defaults keep the channel's.
            own_key = None if sender is self.senders.get(route.channel) else _rate_key(sender)
            account = own_key or self._accounts[route.channel]
            closed_in = self.breakers.wait(account)
            if closed_in > 0.0:
                refused = self.breakers.refusal(account)
                if not refused:
                    # The provider keeps failing: wait for the breaker's probe, attempts unspent.
                    error = f"{route.channel}: the provider keeps failing (circuit open); waiting"
                    return self._later(c, "breaker", error, closed_in, tried, attempts, effects)
                error = _refused_error(route.channel, refused)
                if (
                    fallback := self._fall_back(c, route, tried, senders, notes, error)
                ) is not None:
                    plan = fallback
                    continue
                error += _HELD
                return self._later(c, "breaker", error, closed_in, tried, attempts, effects)
            ticket = await self.buckets.acquire(
                route.channel,
                route.address,
                min(self.config.max_bucket_wait_seconds, start_by - time.monotonic()),
                own_key,
                getattr(sender, "rate_per_second", None),
                # Time-critical doses and bot replies go ahead of a peak of routine sends.
                critical=time_critical(c),
            )
            if ticket is None:
                # The queue (or a pause) is longer than we hold a lease: come back later.
                # "pacing", not "rate_limit" (a provider's 429): our own caps holding a row
                # back is no provider refusing it (operators read the two apart).
                hint = self.buckets.wait_hint(route.channel, route.address, time.monotonic())
                error = f"waiting for the {route.channel} rate limit"
                return self._later(c, "pacing", error, hint, tried, attempts, effects)
            if ticket.waited > 0:
                metrics.bucket_wait(route.channel).observe(ticket.waited)

            try:
                ahead = self.ahead
                # The send's moment decides whether a reminder names its dose's day: after a
                # wait for the bucket, read again (it may have crossed the patient's midnight).
                at = now if ticket.waited <= 0 else self.clock()
                held = None if ahead is None else ahead.take(c, route.channel, self.renderer, at)
                if held is None:
                    message, note = render_or_fallback(self.renderer, c, route.channel, now=at)
                    question = None  # worked out from the message once sent
                else:
                    # Rendered before it was due, from this very claim.
                    message, note, question = held
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
                        plan = _plan(c, tried, senders)
                        if plan.routes:
                            notes.append(error)
                            continue
                        error = f"{error}; {plan.reason}"
                    return failed(c, error, tried, attempts, effects)
                attempts.append(self._attempt(c, route, "failed", "config", error))
                metrics.FAILED.labels(route.channel, "config").inc()
                return DeliveryResult(
                    Outcome(c.id, c.lease_token, "failed", last_error=error), attempts, effects
                )
            if note is not None:
                notes.append(f"{route.channel}: {error_text(ValueError(note))}")
            if files:
                message = dataclasses.replace(message, attachments=files)

            if time.monotonic() > start_by:
                # Checked after the wait, which may overrun: a send now could outlive the lease.
                ticket.release()
                return self._lease_ran_short(c, tried, attempts, effects)
            if self.recheck is not None and time.monotonic() - read_at > CLAIM_READ_FRESH_SECONDS:
                # The claim's view is as old as the claim: a /pause or STOP since stops it here.
                # A caregiver's alert is checked against the caregiver (an opt-out since).
                stopped = await self.recheck(c, route.contact_id or c.caregiver_id)
                if stopped is not None:
                    ticket.release()
                    stopped.attempts[:0] = attempts
                    stopped.effects[:0] = effects
                    return stopped
            started = time.perf_counter()
            sent_at = self.clock()
            # Not wait_for (no extra task per send), nor a Timeout per send: one timer among
            # the sends in flight cancels an overdue one (scheduler.send_timeouts).
            watch = self._timeouts.start(self.send_timeout)
            try:
                try:
                    receipt = await sender.send(route.address, message)
                except asyncio.CancelledError as exc:
                    if watch.timed_out():  # its deadline's, not a cancellation from outside
                        raise TimeoutError from exc
                    raise
                finally:
                    ticket.release()  # the provider's rate window counts from its answer
                    watch.over()
            except RateLimitedError as exc:
                ms = ms_since(started)
                self.buckets.pause(route.channel, time.monotonic(), exc.retry_after, own_key)
                attempts.append(
                    self._attempt(c, route, "rate_limited", "rate_limited", error_text(exc), ms=ms)
                )
                metrics.FAILED.labels(route.channel, "rate_limited").inc()
                metrics.RETRIED.labels("rate_limit").inc()
                return pending(
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
                # A caregiver's address is marked on the caregiver (dispatch.sql
                # deactivate_contacts): no more alerts are tried there, and the clinic sees why.
                marked = route.contact_id or c.caregiver_id
                if marked is not None and exc.effect != ContactEffect.NONE:
                    effects.append((marked, str(exc.effect), error))
                tried.append(str(route.channel))
                if may_fall_back(c):
                    plan = _plan(c, tried, senders)
                    if plan.routes:
                        continue
                    error = f"{error}; {plan.reason}"
                return failed(c, error, tried, attempts, effects)
            except CredentialsRefusedError as exc:
                # Every send on this account fails until a person replaces the credentials:
                # hold its messages (a rotation must lose no reminder), probing slowly.
                reason = error_text(exc)
                self.breakers.refused(account, route.channel, reason)
                error = _refused_error(route.channel, reason)
                attempts.append(
                    self._attempt(c, route, "failed", "config", error, ms=ms_since(started))
                )
                metrics.FAILED.labels(route.channel, "config").inc()
                if (
                    fallback := self._fall_back(c, route, tried, senders, notes, error)
                ) is not None:
                    plan = fallback
                    continue
                wait = max(1.0, self.breakers.probe_in(account))
                error += _HELD
                return self._later(c, "breaker", error, wait, tried, attempts, effects)
            except ConfigurationError as exc:
                error = f"channel {route.channel} is not configured: {error_text(exc)}"
                attempts.append(
                    self._attempt(c, route, "failed", "config", error, ms=ms_since(started))
                )
                metrics.FAILED.labels(route.channel, "config").inc()
                return failed(c, error, tried, attempts, effects)
            except (DeliveryError, TimeoutError, OSError) as exc:
                found = None
                if isinstance(exc, (TimeoutError, OutcomeUnknownError)):
                    # The request may have reached the provider: resend only if it has nothing.
                    found = await self._look_up(sender, route, message, sent_at, lease_ends)
                if found is None:
                    self.breakers.failure(account, route.channel)
                    result = self.retry_or_fail(
                        c, route, exc, attempts, ms=ms_since(started), tried=tried
                    )
                    result.effects = effects
                    return result
                metrics.UNKNOWN_OUTCOMES.labels(str(route.channel)).inc()
                metrics.UNKNOWN_FOUND.labels(str(route.channel)).inc()
                notes.append(
                    f"{route.channel}: the send timed out, and a lookup found it at the provider;"
                    " not sent again"
                )
                receipt = found
            self.breakers.success(account, route.channel)
            sent = self._sent(
                c,
                route,
                receipt,
                sent_at,
                ms_since(started),
                tried,
                attempts,
                effects,
                message,
                question,
            )
            if notes:
                # Sent, but not as asked: the row says why (the clinic sees it on the message).
                note = "; ".join(notes)[:ERROR_TEXT_MAX]
                sent.outcome = sent.outcome._replace(last_error=note)
            return sent

        # Nothing (left) to try.
        error_class = "config" if plan.config else "permanent"
        attempts.append(AttemptRow(c.id, self.clock(), "failed", None, error_class, plan.reason))
        metrics.FAILED.labels("none", error_class).inc()
        return failed(c, plan.reason, tried, attempts, effects)

    @staticmethod
    def _fall_back(
        c: Claim,
        route: Route,
        tried: list[str],
        senders: Mapping[Channel, ChannelSender],
        notes: list[str],
        error: str,
    ) -> RoutePlan | None:
        """The routes left to ``c`` on the patient's next channels, ``route``'s account being
        unusable for now (``tried`` and ``notes`` then say so); None, leaving both as they were,
        when it may not fall back or has nowhere to go."""
        if not may_fall_back(c):
            return None
        tried.append(str(route.channel))
        plan = _plan(c, tried, senders)
        if not plan.routes:
            tried.pop()
            return None
        notes.append(error)
        return plan

    async def _files(self, c: Claim, notes: list[str]) -> tuple[tuple[str, str, bytes], ...]:
        """A reply's stored files (the chart, the CSV), read before its send; none for others.

        A database error raises: the dispatcher retries the row later, not without its files.
        """
        wanted = c.payload.get("files") if c.payload else None
        if not wanted or self.files is None:
            return ()
        files = await self.files(c.id)
        if len(files) < wanted:
            # Only a copy of a reply (a clinician's re-send) lacks them: its text still goes.
            notes.append(f"{wanted - len(files)} of the reply's {wanted} files are not stored")
        return files

    async def _look_up(
        self,
        sender: ChannelSender,
        route: Route,
        message: OutboundMessage,
        sent_at: datetime,
        lease_ends: float,
    ) -> Receipt | None:
        """The message at the provider after an unknown outcome, if its sender can look it up
        (Twilio: ``find_sent``) within what the lease leaves; None: not found, or not known."""
        find = getattr(sender, "find_sent", None)
        budget = min(self.send_timeout, lease_ends - self._lease_margin / 2 - time.monotonic())
        if find is None or budget < _MIN_LOOKUP_SECONDS:
            return None
        since = sent_at - timedelta(seconds=_LOOKUP_CLOCK_SKEW_SECONDS)
        try:
            async with asyncio.timeout(budget):
                found: Receipt | None = await find(route.address, message, since)
        except (DeliveryError, TimeoutError, OSError) as exc:
            logger.warning(
                "could not look up a send with an unknown outcome",
                extra={"channel": str(route.channel), "error": type(exc).__name__},
            )
            return None
        return found

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
        return pending(c, error, tried, attempts, effects, next_time=next_time)

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
        return pending(c, error, tried, attempts, effects)

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
        question_parts: QuestionParts | None,
    ) -> DeliveryResult:
        metrics.sent_counter(route.channel, receipt.outbox).inc()
        metrics.LAG.observe(max(0.0, (sent_at - c.scheduled_time).total_seconds()))
        channel = str(route.channel)
        provider_id = receipt.provider_message_id
        # Positional: a named tuple built with keywords took twice as long (~1.3 us of every
        # send for these two, issue 20). The fields in their order, as the classes list them.
        attempts.append(AttemptRow(c.id, sent_at, "sent", channel, None, None, provider_id, ms))
        moves = []
        if receipt.new_address and route.contact_id is not None:
            moves.append((route.contact_id, receipt.new_address))
        # A caregiver's alert asks the caregiver nothing the patient's answers could match.
        question = (
            None
            if c.caregiver_id is not None
            else asked_question(route.channel, route.address, message, receipt, question_parts)
        )
        outcome = Outcome(
            c.id,
            c.lease_token,
            "sent",
            None,  # next_time
            0,  # attempts_delta
            None,  # last_error
            sent_at,
            provider_id,
            channel,  # channel_used
            (*tried, channel),  # channels_tried
            message.text if c.message_content is None else None,  # rendered_text
            question,
        )
        return DeliveryResult(outcome, attempts, effects, moves)

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
        # Timed out with the request possibly at the provider, and no lookup found it (or the
        # provider offers none: Telegram): retried (a reminder that may be lost is worse than
        # one that may come twice), but recorded and counted as unknown.
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
            if _plan(c, after, self.clinic_senders(c)).routes:
                metrics.RETRIED.labels("fallback").inc()
                return pending(
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
