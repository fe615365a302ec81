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
within a planner interval. The pass reads every note, and drops one only once it is older than a
claim can be when it records (twice ``MEDREMIND_LEASE_SECONDS``): a worker that claimed a message
before the change judged it by the old window, and its deferral, recorded after a pass took the
note, kept the old end (migration 20260101015600).

The service's own window (``MEDREMIND_QUIET_HOURS_*``) lives in each worker's environment. Each
``medremind worker`` writes it to ``service_quiet_window`` at start (:func:`adopt_service_window`);
a window other than the last one written is noted as a change of the service's window, and the
planner's pass re-times what waits out the old one, judged by the window written there (the last
worker to start): a worker still running with the old environment, during a restart, does not
undo it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from uuid import UUID

import asyncpg

from core.sql import query
from scheduler.quiet_hours import (
    DEFERRED_REASON,
    appointment_hold,
    deferral_end,
    recipient_window,
)

__all__ = [
    "RELEASED_REASON",
    "adopt_service_window",
    "note_keep",
    "release_changed_windows",
    "release_quiet_deferrals",
]

logger = logging.getLogger(__name__)

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
    return await _retime(conn, rows, now, service_quiet)


async def _retime(
    conn: asyncpg.Connection,
    rows: Sequence[asyncpg.Record],
    now: datetime,
    service_quiet: tuple[time, time],
) -> int:
    """Ask the dispatcher's question again for each deferred message of ``rows`` (the columns of
    ``quiet.sql: deferred_messages``) and write the answers that changed; how many."""
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
        end = appointment_hold(
            deferral_end(now, window, zones), row["kind"], row["appointment_starts_at"]
        )
        if end == row["scheduled_time"]:
            continue  # the same window end as before: nothing changed for this message
        ids.append(row["id"])
        times.append(end or now)
        reasons.append(DEFERRED_REASON if end is not None else RELEASED_REASON)
    if ids:
        await conn.execute(query("quiet", "retime_deferred"), ids, times, reasons, DEFERRED_REASON)
    return len(ids)


def note_keep(lease_seconds: float) -> timedelta:
    """How long a note of a changed window is read by every pass: a claim made before the change
    records within its lease, or the reaper (every half lease at most) takes it back first."""
    return timedelta(seconds=2 * lease_seconds)


async def release_changed_windows(
    conn: asyncpg.Connection,
    now: datetime,
    service_quiet: tuple[time, time],
    *,
    keep: timedelta = timedelta(0),
) -> int:
    """Re-time what waits out the windows changed in the last ``keep`` or since the last pass
    (see :func:`release_quiet_deferrals`); how many messages changed. ``service_quiet``: this
    worker's window, used when no worker wrote one yet (:func:`adopt_service_window`). In the
    planner's transaction."""
    notes = await conn.fetch(query("quiet", "take_window_changes"), keep.total_seconds())
    if not notes:
        return 0
    stored = await conn.fetchrow(query("quiet", "service_window"))
    if stored is not None:
        # The last worker to start: an old one still running during a restart does not undo it.
        service_quiet = (stored["quiet_start"], stored["quiet_end"])
    changed = 0
    for row in notes:
        if row["patient_id"] is None and row["organization_id"] is None:
            rows = await conn.fetch(
                query("quiet", "deferred_by_service_window"), now, DEFERRED_REASON
            )
            changed += await _retime(conn, rows, now, service_quiet)
            continue
        changed += await release_quiet_deferrals(
            conn,
            now,
            service_quiet,
            patient_id=row["patient_id"],
            organization_id=row["organization_id"],
        )
    return changed


async def adopt_service_window(conn: asyncpg.Connection, window: tuple[time, time]) -> bool:
    """Write this worker's service window (``MEDREMIND_QUIET_HOURS_*``) as the service's; when
    it differs from the one written before (or none was), note a change of the service's window
    for the planner's next pass (:func:`release_changed_windows`). Whether it noted one."""
    async with conn.transaction():
        before = await conn.fetchrow(query("quiet", "lock_service_window"))
        if before is not None and (before["quiet_start"], before["quiet_end"]) == window:
            return False
        await conn.execute(query("quiet", "write_service_window"), *window)
        await conn.execute(query("quiet", "note_service_window_change"))
    # Times only: the window is configuration, nothing about a patient.
    logger.info(
        "service quiet hours changed: deferred messages are judged again",
        extra={
            "before": None if before is None else f"{before['quiet_start']}-{before['quiet_end']}",
            "now": f"{window[0]}-{window[1]}",
        },
    )
    return True
