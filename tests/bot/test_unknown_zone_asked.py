"""A patient stored in ``Etc/Unknown`` is asked where they live when they next write.

``Factory`` was stored as ``Etc/Unknown`` (no zone database loads it) before the API refused it:
nothing was planned for such a patient, and the bot failed on the zone at the first step that
tells a time (``/today`` answered nothing: ``ZoneInfoNotFoundError``). Now whatever they write,
the bot says it could not plan their reminders and asks their time zone, as /settings does; the
answer is saved and their reminders are planned at once. Over loopback Twilio SMS and Telegram.
"""

from __future__ import annotations

from datetime import time

import asyncpg

from tests.bot.conftest import Bot
from tests.factories import create_medication, create_organization, create_patient
from tests.fakes.fake_twilio import TwilioCall

NUMBER = "+14155550188"
CHAT = 7_400_388


def _body(calls: list[TwilioCall]) -> str:
    """The first SMS's text."""
    assert calls and calls[0].body is not None
    return calls[0].body


async def _lost_patient(conn: asyncpg.Connection, contacts: dict[str, str]) -> asyncpg.Record:
    org = await create_organization(conn, timezone="Europe/Madrid")
    patient = await create_patient(
        conn, org["id"], contacts=contacts, display_name="Ana", timezone="Etc/Unknown"
    )
    await create_medication(conn, patient["id"], times=(time(9, 0),))
    return patient


async def test_an_sms_patient_in_an_unknown_zone_is_asked_and_planned(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    patient = await _lost_patient(admin_conn, {"sms": NUMBER})
    asked = await bot.sms(NUMBER, "/today")  # the question, then its numbered cities
    assert _body(asked).startswith(
        "I don't know where you live, so I could not plan your reminders."
    ), _body(asked)
    assert "Which time zone are you in?" in _body(asked)
    # Anything else first: the question again, nothing done.
    again = await bot.sms(NUMBER, "taken")
    assert _body(again).startswith("I don't know that place."), _body(again)
    confirm = await bot.sms(NUMBER, "Madrid")
    assert "(Madrid)" in _body(confirm), _body(confirm)
    saved = await bot.sms(NUMBER, "1")
    assert saved, "no answer to the confirmation"
    zone = await admin_conn.fetchval("select timezone from patients where id = $1", patient["id"])
    assert zone == "Europe/Madrid"
    planned = await admin_conn.fetchval(
        "select count(*) from dose_events where patient_id = $1", patient["id"]
    )
    assert planned > 0
    today = await bot.sms(NUMBER, "/today")
    assert today and "I don't know where you live" not in _body(today)


async def test_a_telegram_patient_in_an_unknown_zone_is_asked_with_city_buttons(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    patient = await _lost_patient(admin_conn, {"telegram": str(CHAT)})
    await bot.send(CHAT, "hello")
    assert bot.last_text(CHAT).startswith("I don't know where you live")
    assert "Share your location" in bot.last_text(CHAT)
    await bot.share_location(CHAT, 40.4168, -3.7038)  # Madrid
    assert "(Madrid)" in bot.last_text(CHAT)
    await bot.press(CHAT, bot.labels(CHAT)[0])
    zone = await admin_conn.fetchval("select timezone from patients where id = $1", patient["id"])
    assert zone == "Europe/Madrid"


async def test_delete_me_is_not_held_by_the_zone_question(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """Erasing their data never waits on the question (nor /help)."""
    await _lost_patient(admin_conn, {"sms": NUMBER})
    helped = await bot.sms(NUMBER, "/help")
    assert "/delete_me" in _body(helped), _body(helped)
    asked = await bot.sms(NUMBER, "/delete_me")
    assert _body(asked).startswith("This deletes your medicines, history and settings"), _body(
        asked
    )
