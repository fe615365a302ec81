"""A recorded question points only at its own patient's dose or appointment.

The dispatcher records a batch of questions in one statement; the check runs once per statement
over all its rows (migration 20260101009400), so one bad row refuses the whole statement. Its
message is checked there too, and deleting a message deletes its questions (migration
20260101010020 replaced that foreign key).
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import asyncpg
import pytest

from tests import factories

DUE = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
OPTIONS = [{"label": "Taken", "data": "d:x:t", "keys": ["1"]}]
INSERT = (
    "insert into conversation_questions (patient_id, channel, chat_address, dose_event_id,"
    " options, asked_at) select p, 'telegram', '5001', d, $3::jsonb, now()"
    " from unnest($1::uuid[], $2::uuid[]) as u(p, d)"
)


async def _patient_with_dose(conn: asyncpg.Connection) -> tuple[asyncpg.Record, asyncpg.Record]:
    patient = await factories.create_patient(conn)
    _, schedule = await factories.create_medication(conn, patient["id"])
    return patient, await factories.create_dose_event(conn, schedule, DUE)


async def test_a_batch_with_one_question_about_another_patients_dose_is_refused(
    admin_conn: asyncpg.Connection,
) -> None:
    ann, ann_dose = await _patient_with_dose(admin_conn)
    bob, bob_dose = await _patient_with_dose(admin_conn)
    with pytest.raises(asyncpg.CheckViolationError, match="must belong to its patient"):
        await admin_conn.execute(
            INSERT, [ann["id"], bob["id"]], [ann_dose["id"], ann_dose["id"]], OPTIONS
        )
    assert await admin_conn.fetchval("select count(*) from conversation_questions") == 0
    # Each patient's own dose: the same batch is accepted.
    await admin_conn.execute(
        INSERT, [ann["id"], bob["id"]], [ann_dose["id"], bob_dose["id"]], OPTIONS
    )
    assert await admin_conn.fetchval("select count(*) from conversation_questions") == 2


async def test_a_question_about_another_patients_appointment_is_refused(
    admin_conn: asyncpg.Connection,
) -> None:
    clinic = await factories.create_organization(admin_conn)
    ann = await factories.create_patient(admin_conn, clinic["id"])
    bob = await factories.create_patient(admin_conn, clinic["id"])
    appointment = await admin_conn.fetchval(
        "insert into appointments (organization_id, patient_id, starts_at)"
        " values ($1, $2, $3) returning id",
        bob["organization_id"],
        bob["id"],
        DUE,
    )
    with pytest.raises(asyncpg.CheckViolationError, match="must belong to its patient"):
        await admin_conn.execute(
            "insert into conversation_questions (patient_id, channel, chat_address,"
            " appointment_id, options, asked_at) values ($1, 'sms', '+15550001', $2, $3, now())",
            ann["id"],
            appointment,
            OPTIONS,
        )


async def test_a_question_cannot_be_moved_to_another_patients_dose(
    admin_conn: asyncpg.Connection,
) -> None:
    ann, ann_dose = await _patient_with_dose(admin_conn)
    _bob, bob_dose = await _patient_with_dose(admin_conn)
    await admin_conn.execute(INSERT, [ann["id"]], [ann_dose["id"]], OPTIONS)
    with pytest.raises(asyncpg.CheckViolationError, match="must belong to its patient"):
        await admin_conn.execute(
            "update conversation_questions set dose_event_id = $1", bob_dose["id"]
        )


async def test_a_question_about_another_patients_slot_offer_is_refused(
    admin_conn: asyncpg.Connection,
) -> None:
    clinic = await factories.create_organization(admin_conn)
    ann = await factories.create_patient(admin_conn, clinic["id"])
    bob = await factories.create_patient(admin_conn, clinic["id"])
    entry = await admin_conn.fetchval(
        "insert into waitlist_entries (organization_id, patient_id) values ($1, $2) returning id",
        clinic["id"],
        bob["id"],
    )
    offer = await admin_conn.fetchval(
        "insert into slot_offers (organization_id, starts_at, duration_minutes)"
        " values ($1, $2, 30) returning id",
        clinic["id"],
        DUE,
    )
    bobs_offer = await admin_conn.fetchval(
        "insert into slot_offer_recipients (offer_id, entry_id, patient_id)"
        " values ($1, $2, $3) returning id",
        offer,
        entry,
        bob["id"],
    )
    insert = (
        "insert into conversation_questions (patient_id, channel, chat_address,"
        " slot_offer_recipient_id, options, asked_at) values ($1, 'sms', '+15550002', $2, $3,"
        " now())"
    )
    with pytest.raises(asyncpg.CheckViolationError, match="must belong to its patient"):
        await admin_conn.execute(insert, ann["id"], bobs_offer, OPTIONS)
    await admin_conn.execute(insert, bob["id"], bobs_offer, OPTIONS)


async def test_a_question_names_a_message_that_exists_and_goes_with_it(
    admin_conn: asyncpg.Connection,
) -> None:
    ann, ann_dose = await _patient_with_dose(admin_conn)
    message = await factories.create_message(admin_conn, ann["id"], dose_event_id=ann_dose["id"])
    other = await factories.create_message(admin_conn, ann["id"])
    insert = (
        "insert into conversation_questions (patient_id, channel, chat_address, message_id,"
        " dose_event_id, options, asked_at) select $1, 'telegram', '5001', m, $3, $4::jsonb, now()"
        " from unnest($2::uuid[]) as m"
    )
    with pytest.raises(asyncpg.ForeignKeyViolationError, match="is not a scheduled message"):
        await admin_conn.execute(
            insert, ann["id"], [message["id"], uuid4()], ann_dose["id"], OPTIONS
        )
    await admin_conn.execute(insert, ann["id"], [message["id"]], ann_dose["id"], OPTIONS)
    with pytest.raises(asyncpg.ForeignKeyViolationError, match="is not a scheduled message"):
        await admin_conn.execute("update conversation_questions set message_id = $1", uuid4())
    await admin_conn.execute("update conversation_questions set message_id = $1", other["id"])
    # Deleting the message deletes its question, as the foreign key's cascade did.
    await admin_conn.execute("delete from scheduled_messages where id = $1", other["id"])
    assert await admin_conn.fetchval("select count(*) from conversation_questions") == 0
