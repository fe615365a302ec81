"""A patient's message preferences saved from two tabs, in headless Chromium against ``next
start`` and a real ``medremind web`` (``dashboard/e2e/preferences-two-tabs.e2e.mjs``).

Found by hand (session 30): the form saved every category as the page had loaded them, so a tab
opened before another tab's (or a colleague's) save undid that save when it saved its own change,
without a word. Now a save writes only what it changed (the other tab's change stays), and a
change of a value changed since the page loaded is refused whole, the page reloaded with the
preferences as they are and saying why. The page refreshes itself every 3 s: a tab being edited
kept its selects but took the new values into its hidden "shown" fields, so its Save wrote the old
values back (components/FreshUnlessEdited.tsx); an untouched tab shows what is stored now.
Skipped without node and chromium.
"""

from __future__ import annotations

from pathlib import Path

import asyncpg

from tests.dashboard.harness import harbour_clinic, run_dashboard_script
from tests.dashboard.test_dashboard_e2e import pytestmark  # noqa: F401 (the same skip)
from tests.factories import create_patient


async def test_a_stale_tab_neither_undoes_nor_overwrites_a_change(
    database_url: str, admin_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    clinic = await harbour_clinic(database_url, admin_conn, "twotabs")
    patient = await create_patient(
        admin_conn, clinic.org_id, display_name="Pia Prefs", contacts={"sms": "+14155550194"}
    )

    result = run_dashboard_script(
        "preferences-two-tabs.e2e.mjs",
        db_env=clinic.db_env,
        tmp_path=tmp_path,
        script_env={**clinic.nurse_env, "PATIENT_ID": str(patient["id"])},
    ).result

    assert result["first"] == "saved", result
    assert result["second"] == "saved", result
    # Being edited, the first tab still shows (and says it showed) what it loaded, past a refresh.
    assert result["edited_shows"] == "", result
    assert result["stale"].startswith("Message preferences: nothing was saved."), result
    assert result["stale_shows"] == "out", result
    assert result["again"] == "saved", result
    # Untouched since its save, the second tab shows the first tab's change after a refresh.
    assert result["refreshed_shows"] == "in", result
    rows = await admin_conn.fetch(
        "select category, clinic_choice, channel from patient_preferences where patient_id = $1",
        patient["id"],
    )
    found = {r["category"]: (r["clinic_choice"], r["channel"]) for r in rows}
    assert found["medication"] == (None, "sms"), found
    assert found["clinic_news"] == ("in", None), found
    # The refused save wrote nothing: not the offsets the first tab had typed either.
    offsets = await admin_conn.fetchval(
        "select appointment_reminder_offsets from patients where id = $1", patient["id"]
    )
    assert offsets is None, offsets
