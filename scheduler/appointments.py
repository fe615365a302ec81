"""Appointment messages: a confirmation when booked, reminders before, notices on change.

Every function runs on the caller's connection, in its transaction (a savepoint if it holds
one), with the appointment row locked, and takes ``now`` from the caller: nothing reads a clock.

- Reminders fall ``offset`` minutes before the start, for the appointment's own
  ``reminder_offsets``, else the patient's standing ``patients.appointment_reminder_offsets``
  (set in the bot's /settings or by the clinic), else the organization's
  ``appointment_reminder_offsets`` (24 h and 2 h by default). None is planned for a time
  already past; each expires at the start.
- Frequency caps per organization (``organizations.caps``), per patient, over appointment
  reminders: ``appointment_per_day`` (a calendar day in the patient's timezone) and
  ``appointment_per_week`` (Monday to Sunday there). Reminders are planned nearest to the
  appointment first, so when a cap binds the most useful one survives; each one skipped is
  recorded in ``audit_log`` (action ``appointment_reminder.capped``, with the cap and time).
  Confirmations and change notices are answers to something that happened, never capped.
- A reschedule cancels the pending reminders (and an unsent confirmation), sends an
  ``appointment_rescheduled`` notice and plans new reminders; the same time again (new offsets)
  just re-plans the reminders, without a notice. A cancellation cancels everything pending and
  sends an ``appointment_cancelled`` notice (if the appointment is still ahead).
- Payloads carry ``appointment_id`` (the dispatcher joins the start time, place and clinician),
  reminders ``offset_minutes``, the reschedule notice ``previous_starts_at`` (ISO 8601).
- Nothing is sent to a patient who is not active or has not consented; a patient who paused
  reminders gets no appointment reminders, but still gets confirmations and notices. A patient
  opted out of the ``appointments`` category (``patient_preferences``) gets neither reminders nor
  confirmation requests, only the notice that a booking moved or was cancelled.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg

from core.records import FINAL_APPOINTMENT_STATUSES, AppointmentStatus
from core.sql import query
from scheduler.planning_failures import NOT_THE_SCHEDULES
from scheduler.planning_rules import APPOINTMENT_PRIORITY
from scheduler.step_failures import APPOINTMENTS, StepFailures
from scheduler.waitlist import offer_freed_slot

logger = logging.getLogger(__name__)

__all__ = [
    "AppointmentPlan",
    "cancel_appointment",
    "cap_window",
    "plan_appointment",
    "record_appointment_reply",
    "replan_patient_appointments",
    "reschedule_appointment",
    "sync_appointment",
    "sync_appointments",
]

# Appointments caught up per planner tick; the rest wait for the next one.
SYNC_BATCH = 200

# Cap names in organizations.caps that the planner understands; unknown keys are ignored.
CAP_PER_DAY = "appointment_per_day"
CAP_PER_WEEK = "appointment_per_week"
_REPLY_STATUS = {
    "confirm": AppointmentStatus.CONFIRMED,
    "reschedule": AppointmentStatus.RESCHEDULE_REQUESTED,
    "cancel": AppointmentStatus.CANCELLED,
}
_ALL_KINDS = [
    "appointment_confirmation",
    "appointment_reminder",
    "appointment_rescheduled",
    "appointment_cancelled",
]


@dataclass(frozen=True, slots=True)
class AppointmentPlan:
    """What a call did to one appointment's messages."""

    appointment_id: UUID
    status: AppointmentStatus
    confirmation_created: bool = False
    notice_created: bool = False
    reminders_created: int = 0
    skipped_past: int = 0
    skipped_capped: int = 0
    messages_cancelled: int = 0


def cap_window(kind: str, at: datetime, timezone: str) -> tuple[datetime, datetime]:
    """The ``[start, end)`` instants of the calendar day or week (Monday first) containing ``at``
    in ``timezone``; ``kind`` is ``day`` or ``week``."""
    zone = ZoneInfo(timezone)
    local: date = at.astimezone(zone).date()
    if kind == "week":
        first = local - timedelta(days=local.weekday())
        last = first + timedelta(days=7)
    else:
        first, last = local, local + timedelta(days=1)
    return (
        datetime.combine(first, time(0), tzinfo=zone),
        datetime.combine(last, time(0), tzinfo=zone),
    )


def _check_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name}: naive datetime; pass an aware one")


async def _lock(conn: asyncpg.Connection, appointment_id: UUID) -> asyncpg.Record:
    row = await conn.fetchrow(query("planner", "lock_appointment"), appointment_id)
    if row is None:
        raise LookupError(f"appointment {appointment_id} does not exist")
    return row


def _reachable(appt: Mapping[str, Any]) -> bool:
    return appt["patient_status"] == "active" and appt["consent_at"] is not None


async def _insert(
    conn: asyncpg.Connection,
    appt: Mapping[str, Any],
    kind: str,
    at: datetime,
    key: str,
    payload: dict[str, Any],
    expires_at: datetime,
) -> bool:
    row = await conn.fetchval(
        query("planner", "insert_appointment_message"),
        appt["organization_id"],
        appt["patient_id"],
        at,
        kind,
        {"appointment_id": str(appt["id"]), **payload},
        APPOINTMENT_PRIORITY,
        expires_at,
        key,
        appt["id"],
    )
    return row is not None


async def _audit(
    conn: asyncpg.Connection,
    appt: Mapping[str, Any],
    actor: str,
    action: str,
    details: dict[str, Any],
    at: datetime,
) -> None:
    await conn.execute(
        query("planner", "insert_audit"),
        appt["organization_id"],
        actor,
        action,
        "appointment",
        str(appt["id"]),
        details,
        at,
    )


async def _plan_reminders(
    conn: asyncpg.Connection, appt: Mapping[str, Any], starts_at: datetime, now: datetime
) -> tuple[int, int, int]:
    """Reminders for ``starts_at``: (created, skipped as past, skipped by a cap)."""
    if not _reachable(appt) or appt["reminders_paused"] or appt["appointments_opted_out"]:
        return 0, 0, 0
    offsets = (
        appt["reminder_offsets"]
        or appt["patient_offsets"]
        or appt["appointment_reminder_offsets"]
        or []
    )
    caps = appt["caps"] or {}
    limits = [
        (name, window, int(caps[name]))
        for name, window in ((CAP_PER_DAY, "day"), (CAP_PER_WEEK, "week"))
        if isinstance(caps.get(name), int) and not isinstance(caps.get(name), bool)
    ]
    await conn.execute(query("planner", "lock_patient_for_caps"), appt["patient_id"])
    created = past = capped = 0
    # Nearest to the appointment first: when a cap binds, the most useful reminder survives.
    for offset in sorted(set(offsets)):
        at = starts_at - timedelta(minutes=offset)
        if at <= now:
            past += 1
            continue
        key = f"appt:{appt['id']}:{int(starts_at.timestamp())}:reminder:{offset}"
        status = await conn.fetchval(query("planner", "message_status_by_key"), key)
        if status is not None and status != "cancelled":
            continue  # planned before: idempotent, and not counted against itself
        over = None
        for name, window, limit in limits:
            start, end = cap_window(window, at, appt["timezone"])
            used = await conn.fetchval(
                query("planner", "count_capped_messages"), appt["patient_id"], start, end
            )
            if used >= limit:
                over = (name, limit)
                break
        if over is not None:
            capped += 1
            await _audit(
                conn,
                appt,
                "planner",
                "appointment_reminder.capped",
                {
                    "cap": over[0],
                    "limit": over[1],
                    "scheduled_time": at.isoformat(),
                    "offset_minutes": offset,
                },
                now,
            )
            continue
        if await _insert(
            conn, appt, "appointment_reminder", at, key, {"offset_minutes": offset}, starts_at
        ):
            created += 1
    return created, past, capped


async def plan_appointment(
    conn: asyncpg.Connection, appointment_id: UUID, now: datetime
) -> AppointmentPlan:
    """A new booking: the confirmation (now) and the reminders. Idempotent."""
    _check_aware("now", now)
    async with conn.transaction():
        appt = await _lock(conn, appointment_id)
        await conn.execute(query("planner", "mark_appointment_planned"), appointment_id)
        status = AppointmentStatus(appt["status"])
        if status in FINAL_APPOINTMENT_STATUSES or appt["starts_at"] <= now:
            return AppointmentPlan(appointment_id, status)
        confirmation = False
        if _reachable(appt) and not appt["appointments_opted_out"]:
            confirmation = await _insert(
                conn,
                appt,
                "appointment_confirmation",
                now,
                f"appt:{appointment_id}:confirmation",
                {},
                appt["starts_at"],
            )
        created, past, capped = await _plan_reminders(conn, appt, appt["starts_at"], now)
        return AppointmentPlan(
            appointment_id,
            status,
            confirmation_created=confirmation,
            reminders_created=created,
            skipped_past=past,
            skipped_capped=capped,
        )


async def reschedule_appointment(
    conn: asyncpg.Connection, appointment_id: UUID, new_starts_at: datetime, now: datetime
) -> AppointmentPlan:
    """Move the appointment to ``new_starts_at``: pending reminders out, a notice, new reminders.

    With the same start time (the offsets changed) only the reminders are planned again. A moved
    appointment needs confirming again, so its status returns to ``scheduled``. Raises
    ``ValueError`` for a cancelled, completed or no-show appointment.
    """
    _check_aware("now", now)
    _check_aware("new_starts_at", new_starts_at)
    async with conn.transaction():
        appt = await _lock(conn, appointment_id)
        status = AppointmentStatus(appt["status"])
        if status in FINAL_APPOINTMENT_STATUSES:
            raise ValueError(f"appointment {appointment_id} is {status.value}")
        # What the messages were planned for: differs from starts_at when the dashboard moved
        # the row itself and the planner tick is catching up.
        previous = appt["planned_starts_at"] or appt["starts_at"]
        moved = new_starts_at != previous
        kinds = ["appointment_reminder"]
        if moved:
            kinds += ["appointment_confirmation", "appointment_rescheduled"]
            status = AppointmentStatus.SCHEDULED
            await conn.execute(
                query("planner", "set_appointment_time"), appointment_id, new_starts_at, status
            )
        result = await conn.execute(
            query("planner", "cancel_appointment_messages"),
            appointment_id,
            kinds,
            "appointment rescheduled" if moved else "reminders re-planned",
        )
        cancelled = int(result.split()[-1])
        notice = False
        if moved and _reachable(appt) and new_starts_at > now:
            notice = await _insert(
                conn,
                appt,
                "appointment_rescheduled",
                now,
                f"appt:{appointment_id}:rescheduled:{int(new_starts_at.timestamp())}"
                f":{int(now.timestamp())}",
                {"previous_starts_at": previous.isoformat()},
                new_starts_at,
            )
        created, past, capped = await _plan_reminders(conn, appt, new_starts_at, now)
        await conn.execute(query("planner", "mark_appointment_planned"), appointment_id)
        return AppointmentPlan(
            appointment_id,
            status,
            notice_created=notice,
            reminders_created=created,
            skipped_past=past,
            skipped_capped=capped,
            messages_cancelled=cancelled,
        )


async def replan_patient_appointments(
    conn: asyncpg.Connection, patient_id: UUID, now: datetime
) -> int:
    """Plan the reminders of every appointment of the patient still ahead again (their standing
    offsets or their choice for appointment messages changed). Returns how many."""
    _check_aware("now", now)
    rows = await conn.fetch(query("planner", "upcoming_patient_appointments"), patient_id, now)
    for row in rows:
        await reschedule_appointment(conn, row["id"], row["starts_at"], now)
    return len(rows)


async def cancel_appointment(
    conn: asyncpg.Connection,
    appointment_id: UUID,
    now: datetime,
    *,
    notify: bool = True,
) -> AppointmentPlan:
    """Cancel: status ``cancelled``, everything pending withdrawn, and (with ``notify``, and
    only for an appointment still ahead) an ``appointment_cancelled`` notice. Idempotent."""
    _check_aware("now", now)
    async with conn.transaction():
        appt = await _lock(conn, appointment_id)
        if (
            appt["status"] == AppointmentStatus.CANCELLED
            and appt["planned_status"] == AppointmentStatus.CANCELLED
        ):
            return AppointmentPlan(appointment_id, AppointmentStatus.CANCELLED)
        await conn.execute(
            query("planner", "set_appointment_status"),
            appointment_id,
            AppointmentStatus.CANCELLED.value,
        )
        result = await conn.execute(
            query("planner", "cancel_appointment_messages"),
            appointment_id,
            _ALL_KINDS,
            "appointment cancelled",
        )
        notice = False
        if notify and _reachable(appt) and appt["starts_at"] > now:
            notice = await _insert(
                conn,
                appt,
                "appointment_cancelled",
                now,
                f"appt:{appointment_id}:cancelled",
                {},
                appt["starts_at"],
            )
        await conn.execute(query("planner", "mark_appointment_planned"), appointment_id)
        # The freed slot goes to the clinic's waitlist, in this transaction.
        await offer_freed_slot(conn, appointment_id, now)
        return AppointmentPlan(
            appointment_id,
            AppointmentStatus.CANCELLED,
            notice_created=notice,
            messages_cancelled=int(result.split()[-1]),
        )


async def record_appointment_reply(
    conn: asyncpg.Connection,
    appointment_id: UUID,
    reply: Literal["confirm", "reschedule", "cancel"],
    at: datetime,
) -> AppointmentStatus:
    """The patient's answer to a confirmation or reminder; returns the appointment's status.

    ``confirm`` -> confirmed, ``reschedule`` -> reschedule_requested (reminders stay until the
    clinic moves it), ``cancel`` -> cancelled with its pending messages (no notice: the patient
    did it and the bot answers them). A cancelled, completed or no-show appointment keeps its
    status. Each reply is written to ``audit_log``.
    """
    if reply not in _REPLY_STATUS:
        raise ValueError(f"reply: {reply!r} is not confirm, reschedule or cancel")
    _check_aware("at", at)
    async with conn.transaction():
        appt = await _lock(conn, appointment_id)
        current = AppointmentStatus(appt["status"])
        if current in FINAL_APPOINTMENT_STATUSES:
            return current
        if reply == "cancel":
            await cancel_appointment(conn, appointment_id, at, notify=False)
        else:
            await conn.execute(
                query("planner", "set_appointment_status"),
                appointment_id,
                _REPLY_STATUS[reply].value,
            )
            await conn.execute(query("planner", "mark_appointment_planned"), appointment_id)
            # The request to confirm, if it has not gone out yet (held for quiet hours), would
            # ask about what the patient has just answered.
            await conn.execute(
                query("planner", "cancel_appointment_messages"),
                appointment_id,
                ["appointment_confirmation"],
                f"the patient replied ({reply}) before it went out",
            )
        await _audit(conn, appt, "patient", f"appointment.{reply}", {"from": current.value}, at)
        return _REPLY_STATUS[reply]


async def sync_appointments(
    conn: asyncpg.Connection,
    now: datetime,
    failures: StepFailures | None = None,
    *,
    appointments: Sequence[UUID] | None = None,
) -> int:
    """Catch up on appointments written without this module (the dashboard edits rows directly).

    A booking never planned gets its confirmation and reminders; a moved one a notice and new
    reminders; one whose reminders went stale (the patient's preferences changed) new
    reminders; a cancelled one its messages withdrawn and a notice; a status change from a
    reply nothing more. Returns how many appointments were brought up to date.

    Each in a savepoint: one that fails is recorded in ``failures`` (the planner's: left out of
    the next ticks' batches, so that failing rows at the head of the order cannot starve the
    rest, and tried alone; :mod:`scheduler.step_failures`), or only logged without it.
    ``appointments``: these only (a retry), else all but those ``failures`` leaves out.
    """
    _check_aware("now", now)
    rows = await conn.fetch(
        query("planner", "appointments_to_sync"),
        now,
        SYNC_BATCH,
        None if appointments is None else list(appointments),
        [] if failures is None else failures.skip(APPOINTMENTS),
    )
    synced = 0
    for row in rows:
        try:
            await sync_appointment(conn, row, now)
            synced += 1
        except NOT_THE_SCHEDULES:
            raise
        except Exception as exc:  # bad data or a bug: this appointment's, not everyone's
            if failures is not None:
                await failures.record(conn, APPOINTMENTS, row["id"], row["patient_id"], exc)
            else:
                logger.warning(
                    "appointment sync failed",
                    extra={"appointment_id": str(row["id"]), "error_class": type(exc).__name__},
                )
    return synced


async def sync_appointment(conn: asyncpg.Connection, row: asyncpg.Record, now: datetime) -> None:
    """Bring one appointment (a row of ``appointments_to_sync``) up to date, in a savepoint
    (rolled back, and raised, if anything fails)."""
    async with conn.transaction():
        if row["status"] == AppointmentStatus.CANCELLED:
            await cancel_appointment(conn, row["id"], now)
        elif row["status"] in FINAL_APPOINTMENT_STATUSES or row["planned_starts_at"] is None:
            await plan_appointment(conn, row["id"], now)
        elif row["planned_starts_at"] != row["starts_at"] or row["reminders_stale"]:
            # Moved (a notice and new reminders), or the patient's offsets or choice for
            # appointment messages changed (same time: the reminders re-planned).
            await reschedule_appointment(conn, row["id"], row["starts_at"], now)
        else:  # only the status moved (a reply, a clinician's confirmation)
            await conn.execute(query("planner", "mark_appointment_planned"), row["id"])
