"""The ``quiet_hours`` warning of a new message: the patient's quiet hours hold its time.

Accepted all the same (it goes when they end, as the clinic's or patient's window asks), but an
integrator who sends "now" at 03:35 the patient's time must learn that it goes at 08:00, and what
sends it sooner. The window and its end are the worker's own (``scheduler.quiet_hours``), so the
instant named is the one the dispatcher defers the message to.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg

from core.settings import Settings
from core.sql import query
from scheduler.appointment_times import APPOINTMENT_KINDS
from scheduler.quiet_hours import deferral_end, is_deferrable, recipient_window


async def quiet_hours_warning(
    conn: asyncpg.Connection,
    settings: Settings,
    *,
    patient_id: uuid.UUID,
    org_id: uuid.UUID,
    kind: str,
    urgent: bool,
    due: datetime,
) -> tuple[dict[str, str], datetime] | None:
    """The warning when the patient's quiet window holds ``due`` for a message of ``kind``, and
    the instant it goes instead; None when it goes at its time (urgent, a dose's prompt the
    patient timed, outside the window). An appointment's messages wait only when that leaves
    time to get there: not warned about here."""
    if not is_deferrable(kind, urgent) or kind in APPOINTMENT_KINDS:
        return None
    row = await conn.fetchrow(query("message_warnings", "patient_quiet_window"), patient_id, org_id)
    if row is None:
        return None
    window = recipient_window(
        caregiver=False,
        own=(row["quiet_start"], row["quiet_end"]),
        clinic=(row["default_quiet_start"], row["default_quiet_end"]),
        service=(settings.quiet_hours_start, settings.quiet_hours_end),
    )
    ends = deferral_end(due, window, (row["timezone"],))
    if ends is None:
        return None
    start, end = window
    goes = ends.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return {
        "code": "quiet_hours",
        "field": "scheduled_time",
        "message": f"the patient's quiet hours ({start:%H:%M}-{end:%H:%M} in {row['timezone']})"
        f" hold this time: it is sent when they end, at {goes}. Give `urgent: true` to send it"
        " inside them, or a `scheduled_time` outside them",
    }, ends
