"""The webhook security matrix: every refusal gives the right status and leaves no row behind;
every accepted delivery has its effect exactly once, however often it is replayed."""

from __future__ import annotations

import secrets
from math import inf, nan
from pathlib import Path

import asyncpg
import pytest

from core.db import Database
from core.settings import Settings, load_settings
from tests.factories import create_message, create_patient
from tests.fakes.fake_telegram import DEFAULT_TOKEN, FakeTelegram, callback_update, text_update
from tests.fakes.fake_twilio import DEFAULT_AUTH_TOKEN, FakeTwilio, inbound_form, status_form
from tests.web.conftest import (
    INTERNAL_BASE_URL,
    PUBLIC_BASE_URL,
    WEBHOOK_SECRET,
    count,
    make_app,
    make_client,
    twilio_signature,
    web_env,
)

SECRET = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}


# -- Telegram -----------------------------------------------------------------------------------


BAD_SECRETS = {
    "missing": {},
    "empty": {"X-Telegram-Bot-Api-Secret-Token": ""},
    "wrong": {"X-Telegram-Bot-Api-Secret-Token": "wrong"},
    "longer": {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET + "x"},
    "shorter": {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET[:-1]},
    "other case": {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET.upper()},
}


async def test_telegram_bad_secret_is_403_and_stores_nothing(client, admin_conn, fake_telegram):
    for name, headers in BAD_SECRETS.items():
        response = await client.post(
            "/telegram/webhook", json=text_update(555000111, "/start"), headers=headers
        )
        assert response.status_code == 403, name
        assert response.json()["error"]["code"] == "forbidden"
    assert await count(admin_conn, "inbound_messages") == 0
    assert fake_telegram.sent_messages == []


async def test_telegram_without_configured_secret_fails_closed(
    database_url: str, tmp_path: Path, db: Database, admin_conn: asyncpg.Connection
):
    settings = load_settings(web_env(database_url, tmp_path, TELEGRAM_BOT_TOKEN=DEFAULT_TOKEN))
    async with make_client(make_app(settings, db)) as client:
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": ""}, SECRET):
            response = await client.post(
                "/telegram/webhook", json=text_update(555000111, "hi"), headers=headers
            )
            assert response.status_code == 403
    assert await count(admin_conn, "inbound_messages") == 0


async def test_telegram_update_stored_processed_and_replay_has_no_second_effect(
    client, admin_conn, fake_telegram: FakeTelegram
):
    update = text_update(555000222, "/start")
    first = await client.post("/telegram/webhook", json=update, headers=SECRET)
    assert first.status_code == 200
    assert first.json() == {"ok": True}
    row = await admin_conn.fetchrow("select status, channel from inbound_messages")
    assert row["channel"] == "telegram"
    # The background task ran after the 200 (ASGITransport waits for it): the bot answered.
    assert row["status"] == "processed"
    replies = len(fake_telegram.sent_messages)
    assert replies >= 1

    again = await client.post("/telegram/webhook", json=update, headers=SECRET)
    assert again.status_code == 200
    assert await count(admin_conn, "inbound_messages") == 1
    assert len(fake_telegram.sent_messages) == replies


async def test_telegram_button_press_is_answered_in_the_webhook_response(
    client, admin_conn, fake_telegram
):
    update = callback_update(555000333, "x:unknown")
    response = await client.post("/telegram/webhook", json=update, headers=SECRET)
    assert response.status_code == 200
    assert response.json() == {
        "method": "answerCallbackQuery",
        "callback_query_id": update["callback_query"]["id"],
    }
    assert await count(admin_conn, "inbound_messages") == 1
    # Processing replied but did not answer the query a second time through the Bot API.
    assert fake_telegram.calls_to("answerCallbackQuery") == []
    assert await admin_conn.fetchval("select status from inbound_messages") == "processed"
    # A redelivery is not stored again but gets the same answer.
    again = await client.post("/telegram/webhook", json=update, headers=SECRET)
    assert again.json()["method"] == "answerCallbackQuery"
    assert await count(admin_conn, "inbound_messages") == 1


async def test_telegram_ignores_unhandled_update_types(client, admin_conn):
    response = await client.post(
        "/telegram/webhook",
        json={"update_id": 99, "edited_message": {"message_id": 1}},
        headers=SECRET,
    )
    assert response.status_code == 200
    assert await count(admin_conn, "inbound_messages") == 0


async def test_telegram_malformed_body_with_valid_secret_is_acknowledged(client, admin_conn):
    # Authenticated JSON that is no Update, or no JSON at all, is acknowledged and dropped: a
    # redelivery would not fix it, and Telegram redelivers anything but a 200 for hours.
    for odd in ({}, {"update_id": "x"}, {"update_id": 5, "callback_query": {"id": 1}}):
        response = await client.post("/telegram/webhook", json=odd, headers=SECRET)
        assert response.status_code == 200, odd
    response = await client.post(
        "/telegram/webhook",
        content=b"{not json",
        headers={**SECRET, "content-type": "application/json"},
    )
    assert response.status_code == 200
    assert await count(admin_conn, "inbound_messages") == 0


# -- Twilio inbound -----------------------------------------------------------------------------


def _signed(path: str, form: dict[str, str], **kwargs) -> dict[str, str]:
    return {"X-Twilio-Signature": twilio_signature(path, form, **kwargs)}


async def test_twilio_forged_signature_is_403(client, admin_conn):
    form = inbound_form("+14155550100", "hello")
    for signature in ("", "forged", twilio_signature("/twilio/inbound", {"Body": "x"})):
        headers = {"X-Twilio-Signature": signature} if signature else {}
        response = await client.post("/twilio/inbound", data=form, headers=headers)
        assert response.status_code == 403
    assert await count(admin_conn, "inbound_messages") == 0


async def test_twilio_valid_signature_with_tampered_body_is_403(client, admin_conn):
    form = inbound_form("+14155550100", "hello")
    headers = _signed("/twilio/inbound", form)
    tampered = {**form, "Body": "STOP"}
    response = await client.post("/twilio/inbound", data=tampered, headers=headers)
    assert response.status_code == 403
    extra = {**form, "Extra": "1"}
    response = await client.post("/twilio/inbound", data=extra, headers=headers)
    assert response.status_code == 403
    assert await count(admin_conn, "inbound_messages") == 0


async def test_twilio_signature_over_public_https_url_holds_behind_http_proxy(
    client, admin_conn, fake_twilio: FakeTwilio
):
    # The client speaks http://web.internal:8000 to the app; Twilio signed https://public/...
    assert client.base_url.scheme == "http"
    form = inbound_form("+14155550101", "hello")
    # Signed over the URL the app itself sees: refused, the app must not trust request.url.
    internal = _signed("/twilio/inbound", form, base=INTERNAL_BASE_URL)
    response = await client.post("/twilio/inbound", data=form, headers=internal)
    assert response.status_code == 403
    assert await count(admin_conn, "inbound_messages") == 0

    response = await client.post(
        "/twilio/inbound", data=form, headers=_signed("/twilio/inbound", form)
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text.endswith("<Response/>")
    row = await admin_conn.fetchrow("select channel, provider_message_id from inbound_messages")
    assert row["channel"] == "sms"
    assert row["provider_message_id"] == form["MessageSid"]


async def test_twilio_signature_covers_the_query_string(client, admin_conn):
    form = inbound_form("whatsapp:+14155550102", "hello")
    path = "/twilio/inbound?tenant=north"
    response = await client.post(path, data=form, headers=_signed(path, form))
    assert response.status_code == 200
    # The same signature without the query does not hold.
    other = inbound_form("+14155550103", "hi")
    response = await client.post(
        "/twilio/inbound?tenant=north", data=other, headers=_signed("/twilio/inbound", other)
    )
    assert response.status_code == 403
    assert await count(admin_conn, "inbound_messages") == 1


async def test_twilio_inbound_replay_has_no_second_effect(client, admin_conn, fake_twilio):
    form = inbound_form("+14155550104", "HELP")
    headers = _signed("/twilio/inbound", form)
    first = await client.post("/twilio/inbound", data=form, headers=headers)
    assert first.status_code == 200
    replies = len(fake_twilio.messages)
    row = await admin_conn.fetchrow("select status from inbound_messages")
    assert row["status"] == "processed"
    for _ in range(2):
        again = await client.post("/twilio/inbound", data=form, headers=headers)
        assert again.status_code == 200
        assert again.text.endswith("<Response/>")
    assert await count(admin_conn, "inbound_messages") == 1
    assert len(fake_twilio.messages) == replies


@pytest.mark.parametrize("missing", ["TWILIO_AUTH_TOKEN", "PUBLIC_BASE_URL"])
async def test_twilio_refused_when_not_configured(
    database_url: str, tmp_path: Path, db: Database, admin_conn: asyncpg.Connection, missing: str
):
    env = web_env(
        database_url,
        tmp_path,
        PUBLIC_BASE_URL=PUBLIC_BASE_URL,
        TWILIO_ACCOUNT_SID="AC" + "0" * 32,
        TWILIO_AUTH_TOKEN=DEFAULT_AUTH_TOKEN,
    )
    del env[missing]
    settings: Settings = load_settings(env)
    form = inbound_form("+14155550105", "hello")
    status = status_form("SMabc", "delivered")
    async with make_client(make_app(settings, db)) as client:
        response = await client.post(
            "/twilio/inbound", data=form, headers=_signed("/twilio/inbound", form)
        )
        assert response.status_code == 403
        response = await client.post(
            "/twilio/status", data=status, headers=_signed("/twilio/status", status)
        )
        assert response.status_code == 403
    assert await count(admin_conn, "inbound_messages") == 0
    assert await count(admin_conn, "delivery_status_events") == 0


# -- Twilio status callbacks ------------------------------------------------------------------


async def _sent_sms(admin_conn, org_id, sid: str) -> asyncpg.Record:
    """A message the worker sent by SMS: its row and its send's attempt, both naming the SID (a
    callback finds its message through the attempt: migration 20260101011010)."""
    patient = await create_patient(admin_conn, org_id, contacts={"sms": "+14155550106"})
    message = await create_message(
        admin_conn,
        patient["id"],
        status="sent",
        provider_message_id=sid,
        channel_used="sms",
        attempts=1,
    )
    await admin_conn.execute(
        "insert into message_delivery_attempts"
        " (message_id, attempt_time, status, channel, provider_message_id)"
        " values ($1, now() - interval '1 minute', 'sent', 'sms', $2)",
        message["id"],
        sid,
    )
    return message


async def test_status_forged_or_tampered_is_403(client, admin_conn, org):
    message = await _sent_sms(admin_conn, org["id"], "SM" + "1" * 32)
    form = status_form("SM" + "1" * 32, "delivered")
    headers = _signed("/twilio/status", form)
    response = await client.post("/twilio/status", data=form, headers={"X-Twilio-Signature": "x"})
    assert response.status_code == 403
    response = await client.post(
        "/twilio/status", data={**form, "MessageStatus": "failed"}, headers=headers
    )
    assert response.status_code == 403
    assert await count(admin_conn, "delivery_status_events") == 0
    status = await admin_conn.fetchval(
        "select status from scheduled_messages where id = $1", message["id"]
    )
    assert status == "sent"


async def test_status_delivered_applied_once_and_never_backwards(client, admin_conn, org):
    sid = "SM" + "2" * 32
    message = await _sent_sms(admin_conn, org["id"], sid)
    delivered = status_form(sid, "delivered")
    for _ in range(2):  # the second is a replay
        response = await client.post(
            "/twilio/status", data=delivered, headers=_signed("/twilio/status", delivered)
        )
        assert response.status_code == 204
    late_sent = status_form(sid, "sent")
    response = await client.post(
        "/twilio/status", data=late_sent, headers=_signed("/twilio/status", late_sent)
    )
    assert response.status_code == 204
    row = await admin_conn.fetchrow(
        "select status, delivered_at from scheduled_messages where id = $1", message["id"]
    )
    assert row["status"] == "delivered"
    assert row["delivered_at"] is not None
    attempts = await admin_conn.fetch(
        "select status, provider_message_id from message_delivery_attempts where message_id = $1"
        " order by attempt_time",
        message["id"],
    )
    assert [(a["status"], a["provider_message_id"]) for a in attempts] == [
        ("sent", sid),
        ("delivered", sid),
    ]
    assert await count(admin_conn, "delivery_status_events") == 2


async def test_status_undelivered_marks_failed_with_error(client, admin_conn, org):
    sid = "SM" + "3" * 32
    message = await _sent_sms(admin_conn, org["id"], sid)
    form = status_form(sid, "undelivered", error_code=30005)
    response = await client.post(
        "/twilio/status", data=form, headers=_signed("/twilio/status", form)
    )
    assert response.status_code == 204
    row = await admin_conn.fetchrow(
        "select status, last_error from scheduled_messages where id = $1", message["id"]
    )
    assert row["status"] == "failed"
    assert "30005" in row["last_error"]
    attempt = await admin_conn.fetchrow(
        "select status, error_class from message_delivery_attempts where message_id = $1"
        " and status <> 'sent'",
        message["id"],
    )
    assert (attempt["status"], attempt["error_class"]) == ("undelivered", "permanent")


async def test_status_for_unknown_sid_is_recorded_only(client, admin_conn):
    form = status_form("SM" + "4" * 32, "delivered")
    response = await client.post(
        "/twilio/status", data=form, headers=_signed("/twilio/status", form)
    )
    assert response.status_code == 204
    assert await count(admin_conn, "delivery_status_events") == 1
    assert await count(admin_conn, "message_delivery_attempts") == 0


async def test_nul_characters_do_not_break_storage(client, admin_conn, auth, patient):
    update = text_update(555000444, "hello\u0000there")
    response = await client.post("/telegram/webhook", json=update, headers=SECRET)
    assert response.status_code == 200
    form = inbound_form("+14155550107", "bad\x00byte")
    response = await client.post(
        "/twilio/inbound", data=form, headers=_signed("/twilio/inbound", form)
    )
    assert response.status_code == 200
    assert await count(admin_conn, "inbound_messages") == 2
    body = {"patient_id": str(patient["id"]), "text": "ok", "variables": {"a": "x\u0000"}}
    response = await client.post("/api/v1/messages", json=body, headers=auth)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "variables.a"


async def test_signed_forms_with_values_no_provider_sends_are_dropped_not_500(client, admin_conn):
    """Attack run: a signed form (a clinic signs its own number's webhooks with its own token)
    with a MessageSid or From of thousands of characters was a 500 (PostgreSQL cannot index the
    value), an error logged each time and the webhook retried. No SID or address Twilio sends is
    that long: such a form is acknowledged and counted, like any signed form we cannot use."""
    long_sid = "SM" + secrets.token_hex(4000)  # random: it does not compress under the limit
    forms = [
        ("/twilio/inbound", {**inbound_form("+14155550108", "hi"), "MessageSid": long_sid}),
        ("/twilio/inbound", inbound_form("+1" + secrets.token_hex(4000), "hi")),
        ("/twilio/status", status_form(long_sid, "delivered")),
        # A "location" at NaN or infinity was a 500 too (JSON, and so jsonb, has no NaN).
        ("/twilio/inbound", inbound_form("whatsapp:+1415555", latitude=nan, longitude=0.0)),
        ("/twilio/inbound", inbound_form("whatsapp:+1415555", latitude=1.0, longitude=-inf)),
    ]
    for path, form in forms:
        response = await client.post(path, data=form, headers=_signed(path, form))
        assert response.status_code in (200, 204), (path, response.text)
    assert await count(admin_conn, "inbound_messages") == 0
    assert await count(admin_conn, "delivery_status_events") == 0
