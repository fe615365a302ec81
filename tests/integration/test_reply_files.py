"""The stored files of bot replies (``reply_files``, migration 20260101010300) on real Postgres.

Nobody but the service reads them (an export is the patient's whole dose history): not the
clinic's own clinicians, not anon. A file is bounded (the table's CHECK and
``core.reply_files.MAX_FILE_BYTES`` agree). A reply's files go once the row is final, and with the
row when it is deleted: by retention, by a patient's erasure (a clinic's patient, a self-registered
one), by a stranger's reply rows going with their chat's erasure.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from core.db import Database
from core.reply_files import (
    MAX_FILE_BYTES,
    ReplyFileTooLarge,
    check_files,
    load_files,
    store_files,
)
from core.templating import TemplateRenderer
from platforms.base import Channel
from scheduler.dispatcher import Dispatcher, DispatcherConfig
from scheduler.retention import prune_finished
from tests.dispatch.recording import RecordingSender
from tests.factories import create_clinician, create_organization, create_patient
from tests.integration.clinician import as_clinician

PNG = ("adherence.png", "image/png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
CSV = ("medremind-doses.csv", "text/csv", "\ufeffdose_event_id,status\r\n".encode())


async def _reply(
    conn: asyncpg.Connection, patient_id: uuid.UUID | None, chat: str, **columns: Any
) -> uuid.UUID:
    """A reply row to the Telegram chat ``chat`` naming two files, as store_replies writes it."""
    conversation = await conn.fetchval(
        "insert into conversations (channel, chat_address, patient_id) values ('telegram', $1, $2)"
        " on conflict (channel, chat_address) do update set patient_id = excluded.patient_id"
        " returning id",
        chat,
        patient_id,
    )
    organization = await conn.fetchval(
        "select organization_id from patients where id = $1", patient_id
    )
    values = {
        "status": "pending",
        "scheduled_time": datetime.now(UTC),
        "message_content": "Your history",
        "payload": {"files": 2},
        "expires_at": None,
    } | columns
    return await conn.fetchval(
        "insert into scheduled_messages (organization_id, patient_id, conversation_id,"
        " message_content, platform, kind, payload, urgent, allow_fallback, status,"
        " scheduled_time, expires_at)"
        " values ($1, $2, $3, $4, 'telegram', 'system', $5, true, false, $6, $7, $8) returning id",
        organization,
        patient_id,
        conversation,
        values["message_content"],
        values["payload"],
        values["status"],
        values["scheduled_time"],
        values["expires_at"],
    )


async def _files(conn: asyncpg.Connection, message_id: uuid.UUID) -> int:
    return await conn.fetchval("select count(*) from reply_files where message_id = $1", message_id)


async def test_only_the_service_reads_reply_files(db: Database, admin_conn: asyncpg.Connection):
    org = await create_organization(admin_conn)
    clinician = await create_clinician(admin_conn, org["id"])
    patient = await create_patient(admin_conn, org["id"], contacts={"telegram": "7000001"})
    message = await _reply(admin_conn, patient["id"], "7000001")
    assert db.pool is not None
    async with db.pool.acquire() as conn, conn.transaction():
        await store_files(conn, [(message, (PNG, CSV))])
    assert await load_files(db.pool, message) == (PNG, CSV)
    # The patient's own clinic: the reply's row yes, its files no.
    async with as_clinician(admin_conn, clinician["id"]) as conn:
        assert await conn.fetchval("select count(*) from scheduled_messages") == 1
    for role in ("authenticated", "anon"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with admin_conn.transaction():
                await admin_conn.execute(f"set local role {role}")
                await admin_conn.fetch("select * from reply_files")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with admin_conn.transaction():
                await admin_conn.execute(f"set local role {role}")
                await admin_conn.execute("delete from reply_files")
    assert await _files(admin_conn, message) == 2


async def test_a_file_is_bounded_by_one_limit(db: Database, admin_conn: asyncpg.Connection):
    patient = await create_patient(admin_conn, contacts={"telegram": "7000002"})
    message = await _reply(admin_conn, patient["id"], "7000002")
    largest = ("big.csv", "text/csv", b"x" * MAX_FILE_BYTES)
    too_large = ("big.csv", "text/csv", b"x" * (MAX_FILE_BYTES + 1))
    check_files([largest])
    with pytest.raises(ReplyFileTooLarge, match=f"at most {MAX_FILE_BYTES} bytes"):
        check_files([too_large])
    with pytest.raises(ReplyFileTooLarge, match="at most 10 files"):
        check_files([PNG] * 11)
    assert db.pool is not None
    # The table holds the same limit, whoever writes.
    async with db.pool.acquire() as conn:
        with pytest.raises(asyncpg.CheckViolationError):
            async with conn.transaction():
                await store_files(conn, [(message, (too_large,))])
        async with conn.transaction():
            await store_files(conn, [(message, (largest,))])
    assert await _files(admin_conn, message) == 1
    # A file names an existing message, or is not stored.
    async with db.pool.acquire() as conn, conn.transaction():
        await store_files(conn, [(uuid.uuid4(), (PNG,))])
    assert await admin_conn.fetchval("select count(*) from reply_files") == 1


@pytest.mark.parametrize("final", ["sent", "failed", "expired", "cancelled"])
async def test_files_go_once_the_reply_is_final(
    db: Database, admin_conn: asyncpg.Connection, final: str
):
    patient = await create_patient(admin_conn, contacts={"telegram": "7000003"})
    message = await _reply(admin_conn, patient["id"], "7000003")
    other = await _reply(admin_conn, patient["id"], "7000003")
    assert db.pool is not None
    async with db.pool.acquire() as conn, conn.transaction():
        await store_files(conn, [(message, (PNG, CSV)), (other, (CSV,))])
    # Claimed, then back to pending for a retry: kept.
    await admin_conn.execute(
        "update scheduled_messages set status = 'processing', locked_by = 'w',"
        " locked_until = now() + interval '1 minute', lease_token = gen_random_uuid()"
        " where id = $1",
        message,
    )
    await admin_conn.execute(
        "update scheduled_messages set status = 'pending', locked_by = null,"
        " locked_until = null, lease_token = null where id = $1",
        message,
    )
    assert await _files(admin_conn, message) == 2
    await admin_conn.execute(
        "update scheduled_messages set status = $2 where id = $1", message, final
    )
    assert await _files(admin_conn, message) == 0
    assert await _files(admin_conn, other) == 1


async def test_files_go_with_their_reply_row(db: Database, admin_conn: asyncpg.Connection):
    # Retention: an old reply left final; a clinic's patient erased with a pending reply; a
    # self-registered patient erased (the record is deleted); a stranger's chat's replies.
    clinic = await create_organization(admin_conn)
    erased = await create_patient(admin_conn, clinic["id"], contacts={"telegram": "7000004"})
    self_registered = await create_patient(admin_conn, contacts={"telegram": "7000005"})
    kept = await create_patient(admin_conn, clinic["id"], contacts={"telegram": "7000006"})
    long_ago = datetime.now(UTC) - timedelta(days=400)
    old = await _reply(admin_conn, kept["id"], "7000006", scheduled_time=long_ago)
    pending = await _reply(admin_conn, kept["id"], "7000006")
    of_erased = await _reply(admin_conn, erased["id"], "7000004")
    of_self = await _reply(admin_conn, self_registered["id"], "7000005")
    # A reply to the chat from before it was a patient's (mid-registration: no patient).
    stranger = await _reply(admin_conn, None, "7000004")
    await admin_conn.execute(
        "update conversations set patient_id = $1 where chat_address = '7000004'", erased["id"]
    )
    assert db.pool is not None
    async with db.pool.acquire() as conn, conn.transaction():
        await store_files(conn, [(m, (PNG,)) for m in (old, pending, of_erased, of_self, stranger)])
    # The old row ended without the trigger (e.g. before this migration): retention takes both.
    await admin_conn.execute(
        "alter table scheduled_messages disable trigger scheduled_messages_clear_reply_files"
    )
    await admin_conn.execute("update scheduled_messages set status = 'sent' where id = $1", old)
    await admin_conn.execute(
        "alter table scheduled_messages enable trigger scheduled_messages_clear_reply_files"
    )
    assert await _files(admin_conn, old) == 1
    assert await prune_finished(db.pool, datetime.now(UTC), 365) == 1
    assert await _files(admin_conn, old) == 0

    now = datetime.now(UTC)
    for patient in (erased, self_registered):
        await admin_conn.execute(
            "select public.erase_patient($1, 'patient asked', $2)", patient["id"], now
        )
    left = await admin_conn.fetch("select message_id from reply_files")
    assert [r["message_id"] for r in left] == [pending]
    gone = await admin_conn.fetchval(
        "select count(*) from scheduled_messages where id = any($1::uuid[])",
        [of_erased, of_self, stranger],
    )
    assert gone == 0


# A registering chat (a stranger: no patient, no clinic) keeps its replies' text only until they
# are final; then retention deletes the rows. The dispatcher's own paths, with its clock.
NOON = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
STRANGER_ROW = """
select status, message_content, payload, (select count(*) from reply_files f
                                           where f.message_id = m.id) as files
  from scheduled_messages m where id = $1
"""


def _dispatcher(db: Database, telegram: RecordingSender) -> Dispatcher:
    assert db.pool is not None
    config = DispatcherConfig(worker_id="test-worker", platform_rates={}, recipient_rates={})
    return Dispatcher(
        db.pool, {Channel.TELEGRAM: telegram}, TemplateRenderer(), lambda: NOON, config
    )


async def test_a_reply_the_worker_sends_takes_its_files_and_a_strangers_keeps_no_text(
    db: Database, admin_conn: asyncpg.Connection
):
    stranger = await _reply(
        admin_conn,
        None,
        "8000001",
        scheduled_time=NOON - timedelta(minutes=1),
        expires_at=NOON + timedelta(hours=1),
        message_content="Welcome! Do you agree?",
        payload={"files": 2, "options": [["I agree", "consent:yes"]], "columns": 1},
    )
    assert db.pool is not None
    async with db.pool.acquire() as conn, conn.transaction():
        await store_files(conn, [(stranger, (PNG, CSV))])
    telegram = RecordingSender(Channel.TELEGRAM)
    assert await _dispatcher(db, telegram).run_once() == 1
    [(address, message)] = telegram.sends
    assert address == "8000001" and message.text == "Welcome! Do you agree?"
    assert message.attachments == (PNG, CSV)
    assert [o.label for o in message.options] == ["I agree"]
    row = await admin_conn.fetchrow(STRANGER_ROW, stranger)
    assert (row["status"], row["message_content"], row["files"]) == ("sent", None, 0)
    assert "options" not in row["payload"]


async def test_a_strangers_reply_that_expired_unsent_leaves_nothing_after_retention(
    db: Database, admin_conn: asyncpg.Connection
):
    stranger = await _reply(
        admin_conn,
        None,
        "8000002",
        scheduled_time=NOON - timedelta(days=1),
        expires_at=NOON - timedelta(minutes=1),
        message_content="Welcome! Do you agree?",
    )
    assert db.pool is not None
    async with db.pool.acquire() as conn, conn.transaction():
        await store_files(conn, [(stranger, (PNG, CSV))])
    telegram = RecordingSender(Channel.TELEGRAM)
    assert await _dispatcher(db, telegram).run_once() == 1
    assert telegram.sends == []
    row = await admin_conn.fetchrow(STRANGER_ROW, stranger)
    assert (row["status"], row["message_content"], row["files"]) == ("expired", None, 0)
    assert await prune_finished(db.pool, NOON + timedelta(days=366), 365) == 1
    left = await admin_conn.fetchval(
        "select (select count(*) from scheduled_messages)"
        " + (select count(*) from message_delivery_attempts where message_id = $1)"
        " + (select count(*) from reply_files)",
        stranger,
    )
    assert left == 0
