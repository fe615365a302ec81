"""Issue 14, item 6: a patient the clinic entered is not asked again for what the clinic entered.

Over the web process: the clinic creates the patient through the API (name, language, time zone,
phone) and an invite; the patient opens it on Telegram and agrees; the bot goes straight to the
one question left (which channel first), in the language the clinic entered.
"""

from __future__ import annotations

import asyncpg
import httpx

from tests.fakes.fake_telegram import FakeTelegram
from tests.web.chat import telegram_press, telegram_text

CHAT = 555_140_201


async def test_invited_patient_is_not_asked_what_the_clinic_entered(
    web: httpx.AsyncClient, admin_conn: asyncpg.Connection, auth: dict, fake_telegram: FakeTelegram
) -> None:
    created = await web.post(
        "/api/v1/patients",
        json={
            "display_name": "Sam",
            "locale": "es",
            "timezone": "America/Chicago",
            "phone": "+12025550143",
            "channel_order": ["telegram", "sms"],
        },
        headers=auth,
    )
    assert created.status_code == 201, created.text
    patient_id = created.json()["id"]
    invite = await web.post(f"/api/v1/patients/{patient_id}/invites", headers=auth)
    token = invite.json()["token"]

    await telegram_text(web, CHAT, f"/start {token}")
    consent = fake_telegram.sent_messages[-1]
    agree = next(data for row in consent.buttons() for label, data in row if label == "I agree")
    before = len(fake_telegram.sent_messages)
    await telegram_press(web, CHAT, agree)

    [asked] = fake_telegram.sent_messages[before:]
    # In the clinic's language, and only what is left: no name, language, zone or phone.
    assert asked.text == "¿Por dónde te envío primero los recordatorios?"
    labels = [label for row in asked.buttons() for label, _ in row]
    assert labels == ["Primero SMS, luego Telegram", "Primero Telegram, luego SMS", "Solo SMS"]
    row = await admin_conn.fetchrow(
        "select display_name, locale, timezone, consent_at from patients where id = $1",
        created.json()["id"],
    )
    assert (row["display_name"], row["locale"], row["timezone"]) == ("Sam", "es", "America/Chicago")
    assert row["consent_at"] is not None
