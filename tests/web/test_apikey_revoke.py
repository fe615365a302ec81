"""``medremind apikey list`` and ``medremind apikey revoke``: an operator can see a clinic's keys
and revoke a leaked one.

Before: ``medremind apikey`` had only ``create``; a key that leaked (a laptop lost, a log
shared) could be revoked only by an UPDATE in psql, and nothing listed which keys a clinic had or
when they were last used. Over the real CLI and a real ``medremind web`` process: the key works,
is listed (its prefix, never its secret), is revoked, and the next request with it is a 401
while the clinic's other key goes on working.
"""

from __future__ import annotations

import asyncio
import subprocess

import asyncpg
import httpx

from core.db import Database
from tests.cli_processes import run_cli
from tests.process_env import service_env
from tests.web.processes import StartWeb, clinic_key


def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess:
    return run_cli(["apikey", *args], env=service_env(DATABASE_URL=database_url), timeout=120)


async def test_a_leaked_key_is_listed_and_revoked(
    db: Database, admin_conn: asyncpg.Connection, web_process: StartWeb, database_url: str
) -> None:
    _, leaked = await clinic_key(db, admin_conn, "Harbour Clinic")
    _, kept = await clinic_key(db, admin_conn, "Valley Clinic")
    _, base = await web_process()
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        for key in (leaked, kept):
            works = await http.get("/api/v1/clinic", headers={"Authorization": f"Bearer {key}"})
            assert works.status_code == 200, works.text

        listed = await asyncio.to_thread(_cli, database_url, "list", "--org", "Harbour Clinic")
        assert listed.returncode == 0, listed.stderr
        prefix = leaked.split("_")[1]
        assert f"mr_{prefix}_... | Harbour Clinic | tests | admin |" in listed.stdout
        assert leaked.split("_", 2)[2] not in listed.stdout  # never the secret
        assert "Valley Clinic" not in listed.stdout

        revoked = await asyncio.to_thread(_cli, database_url, "revoke", f"mr_{prefix}_...")
        assert revoked.returncode == 0, revoked.stderr
        assert f"revoked mr_{prefix}_... (tests) of Harbour Clinic" in revoked.stdout
        refused = await http.get("/api/v1/clinic", headers={"Authorization": f"Bearer {leaked}"})
        assert refused.status_code == 401, refused.text
        other = await http.get("/api/v1/clinic", headers={"Authorization": f"Bearer {kept}"})
        assert other.status_code == 200, other.text

    again = await asyncio.to_thread(_cli, database_url, "revoke", leaked)  # the whole key
    assert again.returncode == 0, again.stderr
    assert "was revoked already, at" in again.stdout
    listed = await asyncio.to_thread(_cli, database_url, "list")
    rows = {line.split(" | ")[1]: line for line in listed.stdout.splitlines()[1:]}
    assert rows["Harbour Clinic"].split(" | ")[-1].endswith("UTC")  # revoked, with its time
    assert rows["Valley Clinic"].split(" | ")[-1] == "-"
    unknown = await asyncio.to_thread(_cli, database_url, "revoke", "0123456789ab")
    assert unknown.returncode == 1
    assert "no API key has the prefix '0123456789ab'" in unknown.stderr
