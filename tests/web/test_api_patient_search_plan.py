"""The API's patient search calls no function once a patient.

``GET /api/v1/patients?q=`` took 0.3-0.9 s on a clinic of 20,000 patients
(``tests/perf/patient_search_timing.py``): ``public.patient_matches_search`` ran per patient
and looked through that patient's addresses each time. Now the statement compares the folded
name inline and finds the patients an address names once a search, through indexes (migration
20260101018220). Counted by PostgreSQL's function statistics for the statement as the route
runs it; what the search finds is tests/web/test_api_patient_search.py's.
"""

from __future__ import annotations

import asyncpg
import pytest

from core.sql import query
from medremind.web.api_v1.fields import name_pattern
from tests.factories import create_patient

PATIENTS = 30


@pytest.mark.parametrize("q", ["(415) 555-0100", "munoz", "MRN-7", "p7@example.org"])
async def test_no_function_is_called_once_a_patient(
    admin_conn: asyncpg.Connection, org: asyncpg.Record, q: str
) -> None:
    for i in range(PATIENTS):
        await create_patient(
            admin_conn,
            org["id"],
            display_name=f"Patient {i}",
            contacts={"sms": f"+1415555{i:04d}"},
        )
    sql = query("clinic_ops", "list_patients")
    args = (org["id"], None, None, name_pattern(q), None, 51, q, None)
    async with admin_conn.transaction():
        await admin_conn.execute("set local track_functions = 'all'")
        await admin_conn.fetch(sql, *args)
        calls = await admin_conn.fetch(
            "select funcname, calls from pg_stat_xact_user_functions where calls >= $1",
            PATIENTS,
        )
    assert calls == [], calls
