"""A sent reminder's question names its message alone (migration 20260101013100).

The dispatcher's record writes the question in the statement that updates the sent message; the
question's patient, dose and appointment are the message's, read through it by the answer router
(``bot.sql open_questions``) and by the closing of answered questions (``close_questions``). So
the question has no key of its own to check, and still never reaches another patient's dose:
deleting the dose, the appointment or the patient deletes the message and so the question (also
when the delete comes while the record is in flight), a merge carries it with the message, an
erasure removes it, and a message whose dose is another patient's asks nothing.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest

from core.sql import query
from scheduler.claims import Outcome, claim, record
from tests import factories

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
CHAT = "+15550100"


def _question(subject: UUID, kind: str = "d") -> str:
    return json.dumps(
        {
            "channel": "sms",
            "address": CHAT,
            "options": [{"label": "Taken", "data": f"{kind}:{subject.hex}:t", "keys": ["1"]}],
        }
    )


async def _send(conn: asyncpg.Connection, patient: UUID, **subject: Any) -> UUID:
    """A reminder of ``subject`` (dose_event_id or appointment_id) claimed and recorded as sent
    on the SMS chat, with its question, as the dispatcher does; its message's id."""
    await factories.create_message(
        conn,
        patient,
        scheduled_time=NOW - timedelta(seconds=1),
        kind="medication_reminder",
        **subject,
    )
    [claimed] = await claim(conn, now=NOW, limit=1, worker="w", lease_seconds=60)
    kind = "d" if "dose_event_id" in subject else "a"
    outcome = Outcome(
        claimed.id,
        claimed.lease_token,
        "sent",
        sent_at=NOW,
        channel_used="sms",
        question=_question(next(iter(subject.values())), kind),
    )
    assert await record(conn, [outcome], []) == {claimed.id}
    return claimed.id


async def _open(conn: asyncpg.Connection, patient: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        query("bot", "open_questions"), "sms", CHAT, patient, NOW, NOW - timedelta(hours=12)
    )


async def _dose(conn: asyncpg.Connection, patient: UUID) -> UUID:
    _, schedule = await factories.create_medication(conn, patient)
    return (await factories.create_dose_event(conn, schedule, NOW + timedelta(minutes=5)))["id"]


async def _appointment(conn: asyncpg.Connection, patient: asyncpg.Record) -> UUID:
    return await conn.fetchval(
        "insert into appointments (organization_id, patient_id, starts_at)"
        " values ($1, $2, $3) returning id",
        patient["organization_id"],
        patient["id"],
        NOW + timedelta(days=1),
    )


async def _subjects(conn: asyncpg.Connection, patient: UUID) -> list[tuple[Any, Any]]:
    return [(r["dose_event_id"], r["appointment_id"]) for r in await _open(conn, patient)]


async def _count(conn: asyncpg.Connection) -> int:
    return await conn.fetchval("select count(*) from conversation_questions")


async def test_a_sent_reminders_question_is_read_and_closed_through_its_message(
    admin_conn: asyncpg.Connection,
) -> None:
    clinic = await factories.create_organization(admin_conn)
    ann = await factories.create_patient(admin_conn, clinic["id"], contacts={"sms": CHAT})
    dose = await _dose(admin_conn, ann["id"])
    message = await _send(admin_conn, ann["id"], dose_event_id=dose)
    row = await admin_conn.fetchrow("select * from conversation_questions")
    assert (row["message_id"], row["patient_id"], row["dose_event_id"]) == (message, None, None)
    assert await _subjects(admin_conn, ann["id"]) == [(dose, None)]
    # Another patient on the same chat (a shared phone) is not asked it.
    bob = await factories.create_patient(admin_conn, clinic["id"], contacts={})
    assert await _open(admin_conn, bob["id"]) == []

    visit = await _appointment(admin_conn, ann)
    await _send(admin_conn, ann["id"], appointment_id=visit)
    assert await _subjects(admin_conn, ann["id"]) == [(None, visit), (dose, None)]
    # Answering the dose closes its question, answering the appointment closes the other.
    close = query("bot", "close_questions")
    await admin_conn.execute(close, dose, None, NOW, None)
    assert [r["appointment_id"] for r in await _open(admin_conn, ann["id"])] == [visit]
    await admin_conn.execute(close, None, visit, NOW, None)
    assert await _open(admin_conn, ann["id"]) == []
    assert (
        await admin_conn.fetchval(
            "select count(*) from conversation_questions where answered_at = $1", NOW
        )
        == 2
    )


async def test_a_question_has_a_patient_and_one_subject_or_a_message_and_none(
    admin_conn: asyncpg.Connection,
) -> None:
    ann = await factories.create_patient(admin_conn)
    dose = await _dose(admin_conn, ann["id"])
    message = (await factories.create_message(admin_conn, ann["id"], dose_event_id=dose))["id"]
    insert = (
        "insert into conversation_questions (id, patient_id, channel, chat_address, message_id,"
        " dose_event_id, options, asked_at)"
        " values (coalesce($3, gen_random_uuid()), $1, 'sms', $2, $3, $4, $5::jsonb, now())"
    )
    options = json.loads(_question(dose))["options"]
    for patient, about, subject in ((None, None, None), (None, message, dose)):
        with pytest.raises(asyncpg.CheckViolationError, match="one_subject"):
            await admin_conn.execute(insert, patient, CHAT, about, subject, options)
    with pytest.raises(asyncpg.ForeignKeyViolationError, match="not a scheduled message"):
        await admin_conn.execute(insert, None, CHAT, uuid4(), None, options)
    await admin_conn.execute(insert, None, CHAT, message, None, options)
    # A question with a patient and a subject may name its message too (a slot offer's); a
    # message asks one question (its id is the message's, migration 20260101013410).
    other = (await factories.create_message(admin_conn, ann["id"], dose_event_id=dose))["id"]
    await admin_conn.execute(insert, ann["id"], CHAT, other, dose, options)
    with pytest.raises(asyncpg.CheckViolationError, match="id_is_its_message"):
        await admin_conn.execute(
            "update conversation_questions set id = gen_random_uuid() where id = $1", other
        )
    assert await _count(admin_conn) == 2


async def test_a_message_whose_dose_is_another_patients_asks_nothing(
    admin_conn: asyncpg.Connection,
) -> None:
    """The message is the question's only pointer: a dose or appointment of another patient
    (another clinic's) there is no subject the router reads, so no answer can reach it."""
    north = await factories.create_organization(admin_conn)
    south = await factories.create_organization(admin_conn)
    ann = await factories.create_patient(admin_conn, north["id"], contacts={"sms": CHAT})
    bob = await factories.create_patient(admin_conn, south["id"], contacts={})
    bobs_dose = await _dose(admin_conn, bob["id"])
    bobs_visit = await _appointment(admin_conn, bob)
    await _send(admin_conn, ann["id"], dose_event_id=bobs_dose)
    await _send(admin_conn, ann["id"], appointment_id=bobs_visit)
    assert await _count(admin_conn) == 2
    assert await _open(admin_conn, ann["id"]) == []
    assert await _open(admin_conn, bob["id"]) == []


async def test_deleting_the_dose_appointment_or_patient_deletes_the_question(
    admin_conn: asyncpg.Connection,
) -> None:
    clinic = await factories.create_organization(admin_conn)
    ann = await factories.create_patient(admin_conn, clinic["id"], contacts={"sms": CHAT})
    dose = await _dose(admin_conn, ann["id"])
    visit = await _appointment(admin_conn, ann)
    await _send(admin_conn, ann["id"], dose_event_id=dose)
    kept = await _send(admin_conn, ann["id"], appointment_id=visit)
    await admin_conn.execute("delete from dose_events where id = $1", dose)
    assert await admin_conn.fetchval(
        "select array_agg(message_id) from conversation_questions"
    ) == [kept]
    await admin_conn.execute("delete from appointments where id = $1", visit)
    assert await _count(admin_conn) == 0
    # A self-registered patient deleted outright: the messages go, and their questions.
    own = await factories.create_patient(admin_conn, contacts={})
    await _send(admin_conn, own["id"], dose_event_id=await _dose(admin_conn, own["id"]))
    await admin_conn.execute("delete from patients where id = $1", own["id"])
    assert await _count(admin_conn) == 0


async def test_a_merge_carries_the_question_and_an_erasure_removes_it(
    admin_conn: asyncpg.Connection,
) -> None:
    clinic = await factories.create_organization(admin_conn)
    own = await factories.create_patient(admin_conn, contacts={"sms": CHAT})  # self-registered
    clinic_record = await factories.create_patient(admin_conn, clinic["id"], contacts={})
    dose = await _dose(admin_conn, own["id"])
    await _send(admin_conn, own["id"], dose_event_id=dose)
    await admin_conn.execute("select merge_patient($1, $2, now())", own["id"], clinic_record["id"])
    assert [r["dose_event_id"] for r in await _open(admin_conn, clinic_record["id"])] == [dose]
    visit = await _appointment(admin_conn, clinic_record)
    await _send(admin_conn, clinic_record["id"], appointment_id=visit)
    assert len(await _open(admin_conn, clinic_record["id"])) == 2
    await admin_conn.execute("select erase_patient($1, 'request', now())", clinic_record["id"])
    assert await _count(admin_conn) == 0


async def test_a_delete_of_the_dose_waits_for_a_record_in_flight_and_takes_its_question(
    admin_conn: asyncpg.Connection, database_url: str
) -> None:
    """The record holds its message's row lock until it commits: a delete of the dose (whose
    cascade deletes the message) waits, then deletes the committed question with the message;
    a REPEATABLE READ delete fails to serialize instead of leaving the question behind."""
    ann = await factories.create_patient(admin_conn, contacts={"sms": CHAT})
    other = await asyncpg.connect(database_url)
    try:
        for isolation in ("read_committed", "repeatable_read"):
            dose = await _dose(admin_conn, ann["id"])
            recording = admin_conn.transaction()
            await recording.start()
            await _send(admin_conn, ann["id"], dose_event_id=dose)
            deleting = other.transaction(isolation=isolation)
            await deleting.start()
            await other.fetchval("select 1")  # its snapshot, before the record commits
            delete = asyncio.create_task(
                other.execute("delete from dose_events where id = $1", dose)
            )
            await asyncio.sleep(0.5)
            assert not delete.done()  # waits for the record's transaction
            await recording.commit()
            if isolation == "read_committed":
                await asyncio.wait_for(delete, timeout=30)
                await deleting.commit()
                assert await _count(admin_conn) == 0
            else:
                with pytest.raises(asyncpg.SerializationError):
                    await asyncio.wait_for(delete, timeout=30)
                await deleting.rollback()
                assert await _count(admin_conn) == 1
    finally:
        await other.close()


async def test_a_message_sent_again_asks_once_on_the_chat_it_went_to(
    admin_conn: asyncpg.Connection,
) -> None:
    """The question takes its message's id (migration 20260101013410). A message recorded sent
    again (an "undelivered" callback's fallback to the next channel, a retry) replaces it: the
    new chat, open again; a message given twice in one record asks once."""
    clinic = await factories.create_organization(admin_conn)
    ann = await factories.create_patient(
        admin_conn, clinic["id"], contacts={"sms": CHAT, "telegram": "5001"}
    )
    dose = await _dose(admin_conn, ann["id"])
    message = await _send(admin_conn, ann["id"], dose_event_id=dose)
    assert await admin_conn.fetchval("select id from conversation_questions") == message
    first_seq = await admin_conn.fetchval("select seq from conversation_questions")
    await admin_conn.execute(query("bot", "close_questions"), dose, None, NOW, None)
    # Something else was asked meanwhile (here: drew its place in the order).
    between = await admin_conn.fetchval("select nextval('conversation_questions_seq_seq')")

    # The SMS was not delivered: the message goes out again, on Telegram.
    await admin_conn.execute(
        "update scheduled_messages set status = 'pending', scheduled_time = $2 where id = $1",
        message,
        NOW - timedelta(seconds=1),
    )
    [claimed] = await claim(admin_conn, now=NOW, limit=1, worker="w", lease_seconds=60)
    later = NOW + timedelta(minutes=1)
    asked = json.loads(_question(dose)) | {"channel": "telegram", "address": "5001"}
    again = Outcome(
        claimed.id,
        claimed.lease_token,
        "sent",
        sent_at=later,
        channel_used="telegram",
        question=json.dumps(asked),
    )
    # Given twice in one batch (the first applies; the question is asked once).
    assert await record(admin_conn, [again, again], []) == {message}
    rows = await admin_conn.fetch("select * from conversation_questions")
    assert [(r["id"], r["message_id"]) for r in rows] == [(message, message)]
    assert (rows[0]["channel"], rows[0]["chat_address"]) == ("telegram", "5001")
    assert (rows[0]["asked_at"], rows[0]["answered_at"]) == (later, None)
    # Asked again, it is ordered after what was asked before (migration 20260101014900): by
    # a new seq, which breaks ties of asked_at.
    assert rows[0]["seq"] > between > first_seq
    # Deleting the message deletes it (by its id).
    await admin_conn.execute("delete from scheduled_messages where id = $1", message)
    assert await _count(admin_conn) == 0
