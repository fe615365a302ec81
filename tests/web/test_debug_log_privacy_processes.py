"""Real ``medremind web`` and ``medremind worker`` processes at DEBUG: the flows added since the
in-process check (tests/web/test_log_privacy.py) leave no phone number, name, medicine, message
text or secret in either process's output: self-registration with a typed phone, a caregiver
named and proving their number, a Twilio inbound, the patient app's sign-in request, an outgoing
webhook subscription, a slow client dropped, and the worker sending the messages."""

from __future__ import annotations

import asyncio
import time
from datetime import time as dt_time
from pathlib import Path

import asyncpg
import httpx

from core.db import Database
from medremind.api_keys import create_api_key
from tests import factories
from tests.fakes.fake_telegram import FakeTelegram, callback_update, text_update
from tests.fakes.fake_twilio import FakeTwilio, inbound_form
from tests.web.conftest import WEBHOOK_SECRET, twilio_signature
from tests.web.processes import StartWeb, output, running_worker, twilio_env

CHAT = 555600001
TYPED_PHONE = "+14155550161"
CAREGIVER_PHONE = "+14155550162"
CLINIC_PHONE = "+14155550163"
NAME = "Quillonia"
CAREGIVER = "Bartholomina"
MEDICINE = "Xanthorizol"
TEXT = "Quillonia, your Xanthorizol refill is ready at the desk"
SECRET_HEADER = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}


async def _press(http: httpx.AsyncClient, telegram: FakeTelegram, label: str) -> None:
    for call in reversed([c for c in telegram.sent_messages if str(c.chat_id) == str(CHAT)]):
        for row in call.buttons():
            for text, data in row:
                if text == label:
                    answer = await http.post(
                        "/telegram/webhook", json=callback_update(CHAT, data), headers=SECRET_HEADER
                    )
                    assert answer.status_code == 200
                    return
    raise AssertionError(f"no button {label!r}")


async def _text(http: httpx.AsyncClient, text: str) -> None:
    answer = await http.post(
        "/telegram/webhook", json=text_update(CHAT, text), headers=SECRET_HEADER
    )
    assert answer.status_code == 200


def _to_chat(telegram: FakeTelegram) -> int:
    return len([c for c in telegram.sent_messages if str(c.chat_id) == str(CHAT)])


async def _replied(telegram: FakeTelegram, before: int) -> None:
    """Until the answer to one update has come (more messages, then none for a moment)."""
    deadline = time.monotonic() + 30
    while _to_chat(telegram) <= before:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    seen = -1
    while seen != _to_chat(telegram):
        seen = _to_chat(telegram)
        await asyncio.sleep(0.3)


async def test_no_phi_or_secret_in_the_processes_debug_output(
    web_process: StartWeb,
    database_url: str,
    tmp_path: Path,
    fake_telegram: FakeTelegram,
    fake_twilio: FakeTwilio,
    admin_conn: asyncpg.Connection,
    db: Database,
) -> None:
    process, base = await web_process(MEDREMIND_LOG_LEVEL="DEBUG")
    # No quiet hours (start = end): the clinic's default 21:00-08:00 held the API message at night.
    org = await factories.create_organization(
        admin_conn, default_quiet_start=dt_time(0), default_quiet_end=dt_time(0)
    )
    assert db.pool is not None
    key = await create_api_key(db.pool, str(org["id"]), "debug test")
    auth = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        steps = [
            ("text", "/start"),
            ("press", "I agree"),
            ("text", NAME),
            ("press", "English"),
            ("text", "UTC"),
            ("press", "Yes"),
            ("text", TYPED_PHONE),
            ("text", "/settings"),
            ("press", "Caregiver"),
            ("text", CAREGIVER),
            ("press", "SMS"),
            ("text", CAREGIVER_PHONE),
            ("press", "Same as mine"),
            ("press", "30"),
            ("text", f"/add {MEDICINE}"),
        ]
        for kind, value in steps:
            before = _to_chat(fake_telegram)
            if kind == "text":
                await _text(http, value)
            else:
                await _press(http, fake_telegram, value)
            await _replied(fake_telegram, before)
        for sender, body in ((CAREGIVER_PHONE, "hi it is Bartholomina"), (TYPED_PHONE, NAME)):
            form = inbound_form(sender, body)
            signed = {"X-Twilio-Signature": twilio_signature("/twilio/inbound", form)}
            assert (
                await http.post("/twilio/inbound", data=form, headers=signed)
            ).status_code == 200
        created = await http.post(
            "/api/v1/patients",
            json={"display_name": NAME + " Clinic", "phone": CLINIC_PHONE, "consent": True},
            headers=auth,
        )
        assert created.status_code == 201, created.text
        message = await http.post(
            "/api/v1/messages",
            json={"patient_id": created.json()["id"], "text": TEXT},
            headers=auth,
        )
        assert message.status_code == 201, message.text
        hook = await http.post(
            "/api/v1/webhooks",
            json={"url": "https://integrator.example.org/hook", "event_types": ["message.status"]},
            headers=auth,
        )
        assert hook.status_code == 201, hook.text
        webhook_secret = hook.json().get("secret", "")
        signing = await http.post(
            "/app/api/sign-in/request",
            json={"address": CLINIC_PHONE},
            headers={"Origin": base},
        )
        assert signing.status_code == 202, signing.text
    async with running_worker(
        database_url,
        tmp_path,
        MEDREMIND_LOG_LEVEL="DEBUG",
        MEDREMIND_WORKER_POLL_SECONDS="0.5",
        **twilio_env(fake_twilio),
    ) as worker_log:
        deadline = time.monotonic() + 60
        while not any(m.to == CLINIC_PHONE and m.body == TEXT for m in fake_twilio.messages):
            assert time.monotonic() < deadline, worker_log.read_text()[-3000:]
            await asyncio.sleep(0.2)
    # The flows ran: the typed phone and the caregiver's number proven by their texts.
    proven = await admin_conn.fetchval(
        "select proven_at is not null from caregivers where address = $1", CAREGIVER_PHONE
    )
    active = await admin_conn.fetchval(
        "select active from contact_points where address = $1", TYPED_PHONE
    )
    assert (proven, active) == (True, True)
    web_log, work_log = output(process), Path(worker_log).read_text()
    # At DEBUG (the code itself logs nothing below INFO; third-party loggers that would quote
    # payloads are kept at WARNING by core.logs).
    assert len(web_log.splitlines()) > 20 and len(work_log.splitlines()) > 3
    for path in ("/telegram/webhook", "/twilio/inbound", "/api/v1/webhooks", "/app/api/sign-in"):
        assert path in web_log
    logs = web_log + "\n" + work_log
    for value in (
        TYPED_PHONE,
        TYPED_PHONE[1:],
        CAREGIVER_PHONE,
        CAREGIVER_PHONE[1:],
        CLINIC_PHONE,
        CLINIC_PHONE[1:],
        NAME,
        CAREGIVER,
        MEDICINE,
        TEXT,
        key,
        WEBHOOK_SECRET,
        fake_twilio.auth_token,
        str(CHAT),
        *([webhook_secret] if webhook_secret else []),
    ):
        assert value.lower() not in logs.lower(), f"{value!r} in the processes' DEBUG output"
