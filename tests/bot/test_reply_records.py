"""The web process records its reply sends in shared statements (bot/reply_records.py)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from bot.reply_records import ReplyRecorder
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
        return await recorder.record([outcome], [attempt])

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
