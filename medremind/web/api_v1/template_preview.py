"""``POST /api/v1/templates/preview``: a message rendered exactly as the worker will send it.

The caller supplies the message (its kind, the patient's locale, timezone and the channel it goes
out on), the values the worker would fill in (the patient's real name, appointment or dose) and
the clinic's automatic versions of that kind; the answer is the text the patient will receive,
whether it is the clinic's template or the built-in text, and why a clinic version was not used.
The dashboard's patient page uses it for the patient's next automatic message, with data it read
as the signed-in clinician: this route reads nothing of any clinic
(:mod:`scheduler.preview`, ``docs/templates.md``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StrictBool, StrictInt

from core.sql import query
from core.templating import MessageTooLong
from medremind.web.api_v1.common import Org, State
from medremind.web.api_v1.fields import (
    Channel,
    ClockTime,
    IsoDateTime,
    LanguageTag,
    Locale,
    Timezone,
)
from medremind.web.api_v1.models import BODY_ERRORS, RequestModel
from medremind.web.api_v1.routing import router as new_router
from medremind.web.api_v1.templates import (
    MAX_NAME_LENGTH,
    MAX_SUBJECT_LENGTH,
    Source,
    TemplateChannel,
    renderer_for,
)
from medremind.web.errors import ValidationFailed
from scheduler.custom_templates import AUTOMATIC_KINDS, CustomTemplate
from scheduler.preview import PreviewRequest, preview_message

router = new_router("templates")

AutomaticKind = Literal[AUTOMATIC_KINDS]  # type: ignore[valid-type]
MAX_VERSIONS = 20  # a kind has at most a few locales x 6 channels in practice
Value = Annotated[str, Field(max_length=500)]


class PreviewVersion(RequestModel):
    """One of the clinic's automatic versions of the message's kind."""

    name: Annotated[str, Field(min_length=1, max_length=MAX_NAME_LENGTH)]
    locale: LanguageTag
    channel: TemplateChannel
    body: Source
    subject: Annotated[str, Field(max_length=MAX_SUBJECT_LENGTH)] | None = None


class PreviewValues(RequestModel):
    """What the worker fills in for this message (the patient's real data)."""

    patient_name: Value | None = None
    clinic_name: Value | None = None
    due_at: IsoDateTime | None = None
    starts_at: IsoDateTime | None = None
    location: Value | None = None
    clinician_name: Value | None = None
    medicine_name: Value | None = None
    dose_text: Value | None = None
    # The dose's medicine by its number in the patient's /meds list, where the patient has
    # several (the planner's row's payload.medicine_number).
    medicine_number: Annotated[StrictInt, Field(ge=1, le=999)] | None = None
    # The dose's day and time as the patient set them (the planner's row's payload): on the
    # night the clocks spring forward over a 2:30 dose it fires at 3:00 (``due_at``) and is
    # still called "your 2:30 AM dose", as the send calls it (core.dose_times).
    local_date: date | None = Field(
        default=None, description="The dose's set day (YYYY-MM-DD), the row's payload.local_date"
    )
    local_time: ClockTime | None = Field(
        default=None, description="The dose's set time (HH:MM), the row's payload.local_time"
    )


class PreviewBody(RequestModel):
    kind: AutomaticKind
    locale: Locale
    channel: Channel
    timezone: Timezone = "UTC"
    values: PreviewValues = Field(default_factory=PreviewValues)
    name_medicine: StrictBool = Field(
        False, description="The patient opted in to reminders naming the medicine"
    )
    versions: list[PreviewVersion] = Field(default_factory=list, max_length=MAX_VERSIONS)


class UsedVersion(BaseModel):
    name: str
    locale: str
    channel: str


class TemplatePreview(BaseModel):
    text: str = Field(description="The message as the patient will receive it")
    channel: str
    source: Literal["clinic", "builtin"]
    template: UsedVersion | None = Field(None, description="The clinic's version used, if any")
    note: str | None = Field(
        None, description="Why the clinic's version was not used although it exists"
    )
    length: int
    segments: int = Field(description="SMS segments")
    encoding: Literal["GSM-7", "UCS-2"]


@router.post(
    "/templates/preview",
    response_model=TemplatePreview,
    summary="Render an automatic message as the worker will send it, with real values",
    operation_id="previewTemplate",
    responses=BODY_ERRORS,
)
async def preview_template(body: PreviewBody, org_id: Org, state: State) -> Any:
    """The text of an automatic message of `kind` for a patient of `locale` on `channel`: the
    clinic's version among `versions` that the worker would pick (the locale, then its
    language; the channel, then `default`), else the built-in text, rendered with `values`."""
    values = body.values
    if values.due_at is None and values.starts_at is None:
        raise ValidationFailed("values.due_at", "give due_at (a dose) or starts_at (a visit)")
    versions = [
        CustomTemplate(org_id, v.name, body.kind, v.locale, v.channel, v.body, v.subject)
        for v in body.versions
    ]
    clinic_zone = None
    if values.starts_at is not None:
        async with state.pool.acquire() as conn:
            clinic_zone = await conn.fetchval(query("web", "organization_timezone"), org_id)
    request = PreviewRequest(
        kind=body.kind,
        locale=body.locale,
        channel=body.channel,
        timezone=body.timezone,
        clinic_timezone=clinic_zone,
        patient_name=values.patient_name,
        clinic_name=values.clinic_name,
        due_at=values.due_at,
        starts_at=values.starts_at,
        location=values.location,
        clinician_name=values.clinician_name,
        medicine_name=values.medicine_name,
        dose_text=values.dose_text,
        medicine_number=values.medicine_number,
        local_date=values.local_date,
        local_time=values.local_time,
        name_medicine=body.name_medicine,
        versions=versions,
    )
    try:
        preview = preview_message(renderer_for(state), request)
    except MessageTooLong as exc:
        raise ValidationFailed("channel", f"the built-in text does not fit: {exc}") from exc
    used = preview.template
    return {
        "text": preview.text,
        "channel": preview.channel,
        "source": preview.source,
        "template": None
        if used is None
        else {"name": used.name, "locale": used.locale, "channel": used.channel},
        "note": preview.note,
        "length": preview.length,
        "segments": preview.segments,
        "encoding": preview.encoding,
    }
