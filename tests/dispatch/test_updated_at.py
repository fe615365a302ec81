"""scheduled_messages.updated_at moves with every change: set by the dispatcher's own statements
(claim, record), by the row trigger for every other writer (migration 20260101009420)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import asyncpg

from platforms.base import Channel
from scheduler.dispatcher import Dispatcher
from tests import factories
from tests.dispatch.conftest import NOON
from tests.dispatch.recording import RecordingSender

MakeDispatcher = Callable[..., tuple[Dispatcher, dict[Channel, RecordingSender]]]
LONG_AGO = NOON - timedelta(days=30)


async def _updated_at(conn: asyncpg.Connection, message_id: object) -> object:
    return await conn.fetchval(
        "select updated_at from scheduled_messages where id = $1", message_id
    )


async def test_claim_and_record_move_updated_at(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher
) -> None:
    patient = await factories.create_patient(admin_conn, contacts={"telegram": "777100"})
    message = await factories.create_message(
        admin_conn, patient["id"], scheduled_time=NOON, urgent=True
    )
    await admin_conn.execute(
        "update scheduled_messages set updated_at = $2 where id = $1", message["id"], LONG_AGO
    )
    dispatcher, _senders = make_dispatcher()
    started = await admin_conn.fetchval("select now()")
    assert await dispatcher.run_once() == 1
    row = await admin_conn.fetchrow(
        "select status, updated_at from scheduled_messages where id = $1", message["id"]
    )
    assert row["status"] == "sent"
    assert row["updated_at"] >= started


async def test_other_writers_still_get_updated_at_from_the_trigger(
    admin_conn: asyncpg.Connection,
) -> None:
    patient = await factories.create_patient(admin_conn)
    message = await factories.create_message(admin_conn, patient["id"])
    await admin_conn.execute(
        "update scheduled_messages set updated_at = $2 where id = $1", message["id"], LONG_AGO
    )
    assert await _updated_at(admin_conn, message["id"]) == LONG_AGO  # set explicitly: kept
    started = await admin_conn.fetchval("select now()")
    await admin_conn.execute(
        "update scheduled_messages set priority = 2 where id = $1", message["id"]
    )
    updated = await _updated_at(admin_conn, message["id"])
    assert isinstance(updated, type(started)) and updated >= started
