"""The patients list's search as a clinician types it, in headless Chromium against ``next start``
and a real ``medremind web`` on a fresh database (``dashboard/e2e/patient-search.e2e.mjs``).

Found by hand (session 30): "Lucia" did not find "Lucía", nor "munoz" "Muñoz", and a phone number
typed as people say it ("612 345 678", "(415) 555-0100", the UK's "07700 900123") found nobody,
the number being stored in E.164 (+34612345678). Now the database folds accents and case
(``public.search_contains``) and compares a number's digits (``public.search_address_contains``),
within row-level security: another clinic's "Lucía" is never listed. A search with LIKE's
wildcards, SQL, markup, a direction override or an emoji finds what it says, and no search fails
the page. Skipped without node and chromium.
"""

from __future__ import annotations

import json
from pathlib import Path

import asyncpg

from tests.dashboard.harness import harbour_clinic, run_dashboard_script
from tests.dashboard.test_dashboard_e2e import pytestmark  # noqa: F401 (the same skip)
from tests.factories import create_organization, create_patient

# What each search lists, by name (sorted).
EXPECTED: dict[str, list[str]] = {
    "Lucia": ["Lucía Muñoz"],
    "munoz": ["Lucía Muñoz"],
    "MUÑOZ": ["Lucía Muñoz"],
    "soren aero": ["Søren Ærø"],
    "Zoe": ["Zoë Ng 🙂"],
    "612 345 678": ["Lucía Muñoz"],
    "(415) 555-0100": ["Søren Ærø"],
    "415.555.0100": ["Søren Ærø"],
    "07700 900123": ["Oliver Brown"],
    "+44 7700 900123": ["Oliver Brown"],
    "\u202elucia": ["Lucía Muñoz"],
    "🙂": ["Zoë Ng 🙂"],
    "%": [],
    "_": [],
    "\\": [],
    "' or 1=1 --": [],
    "{{ patient_name }}<b>": [],
    "x" * 100: [],
}


async def test_search_finds_names_without_accents_and_numbers_as_typed(
    database_url: str, admin_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    clinic = await harbour_clinic(database_url, admin_conn, "search")
    for name, contacts in (
        ("Lucía Muñoz", {"sms": "+34612345678"}),
        ("Søren Ærø", {"whatsapp": "+14155550100"}),
        ("Oliver Brown", {"sms": "+447700900123"}),
        ("Zoë Ng 🙂", {"email": "zoe@example.org"}),
    ):
        await create_patient(admin_conn, clinic.org_id, display_name=name, contacts=contacts)
    other = await create_organization(admin_conn, name="Other Clinic")
    await create_patient(
        admin_conn, other["id"], display_name="Lucía Otra", contacts={"whatsapp": "+34612345678"}
    )

    result = run_dashboard_script(
        "patient-search.e2e.mjs",
        db_env=clinic.db_env,
        tmp_path=tmp_path,
        script_env={**clinic.nurse_env, "QUERIES": json.dumps(list(EXPECTED))},
    ).result

    found = {s["query"]: s["names"] for s in result["searches"]}
    assert found == EXPECTED
    assert {s["heading"] for s in result["searches"]} == {"Patients"}
