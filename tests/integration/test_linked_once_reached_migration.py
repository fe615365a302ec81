"""Patients "linked" by migration 20260101013600 because a contact point existed, though
nothing had reached them (migration 20260101013800).

A database migrated up to just before it holds: a clinic's patient whose typed number the
carrier refused at the first reminder (unreachable, their caregiver's notice "can no longer be
reached ... they turned messages off" waiting), one whose reminder was sent, one who wrote from
their number, one the bot registered (a conversation of theirs), one whose only message sent
was a caregiver's alert, and one with a number nothing was sent to yet. Migrated to the end:
linked are those a message reached or who wrote, at that time; the refused one is not
unreachable and the notice is cancelled; and a send recorded afterwards links a patient.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from core.migrate import MIGRATIONS_DIR, migrate
from tests.integration.partial_migrations import migrated_until

BEFORE = "20260101013700"
SENT = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
WROTE = datetime(2026, 11, 29, 9, 30, tzinfo=UTC)
_keys = iter(range(1, 1000))


async def _patient(conn: asyncpg.Connection, phone: str) -> uuid.UUID:
    patient: uuid.UUID = await conn.fetchval(
        "insert into patients (display_name, channel_order) values ('Pat', '{sms}') returning id"
    )
    await conn.execute(
        "insert into contact_points (patient_id, channel, address) values ($1, 'sms', $2)",
        patient,
        phone,
    )
    return patient


async def _message(conn: asyncpg.Connection, patient: uuid.UUID, **values: object) -> uuid.UUID:
    row = {
        "patient_id": patient,
        "scheduled_time": SENT,
        "platform": "sms",
        "kind": "free_text",
        "message_content": "Hello",
        "idempotency_key": f"test:{next(_keys)}",
    } | values
    names = ", ".join(row)
    marks = ", ".join(f"${i + 1}" for i in range(len(row)))
    message: uuid.UUID = await conn.fetchval(
        f"insert into scheduled_messages ({names}) values ({marks}) returning id", *row.values()
    )
    return message


async def test_only_patients_something_reached_are_linked(
    pg_admin_url: str, tmp_path: Path
) -> None:
    async with migrated_until(pg_admin_url, tmp_path, BEFORE) as conn:
        refused = await _patient(conn, "+14155550131")
        await conn.execute(
            "update contact_points set active = false where patient_id = $1", refused
        )
        soon = datetime.now(UTC) + timedelta(minutes=30)
        notice = await _message(
            conn,
            refused,
            scheduled_time=soon,
            kind="missed_dose_caregiver",
            template="patient_unreachable_caregiver",
            message_content=None,
            expires_at=soon + timedelta(hours=12),
        )
        reminded = await _patient(conn, "+14155550132")
        await _message(conn, reminded, status="sent", sent_at=SENT)
        await _message(conn, reminded, status="sent", sent_at=SENT + timedelta(days=1))
        wrote = await _patient(conn, "+14155550133")
        await conn.execute(
            "update contact_points set last_inbound_at = $2 where patient_id = $1", wrote, WROTE
        )
        registered = await _patient(conn, "+14155550134")
        await conn.execute(
            "insert into conversations (channel, chat_address, patient_id) values ('sms', $1, $2)",
            "+14155550134",
            registered,
        )
        alerted = await _patient(conn, "+14155550135")
        caregiver = await conn.fetchval(
            "insert into caregivers (patient_id, name, channel, address)"
            " values ($1, 'Carer', 'sms', '+14155550136') returning id",
            alerted,
        )
        await _message(conn, alerted, caregiver_id=caregiver, status="sent", sent_at=SENT)
        typed = await _patient(conn, "+14155550137")
        state = "select unreachable_since is not null, linked_at from patients where id = $1"
        assert (await conn.fetchrow(state, refused))[0] is True

        applied = await migrate(conn, MIGRATIONS_DIR)
        assert "20260101013800_linked_once_reached.sql" in applied
        assert tuple(await conn.fetchrow(state, refused)) == (False, None)
        row = await conn.fetchrow(
            "select status, last_error from scheduled_messages where id = $1", notice
        )
        assert tuple(row) == ("cancelled", "nothing has reached the patient yet")
        assert tuple(await conn.fetchrow(state, reminded)) == (False, SENT)
        assert tuple(await conn.fetchrow(state, wrote)) == (False, WROTE)
        assert (await conn.fetchrow(state, registered))[1] is not None
        assert tuple(await conn.fetchrow(state, alerted)) == (False, None)
        assert tuple(await conn.fetchrow(state, typed)) == (False, None)

        # From now on the dispatcher's record of a send links the patient.
        first = await _message(conn, typed)
        await conn.execute(
            "update scheduled_messages set status = 'sent', sent_at = $2 where id = $1",
            first,
            SENT + timedelta(days=3),
        )
        assert tuple(await conn.fetchrow(state, typed)) == (False, SENT + timedelta(days=3))
