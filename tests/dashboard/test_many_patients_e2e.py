"""A clinic with more patients than the dashboard lists at once, in headless Chromium.

521 patients, "Zed Late" last by name. The patients list showed 200 and said "200 patients";
the patient pickers of Compose, Appointments and the Waitlist held the first 500 by name, so
Compose opened from Zed Late's own page offered "Choose a patient" and a list without him: the
clinic could not write to, book or waitlist its patients past the 500th from the dashboard. Now
the list says "200 of 521 patients ... the first 200 by name; search to find the others", and
each picker opened from a patient's page (Compose message, Appointments, and a new Waitlist
link) has that patient chosen, with a hint saying how to reach any other. Scheduled messages
said "200 messages" of 233 (found by hand in medremind dev: a clinic of 45 patients had 269, its
sent ones unseen below the pending); it says "200 of 233" and which 200. The browser script is
``dashboard/e2e/many-patients.e2e.mjs`` (screenshots ``many-patients-*.png``). Skipped without
node and chromium, like the dashboard e2e.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import asyncpg

from tests.dashboard.harness import built_dashboard_env, run_dashboard_script
from tests.dashboard.test_dashboard_e2e import (
    _create_clinician,
    pytestmark,  # noqa: F401 (the same skip)
)
from tests.factories import create_patient

EMAIL = "dr.many@clinic.test"
PASSWORD = "correct horse battery many"
EARLY = 520  # "Aaron 001" .. "Aaron 520": all sort before "Zed Late"


async def test_a_large_clinic_reaches_its_last_patient_by_name(
    database_url: str, admin_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    db_env = built_dashboard_env(database_url)
    clinic = _create_clinician(db_env, EMAIL, PASSWORD, "Large Clinic")
    org_id = uuid.UUID(clinic["organization_id"])
    await admin_conn.execute(
        """insert into patients (organization_id, display_name, timezone, channel_order, consent_at)
           select $1, 'Aaron ' || lpad(g::text, 3, '0'), 'UTC', '{sms}', now()
             from generate_series(1, $2::int) g""",
        org_id,
        EARLY,
    )
    late = await create_patient(
        admin_conn, org_id, display_name="Zed Late", contacts={"sms": "+14155550142"}
    )

    # 230 pending messages (one each to the first patients) and 3 sent: more than the 200 the
    # Scheduled messages list shows.
    await admin_conn.execute(
        """insert into scheduled_messages (organization_id, patient_id, message_content, platform,
                                           kind, scheduled_time, status)
           select organization_id, id, 'Clinic news', 'auto', 'free_text',
                  now() + interval '1 day', case when n <= 3 then 'sent' else 'pending' end
             from (select organization_id, id, row_number() over (order by display_name) as n
                     from patients where organization_id = $1) p
            where n <= 233""",
        org_id,
    )

    result = run_dashboard_script(
        "many-patients.e2e.mjs",
        db_env=db_env,
        tmp_path=tmp_path,
        script_env={
            "CLINICIAN_EMAIL": EMAIL,
            "CLINICIAN_PASSWORD": PASSWORD,
            "LATE_PATIENT_ID": str(late["id"]),
        },
    ).result

    total = EARLY + 1
    listed = result["list"]
    assert listed["rows"] == 200 and listed["late_listed"] is False, listed
    assert listed["caption"].startswith(f"200 of {total} patients"), listed
    assert "search to find the others" in listed["caption"], listed
    assert result["search"]["rows"] == 1, result["search"]
    assert result["search"]["caption"].startswith("1 patient matching"), result["search"]
    for form, path in (
        ("compose", "/messages/new"),
        ("appointment", "/appointments"),
        ("waitlist", "/waitlist"),
    ):
        picker = result[form]
        assert picker["url"] == f"{path}?patient={late['id']}", picker
        assert (picker["value"], picker["label"]) == (str(late["id"]), "Zed Late"), picker
        # The first 500 by name, the chosen patient, and "Choose a patient".
        assert picker["options"] == 502, picker
        assert (
            picker["hint"] is not None
            and f"501 of the clinic's {total} patients" in (picker["hint"])
        ), picker
    assert result["waitlisted"] == 1, result
    assert (
        await admin_conn.fetchval(
            "select count(*) from waitlist_entries where patient_id = $1", late["id"]
        )
        == 1
    )
    # "200 messages" before, of 233; the filters say which 200 they show.
    assert result["messages"]["rows"] == 200, result["messages"]
    assert result["messages"]["caption"] == (
        "200 of 233 messages · times in UTC · pending first by time, then the most recent;"
        " choose a status to see the others"
    ), result["messages"]
    pending = result["messages_pending"]
    assert pending["caption"] == (
        "200 of 230 messages with status pending · times in UTC · the first 200 by time"
    ), pending
    assert result["messages_sent"] == {
        "caption": "3 messages with status sent · times in UTC",
        "rows": 3,
    }
