"""What the stored reply files cost every other message: PostgreSQL CPU per row, triggers on/off.

Migration 20260101010300 adds two triggers to ``scheduled_messages``: a row trigger on status
updates whose ``WHEN`` (``payload ? 'files'`` and a final status) is false for every message but a
reply with files, and a statement trigger on deletes (``delete_message_files``). This runs the
dispatcher's kind of statements over ordinary messages (none with files), alternately with those
two triggers enabled and disabled, and reads the backend's CPU time from /proc: a status update of
500 rows at a time (as ``dispatch.sql: record`` finishes a batch) and retention's delete of 2,000
at a time (``dispatch.sql: prune_finished``).

    .venv/bin/python bench/reply_files.py --rows 20000     # about 30 s on two busy cores

Needs the server on this machine (BENCH_DATABASE_URL's, or an embedded one). One JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.webhook import _cpu_seconds, _Postgres  # noqa: E402
from core.migrate import migrate  # noqa: E402

TRIGGERS = ("scheduled_messages_clear_reply_files", "scheduled_messages_delete_files")
ROUNDS = 3  # per setting, alternating, so drift in the machine's load hits both alike


async def _fresh_rows(conn: asyncpg.Connection, patient: object, count: int) -> list[object]:
    rows = await conn.fetch(
        "insert into scheduled_messages (patient_id, message_content, platform, payload)"
        " select $1, 'Bench text ' || i, 'telegram', '{\"options\": [[\"OK\", \"ok\"]]}'"
        " from generate_series(1, $2) i returning id",
        patient,
        count,
    )
    return [r["id"] for r in rows]


async def _cpu_per_row(
    conn: asyncpg.Connection, pid: int, sql: str, ids: list, batch: int
) -> float:
    before = _cpu_seconds(pid)
    for start in range(0, len(ids), batch):
        await conn.execute(sql, ids[start : start + batch])
    return (_cpu_seconds(pid) - before) * 1e6 / len(ids)


async def _measure(url: str, rows: int) -> dict[str, float | int]:
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
        org = await conn.fetchval("insert into organizations (name) values ('Bench') returning id")
        patient = await conn.fetchval(
            "insert into patients (organization_id, display_name, consent_at)"
            " values ($1, 'Bench', now()) returning id",
            org,
        )
        pid = await conn.fetchval("select pg_backend_pid()")
        record = (
            "update scheduled_messages set status = 'sent', sent_at = now(), locked_by = null,"
            " updated_at = now() where id = any($1::uuid[])"
        )
        prune = "delete from scheduled_messages where id = any($1::uuid[])"
        samples: dict[str, list[float]] = {}
        await _cpu_per_row(conn, pid, record, await _fresh_rows(conn, patient, 1000), 500)
        for _ in range(ROUNDS):
            for enabled in (True, False):
                verb = "enable" if enabled else "disable"
                for trigger in TRIGGERS:
                    await conn.execute(f"alter table scheduled_messages {verb} trigger {trigger}")
                ids = await _fresh_rows(conn, patient, rows)
                await conn.execute("vacuum analyze scheduled_messages")
                key = "with" if enabled else "without"
                samples.setdefault(f"record_{key}", []).append(
                    await _cpu_per_row(conn, pid, record, ids, 500)
                )
                samples.setdefault(f"prune_{key}", []).append(
                    await _cpu_per_row(conn, pid, prune, ids, 2000)
                )
        for trigger in TRIGGERS:
            await conn.execute(f"alter table scheduled_messages enable trigger {trigger}")
        result: dict[str, float | int] = {"rows": rows, "rounds": ROUNDS}
        for name, values in sorted(samples.items()):
            result[f"{name}_server_us_per_row"] = round(statistics.median(values), 2)
        return result
    finally:
        await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000, help="messages per round and setting")
    args = parser.parse_args()
    started = time.perf_counter()
    async with _Postgres() as url:
        result = await _measure(url, args.rows)
    result["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps({"bench": "reply_files_triggers", **result}))


if __name__ == "__main__":
    asyncio.run(main())
