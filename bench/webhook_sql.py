"""PostgreSQL CPU per statement of a Telegram button answer, measured on the server's backend.

Runs the statements ``bench/webhook.py``'s web process sends per "Taken" press, each kind in its
own loop over fresh rows on one connection (as the app role, as the web pool does), and reads the
backend's CPU time from /proc before and after: server-side microseconds per statement, without
the web process, the network stack's other users or the load generator in the figure.

The web process stores the update (``insert_inbound``) and then runs the press in one round trip
(``answer_dose_button``); the general turn's statements (``whole_turn``: BEGIN, lock, record,
finish, COMMIT) are measured too, for comparison.

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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.webhook import _cpu_seconds, _Postgres, _seed  # noqa: E402
from bot.intake import event_to_payload  # noqa: E402
from core.db import Database  # noqa: E402
from core.settings import load_settings  # noqa: E402
from core.sql import query  # noqa: E402
from medremind.web.telegram_updates import parse_button_update  # noqa: E402
from tests.fakes.fake_telegram import callback_update  # noqa: E402


async def _measure(url: str, rows: int) -> dict[str, float]:
    pairs = await _seed(url, rows * 4)
    settings = load_settings({"DATABASE_URL": url})
    conn = await Database(settings).connect()
    try:
        pid = await conn.fetchval("select pg_backend_pid()")
        groups = [pairs[i * rows : (i + 1) * rows] for i in range(4)]
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
                )

        await timed("whole_turn", groups[2], whole_turn)

        async def one_round_trip(pair: tuple) -> None:
            chat, dose = pair
            row = await conn.fetchrow(
                query("dose_answers", "answer_dose_button"),
                stored[chat],
                dose,
                "taken",
                datetime.now(UTC),
                ["en", "es"],
            )
            assert row["outcome"] == "answered", row["outcome"]

        await timed("answer_dose_button", groups[3], one_round_trip)
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
