"""docs/operations.md, "Rotating the Telegram bot token", as an operator follows it: BotFather
revokes the token (the loopback Bot API refuses it from then on), a clinic's message sent meanwhile
by ``medremind worker`` on the old token fails, the worker comes back with the new token, and the
guide's SQL re-sends what failed: the copy reaches the same chat through the new token.
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Any

import httpx

from tests.factories import create_patient
from tests.fakes.fake_telegram import DEFAULT_TOKEN
from tests.web.processes import clinic_key, kill, start_telegram_worker

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
NEW_TOKEN = DEFAULT_TOKEN.split(":")[0] + ":NEW-token-after-revoke"  # the same bot


def _resend_sql() -> str:
    section = GUIDE.read_text("utf-8").split("## Rotating the Telegram bot token", 1)[1]
    found = re.search(r"^```sql\n(.*?)^```$", section, re.DOTALL | re.MULTILINE)
    assert found is not None, "docs/operations.md lost its re-send statement"
    return found.group(1)


async def _until(what: str, check: Any, log: Path) -> Any:
    deadline = time.monotonic() + 90
    while not (found := await check()):
        assert time.monotonic() < deadline, f"{what}\n{log.read_text()[-3000:]}"
        await asyncio.sleep(0.1)
    return found


async def test_messages_failed_while_the_token_was_revoked_are_sent_again(
    db, admin_conn, web_process, fake_telegram, database_url, tmp_path
):
    org, key = await clinic_key(db, admin_conn, "Token Clinic")
    patient = await create_patient(admin_conn, org["id"], contacts={"telegram": "5550301"})
    _, base = await web_process()
    fake_telegram.token = NEW_TOKEN  # /revoke in BotFather: the old token is refused from now
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        created = await http.post(
            "/api/v1/messages",
            headers={"Authorization": f"Bearer {key}"},
            json={"patient_id": str(patient["id"]), "text": "Lab results ready", "urgent": True},
        )
    assert created.status_code == 201, created.text
    message_id = created.json()["id"]
    log = tmp_path / "worker.log"

    async def failed() -> Any:
        return await admin_conn.fetchrow(
            "select last_error from scheduled_messages where id = $1 and status = 'failed'",
            message_id,
        )

    worker = start_telegram_worker(database_url, tmp_path, fake_telegram)
    try:
        row = await _until("the message did not fail on the old token", failed, log)
    finally:
        worker.terminate()
        await asyncio.to_thread(worker.wait, 30)
        kill(worker)
    assert "Telegram rejected the bot token" in row["last_error"]

    worker = start_telegram_worker(
        database_url, tmp_path, fake_telegram, TELEGRAM_BOT_TOKEN=NEW_TOKEN
    )
    try:
        outcomes = await admin_conn.fetch(_resend_sql())
        assert [(r["outcome"], r["count"]) for r in outcomes] == [("resent", 1)]

        async def sent_again() -> bool:
            return any(
                c.method == "sendMessage"
                and c.token == NEW_TOKEN
                and str(c.params.get("chat_id")) == "5550301"
                and c.status == 200
                for c in fake_telegram.calls
            )

        await _until("the copy did not go out on the new token", sent_again, log)
        copy = await _until(
            "the copy was not recorded as sent",
            lambda: admin_conn.fetchrow(
                "select status from scheduled_messages where resent_from = $1 and status = 'sent'",
                message_id,
            ),
            log,
        )
        assert copy["status"] == "sent"
    finally:
        worker.terminate()
        await asyncio.to_thread(worker.wait, 30)
        kill(worker)
