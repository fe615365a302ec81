"""A clinic cannot type in a Telegram chat id: the patient's own chat links itself by an invite.

A chat id is just a number, and Telegram delivers to any chat that has started the bot: a
clinician who entered one as a patient's contact (the dashboard's New patient form did, and any
signed-in clinician can write contact_points through PostgREST) had the clinic's reminders, with
the patient's name and medicines, sent to a stranger. The same for a linked chat moved to another
patient, a Telegram caregiver a clinician added, and invite_address_owner asked for a chat. Now
each is refused when the clinic writes it (a clinician, role authenticated as PostgREST and the
dashboard use it, or the API: medremind_app with an API key as actor), naming how to link the chat
instead (migration 20260101012700). The bot (medremind_app, no actor) links, merges and erases as
before, and a clinician may still deactivate or opt out a linked chat.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pytest

from tests import factories
from tests.integration.clinician import as_clinician

STRANGER = "777000111"
LINKED = "777000222"


@asynccontextmanager
async def as_service(
    conn: asyncpg.Connection, actor: str | None = None
) -> AsyncIterator[asyncpg.Connection]:
    """The web and worker processes' role; ``actor`` as the API names its key for a request."""
    async with conn.transaction():
        await conn.execute("set local role medremind_app")
        if actor is not None:
            await conn.execute("select set_config('medremind.actor', $1, true)", actor)
        yield conn


async def _refused(conn: asyncpg.Connection, sql: str, *args: object, who: str = "patient") -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError) as refused:
        await conn.execute(sql, *args)
    assert f"Telegram {'contact' if who == 'patient' else 'caregiver'} is" in str(refused.value)
    assert "not typed in" in str(refused.value)
    if who == "patient":
        assert "invite link" in (refused.value.hint or "")
        assert "/invites" in (refused.value.hint or "")
    else:
        assert "names their caregiver in the bot" in (refused.value.hint or "")


async def test_a_clinician_cannot_enter_a_telegram_chat_id(admin_conn: asyncpg.Connection) -> None:
    org = await factories.create_organization(admin_conn)
    clinician = await factories.create_clinician(admin_conn, org["id"])
    patient = await factories.create_patient(
        admin_conn, org["id"], contacts={"sms": "+14155550133"}
    )
    # The bot linked this one's chat.
    linked = await factories.create_patient(admin_conn, org["id"], contacts={"telegram": LINKED})

    writes = [
        (
            "insert into contact_points (patient_id, channel, address, verified)"
            " values ($1, 'telegram', $2, true)",
            patient["id"],
        ),
        (
            "update contact_points set channel = 'telegram', address = $2 where patient_id = $1",
            patient["id"],
        ),
        (
            "update contact_points set address = $2 where patient_id = $1",
            linked["id"],
        ),
    ]
    for sql, patient_id in writes:
        async with as_clinician(admin_conn, clinician["id"]) as conn:
            await _refused(conn, sql, patient_id, STRANGER)
    # Nor moved to another patient: that patient's reminders would go to this chat.
    async with as_clinician(admin_conn, clinician["id"]) as conn:
        await _refused(
            conn,
            "update contact_points set patient_id = $2 where patient_id = $1",
            linked["id"],
            patient["id"],
        )
    assert not await admin_conn.fetchval(
        "select count(*) from contact_points where address = $1", STRANGER
    )
    assert (
        await admin_conn.fetchval(
            "select patient_id from contact_points where address = $1", LINKED
        )
        == linked["id"]
    )

    # What a clinician may still do with a linked chat: stop using it, opt it out, verify it.
    async with as_clinician(admin_conn, clinician["id"]) as conn:
        done = await conn.execute(
            "update contact_points set active = false, verified = true, opted_out_at = now()"
            " where patient_id = $1",
            linked["id"],
        )
    assert done == "UPDATE 1"
    # The bot (the service, no actor) links a chat as before.
    async with as_service(admin_conn) as conn:
        await conn.execute(
            "insert into contact_points (patient_id, channel, address, verified)"
            " values ($1, 'telegram', $2, true)",
            patient["id"],
            STRANGER,
        )


async def test_the_api_cannot_write_a_telegram_chat(admin_conn: asyncpg.Connection) -> None:
    """The web process's role with an API key as the transaction's actor: refused there too."""
    org = await factories.create_organization(admin_conn)
    patient = await factories.create_patient(
        admin_conn, org["id"], contacts={"sms": "+14155550134"}
    )
    async with as_service(admin_conn, "api_key:mr_live_abc") as conn:
        await _refused(
            conn,
            "insert into contact_points (patient_id, channel, address, verified)"
            " values ($1, 'telegram', $2, false)",
            patient["id"],
            STRANGER,
        )
    async with as_service(admin_conn, "api_key:mr_live_abc") as conn:
        await _refused(
            conn,
            "insert into caregivers (patient_id, name, channel, address)"
            " values ($1, 'Eve', 'telegram', $2)",
            patient["id"],
            STRANGER,
            who="caregiver",
        )
    # Its phone and e-mail contact points as before.
    async with as_service(admin_conn, "api_key:mr_live_abc") as conn:
        await conn.execute(
            "insert into contact_points (patient_id, channel, address, verified)"
            " values ($1, 'email', 'pat@example.test', false)",
            patient["id"],
        )


async def test_a_clinician_cannot_add_a_telegram_caregiver(admin_conn: asyncpg.Connection) -> None:
    org = await factories.create_organization(admin_conn)
    clinician = await factories.create_clinician(admin_conn, org["id"])
    patient = await factories.create_patient(
        admin_conn, org["id"], contacts={"sms": "+14155550135"}
    )
    other = await factories.create_patient(admin_conn, org["id"], contacts={"sms": "+14155550136"})
    # The patient named this one in the bot (the service wrote it).
    async with as_service(admin_conn) as conn:
        chosen = await conn.fetchval(
            "insert into caregivers (patient_id, name, channel, address)"
            " values ($1, 'Ben', 'telegram', $2) returning id",
            patient["id"],
            LINKED,
        )
    async with as_clinician(admin_conn, clinician["id"]) as conn:
        sms = await conn.fetchval(
            "insert into caregivers (patient_id, name, channel, address)"
            " values ($1, 'Lu', 'sms', '+14155550199') returning id",
            patient["id"],
        )
    for sql, args in [
        (
            "insert into caregivers (patient_id, name, channel, address)"
            " values ($1, 'Eve', 'telegram', $2)",
            (patient["id"], STRANGER),
        ),
        ("update caregivers set channel = 'telegram', address = $2 where id = $1", (sms, STRANGER)),
        ("update caregivers set address = $2 where id = $1", (chosen, STRANGER)),
        ("update caregivers set patient_id = $2 where id = $1", (chosen, other["id"])),
    ]:
        async with as_clinician(admin_conn, clinician["id"]) as conn:
            await _refused(conn, sql, *args, who="caregiver")
    # Stopping the patient's own choice is still the clinic's to do.
    async with as_clinician(admin_conn, clinician["id"]) as conn:
        assert (
            await conn.execute("update caregivers set active = false where id = $1", chosen)
            == "UPDATE 1"
        )
    assert not await admin_conn.fetchval(
        "select count(*) from caregivers where address = $1", STRANGER
    )


async def test_no_invitation_to_a_telegram_chat_a_clinician_typed(
    admin_conn: asyncpg.Connection,
) -> None:
    """invite_address_owner (PostgREST /rpc) for a chat: refused, so a patient of no clinic who
    owns it is not invited into (merged with) the clinic's record; so is a row written directly."""
    org = await factories.create_organization(admin_conn)
    clinician = await factories.create_clinician(admin_conn, org["id"])
    record = await factories.create_patient(admin_conn, org["id"], contacts={})
    # A patient of no clinic whose chat it is (registered on their own).
    await factories.create_patient(admin_conn, None, contacts={"telegram": STRANGER})
    async with as_clinician(admin_conn, clinician["id"]) as conn:
        await _refused(
            conn,
            "select public.invite_address_owner($1, 'telegram', $2, true)",
            record["id"],
            STRANGER,
        )
    async with as_clinician(admin_conn, clinician["id"]) as conn:
        await _refused(
            conn,
            "insert into patient_invites (organization_id, patient_id, token_hash, expires_at,"
            " claimed_channel, claimed_address) values ($1, $2, $3, now() + interval '1 day',"
            " 'telegram', $4)",
            org["id"],
            record["id"],
            uuid.uuid4().hex,
            STRANGER,
        )
    assert not await admin_conn.fetchval(
        "select count(*) from patient_invites where claimed_address = $1", STRANGER
    )
    assert not await admin_conn.fetchval(
        "select count(*) from scheduled_messages where template = 'join_invitation'"
    )
    # A phone number is invited as before (the clinic learns nothing either way).
    async with as_clinician(admin_conn, clinician["id"]) as conn:
        assert await conn.fetchval(
            "select public.invite_address_owner($1, 'sms', '+14155550177', true)", record["id"]
        )


async def test_merge_and_erasure_still_move_and_remove_linked_chats(
    admin_conn: asyncpg.Connection,
) -> None:
    """The bot's merge (an invite accepted by a registered patient) moves the chat to the clinic's
    record, and the clinic's erasure request removes it."""
    org = await factories.create_organization(admin_conn)
    clinician = await factories.create_clinician(admin_conn, org["id"])
    record = await factories.create_patient(admin_conn, org["id"], contacts={})
    own = await factories.create_patient(admin_conn, None, contacts={"telegram": LINKED})
    async with as_service(admin_conn) as conn:
        await conn.execute("select public.merge_patient($1, $2, now())", own["id"], record["id"])
    assert (
        await admin_conn.fetchval(
            "select patient_id from contact_points where address = $1", LINKED
        )
        == record["id"]
    )
    async with as_clinician(admin_conn, clinician["id"]) as conn:
        await conn.execute("select public.request_erasure($1)", record["id"])
    assert not await admin_conn.fetchval(
        "select count(*) from contact_points where address = $1", LINKED
    )
