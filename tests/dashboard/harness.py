"""Run one browser script of ``dashboard/e2e`` against a real ``medremind web`` and ``next start``.

The shared part of the dashboard's browser tests: both servers on free loopback ports over the
test's database, the script in headless Chromium (the process's shared one,
tests.dashboard.browser_server) with ``BASE_URL``, ``SCREENSHOT_DIR`` and ``RESULT_FILE`` set,
and its JSON result returned. A failing script fails the test with its output and both servers'
logs.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from tests.dashboard.browser_server import browser_env
from tests.dashboard.test_dashboard_e2e import (
    CHROMIUM,
    DASHBOARD,
    ROOT,
    SCREENSHOTS,
    _create_clinician,
    _ensure_built,
    _process,
    _wait_http,
)
from tests.ports import free_port
from tests.process_env import service_env


def built_dashboard_env(database_url: str) -> dict[str, str]:
    """The services' environment (tests.process_env) over the test's database, once the
    dashboard is built."""
    base = service_env() | {"NEXT_TELEMETRY_DISABLED": "1"}
    _ensure_built(base)
    return base | {"DATABASE_URL": database_url}


async def admin_and_clinician(
    db_env: dict[str, str],
    conn: asyncpg.Connection,
    clinic: str,
    admin: tuple[str, str],
    clinician: tuple[str, str],
) -> tuple[dict[str, str], dict[str, str]]:
    """A new clinic's admin and a clinician of the same clinic who is not an admin, made with the
    dashboard's own script; each ``(e-mail, password)``. Returns both as the script prints them."""
    first = _create_clinician(db_env, *admin, clinic)
    second = _create_clinician(db_env, *clinician, f"{clinic} (other)", role="clinician")
    await conn.execute("update clinicians set role = 'admin' where id = $1", first["clinician_id"])
    await conn.execute(
        "update clinicians set organization_id = $2 where id = $1",
        second["clinician_id"],
        first["organization_id"],
    )
    return first, second


@dataclass(frozen=True)
class Clinic:
    """A clinic made for one browser test: the services' environment over the test's database,
    its id, and the sign-in of its admin and of a clinician of it who is not an admin."""

    db_env: dict[str, str]
    org_id: uuid.UUID
    admin: tuple[str, str]
    nurse: tuple[str, str]

    @property
    def nurse_env(self) -> dict[str, str]:
        """The script's ``CLINICIAN_EMAIL`` and ``CLINICIAN_PASSWORD``: the clinician's."""
        return {"CLINICIAN_EMAIL": self.nurse[0], "CLINICIAN_PASSWORD": self.nurse[1]}

    @property
    def admin_env(self) -> dict[str, str]:
        """The script's ``ADMIN_EMAIL`` and ``ADMIN_PASSWORD``."""
        return {"ADMIN_EMAIL": self.admin[0], "ADMIN_PASSWORD": self.admin[1]}


async def harbour_clinic(database_url: str, conn: asyncpg.Connection, word: str) -> Clinic:
    """ "Harbour <Word>", with admin@<word>.test and nurse@<word>.test, once the dashboard is
    built (:func:`built_dashboard_env`, :func:`admin_and_clinician`)."""
    db_env = built_dashboard_env(database_url)
    admin = (f"admin@{word}.test", "admin pass 1234")
    nurse = (f"nurse@{word}.test", "nurse pass 1234")
    first, _ = await admin_and_clinician(db_env, conn, f"Harbour {word.title()}", admin, nurse)
    return Clinic(db_env, uuid.UUID(first["organization_id"]), admin, nurse)


@dataclass(frozen=True)
class E2eRun:
    """What a script reported (its RESULT_FILE) and the servers' logs, for assertions."""

    result: dict[str, Any]
    web_log: str
    next_log: str


def run_dashboard_script(
    script: str,
    *,
    db_env: dict[str, str],
    tmp_path: Path,
    web_env: dict[str, str] | None = None,
    next_env: dict[str, str] | None = None,
    script_env: dict[str, str] | None = None,
) -> E2eRun:
    """Start the web process (``db_env`` plus ``web_env``) and the dashboard (``MEDREMIND_API_URL``
    pointing at it, plus ``next_env``), run ``node e2e/<script>`` with ``script_env``."""
    api_port, port = free_port(), free_port()
    api_url, base_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{port}"
    result_file = tmp_path / "result.json"
    web_log, next_log = tmp_path / "web.log", tmp_path / "next.log"
    web = db_env | {
        "PORT": str(api_port),
        "MEDREMIND_DATA_DIR": str(tmp_path / "web-data"),
        "MEDREMIND_DB_POOL_MAX": "2",
    }
    dashboard = db_env | {
        "MEDREMIND_API_URL": api_url,
        "DASHBOARD_SESSION_SECRET": secrets.token_urlsafe(48),
        "DASHBOARD_COOKIE_SECURE": "false",
        "NODE_ENV": "production",
    }
    next_cmd = ["node", "node_modules/next/dist/bin/next", "start", "-p", str(port)]
    with (
        _process(
            [sys.executable, "-m", "medremind.cli", "web"],
            cwd=ROOT,
            env=web | (web_env or {}),
            log=web_log,
        ) as web_server,
        _process(
            [*next_cmd, "-H", "127.0.0.1"],
            cwd=DASHBOARD,
            env=dashboard | (next_env or {}),
            log=next_log,
        ) as next_server,
    ):
        _wait_http(f"{api_url}/healthz", web_server, web_log)
        _wait_http(f"{base_url}/login", next_server, next_log)
        with browser_env(CHROMIUM) as browser:
            run = subprocess.run(
                ["node", f"e2e/{script}"],
                cwd=DASHBOARD,
                env={k: v for k, v in db_env.items() if k != "DATABASE_URL"}
                | {
                    "BASE_URL": base_url,
                    "SCREENSHOT_DIR": str(SCREENSHOTS),
                    "RESULT_FILE": str(result_file),
                }
                | browser
                | (script_env or {}),
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
        assert run.returncode == 0, (
            f"{run.stdout}\n{run.stderr}\n--- next ---\n{next_log.read_text()[-3000:]}"
            f"\n--- web ---\n{web_log.read_text()[-3000:]}"
        )
    return E2eRun(json.loads(result_file.read_text()), web_log.read_text(), next_log.read_text())
