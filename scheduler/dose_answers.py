"""A patient's answer to a dose reminder: taken, skipped or snoozed.

Called by the bot (a button or keyword on any channel) inside its own transaction if it has one.
A final answer is one statement on the locked dose row (atomic on its own, and one round trip
while the patient waits); a snooze runs in one transaction (a savepoint when the caller already
holds one). Either way, answering the same thing twice, or on two channels at once, has one effect.

Rules:

- ``taken`` / ``skipped`` are final answers. They count even when late: a dose already marked
  ``missed`` (or ``cancelled`` by a schedule edit after the reminder went out) becomes taken or
  skipped. Once a dose has a final answer, later answers change nothing (``already_answered``):
  the first answer stands, so the pill count is decremented at most once.
- ``snoozed`` moves the reminder to ``at + snooze_minutes`` (default 15, as the buttons say) as a
  new ``medication_reminder`` row, idempotent per dose and snooze time; the nag cycle restarts
  once that reminder has been sent. A snooze of a dose with a final answer, or of a cancelled
  dose, changes nothing; nor does a snooze more than ``QUESTION_TTL`` (12 h) after the dose's
  time (``too_late``): its reminder would come back as "Time for your 8:00 AM dose" long after,
  read as another day's dose and perhaps taken twice. Taken and Skip still count that late.
- Every answer cancels what is still pending for the dose: the reminder, follow-ups and the
  caregiver alert. Rows a worker has already claimed (``processing``) are guarded by its lease.
- ``taken`` counts the medication's pill count down by ``pills_per_dose`` (rounded up to whole
  pills), never below zero; no count is kept when ``pill_count`` is null.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal
from uuid import UUID

import asyncpg

from core.answer_buttons import QUESTION_TTL
from core.records import DoseStatus
from core.sql import query

__all__ = [
    "DEFAULT_SNOOZE_MINUTES",
    "MAX_SNOOZE_MINUTES",
    "DoseAnswerResult",
    "MedicationDeleted",
    "find_dose_for_message",
    "record_dose_answer",
]

DoseAnswer = Literal["taken", "skipped", "snoozed"]

# What the reminder's "Snooze 15 min" button promises.
DEFAULT_SNOOZE_MINUTES = 15
# A snooze longer than half a day is a different dose, not a snooze.
MAX_SNOOZE_MINUTES = 720

_FINAL = frozenset({DoseStatus.TAKEN, DoseStatus.SKIPPED})


class MedicationDeleted(LookupError):
    """The dose's medicine was deleted since its reminder: nothing is recorded against it
    (migration 20260101012220); the caller tells the patient so."""


@dataclass(frozen=True, slots=True)
class DoseAnswerResult:
    """What became of the dose.

    ``status`` is the dose's status after the call; ``already_answered`` is True when the call
    changed nothing (the same answer was recorded before, or a final answer already stands).
    ``pill_count_left`` is the medication's count after the call (None when not counted).
    ``snoozed_until`` is set for a snoozed dose.
    """

    dose_event_id: UUID
    status: DoseStatus
    medication_id: UUID
    pill_count_left: int | None
    already_answered: bool
    snoozed_until: datetime | None = None
    # The medication's name (final answers only), for a caller that must keep it out of logs.
    medication_name: str | None = None
    # A snooze refused because the dose's time is more than QUESTION_TTL past (nothing changed).
    too_late: bool = False
    # A snooze refused because no reminder would come: the medicine is paused or deleted, or the
    # patient paused every reminder (nothing changed, even when the dose is snoozed already).
    stopped: bool = False


async def record_dose_answer(
    conn: asyncpg.Connection,
    dose_event_id: UUID,
    answer: DoseAnswer,
    *,
    channel: str,
    at: datetime,
    snooze_minutes: int | None = None,
    patient_id: UUID | None = None,
) -> DoseAnswerResult:
    """Record ``answer`` for the dose at instant ``at`` (aware), received on ``channel``.

    ``patient_id``: only a dose of this patient (a chat answering its own reminder); None: any.
    Raises ``LookupError`` for an unknown dose (or another patient's), its subclass
    :class:`MedicationDeleted` when the dose's medicine was deleted (nothing is recorded), and
    ``ValueError`` for a bad answer, a naive ``at`` or a snooze outside 1..720 minutes.
    """
    if answer not in ("taken", "skipped", "snoozed"):
        raise ValueError(f"answer: {answer!r} is not taken, skipped or snoozed")
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("at: naive datetime; pass an aware one")
    minutes = DEFAULT_SNOOZE_MINUTES if snooze_minutes is None else snooze_minutes
    if answer == "snoozed" and not 1 <= minutes <= MAX_SNOOZE_MINUTES:
        raise ValueError(f"snooze_minutes: {minutes} is outside 1..{MAX_SNOOZE_MINUTES}")

    if answer != "snoozed":
        return await _record_final(conn, dose_event_id, DoseStatus(answer), channel, at, patient_id)
    async with conn.transaction():
        dose = await conn.fetchrow(query("planner", "lock_dose_event"), dose_event_id)
        if dose is None or (patient_id is not None and dose["patient_id"] != patient_id):
            raise LookupError(f"dose event {dose_event_id} does not exist")
        status = DoseStatus(dose["status"])
        if dose["medication_status"] == "deleted" and status not in _FINAL:
            raise MedicationDeleted(f"dose event {dose_event_id}: its medicine was deleted")

        def unchanged() -> DoseAnswerResult:
            return DoseAnswerResult(
                dose_event_id=dose_event_id,
                status=status,
                medication_id=dose["medication_id"],
                pill_count_left=dose["pill_count"],
                already_answered=True,
                snoozed_until=dose["snoozed_until"] if status == DoseStatus.SNOOZED else None,
            )

        if status in _FINAL:
            return unchanged()
        return await _snooze(conn, dose, status, at, minutes, channel, unchanged)


async def _record_final(
    conn: asyncpg.Connection,
    dose_event_id: UUID,
    answer: DoseStatus,
    channel: str,
    at: datetime,
    patient_id: UUID | None,
) -> DoseAnswerResult:
    """Taken or skipped: lock, record, cancel what is pending and count pills in one statement.

    One statement is atomic by itself, so it needs no transaction (or savepoint) of its own; it
    replaced five round trips on the path of every button press.
    """
    row = await conn.fetchrow(
        query("dose_answers", "record_final_answer"),
        dose_event_id,
        answer.value,
        at,
        channel,
        f"dose {answer.value}",
        patient_id,
    )
    if row is None:
        raise LookupError(f"dose event {dose_event_id} does not exist")
    before = DoseStatus(row["status"])
    if not row["changed"] and before not in _FINAL:
        # Unchanged and not answered before: the function refused a deleted medicine's dose.
        raise MedicationDeleted(f"dose event {dose_event_id}: its medicine was deleted")
    if not row["changed"]:
        return DoseAnswerResult(
            dose_event_id=dose_event_id,
            status=before,
            medication_id=row["medication_id"],
            pill_count_left=row["pill_count"],
            already_answered=True,
            snoozed_until=row["snoozed_until"] if before == DoseStatus.SNOOZED else None,
            medication_name=row["medication_name"],
        )
    return DoseAnswerResult(
        dose_event_id=dose_event_id,
        status=answer,
        medication_id=row["medication_id"],
        pill_count_left=row["pill_count"],
        already_answered=False,
        medication_name=row["medication_name"],
    )


async def _snooze(
    conn: asyncpg.Connection,
    dose: asyncpg.Record,
    status: DoseStatus,
    at: datetime,
    minutes: int,
    channel: str,
    unchanged: Callable[[], DoseAnswerResult],
) -> DoseAnswerResult:
    until = at + timedelta(minutes=minutes)
    if status != DoseStatus.CANCELLED and at - dose["due_at"] > QUESTION_TTL:
        return replace(unchanged(), too_late=True)
    # A paused or deleted medicine is reminded of no more: not even its missed dose, snoozed;
    # nor is a patient who paused every reminder (their dose stays open to Taken and Skip).
    if dose["medication_status"] != "active" or dose["reminders_paused"]:
        return replace(unchanged(), stopped=True)
    if status == DoseStatus.CANCELLED or (
        status == DoseStatus.SNOOZED and dose["snoozed_until"] == until
    ):
        return unchanged()
    dose_id = dose["id"]
    await conn.execute(query("planner", "set_dose_snoozed"), dose_id, until, at, channel)
    await conn.execute(query("planner", "cancel_dose_messages"), dose_id, "dose snoozed")
    first = await conn.fetchrow(query("planner", "dose_reminder_template"), dose_id)
    payload = dict(first["payload"]) if first is not None else {}
    # No due_at here: the dispatcher reads the dose's own time (an ISO string would not format).
    payload |= {
        "dose_event_id": str(dose_id),
        "medication_id": str(dose["medication_id"]),
        "snoozed_until": until.isoformat(),
    }
    await conn.execute(
        query("planner", "insert_snooze_reminder"),
        first["organization_id"] if first is not None else None,
        dose["patient_id"],
        until,
        first["platform"] if first is not None else "auto",
        payload,
        snooze_key(dose_id, until),
        dose_id,
    )
    return DoseAnswerResult(
        dose_event_id=dose_id,
        status=DoseStatus.SNOOZED,
        medication_id=dose["medication_id"],
        pill_count_left=dose["pill_count"],
        already_answered=False,
        snoozed_until=until,
    )


def snooze_key(dose_event_id: UUID, until: datetime) -> str:
    """Idempotency key of the reminder a snooze until ``until`` creates."""
    return f"snooze:{dose_event_id}:{int(until.timestamp())}"


async def find_dose_for_message(conn: asyncpg.Connection, message_id: UUID) -> UUID | None:
    """The dose a message (reminder, follow-up or caregiver alert) is about, if any."""
    return await conn.fetchval(query("planner", "dose_for_message"), message_id)
