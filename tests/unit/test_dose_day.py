"""A reminder or follow-up sent on another day than its dose's names the dose's day, whatever
renders it (the send, the render ahead, a clinic's own template), in the patient's zone.

No database: claims are built as the dispatcher's claim builds them and rendered by the
dispatcher's own functions (scheduler.rendering, scheduler.render_ahead). The end-to-end case
(a snooze pressed through the webhook, the worker's send after midnight) is in
tests/web/test_reminder_names_the_day.py.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.templating import TemplateRenderer
from platforms.base import Channel
from scheduler.claims import Claim
from scheduler.custom_templates import CustomTemplate, TemplateCache
from scheduler.dose_day import due_day, other_day
from scheduler.render_ahead import RenderedAhead
from scheduler.rendering import render_claim, render_or_fallback, variables_for

LA = ZoneInfo("America/Los_Angeles")
KIRITIMATI = ZoneInfo("Pacific/Kiritimati")  # UTC+14: its dates are a day ahead of UTC's
# Wednesday, March 4 2026, 10:30 PM in Los Angeles (06:30 UTC on Thursday).
DUE = datetime(2026, 3, 4, 22, 30, tzinfo=LA)


@pytest.mark.parametrize(
    ("due", "zone", "now", "other"),
    [
        (DUE, "America/Los_Angeles", DUE, False),
        (DUE, "America/Los_Angeles", datetime(2026, 3, 4, 23, 59, 59, tzinfo=LA), False),
        (DUE, "America/Los_Angeles", datetime(2026, 3, 5, 0, 0, tzinfo=LA), True),
        (DUE, "America/Los_Angeles", datetime(2026, 3, 4, 0, 0, tzinfo=LA), False),
        (DUE, "America/Los_Angeles", datetime(2026, 3, 3, 23, 59, tzinfo=LA), True),
        # Same UTC date (March 4), two local dates in Kiritimati: 23:40 and 00:10.
        (
            datetime(2026, 3, 4, 23, 40, tzinfo=KIRITIMATI),
            "Pacific/Kiritimati",
            datetime(2026, 3, 5, 0, 10, tzinfo=KIRITIMATI),
            True,
        ),
        # A UTC date change that is no local one: 15:50 and 16:10 in Los Angeles.
        (
            datetime(2026, 3, 4, 15, 50, tzinfo=LA),
            "America/Los_Angeles",
            datetime(2026, 3, 4, 16, 10, tzinfo=LA),
            False,
        ),
        # The night clocks go forward (March 8 2026 in Los Angeles): still that one day.
        (
            datetime(2026, 3, 8, 1, 30, tzinfo=LA),
            "America/Los_Angeles",
            datetime(2026, 3, 8, 23, 30, tzinfo=LA),
            False,
        ),
        # Santiago's clocks went forward at midnight (September 6 2026: 00:00 is 01:00).
        (
            datetime(2026, 9, 6, 8, 0, tzinfo=ZoneInfo("America/Santiago")),
            "America/Santiago",
            datetime(2026, 9, 6, 1, 0, tzinfo=ZoneInfo("America/Santiago")),
            False,
        ),
        (
            datetime(2026, 9, 6, 8, 0, tzinfo=ZoneInfo("America/Santiago")),
            "America/Santiago",
            datetime(2026, 9, 5, 23, 59, tzinfo=ZoneInfo("America/Santiago")),
            True,
        ),
    ],
)
def test_another_day_is_the_patients_local_date(
    due: datetime, zone: str, now: datetime, other: bool
) -> None:
    assert other_day(due, zone, now) is other
    assert other_day(due.astimezone(UTC), zone, now.astimezone(UTC)) is other
    local = (due.astimezone(ZoneInfo(zone)).date(), now.astimezone(ZoneInfo(zone)).date())
    assert (local[0] != local[1]) is other


def test_the_day_is_named_as_the_bot_names_it() -> None:
    after = datetime(2026, 3, 5, 7, 0, tzinfo=LA)
    assert due_day(DUE, "America/Los_Angeles", "en", after) == "Wed, March 4"
    assert due_day(DUE, "America/Los_Angeles", "es-MX", after) == "mié, 4 de marzo"
    assert due_day(DUE, "America/Los_Angeles", "en", DUE + timedelta(hours=1)) is None


def _claim(kind: str = "medication_reminder", **overrides: Any) -> Claim:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "patient_id": uuid.uuid4(),
        "lease_token": uuid.uuid4(),
        "scheduled_time": DUE,
        "platform": "auto",
        "kind": kind,
        "attempts": 0,
        "max_attempts": 3,
        "message_content": None,
        "timezone": "America/Los_Angeles",
        "dose_event_id": uuid.uuid4(),
        "dose_due_at": DUE,
    }
    return Claim(**(values | overrides))


RENDERER = TemplateRenderer(sms_max_segments=3)
NEXT_MORNING = datetime(2026, 3, 5, 7, 0, tzinfo=LA)


@pytest.mark.parametrize(
    "channel", [Channel.TELEGRAM, Channel.WHATSAPP, Channel.SMS, Channel.EMAIL]
)
def test_a_snoozed_reminder_sent_the_next_morning_names_the_day_on_every_channel(
    channel: Channel,
) -> None:
    """The snooze's reminder row is due at 07:00 the next day; the dose was at 10:30 PM."""
    claim = _claim(scheduled_time=NEXT_MORNING)
    message = render_claim(RENDERER, claim, channel, now=NEXT_MORNING)
    assert message.text == "Time for your 10:30 PM dose on Wed, March 4."
    if channel is Channel.EMAIL:
        assert message.subject == "Medication reminder for your dose on Wed, March 4"
    if channel is Channel.TELEGRAM:
        assert "on <b>Wed, March 4</b>" in (message.html or "")
    # By default the row's own time decides (the render ahead's and the preview's moment).
    assert render_claim(RENDERER, claim, channel) == message
    # The same reminder sent on the dose's own day is the text it always was.
    same_day = render_claim(RENDERER, _claim(), channel, now=DUE + timedelta(minutes=20))
    assert "March" not in same_day.text and "March" not in (same_day.subject or "")


def test_a_nag_after_midnight_names_the_day_in_spanish() -> None:
    claim = _claim("dose_followup", locale="es", scheduled_time=NEXT_MORNING)
    sms = render_claim(RENDERER, claim, Channel.SMS, now=datetime(2026, 3, 5, 0, 5, tzinfo=LA))
    # Over SMS in GSM-7 letters (core/gsm7_templates.py): "í" folds, "é" is GSM-7.
    assert sms.text == "¿Tomaste tu dosis de las 22:30 del mié, 4 de marzo? Avisanos, por favor."
    before = render_claim(RENDERER, claim, Channel.SMS, now=DUE + timedelta(minutes=15))
    assert before.text == "¿Tomaste tu dosis de las 22:30? Avisanos, por favor."


def test_only_the_dispatcher_sets_the_day() -> None:
    """A row's payload cannot name a day (nor hide it): it depends on the send's moment."""
    claim = _claim(payload={"due_day": "Mon, January 1"})
    assert "due_day" not in variables_for(claim, DUE)
    assert variables_for(claim, NEXT_MORNING)["due_day"] == "Wed, March 4"
    # Kinds that name no dose by its time get no day; a caregiver's alert does (it names one).
    assert "due_day" not in variables_for(_claim("refill_reminder"), NEXT_MORNING)
    alert = _claim("missed_dose_caregiver", caregiver_id=uuid.uuid4(), caregiver_name="Eva")
    assert variables_for(alert, NEXT_MORNING)["due_day"] == "Wed, March 4"


def test_a_clinics_own_reminder_can_name_the_day() -> None:
    body = "{{ due_at|time }} dose{% if due_day %} of {{ due_day }}{% endif %}, {{ clinic_name }}."
    assert RENDERER.validate_custom(body, "sms", ["due_at", "due_day", "clinic_name"]) == []
    org = uuid.uuid4()
    version = CustomTemplate(
        organization_id=org,
        name="reminder",
        kind="medication_reminder",
        locale="en",
        channel="default",
        body=body,
        subject=None,
    )
    cache = TemplateCache()
    cache.put_automatic(org, "medication_reminder", (version,))
    claim = _claim(organization_id=org, organization_name="Clinic")
    later = render_claim(RENDERER, claim, Channel.SMS, cache, now=NEXT_MORNING)
    assert later.text.startswith("10:30 PM dose of Wed, March 4, Clinic.")
    same = render_claim(RENDERER, claim, Channel.SMS, cache, now=DUE)
    assert same.text.startswith("10:30 PM dose, Clinic.")


def test_a_text_rendered_ahead_before_midnight_is_not_sent_after_it() -> None:
    """The render ahead renders a row at its due time; sent after the patient's midnight (a
    backlog, a rate limit), it is rendered afresh and names the day; sent in time it is taken."""
    for sent_at, taken in ((DUE + timedelta(seconds=30), True), (NEXT_MORNING, False)):
        held = RenderedAhead()
        claim = _claim()
        message, note = render_or_fallback(RENDERER, claim, Channel.TELEGRAM)
        held.put(claim, Channel.TELEGRAM, None, message, note)
        got = held.take(claim, Channel.TELEGRAM, RENDERER, sent_at)
        assert (got is not None) is taken
        assert (held.taken, held.stale) == ((1, 0) if taken else (0, 1))
    # And a snoozed reminder rendered ahead for 07:00 the next day, taken then, names it.
    held = RenderedAhead()
    snoozed = _claim(scheduled_time=NEXT_MORNING)
    message, note = render_or_fallback(RENDERER, snoozed, Channel.TELEGRAM)
    held.put(snoozed, Channel.TELEGRAM, None, message, note)
    got = held.take(snoozed, Channel.TELEGRAM, RENDERER, NEXT_MORNING + timedelta(seconds=2))
    assert got is not None and "on Wed, March 4" in got[0].text
