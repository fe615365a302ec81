"""Start an embedded PostgreSQL, lock two rows in opposite order from two sessions, print JSON.

    .venv/bin/python tests/clock/run_at.py 2027-12-01T00:00:00Z -- \
        .venv/bin/python -m tests.clock.deadlock_probe

Run by tests/clock/test_run_at.py under run_at.py: it prints which error each session got and how
long the wait lasted, the same for a lock wait ended by a 3 s ``statement_timeout``, and the
server's ``now()`` beside this process's clock, so the test can check that the server detects the
deadlock (after its 1 s ``deadlock_timeout``), ends the statement at its timeout, not before, and
sees the same moved wall clock as the processes around it.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime

import asyncpg

from tests.embedded_server import embedded_server

# Longer than any deadlock_timeout should take; the caller judges the time it took.
GIVE_UP_AFTER = 20.0
# Once one session is answered, the other's answer (the lock freed, or the error) follows at once.
SURVIVOR_WITHIN = 10.0
STATEMENT_TIMEOUT = 3


async def _update(conn: asyncpg.Connection, row: int) -> str:
    try:
        await conn.execute("update probe set id = id where id = $1", row)
    except asyncpg.PostgresError as error:
        return type(error).__name__
    return "updated"


async def _deadlock(url: str) -> dict[str, object]:
    """Two sessions update rows 1 and 2 in opposite order: the errors they got, and when."""
    first = await asyncpg.connect(url)
    second = await asyncpg.connect(url)
    try:
        for conn, row in ((first, 1), (second, 2)):
            await conn.execute("begin")
            await _update(conn, row)
        started = time.monotonic()
        waits = [asyncio.create_task(_update(first, 2))]
        await asyncio.sleep(
            0.1
        )  # the first session waits for row 2 before the second closes the loop
        waits.append(asyncio.create_task(_update(second, 1)))
        done, pending = await asyncio.wait(
            waits, timeout=GIVE_UP_AFTER, return_when=asyncio.FIRST_COMPLETED
        )
        seconds = time.monotonic() - started
        if done and pending:
            # The victim's error and the survivor's update come back together, in either order
            # (on a loaded box the update was read first, alone): collect both.
            more, pending = await asyncio.wait(pending, timeout=SURVIVOR_WITHIN)
            done |= more
        for task in pending:
            task.cancel()
        return {"results": sorted(task.result() for task in done), "seconds": round(seconds, 2)}
    finally:
        for conn in (first, second):
            conn.terminate()  # a session still waiting for its lock would block a clean close


async def _statement_timeout(url: str) -> dict[str, object]:
    """A session waits for a row lock another holds, with a 3 s statement_timeout: its error, and
    when (deadlock_timeout's alarm comes first, at 1 s, and must not end it)."""
    holder = await asyncpg.connect(url)
    waiter = await asyncpg.connect(url)
    try:
        await holder.execute("begin")
        await _update(holder, 1)
        await waiter.execute(f"set statement_timeout = '{STATEMENT_TIMEOUT}s'")
        started = time.monotonic()
        try:
            result = await asyncio.wait_for(_update(waiter, 1), GIVE_UP_AFTER)
        except TimeoutError:
            result = "still waiting"
        return {"result": result, "seconds": round(time.monotonic() - started, 2)}
    finally:
        for conn in (holder, waiter):
            conn.terminate()


async def _probe(url: str) -> dict[str, object]:
    conn = await asyncpg.connect(url)
    try:
        server_now = await conn.fetchval("select now()")
        client_now = datetime.now(UTC)
        await conn.execute(
            "create table probe (id int primary key); insert into probe values (1), (2)"
        )
    finally:
        await conn.close()
    return {
        "deadlock": await _deadlock(url),
        "statement_timeout": await _statement_timeout(url),
        "server_now": server_now.isoformat(),
        "client_now": client_now.isoformat(),
    }


def main() -> None:
    with embedded_server("medremind-deadlock-probe-") as url:
        print(json.dumps(asyncio.run(_probe(url))))


if __name__ == "__main__":
    main()
