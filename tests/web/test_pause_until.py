""" "/pause until 3/15": the pause ends by itself at the start of that day in the patient's zone
(a length, "/pause 3 days", at the same time of day that many days on), stored in
``patients.reminders_paused_until``; the reply names when, the date they typed read their
region's way round (bot.date_order, as /add's dates) and named in words. The words after /pause
were ignored without a word, then answered "a pause has no end date": a patient who forgot
/resume missed every dose. An end not read stays open, as a plain /pause. Over SMS through the
web process (the clock: Wednesday, March 4, 2026, 11:50 UTC; the patients live in UTC)."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import httpx
import pytest

from tests import factories
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import sms_chat

PAUSED_EN = "All reminders are paused."  # the line after says how to have them sooner
PAUSED_ES = "Todos los recordatorios estan en pausa."


MARCH_15 = datetime(2026, 3, 15, tzinfo=UTC)
# When each pause ends (none: open until /resume): a date at its start, a length at the same time.
ENDS = {
    "/pause until 3/15": MARCH_15,
    "/pausa hasta el 15/3": MARCH_15,
    "/pausa hasta 3/15": MARCH_15,
    "/pause 3 days": datetime(2026, 3, 7, 11, 50, tzinfo=UTC),
}


@pytest.mark.parametrize(
    ("number", "locale", "typed", "said"),
    [
        (
            "+12125550183",
            "en",
            "/pause until 3/15",
            f"{PAUSED_EN}\nThey come back by themselves at the start of Sunday, March 15, 2026."
            " Send /resume to have them sooner.",
        ),
        (
            "+34600123457",
            "es",
            "/pausa hasta el 15/3",
            f"{PAUSED_ES}\nSe reanudaran solos al empezar el domingo, 15 de marzo de 2026. Envia"
            " /resume para reanudarlos antes.",
        ),
        (
            # A Spanish speaker in the US writes the month first too.
            "+12125550184",
            "es",
            "/pausa hasta 3/15",
            f"{PAUSED_ES}\nSe reanudaran solos al empezar el domingo, 15 de marzo de 2026. Envia"
            " /resume para reanudarlos antes.",
        ),
        (
            "+12125550185",
            "en",
            # A length names its last day too (bot.command_phrases.pause_days).
            "/pause 3 days",
            f"{PAUSED_EN}\nThey come back by themselves on Saturday, March 7, 2026 at 11:50 AM."
            " Send /resume to have them sooner.",
        ),
        (
            "+12125550187",
            "en",
            "/pause until I feel better",
            f"{PAUSED_EN}\nThis pause has no end date: they stay off until you send /resume.",
        ),
        (
            "+12125550188",
            "en",
            # Today's date is no end: nothing is paused, and its other reading ahead (3 April) is
            # offered, Yes or No (it paused open before, "no end date" saying nothing of why).
            "/pause until 3/4",
            "3/4 read as Wednesday, March 4, 2026 is today, so nothing is paused yet. Did you"
            " mean Friday, April 3, 2026?\n\n1 Yes\n2 No",
        ),
        ("+12125550186", "en", "/pause", f"{PAUSED_EN} Send /resume to restart them."),
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
    """(Its name is from before a pause could end: tests/slow_tests.txt lists it so.)"""
    await factories.create_patient(
        admin_conn, contacts={"sms": number}, display_name="Ana", locale=locale
    )
    say = sms_chat(web, fake_twilio, number)
    assert await say(typed) == said
    paused = await admin_conn.fetchrow(
        "select reminders_paused, reminders_paused_until from patients"
    )
    assert tuple(paused) == (typed != "/pause until 3/4", ENDS.get(typed))
