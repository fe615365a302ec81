"""The note on a time chosen inside the patient's quiet hours names the reminder, not a bare time.

Spanish said "1:00 está dentro de tus horas de silencio", a sentence starting with a bare time
(and "1:00, 23:00 están ...", the article of neither said); English "1:00 AM is inside your quiet
hours". It now names the reminder, each time with its article in Spanish: "Tu recordatorio de la
1:00 cae dentro de tus horas de silencio", "Your reminder at 1:00 AM falls inside ...".

Driven as a patient texts: signed Twilio webhooks into the web process, the replies read off the
loopback Twilio. One injected clock (START, 11:50 UTC; the patients live in UTC), quiet hours set
explicitly to 22:00-08:00, so the times chosen fall inside them whatever the hour of the run.
"""

from __future__ import annotations

from datetime import time

import asyncpg
import httpx
import pytest

from tests import factories
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import add_medicine, sms_chat

NUMBER = "+34600111557"


async def _saved(
    conn: asyncpg.Connection, web: httpx.AsyncClient, twilio: FakeTwilio, locale: str, times: str
) -> str:
    """The reply to Save of a medicine /added at ``times`` by a patient in ``locale``."""
    await factories.create_patient(
        conn,
        contacts={"sms": NUMBER},
        locale=locale,
        display_name="Ana",
        quiet_start=time(22, 0),
        quiet_end=time(8, 0),
    )
    _, saved = await add_medicine(sms_chat(web, twilio, NUMBER), locale, times)
    return saved


@pytest.mark.parametrize(
    ("locale", "times", "note"),
    [
        (
            "es",
            "1:00",
            "Tu recordatorio de la 1:00 cae dentro de tus horas de silencio (22:00-8:00):"
            " elegiste esa hora, asi que llega igual, con sus avisos siguientes.",
        ),
        (
            "es",
            "1:00, 23:00",
            "Tus recordatorios de la 1:00 y de las 23:00 caen dentro de tus horas de silencio"
            " (22:00-8:00): elegiste esas horas, asi que llegan igual, con sus avisos siguientes.",
        ),
        (
            "en",
            "1:00",
            "Your reminder at 1:00 AM falls inside your quiet hours (10:00 PM-8:00 AM): you chose"
            " that time, so it still comes then, with its follow-ups.",
        ),
        (
            "en",
            "1:00, 23:00",
            "Your reminders at 1:00 AM, 11:00 PM fall inside your quiet hours (10:00 PM-8:00 AM):"
            " you chose those times, so they still come then, with their follow-ups.",
        ),
    ],
)
async def test_a_time_inside_quiet_hours_is_named_as_a_reminder(
    web: httpx.AsyncClient,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    locale: str,
    times: str,
    note: str,
) -> None:
    saved = await _saved(admin_conn, web, fake_twilio, locale, times)
    assert note in saved, saved
