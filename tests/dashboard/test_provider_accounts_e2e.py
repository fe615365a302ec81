"""A clinic's own provider account set on the dashboard's settings page, end to end.

Headless Chromium against ``next start`` and a real ``medremind web`` (which holds
``MEDREMIND_CREDENTIALS_KEY`` and checks the account at the loopback Twilio): the admin's wrong
auth token is refused naming the field, the right one is saved encrypted and only its hint is
shown; a clinician who is not an admin sees the account and no form. The browser script is
``dashboard/e2e/accounts.e2e.mjs``; it saves ``settings-provider-accounts.png``. Skipped without
node and chromium, like the dashboard e2e.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from pathlib import Path

import asyncpg

from core.credentials import new_key
from tests.dashboard.test_dashboard_e2e import (
    CHROMIUM,
    DASHBOARD,
    ROOT,
    SCREENSHOTS,
    _create_clinician,
    _ensure_built,
    _free_port,
    _process,
    _wait_http,
    pytestmark,  # noqa: F401 (the same skip)
)
from tests.fakes.fake_twilio import FakeTwilio
from tests.process_env import service_env

SID = "AC" + "d1" * 16
TOKEN = "dashboard-saved-token-77e1"
NUMBER = "+14155550166"


async def test_an_admin_saves_the_clinics_twilio_account(
    database_url: str, admin_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    base_env = service_env()
    base_env["NEXT_TELEMETRY_DISABLED"] = "1"
    _ensure_built(base_env)
    db_env = base_env | {"DATABASE_URL": database_url}
    admin = _create_clinician(db_env, "admin@harbour.test", "admin pass 1234", "Harbour")
    plain = _create_clinician(
        db_env, "nurse@harbour.test", "nurse pass 1234", "Harbour B", role="clinician"
    )
    await admin_conn.execute("update clinicians set role = 'admin' where id = $1", admin["clinician_id"])
    await admin_conn.execute(
        "update clinicians set organization_id = $2 where id = $1",
        plain["clinician_id"],
        admin["organization_id"],
    )

    api_port, port = _free_port(), _free_port()
    api_url, base_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{port}"
    result_file = tmp_path / "result.json"
    web_log, next_log = tmp_path / "web.log", tmp_path / "next.log"
    with FakeTwilio() as twilio:
        twilio.add_account(SID, TOKEN)
        web_env = db_env | {
            "PORT": str(api_port),
            "MEDREMIND_DATA_DIR": str(tmp_path / "web-data"),
            "MEDREMIND_DB_POOL_MAX": "2",
            "MEDREMIND_CREDENTIALS_KEY": new_key(),
            "TWILIO_API_BASE_URL": twilio.base_url,
        }
        next_env = db_env | {
            "MEDREMIND_API_URL": api_url,
            "DASHBOARD_SESSION_SECRET": secrets.token_urlsafe(48),
            "DASHBOARD_COOKIE_SECURE": "false",
            "NODE_ENV": "production",
        }
        with (
            _process(
                [sys.executable, "-m", "medremind.cli", "web"], cwd=ROOT, env=web_env, log=web_log
            ) as web_server,
            _process(
                ["node", "node_modules/next/dist/bin/next", "start", "-p", str(port)]
                + ["-H", "127.0.0.1"],
                cwd=DASHBOARD,
                env=next_env,
                log=next_log,
            ) as next_server,
        ):
            _wait_http(f"{api_url}/healthz", web_server, web_log)
            _wait_http(f"{base_url}/login", next_server, next_log)
            e2e = subprocess.run(
                ["node", "e2e/accounts.e2e.mjs"],
                cwd=DASHBOARD,
                env=base_env
                | {
                    "BASE_URL": base_url,
                    "CHROMIUM_PATH": CHROMIUM,
                    "ADMIN_EMAIL": "admin@harbour.test",
                    "ADMIN_PASSWORD": "admin pass 1234",
                    "CLINICIAN_EMAIL": "nurse@harbour.test",
                    "CLINICIAN_PASSWORD": "nurse pass 1234",
                    "ACCOUNT_SID": SID,
                    "AUTH_TOKEN": TOKEN,
                    "FROM_NUMBER": NUMBER,
                    "SCREENSHOT_DIR": str(SCREENSHOTS),
                    "RESULT_FILE": str(result_file),
                },
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            assert e2e.returncode == 0, (
                f"{e2e.stdout}\n{e2e.stderr}\n--- next ---\n{next_log.read_text()[-3000:]}"
                f"\n--- web ---\n{web_log.read_text()[-3000:]}"
            )

    result = json.loads(result_file.read_text())
    assert result["refused"].startswith("Auth token: Twilio refused"), result
    assert result["refused_invalid"] == "true"
    assert result["saved_notice"] == "Saved and checked with the provider."
    assert f"from {NUMBER}" in result["status"] and "secret ****77e1" in result["status"]
    assert result["token_field"] == "" and result["page_has_token"] is False
    assert result["clinician_status"] == result["status"]
    assert result["clinician_forms"] == 0 and result["clinician_hint"] is True
    row = await admin_conn.fetchrow(
        "select organization_id::text, secret, inbound_number from clinic_provider_accounts"
    )
    assert row["organization_id"] == admin["organization_id"]
    assert row["inbound_number"] == NUMBER and TOKEN not in row["secret"]
    logs = web_log.read_text() + next_log.read_text()
    assert TOKEN not in logs
    assert (SCREENSHOTS / "settings-provider-accounts.png").stat().st_size > 10_000
