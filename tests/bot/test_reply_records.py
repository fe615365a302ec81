"""The web process records its reply sends in shared statements (bot/reply_records.py)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from bot.reply_records import Recorded, ReplyRecorder
from core.db import Database
from scheduler.claims import AttemptRow, Outcome
from tests.factories import create_patient


async def test_concurrent_turns_share_record_statements_and_each_gets_its_own_answer(
    db: Database, admin_conn: asyncpg.Connection
) -> None:
    patient = await create_patient(admin_conn)
    rows = []
    for n in range(12):
        token = uuid.uuid4()
        message_id = await admin_conn.fetchval(
            "insert into scheduled_messages (patient_id, message_content, status, lease_token,"
            " locked_until, attempts) values ($1, $2, 'processing', $3, $4, 1) returning id",
            patient["id"],
            f"reply {n}",
            token,
            datetime.now(UTC) + timedelta(minutes=1),
        )
        rows.append((message_id, token))
    assert db.pool is not None
    recorder = ReplyRecorder(db.pool)
    at = datetime.now(UTC)

    async def turn(message_id: uuid.UUID, token: uuid.UUID, lost: bool) -> int:
        # A lost lease (the reaper handed the row on) is refused, as the dispatcher's would be.
        outcome = Outcome(message_id, uuid.uuid4() if lost else token, "sent", sent_at=at)
        attempt = AttemptRow(message_id, at, "sent", "telegram")
        return (await recorder.record([outcome], [attempt])).applied

    applied = await asyncio.gather(
        *(turn(message_id, token, lost=n % 4 == 0) for n, (message_id, token) in enumerate(rows))
    )
    assert applied == [0 if n % 4 == 0 else 1 for n in range(12)]
    assert 1 <= recorder.statements < 12
    statuses = await admin_conn.fetch(
        "select status, (select count(*) from message_delivery_attempts a"
        "  where a.message_id = m.id) as attempts"
        "  from scheduled_messages m where id = any($1::uuid[]) order by message_content",
        [message_id for message_id, _ in rows],
    )
    by_text = sorted(range(12), key=lambda n: f"reply {n}")
    assert [(r["status"], r["attempts"]) for r in statuses] == [
        ("processing" if n % 4 == 0 else "sent", 1) for n in by_text
    ]


async def _processing_reply(
    conn: asyncpg.Connection, patient_id: object
) -> tuple[Outcome, AttemptRow]:
    """A reply being sent (its lease held) and what its send did."""
    token = uuid.uuid4()
    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    message_id = await conn.fetchval(
        "insert into scheduled_messages (patient_id, message_content, status, lease_token,"
        " locked_until, attempts) values ($1, 'a reply', 'processing', $2, now() + interval"
        " '1 minute', 1) returning id",
        patient_id,
        token,
    )
    return (
        Outcome(message_id, token, "sent", sent_at=at),
        AttemptRow(message_id, at, "sent", "telegram"),
    )


async def _replies_one_erased(
    conn: asyncpg.Connection,
) -> tuple[tuple[Outcome, AttemptRow], list[tuple[Outcome, AttemptRow]]]:
    """Three replies being sent: one whose patient was then erased, and two others'."""
    erased = await create_patient(conn)
    others = [await create_patient(conn) for _ in range(2)]
    gone = await _processing_reply(conn, erased["id"])
    kept = [await _processing_reply(conn, p["id"]) for p in others]
    await conn.execute(
        "select public.erase_patient($1, 'erased during the send', now())", erased["id"]
    )
    return gone, kept


async def _recorded(conn: asyncpg.Connection, message_id: object) -> tuple[str, int]:
    row = await conn.fetchrow(
        "select status, (select count(*) from message_delivery_attempts a"
        "  where a.message_id = m.id) as attempts from scheduled_messages m where id = $1",
        message_id,
    )
    assert row is not None
    return row["status"], row["attempts"]


async def test_a_reply_whose_patient_was_erased_is_dropped_and_the_others_recorded(
    db: Database, admin_conn: asyncpg.Connection
) -> None:
    """The erased patient's reply took its message with it: its attempt's foreign key failed
    the shared statement, and every caller's reply stayed 'processing' (sent again when the
    leases ran out)."""
    gone, kept = await _replies_one_erased(admin_conn)
    assert db.pool is not None
    recorder = ReplyRecorder(db.pool)

    results = await asyncio.gather(
        *(recorder.record([outcome], [attempt]) for outcome, attempt in [kept[0], gone, kept[1]])
    )

    assert results == [Recorded(1, 0), Recorded(0, 1), Recorded(1, 0)]
    assert recorder.erased == 1
    assert recorder.statements == 2  # the shared one, then once more without the erased row
    for outcome, _ in kept:
        assert await _recorded(admin_conn, outcome.id) == ("sent", 1)


async def test_a_bad_row_fails_its_own_caller_only(
    db: Database, admin_conn: asyncpg.Connection
) -> None:
    """Any other refusal of the shared statement is one caller's: the others are recorded."""
    patients = [await create_patient(admin_conn) for _ in range(3)]
    replies = [await _processing_reply(admin_conn, p["id"]) for p in patients]
    bad_outcome, bad_attempt = replies[1]
    replies[1] = (bad_outcome._replace(status="no such status"), bad_attempt)
    assert db.pool is not None
    recorder = ReplyRecorder(db.pool)

    results = await asyncio.gather(
        *(recorder.record([outcome], [attempt]) for outcome, attempt in replies),
        return_exceptions=True,
    )

    assert results[0] == results[2] == Recorded(1, 0)
    assert isinstance(results[1], asyncpg.PostgresError), results[1]
    assert await _recorded(admin_conn, replies[0][0].id) == ("sent", 1)
    assert await _recorded(admin_conn, replies[2][0].id) == ("sent", 1)
    assert await _recorded(admin_conn, bad_outcome.id) == ("processing", 0)


async def test_a_nul_byte_and_an_erased_patient_in_one_statement(
    db: Database, admin_conn: asyncpg.Connection
) -> None:
    """A provider's message id with a NUL byte (PostgreSQL's text refuses it: SQLSTATE 22021)
    is recorded with U+FFFD in its place, and with an erased patient's reply in the same shared
    statement both are dealt with: every other reply is recorded."""
    gone, kept = await _replies_one_erased(admin_conn)
    kept[0] = (kept[0][0]._replace(provider_message_id="SM\x001"), kept[0][1])
    assert db.pool is not None
    recorder = ReplyRecorder(db.pool)

    results = await asyncio.gather(
        *(recorder.record([outcome], [attempt]) for outcome, attempt in [kept[0], gone, kept[1]])
    )

    assert results == [Recorded(1, 0), Recorded(0, 1), Recorded(1, 0)]
    assert recorder.statements == 3  # refused for the NUL, then for the erased row, then written
    for outcome, _ in kept:
        assert await _recorded(admin_conn, outcome.id) == ("sent", 1)
    assert (
        await admin_conn.fetchval(
            "select provider_message_id from scheduled_messages where id = $1", kept[0][0].id
        )
        == "SM\ufffd1"
    )
