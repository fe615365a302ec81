"""A message rendered as the worker will send it, from data the caller supplies: the preview of a
patient's next automatic message with their clinic's template (issue 17).

The dashboard reads, as the signed-in clinician (row-level security), the patient's next pending
automatic message, what it is about (the appointment, the dose) and the clinic's automatic
versions of its kind, and asks the web API to render it; the API reads nothing of any clinic.
Rendering is the dispatcher's own (:func:`scheduler.rendering.render_or_fallback` over a
:class:`~scheduler.claims.Claim` and a one-off template cache), so the preview picks the same
version (``docs/templates.md``) and falls back to the built-in text for the same reasons.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any

from core.logs import mark_sensitive
from core.message_limits import count_segments
from core.templating import TemplateRenderer
from platforms.base import Channel
from scheduler.claims import Claim
from scheduler.custom_templates import (
    AUTOMATIC_KINDS,
    CustomTemplate,
    TemplateCache,
    pick_automatic,
)
from scheduler.rendering import render_or_fallback

# Stand-ins for ids the preview never stores: the cache is keyed by patient, the buttons by id.
_PREVIEW_PATIENT = uuid.UUID(int=1)
_PREVIEW_ID = uuid.UUID(int=2)
_PREVIEW_CLINIC = uuid.UUID(int=3)  # the versions the request supplies are this clinic's


@dataclasses.dataclass(frozen=True, slots=True)
class PreviewRequest:
    """What the message is and who it is for (the values the worker would join)."""

    kind: str
    locale: str
    channel: str
    timezone: str = "UTC"
    # The clinic's zone (None: the patient's): an appointment's time is named in both where
    # they differ, as the dispatcher does (scheduler.appointment_times).
    clinic_timezone: str | None = None
    patient_name: str | None = None
    clinic_name: str | None = None
    due_at: datetime | None = None
    starts_at: datetime | None = None
    location: str | None = None
    clinician_name: str | None = None
    medicine_name: str | None = None
    dose_text: str | None = None
    # The dose's medicine by its /meds number, as the planner's row carries it (several
    # medicines; None: one, or not a dose).
    medicine_number: int | None = None
    # The dose's set day and time (the row's payload): a dose the clocks sprang over is named
    # by its set time, as the send names it (core.dose_times).
    local_date: date | None = None
    local_time: time | None = None
    name_medicine: bool = False
    versions: Sequence[CustomTemplate] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class Preview:
    """The text as it will go out, and where it came from."""

    text: str
    channel: str
    source: str  # "clinic" (the clinic's automatic version) or "builtin"
    template: CustomTemplate | None  # the version used, when the clinic's
    note: str | None  # why the clinic's version was not used, when it exists but failed
    length: int
    segments: int
    encoding: str


def _payload(request: PreviewRequest) -> dict[str, Any]:
    """The row's payload as the planner writes it, for what the preview was given of it."""
    payload: dict[str, Any] = {}
    if request.medicine_number is not None:
        payload["medicine_number"] = request.medicine_number
    if request.local_date is not None and request.local_time is not None:
        payload["local_date"] = request.local_date.isoformat()
        payload["local_time"] = request.local_time.strftime("%H:%M")
    return payload


def preview_message(renderer: TemplateRenderer, request: PreviewRequest) -> Preview:
    """Render ``request`` as the dispatcher would. Raises ``ValueError`` for a kind that is not
    automatic or a channel that does not exist, and the renderer's errors for a built-in text
    that cannot be rendered (over the channel's limit)."""
    if request.kind not in AUTOMATIC_KINDS:
        raise ValueError(f"kind must be one of {', '.join(AUTOMATIC_KINDS)}")
    channel = Channel(request.channel)
    due = request.due_at or request.starts_at
    if due is None:
        raise ValueError("due_at or starts_at is required")
    claim = Claim(
        id=_PREVIEW_ID,
        patient_id=_PREVIEW_PATIENT,
        organization_id=_PREVIEW_CLINIC,
        lease_token=_PREVIEW_ID,
        scheduled_time=due,
        platform=str(channel),
        kind=request.kind,
        attempts=0,
        max_attempts=1,
        message_content=None,
        locale=request.locale,
        timezone=request.timezone,
        display_name=request.patient_name,
        name_medicine_in_reminders=request.name_medicine,
        organization_name=request.clinic_name,
        organization_timezone=request.clinic_timezone,
        medicine_name=request.medicine_name,
        medicine_dose=request.dose_text,
        dose_due_at=request.due_at,
        dose_event_id=_PREVIEW_ID
        if request.kind in ("medication_reminder", "dose_followup")
        else None,
        appointment_id=_PREVIEW_ID if request.starts_at is not None else None,
        appointment_starts_at=request.starts_at,
        appointment_location=request.location,
        appointment_clinician=request.clinician_name,
        payload=_payload(request),
    )
    mark_sensitive(request.patient_name, request.medicine_name, request.location)
    cache = TemplateCache()
    versions = tuple(v for v in request.versions if v.kind == request.kind)
    cache.put_automatic(_PREVIEW_CLINIC, request.kind, versions)
    message, note = render_or_fallback(renderer, claim, channel, cache)
    used = None if note else pick_automatic(versions, request.locale, str(channel))
    encoding, segments = count_segments(message.text)
    return Preview(
        text=message.text,
        channel=str(channel),
        source="clinic" if used is not None else "builtin",
        template=used,
        note=note,
        length=len(message.text),
        segments=segments,
        encoding=encoding,
    )
