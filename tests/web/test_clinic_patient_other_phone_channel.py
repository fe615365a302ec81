"""A clinic's patient who writes on WhatsApp from the number the clinic gave for SMS (or by SMS
from their WhatsApp number) is that patient, with no /start.

Found as a patient: the clinic registered Rosa with her phone for SMS; she wrote "Hola" on
WhatsApp and was answered "¡Hola! Envía /start para configurar tus recordatorios.", and /start
made a second record of her, of no clinic, with no medicines: what she added there was reminded
beside the clinic's, and the clinic saw neither those doses nor her answers (one person, one
record: docs/data-model.md). A number she proved hers by writing from it is her record's on the
other channel too. Not so for a number a self-registered patient only typed (unproven, nothing is
sent to it): its owner writing is somebody else.

Over the web process: the clinic's API, signed Twilio webhooks, replies read off the loopback
Twilio (the processes' WhatsApp sender, its 24-hour window opened by the patient's message).
"""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from tests import factories
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import plain, twilio_inbound

NUMBER = "+34600111222"
ADDRESS = {"sms": NUMBER, "whatsapp": f"whatsapp:{NUMBER}"}


@pytest.fixture
def senders(wa_senders: dict) -> dict:
    """The processes' senders: WhatsApp's window read from ``inbound_messages``, so a reply to
    the patient's message goes out as a session message."""
    return wa_senders


async def _say(web: httpx.AsyncClient, twilio: FakeTwilio, channel: str, text: str) -> str:
    before = len(twilio.messages)
    await twilio_inbound(web, ADDRESS[channel], text)
    shown = [m.body or str((m.rendered or {}).get("body") or "") for m in twilio.messages[before:]]
    return "\n".join(plain(s) for s in shown)


@pytest.mark.parametrize(("given", "writes"), [("sms", "whatsapp"), ("whatsapp", "sms")])
async def test_the_clinics_patient_writing_on_the_other_phone_channel_is_that_patient(
    web: httpx.AsyncClient,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    auth: dict[str, str],
    given: str,
    writes: str,
) -> None:
    created = await web.post(
        "/api/v1/patients",
        json={
            "display_name": "Rosa",
            "phone": NUMBER,
            "consent": True,
            "timezone": "Europe/Madrid",
            "locale": "es",
            "channel_order": [given],
        },
        headers=auth,
    )
    assert created.status_code == 201, created.text
    patient_id = created.json()["id"]
    await factories.create_medication(admin_conn, patient_id, name="Lisinopril")

    greeting = await _say(web, fake_twilio, writes, "Hola")
    assert "Rosa" in greeting and "/start" not in greeting, greeting
    listed = await _say(web, fake_twilio, writes, "/meds")
    assert "Lisinopril" in listed, listed
    # One record: the chat is hers, and the number on this channel is hers too (she may move her
    # reminders to it in /settings).
    assert await admin_conn.fetchval("select count(*) from patients") == 1
    contacts = await admin_conn.fetch(
        "select channel, patient_id::text, verified from contact_points order by channel"
    )
    assert {(r["channel"], r["patient_id"]) for r in contacts} == {
        ("sms", patient_id),
        ("whatsapp", patient_id),
    }
    assert next(r["verified"] for r in contacts if r["channel"] == writes)


async def test_a_number_a_patient_only_typed_is_not_theirs_on_the_other_channel(
    web: httpx.AsyncClient, admin_conn: asyncpg.Connection, fake_twilio: FakeTwilio
) -> None:
    # A Telegram patient of no clinic typed this number: unproven, inactive (bot.sql
    # add_contact_point), nothing is sent to it.
    typed_by = await factories.create_patient(admin_conn, display_name="Ana")
    await admin_conn.execute(
        "insert into contact_points (patient_id, channel, address, verified, active)"
        " values ($1, 'sms', $2, false, false)",
        typed_by["id"],
        NUMBER,
    )
    reply = await _say(web, fake_twilio, "whatsapp", "Hola")
    assert "Ana" not in reply and "/start" in reply, reply
    assert (
        await admin_conn.fetchval("select count(*) from contact_points where channel = 'whatsapp'")
        == 0
    )
