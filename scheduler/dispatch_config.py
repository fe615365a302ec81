"""The dispatcher's configuration, its clock and its worker id."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from datetime import time as dtime

from core.settings import Settings
from platforms.base import Channel
from scheduler.backoff import DEFAULT_BASE_SECONDS, DEFAULT_CAP_SECONDS
from scheduler.breaker import DEFAULT_COOLDOWN_SECONDS, DEFAULT_THRESHOLD
from scheduler.buckets import DEFAULT_PLATFORM_RATES, DEFAULT_RECIPIENT_RATES

# A clinic network's 08:00: 100,000 reminders due at one instant (issue 20).
DEFAULT_READ_AHEAD = 100_000
DEFAULT_CLAIM_AHEAD_SECONDS = 10.0
DEFAULT_CLAIM_AHEAD_MAX = 100_000


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
    # Rows per claim. Each claim and each record statement pays a fixed cost (its plan, the
    # statement triggers of scheduled_messages and message_queue, a round trip) whatever its
    # size. On a box loaded by other work an 08:00 burst at 100 cost ~20% more CPU per message
    # than at 250 (bench/dispatch.py --scenario 11 --messages 30000, BENCH_BURST_BATCH); quiet,
    # at 100,000 due, the two were alike (2026-12-04). Fewer rows are claimed whenever fewer
    # are due or the send rate is lower (Dispatcher._claim_target).
    batch_size: int = 250
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
    # True: the rates hold for the whole fleet through PostgreSQL (scheduler.fleet_limits), as
    # ``medremind worker`` runs; False: per process (scheduler.buckets), for tests of one worker.
    fleet_limits: bool = False
    # A provider account's circuit breaker: failures that open it, seconds before a probe.
    breaker_threshold: int = DEFAULT_THRESHOLD
    breaker_cooldown_seconds: float = DEFAULT_COOLDOWN_SECONDS
    # Messages whose patients and texts a worker prepares before they are due (the patient
    # cache's size, and the texts rendered ahead; 0: none rendered ahead): ~3 KB each, held only
    # while that many fall due within a minute (scheduler.claim_prefetch, scheduler.render_ahead).
    read_ahead: int = DEFAULT_READ_AHEAD
    # In a forecast peak (texts rendered ahead), rows due within this many seconds are claimed
    # before they are due and held until their time (scheduler.dispatcher, "claim ahead"), at
    # most ``claim_ahead_max`` of them; 0: never claimed before due.
    claim_ahead_seconds: float = DEFAULT_CLAIM_AHEAD_SECONDS
    claim_ahead_max: int = DEFAULT_CLAIM_AHEAD_MAX

    @property
    def send_timeout(self) -> float:
        """A send's timeout: a third of the lease at most, the rest for the rate limit's wait.

        A send starts only with its whole timeout inside its lease: one cut short by the lease
        fires after the provider may have accepted the message, and the retry sends it twice.
        """
        return min(self.send_timeout_seconds, self.lease_seconds / 3)

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: object) -> DispatcherConfig:
        """The configuration of ``medremind worker`` from the environment."""
        rates = {
            Channel.TELEGRAM: settings.telegram_rate_per_second,
            Channel.SMS: settings.sms_rate_per_second,
            Channel.WHATSAPP: settings.whatsapp_rate_per_second,
            Channel.EMAIL: settings.email_rate_per_second,
        }
        recipient_rates = {Channel.TELEGRAM: settings.telegram_chat_rate_per_second}
        values: dict[str, object] = {
            "batch_size": settings.worker_batch_size,
            "concurrency": settings.worker_concurrency,
            "lease_seconds": settings.worker_lease_seconds,
            "poll_seconds": settings.worker_poll_seconds,
            "shutdown_grace_seconds": settings.shutdown_grace_seconds,
            "platform_rates": rates,
            "recipient_rates": recipient_rates,
            "fleet_limits": settings.fleet_limits,
            "breaker_threshold": settings.breaker_threshold,
            "breaker_cooldown_seconds": settings.breaker_cooldown_seconds,
            "backoff_base_seconds": settings.retry_base_seconds,
            "read_ahead": settings.worker_read_ahead,
            "claim_ahead_seconds": settings.worker_claim_ahead_seconds,
            "quiet_start": settings.quiet_hours_start,
            "quiet_end": settings.quiet_hours_end,
        }
        return cls(**(values | overrides))  # type: ignore[arg-type]
