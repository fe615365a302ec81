"""A revoked Telegram bot token (BotFather's /revoke: the Bot API answers 401 to every call) loses
no reminder: a real ``medremind worker`` holds the bot's messages (pending, attempts unspent, the
reason on the row and in its heartbeat), probes slowly, and sends each once when the token works
again (a patient with another channel is reached by it at once); the breaker's opening and
closing are one log line each, naming no token, chat or number."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import asyncpg

from tests.acceptance.test_cli import _clean_env, _run
from tests.factories import create_message, create_patient
from tests.fakes.fake_telegram import DEFAULT_TOKEN, FakeTelegram
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.processes import kill, start_telegram_worker, twilio_env, until


def _breaker_lines(log: Path) -> list[dict[str, object]]:
    """The worker's log lines about its circuit breakers."""
    lines = [json.loads(x) for x in log.read_text().splitlines() if x.startswith("{")]
    return [x for x in lines if x.get("logger") == "scheduler.breaker"]


async def test_a_revoked_token_holds_the_reminders_until_the_token_works_again(
    database_url: str,
    admin_conn: asyncpg.Connection,
    tmp_path: Path,
    fake_telegram: FakeTelegram,
    fake_twilio: FakeTwilio,
) -> None:
    chat = "731500401"
    # BotFather's /revoke: every send answers 401 until the service has the new token.
    fake_telegram.fail_next(401, "Unauthorized", method="sendMessage", times=10_000)
    worker = start_telegram_worker(
        database_url,
        tmp_path,
        fake_telegram,
        **twilio_env(fake_twilio),
        MEDREMIND_BREAKER_COOLDOWN_SECONDS="1",
        MEDREMIND_WORKER_HEARTBEAT_SECONDS="0.5",
    )
    log = tmp_path / "worker.log"
    try:
        patient = await create_patient(admin_conn, contacts={"telegram": chat})
        # Urgent: quiet hours do not apply, whatever the time of day the test runs at.
        messages = [await create_message(admin_conn, patient["id"], urgent=True) for _ in range(3)]
        ids = [m["id"] for m in messages]
        # A patient who also has SMS: the reminder goes by it at once, not held.
        both = await create_patient(
            admin_conn, contacts={"telegram": "731500402", "sms": "+14155550142"}
        )
        by_sms = await create_message(admin_conn, both["id"], urgent=True)

        async def held() -> bool:
            rows = await admin_conn.fetch(
                "select status, attempts, last_error from scheduled_messages where id = any($1)",
                ids,
            )
            return all(
                r["status"] == "pending"
                and r["last_error"] is not None
                and "refused the account's credentials" in r["last_error"]
                for r in rows
            )

        await until("the messages held, not failed", held, log)

        async def sent_by_sms() -> bool:
            row = await admin_conn.fetchrow(
                "select status, channel_used from scheduled_messages where id = $1", by_sms["id"]
            )
            return (row["status"], row["channel_used"]) == ("sent", "sms")

        await until("the patient with SMS reached by it", sent_by_sms, log)
        refused = await until(
            "the heartbeat naming the refused credentials",
            lambda: admin_conn.fetchval(
                "select breakers::text from worker_heartbeats where breakers::text like '%refused%'"
            ),
            log,
        )
        assert "Telegram rejected the bot token" in refused and DEFAULT_TOKEN not in refused
        check_env = _clean_env(DATABASE_URL=database_url, MEDREMIND_DATA_DIR=str(tmp_path))
        checked = await asyncio.to_thread(_run, ["check"], check_env)
        line = next(x for x in checked.stdout.splitlines() if x.startswith("Breakers:"))
        # OPEN, or HALF-OPEN while a probe is out (a probe every second or two here).
        assert "OPEN - telegram account telegram:…3456 since " in line, line
        assert "the provider refused its credentials (Telegram rejected the bot token)" in line
        # The sends already under way when it opened (3), then one probe per cooldown (1 s,
        # doubling: 2 s, 4 s...): no hot loop, no spam at the provider.
        before = len(fake_telegram.calls_to("sendMessage", ok_only=False))
        await asyncio.sleep(3)
        statuses = [
            r["status"]
            for r in await admin_conn.fetch(
                "select status from scheduled_messages where id = any($1)", ids
            )
        ]
        # Neither failed nor sent: pending, or claimed for a moment by a probe.
        assert set(statuses) <= {"pending", "processing"}, log.read_text()[-3000:]
        probes = len(fake_telegram.calls_to("sendMessage", ok_only=False)) - before
        assert probes <= 2, probes

        # The operator put the new token in: the next probe succeeds and every message goes once.
        fake_telegram.reset()

        async def all_sent() -> bool:
            return (
                await admin_conn.fetchval(
                    "select count(*) from scheduled_messages where id = any($1)"
                    " and status = 'sent'",
                    ids,
                )
                == 3
            )

        await until("the held messages sent once the token works", all_sent, log)
        attempts = await admin_conn.fetch(
            "select attempts from scheduled_messages where id = any($1)", ids
        )
        assert [r["attempts"] for r in attempts] == [1, 1, 1]  # the refusals spent none

        async def closed() -> bool:
            return any(x["level"] == "INFO" for x in _breaker_lines(log))

        await until("the breaker's closing logged", closed, log)
        await asyncio.sleep(1)  # a duplicate would show by now
        assert len([c for c in fake_telegram.sent_messages if str(c.chat_id) == chat]) == 3
        assert fake_telegram.sent_messages == [  # none to the patient reached by SMS
            c for c in fake_telegram.sent_messages if str(c.chat_id) == chat
        ]
        assert len(fake_twilio.messages) == 1
    finally:
        worker.terminate()
        await asyncio.to_thread(worker.wait, 30)
        kill(worker)

    lines = _breaker_lines(log)
    assert [(x["level"], x["channel"], x["account"]) for x in lines] == [
        ("WARNING", "telegram", "telegram:…" + DEFAULT_TOKEN.split(":")[0][-4:]),
        ("INFO", "telegram", "telegram:…" + DEFAULT_TOKEN.split(":")[0][-4:]),
    ], lines
    assert "refused the account's credentials" in str(lines[0]["message"])
    text = log.read_text()
    assert DEFAULT_TOKEN not in text and chat not in text and "+14155550142" not in text
