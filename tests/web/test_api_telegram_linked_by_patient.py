"""The API takes no Telegram chat id: the patient links their own chat by an invite link.

Hostile input: a chat id reaches whoever's chat it is (migration 20260101012700). A body that
names a chat (``telegram``, ``telegram_chat_id``, ``chat_id``, a list of ``contacts``) is a 422
naming that field and how to link instead; nothing is written and the chat gets nothing. The way
that works: a patient with no phone or e-mail, an invite, the patient's ``/start <token>`` and
"I agree" from their own chat, which is then the record's Telegram contact point. Over the real
web app (the API and the Telegram webhook), as medremind_app.
"""

from __future__ import annotations

import asyncpg
import httpx

from tests.fakes.fake_telegram import FakeTelegram
from tests.web.chat import telegram_press, telegram_text

STRANGER = 555_140_901
PATIENT_CHAT = 555_140_902


async def test_a_chat_id_is_refused_naming_the_field_and_the_invite(
    web: httpx.AsyncClient, admin_conn: asyncpg.Connection, auth: dict, fake_telegram: FakeTelegram
) -> None:
    for field, value in [
        ("telegram", str(STRANGER)),
        ("telegram_chat_id", STRANGER),
        ("chat_id", STRANGER),
        ("telegram_id", str(STRANGER)),
        ("contacts", [{"channel": "telegram", "address": str(STRANGER)}]),
    ]:
        answer = await web.post(
            "/api/v1/patients",
            json={"display_name": "Tia", "channel_order": ["telegram"], field: value},
            headers=auth,
        )
        assert answer.status_code == 422, answer.text
        error = answer.json()["error"]
        assert error["field"] == field
        reason = error["reason"]
        assert "a Telegram chat cannot be given: the patient links their own chat" in reason
        assert "POST /api/v1/patients/{id}/invites" in reason
        assert "open its link in Telegram" in reason

    created = await web.post(
        "/api/v1/patients",
        json={"display_name": "Tia", "phone": "+12025550171", "channel_order": ["sms"]},
        headers=auth,
    )
    assert created.status_code == 201, created.text
    patient_id = created.json()["id"]
    answer = await web.patch(
        f"/api/v1/patients/{patient_id}", json={"telegram_chat_id": STRANGER}, headers=auth
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == "telegram_chat_id"
    assert "/invites" in answer.json()["error"]["reason"]
    # A near miss of a real field is still named as one.
    answer = await web.patch(
        f"/api/v1/patients/{patient_id}", json={"extrnal_id": "X-1"}, headers=auth
    )
    assert "did you mean external_id?" in answer.json()["error"]["reason"]

    assert not await admin_conn.fetchval(
        "select count(*) from contact_points where channel = 'telegram'"
    )
    assert [m for m in fake_telegram.sent_messages if m.chat_id == STRANGER] == []


async def test_the_patient_links_their_chat_by_the_invite(
    web: httpx.AsyncClient, admin_conn: asyncpg.Connection, auth: dict, fake_telegram: FakeTelegram
) -> None:
    created = await web.post(
        "/api/v1/patients",
        json={"display_name": "Tia", "channel_order": ["telegram"], "timezone": "Europe/Madrid"},
        headers=auth,
    )
    assert created.status_code == 201, created.text
    assert created.json()["contacts"] == []
    # Not linked yet is not unreachable (migration 20260101013600): nobody failed to reach them.
    assert (created.json()["unreachable_since"], created.json()["linked_at"]) == (None, None)
    patient_id = created.json()["id"]
    invite = await web.post(f"/api/v1/patients/{patient_id}/invites", headers=auth)
    assert invite.status_code == 201, invite.text
    assert invite.json()["link"].startswith("https://t.me/medremind_test_bot?start=")

    await telegram_text(web, PATIENT_CHAT, f"/start {invite.json()['token']}")
    consent = fake_telegram.sent_messages[-1]
    assert consent.chat_id == PATIENT_CHAT
    agree = next(data for row in consent.buttons() for label, data in row if label == "I agree")
    await telegram_press(web, PATIENT_CHAT, agree)

    patient = await web.get(f"/api/v1/patients/{patient_id}", headers=auth)
    assert patient.json()["contacts"] == [
        {
            "channel": "telegram",
            "address": str(PATIENT_CHAT),
            "verified": True,
            "opted_out": False,
            "held_elsewhere": False,
        }
    ]
    assert patient.json()["linked_at"] is not None
    assert patient.json()["unreachable_since"] is None
    assert await admin_conn.fetchval(
        "select used_at is not null from patient_invites where patient_id = $1", patient_id
    )
