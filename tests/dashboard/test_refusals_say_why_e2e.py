"""What the dashboard says when it refuses, in headless Chromium against ``next start`` and a
real ``medremind web`` (``dashboard/e2e/refusals-say-why.e2e.mjs``).

Found last session: Compose's textarea cut a pasted text over 4,096 characters at the limit
(``maxLength``) without a word, and the cut text was sent; Cancel (and Send now) with another
clinic's message id said "no longer pending", which tells a forger that the id exists (and
Appointments' Cancel with another clinic's appointment id, "already closed"; and, found this
session, the waitlist's Remove with another clinic's entry id, "already closed" too). Now the
text is kept whole, said too long with how much to cut, and refused (nothing inserted); a
forged id is "not found", and the other clinic's message, appointment and waitlist entry stay as
they were. Skipped without node and chromium.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from tests.dashboard.harness import harbour_clinic, run_dashboard_script
from tests.dashboard.test_dashboard_e2e import pytestmark  # noqa: F401 (the same skip)
from tests.factories import create_message, create_organization, create_patient


async def test_a_long_paste_and_a_forged_id_are_refused_saying_why(
    database_url: str, admin_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    clinic = await harbour_clinic(database_url, admin_conn, "refusals")
    later = datetime.now(UTC) + timedelta(hours=3)
    patient = await create_patient(
        admin_conn, clinic.org_id, display_name="Rita Refused", contacts={"sms": "+14155550171"}
    )
    own = await create_message(admin_conn, patient["id"], scheduled_time=later)
    other_org = await create_organization(admin_conn, name="Other Clinic")
    other_patient = await create_patient(
        admin_conn, other_org["id"], display_name="Otto Other", contacts={"sms": "+14155550172"}
    )
    other = await create_message(admin_conn, other_patient["id"], scheduled_time=later)
    book = (
        "insert into appointments (organization_id, patient_id, starts_at, location)"
        " values ($1, $2, $3, 'Room 1') returning id"
    )
    tomorrow = later + timedelta(days=1)
    own_visit = await admin_conn.fetchval(book, clinic.org_id, patient["id"], tomorrow)
    other_visit = await admin_conn.fetchval(book, other_org["id"], other_patient["id"], tomorrow)
    wait = "insert into waitlist_entries (organization_id, patient_id) values ($1, $2) returning id"
    own_entry = await admin_conn.fetchval(wait, clinic.org_id, patient["id"])
    other_entry = await admin_conn.fetchval(wait, other_org["id"], other_patient["id"])

    result = run_dashboard_script(
        "refusals-say-why.e2e.mjs",
        db_env=clinic.db_env,
        tmp_path=tmp_path,
        script_env={
            **clinic.admin_env,
            "PATIENT_NAME": "Rita Refused",
            "OTHER_MESSAGE_ID": str(other["id"]),
            "OTHER_APPOINTMENT_ID": str(other_visit),
            "OTHER_WAITLIST_ID": str(other_entry),
        },
    ).result

    # The paste is kept whole (not cut at 4,096), said too long, and refused.
    assert result["kept_length"] == 5000, result
    assert result["warning"] == (
        "Message: 5,000 characters, longer than a message can be (4,096 at most)."
        " Shorten it by 904 characters, or send it as two messages."
    )
    assert result["refused"].startswith("Message: longer than a message can be"), result
    assert result["invalid"] == "true"
    # A forged id is not found; nothing says the other clinic's message exists.
    for said in (result["cancel_error"], result["send_now_error"]):
        assert said.startswith("That message was not found"), result
        assert "pending" not in said
    assert result["appointment_error"].startswith("That appointment was not found"), result
    assert result["waitlist_error"].startswith("That entry was not found"), result
    entries = await admin_conn.fetch("select id, status from waitlist_entries")
    assert {r["id"]: r["status"] for r in entries} == {
        own_entry: "waiting",
        other_entry: "waiting",
    }
    visits = await admin_conn.fetch("select id, status from appointments")
    assert {r["id"]: r["status"] for r in visits} == {
        own_visit: "scheduled",
        other_visit: "scheduled",
    }
    rows = await admin_conn.fetch(
        "select id, status, scheduled_time from scheduled_messages where kind = 'free_text'"
    )
    assert {r["id"]: (r["status"], r["scheduled_time"]) for r in rows} == {
        own["id"]: ("pending", later),
        other["id"]: ("pending", later),
    }
