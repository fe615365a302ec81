"""The caregiver's notice that reminders no longer reach the patient (template
patient_unreachable_caregiver, migration 20260101013300) fits every channel in both languages,
with the longest names a clinic can store and a name that forces UCS-2 on SMS."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.templating import TemplateRenderer, count_segments
from platforms.base import Channel

NAME = "Ñandú Łukasz-Øyvind " * 3  # non-GSM letters: the SMS is UCS-2
LONGEST = {"patient_name": NAME[:50], "caregiver_name": NAME[:50]}
SMS_MAX_SEGMENTS = 3  # the default MEDREMIND_SMS_MAX_SEGMENTS


@pytest.mark.parametrize("channel", tuple(Channel), ids=str)
@pytest.mark.parametrize("locale", ("en", "es"))
def test_the_notice_fits_and_names_no_medicine(locale: str, channel: Channel) -> None:
    renderer = TemplateRenderer(sms_max_segments=SMS_MAX_SEGMENTS)
    values = {**LONGEST, "due_at": datetime(2026, 3, 2, 8, tzinfo=UTC), "timezone": "UTC"}
    message = renderer.render("patient_unreachable_caregiver", locale, channel, values)
    assert NAME[:50] in message.text
    assert "{{" not in message.text and "medicine_name" not in message.variables
    if channel is Channel.SMS:
        assert count_segments(message.text)[1] <= SMS_MAX_SEGMENTS
    if channel is Channel.EMAIL:
        assert message.subject and len(message.subject) <= 120
