"""A patient's details edited from two tabs of their page, in headless Chromium against ``next
start`` and a real ``medremind web`` (``dashboard/e2e/patient-details-two-tabs.e2e.mjs``).

The dashboard had no way to correct a patient's name, language or external id (only the API's
PATCH or the patient's bot). The form is on the patient's page, which refreshes itself every
3 s: a tab being edited keeps what was typed and what it showed (components/FreshUnlessEdited),
a save writes only the fields it changed (a colleague's change of another field stays), and a
change of a field changed since the page showed it is refused whole, saying so.
Skipped without node and chromium.
"""

from __future__ import annotations

from pathlib import Path

import asyncpg

from tests.dashboard.harness import harbour_clinic, run_dashboard_script
from tests.dashboard.test_dashboard_e2e import pytestmark  # noqa: F401 (the same skip)
from tests.factories import create_patient


async def test_two_tabs_write_only_what_they_changed(
    database_url: str, admin_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    clinic = await harbour_clinic(database_url, admin_conn, "details")
    patient = await create_patient(
        admin_conn, clinic.org_id, display_name="Pia Details", contacts={"sms": "+14155550196"}
    )

    # "pausa 2 días" said on a Monday evening in Madrid: the pause ends by itself on Wednesday.
    await admin_conn.execute(
        "update patients set timezone = 'Europe/Madrid', reminders_paused = true,"
        " reminders_paused_until = '2027-03-31T19:00:00Z' where id = $1",
        patient["id"],
    )

    result = run_dashboard_script(
        "patient-details-two-tabs.e2e.mjs",
        db_env=clinic.db_env,
        tmp_path=tmp_path,
        script_env={**clinic.nurse_env, "PATIENT_ID": str(patient["id"])},
    ).result

    assert result["summary"].endswith(
        " · reminders paused until 31 Mar 2027, 21:00 (Europe/Madrid)"
    ), result
    assert result["second"] == "saved", result
    # Being edited, the first tab kept the typed name and the language it had shown.
    assert result["edited_name"] == "Pia Renamed", result
    assert result["edited_locale"] == "en", result
    assert result["first"] == "saved", result
    assert result["refreshed_name"] == "Pia Renamed", result
    assert result["first_id"] == "saved", result
    assert result["stale_kept"] == "MRN-SECOND", result
    assert result["stale"].startswith("Details: nothing was saved."), result
    assert result["stale_shows"] == "MRN-FIRST", result
    row = await admin_conn.fetchrow(
        "select display_name, locale, external_id from patients where id = $1", patient["id"]
    )
    # The first tab's name, the second tab's language: neither save undid the other's.
    assert dict(row) == {
        "display_name": "Pia Renamed",
        "locale": "es",
        "external_id": "MRN-FIRST",
    }
