"""A clinic's own provider account set on the dashboard's settings page, end to end.

Headless Chromium against ``next start`` and a real ``medremind web`` (which holds
``MEDREMIND_CREDENTIALS_KEY`` and checks the account at the loopback Twilio): the admin's wrong
auth token is refused naming the field, the right one is saved encrypted and only its hint is
shown; a clinician who is not an admin sees the account and no form. The browser script is
``dashboard/e2e/accounts.e2e.mjs``; it saves ``settings-provider-accounts.png``. Skipped without
node and chromium, like the dashboard e2e.
"""

from __future__ import annotations

from pathlib import Path

import asyncpg

from core.credentials import new_key
from tests.dashboard.harness import admin_and_clinician, built_dashboard_env, run_dashboard_script
from tests.dashboard.test_dashboard_e2e import (
    SCREENSHOTS,
    pytestmark,  # noqa: F401 (the same skip)
)
from tests.fakes.fake_twilio import FakeTwilio

SID = "AC" + "d1" * 16
TOKEN = "dashboard-saved-token-77e1"
NUMBER = "+14155550166"


async def test_an_admin_saves_the_clinics_twilio_account(
    database_url: str, admin_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    db_env = built_dashboard_env(database_url)
    admin, _ = await admin_and_clinician(
        db_env,
        admin_conn,
        "Harbour",
        ("admin@harbour.test", "admin pass 1234"),
        ("nurse@harbour.test", "nurse pass 1234"),
    )
    with FakeTwilio() as twilio:
        twilio.add_account(SID, TOKEN, numbers=[NUMBER])
        run = run_dashboard_script(
            "accounts.e2e.mjs",
            db_env=db_env,
            tmp_path=tmp_path,
            web_env={
                "MEDREMIND_CREDENTIALS_KEY": new_key(),
                "TWILIO_API_BASE_URL": twilio.base_url,
            },
            script_env={
                "ADMIN_EMAIL": "admin@harbour.test",
                "ADMIN_PASSWORD": "admin pass 1234",
                "CLINICIAN_EMAIL": "nurse@harbour.test",
                "CLINICIAN_PASSWORD": "nurse pass 1234",
                "ACCOUNT_SID": SID,
                "AUTH_TOKEN": TOKEN,
                "FROM_NUMBER": NUMBER,
            },
        )

    result = run.result
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
    assert TOKEN not in run.web_log + run.next_log
    assert (SCREENSHOTS / "settings-provider-accounts.png").stat().st_size > 10_000
