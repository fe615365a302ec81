"""The preview of a patient's next automatic message (issue 17): the dispatcher's own rendering
over supplied data, so it picks the clinic's version and falls back exactly as a send does."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime

import pytest

from core.templating import TemplateRenderer
from scheduler.custom_templates import CustomTemplate
from scheduler.preview import PreviewRequest, preview_message

ORG = uuid.uuid4()
STARTS = datetime(2026, 3, 5, 9, 30, tzinfo=UTC)


def _version(
    body: str, locale: str = "en", channel: str = "default", kind: str = "appointment_reminder"
) -> CustomTemplate:
    return CustomTemplate(ORG, "visit", kind, locale, channel, body)


def _request(**overrides: object) -> PreviewRequest:
    values: dict[str, object] = {
        "kind": "appointment_reminder",
        "locale": "en",
        "channel": "telegram",
        "timezone": "Europe/Madrid",
        "patient_name": "Ana Real",
        "clinic_name": "Lakeside",
        "starts_at": STARTS,
        "location": "Room 4",
        "versions": (
            _version(
                "{{ clinic_name }}: {{ patient_name }}, {{ starts_at|time }} in {{ location }}"
            ),
        ),
    }
    return PreviewRequest(**(values | overrides))  # type: ignore[arg-type]


def test_the_clinic_version_with_the_patients_real_values() -> None:
    preview = preview_message(TemplateRenderer(), _request())
    assert preview.text == "Lakeside: Ana Real, 10:30 AM in Room 4"  # the patient's zone
    assert preview.source == "clinic" and preview.template is not None
    assert (preview.template.locale, preview.template.channel) == ("en", "default")
    assert preview.note is None and preview.length == len(preview.text)


def test_no_version_in_the_patients_language_is_the_builtin_text() -> None:
    preview = preview_message(TemplateRenderer(), _request(locale="es"))
    assert preview.source == "builtin" and preview.template is None
    assert preview.text.startswith("Recordatorio: tienes una cita")
    assert "Room 4" in preview.text


def test_a_version_that_fails_its_checks_falls_back_and_says_why() -> None:
    broken = _version("Hi {{ patient_name.__class__ }}", channel="sms")
    preview = preview_message(TemplateRenderer(), _request(channel="sms", versions=(broken,)))
    assert preview.source == "builtin"
    assert preview.text.startswith("Reminder: appointment")
    assert preview.note is not None and "template 'visit' (en, sms)" in preview.note
    assert preview.encoding == "GSM-7" and preview.segments == 1


def test_medicine_named_only_when_the_patient_opted_in() -> None:
    version = _version("Time for {{ medicine_name }}", kind="medication_reminder")
    request = _request(
        kind="medication_reminder",
        starts_at=None,
        due_at=STARTS,
        medicine_name="Metformin",
        versions=(version,),
    )
    assert preview_message(TemplateRenderer(), request).text == "Time for your medicine"
    named = dataclasses.replace(request, name_medicine=True)
    assert preview_message(TemplateRenderer(), named).text == "Time for Metformin"


def test_the_medicine_number_as_the_planned_row_carries_it() -> None:
    """Two medicines due at once: the preview says which, as the send will (built-in or the
    clinic's own text with ``medicine_number``); a patient with one medicine reads none."""
    request = _request(
        kind="medication_reminder",
        starts_at=None,
        due_at=STARTS,
        medicine_number=2,
        versions=(),
    )
    builtin = preview_message(TemplateRenderer(), request)
    assert builtin.source == "builtin"
    assert builtin.text.startswith("Hi Ana Real. Time for your 10:30 AM dose of medicine 2.")
    own = _version(
        "{{ due_at|time }}{% if medicine_number %}, medicine {{ medicine_number }}{% endif %}",
        kind="medication_reminder",
    )
    clinic = dataclasses.replace(request, versions=(own,))
    assert preview_message(TemplateRenderer(), clinic).text == "10:30 AM, medicine 2"
    single = dataclasses.replace(clinic, medicine_number=None)
    assert preview_message(TemplateRenderer(), single).text == "10:30 AM"


def test_only_automatic_kinds() -> None:
    with pytest.raises(ValueError, match="kind must be one of"):
        preview_message(TemplateRenderer(), _request(kind="free_text"))
