"""The record tells the attempts' and questions' existence checks that its rows name messages it
has just updated (migration 20260101017300): the mark covers that one statement, and a row that
names a message the record did not update is still checked."""

from __future__ import annotations

from uuid import uuid4

import asyncpg
import pytest

from scheduler.claims import AttemptRow, record
from tests.dispatch.test_record_statement import NOW, _claimed, _connect

_ATTEMPT = (
    "insert into message_delivery_attempts (message_id, status, channel) values ($1, 'sent', 'sms')"
)
# A question of a chat without a patient (a stranger's reply): a message and nothing else.
_QUESTION = (
    "insert into conversation_questions (id, channel, chat_address, message_id, options,"
    " asked_at) values ($1, 'telegram', '5001', $1,"
    """ '[{"label": "Taken", "data": "d:x:t", "keys": ["1"]}]'::jsonb, now())"""
)


async def test_the_mark_ends_with_the_record_statement(database_url: str) -> None:
    """In a caller's transaction, statements after the record are checked again."""
    conn = await _connect(database_url)
    try:
        outcomes = await _claimed(conn, 2)
        attempts = [AttemptRow(o.id, NOW, "sent", "sms") for o in outcomes]
        async with conn.transaction():
            assert await record(conn, outcomes, attempts) == {o.id for o in outcomes}
            assert await conn.fetchval("show medremind.attempts_checked") == ""
            assert await conn.fetchval("show medremind.questions_checked") == ""
            with pytest.raises(asyncpg.ForeignKeyViolationError, match="not a scheduled message"):
                async with conn.transaction():  # a savepoint: the caller's work stays
                    await conn.execute(_ATTEMPT, uuid4())
            with pytest.raises(asyncpg.ForeignKeyViolationError, match="not a scheduled message"):
                async with conn.transaction():
                    await conn.execute(_QUESTION, uuid4())
        assert await conn.fetchval("select count(*) from message_delivery_attempts") == 2
    finally:
        await conn.close()


async def test_an_attempt_of_a_message_the_record_did_not_update_is_checked(
    database_url: str,
) -> None:
    """A lease lost meanwhile: its attempt is written if its message exists, refused if not."""
    conn = await _connect(database_url)
    try:
        held, lost = await _claimed(conn, 2)
        lost_elsewhere = lost._replace(lease_token=uuid4())  # another worker's lease now
        gone = uuid4()  # an attempt naming a message erased meanwhile
        with pytest.raises(asyncpg.ForeignKeyViolationError, match="not a scheduled message"):
            await record(
                conn,
                [held, lost_elsewhere],
                [AttemptRow(held.id, NOW, "sent", "sms"), AttemptRow(gone, NOW, "sent", "sms")],
            )
        assert await conn.fetchval("select count(*) from message_delivery_attempts") == 0
        applied = await record(
            conn,
            [held, lost_elsewhere],
            [AttemptRow(held.id, NOW, "sent", "sms"), AttemptRow(lost.id, NOW, "sent", "sms")],
        )
        assert applied == {held.id}
        assert await conn.fetchval("select count(*) from message_delivery_attempts") == 2
    finally:
        await conn.close()
