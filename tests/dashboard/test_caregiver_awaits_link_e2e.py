"""A Telegram caregiver typed in before caregiver links, on the patient's dashboard page.

Migration 20260101014300 marks such caregivers (``awaiting_link_since``): no alerts until their
own chat opens a link the worker sends the patient to forward (``link_offered_at``). Headless
Chromium against ``next start`` and ``medremind web``; the browser script is
``dashboard/e2e/caregiver-awaits-link.e2e.mjs``, which saves
``caregiver-awaits-link-<patient>.png``. The clinician reads, for each state of that link, that
the caregiver gets no alerts and what happens next, and sees the alert not sent with its reason.
Skipped without node and chromium, like the dashboard e2e.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from bot.dialogs import caregiver_links
from tests.dashboard.harness import built_dashboard_env, run_dashboard_script
from tests.dashboard.test_dashboard_e2e import (
    SCREENSHOTS,
    _create_clinician,
    pytestmark,  # noqa: F401 (the same skip)
)
from tests.factories import create_patient

PASSWORD = "correct horse battery relink"


def _shown(at: datetime) -> str:
    """``at`` as the dashboard shows it in the clinic's zone (UTC here): '4 Dec 2026, 09:05'."""
    return f"{at.day} {at:%b %Y, %H:%M}"


async def _patient_with_typed_caregiver(
    conn: asyncpg.Connection,
    org_id: uuid.UUID,
    n: int,
    name: str,
    offered: datetime | None,
    offers: int = 1,
) -> uuid.UUID:
    """A patient with an SMS caregiver and a Telegram one typed in, marked as the migration
    marks it (``n`` tells the addresses apart); ``offered``: when the worker sent the patient a
    link for it (None: not yet), the ``offers``-th (a second and last when the first expired)."""
    patient = await create_patient(
        conn, org_id, contacts={"sms": f"+3460011122{n}"}, display_name=name, locale="es"
    )
    # Reached by the service before (else the page leads with "Not linked yet").
    await conn.execute("update patients set linked_at = now() where id = $1", patient["id"])
    await conn.execute(
        "insert into caregivers (patient_id, name, channel, address)"
        " values ($1, 'Lucía', 'sms', $2)",
        patient["id"],
        f"+3460011133{n}",
    )
    ben = await conn.fetchval(
        "insert into caregivers (patient_id, name, channel, address, awaiting_link_since,"
        " link_offered_at, link_offers) values ($1, 'Ben', 'telegram', $4, $2, $3, $5)"
        " returning id",
        patient["id"],
        datetime.now(UTC) - timedelta(days=20),
        offered,
        f"55177700{n}",
        0 if offered is None else offers,
    )
    # A dose missed since: Ben's alert is recorded, not sent, with the reason (planner.sql).
    await conn.execute(
        "insert into scheduled_messages (patient_id, caregiver_id, scheduled_time, platform, kind,"
        " status, last_error, idempotency_key)"
        " values ($1, $2, now() - interval '1 hour', 'telegram', 'missed_dose_caregiver',"
        " 'cancelled', public.awaiting_link_reason(), $3)",
        patient["id"],
        ben,
        f"caregiver:e2e:{ben}",
    )
    return patient["id"]


async def test_the_clinician_reads_why_a_typed_caregiver_gets_no_alerts(
    database_url: str, admin_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    db_env = built_dashboard_env(database_url)
    clinic = _create_clinician(db_env, "relink@clinic.test", PASSWORD, "Relink Clinic")
    org_id = uuid.UUID(clinic["organization_id"])
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    offered_at = {
        "sent": now - timedelta(hours=2),
        "expired-first": now - timedelta(days=8),
        "expired": now - timedelta(days=8),
    }
    patients = {
        "sent": await _patient_with_typed_caregiver(
            admin_conn, org_id, 1, "Ana Sent", offered_at["sent"]
        ),
        "not-sent": await _patient_with_typed_caregiver(admin_conn, org_id, 2, "Bea Waiting", None),
        "expired-first": await _patient_with_typed_caregiver(
            admin_conn, org_id, 3, "Cruz Expired", offered_at["expired-first"]
        ),
        "expired": await _patient_with_typed_caregiver(
            admin_conn, org_id, 4, "Dora Expired", offered_at["expired"], offers=2
        ),
    }
    run = run_dashboard_script(
        "caregiver-awaits-link.e2e.mjs",
        db_env=db_env,
        tmp_path=tmp_path,
        script_env={
            "CLINICIAN_EMAIL": "relink@clinic.test",
            "CLINICIAN_PASSWORD": PASSWORD,
            "PATIENTS": json.dumps({k: str(v) for k, v in patients.items()}),
        },
    )
    result = run.result
    for label in patients:
        page = result[label]
        # Lucía (SMS) is alerted as ever; only Ben's line says he is not, and why.
        assert "awaits" not in page["caregivers"][0], page
        assert "alerted after 30 min ·" in page["caregivers"][0], page
        # Ben's line never says he is alerted as things stand: only once his chat opens a link.
        assert "alerted after 30 min ·" not in page["caregivers"][1], page
        assert "alerted after 30 min once their own chat opens a link" in page["caregivers"][1]
        assert len(page["awaits"]) == 1 and page["caregivers"][1].startswith("Ben"), page
        assert page["awaits"][0].startswith("· no alerts: awaits their link"), page
        assert "typed in, not linked by the caregiver's own chat" in page["awaits"][0]
        # His alert not sent is in the patient's messages, naming him, with the reason.
        (alert,) = page["messages"]
        assert "cancelled" in alert and "to Ben" in alert and "typed in" in alert, alert
        assert (SCREENSHOTS / f"caregiver-awaits-link-{label}.png").stat().st_size > 10_000
    sent, expires = offered_at["sent"], offered_at["sent"] + caregiver_links.LIFETIME
    assert (
        f"The patient was sent a link to forward on {_shown(sent)}; alerts resume once Ben opens"
        f" it (it works until {_shown(expires)})."
    ) in result["sent"]["awaits"][0]
    assert "No link has gone to the patient yet" in result["not-sent"]["awaits"][0]
    first = offered_at["expired-first"]
    assert (
        f"The link sent to the patient on {_shown(first)} expired unopened on"
        f" {_shown(first + caregiver_links.LIFETIME)}: the service sends them a second and last"
        " one once they can be messaged."
    ) in result["expired-first"]["awaits"][0]
    expired = offered_at["expired"]
    assert (
        f"The second and last link sent to the patient, on {_shown(expired)}, expired unopened on"
        f" {_shown(expired + caregiver_links.LIFETIME)}. To alert Ben again, the patient names"
        " them anew in the bot (/settings > Caregiver, which replaces the patient's other"
        " caregivers)."
    ) in result["expired"]["awaits"][0]
