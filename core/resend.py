"""Re-sending a failed message: a dead-letter queue's first use (issue 16).

The work is one database function, ``public.resend_message`` (migration 20260101009310), which the
dashboard calls as the signed-in clinician and the API as the service role for the key's clinic:
a new pending copy of the failed row (``resent_from`` = its id), due now, with its own attempts;
the failed row and its delivery attempts stay as they were. At most one copy per failed message;
every copy is audited (``message.resend``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from core.sql import query


class ResendOutcome(enum.StrEnum):
    """What a re-send request did."""

    RESENT = "resent"  # a new pending copy
    ALREADY_RESENT = "already_resent"  # re-sent before: the existing copy
    NOT_FAILED = "not_failed"  # only a failed message can be re-sent
    PATIENT_ERASED = "patient_erased"  # nothing is sent to an erased patient
    # A dose's reminder or follow-up (migration 20260101016500): its dose is answered, missed or
    # cancelled (status: the dose's), or its time has passed (status: the window's end, ISO UTC).
    DOSE_CLOSED = "dose_closed"
    TOO_LATE = "too_late"
    NOT_FOUND = "not_found"  # no such message in the clinic


@dataclass(frozen=True, slots=True)
class Resend:
    """The outcome, the message it concerns (the copy, or the one asked for) and its status."""

    outcome: ResendOutcome
    message_id: UUID | None
    status: str | None


async def resend_message(
    conn: asyncpg.Connection | asyncpg.Pool,
    message_id: UUID,
    organization_id: UUID,
    *,
    actor: str,
    at: datetime,
) -> Resend:
    """Re-send failed message ``message_id`` of ``organization_id``, due at ``at``."""
    row = await conn.fetchrow(
        query("messages", "resend_message"), message_id, organization_id, actor, at
    )
    assert row is not None  # the function always answers one row
    return Resend(ResendOutcome(row["outcome"]), row["message_id"], row["status"])


__all__ = ["Resend", "ResendOutcome", "resend_message"]
