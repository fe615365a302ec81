"""A message waiting out quiet hours is judged again when the window it waits out changes.

The dispatcher defers a non-urgent message that falls inside its recipient's quiet window to the
window's end (:func:`scheduler.delivery_gate.quiet_deferral`: ``scheduled_time`` becomes the end,
``last_error`` says so). Before this, a patient who removed or narrowed their quiet hours (the
bot's /settings, ``PATCH /api/v1/patients/{id}``), moved to another time zone, or whose clinic
changed its default window (``PATCH /api/v1/clinic``) still had such a message wait for the old
end: a refill notice held at 23:00 for 08:00 did not come when the patient said "none" at 23:10.

:func:`release_quiet_deferrals` asks the dispatcher's own question again, at ``now`` with the
windows as they are now, for each such message: outside the window, it is due now (the patient
is awake and said so); still inside, it waits for the new end (a wider window: later; a narrower
one: earlier). A message whose answer is unchanged is not touched. Nothing else changes: its
expiry runs from its time as before (released now, it expires no later than it would have at the
old end), and the dispatcher checks it as any message when it is claimed. A message that now
falls inside a wider window without having been deferred yet needs nothing here: the claim reads
the window as it is then (the worker's patient cache is invalidated by the edit).

The bot and the API call it in the change's transaction. Every change of a window, whoever makes
it (the dashboard's Settings page writes the clinic's default directly; a clinician may write
through Supabase), is also noted by a trigger (migration 20260101015310), and the planner's pass
takes the notes (:func:`release_changed_windows`): a change the code above did not see is acted on
within a planner interval.
"""

from __future__ import annotations

from datetime import datetime, time
from uuid import UUID

import asyncpg

from core.sql import query
from scheduler.quiet_hours import DEFERRED_REASON, deferral_end, recipient_window

__all__ = ["RELEASED_REASON", "release_changed_windows", "release_quiet_deferrals"]

# last_error of a deferred message released by a change of its window (until it is sent).
RELEASED_REASON = "quiet hours changed: no longer deferred"


async def release_quiet_deferrals(
    conn: asyncpg.Connection,
    now: datetime,
    service_quiet: tuple[time, time],
    *,
    patient_id: UUID | None = None,
    organization_id: UUID | None = None,
) -> int:
    """Re-time the deferred messages of one patient (or of a clinic's patients) for the quiet
    windows as they are at ``now``; how many changed. ``service_quiet`` is the service's default
    window (``MEDREMIND_QUIET_HOURS_START``/``_END``). Call in the transaction of the change."""
    if (patient_id is None) == (organization_id is None):
        raise ValueError("give patient_id or organization_id")
    rows = await conn.fetch(
        query("quiet", "deferred_messages"), now, patient_id, DEFERRED_REASON, organization_id
    )
    ids: list[UUID] = []
    times: list[datetime] = []
    reasons: list[str] = []
    for row in rows:
        window = recipient_window(
            caregiver=row["caregiver"],
            own=(row["quiet_start"], row["quiet_end"]),
            clinic=(row["default_quiet_start"], row["default_quiet_end"]),
            service=service_quiet,
        )
        zones = (
            (row["caregiver_timezone"], row["timezone"]) if row["caregiver"] else (row["timezone"],)
        )
        end = deferral_end(now, window, zones)
        if end == row["scheduled_time"]:
            continue  # the same window end as before: nothing changed for this message
        ids.append(row["id"])
        times.append(end or now)
        reasons.append(DEFERRED_REASON if end is not None else RELEASED_REASON)
    if ids:
        await conn.execute(query("quiet", "retime_deferred"), ids, times, reasons, DEFERRED_REASON)
    return len(ids)


async def release_changed_windows(
    conn: asyncpg.Connection, now: datetime, service_quiet: tuple[time, time]
) -> int:
    """Take the windows changed since the last pass and re-time what waits them out (see
    :func:`release_quiet_deferrals`); how many messages changed. In the planner's transaction."""
    changed = 0
    for row in await conn.fetch(query("quiet", "take_window_changes")):
        changed += await release_quiet_deferrals(
            conn,
            now,
            service_quiet,
            patient_id=row["patient_id"],
            organization_id=row["organization_id"],
        )
    return changed
