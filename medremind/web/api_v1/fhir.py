"""FHIR R4 imports: ``POST /api/v1/fhir/MedicationRequest`` and ``POST /api/v1/fhir/Appointment``.

A ``MedicationRequest`` becomes a medication and a reminder schedule: its one dosage instruction's
``dosageInstruction[0].timing`` goes through ``scheduler.fhir_timing.recurrence_from_timing``,
which refuses (rather than guesses) any timing a schedule cannot represent exactly; the 422 then
names the element by its path in the resource. An ``Appointment`` is booked, rescheduled (same
``id`` imported again with a new ``start``) or cancelled (``status: cancelled``).

``subject.reference`` / ``participant[].actor.reference`` are ``Patient/<id>`` where ``<id>`` is
our patient id or the patient's ``external_id`` in the caller's organization; an absolute
reference (``https://ehr.example.org/fhir/Patient/<id>``, as EHRs export them) and a version
(``.../_history/2``) are read as that relative one.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import asyncpg
from fastapi import Body
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt

from core.logs import mark_sensitive
from core.one_line import line_break_problem
from core.person_names import is_visible, without_direction_scopes
from core.sql import query
from medremind.web.api_v1 import planning
from medremind.web.api_v1.appointments import (
    Appointment,
    appointment_json,
    book,
    change,
    current_appointment,
)
from medremind.web.api_v1.common import Org, State
from medremind.web.api_v1.fields import (
    NOTHING_VISIBLE,
    IsoDateTime,
    checked,
    directions_closed,
    not_past,
    visible,
)
from medremind.web.api_v1.idempotency import Idempotency, Idempotent
from medremind.web.api_v1.medication_hold import ON_HOLD, hold, resume
from medremind.web.api_v1.medication_stop import STOPPED, MedicationStopped, stop_imported
from medremind.web.api_v1.models import BODY_ERRORS, CONFLICT, NOT_FOUND
from medremind.web.api_v1.routing import router as new_router
from medremind.web.errors import AlreadyThere, ApiError, NotFound, ValidationFailed
from medremind.web.state import WebState
from scheduler.planner import replan_schedule
from scheduler.planning_peaks import PeakCapacity

router = new_router("fhir")

_TIMING_PATH = "dosageInstruction[0].timing"
_NOT_YET = frozenset({"draft", "on-hold"})
# MedicationRequest.status codes (R4, and R5's "ended"); "unknown" is imported as active, as a
# request without status is.
_STATUSES = (*sorted(STOPPED), *sorted(_NOT_YET), "active", "unknown")
_BOOKABLE = frozenset({"proposed", "pending", "booked"})
FHIR_JSON = "application/fhir+json"


class FhirElement(BaseModel):
    """A FHIR element: the parts we read are typed; everything else is kept as sent."""

    model_config = ConfigDict(extra="allow")


class FhirReference(FhirElement):
    reference: str | None = Field(None, description="Patient/<our id or your external id>")
    display: str | None = None


class FhirDosage(FhirElement):
    timing: dict[str, Any] = Field(description="A FHIR Timing: the reminder schedule")
    text: str | None = None


# A resource's id in the clinic's system, kept as the row's external_id.
FhirId = Annotated[
    str,
    Field(min_length=1, max_length=64),
    AfterValidator(directions_closed),
    AfterValidator(visible),
]


class FhirMedicationRequest(FhirElement):
    """FHIR R4 MedicationRequest; dosageInstruction[0].timing is the schedule (one dosage
    instruction: another that differs is a 422). `id` is kept as the medicine's external_id:
    importing the same id again is a 409 naming the medicine."""

    resourceType: Literal["MedicationRequest"]
    id: FhirId | None = None
    status: str | None = Field(
        None,
        description="active (or none, or unknown): imported, or resumed after on-hold; on-hold:"
        " paused; stopped, cancelled, completed, entered-in-error, ended: stopped; draft: refused",
    )
    subject: FhirReference
    medicationCodeableConcept: dict[str, Any] = Field(
        description="`text`, or the `display` of its first coding, names the medicine"
    )
    dosageInstruction: Annotated[list[FhirDosage], Field(min_length=1)]


class MedicationSchedule(BaseModel):
    times_of_day: list[str]
    days_of_week: list[int] | None = None
    every_n_days: int | None = None
    start_date: str
    end_date: str | None = None
    max_count: int | None = None
    timezone: str | None = None


class MedicationImported(BaseModel):
    medication_id: uuid.UUID
    schedule_id: uuid.UUID
    patient_id: uuid.UUID
    name: str
    dose: str | None = None
    schedule: MedicationSchedule


class FhirParticipant(FhirElement):
    actor: FhirReference


class FhirAppointment(FhirElement):
    """FHIR R4 Appointment. `id` is kept as external_id: importing the same id again
    reschedules, status cancelled cancels."""

    resourceType: Literal["Appointment"]
    id: FhirId | None = None
    status: Literal["proposed", "pending", "booked", "cancelled"]
    start: IsoDateTime | None = None
    end: IsoDateTime | None = None
    minutesDuration: Annotated[StrictInt, Field(ge=1, le=1440)] | None = None
    participant: Annotated[list[FhirParticipant], Field(min_length=1)]


# A literal reference's server base and version (FHIR R4 Reference.reference may be absolute).
_BASE = re.compile(r"^https?://\S+?/(?=(?:Patient|Practitioner|PractitionerRole|Location)/[^/]+)")
_VERSION = re.compile(r"/_history/[^/]+$")


def relative_reference(reference: Any) -> Any:
    """``Type/<id>`` of an absolute or versioned reference; anything else as it is."""
    if not isinstance(reference, str):
        return reference
    return _VERSION.sub("", _BASE.sub("", reference.strip()))


def _both_media(model: str) -> dict[str, Any]:
    # FastAPI documents one media type per body; FHIR clients send either.
    schema = {"$ref": f"#/components/schemas/{model}"}
    return {"requestBody": {"content": {"application/json": {"schema": schema}}}}


async def _patient(
    conn: asyncpg.Connection, org_id: uuid.UUID, reference: Any, field: str
) -> asyncpg.Record:
    reference = relative_reference(reference)
    if not isinstance(reference, str) or not reference.startswith("Patient/"):
        raise ValidationFailed(
            field, "must be a reference of the form Patient/<id> (or <FHIR base>/Patient/<id>)"
        )
    ident = reference.removeprefix("Patient/")
    row = None
    with contextlib.suppress(ValueError):
        row = await conn.fetchrow(query("web", "get_patient"), uuid.UUID(ident), org_id)
    if row is None and ident:
        row = await conn.fetchrow(
            "select * from patients where organization_id = $1 and external_id = $2"
            " and status <> 'deleted'",
            org_id,
            ident,
        )
    if row is None:
        raise ValidationFailed(field, "no such patient in your organization")
    return row


def _medication_name(resource: Mapping[str, Any]) -> str:
    concept = resource.get("medicationCodeableConcept")
    field = "medicationCodeableConcept.text"
    if not isinstance(concept, Mapping):
        raise ValidationFailed("medicationCodeableConcept", "is required (with text)")
    name = concept.get("text")
    if name is None:
        codings = concept.get("coding")
        if isinstance(codings, list) and codings and isinstance(codings[0], Mapping):
            name = codings[0].get("display")
    # Direction controls with a scope go, as the bot and the database drop them: left in, one
    # reversed the rest of every line the name is filled into.
    name = without_direction_scopes(name).strip() if isinstance(name, str) else None
    if not name:
        raise ValidationFailed(field, "is required")
    if not is_visible(name):
        raise ValidationFailed(field, NOTHING_VISIBLE)
    broken = line_break_problem(name)
    if broken is not None:
        raise ValidationFailed(field, broken)
    checked(name, field, "medicine_name")
    return name


def _dose(dosage: Mapping[str, Any]) -> str | None:
    rates = dosage.get("doseAndRate")
    if isinstance(rates, list) and rates and isinstance(rates[0], Mapping):
        quantity = rates[0].get("doseQuantity")
        if isinstance(quantity, Mapping) and isinstance(quantity.get("value"), int | float):
            unit = quantity.get("unit") or quantity.get("code") or ""
            field = "dosageInstruction[0].doseAndRate[0].doseQuantity"
            return _one_line_dose(f"{quantity['value']:g} {unit}", field)
    text = dosage.get("text")
    if not isinstance(text, str) or not text.strip():
        return None
    return _one_line_dose(without_direction_scopes(text), "dosageInstruction[0].text")


def _one_line_dose(text: str, field: str) -> str:
    """A dose as it fills one line of a reminder: an EHR's line breaks are spaces (a dosage
    text wraps in the record it came from), another control character is refused, naming
    ``field`` (the database refuses it too, medications_dose_one_line)."""
    dose = " ".join(text.split())
    broken = line_break_problem(dose)
    if broken is not None:
        raise ValidationFailed(field, broken)
    checked(dose, field, "dose_text")
    return dose


def _patient_times(patient: Mapping[str, Any]) -> Any:
    from scheduler.fhir_timing import PatientDayTimes

    return PatientDayTimes(
        wake=patient["wake_time"],
        breakfast=patient["breakfast_time"],
        lunch=patient["lunch_time"],
        dinner=patient["dinner_time"],
        sleep=patient["sleep_time"],
    )


async def _new_medication(
    conn: asyncpg.Connection,
    org_id: uuid.UUID,
    patient_id: uuid.UUID,
    name: str,
    dose: str | None,
    external_id: str | None,
    existing: asyncpg.Record | None,
) -> uuid.UUID:
    """The medicine of a MedicationRequest; its ``id`` imported before (``existing``, the
    patient's live medicine of it) is a 409 naming the medicine made then (a second one
    reminded the patient of every dose twice), or a 422 when another patient's medicine has it."""
    if existing is None:
        try:
            async with conn.transaction():  # a savepoint: the 409 below reads after it
                medication: uuid.UUID = await conn.fetchval(
                    query("web", "insert_medication"), patient_id, name, dose, external_id
                )
                return medication
        except asyncpg.UniqueViolationError:  # the same request imported at the same moment
            existing = await conn.fetchrow(
                query("web", "medication_by_external_id"), org_id, external_id
            )
            assert existing is not None
    if existing["patient_id"] != patient_id:
        raise ValidationFailed("id", "this MedicationRequest id belongs to another patient")
    raise AlreadyThere(
        "this MedicationRequest was imported already (error.existing_id is its medicine):"
        " importing it again would remind the patient of every dose twice. To change the"
        " prescription, stop it (this id with status stopped) and import the new request;"
        " on-hold pauses it, active again resumes it",
        field="id",
        existing=existing["id"],
        location=f"/api/v1/patients/{patient_id}/medications",
    )


def _timing_field(error_field: str) -> str:
    # TimingError paths start at "Timing"; the client wrote it under dosageInstruction[0].timing.
    return _TIMING_PATH + error_field.removeprefix("Timing")


@router.post(
    "/fhir/MedicationRequest",
    status_code=201,
    response_model=MedicationImported | MedicationStopped,
    summary="Import a FHIR MedicationRequest as a medication and schedule; stop, pause, resume it",
    operation_id="importMedicationRequest",
    responses={
        **BODY_ERRORS,
        **CONFLICT,
        **NOT_FOUND,
        200: {
            "model": MedicationStopped,
            "description": "Stopped (status stopped, cancelled, completed or entered-in-error),"
            " paused (on-hold) or resumed (active again after on-hold)",
        },
    },
    openapi_extra=_both_media("FhirMedicationRequest"),
)
async def import_medication_request(
    body: Annotated[FhirMedicationRequest, Body(media_type=FHIR_JSON)],
    org_id: Org,
    state: State,
    once: Idempotent,
) -> Any:
    """A medication and its reminder schedule, planned at once (201); or, with `status`
    stopped, cancelled, completed or entered-in-error and the `id` it was imported with, that
    medicine stopped: its pending reminders cancelled, nothing sent after (200). `on-hold`
    with that `id` pauses it (its open doses' reminders cancelled, nothing planned), `active`
    again resumes it (200)."""
    from scheduler.fhir_timing import TimingError, recurrence_from_timing

    resource = body.model_dump(exclude_unset=True)
    status = resource.get("status")
    if status is not None and status not in _STATUSES:
        # A typo ("activ", "onhold") was imported as active: the EHR meant something else.
        raise ValidationFailed(
            "status", f"{status!r} is no MedicationRequest status; one of {', '.join(_STATUSES)}"
        )
    if status in STOPPED:
        return await _stop(body, org_id, state, once, status)
    if status == ON_HOLD and body.id and body.id.strip():
        return await _hold(body, org_id, state, once)
    if status in _NOT_YET:
        raise _not_yet(status)
    name = _medication_name(resource)
    mark_sensitive(name)
    dosage = _one_dosage(resource["dosageInstruction"])
    timing = dosage["timing"]
    dose = _dose(dosage)
    reference = body.subject.reference
    external_id = body.id.strip() if body.id and body.id.strip() else None
    now = state.clock()

    async def work(conn: asyncpg.Connection) -> tuple[int, Any]:
        patient = await _patient(conn, org_id, reference, "subject.reference")
        existing = await _imported(conn, org_id, patient["id"], external_id)
        if existing is not None and existing["paused_by"] == "fhir":
            # Off hold in the EHR: the medicine resumes with the schedule it was imported with.
            # One the patient paused stays so (the EHR's sync resends every active request).
            return 200, await resume(conn, existing, status or "active", now, state.settings)
        today: date = now.astimezone(ZoneInfo(patient["timezone"])).date()
        try:
            rule = recurrence_from_timing(
                timing,
                timezone=patient["timezone"],
                start_date=today,
                patient_times=_patient_times(patient),
            )
        except TimingError as exc:
            raise ValidationFailed(_timing_field(exc.field), exc.reason) from None
        except ValueError as exc:
            raise ValidationFailed(_TIMING_PATH, str(exc)) from None
        medication_id = await _new_medication(
            conn, org_id, patient["id"], name, dose, external_id, existing
        )
        days = sorted(rule.days_of_week) if rule.days_of_week is not None else None
        schedule_id = await conn.fetchval(
            query("web", "insert_schedule"),
            medication_id,
            patient["id"],
            list(rule.times_of_day),
            days,
            rule.every_n_days,
            rule.start_date,
            rule.end_date,
            rule.max_count,
            # The patient's zone is implied (null), so 'follow' mode moves the schedule with them.
            None,
            dict(timing),
        )
        # Plan at once, so the first reminders exist before we answer (the tick would in a minute).
        await replan_schedule(
            conn,
            schedule_id,
            now,
            horizon=timedelta(hours=state.settings.planner_horizon_hours),
            capacity=PeakCapacity.from_settings(state.settings),
            default_quiet=(state.settings.quiet_hours_start, state.settings.quiet_hours_end),
        )
        return 201, {
            "medication_id": str(medication_id),
            "schedule_id": str(schedule_id),
            "patient_id": str(patient["id"]),
            "name": name,
            "dose": dose,
            "schedule": {
                "times_of_day": [t.isoformat() for t in rule.times_of_day],
                "days_of_week": days,
                "every_n_days": rule.every_n_days,
                "start_date": rule.start_date.isoformat(),
                "end_date": rule.end_date.isoformat() if rule.end_date else None,
                "max_count": rule.max_count,
                "timezone": rule.timezone,
            },
        }

    return await once.run(work)


def _one_dosage(dosages: list[dict[str, Any]]) -> dict[str, Any]:
    """The request's one dosage instruction: a medicine has one dose and one schedule here.

    A second one that differs (the evening's "2 tablets at 20:00" after the morning's "1 tablet
    at 08:00") was dropped without a word, and the patient was never reminded of it; it is a 422
    naming it. Copies of the first say nothing more, and are read as it.
    """
    for index, dosage in enumerate(dosages[1:], start=1):
        if dosage != dosages[0]:
            raise ValidationFailed(
                f"dosageInstruction[{index}]",
                "a medicine is imported with one dosage instruction, and reminding only the"
                " first would leave this one's doses out: when the dose is the same, give every"
                ' time in one timing (timeOfDay: ["08:00:00", "20:00:00"]); when it differs,'
                " send one MedicationRequest per dosage instruction, each with its own id",
            )
    return dosages[0]


def _not_yet(status: str) -> ValidationFailed:
    # Imported as active, these reminded the patient of a drug not (yet) to be taken.
    return ValidationFailed(
        "status",
        f"a request {status} is not to be taken yet, so nothing is reminded: import it"
        " when it is active",
    )


async def _imported(
    conn: asyncpg.Connection, org_id: uuid.UUID, patient_id: uuid.UUID, external_id: str | None
) -> asyncpg.Record | None:
    """The live medicine imported from ``external_id`` for the patient, or None; a 422 on
    ``id`` when another patient's medicine has it."""
    if external_id is None:
        return None
    row = await conn.fetchrow(query("web", "medication_by_external_id"), org_id, external_id)
    if row is not None and row["patient_id"] != patient_id:
        raise ValidationFailed("id", "this MedicationRequest id belongs to another patient")
    return row


async def _hold(
    body: FhirMedicationRequest, org_id: uuid.UUID, state: WebState, once: Idempotency
) -> Any:
    """An on-hold request: the medicine imported from its ``id`` pauses (200); never
    imported, the 422 of a request not to be taken yet."""
    external_id = body.id.strip() if body.id else None
    now = state.clock()

    async def work(conn: asyncpg.Connection) -> tuple[int, Any]:
        patient = await _patient(conn, org_id, body.subject.reference, "subject.reference")
        medicine = await _imported(conn, org_id, patient["id"], external_id)
        if medicine is None:
            raise _not_yet(ON_HOLD)
        return 200, await hold(conn, medicine, now, state.settings)

    return await once.run(work)


async def _stop(
    body: FhirMedicationRequest,
    org_id: uuid.UUID,
    state: WebState,
    once: Idempotency,
    status: str,
) -> Any:
    """A stopped (cancelled, completed, entered-in-error) request: its medicine stops."""
    external_id = body.id.strip() if body.id and body.id.strip() else None
    now = state.clock()

    async def work(conn: asyncpg.Connection) -> tuple[int, Any]:
        patient = await _patient(conn, org_id, body.subject.reference, "subject.reference")
        stopped = await stop_imported(
            conn, org_id, patient["id"], external_id, status, now, state.settings
        )
        return 200, stopped

    return await once.run(work)


def _participants(resource: Mapping[str, Any]) -> tuple[Any, str | None, str | None]:
    """(patient reference, clinician display, location display) from ``participant``."""
    participants = resource.get("participant")
    if not isinstance(participants, list) or not participants:
        raise ValidationFailed("participant", "must include the patient (actor Patient/<id>)")
    patient_ref = clinician = location = None
    for i, item in enumerate(participants):
        actor = item.get("actor") if isinstance(item, Mapping) else None
        if not isinstance(actor, Mapping):
            raise ValidationFailed(f"participant[{i}].actor", "is required")
        ref, display = relative_reference(actor.get("reference")), actor.get("display")
        stored = {"Location/": "location", "Practitioner/": "clinician_name"}
        for prefix, variable in stored.items():
            if isinstance(ref, str) and ref.startswith(prefix) and isinstance(display, str):
                # PractitionerRole/ starts with Practitioner too: the same clinician name.
                field = f"participant[{i}].actor.display"
                broken = line_break_problem(display.strip())
                if broken is not None:
                    raise ValidationFailed(field, broken)
                checked(display.strip(), field, variable)
        if isinstance(ref, str) and ref.startswith("Patient/"):
            patient_ref = patient_ref or ref
        elif isinstance(ref, str) and ref.startswith(("Practitioner/", "PractitionerRole/")):
            clinician = clinician or (display if isinstance(display, str) else None)
        elif isinstance(ref, str) and ref.startswith("Location/"):
            location = location or (display if isinstance(display, str) else None)
    if patient_ref is None:
        raise ValidationFailed("participant", "must include an actor Patient/<id>")
    return (
        patient_ref,
        (clinician or "").strip() or None,
        (location or "").strip() or None,
    )


def _duration(resource: Mapping[str, Any], start: datetime) -> int | None:
    minutes = resource.get("minutesDuration")
    if minutes is not None:
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= 1440:
            raise ValidationFailed("minutesDuration", "must be an integer between 1 and 1440")
        return minutes
    end = resource.get("end")
    if end is not None:
        span = int((end - start).total_seconds() // 60)
        if not 1 <= span <= 1440:
            raise ValidationFailed("end", "must be 1 minute to 24 hours after start")
        return span
    return None


@router.post(
    "/fhir/Appointment",
    response_model=Appointment,
    summary="Import a FHIR Appointment: book, reschedule or cancel",
    operation_id="importAppointment",
    responses={
        **BODY_ERRORS,
        **NOT_FOUND,
        **CONFLICT,
        201: {"model": Appointment, "description": "Booked"},
    },
    openapi_extra=_both_media("FhirAppointment"),
)
async def import_appointment(
    body: Annotated[FhirAppointment, Body(media_type=FHIR_JSON)],
    org_id: Org,
    state: State,
    once: Idempotent,
) -> Any:
    """Booked (201), or rescheduled or cancelled (200): the same `id` again with a new `start`
    reschedules, `status: cancelled` cancels."""
    resource = body.model_dump(exclude_unset=True)
    status = body.status
    external_id = body.id.strip() if body.id and body.id.strip() else None
    patient_ref, clinician, location = _participants(resource)
    mark_sensitive(clinician, location)
    now = state.clock()
    if body.start is None and status != "cancelled":
        raise ValidationFailed("start", "is required")
    start = not_past(body.start, "start", now)
    duration = _duration(resource, start) if start is not None else None
    info = {"duration_minutes": duration, "location": location, "clinician_name": clinician}

    async def work(conn: asyncpg.Connection) -> tuple[int, Any]:
        patient = await _patient(conn, org_id, patient_ref, "participant.actor.reference")
        existing = (
            await conn.fetchrow(query("web", "appointment_by_external_id"), org_id, external_id)
            if external_id
            else None
        )
        if existing is not None and existing["patient_id"] != patient["id"]:
            raise ValidationFailed("id", "this Appointment id belongs to another patient")
        if status == "cancelled":
            if existing is None:
                raise NotFound("appointment")
            if existing["status"] != "cancelled":
                await planning.cancelled(conn, existing["id"], now)
            row = await conn.fetchrow(query("web", "get_appointment"), existing["id"], org_id)
            return 200, appointment_json(row)
        assert start is not None
        if existing is not None:
            if existing["status"] in ("cancelled", "completed", "no_show"):
                raise ApiError(409, f"the appointment is {existing['status']}", field="id")
            row = await change(conn, org_id, existing["id"], start, info, now, start_field="start")
            return 200, appointment_json(row)
        row = await book(
            conn, org_id, patient["id"], start, info, external_id, now, start_field="start"
        )
        row = await conn.fetchrow(query("web", "get_appointment"), row["id"], org_id)
        return 201, appointment_json(row)

    return await once.run(work, current_appointment(org_id))
