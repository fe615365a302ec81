"""Answers to reminders: Taken / Snooze / Skip on doses, Confirm / Reschedule / Cancel on visits.

Buttons carry the row id (:mod:`bot.callbacks`). Typed answers (the reminder's numbered options
"1 Taken, 2 Snooze, 3 Skip", an option's word, the appointment letters C, R, X where the text
shows them) are matched to the question they answer by :mod:`bot.routing` and arrive here as the
chosen option's data.

Recording a dose answer is the scheduler's job (``scheduler.dose_answers.record_dose_answer``:
it also cancels pending nags and counts down pills). It is imported lazily; until it exists a
minimal local update records the answer so the dialog keeps working.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from bot import texts
from bot.appointment_when import appointment_when
from bot.conversation import NUMBERED_CHANNELS, Reply, Turn
from bot.questions import ask_question
from core.answer_buttons import (
    DEFAULT_SNOOZE_MINUTES,
    SNOOZE_CHOICES,
    AppointmentAction,
    AppointmentAnswer,
    DoseAnswer,
    dose_data,
    parse_appointment_data,
    parse_dose_data,
    parse_offer_data,
)
from core.dose_times import named_local
from core.logs import mark_sensitive
from core.sql import query
from platforms.base import Channel
from scheduler.dose_answers import MedicationDeleted

logger = logging.getLogger(__name__)

FINAL_STATUSES = frozenset({"taken", "skipped"})


def is_answer_data(data: str) -> bool:
    """Whether button data belongs to a reminder rather than to a dialog."""
    return data.startswith(("d:", "a:", "w:"))


async def handle_answer_button(turn: Turn, data: str) -> None:
    """A reminder or appointment button, from any step; old or foreign ids get a polite answer."""
    dose = parse_dose_data(data)
    if dose is not None:
        await answer_dose(turn, dose, edit=True)
        return
    appt = parse_appointment_data(data)
    if appt is not None:
        await answer_appointment(turn, appt, edit=True)
        return
    offer = parse_offer_data(data)
    if offer is not None:
        await answer_slot_offer(turn, *offer, edit=True)
        return
    turn.say(turn.t("answer_unknown"))


async def answer_data(turn: Turn, data: str, *, snooze_options: bool = True) -> None:
    """A typed answer the router matched to a reminder's option (its answer data).
    ``snooze_options``: see :func:`answer_dose`."""
    dose = parse_dose_data(data)
    if dose is not None:
        await answer_dose(turn, dose, snooze_options=snooze_options)
        return
    appt = parse_appointment_data(data)
    if appt is not None:
        await answer_appointment(turn, appt)
        return
    offer = parse_offer_data(data)
    if offer is not None:
        await answer_slot_offer(turn, *offer)
        return
    turn.say(turn.t("answer_unknown"))


async def close_questions(
    turn: Turn,
    *,
    dose_id: UUID | None = None,
    appointment_id: UUID | None = None,
    offer_recipient_id: UUID | None = None,
) -> None:
    """Every question about this dose, appointment or offer has its answer now (bot.routing)."""
    await turn.conn.execute(
        query("bot", "close_questions"), dose_id, appointment_id, turn.now, offer_recipient_id
    )


async def answer_dose(
    turn: Turn, answer: DoseAnswer, *, edit: bool = False, snooze_options: bool = True
) -> None:
    """Record the answer and say what was recorded (editing the reminder when pressed there).

    An old reminder of a medicine deleted since records nothing (the recorder refuses it,
    migration 20260101012220): the patient is told that, and where the list is.
    ``snooze_options`` False: a snooze's reply shows nothing (Taken, longer snoozes); the engine
    names another waiting reminder after it, whose typed answers ("Reply Taken, ...") must reach
    that one (bot.engine), and asks that one again.
    """
    try:
        await _answer_dose(turn, answer, edit=edit, snooze_options=snooze_options)
    except MedicationDeleted:
        await close_questions(turn, dose_id=answer.dose_event_id)
        turn.say(turn.t("answer_medicine_deleted"), edit=edit)


def said_at(turn: Turn) -> datetime:
    """When the patient said what the turn answers: a message Telegram delivered late was
    written earlier (platforms.base.InboundEvent.written_at). A Taken typed at 8:05 PM during
    an outage and delivered at 8:30 AM was recorded taken at 8:30 AM, and told "Taken at 8:30
    AM", a time the patient never said; the dose's answer carries the time it was written."""
    written = turn.event.written_at
    if written is None:
        return turn.now
    return min(turn.now, datetime.fromtimestamp(written, turn.now.tzinfo))


async def _answer_dose(
    turn: Turn, answer: DoseAnswer, *, edit: bool, snooze_options: bool = True
) -> None:
    recorder = _scheduler_recorder()
    # Taken and Skip at the time they were said; a snooze counts from now (its reminder comes
    # after this turn, never in the past).
    at = said_at(turn)
    if answer.answer in FINAL_STATUSES and turn.conv.patient_id is not None and recorder:
        # Taken or skipped: one statement checks the dose is this patient's and records it.
        try:
            result = await recorder(
                turn.conn,
                answer.dose_event_id,
                answer.answer,
                channel=turn.conv.channel.value,
                at=at,
                patient_id=turn.conv.patient_id,
            )
        except MedicationDeleted:
            raise  # answer_dose says so
        except LookupError:
            turn.say(turn.t("answer_unknown"))
            return
        mark_sensitive(result.medication_name)
    else:
        row = await turn.conn.fetchrow(
            query("bot", "get_dose_event"), answer.dose_event_id, turn.conv.patient_id
        )
        if row is None:
            turn.say(turn.t("answer_unknown"))
            return
        mark_sensitive(row["medication_name"])
        if row["status"] in FINAL_STATUSES:
            what = await dose_subject(turn, answer.dose_event_id)
            turn.say(already_recorded_text(turn.locale, row["status"], what), edit=edit)
            return
        result = await record_dose_answer(turn, answer)
    until = turn.now + timedelta(minutes=answer.snooze_minutes or DEFAULT_SNOOZE_MINUTES)
    refused = _refused(answer.answer, result, until)
    if not refused:
        # A refused snooze (reminders paused) recorded nothing and the dose stays open to Taken
        # and Skip: its questions stay open too. Closed, a typed "taken" after it went on to an
        # older reminder's question and was recorded on that other dose.
        await close_questions(turn, dose_id=answer.dose_event_id)
    too_late = bool(getattr(result, "too_late", False))
    # Which dose: two reminders due at once read alike, and so would their answers.
    what = await dose_subject(turn, answer.dose_event_id, dated=too_late)
    if too_late:
        await _refuse_late_snooze(turn, answer.dose_event_id, what, edit=edit)
        return
    if getattr(result, "already_answered", False) and str(result.status) in FINAL_STATUSES:
        turn.say(already_recorded_text(turn.locale, str(result.status), what), edit=edit)
        return
    if refused:
        # The dose's medicine was paused or deleted, or the patient paused every reminder: no
        # reminder will follow, so promise none (and say how to have them again).
        paused = answer.answer == "snoozed" and str(result.status) != "cancelled"
        paused = paused and turn.patient is not None and bool(turn.patient["reminders_paused"])
        turn.say(turn.t("med_saved_paused" if paused else "answer_unknown"), edit=edit)
        return
    timezone = turn.patient["timezone"] if turn.patient is not None else "UTC"
    if answer.answer == "taken":
        message = taken_text(turn.locale, at, timezone, what)
    elif answer.answer == "snoozed":
        message = snoozed_text(
            turn.locale, turn.now, until, timezone, what, sms=turn.conv.channel == Channel.SMS
        )
        # The snoozed reminder keeps Taken, so a pill taken before it comes back can be
        # reported, and Snooze, so it can be snoozed again, on every channel alike: buttons, or
        # "1 Taken / 2 Snooze 30 min / 3 Snooze 60 min" typed ("2", "snooze 45"). Snoozing again
        # is bounded as the first snooze is: refused 12 hours past the dose's time.
        dose_id = answer.dose_event_id
        choices = [_taken_choice(turn, dose_id)]
        choices += [
            (turn.t("btn_snooze_n", n=n), dose_data(dose_id, f"s{n}"))
            for n in again_lengths(answer.snooze_minutes)
        ]
        # Another reminder named after this reply, its answers typed as "Taken", is asked
        # again after it (bot.engine): these are not shown, and take typed words once that one
        # is answered (a "Taken" typed for the 11:55 PM dose named "also waiting" took the
        # 12:00 AM dose just snoozed: found in a late-night run).
        shown = tuple(choices) if snooze_options else ()
        turn.replies.append(Reply(text=message, edit=edit, raw_options=shown))
        await _ask_about_dose(turn, dose_id, choices)
        return
    else:
        message = turn.t("answer_skipped", what=what)
    turn.say(message, edit=edit, recorded=True)


def again_lengths(chosen: int | None) -> tuple[int, ...]:
    """The snooze lengths a snooze's reply offers: the two longest of :data:`SNOOZE_CHOICES`
    other than the one ``chosen`` (None: the default). Two, so that with Taken the reply is three
    choices, which WhatsApp shows as quick replies (three in session) and an SMS keeps short; the
    longest, since a dose snoozed once is put off for longer, not shorter. Any other length can
    be typed ("snooze 45")."""
    return tuple(n for n in SNOOZE_CHOICES if n != chosen)[-2:]


def _taken_choice(turn: Turn, dose_id: UUID) -> tuple[str, str]:
    """The Taken option of a reply about the dose: its label and its answer data."""
    return turn.t("btn_taken"), dose_data(dose_id, "t")


async def _refuse_late_snooze(turn: Turn, dose_id: UUID, what: str, *, edit: bool) -> None:
    """A snooze of a dose whose time is long past (``too_late``): nothing was recorded. The
    reply names the dose's day and time and offers Taken, which still counts that late (the
    pressed reminder, edited, loses its buttons)."""
    taken = _taken_choice(turn, dose_id)
    message = turn.t("answer_snooze_too_late", what=what)
    turn.replies.append(Reply(text=message, edit=edit, raw_options=(taken,)))
    await _ask_about_dose(turn, dose_id, [taken])


async def _ask_about_dose(turn: Turn, dose_id: UUID, choices: list[tuple[str, str]]) -> None:
    """Record the options of a snooze's reply (or of a refused snooze's) as the chat's question
    about the dose (bot.routing), so what the reply shows can be typed on every channel: "1" or
    "taken", "2" or "snooze 30" (the snoozed dose before its reminder is back)."""
    numbered = turn.conv.channel in NUMBERED_CHANNELS
    options = [
        {"label": label, "data": data, "keys": [str(number)] if numbered else []}
        for number, (label, data) in enumerate(choices, 1)
    ]
    await ask_question(turn, options, dose_id=dose_id)


def _refused(answer: str, result: object, until: datetime) -> bool:
    """Whether the recorder left the dose alone for a reason other than a repeat of the same
    answer: it is cancelled, or a snooze (until ``until``) was refused (its medicine is paused
    or deleted, or every reminder is). A dose snoozed before the pause and snoozed again stays
    snoozed until its first time: a refusal too, not a repeat, unless it is that time and the
    recorder did not refuse it as ``stopped`` (snoozed, paused and snoozed again at one instant:
    the reminder it asks for is withheld like any other)."""
    if not getattr(result, "already_answered", False):
        return False
    if getattr(result, "stopped", False):
        return True
    status = str(getattr(result, "status", ""))
    if status == "cancelled":
        return True
    return answer == "snoozed" and (
        status != "snoozed" or getattr(result, "snoozed_until", None) != until
    )


def already_recorded_text(locale: str, status: str, what: str) -> str:
    """What a second answer to a dose (``what``: :func:`bot.texts.dose_words`) with a final answer
    (``status``) hears."""
    return texts.text(
        locale, "answer_already", status=texts.text(locale, f"status_{status}"), what=what
    )


def taken_text(locale: str, now: datetime, timezone: str, what: str) -> str:
    """The acknowledgement of Taken, with the time of the answer in the patient's zone and the
    dose it recorded (``what``: :func:`bot.texts.dose_words`)."""
    return texts.text(
        locale,
        "answer_taken",
        time=texts.fmt_time(now.astimezone(ZoneInfo(timezone)), locale),
        what=what,
    )


def snoozed_text(
    locale: str, now: datetime, until: datetime, timezone: str, what: str, *, sms: bool = False
) -> str:
    """The acknowledgement of a snooze: when the reminder comes back (``until``) in the patient's
    zone, with its day when that is not the day of the answer (``now``): "again at 12:01 AM",
    pressed at 11:50 PM, reads as a time earlier tonight, and the patient may take the dose
    again, or wait up for a reminder that comes after midnight. ``sms``: the day in GSM-7
    letters (:func:`core.template_filters.fmt_day`). When the clocks change before it, the
    minutes too: 60 minutes from 2:30 AM the night the clocks go back is 2:30 AM again, and "again
    at 2:30 AM", said at 2:30 AM, read as now (found snoozing in Berlin that night)."""
    zone = ZoneInfo(timezone)
    local = until.astimezone(zone)
    here = now.astimezone(zone)
    time = texts.fmt_time(local, locale)
    if local.date() != here.date():
        day = texts.fmt_day(local, locale, sms=sms)
        return texts.text(locale, "answer_snoozed_day", day=day, time=time, what=what)
    if local.utcoffset() != here.utcoffset():
        minutes = round((until - now).total_seconds() / 60)
        return texts.text(locale, "answer_snoozed_clocks", n=minutes, time=time, what=what)
    return texts.text(locale, "answer_snoozed", time=time, what=what)


async def dose_subject(turn: Turn, dose_id: UUID, *, dated: bool = False) -> str:
    """The dose an answer recorded, as its reminder named it (:func:`bot.texts.dose_words`), with
    its day when that is not today where the patient is, or when ``dated``: "your 8:00 AM dose"
    alone, answered the next day, reads as today's."""
    row = await turn.conn.fetchrow(query("bot", "dose_subject"), dose_id, turn.conv.patient_id)
    if row is None:  # not this patient's (the callers checked it): say no more
        return turn.t("this_dose")
    mark_sensitive(row["medication_name"])
    # Its set time where the clocks sprang over it ("your 2:30 AM dose", fired at 3:00).
    local = named_local(row["due_at"], row["timezone"], row["local_date"], row["local_time"])
    zone = ZoneInfo(row["timezone"])
    name = row["medication_name"] if row["name_medicine"] else None
    words = texts.dose_words(turn.locale, local, name=name, number=row["medicine_number"])
    today = None if dated else turn.now.astimezone(zone).date()
    sms = turn.conv.channel == Channel.SMS
    return texts.on_its_day(turn.locale, words, local, today, sms=sms)


def _scheduler_recorder() -> Any:
    """``scheduler.dose_answers.record_dose_answer``, or None when it is not installed."""
    try:
        from scheduler.dose_answers import record_dose_answer as recorder
    except ImportError:
        return None
    return recorder


async def record_dose_answer(turn: Turn, answer: DoseAnswer) -> Any:
    """Through the scheduler's recorder when it is installed, else a minimal local update."""
    recorder = _scheduler_recorder()
    if recorder is not None:
        return await recorder(
            turn.conn,
            answer.dose_event_id,
            answer.answer,
            channel=turn.conv.channel.value,
            at=turn.now if answer.answer == "snoozed" else said_at(turn),
            snooze_minutes=answer.snooze_minutes,
        )
    return await _fallback_record(turn, answer)


async def _fallback_record(turn: Turn, answer: DoseAnswer) -> None:
    snoozed_until: datetime | None = None
    if answer.answer == "snoozed":
        snoozed_until = turn.now + timedelta(minutes=answer.snooze_minutes or 15)
    await turn.conn.execute(
        query("bot", "fallback_record_dose"),
        answer.dose_event_id,
        answer.answer,
        turn.now,
        turn.conv.channel.value,
        snoozed_until,
    )


async def answer_appointment(turn: Turn, answer: AppointmentAnswer, *, edit: bool = False) -> None:
    """Confirm, ask to reschedule or cancel one of the patient's upcoming appointments."""
    row = await turn.conn.fetchrow(
        query("bot", "get_appointment"), answer.appointment_id, turn.conv.patient_id
    )
    if row is None or row["status"] in ("cancelled", "completed", "no_show"):
        turn.say(turn.t("appt_unknown"), edit=edit)
        return
    status = await record_appointment_answer(turn, answer, row["organization_id"])
    await close_questions(turn, appointment_id=answer.appointment_id)
    local, when = appointment_when(turn, row["starts_at"], row["clinic_timezone"])
    day = texts.fmt_date(local, turn.locale)
    key = {"confirmed": "appt_confirmed", "reschedule_requested": "appt_reschedule"}.get(
        status, "appt_cancelled"
    )
    turn.say(turn.t(key, date=day, time=when), edit=edit)


async def record_appointment_answer(
    turn: Turn, answer: AppointmentAnswer, organization_id: UUID
) -> str:
    """Through the scheduler's ``record_appointment_reply`` when installed (it also cancels the
    pending reminders and audits), else a minimal local update; returns the new status."""
    recorder: Callable[[Any, UUID, AppointmentAction, datetime], Awaitable[object]] | None
    try:
        from scheduler.appointments import record_appointment_reply as recorder
    except ImportError:
        recorder = None
    if recorder is not None:
        result = await recorder(turn.conn, answer.appointment_id, answer.action, turn.now)
        return str(getattr(result, "value", result))
    status = {
        "confirm": "confirmed",
        "reschedule": "reschedule_requested",
        "cancel": "cancelled",
    }[answer.action]
    await turn.conn.execute(
        query("bot", "set_appointment_status"), answer.appointment_id, turn.conv.patient_id, status
    )
    if status == "cancelled":
        await turn.conn.execute(query("bot", "cancel_appointment_messages"), answer.appointment_id)
    await turn.conn.execute(
        query("bot", "audit"),
        organization_id,
        f"appointment.{answer.action}",
        "appointment",
        str(answer.appointment_id),
    )
    return status


async def answer_slot_offer(
    turn: Turn, recipient_id: UUID, accept: bool, *, edit: bool = False
) -> None:
    """Accept or decline a freed slot offered from the waitlist (``scheduler.waitlist``)."""
    from scheduler.waitlist import answer_offer

    if turn.conv.patient_id is None:
        turn.say(turn.t("answer_unknown"), edit=edit)
        return
    outcome, offer = await answer_offer(
        turn.conn, recipient_id, turn.conv.patient_id, accept, turn.now
    )
    if outcome != "unknown":
        # Answered (or told it is gone): a later "1" is about whatever the chat is asked next.
        await close_questions(turn, offer_recipient_id=recipient_id)
    if outcome == "booked" and offer is not None:
        zone = ZoneInfo(turn.patient["timezone"] if turn.patient is not None else "UTC")
        local = offer["starts_at"].astimezone(zone)
        turn.say(
            turn.t(
                "offer_booked",
                date=texts.fmt_date(local, turn.locale),
                time=texts.fmt_time(local, turn.locale),
            ),
            edit=edit,
        )
        return
    key = {"taken": "offer_taken", "expired": "offer_expired", "declined": "offer_declined"}
    turn.say(turn.t(key.get(outcome, "answer_unknown")), edit=edit)


def dose_id_of(data: str) -> UUID | None:
    """The dose event a button refers to (for tests and logs)."""
    parsed = parse_dose_data(data)
    return parsed.dose_event_id if parsed else None
