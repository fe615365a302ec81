"""What delivering one claim produced, and the small helpers that build it.

:class:`DeliveryResult` carries a row's new state (an :class:`~scheduler.claims.Outcome`), its
attempt rows and what to mark on contact points until the dispatcher records them in bulk; the
helpers here build the common results and format errors for ``last_error``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from core.logs import redact
from scheduler.claims import AttemptRow, Claim, Outcome

ERROR_TEXT_MAX = 500  # last_error / error_message length cap


@dataclass(slots=True)
class DeliveryResult:
    """What processing one claim produced, waiting for the next flush."""

    outcome: Outcome
    attempts: list[AttemptRow] = field(default_factory=list)
    effects: list[tuple[UUID, str, str]] = field(default_factory=list)
    moves: list[tuple[UUID, str]] = field(default_factory=list)


def failed(
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


def pending(
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
    """An error's text for ``last_error``: PHI patterns scrubbed, length capped, and any NUL
    byte (a provider's JSON may carry ``\\u0000``; PostgreSQL's text refuses it) replaced."""
    text = str(exc) or type(exc).__name__
    return redact(text)[:ERROR_TEXT_MAX].replace("\x00", "\ufffd")


def ms_since(started: float) -> int:
    """Milliseconds since ``started`` (a ``time.perf_counter()`` value)."""
    return int((time.perf_counter() - started) * 1000)
