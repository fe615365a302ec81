"""The patient's day: today's doses and upcoming appointments, and their answers.

Answers go through the same recorders as every channel's buttons and words
(:func:`scheduler.dose_answers.record_dose_answer`,
:func:`scheduler.appointments.record_appointment_reply`): the same rows change, pending nags and
caregiver alerts are cancelled, pills are counted, the clinic's audit log gets its line.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from core.answer_buttons import DEFAULT_SNOOZE_MINUTES, QUESTION_TTL
from core.dose_shown import dose_shown
from core.dose_times import named_local
from core.sql import query
from medremind.web.api_v1.common import json_body, path_uuid
from medremind.web.errors import ApiError, ValidationFailed
from medremind.web.patient_app.sessions import current_patient
from medremind.web.patient_app.vapid import vapid_key
from medremind.web.state import web_state
from scheduler.appointment_times import differs, zone_city
from scheduler.appointments import record_appointment_reply
from scheduler.dose_answers import record_dose_answer

# What dose_events.answered_channel says for an answer given in the app or on its notification.
APP_CHANNEL = "web"
APPOINTMENT_DAYS = 60
# A dose still waiting for an answer stays on the day view this long after it fell due, across
# midnight: as long as typed answers on the chats are accepted, and a snooze (bot.routing,
# scheduler.dose_answers).
OPEN_DOSE_LOOKBACK = QUESTION_TTL
_ANSWERS = ("taken", "snoozed", "skipped")
_ACTIONS = ("confirm", "reschedule", "cancel")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


async def today(request: Request) -> Response:
    """Today's doses (in the patient's timezone), doses still open from the last
    ``OPEN_DOSE_LOOKBACK``, and the next appointments."""
    patient = await current_patient(request)
    state = web_state(request)
    now = state.clock()
    zone = _zone(patient.timezone)
    local_today = now.astimezone(zone).date()
    async with state.pool.acquire() as conn:
        doses = await conn.fetch(
            query("patient_app", "today_doses"),
            patient.patient_id,
            datetime.combine(local_today, time(0), tzinfo=zone),
            datetime.combine(local_today + timedelta(days=1), time(0), tzinfo=zone),
            now - OPEN_DOSE_LOOKBACK,
        )
        appointments = await conn.fetch(
            query("patient_app", "upcoming_appointments"),
            patient.patient_id,
            now - timedelta(hours=1),
            now + timedelta(days=APPOINTMENT_DAYS),
        )
    push_key = vapid_key(state.settings)
    return JSONResponse(
        {
            "patient": {"name": patient.display_name, "timezone": patient.timezone},
            "date": local_today.isoformat(),
            "doses": [_dose(row, zone, now, patient.locale) for row in doses],
            "appointments": [_appointment(row, zone) for row in appointments],
            "push_key": push_key.application_server_key if push_key else None,
        },
        headers={"Cache-Control": "no-store"},
    )


def _dose(row: Any, zone: ZoneInfo, now: datetime, locale: str) -> dict[str, Any]:
    snoozed = row["snoozed_until"]
    is_open = row["status"] in ("due", "snoozed", "missed")
    return {
        "id": str(row["id"]),
        # As the reminder names it: the set time where the clocks sprang over it (core.dose_times).
        "time": named_local(row["due_at"], zone, row["local_date"], row["local_time"]).strftime(
            "%H:%M"
        ),
        "medicine": row["name"],
        # A number alone as that many pills, in the patient's language, as their reminders and
        # /meds say it: "1" beside the name reads as the medicine's number (core.dose_shown).
        "dose": dose_shown(row["dose"], locale) if row["dose"] else row["dose"],
        "status": row["status"],
        "snoozed_until": snoozed.astimezone(zone).strftime("%H:%M") if snoozed else None,
        "open": is_open,
        # A dose not due yet may be reported taken or skipped ahead; a snooze would bring its
        # reminder forward (see answer_dose). One more than QUESTION_TTL past is refused too
        # (scheduler.dose_answers): its reminder would read as another day's. Nor while paused
        # (the patient, or the medicine): the pause withholds the reminder a snooze promises.
        "snoozable": is_open
        and row["remindable"]
        and row["due_at"] <= now <= row["due_at"] + QUESTION_TTL,
    }


def _appointment(row: Any, zone: ZoneInfo) -> dict[str, Any]:
    """A visit in the patient's zone; with ``clinic`` (its date, time and city) where the
    clinic's zone shows another wall clock then: the visit happens at the clinic's time."""
    local = row["starts_at"].astimezone(zone)
    visit: dict[str, Any] = {
        "id": str(row["id"]),
        "date": local.date().isoformat(),
        "time": local.strftime("%H:%M"),
        "location": row["location"],
        "clinician": row["clinician_name"],
        "status": row["status"],
    }
    clinic_zone = row["clinic_timezone"]
    if differs(row["starts_at"], str(zone), clinic_zone):
        there = row["starts_at"].astimezone(ZoneInfo(clinic_zone))
        visit["clinic"] = {
            "date": there.date().isoformat(),
            "time": there.strftime("%H:%M"),
            "zone": zone_city(clinic_zone, "en"),
        }
    return visit


async def answer_dose(request: Request) -> Response:
    """``{"answer": "taken" | "snoozed" | "skipped", "minutes": 15}`` for one of today's doses."""
    patient = await current_patient(request)
    dose_id = path_uuid(request, "dose_id", "dose")
    body = await json_body(request)
    if not isinstance(body, dict):
        raise ValidationFailed("body", "must be a JSON object")
    answer = body.get("answer")
    if answer not in _ANSWERS:
        raise ValidationFailed("answer", "must be one of " + ", ".join(_ANSWERS))
    minutes = body.get("minutes", DEFAULT_SNOOZE_MINUTES)
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= 720:
        raise ValidationFailed("minutes", "must be a whole number of minutes from 1 to 720")
    if answer == "snoozed":
        await _refuse_snooze_before_due(request, dose_id, patient.patient_id, patient.timezone)
    result = await record_dose(request, dose_id, answer, minutes, patient.patient_id)
    return JSONResponse(result)


async def _refuse_snooze_before_due(
    request: Request, dose_id: UUID, patient_id: UUID, timezone: str
) -> None:
    """409 for a snooze of a dose not due yet: it would move the dose's reminder forward (at
    12:00, "snooze 15 min" of the 17:00 dose reminded it at 12:15)."""
    state = web_state(request)
    due_at = await state.pool.fetchval(query("patient_app", "dose_due_at"), dose_id, patient_id)
    if due_at is not None and due_at > state.clock():
        at = due_at.astimezone(_zone(timezone)).strftime("%H:%M")
        raise ApiError(409, f"this dose is not due yet: it is reminded at {at}")


async def record_dose(
    request: Request, dose_id: UUID, answer: str, minutes: int, patient_id: UUID
) -> dict[str, Any]:
    """Record a dose answer of ``patient_id``; 404 for another patient's or an unknown dose."""
    state = web_state(request)
    async with state.pool.acquire() as conn:
        try:
            result = await record_dose_answer(
                conn,
                dose_id,
                answer,  # type: ignore[arg-type]
                channel=APP_CHANNEL,
                at=state.clock(),
                snooze_minutes=minutes if answer == "snoozed" else None,
                patient_id=patient_id,
            )
        except LookupError:
            raise ApiError(404, "dose not found") from None
    if result.too_late:
        # Nothing changed: a reminder this long after the dose's time reads as another day's.
        hours = int(QUESTION_TTL.total_seconds() // 3600)
        raise ApiError(
            409,
            f"too late to snooze this dose: its time is more than {hours} hours past;"
            " answer taken or skipped instead",
        )
    if result.stopped:
        # Nothing changed: the pause withholds the reminder a snooze would promise.
        raise ApiError(
            409,
            "no reminder would come back for this dose: your reminders or its medicine are"
            " paused; resume them, or answer taken or skipped instead",
        )
    return {
        "dose": str(dose_id),
        "status": str(result.status),
        "already_answered": result.already_answered,
        "snoozed_until": result.snoozed_until.isoformat() if result.snoozed_until else None,
    }


async def answer_appointment(request: Request) -> Response:
    """``{"action": "confirm" | "reschedule" | "cancel"}`` for an upcoming appointment."""
    patient = await current_patient(request)
    appointment_id = path_uuid(request, "appointment_id", "appointment")
    body = await json_body(request)
    action = body.get("action") if isinstance(body, dict) else None
    if action not in _ACTIONS:
        raise ValidationFailed("action", "must be one of " + ", ".join(_ACTIONS))
    status = await record_appointment(request, appointment_id, action, patient.patient_id)
    return JSONResponse({"appointment": str(appointment_id), "status": status})


async def record_appointment(
    request: Request, appointment_id: UUID, action: str, patient_id: UUID
) -> str:
    """Record an appointment answer of ``patient_id``; 404 for anyone else's."""
    state = web_state(request)
    async with state.pool.acquire() as conn:
        owner = await conn.fetchval(
            query("patient_app", "patient_appointment"), appointment_id, patient_id
        )
        if owner is None:
            raise ApiError(404, "appointment not found")
        status = await record_appointment_reply(
            conn,
            appointment_id,
            action,  # type: ignore[arg-type]
            state.clock(),
        )
    return str(getattr(status, "value", status))
