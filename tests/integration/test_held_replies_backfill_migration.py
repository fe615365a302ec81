"""Bot replies recorded before migration 20260101015100 take the time they went out (migration
20260101015300).

A database migrated up to just before 20260101015100 holds the rows a turn of two replies left
then: the first reply due at the turn, the second held (due at its expiry, a day ahead) and sent
in the same turn, so it kept the held time. Around them, every row that must keep its time: a
held reply released before it was sent, one still pending, one cancelled, a failed one with no
attempt, the first reply, and a message of no conversation at its expiry time. Migrated to the
end: the held replies sent, delivered or failed take the time they went out (sent_at, or the
failed one's last attempt); nothing else changes, in any column but updated_at.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from core.migrate import MIGRATIONS_DIR, migrate
from tests.factories import create_message
from tests.integration.partial_migrations import migrated_until

BEFORE = "20260101014900"
TURN = datetime(2026, 11, 30, 2, 24, tzinfo=UTC)
HELD = TURN + timedelta(hours=24)  # store_replies: scheduled_time = expires_at = now() + 24 h


async def _message(conn: asyncpg.Connection, patient: uuid.UUID, **values: object) -> uuid.UUID:
    """A reply as store_replies wrote the held ones, but for ``values``."""
    held = {"scheduled_time": HELD, "expires_at": HELD, "platform": "sms", "kind": "system"}
    row = await create_message(conn, patient, **(held | {"urgent": True} | values))
    message: uuid.UUID = row["id"]
    return message


async def _rows(
    conn: asyncpg.Connection,
    columns: dict[uuid.UUID, tuple[datetime, dict[str, object]]] | None = None,
) -> dict[uuid.UUID, tuple[datetime, dict[str, object]]]:
    """Every message: its scheduled time and every other column but updated_at (those of
    ``columns``' row when given: a later migration's new column is not this one's change)."""
    rows = await conn.fetch(
        "select id, scheduled_time,"
        " (to_jsonb(m) - 'scheduled_time' - 'updated_at')::text as rest"
        " from scheduled_messages m"
    )
    found = {r["id"]: (r["scheduled_time"], json.loads(r["rest"])) for r in rows}
    if columns is None:
        return found
    return {
        i: (at, {k: rest.get(k) for k in columns[i][1]}) if i in columns else (at, rest)
        for i, (at, rest) in found.items()
    }


async def test_held_replies_sent_before_the_trigger_take_their_send_time(
    pg_admin_url: str, tmp_path: Path
) -> None:
    async with migrated_until(pg_admin_url, tmp_path, BEFORE) as conn:
        patient = await conn.fetchval(
            "insert into patients (display_name, channel_order) values ('Pat', '{sms}')"
            " returning id"
        )
        conversation = await conn.fetchval(
            "insert into conversations (channel, chat_address, patient_id)"
            " values ('sms', '+14155550191', $1) returning id",
            patient,
        )
        reply = {"conversation_id": conversation}
        first = await _message(
            conn, patient, **reply, scheduled_time=TURN, status="sent", sent_at=TURN
        )
        sent_at = TURN + timedelta(seconds=1)
        held_sent = await _message(conn, patient, **reply, status="sent", sent_at=sent_at)
        delivered_at = TURN + timedelta(seconds=2)
        held_delivered = await _message(
            conn, patient, **reply, status="delivered", sent_at=delivered_at
        )
        held_failed = await _message(conn, patient, **reply, status="failed")
        tried_at = TURN + timedelta(seconds=3)
        for at in (tried_at - timedelta(seconds=1), tried_at):
            await conn.execute(
                "insert into message_delivery_attempts"
                " (message_id, attempt_time, status, channel, error_class)"
                " values ($1, $2, 'failed', 'sms', 'permanent')",
                held_failed,
                at,
            )
        unchanged = [
            first,
            # Failed with no attempt recorded: no time it went out to give it.
            await _message(conn, patient, **reply, status="failed"),
            # Released before it was sent: its release time.
            await _message(
                conn,
                patient,
                **reply,
                scheduled_time=TURN + timedelta(seconds=5),
                status="sent",
                sent_at=TURN + timedelta(seconds=6),
            ),
            await _message(conn, patient, **reply),  # still held, pending
            await _message(conn, patient, **reply, status="cancelled"),
            # No conversation: not a reply, whatever its times.
            await _message(conn, patient, kind="free_text", status="sent", sent_at=TURN),
        ]
        before = await _rows(conn)

        applied = await migrate(conn, MIGRATIONS_DIR)

        assert "20260101015300_held_replies_sent_take_their_send_time.sql" in applied
        after = await _rows(conn, before)
        assert after.keys() == before.keys()
        for message in unchanged:
            assert after[message] == before[message]
        assert after[held_sent] == (sent_at, before[held_sent][1])
        assert after[held_delivered] == (delivered_at, before[held_delivered][1])
        assert after[held_failed] == (tried_at, before[held_failed][1])
        queued = await conn.fetchval("select count(*) from message_queue")
        assert queued == 1  # the pending reply alone, as before
