"""Pausing one medicine from /meds says what it does and how to undo it.

Found as a Spanish patient on SMS: /meds lists the medicines by number ("1. Ibuprofeno ...")
above a menu numbered too ("1 Pausar Ibuprofeno"); a "1" meant for the first medicine paused it
at once, answered only "Ibuprofeno en pausa.": nothing said that its reminders had stopped, nor
how to have them back. Over the web process (signed Twilio webhooks, loopback Twilio).
"""

from __future__ import annotations

from datetime import time

import asyncpg
import httpx

from scheduler.planner import replan_patient
from tests import factories
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import START, option_number, sms_chat

NUMBER = "+34600111561"


async def test_a_medicine_paused_by_a_1_says_its_reminders_stop_and_how_to_resume(
    web: httpx.AsyncClient,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    org: asyncpg.Record,
) -> None:
    patient = await factories.create_patient(
        admin_conn, org["id"], contacts={"sms": NUMBER}, locale="es"
    )
    medication, _ = await factories.create_medication(
        admin_conn, patient["id"], name="Ibuprofeno", times=(time(20, 0),)
    )
    await replan_patient(admin_conn, patient["id"], START)
    say = sms_chat(web, fake_twilio, NUMBER)

    listed = await say("/meds")
    assert "1. Ibuprofeno" in listed and option_number(listed, "Pausar Ibuprofeno") == "1"
    paused = await say("1")
    assert (
        await admin_conn.fetchval("select status from medications where id = $1", medication["id"])
        == "paused"
    )
    assert "no te recordaré sus dosis" in paused and "/meds" in paused, paused
    # The way back is where it says.
    listed = await say("/meds")
    resumed = await say(option_number(listed, "Reanudar Ibuprofeno"))
    assert "reanudado" in resumed, resumed
    assert (
        await admin_conn.fetchval("select status from medications where id = $1", medication["id"])
        == "active"
    )
