"""A bot reply's files go out on the worker's retry too (issue 15, item 9).

Over real ``medremind web`` and ``medremind worker`` processes with the loopback Bot API: the
/stats chart and the /export CSV are stored beside their reply row in the turn's transaction
(``reply_files``, migration 20260101010300); when the web process's send fails with a 5xx, the
worker's retry uploads the same bytes (sendPhoto, sendDocument), and the stored file is deleted
once the row is sent. Before, the retry went out as text only.
"""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from tests.factories import create_dose_event, create_medication, create_patient
from tests.fakes.fake_telegram import FakeTelegram
from tests.web.processes import FAST_RETRY, StartWeb, kill, start_telegram_worker, stop
from tests.web.reply_chat import all_status, eventually, post_text

CHAT = 555000961
REPLIES = """
select m.id, m.status, m.attempts, m.payload, m.last_error, m.message_content,
       (select count(*) from reply_files f where f.message_id = m.id) as files
  from scheduled_messages m join conversations c on c.id = m.conversation_id
 where c.channel = 'telegram' and c.chat_address = $1
 order by m.idempotency_key
"""


async def _reply(conn: asyncpg.Connection, chat: int, status: str) -> asyncpg.Record:
    """The chat's one reply row, once it has ``status`` (within a minute)."""
    [row] = await eventually(conn, REPLIES, str(chat), until=all_status(status))
    return row


def _uploads(tg: FakeTelegram, method: str, field: str, chat: int, *, ok_only: bool) -> list[Any]:
    return [
        c.files[field]
        for c in tg.calls_to(method, ok_only=ok_only)
        if str(c.chat_id) == str(chat) and field in c.files
    ]


async def _worker_sends(
    database_url: str, tmp_path: Path, tg: FakeTelegram, conn: asyncpg.Connection, chat: int
) -> asyncpg.Record:
    worker = start_telegram_worker(database_url, tmp_path, tg)
    try:
        row = await _reply(conn, chat, "sent")
        worker.terminate()
        assert await asyncio.to_thread(worker.wait, 30) == 0
    finally:
        kill(worker)
    return row


async def test_a_chart_whose_reply_failed_is_sent_by_the_worker_with_the_same_png(
    web_process: StartWeb,
    fake_telegram: FakeTelegram,
    database_url: str,
    tmp_path: Path,
    admin_conn: asyncpg.Connection,
):
    await create_patient(admin_conn, contacts={"telegram": str(CHAT)})
    web, base = await web_process(**FAST_RETRY)
    # The web process's upload of the chart (its text the caption) and its one quick retry.
    fake_telegram.fail_next(500, "Internal Server Error", method="sendPhoto", times=2)
    await post_text(base, CHAT, "/stats")
    queued = await _reply(admin_conn, CHAT, "pending")
    assert queued["payload"]["files"] == 1 and queued["files"] == 1
    [stored] = await admin_conn.fetch(
        "select filename, content_type, data from reply_files where message_id = $1", queued["id"]
    )
    assert (stored["filename"], stored["content_type"]) == ("adherence.png", "image/png")
    assert stored["data"].startswith(b"\x89PNG\r\n\x1a\n")
    refused = _uploads(fake_telegram, "sendPhoto", "photo", CHAT, ok_only=False)
    assert [r["data"] for r in refused] == [bytes(stored["data"])] * 2
    await stop(web, timeout=30)

    row = await _worker_sends(database_url, tmp_path, fake_telegram, admin_conn, CHAT)
    assert row["attempts"] == 2 and row["last_error"] is None
    [photo] = _uploads(fake_telegram, "sendPhoto", "photo", CHAT, ok_only=True)
    assert photo["data"] == bytes(stored["data"])
    assert photo["filename"] == "adherence.png"
    # The text came once, as the chart's caption: never without it, never twice.
    [sent] = [c for c in fake_telegram.calls_to("sendPhoto") if str(c.chat_id) == str(CHAT)]
    assert sent.params["caption"].strip() == queued["message_content"].strip()
    assert [c for c in fake_telegram.sent_messages if str(c.chat_id) == str(CHAT)] == []
    # Sent: the file is not kept.
    assert row["files"] == 0
    assert await admin_conn.fetchval("select count(*) from reply_files") == 0


async def test_an_export_whose_upload_failed_is_sent_by_the_worker_with_the_same_csv(
    web_process: StartWeb,
    fake_telegram: FakeTelegram,
    database_url: str,
    tmp_path: Path,
    admin_conn: asyncpg.Connection,
):
    patient = await create_patient(admin_conn, contacts={"telegram": str(CHAT + 1)})
    _, schedule = await create_medication(admin_conn, patient["id"])
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    for day in range(3):
        await create_dose_event(admin_conn, schedule, start + timedelta(days=day), status="taken")
    web, base = await web_process(**FAST_RETRY)
    # The document's upload (its text the caption) and its quick retry fail with a 502.
    fake_telegram.fail_next(502, "Bad Gateway", method="sendDocument", times=2)
    await post_text(base, CHAT + 1, "/export")
    queued = await _reply(admin_conn, CHAT + 1, "pending")
    assert queued["files"] == 1 and "telegram" in queued["last_error"]
    refused = _uploads(fake_telegram, "sendDocument", "document", CHAT + 1, ok_only=False)
    assert len(refused) == 2 and refused[0]["data"] == refused[1]["data"]
    await stop(web, timeout=30)

    row = await _worker_sends(database_url, tmp_path, fake_telegram, admin_conn, CHAT + 1)
    [document] = _uploads(fake_telegram, "sendDocument", "document", CHAT + 1, ok_only=True)
    # The very bytes the web process tried to upload.
    assert document["data"] == refused[0]["data"]
    assert document["filename"] == "medremind-doses.csv"
    lines = list(csv.reader(io.StringIO(document["data"].decode("utf-8-sig"))))
    assert lines[0][0] == "dose_event_id" and len(lines) == 1 + 3
    assert {line[6] for line in lines[1:]} == {"taken"}
    assert row["files"] == 0
    assert await admin_conn.fetchval("select count(*) from reply_files") == 0
