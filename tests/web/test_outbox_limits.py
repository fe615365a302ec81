"""The outbox refuses what the provider would: `medremind dev` must not call "sent" a message
that fails in production."""

from __future__ import annotations

import json

import httpx

from tests.factories import create_message, create_patient
from tests.fakes.fake_twilio import inbound_form
from tests.web.conftest import twilio_signature
from tests.web.processes import clinic_key, running_worker, until


async def test_an_sms_too_long_for_twilio_fails_in_the_outbox_too(
    db, admin_conn, web_process, database_url, tmp_path
):
    """An integrator's 1,000-character text to an SMS-only patient is 7 GSM-7 segments; the SMS
    adapter refuses more than MEDREMIND_SMS_MAX_SEGMENTS (3) before any request, but the outbox
    wrote it and the message read 'sent'. Now it fails with the adapter's reason, and a text that
    fits still goes to the outbox. (The API refuses such a text at creation now; a row inserted
    by other means, as the dashboard or SQL do, meets the worker's check.)"""
    org, key = await clinic_key(db, admin_conn, "Outbox Limits Clinic")
    patient = await create_patient(admin_conn, org["id"], contacts={"sms": "+14155550142"})
    _, base = await web_process()
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30
    ) as http:
        long_row = await create_message(
            admin_conn, patient["id"], organization_id=org["id"], message_content="é" * 1000
        )
        created = await http.post(
            "/api/v1/messages",
            json={"patient_id": str(patient["id"]), "text": "Your lab results are ready"},
        )
        assert created.status_code == 201, created.text
        ids = [str(long_row["id"]), created.json()["id"]]
        async with running_worker(
            database_url,
            tmp_path,
            MEDREMIND_OUTBOX_ENABLED="true",
            MEDREMIND_SMS_MAX_SEGMENTS="3",
            MEDREMIND_WORKER_POLL_SECONDS="0.5",
        ) as log:

            async def both_done() -> list[dict] | None:
                rows = [(await http.get(f"/api/v1/messages/{i}")).json() for i in ids]
                done = all(r["status"] not in ("pending", "processing") for r in rows)
                return rows if done else None

            long, short = await until("both messages done", both_done, log)
    assert long["status"] == "failed", long
    assert "sms: text too long: 7 GSM-7 segments (1000 characters), at most 3" in long["last_error"]
    assert long["via_outbox"] is False
    assert (short["status"], short["via_outbox"]) == ("sent", True)


async def test_the_api_refuses_a_text_too_long_for_the_channel_it_names(
    db, admin_conn, web_process
):
    """With `platform` sms or whatsapp the API took a text the adapter refuses at send time (the
    dashboard refuses it when composing): a 422 naming `text` now, before any row is written."""
    org, key = await clinic_key(db, admin_conn, "API Limits Clinic")
    patient = await create_patient(admin_conn, org["id"], contacts={"sms": "+14155550143"})
    _, base = await web_process(MEDREMIND_SMS_MAX_SEGMENTS="2")
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30
    ) as http:

        async def create(platform: str, text: str) -> httpx.Response:
            body = {"patient_id": str(patient["id"]), "platform": platform, "text": text}
            return await http.post("/api/v1/messages", json=body)

        sms = await create("sms", "a" * 307)  # 3 GSM-7 segments
        whatsapp = await create("whatsapp", "a" * 1601)
        fits = await create("sms", "a" * 306)  # 2 segments
        # `auto` to a patient whose only channel is SMS: the same limit.
        auto = await create("auto", "a" * 307)
    assert sms.status_code == 422, sms.text
    assert sms.json()["error"]["field"] == "text"
    assert sms.json()["error"]["reason"] == (
        "too long for sms: 3 GSM-7 segments (307 characters), at most 2 allowed"
    )
    assert whatsapp.status_code == 422
    assert whatsapp.json()["error"]["reason"] == (
        "too long for whatsapp: 1601 characters, at most 1600 allowed"
    )
    assert auto.status_code == 422
    assert auto.json()["error"]["reason"] == (
        "too long for sms, the only channel it can go out on: 3 GSM-7 segments (307 characters),"
        " at most 2 allowed"
    )
    assert fits.status_code == 201
    count = await admin_conn.fetchval(
        "select count(*) from scheduled_messages where patient_id = $1", patient["id"]
    )
    assert count == 1


async def test_a_bot_reply_too_long_for_one_sms_is_split_in_the_outbox_as_by_twilio(
    db, admin_conn, web_process, tmp_path
):
    """`make dev` without Twilio's SID: an SMS patient texted /help (as every "Send /help" tells
    them) and got nothing. The help was 468 characters, 4 segments (it is one segment now, a
    text of its own for SMS: /settings, the menu and its numbered choices, is such a reply
    here, 4 segments too); the SMS adapter's cap and
    composition split a reply into messages that fit (bot.reply_rows.fit_segments), but the
    outbox exposed neither, so the reply went whole and the outbox refused it ("text too long"),
    which Twilio's adapter never would. Now the outbox splits it as the adapter does, each part
    within MEDREMIND_SMS_MAX_SEGMENTS, and every part is written."""
    org, _ = await clinic_key(db, admin_conn, "Outbox Help Clinic")
    phone = "+14155550144"
    patient = await create_patient(admin_conn, org["id"], contacts={"sms": phone})
    # Twilio's webhooks verified, but no sender: SMS goes to the outbox.
    _, base = await web_process(TWILIO_ACCOUNT_SID="", TWILIO_SMS_FROM="")
    form = inbound_form(phone, "/settings")
    headers = {"X-Twilio-Signature": twilio_signature("/twilio/inbound", form)}
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        answer = await http.post("/twilio/inbound", data=form, headers=headers)
    assert answer.status_code == 200, answer.text

    async def replies_done() -> list | None:
        rows = await admin_conn.fetch(
            "select status, via_outbox, last_error from scheduled_messages"
            " where patient_id = $1 order by created_at, id",
            patient["id"],
        )
        done = rows and all(r["status"] not in ("pending", "processing") for r in rows)
        return rows if done else None

    log = next(tmp_path.glob("web-*.log"))
    rows = await until("the menu's replies done", replies_done, log)
    assert [(r["status"], r["via_outbox"], r["last_error"]) for r in rows] == [
        ("sent", True, None)
    ] * len(rows)
    assert len(rows) >= 2
    written = sorted((tmp_path / "outbox").glob("*-sms-*.json"))
    records = [json.loads(f.read_text()) for f in written]
    texts = [r["text"] for r in records]
    assert len(texts) == len(rows)
    assert texts[0].startswith("Settings:\nTime zone: ")
    # The numbered choices go with the last part, as the adapter composes them.
    assert [o["label"] for o in records[-1]["options"]][-1] == "Follow-ups"
