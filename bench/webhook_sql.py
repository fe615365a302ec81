"""PostgreSQL CPU per statement of a Telegram button answer, measured on the server's backend.

Runs the statements ``bench/webhook.py``'s web process sends per "Taken" press, each kind in its
own loop over fresh rows on one connection (as the app role, as the web pool does), and reads the
backend's CPU time from /proc before and after: server-side microseconds per statement, without
the web process, the network stack's other users or the load generator in the figure.

The web process stores the update (``insert_inbound``), then runs the press and stores its reply
in one round trip (``answer_dose_button_reply``), sends the reply and records the send
(``record_reply``: the dispatcher's record statement, one per send here; the web process shares
one among the turns that finish together, ``record_5_replies``). For comparison: the general
turn's statements (``whole_turn``: BEGIN, lock, record, finish, COMMIT), the press before its reply
was stored (``answer_dose_button``) and with the reply stored by a second statement
(``durable_reply_turn``: BEGIN, answer_dose_button, store_replies, COMMIT); a dialog's turn that
answers nothing (BEGIN, lock, finish, COMMIT), whose step asks its question again
(``finish_turn_asking``) or not (``finish_turn_quiet``).

    BENCH_DATABASE_URL=postgresql://postgres@/postgres?host=/tmp/pg .venv/bin/python \\
        bench/webhook_sql.py --rows 2000

Needs the server on this machine (it reads /proc/<backend pid>). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.webhook import _cpu_seconds, _Postgres, _seed  # noqa: E402
from bot.button_turn import _reply_texts_json  # noqa: E402
from bot.intake import event_to_payload  # noqa: E402
from core.db import Database  # noqa: E402
from core.settings import load_settings  # noqa: E402
from core.sql import query  # noqa: E402
from medremind.web.telegram_updates import parse_button_update  # noqa: E402
from scheduler.claims import AttemptRow, Outcome, record  # noqa: E402
from tests.fakes.fake_telegram import callback_update  # noqa: E402

GROUPS = 6
# The press before its reply was stored (migration 20260101007000; kept for a deploy's old web).
ANSWER_DOSE_BUTTON = """
select outcome, channel, chat_address, locale, timezone, dose_found, dose_status,
       medication_name, changed
  from answer_dose_button($1, $2, $3, $4, $5)
"""


async def _measure(url: str, rows: int) -> dict[str, float]:
    pairs = await _seed(url, rows * GROUPS)
    settings = load_settings({"DATABASE_URL": url})
    conn = await Database(settings).connect()
    try:
        pid = await conn.fetchval("select pg_backend_pid()")
        groups = [pairs[i * rows : (i + 1) * rows] for i in range(GROUPS)]
        results: dict[str, float] = {}

        async def timed(name: str, items: list, body) -> None:
            # A few rounds first: statements get prepared and cached as in the web process.
            for item in items[:20]:
                await body(item)
            before, started = _cpu_seconds(pid), time.perf_counter()
            for item in items[20:]:
                await body(item)
            count = len(items) - 20
            results[f"{name}_server_us"] = round((_cpu_seconds(pid) - before) * 1e6 / count, 1)
            results[f"{name}_wall_us"] = round((time.perf_counter() - started) * 1e6 / count, 1)

        stored: dict[int, object] = {}

        async def store(pair: tuple) -> None:
            chat, dose = pair
            update = callback_update(chat, f"d:{dose.hex}:t")
            event = parse_button_update(update)
            assert event is not None
            payload = {"event": event_to_payload(event), "raw": update}
            stored[chat] = await conn.fetchval(
                query("bot", "insert_inbound"),
                "telegram",
                str(update["update_id"]),
                str(chat),
                payload,
            )

        for group in groups:
            for pair in group:
                await store(pair)
        await timed("insert_inbound_autocommit", groups[0], store)

        async def empty_transaction(pair: tuple) -> None:
            async with conn.transaction():
                pass

        await timed("begin_commit", groups[0], empty_transaction)

        async def lock_only(pair: tuple) -> None:
            async with conn.transaction():
                await conn.fetchrow(query("bot", "lock_turn"), stored[pair[0]])

        await timed("begin_lock_turn_commit", groups[0], lock_only)

        def saved(asking: bool) -> Any:
            """BEGIN, lock, finish, COMMIT: a turn that answers nothing, whose step asks its
            question again (``asking``: its save draws the question's place in the chat's order,
            migration 20260101014900) or asks nothing."""
            state: dict[str, Any] = {"tokens": {"0a1b2c3d": "tz:home"}, "options": [["Home", "x"]]}
            if asking:
                state |= {"asked_at": datetime.now(UTC).isoformat(), "asked_seq": None}

            async def turn(pair: tuple) -> None:
                async with conn.transaction():
                    row = await conn.fetchrow(query("bot", "lock_turn"), stored[pair[0]])
                    await conn.fetchval(
                        query("bot", "finish_turn"),
                        row["id"],
                        row["patient_id"],
                        "set_tz_mode",
                        state,
                        "en",
                        stored[pair[0]],
                        False,
                        True,
                        "telegram",
                        str(pair[0]),
                        None,  # the default bot
                    )

            return turn

        # Alternated, twice each: the two differ by a jsonb lookup and a nextval.
        for _ in range(2):
            for asking in (False, True):
                await timed(
                    f"finish_turn_{'asking' if asking else 'quiet'}", groups[0], saved(asking)
                )

        async def lock_and_answer(pair: tuple) -> Any:
            """The turn's locking read and the dose answer (inside the caller's transaction)."""
            chat, dose = pair
            row = await conn.fetchrow(query("bot", "lock_turn"), stored[chat])
            await conn.fetchrow(
                query("dose_answers", "record_final_answer"),
                dose,
                "taken",
                datetime.now(UTC),
                "telegram",
                "dose taken",
                row["patient_id"],
            )
            return row

        async def lock_answer(pair: tuple) -> None:
            async with conn.transaction():
                await lock_and_answer(pair)

        await timed("begin_lock_answer_commit", groups[1], lock_answer)

        async def whole_turn(pair: tuple) -> None:
            chat = pair[0]
            async with conn.transaction():
                row = await lock_and_answer(pair)
                await conn.fetchval(
                    query("bot", "finish_turn"),
                    row["id"],
                    row["patient_id"],
                    "idle",
                    {"tokens": {}},
                    "en",
                    stored[chat],
                    False,
                    True,
                    "telegram",
                    str(chat),
                    None,  # the default bot
                )

        await timed("whole_turn", groups[2], whole_turn)

        async def one_round_trip(pair: tuple) -> None:
            chat, dose = pair
            row = await conn.fetchrow(
                ANSWER_DOSE_BUTTON, stored[chat], dose, "taken", datetime.now(UTC), ["en", "es"]
            )
            assert row["outcome"] == "answered", row["outcome"]

        await timed("answer_dose_button", groups[3], one_round_trip)

        async def durable_reply_turn(pair: tuple) -> None:
            chat, dose = pair
            async with conn.transaction():
                row = await conn.fetchrow(
                    ANSWER_DOSE_BUTTON, stored[chat], dose, "taken", datetime.now(UTC), ["en", "es"]
                )
                assert row["outcome"] == "answered", row["outcome"]
                await conn.fetch(
                    query("bot", "store_replies"),
                    "telegram",
                    str(chat),
                    86400,
                    "reply:bench",
                    300,
                    [uuid.uuid4()],
                    ["Taken at 8:00 AM. Well done!"],
                    [{}],
                    [f"reply:{stored[chat]}:0"],
                    [uuid.uuid4()],
                )

        await timed("durable_reply_turn", groups[4], durable_reply_turn)

        leased: list[tuple[uuid.UUID, uuid.UUID]] = []

        async def reply_in_one_statement(pair: tuple) -> None:
            chat, dose = pair
            row = await conn.fetchrow(
                query("dose_answers", "answer_dose_button_reply"),
                stored[chat],
                dose,
                "taken",
                datetime.now(UTC),
                ["en", "es"],
                _reply_texts_json(),
                "reply:bench",
                300,
                86400,
                {},
            )
            assert row["outcome"] == "answered", row["outcome"]
            leased.append((row["reply_id"], row["lease_token"]))

        await timed("answer_dose_button_reply", groups[5], reply_in_one_statement)

        def outcome(reply: tuple[uuid.UUID, uuid.UUID]) -> tuple[Outcome, AttemptRow]:
            at = datetime.now(UTC)
            sent = Outcome(
                reply[0],
                reply[1],
                "sent",
                sent_at=at,
                provider_message_id="1",
                channel_used="telegram",
                channels_tried=("telegram",),
            )
            return sent, AttemptRow(reply[0], at, "sent", "telegram", provider_message_id="1")

        async def record_one(reply: tuple[uuid.UUID, uuid.UUID]) -> None:
            sent, attempt = outcome(reply)
            assert len(await record(conn, [sent], [attempt])) == 1

        half = len(leased) // 2
        await timed("record_reply", leased[:half], record_one)

        async def record_five(replies: list[tuple[uuid.UUID, uuid.UUID]]) -> None:
            both = [outcome(reply) for reply in replies]
            assert len(await record(conn, [b[0] for b in both], [b[1] for b in both])) == 5

        fives = [leased[i : i + 5] for i in range(half, len(leased) - 4, 5)]
        await timed("record_5_replies", fives, record_five)
        return results
    finally:
        await conn.close()


async def main(rows: int) -> None:
    async with _Postgres() as url:
        figures = await _measure(url, rows)
    figures["lock_turn_server_us"] = round(
        figures["begin_lock_turn_commit_server_us"] - figures["begin_commit_server_us"], 1
    )
    figures["record_final_answer_server_us"] = round(
        figures["begin_lock_answer_commit_server_us"] - figures["begin_lock_turn_commit_server_us"],
        1,
    )
    print(json.dumps({"bench": "telegram_button_sql", "rows": rows, **figures}), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=2000)
    asyncio.run(main(parser.parse_args().rows))
