"""Attack run: a clinic's invite link is single use, yet every chat that opened it before anyone
agreed became a Telegram contact point of the patient on agreeing: the invite was marked used
without checking that it still was unused (or unexpired). A link forwarded, mis-sent or read
over a shoulder let a stranger's chat open it first, wait at the consent question, and agree after
the patient did: from then on the stranger's chat got the patient's reminders (their name, their
medicines when named) and could answer their doses. Now the first chat to agree takes the invite;
any later one hears that the link is no longer valid and is asked again, without the clinic, as a
person registering by themselves."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import asyncpg

from tests.bot.conftest import START, Bot
from tests.factories import create_organization, create_patient

TOKEN = "inv-0f1e2d3c4b5a6978"


async def _invited_patient(admin_conn: asyncpg.Connection) -> asyncpg.Record:
    org = await create_organization(admin_conn, name="Hillside Clinic")
    patient = await create_patient(
        admin_conn, org["id"], contacts={}, consent_at=None, status="invited", display_name=None
    )
    await admin_conn.execute(
        "insert into patient_invites (organization_id, patient_id, token_hash, expires_at)"
        " values ($1, $2, $3, $4)",
        org["id"],
        patient["id"],
        hashlib.sha256(TOKEN.encode()).hexdigest(),
        START + timedelta(days=7),
    )
    return patient


async def _chats_of(admin_conn: asyncpg.Connection, patient: asyncpg.Record) -> list[str]:
    rows = await admin_conn.fetch(
        "select address from contact_points where patient_id = $1 and channel = 'telegram'",
        patient["id"],
    )
    return sorted(r["address"] for r in rows)


async def test_only_the_first_chat_to_agree_takes_the_invite(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    patient = await _invited_patient(admin_conn)
    stranger, owner = bot.new_chat(), bot.new_chat()
    await bot.send(stranger, f"/start {TOKEN}")
    await bot.send(owner, f"/start {TOKEN}")
    assert "Hillside Clinic" in bot.last_text(stranger)
    await bot.press(owner, "I agree")
    told = " ".join(call.text or "" for call in await bot.press(stranger, "I agree"))
    assert await _chats_of(admin_conn, patient) == [str(owner)]
    assert "not valid any more" in told
    assert "Do you agree?" in bot.last_text(stranger)
    assert "Hillside Clinic" not in bot.last_text(stranger)  # asked again, for no clinic
    # Agreeing now registers the stranger as a person of their own, not as the patient.
    await bot.press(stranger, "I agree")
    assert await _chats_of(admin_conn, patient) == [str(owner)]
    own = await admin_conn.fetchval(
        "select patient_id from contact_points where channel = 'telegram' and address = $1",
        str(stranger),
    )
    assert own is not None and own != patient["id"]


async def test_an_invite_that_expired_at_the_consent_question_is_not_taken(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    patient = await _invited_patient(admin_conn)
    chat = bot.new_chat()
    await bot.send(chat, f"/start {TOKEN}")
    bot.clock.now = START + timedelta(days=8)
    told = " ".join(call.text or "" for call in await bot.press(chat, "I agree"))
    assert await _chats_of(admin_conn, patient) == []
    assert "not valid any more" in told
