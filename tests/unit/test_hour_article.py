"""Spanish's article before a time: "a la 1:30", "de la 1:00 p. m.", "a las" for every other hour
(core.template_filters.hour_article), in the bot's texts and in the built-in templates, compiled
or rendered by Jinja, on every channel (SMS in GSM-7 letters)."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from bot import texts
from core.template_filters import hour_article
from core.templating import TemplateRenderer


@pytest.mark.parametrize(
    ("shown", "article"),
    [
        *[("1:30", "la"), ("1:00 p. m.", "la"), ("01:05", "la"), ("0:30", "las")],
        *[("10:00", "las"), ("11:59", "las"), ("13:30", "las"), ("12:00 a. m.", "las")],
    ],
)
def test_the_article_follows_the_hour_as_shown(shown: str, article: str) -> None:
    assert hour_article(shown) == article


def test_bot_texts_say_a_la_for_one_oclock_only() -> None:
    one, nine = texts.fmt_time(time(1, 30), "es"), texts.fmt_time(time(9, 0), "es")
    assert (
        texts.text("es", "answer_taken", time=one, what="x") == "Tomada a la 1:30: x. ¡Bien hecho!"
    )
    assert texts.dose_words("es", one) == "tu dosis de la 1:30"
    assert texts.dose_words("es", nine) == "tu dosis de las 9:00"
    assert texts.sms_text("es", "med_saved", times=one) == "Guardado. Te lo recordaré a la 1:30."
    assert texts.text("en", "answer_taken", time=one, what="x") == "Taken at 1:30: x. Well done!"


@pytest.mark.parametrize("channel", ["sms", "telegram", "email", "whatsapp"])
@pytest.mark.parametrize(
    ("locale", "zone", "utc_hour", "expected"),
    [
        ("es", "Europe/Madrid", 0, "de la 1:30"),  # 24-hour clock: 1:30 at night
        ("es", "Europe/Madrid", 12, "de las 13:30"),
        ("es-MX", "America/Mexico_City", 19, "de la 1:30"),  # 12-hour clock: 1:30 p. m.
        ("es-MX", "America/Mexico_City", 16, "de las 10:30"),
    ],
)
def test_reminders_and_appointments_say_a_la_for_one_oclock(
    channel: str, locale: str, zone: str, utc_hour: int, expected: str
) -> None:
    at = datetime(2026, 3, 4, utc_hour, 30, tzinfo=UTC)
    renderer = TemplateRenderer()
    reminder = renderer.render(
        "medication_reminder", locale, channel, {"due_at": at, "timezone": zone}
    )
    assert f"Es la hora de tu dosis {expected}" in reminder.text, reminder.text
    appointment = renderer.render(
        "appointment_reminder",
        locale,
        channel,
        {"starts_at": at, "clinic_name": "Clínica", "timezone": zone},
    )
    if channel != "sms":  # the SMS text says the date and time alone: "cita el 4 mar, 1:30"
        assert f"a {expected.partition(' ')[2]}" in appointment.text, appointment.text
