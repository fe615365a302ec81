""" "/pause until 3/15": a pause has no end date, and the patient is told so, with the date they
typed read their region's way round (bot.date_order, as /add's dates) and named in words. The
words after /pause were ignored without a word: the patient waited for reminders to come back on
a day nothing would bring them back. Over SMS through the web process (the clock: Wednesday,
March 4, 2026)."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from tests import factories
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import sms_chat

PAUSED_EN = "All reminders are paused. Send /resume to restart them."
PAUSED_ES = "Todos los recordatorios estan en pausa. Envia /resume para reanudarlos."


@pytest.mark.parametrize(
    ("number", "locale", "typed", "said"),
    [
        (
            "+12125550183",
            "en",
            "/pause until 3/15",
            f"{PAUSED_EN}\nA pause has no end date: they will not restart by themselves on"
            " Sunday, March 15, 2026. Send /resume that day.",
        ),
        (
            "+34600123457",
            "es",
            "/pausa hasta el 15/3",
            f"{PAUSED_ES}\nUna pausa no tiene fecha de fin: no se reanudaran solos el domingo, 15"
            " de marzo de 2026. Envia /resume ese dia.",
        ),
        (
            # A Spanish speaker in the US writes the month first too.
            "+12125550184",
            "es",
            "/pausa hasta 3/15",
            f"{PAUSED_ES}\nUna pausa no tiene fecha de fin: no se reanudaran solos el domingo, 15"
            " de marzo de 2026. Envia /resume ese dia.",
        ),
        (
            "+12125550185",
            "en",
            # A length names its last day too (bot.command_phrases.pause_days).
            "/pause 3 days",
            f"{PAUSED_EN}\nA pause has no end date: they will not restart by themselves on"
            " Saturday, March 7, 2026. Send /resume that day.",
        ),
        (
            "+12125550187",
            "en",
            "/pause until I feel better",
            f"{PAUSED_EN}\nA pause has no end date: they stay off until you send /resume.",
        ),
        ("+12125550186", "en", "/pause", PAUSED_EN),
    ],
)
async def test_pause_with_an_end_says_it_has_none(
    web: httpx.AsyncClient,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    number: str,
    locale: str,
    typed: str,
    said: str,
) -> None:
    await factories.create_patient(
        admin_conn, contacts={"sms": number}, display_name="Ana", locale=locale
    )
    say = sms_chat(web, fake_twilio, number)
    assert await say(typed) == said
    assert await admin_conn.fetchval("select reminders_paused from patients") is True
