"""Quiet hours whose start equals their end ("22:00-22:00") are refused by every entry point,
saying what is wrong and how to fix it; 00:00 to 00:00 is "no quiet hours" everywhere.

A window of no length is stored as "off" (the dispatcher holds nothing back), so the API and the
patient app took "22:00 to 22:00" silently and a patient who meant a night, or a whole quiet day,
got reminders at any hour. The bot refused it but also refused "0:00-0:00", the very window its
own "none" stores and the API shows for it. Driven through the web process: the bot over signed
Twilio webhooks (replies read off the loopback Twilio), the API with a clinic's key; the patient
app's case is in tests/web/test_patient_app.py. The window kept is read from the database.
"""

from __future__ import annotations

from datetime import time

import asyncpg
import httpx
import pytest

from tests import factories
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import sms_chat, through_menus

NUMBER = "+34600111560"
NIGHT = (time(21, 0), time(7, 0))


async def _window(conn: asyncpg.Connection, patient_id: object) -> tuple[time, time]:
    row = await conn.fetchrow(
        "select quiet_start, quiet_end from patients where id = $1", patient_id
    )
    return row["quiet_start"], row["quiet_end"]


NONE = (time(0, 0), time(0, 0))


@pytest.mark.parametrize(
    ("locale", "typed", "said", "kept"),
    [
        # Refused, saying how to fix it; the old window stays.
        ("es", "22:00-22:00", "Las dos horas deben ser distintas", NIGHT),
        ("es", "de 23 a 23", "Las dos horas deben ser distintas", NIGHT),
        ("en", "10pm to 10pm", "The two times must differ", NIGHT),
        # No quiet hours, as the API and the app write it: taken, and said back as none.
        ("es", "0:00-0:00", "Guardado. Horas de silencio: ninguna.", NONE),
        ("es", "ninguna", "Guardado. Horas de silencio: ninguna.", NONE),
        ("en", "00:00-00:00", "Saved. Quiet hours: none.", NONE),
    ],
)
async def test_the_bot_refuses_a_window_of_no_length_but_midnight_to_midnight_is_none(
    web: httpx.AsyncClient,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    locale: str,
    typed: str,
    said: str,
    kept: tuple[time, time],
) -> None:
    patient = await factories.create_patient(
        admin_conn,
        contacts={"sms": NUMBER},
        locale=locale,
        quiet_start=NIGHT[0],
        quiet_end=NIGHT[1],
    )
    say = sms_chat(web, fake_twilio, NUMBER)
    await through_menus(say, "/settings", "Quiet hours" if locale == "en" else "Horas de silencio")
    reply = await say(typed)
    assert said in reply, reply
    assert await _window(admin_conn, patient["id"]) == kept


async def test_the_api_refuses_a_window_of_no_length_naming_how_to_say_none(
    web: httpx.AsyncClient,
    admin_conn: asyncpg.Connection,
    org: asyncpg.Record,
    auth: dict[str, str],
) -> None:
    patient = await factories.create_patient(
        admin_conn, org["id"], quiet_start=NIGHT[0], quiet_end=NIGHT[1]
    )
    path = f"/api/v1/patients/{patient['id']}"
    refused = await web.patch(
        path, json={"quiet_start": "22:00", "quiet_end": "22:00"}, headers=auth
    )
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["field"] == "quiet_end"
    assert "22:00" in error["reason"] and "00:00" in error["reason"], error
    assert await _window(admin_conn, patient["id"]) == NIGHT
    # 00:00 to 00:00 is "no quiet hours", as the bot's "none" stores it and GET shows it: an
    # integrator writing back what it read is not refused.
    none = await web.patch(path, json={"quiet_start": "00:00", "quiet_end": "00:00"}, headers=auth)
    assert none.status_code == 200, none.text
    assert (none.json()["quiet_start"], none.json()["quiet_end"]) == ("00:00", "00:00")
    assert await _window(admin_conn, patient["id"]) == NONE


async def test_the_clinic_default_window_of_no_length_is_refused_too(
    web: httpx.AsyncClient,
    admin_conn: asyncpg.Connection,
    org: asyncpg.Record,
    auth: dict[str, str],
) -> None:
    """The clinic's default window is every patient's without one of their own: stored off, a
    "22:00 to 22:00" the admin meant as a night sent them messages at any hour."""
    before = await admin_conn.fetchrow(
        "select default_quiet_start, default_quiet_end from organizations where id = $1", org["id"]
    )
    refused = await web.patch(
        "/api/v1/clinic",
        json={"default_quiet_start": "22:00", "default_quiet_end": "22:00"},
        headers=auth,
    )
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["field"] == "default_quiet_end"
    assert "22:00" in error["reason"] and "00:00 and 00:00" in error["reason"], error
    after = await admin_conn.fetchrow(
        "select default_quiet_start, default_quiet_end from organizations where id = $1", org["id"]
    )
    assert after == before
    none = await web.patch(
        "/api/v1/clinic",
        json={"default_quiet_start": "00:00", "default_quiet_end": "00:00"},
        headers=auth,
    )
    assert none.status_code == 200, none.text
    assert (none.json()["default_quiet_start"], none.json()["default_quiet_end"]) == (
        "00:00",
        "00:00",
    )
