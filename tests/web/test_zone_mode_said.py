"""Switching between 'follow me' and 'keep home times' says what happens to the reminder times,
with the next reminder as it now falls: it was "Saved." alone, and a traveller in Tokyo back on
New York's times found their 8 a.m. reminder at 10 p.m. Driven over SMS through the web process's
signed Twilio webhook (the bot re-plans at the injected clock: 11:50 UTC, 8:50 p.m. in Tokyo)."""

from __future__ import annotations

from datetime import time

import asyncpg
import httpx

from tests import factories
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import START, option_number, sms_chat, through_menus

ANA = "+12125550182"


async def test_each_mode_says_where_reminders_fall(
    web: httpx.AsyncClient, admin_conn: asyncpg.Connection, fake_twilio: FakeTwilio
) -> None:
    patient = await factories.create_patient(
        admin_conn,
        contacts={"sms": ANA},
        display_name="Ana",
        timezone="Asia/Tokyo",
        home_timezone="America/New_York",
        timezone_mode="follow",
    )
    await factories.create_medication(admin_conn, patient["id"], times=(time(8, 0),))
    say = sms_chat(web, fake_twilio, ANA)

    modes = await through_menus(say, "/settings", "Home or follow")
    assert await say(option_number(modes, "Keep home times")) == (
        "Saved. Reminders keep their times in New York, your home time zone, even when"
        " you travel. Your next reminder: 8:00 AM in New York (10:00 PM where you are,"
        " Tokyo)."
    )
    modes = await through_menus(say, "/settings", "Home or follow")
    assert await say(option_number(modes, "Follow me")) == (
        "Saved. Reminders come at their times in the time zone you are in, now Tokyo: when"
        " you travel, set the new one in Time zone. Your next reminder: 8:00 AM (Tokyo)."
    )


async def test_at_home_the_next_reminder_is_said_once(
    web: httpx.AsyncClient, admin_conn: asyncpg.Connection, fake_twilio: FakeTwilio
) -> None:
    patient = await factories.create_patient(
        admin_conn, contacts={"sms": ANA}, display_name="Ana", timezone="America/New_York"
    )
    await factories.create_medication(admin_conn, patient["id"], times=(time(8, 0),))
    say = sms_chat(web, fake_twilio, ANA)
    modes = await through_menus(say, "/settings", "Home or follow")
    said = await say(option_number(modes, "Keep home times"))
    assert said.endswith("even when you travel. Your next reminder: 8:00 AM (New York).")


async def test_a_home_is_kept_through_a_trip_before_any_medicine(
    web: httpx.AsyncClient, admin_conn: asyncpg.Connection, fake_twilio: FakeTwilio
) -> None:
    """No medicine yet, so the planner never pinned London as home: 'follow me', a trip to
    Tokyo, and back to 'keep home times' made Tokyo the home (found over WhatsApp through the
    web process)."""
    patient = await factories.create_patient(
        admin_conn, contacts={"sms": ANA}, display_name="Tom", timezone="Europe/London"
    )
    say = sms_chat(web, fake_twilio, ANA)
    await through_menus(say, "/settings", "Home or follow", "Follow me")
    await through_menus(say, "/settings", "Time zone")
    await through_menus(say, "Tokyo", "Yes")
    modes = await through_menus(say, "/settings", "Home or follow")
    assert await say(option_number(modes, "Keep home times")) == (
        "Saved. Reminders keep their times in London, your home time zone, even when you travel."
    )
    home = "select home_timezone from patients where id = $1"
    assert await admin_conn.fetchval(home, patient["id"]) == "Europe/London"


async def test_a_snoozed_dose_is_the_next_reminder(
    web: httpx.AsyncClient, admin_conn: asyncpg.Connection, fake_twilio: FakeTwilio
) -> None:
    """At 11:50 a dose snoozed until 12:05 comes back before the 18:00 one: "Your next
    reminder" named 6:00 PM (found in `medremind dev`: a traveller snoozed the 9:07 dose to
    9:12, switched mode and was told 9:30; the snoozed reminder came at 9:12)."""
    patient = await factories.create_patient(
        admin_conn, contacts={"sms": ANA}, display_name="Ana", timezone="UTC"
    )
    _, schedule = await factories.create_medication(
        admin_conn, patient["id"], times=(time(11, 40), time(18, 0))
    )
    at = START.replace(hour=11, minute=40)
    await factories.create_dose_event(
        admin_conn,
        schedule,
        at,
        status="snoozed",
        snoozed_until=at.replace(minute=5, hour=12),
    )
    say = sms_chat(web, fake_twilio, ANA)
    modes = await through_menus(say, "/settings", "Home or follow")
    said = await say(option_number(modes, "Follow me"))
    assert said.endswith("Your next reminder: 12:05 PM (UTC)."), said
