"""A whole flow at DEBUG level, logs captured: no phone number, e-mail address, message text, bot
token, medicine name, webhook secret or API key appears anywhere in them."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.db import Database
from core.logs import configure_logging
from core.settings import load_settings
from platforms.registry import build_senders
from tests.fakes.fake_telegram import FakeTelegram, callback_update, text_update
from tests.fakes.fake_twilio import DEFAULT_AUTH_TOKEN, FakeTwilio, inbound_form, status_form
from tests.web.conftest import (
    PUBLIC_BASE_URL,
    WEBHOOK_SECRET,
    make_app,
    make_client,
    twilio_signature,
    web_env,
)

BOT_TOKEN = "7123456789:AAHk3vZ9qR2xYw8LmN4pT6sUoBcDeFgHiJk"
PHONE = "+14155550177"
EMAIL = "jordan.private@example.org"
MESSAGE_TEXT = "Jordan, please bring your insulin pen on Tuesday"
MEDICINE = "Zolpidemix Retard"
PATIENT_TEXT = "I feel dizzy after the Zolpidemix Retard"
CHAT_ID = 812345671


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Everything logged at DEBUG through the service's JSON handler and redaction filter."""
    root = logging.getLogger()
    level = root.level
    stream = io.StringIO()
    handler = configure_logging("DEBUG", stream=stream)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def test_no_phi_or_secret_in_debug_logs(
    database_url: str, tmp_path: Path, db: Database, admin_conn, captured_logs
):
    with FakeTelegram(token=BOT_TOKEN) as telegram, FakeTwilio() as twilio:
        settings = load_settings(
            web_env(
                database_url,
                tmp_path,
                PUBLIC_BASE_URL=PUBLIC_BASE_URL,
                TELEGRAM_BOT_TOKEN=BOT_TOKEN,
                TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET,
                TELEGRAM_API_BASE_URL=telegram.base_url,
                TWILIO_ACCOUNT_SID=twilio.account_sid,
                TWILIO_AUTH_TOKEN=DEFAULT_AUTH_TOKEN,
                TWILIO_SMS_FROM="+15005550006",
                TWILIO_API_BASE_URL=twilio.base_url,
                MEDREMIND_LOG_LEVEL="DEBUG",
            )
        )
        senders = build_senders(settings)
        from medremind.api_keys import create_api_key
        from tests.factories import create_organization

        org = await create_organization(admin_conn)
        assert db.pool is not None
        key = await create_api_key(db.pool, str(org["id"]), "log test")
        auth = {"Authorization": f"Bearer {key}"}
        try:
            async with make_client(make_app(settings, db, senders)) as client:
                patient = await client.post(
                    "/api/v1/patients",
                    json={
                        "display_name": "Jordan Privateperson",
                        "phone": PHONE,
                        "email": EMAIL,
                        "consent": True,
                        "channel_order": ["sms", "email"],
                    },
                    headers=auth,
                )
                assert patient.status_code == 201, patient.text
                patient_id = patient.json()["id"]
                # A rejected phone must not be echoed into the logs either.
                bad = await client.post(
                    "/api/v1/patients", json={"phone": PHONE + "999999"}, headers=auth
                )
                assert bad.status_code == 422
                # A path is the client's text: a wrong URL or a template's name holding a name
                # or a medicine was logged as it came (the access log's "path").
                wrong = await client.get(
                    "/api/v1/patients/by-name/Jordan Privateperson", headers=auth
                )
                assert wrong.status_code == 404
                named = await client.put(
                    f"/api/v1/templates/{MEDICINE}", json={"body": "Hello"}, headers=auth
                )
                assert named.status_code == 201, named.text
                other_bot = await client.post("/telegram/webhook/Privateperson", json={})
                assert other_bot.status_code == 404
                soon = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
                message = await client.post(
                    "/api/v1/messages",
                    json={"patient_id": patient_id, "text": MESSAGE_TEXT, "scheduled_time": soon},
                    headers=auth,
                )
                assert message.status_code == 201
                fhir = await client.post(
                    "/api/v1/fhir/MedicationRequest",
                    json={
                        "resourceType": "MedicationRequest",
                        "subject": {"reference": f"Patient/{patient_id}"},
                        "medicationCodeableConcept": {"text": MEDICINE},
                        "dosageInstruction": [{"timing": {"code": {"coding": [{"code": "BID"}]}}}],
                    },
                    headers=auth,
                )
                assert fhir.status_code == 201, fhir.text
                secret = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
                for update in (
                    text_update(CHAT_ID, "/start"),
                    text_update(CHAT_ID, PATIENT_TEXT),
                    text_update(CHAT_ID, f"my email is {EMAIL} and phone {PHONE}"),
                    callback_update(CHAT_ID, "t:deadbeef"),
                ):
                    response = await client.post("/telegram/webhook", json=update, headers=secret)
                    assert response.status_code == 200
                # A wrong secret is logged as a refusal, never with the secret it carried.
                await client.post(
                    "/telegram/webhook",
                    json=text_update(CHAT_ID, "x"),
                    headers={"X-Telegram-Bot-Api-Secret-Token": BOT_TOKEN},
                )
                form = inbound_form(PHONE, PATIENT_TEXT)
                signature = twilio_signature("/twilio/inbound", form)
                response = await client.post(
                    "/twilio/inbound", data=form, headers={"X-Twilio-Signature": signature}
                )
                assert response.status_code == 200
                status = status_form("SM" + "9" * 32, "undelivered", to=PHONE, error_code=30003)
                signature = twilio_signature("/twilio/status", status)
                response = await client.post(
                    "/twilio/status", data=status, headers={"X-Twilio-Signature": signature}
                )
                assert response.status_code == 204
                assert telegram.sent_messages, "the bot should have answered on Telegram"
        finally:
            for sender in senders.values():
                await sender.aclose()

    text = captured_logs.getvalue()
    records = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert any(r.get("logger") == "medremind.web.access" for r in records)
    assert len(records) >= 10
    assert all("request_id" in r for r in records if r.get("logger") == "medremind.web.access")
    for secret_value in (
        PHONE,
        PHONE.removeprefix("+"),
        EMAIL,
        MESSAGE_TEXT,
        PATIENT_TEXT,
        MEDICINE,
        BOT_TOKEN,
        BOT_TOKEN.split(":")[1],
        WEBHOOK_SECRET,
        key,
        # The secret part alone (after "mr_<prefix>_"); a split on the last "_" could leave a
        # few characters of it (token_urlsafe has "_"), found by chance in a random request id.
        key.split("_", 2)[2],
        DEFAULT_AUTH_TOKEN,
        "Privateperson",
        str(CHAT_ID),
    ):
        assert secret_value.lower() not in text.lower(), f"{secret_value!r} leaked into the logs"
