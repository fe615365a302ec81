"""The statistics page end to end: headless Chromium against ``next start`` on a database seeded
with a clinic's week (``tests/statistics_seed.py``, the figures the API test checks too). The
browser script (``dashboard/e2e/statistics.e2e.mjs``) reads the figures, checks the four charts
(recharts SVG with axes and legends), downloads a table as CSV, marks an appointment as a no-show
puts a patient on the waitlist, and saves ``test-artifacts/screenshots/statistics-desktop.png``,
``statistics-phone.png`` (375 px) and ``waitlist-desktop.png``; this test checks what it saw and
the database. Skipped without node and chromium, like the dashboard e2e."""

from __future__ import annotations

import json
import secrets
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from tests.dashboard.browser_server import browser_env
from tests.dashboard.test_dashboard_e2e import (
    CHROMIUM,
    DASHBOARD,
    SCREENSHOTS,
    _create_clinician,
    _ensure_built,
    _process,
    _wait_http,
    pytestmark,  # noqa: F401 (the same skip)
)
from tests.factories import create_organization, create_patient
from tests.ports import free_port
from tests.process_env import service_env
from tests.statistics_seed import seed_clinic_statistics

PASSWORD = "correct horse battery stats"
RECENT = "Rita Recent"


async def test_statistics_page(
    database_url: str, admin_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    base_env = service_env()
    base_env["NEXT_TELEMETRY_DISABLED"] = "1"
    _ensure_built(base_env)
    db_env = base_env | {"DATABASE_URL": database_url}
    clinic = _create_clinician(db_env, "stats@clinic.test", PASSWORD, "Stats Clinic")
    org = await admin_conn.fetchrow(
        "select * from organizations where id = $1", clinic["organization_id"]
    )
    other = await create_organization(admin_conn, name="Other Clinic")
    seeded = await seed_clinic_statistics(admin_conn, org, other)
    outcome_status = {"attended": "completed", "no_show": "no_show"}
    for appointment, outcome in seeded.outcomes:
        await admin_conn.execute(
            "update appointments set status = $2 where id = $1",
            appointment["id"],
            outcome_status[outcome],
        )
    recent_patient = await create_patient(admin_conn, org["id"], display_name=RECENT)
    recent = await admin_conn.fetchrow(
        "insert into appointments (organization_id, patient_id, starts_at, status)"
        " values ($1, $2, $3, 'confirmed') returning id",
        org["id"],
        recent_patient["id"],
        datetime.now(UTC) - timedelta(days=1),
    )

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    next_env = db_env | {
        "DASHBOARD_SESSION_SECRET": secrets.token_urlsafe(48),
        "DASHBOARD_COOKIE_SECURE": "false",
        "NODE_ENV": "production",
    }
    next_log = tmp_path / "next.log"
    result_file = tmp_path / "result.json"
    with _process(
        ["node", "node_modules/next/dist/bin/next", "start", "-p", str(port), "-H", "127.0.0.1"],
        cwd=DASHBOARD,
        env=next_env,
        log=next_log,
    ) as next_server:
        _wait_http(f"{base_url}/login", next_server, next_log)
        with browser_env(CHROMIUM) as browser:
            e2e = subprocess.run(
                ["node", "e2e/statistics.e2e.mjs"],
                cwd=DASHBOARD,
                env=base_env
                | {
                    "BASE_URL": base_url,
                    **browser,
                    "CLINICIAN_EMAIL": "stats@clinic.test",
                    "CLINICIAN_PASSWORD": PASSWORD,
                    "FROM": seeded.period.first.isoformat(),
                    "TO": seeded.period.last.isoformat(),
                    "RECENT_PATIENT": RECENT,
                    "SCREENSHOT_DIR": str(SCREENSHOTS),
                    "RESULT_FILE": str(result_file),
                },
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
        assert e2e.returncode == 0, (
            f"{e2e.stdout}\n{e2e.stderr}\n--- next log ---\n{next_log.read_text()[-4000:]}"
        )

    result = json.loads(result_file.read_text())
    # The figures of tests/web/test_api_statistics.py, as the page shows them.
    assert result["kpis"] == {
        "delivery": "60.0%",  # 3 of 5 tried: telegram 2 sent + 1 failed, SMS 1 + 1 expired
        "confirmation": "60.0%",
        "no_show_confirmed": "33.3%",
        "no_show_reminded": "50.0%",
        "no_show_not_reminded": "100.0%",
        "adherence": "60.0%",
    }
    # Each legend names its series in words, in the order the bars stack (bottom up), beside
    # the colour: nothing is told by colour alone.
    assert result["chart-messages-per-day"]["legend"] == [
        "Delivered",
        "Sent (no receipt)",
        "Failed or expired",
    ]
    assert result["chart-messages-by-channel"]["legend"] == [
        "Delivered",
        "Sent (no receipt)",
        "Failed",
        "Expired",
        "Cancelled",
    ]
    assert result["chart-adherence"]["legend"] == ["Adherence"]
    assert result["chart-no-show"]["legend"] == ["Attended", "No-show"]
    # A phone, 375 px: no sideways scrolling, the outcome chart's three names apart.
    assert result["phone_overflow"] == 0
    assert result["phone_no_show_names"] == 3
    assert result["phone_no_show_names_apart"] is True
    first = seeded.period.first
    assert f"{first.day} {first.strftime('%b')}" in result["day_ticks"]
    assert result["csv"].splitlines() == [
        "reminder,with_outcome,attended,no_show,no_show_rate",
        "confirmed,3,2,1,0.3333",
        "reminded_not_confirmed,2,1,1,0.5",
        "not_reminded,1,0,1,1",
    ]
    # Found by hand (session 29): year 0000 answered "Something went wrong" (PostgreSQL has no
    # year 0); the dashboard now keeps to the API's years.
    assert result["year_zero"] == (
        "To: give a date between 2000-01-01 and 2999-12-31. Showing the last 30 days."
    )
    assert result["far_csv"] == {
        "status": 400,
        "text": "To: give a date between 2000-01-01 and 2999-12-31.",
    }
    status = await admin_conn.fetchval(
        "select status from appointments where id = $1", recent["id"]
    )
    assert status == "no_show"
    assert (SCREENSHOTS / "statistics-desktop.png").stat().st_size > 10_000
    assert (SCREENSHOTS / "statistics-phone.png").stat().st_size > 10_000
    waiting = await admin_conn.fetchrow(
        "select days_of_week, earliest::text, latest::text, note, status, organization_id"
        " from waitlist_entries where patient_id = $1",
        recent_patient["id"],
    )
    assert dict(waiting) == {
        "days_of_week": [3],
        "earliest": "09:00:00",
        "latest": "12:00:00",
        "note": "mornings",
        "status": "waiting",
        "organization_id": org["id"],
    }
