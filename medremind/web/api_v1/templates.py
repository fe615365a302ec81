"""``/api/v1/templates``: the clinic's own message templates, validated before they are saved.

A template is plain text with ``{{ variable }}`` placeholders, a few filters and ``{% if %}``
(:mod:`core.template_language`), rendered by the worker in Jinja2's sandbox. Saving one checks it
with :meth:`core.templating.TemplateRenderer.validate_custom` without running it: syntax, unknown
variables, anything outside the language (loops, arithmetic, ``self``, ``name.upper``, calls,
``replace('', ...)``), and its worst-case length (every variable at its longest, UCS-2 on SMS, plus
the kind's numbered answers) against the channel's limit (for ``default``, against SMS, WhatsApp
and Telegram, since a default version may go out on any of them). The variables a template may
use depend on its kind (:data:`scheduler.custom_templates.ALLOWED_VARIABLES`): every kind has
``patient_name``, ``clinic_name`` and ``due_at`` (plus ``locale`` and ``timezone``); medication
kinds add ``medicine_name`` and ``dose_text`` (``medicine_name`` reads "your medicine" unless the
patient opted in to naming it); the reminder, follow-up and caregiver alert add
``medicine_number`` (which dose, by its number in the patient's /meds list, where the patient has
several active medicines; empty otherwise) and ``due_day`` (the dose's day, "Wed, March 4", when
the message goes out on another date than its dose's where the patient lives; empty otherwise);
appointment kinds add ``starts_at``, ``location`` and
``clinician_name``, and, for a patient whose zone shows another wall clock than the clinic's at
the appointment, ``clinic_zone`` (the clinic zone's city), ``your_time`` and ``your_day`` (the
patient's time, and day when it is another; all three empty otherwise): a template naming any of
them shows ``starts_at`` at the clinic; ``missed_dose_caregiver`` adds ``caregiver_name``;
``caregiver_dose_update`` has the alert's and ``answered_at``.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import asyncpg
from fastapi import Path, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StrictBool

from core import template_language as language
from core.direction_controls import unclosed_direction_control
from core.logs import mark_sensitive
from core.one_line import line_break_problem
from core.person_names import is_visible
from core.sql import query
from core.templating import KINDS, TemplateRenderer, count_segments
from medremind.web.api_v1.common import AdminOrg, Org, State, acting, row_dict
from medremind.web.api_v1.fields import CHANNELS, Locale, Trimmed
from medremind.web.api_v1.models import (
    ADMIN_ONLY,
    BODY_ERRORS,
    CONFLICT,
    NOT_FOUND,
    DataList,
    Error,
    RequestModel,
)
from medremind.web.api_v1.routing import router as new_router
from medremind.web.errors import ApiError, NotFound, ValidationFailed, error_body
from medremind.web.state import WebState
from scheduler.custom_templates import AUTOMATIC_KINDS, GENERIC_MEDICINE, allowed_variables

router = new_router("templates")

MAX_BODY_LENGTH = 10_000  # the table's check constraint
MAX_NAME_LENGTH = 100
MAX_SUBJECT_LENGTH = 200
TEMPLATE_CHANNELS = ("default", *CHANNELS)
# A default version may be sent on any channel: its length is checked against the strict ones.
_DEFAULT_CHECKED = ("sms", "whatsapp", "telegram")
TEMPLATE_KINDS = (*KINDS, "system")
OUTPUT_FIELDS = (
    "id",
    "name",
    "kind",
    "automatic",
    "locale",
    "channel",
    "body",
    "subject",
    "created_at",
    "updated_at",
)
TemplateChannel = Literal[TEMPLATE_CHANNELS]  # type: ignore[valid-type]
TemplateKind = Literal[TEMPLATE_KINDS]  # type: ignore[valid-type]
_LANGUAGE_DOC = (
    "Plain text with `{{ variable }}` placeholders and `{% if %}`/`{% elif %}`/`{% else %}`, "
    "checked without running it and rendered in a Jinja2 sandbox. Variables by kind: every kind "
    "has `patient_name`, `clinic_name`, `due_at` (and `locale`, `timezone`); "
    'medication_reminder, dose_followup, refill_reminder add `medicine_name` ("your medicine" '
    "unless the patient opted in to naming it) and `dose_text`; missed_dose_caregiver adds those "
    "and `caregiver_name`; medication_reminder, dose_followup and missed_dose_caregiver add "
    "`medicine_number` (the dose's medicine by its number in the patient's /meds list where the "
    "patient has several active medicines, so two doses due at once read apart; empty otherwise: "
    "`{% if medicine_number %} of medicine {{ medicine_number }}{% endif %}`); "
    "medication_reminder, dose_followup and missed_dose_caregiver add `due_day` (the dose's day, "
    '"Wed, March 4", when the message goes out on another date than its dose\'s where the patient '
    "lives, a snooze, a nag or an alert past midnight; empty otherwise: "
    "`{% if due_day %} on {{ due_day }}{% endif %}`); "
    "caregiver_dose_update (a caregiver's alert followed by the patient's late Taken) has "
    "missed_dose_caregiver's and `answered_at` (when the patient answered); "
    "appointment_* kinds add `starts_at`, `location`, `clinician_name`, and `clinic_zone`, "
    "`your_time`, `your_day` for a patient whose zone shows another wall clock than the "
    "clinic's then (the clinic zone's city, \"Madrid\"; the patient's time; their day when it is "
    "another; all empty otherwise): a template naming any of them shows `starts_at` at the "
    "clinic, `{{ starts_at|time }}{% if clinic_zone %} {{ clinic_zone }} time ({{ your_time }}"
    "{% if your_day %} {{ your_day }}{% endif %} your time){% endif %}`; one naming none shows "
    "it in the patient's zone. "
    "Filters, with literal arguments: upper, lower, capitalize, title, trim, default (d), "
    "truncate, replace (non-empty text to find); on `due_at`/`starts_at`: time (short, medium), "
    "date (short, medium, long, full), datetime (short, medium), weekday, hour_article (short, "
    "medium: Spanish's article for that time, `de {{ due_at|hour_article }} {{ due_at|time }}` "
    'reads "de la 1:00", "de las 9:00"). Expressions: `~`, '
    "`x if c else y`, ==, !=, in, not in, and, or, not, `is defined`/`undefined`/`none`. Refused: "
    "loops, `{% set %}`, macros, includes, arithmetic, attribute and item access, calls, `self`. "
    "Length is checked in the worst case: each variable at its longest ("
    + ", ".join(
        f"{name} {variable.max_units}"
        for name, variable in language.VARIABLES.items()
        if variable.kind == language.TEXT
    )
    + " characters; longer values are shortened when filled in), UCS-2 on SMS, plus the kind's "
    "numbered answers on SMS and WhatsApp."
)
Source = Annotated[str, Field(max_length=MAX_BODY_LENGTH, description=_LANGUAGE_DOC)]
Subject = Annotated[str, Trimmed, Field(min_length=1, max_length=MAX_SUBJECT_LENGTH)]
TemplateName = Annotated[
    str,
    Path(
        min_length=1,
        max_length=MAX_NAME_LENGTH,
        description="Printable characters, not only spaces",
    ),
]


class TemplateValidate(RequestModel):
    body: Source
    channel: TemplateChannel = "default"
    kind: TemplateKind = "free_text"
    subject: Subject | None = None


class TemplatePut(TemplateValidate):
    """One version of a template, by locale and channel; validated on save."""

    locale: Locale = "en"
    automatic: StrictBool = Field(
        False,
        description=(
            "The clinic's text for every automatic message of this kind (the planner's "
            "reminders, confirmations and notices) to patients of this locale on this channel "
            "('default': any). At most one version per kind, locale and channel: saving one "
            "takes the place from another template's. Patients of other languages, and a "
            "message this text cannot be sent as, get the built-in text (docs/templates.md)."
        ),
    )


class TemplateRename(RequestModel):
    """A template, by its name as stored, and the new name of every one of its versions."""

    # As stored: a name saved on two lines before the one-line rule is found by it (a path
    # cannot carry it: the API's mount does not match a line break), so it is in the body.
    name: str = Field(min_length=1, max_length=1000, description="The name as stored")
    new_name: str = Field(
        min_length=1,
        max_length=MAX_NAME_LENGTH,
        description="Printable characters on one line, not only spaces; no other template's",
    )


class TemplateValidation(BaseModel):
    ok: bool
    problems: list[str]
    preview: str | None = Field(
        None, description="Rendered with sample values (only a template that can be saved)."
    )
    length: int | None = None
    segments: int | None = Field(None, description="SMS segments")
    encoding: Literal["GSM-7", "UCS-2"] | None = None
    allowed_variables: list[str]


class TemplateRejected(Error):
    """422 from validate: every problem, each naming its line."""

    ok: bool
    problems: list[str]
    allowed_variables: list[str]


class Template(BaseModel):
    id: uuid.UUID
    name: str
    kind: str
    automatic: bool
    locale: str
    channel: TemplateChannel
    body: str
    subject: str | None = None
    created_at: datetime
    updated_at: datetime


# Realistic, longish samples, so a template that fits with them fits with most real values.
_SAMPLES: dict[str, Any] = {
    "patient_name": "Alexandra Example",
    "clinic_name": "Riverside Family Clinic",
    "due_at": datetime(2025, 1, 15, 20, 0, tzinfo=UTC),
    "starts_at": datetime(2025, 1, 16, 9, 30, tzinfo=UTC),
    "location": "Room 12, second floor",
    "clinician_name": "Dr Sample Clinician",
    "medicine_name": GENERIC_MEDICINE["en"],
    "dose_text": "500 mg",
    "medicine_number": "2",
    "due_day": "Wed, January 15",
    # starts_at (09:30 UTC) at a clinic in London and for a patient in Honolulu, the day before.
    "clinic_zone": "London",
    "your_time": "11:30 PM",
    "your_day": "Wed, January 15",
    "caregiver_name": "Sam Example",
    # caregiver_dose_update: when the patient answered Taken, after the caregiver's alert.
    "answered_at": datetime(2025, 1, 15, 22, 40, tzinfo=UTC),
}


@functools.cache
def _renderer(sms_max_segments: int) -> TemplateRenderer:
    return TemplateRenderer(sms_max_segments=sms_max_segments)


def renderer_for(state: WebState) -> TemplateRenderer:
    """The renderer with this deployment's SMS segment limit."""
    return _renderer(state.settings.sms_max_segments)


def samples_for(kind: str, *, exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Sample values of the variables ``kind`` allows (the preview and length check use them)."""
    return {n: _SAMPLES.get(n, f"Sample {n}") for n in allowed_variables(kind) if n not in exclude}


def check_source(
    renderer: TemplateRenderer, source: str, channel: str, samples: Mapping[str, Any], kind: str
) -> list[str]:
    """Problems of ``source`` for ``channel`` (``default``: every strict channel), or [].

    Only the names of ``samples`` matter here: the check never runs the template with them.
    """
    channels = _DEFAULT_CHECKED if channel == "default" else (channel,)
    problems: list[str] = []
    for chan in channels:
        for problem in renderer.validate_custom(source, chan, samples, kind=kind):
            if problem not in problems:
                problems.append(problem)
    return problems


def preview_text(renderer: TemplateRenderer, source: str, samples: Mapping[str, Any]) -> str:
    """``source`` rendered in the sandbox with ``samples`` (call only once it validated)."""
    return renderer.render_custom(source, samples, "console", allowed=samples).text


def template_json(row: Mapping[str, Any]) -> dict[str, Any]:
    """A template version as the API shows it."""
    return row_dict(row, OUTPUT_FIELDS)


def _name(name: str, field: str = "name") -> str:
    """A template's name as the clinic chose it, if it shows as written: found over the API, a
    name of a zero-width space only was saved (a blank row in the dashboard's list), and one
    with an open U+202E showed reversed there, with what followed it on the row. A refusal
    names ``field``, the request's."""
    broken = line_break_problem(name)
    if broken is not None:
        raise ValidationFailed(field, broken)
    if not name.strip() or not is_visible(name):
        raise ValidationFailed(
            field, f"must be 1 to {MAX_NAME_LENGTH} printable characters, not only spaces"
        )
    problem = unclosed_direction_control(name)
    if problem is not None:
        raise ValidationFailed(field, problem)
    return name


@router.post(
    "/templates/validate",
    response_model=TemplateValidation,
    summary="Check a template without saving it: problems, preview, length",
    operation_id="validateTemplate",
    responses={
        **BODY_ERRORS,
        422: {"model": TemplateRejected, "description": "It cannot be saved: every problem"},
    },
)
async def validate_template(body: TemplateValidate, org_id: Org, state: State) -> Any:
    """200 when the template can be saved (its preview, length and SMS segments); 422 when it
    cannot, with `problems` listing every reason (syntax, unknown variables, anything outside the
    template language, worst-case length)."""
    renderer = renderer_for(state)
    samples = samples_for(body.kind)
    problems = check_source(renderer, body.body, body.channel, samples, body.kind)
    if body.subject is not None:
        problems += [
            f"subject: {p}" for p in renderer.validate_custom(body.subject, "email", samples)
        ]
    allowed = sorted(allowed_variables(body.kind))
    if problems:
        # The same answer PUT gives (it could not be saved), with every problem listed.
        error = error_body(422, "; ".join(problems), field="body")
        return JSONResponse(
            {**error, "ok": False, "problems": problems, "allowed_variables": allowed}, 422
        )
    preview = preview_text(renderer, body.body, samples)
    encoding, segments = count_segments(preview)
    return {
        "ok": True,
        "problems": [],
        "preview": preview,
        "length": len(preview),
        "segments": segments,
        "encoding": encoding,
        "allowed_variables": allowed,
    }


@router.put(
    "/templates/{name}",
    response_model=Template,
    summary="Create or replace one locale and channel version of a template",
    operation_id="putTemplate",
    responses={**BODY_ERRORS, **ADMIN_ONLY, 201: {"model": Template, "description": "Created"}},
)
async def put_template(
    name: TemplateName,
    body: TemplatePut,
    org_id: AdminOrg,
    state: State,
    response: Response,
) -> Any:
    """Replaced (200) or created (201)."""
    name = _name(name)
    renderer = renderer_for(state)
    samples = samples_for(body.kind)
    where = f"template {name!r} ({body.locale}, {body.channel})"
    problems = check_source(renderer, body.body, body.channel, samples, body.kind)
    if problems:
        raise ValidationFailed("body", f"{where}: " + "; ".join(problems))
    if body.subject is not None:
        problems = renderer.validate_custom(body.subject, "email", samples)
        if problems:
            raise ValidationFailed("subject", f"{where}: " + "; ".join(problems))
    if body.automatic and body.kind not in AUTOMATIC_KINDS:
        raise ValidationFailed(
            "automatic", f"only a template of an automatic kind ({', '.join(AUTOMATIC_KINDS)})"
        )
    mark_sensitive(body.body, body.subject)
    async with acting(state.pool) as conn:
        if body.automatic:
            await conn.execute(
                query("templates", "clear_automatic"),
                org_id,
                body.kind,
                body.locale,
                body.channel,
                name,
            )
        row = await conn.fetchrow(
            query("templates", "upsert_template"),
            org_id,
            name,
            body.kind,
            body.locale,
            body.channel,
            body.body,
            body.subject,
            body.automatic,
        )
    response.status_code = 201 if row["created"] else 200
    return template_json(row)


@router.post(
    "/templates/rename",
    response_model=DataList[Template],
    summary="Rename a template: every version, and the messages waiting to be sent with it",
    operation_id="renameTemplate",
    responses={**BODY_ERRORS, **ADMIN_ONLY, **NOT_FOUND, **CONFLICT},
)
async def rename_template(body: TemplateRename, org_id: AdminOrg, state: State) -> Any:
    """Every version of template `name` takes `new_name`, and so do the messages waiting to be
    sent with it (sent ones keep theirs). `name` is taken as stored: a name saved with a line
    break before the one-line rule is renamed to one line this way, and can then take new
    versions. 404 when the clinic has no template `name`; 409 when another template is named
    `new_name`; 422 when `new_name` is not one line of printable text."""
    name, new_name = body.name, _name(body.new_name, "new_name")
    async with acting(state.pool) as conn:
        try:
            renamed = await conn.fetchval(
                "select public.rename_template($1, $2, $3)", org_id, name, new_name
            )
        except asyncpg.UniqueViolationError as exc:
            raise ApiError(
                409,
                f"another template is named {new_name!r}: choose another name, or delete that"
                " template first; nothing was renamed",
                field="new_name",
            ) from exc
        if not renamed:
            raise NotFound("template")
        rows = await conn.fetch(query("templates", "templates_by_name"), org_id, new_name)
    return {"data": [template_json(r) for r in rows]}


@router.get(
    "/templates",
    response_model=DataList[Template],
    summary="Every version of your organization's templates",
    operation_id="listTemplates",
)
async def list_templates(org_id: Org, state: State) -> Any:
    """Every version of every template of the caller's clinic."""
    async with state.pool.acquire() as conn:
        rows = await conn.fetch(query("templates", "list_templates"), org_id)
    return {"data": [template_json(r) for r in rows]}


async def check_message_template(
    conn: asyncpg.Connection,
    renderer: TemplateRenderer,
    org_id: uuid.UUID,
    name: str,
    kind: str,
) -> bool:
    """422 naming ``template`` unless it is the clinic's (and every version validates for a
    message of ``kind``) or a built-in kind; True for the clinic's, False for a built-in."""
    rows = await conn.fetch(query("templates", "templates_by_name"), org_id, name)
    if not rows:
        if name in KINDS:
            return False
        raise ValidationFailed(
            "template",
            f"no template {name!r} in your organization and no built-in template of that name "
            f"(built-in: {', '.join(KINDS)})",
        )
    # A message from the API is linked to no appointment, so starts_at cannot be filled.
    samples = samples_for(kind, exclude=frozenset({"starts_at"}))
    for row in rows:
        problems = check_source(renderer, row["body"], row["channel"], samples, kind)
        if problems:
            raise ValidationFailed(
                "template",
                f"template {name!r} ({row['locale']}, {row['channel']}) cannot be sent as "
                f"{kind}: " + "; ".join(problems),
            )
    return True


__all__ = [
    "TEMPLATE_CHANNELS",
    "TEMPLATE_KINDS",
    "check_message_template",
    "check_source",
    "list_templates",
    "put_template",
    "rename_template",
    "router",
    "samples_for",
    "validate_template",
]
