"""tests.server_cpu reads the embedded PostgreSQL's CPU, which no other figure of a run holds
(tests.timeline's ``postgres_cpu``): a query's work on a backend shows in it."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import asyncpg
import pytest

from tests import server_cpu


async def test_a_backends_work_is_the_servers_cpu(pg_admin_url: str, tmp_path: Path) -> None:
    if os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("the server is not an embedded one of this process")
    pgdata = Path(parse_qs(urlsplit(pg_admin_url).query)["host"][0])
    # The total is read before the server's figure at the start and after it at the end: the server
    # works between two reads (its other backends, autovacuum), and read the other way round the
    # total missed what the server's own figure caught (CI: 0.62 s against 0.69).
    total_before = server_cpu.total_seconds()
    before = server_cpu.server_seconds(pgdata)
    assert before is not None, f"no server found on {pgdata}"
    conn = await asyncpg.connect(pg_admin_url)
    try:
        # A few tenths of a second of the backend's CPU, read while it still runs.
        await conn.fetchval("select count(*) from generate_series(1, 4000000)")
        after = server_cpu.server_seconds(pgdata)
        total_after = server_cpu.total_seconds()
    finally:
        await conn.close()
    assert after is not None
    assert after - before >= 0.1, (before, after)
    assert total_after - total_before >= after - before - 0.05  # this process's servers: it too
    assert server_cpu.server_seconds(tmp_path) is None  # no server runs there
