"""The patient's own settings in the app: pause, medicine names, quiet hours, delete me.

Each goes through the code every channel uses: pausing withdraws what is pending
(:func:`scheduler.holds.pause_reminders`), resuming re-plans from now, deleting erases the record
as the bot's /delete_me does (``erase_patient``: a clinic keeps a tombstone; the app's sessions go
with it). A pause may end by itself, as "/pause 3 days" or "/pause until 3/15" does in the bot
(:mod:`medremind.web.pause_choice`, the same rule): ``pause_days`` or ``pause_until`` (a day in
the patient's zone); the app offered only a pause until resumed. One ending more than 31 days
ahead is confirmed first (``pause_long``: :mod:`medremind.web.patient_app.pause_far`).
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.dialogs.account import ERASED_BY_PATIENT
from bot.pause_end import local_today, pause_zone
from core.quiet_windows import has_no_length
from core.settings import Settings
from core.sql import query
from medremind.web.api_v1.common import json_body
from medremind.web.errors import ValidationFailed
from medremind.web.patient_app.pause_far import CONFIRM_FIELD, confirm_far_pause
from medremind.web.patient_app.sessions import clear_session_cookie, current_patient
from medremind.web.pause_choice import pause_end
from medremind.web.state import web_state
from scheduler.holds import pause_reminders, resume_reminders
from scheduler.planning_peaks import PeakCapacity

DELETE_CONFIRMATION = "DELETE"
SETTINGS = frozenset(
    {
        "paused",
        "pause_days",
        "pause_until",
        CONFIRM_FIELD,
        "name_medicine",
        "quiet_start",
        "quiet_end",
    }
)
# "22:00 to 22:00" is refused in the patient's language (core/quiet_windows.py): taken as "off",
# it gave reminders at any hour to a patient who meant a night or a whole quiet day.
_NO_LENGTH = {
    "en": "From {time} to {time} is no time at all: choose an end different from the start, such"
    " as 22:00 to 07:00. For no quiet hours choose 00:00 to 00:00; for the usual ones leave both"
    " empty.",
    "es": "De {time} a {time} no hay tiempo: elige un final distinto del comienzo, como de 22:00"
    " a 07:00. Para no tener horas de silencio elige de 00:00 a 00:00; para las habituales deja"
    " las dos vacías.",
}


def _clock_time(value: object, field: str) -> time | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        raise ValidationFailed(field, "must be a time of day such as 21:30, or null")
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(field, "must be a time of day from 00:00 to 23:59") from None


def _view(row: Any, settings: Settings, now: datetime) -> dict[str, Any]:
    """The settings as the app shows them. ``quiet_default_*``: the quiet hours that apply while
    the patient sets none (their clinic's, else the service's), so that empty fields do not
    read as "no quiet hours". ``paused_until``: when a pause set with a length or an end date
    ends by itself (ISO 8601, UTC; null: open-ended or not paused), shown in ``timezone`` (the
    patient's, where an end date is read); ``today``: their date there (an end date must come
    after it)."""

    def hhmm(value: time | None) -> str | None:
        return value.strftime("%H:%M") if value is not None else None

    clinic = row["default_quiet_start"] is not None and row["default_quiet_end"] is not None
    zone = pause_zone(row["timezone"])
    return {
        "paused": row["reminders_paused"],
        "paused_until": until.isoformat() if (until := row["reminders_paused_until"]) else None,
        "timezone": zone.key,
        "today": local_today(now, zone).isoformat(),
        "name_medicine": row["name_medicine_in_reminders"],
        "quiet_start": hhmm(row["quiet_start"]),
        "quiet_end": hhmm(row["quiet_end"]),
        "quiet_default_start": hhmm(
            row["default_quiet_start"] if clinic else settings.quiet_hours_start
        ),
        "quiet_default_end": hhmm(row["default_quiet_end"] if clinic else settings.quiet_hours_end),
    }


async def get_settings(request: Request) -> Response:
    """The patient's settings."""
    patient = await current_patient(request)
    state = web_state(request)
    row = await state.pool.fetchrow(query("patient_app", "patient_settings"), patient.patient_id)
    return JSONResponse(
        _view(row, state.settings, state.clock()), headers={"Cache-Control": "no-store"}
    )


async def update_settings(request: Request) -> Response:
    """Change any of ``paused`` (with ``pause_days`` or ``pause_until``: when it ends, and
    ``pause_long`` true when that is more than 31 days ahead),
    ``name_medicine``, ``quiet_start``+``quiet_end``."""
    patient = await current_patient(request)
    body = await json_body(request)
    if not isinstance(body, dict):
        raise ValidationFailed("body", "must be a JSON object")
    unknown = set(body) - SETTINGS
    if unknown:
        raise ValidationFailed(sorted(unknown)[0], "is not a setting")
    for flag in ("paused", "name_medicine", CONFIRM_FIELD):
        if flag in body and not isinstance(body[flag], bool):
            raise ValidationFailed(flag, "must be true or false")
    quiet = None
    if "quiet_start" in body or "quiet_end" in body:
        start = _clock_time(body.get("quiet_start"), "quiet_start")
        end = _clock_time(body.get("quiet_end"), "quiet_end")
        if (start is None) != (end is None):
            raise ValidationFailed("quiet_end", "give both ends of the quiet hours, or neither")
        if start is not None and end is not None and has_no_length(start, end):
            text = _NO_LENGTH.get(patient.locale[:2], _NO_LENGTH["en"])
            raise ValidationFailed("quiet_end", text.format(time=start.strftime("%H:%M")))
        quiet = (start, end)
    state = web_state(request)
    settings = state.settings
    now = state.clock()
    async with state.pool.acquire() as conn, conn.transaction():
        current = await conn.fetchrow(query("patient_app", "patient_settings"), patient.patient_id)
        picked, until = pause_end(body, current["timezone"], now)
        if picked:
            # More than 31 days ahead: asked first, as the bot asks (nothing is changed yet).
            confirm_far_pause(
                body, until, zone_name=current["timezone"], locale=patient.locale[:2], now=now
            )
        if "name_medicine" in body:
            await conn.execute(
                query("patient_app", "set_name_medicine"), patient.patient_id, body["name_medicine"]
            )
        if quiet is not None:
            await conn.execute(query("patient_app", "set_quiet_hours"), patient.patient_id, *quiet)
        if body.get("paused") is True and (picked or not current["reminders_paused"]):
            # A new pause, or a new end of this one (as a second /pause replaces it).
            await pause_reminders(conn, patient.patient_id, now, until=until)
        elif body.get("paused") is False and current["reminders_paused"]:
            await resume_reminders(
                conn,
                patient.patient_id,
                now,
                default_quiet=(settings.quiet_hours_start, settings.quiet_hours_end),
                capacity=PeakCapacity.from_settings(settings),
            )
        row = await conn.fetchrow(query("patient_app", "patient_settings"), patient.patient_id)
    return JSONResponse(_view(row, settings, now))


async def delete_me(request: Request) -> Response:
    """Erase the patient's record (``{"confirm": "DELETE"}``), as the bot's /delete_me does."""
    patient = await current_patient(request)
    body = await json_body(request)
    if not isinstance(body, dict) or body.get("confirm") != DELETE_CONFIRMATION:
        raise ValidationFailed("confirm", f"type {DELETE_CONFIRMATION} to confirm")
    state = web_state(request)
    await state.pool.execute(
        query("bot", "erase_patient"), patient.patient_id, ERASED_BY_PATIENT, state.clock()
    )
    response = JSONResponse({"status": "deleted"})
    clear_session_cookie(request, response)
    return response
