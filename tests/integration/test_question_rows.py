"""A recorded question points only at its own patient's dose, appointment or slot offer.

Since migration 20260101013000 one foreign key per subject says so: (dose_event_id, patient_id)
references dose_events (id, patient_id), and so for appointments and offer recipients, on delete
and on update cascade. So one bad row refuses the dispatcher's whole batch, a question is locked
to its subject as a foreign key locks it, and merges and erasures carry or remove the questions
with their subjects. The message a question names is checked once per statement (no key:
migration 20260101010020), and deleting a message deletes its questions.
"""

from __future__ import annotations

import asyncio
import uuid
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
    with pytest.raises(asyncpg.ForeignKeyViolationError, match="of_its_patient"):
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
    with pytest.raises(asyncpg.ForeignKeyViolationError, match="of_its_patient"):
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
    with pytest.raises(asyncpg.ForeignKeyViolationError, match="of_its_patient"):
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
    with pytest.raises(asyncpg.ForeignKeyViolationError, match="of_its_patient"):
        await admin_conn.execute(insert, ann["id"], bobs_offer, OPTIONS)
    await admin_conn.execute(insert, bob["id"], bobs_offer, OPTIONS)


async def test_a_question_names_a_message_that_exists_and_goes_with_it(
    admin_conn: asyncpg.Connection,
) -> None:
    ann, ann_dose = await _patient_with_dose(admin_conn)
    message = await factories.create_message(admin_conn, ann["id"], dose_event_id=ann_dose["id"])
    other = await factories.create_message(admin_conn, ann["id"])
    insert = (
        "insert into conversation_questions (id, patient_id, channel, chat_address, message_id,"
        " dose_event_id, options, asked_at)"
        " select m, $1, 'telegram', '5001', m, $3, $4::jsonb, now() from unnest($2::uuid[]) as m"
    )
    with pytest.raises(asyncpg.ForeignKeyViolationError, match="is not a scheduled message"):
        await admin_conn.execute(
            insert, ann["id"], [message["id"], uuid4()], ann_dose["id"], OPTIONS
        )
    await admin_conn.execute(insert, ann["id"], [message["id"]], ann_dose["id"], OPTIONS)
    with pytest.raises(asyncpg.ForeignKeyViolationError, match="is not a scheduled message"):
        await admin_conn.execute(
            "update conversation_questions set id = $1, message_id = $1", uuid4()
        )
    await admin_conn.execute(
        "update conversation_questions set id = $1, message_id = $1", other["id"]
    )
    # Deleting the message deletes its question, as the foreign key's cascade did.
    await admin_conn.execute("delete from scheduled_messages where id = $1", other["id"])
    assert await admin_conn.fetchval("select count(*) from conversation_questions") == 0


# Since migration 20260101013000 one key per subject, (subject, patient), replaces the question's
# four foreign keys and the trigger that checked the subject's patient (the dispatcher's record
# paid two locked lookups and a plain one per question); the tests below hold what the four keys
# and the trigger held.

QUESTION = (
    "insert into conversation_questions (patient_id, channel, chat_address, dose_event_id,"
    " appointment_id, slot_offer_recipient_id, options, asked_at)"
    " values ($1, 'sms', '+15550003', $2, $3, $4, $5::jsonb, now()) returning id"
)


async def _questions(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await conn.fetch("select patient_id, dose_event_id from conversation_questions")


async def _appointment(conn: asyncpg.Connection, patient: asyncpg.Record) -> uuid.UUID:
    return await conn.fetchval(
        "insert into appointments (organization_id, patient_id, starts_at)"
        " values ($1, $2, $3) returning id",
        patient["organization_id"],
        patient["id"],
        DUE,
    )


async def test_a_question_names_a_patient_dose_and_appointment_that_exist(
    admin_conn: asyncpg.Connection,
) -> None:
    ann, dose = await _patient_with_dose(admin_conn)
    with pytest.raises(asyncpg.ForeignKeyViolationError, match="dose_of_its_patient"):
        await admin_conn.execute(QUESTION, uuid4(), dose["id"], None, None, OPTIONS)
    for missing, key in (
        ((uuid4(), None, None), "dose"),
        ((None, uuid4(), None), "appointment"),
        ((None, None, uuid4()), "offer"),
    ):
        with pytest.raises(asyncpg.ForeignKeyViolationError, match=f"{key}_of_its_patient"):
            await admin_conn.execute(QUESTION, ann["id"], *missing, OPTIONS)
    await admin_conn.execute(QUESTION, ann["id"], dose["id"], None, None, OPTIONS)
    with pytest.raises(asyncpg.ForeignKeyViolationError, match="dose_of_its_patient"):
        await admin_conn.execute("update conversation_questions set patient_id = $1", uuid4())
    assert [q["patient_id"] for q in await _questions(admin_conn)] == [ann["id"]]


async def test_deleting_what_a_question_names_deletes_the_question(
    admin_conn: asyncpg.Connection,
) -> None:
    clinic = await factories.create_organization(admin_conn)
    ann = await factories.create_patient(admin_conn, clinic["id"])
    _, schedule = await factories.create_medication(admin_conn, ann["id"])
    dose = await factories.create_dose_event(admin_conn, schedule, DUE)
    appointment = await _appointment(admin_conn, ann)
    await admin_conn.execute(QUESTION, ann["id"], dose["id"], None, None, OPTIONS)
    kept = await admin_conn.fetchval(QUESTION, ann["id"], None, appointment, None, OPTIONS)
    await admin_conn.execute("delete from dose_events where id = $1", dose["id"])
    assert await admin_conn.fetchval("select array_agg(id) from conversation_questions") == [kept]
    await admin_conn.execute("delete from appointments where id = $1", appointment)
    assert await _questions(admin_conn) == []
    # A self-registered patient deleted outright: their questions go with them.
    bob, bob_dose = await _patient_with_dose(admin_conn)
    await admin_conn.execute(QUESTION, bob["id"], bob_dose["id"], None, None, OPTIONS)
    await admin_conn.execute("delete from patients where id = $1", bob["id"])
    assert await _questions(admin_conn) == []


@pytest.mark.parametrize(
    ("table", "key"),
    [("dose_events", "id"), ("patients", "id")],
    ids=["dose", "patient (no key of the question's: through the dose it deletes)"],
)
async def test_a_delete_and_a_question_naming_its_row_wait_for_each_other(
    admin_conn: asyncpg.Connection, database_url: str, table: str, key: str
) -> None:
    """As a foreign key: a question being inserted holds its dose until it commits (the delete
    then removes it too), and a question naming a dose being deleted is refused once it is. A
    patient's delete reaches the question through the dose its cascade deletes."""
    delete_sql = f"delete from {table} where {key} = $1"

    def row_of(patient: asyncpg.Record, dose: asyncpg.Record) -> object:
        return dose["id"] if table == "dose_events" else patient["id"]

    ann, dose = await _patient_with_dose(admin_conn)
    other = await asyncpg.connect(database_url)
    try:
        async with admin_conn.transaction():
            await admin_conn.execute(QUESTION, ann["id"], dose["id"], None, None, OPTIONS)
            delete = asyncio.create_task(other.execute(delete_sql, row_of(ann, dose)))
            await asyncio.sleep(0.5)
            assert not delete.done()  # waits for the question's transaction
        await asyncio.wait_for(delete, timeout=30)
        assert await _questions(admin_conn) == []

        bob, second = await _patient_with_dose(admin_conn)
        async with other.transaction():
            await other.execute(delete_sql, row_of(bob, second))
            insert = asyncio.create_task(
                admin_conn.execute(QUESTION, bob["id"], second["id"], None, None, OPTIONS)
            )
            await asyncio.sleep(0.5)
            assert not insert.done()  # waits for the delete's transaction
        with pytest.raises(asyncpg.ForeignKeyViolationError, match="dose_of_its_patient"):
            await asyncio.wait_for(insert, timeout=30)
        assert await _questions(admin_conn) == []
    finally:
        await other.close()


async def test_a_repeatable_read_delete_never_leaves_a_question_without_its_dose(
    admin_conn: asyncpg.Connection, database_url: str
) -> None:
    """A key's cascade looks for rows committed after the deleter's snapshot: a question whose
    insert committed while a REPEATABLE READ delete of its dose waited makes the delete fail to
    serialize (a cascade by a statement trigger would delete what its snapshot shows and leave
    the question pointing at nothing)."""
    ann, dose = await _patient_with_dose(admin_conn)
    other = await asyncpg.connect(database_url)
    try:
        inserting = admin_conn.transaction()
        await inserting.start()
        await admin_conn.execute(QUESTION, ann["id"], dose["id"], None, None, OPTIONS)
        deleting = other.transaction(isolation="repeatable_read")
        await deleting.start()
        await other.fetchval("select 1")  # its snapshot, before the question commits
        delete = asyncio.create_task(
            other.execute("delete from dose_events where id = $1", dose["id"])
        )
        await asyncio.sleep(0.5)
        assert not delete.done()
        await inserting.commit()
        with pytest.raises(asyncpg.SerializationError):
            await asyncio.wait_for(delete, timeout=30)
        await deleting.rollback()
        orphans = await admin_conn.fetchval(
            "select count(*) from conversation_questions q"
            " where not exists (select 1 from dose_events d where d.id = q.dose_event_id)"
        )
        assert orphans == 0
        assert len(await _questions(admin_conn)) == 1
    finally:
        await other.close()


async def test_no_question_points_across_clinics(admin_conn: asyncpg.Connection) -> None:
    north = await factories.create_organization(admin_conn)
    south = await factories.create_organization(admin_conn)
    ann = await factories.create_patient(admin_conn, north["id"])
    bob = await factories.create_patient(admin_conn, south["id"])
    _, schedule = await factories.create_medication(admin_conn, bob["id"])
    bobs_dose = await factories.create_dose_event(admin_conn, schedule, DUE)
    bobs_visit = await _appointment(admin_conn, bob)
    for subject in ((bobs_dose["id"], None, None), (None, bobs_visit, None)):
        with pytest.raises(asyncpg.ForeignKeyViolationError, match="of_its_patient"):
            await admin_conn.execute(QUESTION, ann["id"], *subject, OPTIONS)
    await admin_conn.execute(QUESTION, bob["id"], None, bobs_visit, None, OPTIONS)
    # Nor can a question be moved to the other clinic's patient, or to its subject.
    with pytest.raises(asyncpg.ForeignKeyViolationError, match="appointment_of_its_patient"):
        await admin_conn.execute("update conversation_questions set patient_id = $1", ann["id"])
    _, own_schedule = await factories.create_medication(admin_conn, ann["id"])
    anns_dose = await factories.create_dose_event(admin_conn, own_schedule, DUE)
    with pytest.raises(asyncpg.ForeignKeyViolationError, match="dose_of_its_patient"):
        await admin_conn.execute(
            "update conversation_questions set appointment_id = null, dose_event_id = $1",
            anns_dose["id"],
        )


async def test_a_merge_moves_the_questions_and_an_erasure_removes_them(
    admin_conn: asyncpg.Connection,
) -> None:
    clinic = await factories.create_organization(admin_conn)
    own, own_dose = await _patient_with_dose(admin_conn)  # self-registered
    record = await factories.create_patient(admin_conn, clinic["id"])
    _, schedule = await factories.create_medication(admin_conn, own["id"])
    later = await factories.create_dose_event(admin_conn, schedule, DUE.replace(hour=20))
    for dose in (own_dose, later):
        await admin_conn.execute(QUESTION, own["id"], dose["id"], None, None, OPTIONS)
    await admin_conn.execute("select merge_patient($1, $2, now())", own["id"], record["id"])
    moved = await admin_conn.fetch(
        "select q.patient_id, d.patient_id as subject_patient"
        " from conversation_questions q join dose_events d on d.id = q.dose_event_id"
    )
    assert [tuple(q) for q in moved] == [(record["id"], record["id"])] * 2
    visit = await _appointment(admin_conn, record)
    await admin_conn.execute(QUESTION, record["id"], None, visit, None, OPTIONS)
    # The clinic's record erased: a tombstone without questions.
    await admin_conn.execute("select erase_patient($1, 'request', now())", record["id"])
    assert await _questions(admin_conn) == []
    assert await admin_conn.fetchval("select status from patients where id = $1", record["id"]) == (
        "deleted"
    )


async def test_the_service_role_draws_a_place_in_the_question_order_and_nothing_more(
    admin_conn: asyncpg.Connection,
) -> None:
    """A turn that asks the dialog's question draws its seq from the questions' sequence
    (core/sql/bot.sql finish_turn, migration 20260101014900) as the service role; it cannot set
    the sequence, and the API roles cannot touch it."""
    sequence = "public.conversation_questions_seq_seq"
    held = {
        (r["role"], r["privilege"])
        for r in await admin_conn.fetch(
            "select r as role, p as privilege from unnest($1::text[]) r,"
            " unnest(array['USAGE', 'SELECT', 'UPDATE']) p"
            " where has_sequence_privilege(r, $2, p)",
            ["medremind_app", "anon", "authenticated"],
            sequence,
        )
    }
    assert held == {("medremind_app", "USAGE")}
    async with admin_conn.transaction():
        await admin_conn.execute("set local role medremind_app")
        first = await admin_conn.fetchval(f"select nextval('{sequence}')")
        assert await admin_conn.fetchval(f"select nextval('{sequence}')") > first
