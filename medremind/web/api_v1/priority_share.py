"""A clinic's share of priority 0 among the API's messages.

Priority 0 is the time-critical level: the planner gives it to time-critical doses and the bot
to its replies, and the claim takes it first, whichever clinic's it is (docs/delivery.md). An
API message may ask for it (an urgent recall), but a clinic that posted thousands of messages at
priority 0 was claimed ahead of every other clinic's dose reminders on a shared bot or number.
So each clinic may schedule ``MEDREMIND_API_PRIORITY_ZERO_PER_HOUR`` of them per clock hour (UTC)
of the time they go (a message held by quiet hours goes when they end: that hour); past it the
message is still accepted, at the API's default priority, with a ``priority_share`` warning. It
is accepted rather than refused because an urgent message an integration fails to retry is
never sent, and one sent at priority 5 goes behind the dose reminders due with it, within
minutes on a busy morning. The count lives in ``api_priority_zero_hours`` (migration
20260101017450), one locked row per clinic and hour, so web processes granting at once never
overrun it. A re-send of a priority-0 message takes from the same share, from the dashboard too
(``public.resend_message``, migration 20260101017650): past it, its copy goes at the default.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from core.sql import query

TIME_CRITICAL = 0
# What a message that names no priority gets (MessageCreate.priority), and the excess too.
DEFAULT_PRIORITY = 5


def _utc(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


async def share_priority(
    conn: asyncpg.Connection,
    org_id: uuid.UUID,
    *,
    priority: int,
    goes_at: datetime,
    now: datetime,
    per_hour: int,
) -> tuple[int, dict[str, str] | None]:
    """The priority a new API message of clinic ``org_id`` is stored with, and the warning when
    it is not the one asked for. Only priority 0 is shared; ``goes_at`` is when it is expected
    to go (its time, or the end of the quiet hours holding it). Call inside the create's
    transaction: a create refused later gives its grant back with the rollback."""
    if priority != TIME_CRITICAL:
        return priority, None
    granted = await conn.fetchval(
        query("message_warnings", "take_priority_zero"), org_id, goes_at, per_hour, now
    )
    if granted is not None:
        return priority, None
    hour = goes_at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    taken = f"your clinic's {per_hour} for {_utc(hour)} to {_utc(hour + timedelta(hours=1))}"
    return DEFAULT_PRIORITY, _warning(per_hour, taken, "this one was accepted")


def resend_share_warning(per_hour: int) -> dict[str, str]:
    """The warning of a re-send whose copy of a priority-0 message ``public.resend_message``
    (migration 20260101017650) made at the default priority: the hour it goes in was taken."""
    taken = f"your clinic's {per_hour} for the hour this copy goes in"
    return _warning(per_hour, taken, "the copy was made")


def _warning(per_hour: int, taken: str, accepted: str) -> dict[str, str]:
    return {
        "code": "priority_share",
        "field": "priority",
        "message": f"priority 0 goes ahead of every clinic's dose reminders, so a clinic may"
        f" schedule {per_hour} such messages for each hour (UTC) they go in, and {taken} are"
        f" taken: {accepted} at priority {DEFAULT_PRIORITY} (the default), after the dose"
        " reminders due with it. Keep priority 0 for the few messages that must go within"
        " seconds, send news to many patients at the default priority (POST /messages/group),"
        " or spread an urgent round over hours; the service's operator sets the share"
        " (MEDREMIND_API_PRIORITY_ZERO_PER_HOUR)",
    }
