"""``GET /api/v1/patients`` (list, search) and ``GET /api/v1/appointments`` (filters) over a real
web process: every row exactly once across cursor pages, another clinic's rows never, search by
name fragment (wildcards literal), external id and address, clear 422s for bad parameters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests.factories import create_patient
from tests.web.pages import all_pages
from tests.web.processes import clinic_key


async def test_patient_and_appointment_lists(db, admin_conn, web_process):
    org, key = await clinic_key(db, admin_conn, "List Clinic")
    other, _ = await clinic_key(db, admin_conn, "Other Clinic")
    names = [f"Patient {i:02d}" for i in range(7)] + ["Ana 100% Real_Name"]
    patients = [
        await create_patient(
            admin_conn,
            org["id"],
            display_name=name,
            external_id=f"ext-{i}",
            contacts={"sms": f"+3460000{i:04d}"},
        )
        for i, name in enumerate(names)
    ]
    await create_patient(admin_conn, other["id"], display_name="Patient 99")
    start = datetime(2027, 5, 3, 9, 0, tzinfo=UTC)
    for i, patient in enumerate(patients):
        await admin_conn.execute(
            "insert into appointments (organization_id, patient_id, starts_at, status)"
            " values ($1, $2, $3, $4)",
            org["id"],
            patient["id"],
            start + timedelta(hours=i),
            "cancelled" if i % 3 == 0 else "scheduled",
        )
    _, base = await web_process()
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
        listed = await all_pages(http, "/api/v1/patients", {"limit": "3"})
        assert [p["display_name"] for p in listed] == names  # oldest first, once each
        assert listed[0]["contacts"][0]["address"] == "+34600000000"
        found = (await http.get("/api/v1/patients", params={"q": "patient 0"})).json()["data"]
        assert len(found) == 7
        literal = (await http.get("/api/v1/patients", params={"q": "100%"})).json()["data"]
        assert [p["display_name"] for p in literal] == ["Ana 100% Real_Name"]
        assert (await http.get("/api/v1/patients", params={"q": "Rea__Name"})).json()["data"] == []
        by_ext = (await http.get("/api/v1/patients", params={"q": "ext-3"})).json()["data"]
        assert [p["id"] for p in by_ext] == [str(patients[3]["id"])]
        by_phone = (await http.get("/api/v1/patients", params={"q": "+34600000005"})).json()
        assert [p["id"] for p in by_phone["data"]] == [str(patients[5]["id"])]

        appointments = await all_pages(http, "/api/v1/appointments", {"limit": "2"})
        assert [a["patient_id"] for a in appointments] == [str(p["id"]) for p in patients]
        cancelled = await all_pages(
            http, "/api/v1/appointments", {"status": "cancelled", "limit": "1"}
        )
        assert len(cancelled) == 3 and {a["status"] for a in cancelled} == {"cancelled"}
        window = await all_pages(
            http,
            "/api/v1/appointments",
            {
                "from": (start + timedelta(hours=2)).isoformat(),
                "to": (start + timedelta(hours=4)).isoformat(),
            },
        )
        assert [a["patient_id"] for a in window] == [str(p["id"]) for p in patients[2:4]]
        mine = await all_pages(http, "/api/v1/appointments", {"patient_id": str(patients[6]["id"])})
        assert len(mine) == 1

        # A cursor of one list passed to another (every sort key is a time and an id): the
        # appointments' cursor (starts in 2027) read as a patient's creation time answered an
        # empty last page of patients, 200, which a sync loop takes for the end of the list.
        appointments_cursor = (
            await http.get("/api/v1/appointments", params={"limit": "1"})
        ).json()["next_cursor"]
        crossed = await http.get("/api/v1/patients", params={"cursor": appointments_cursor})
        assert crossed.status_code == 422, crossed.text
        assert crossed.json()["error"] == {
            "status": 422,
            "code": "invalid",
            "field": "cursor",
            "reason": "is a cursor of GET /api/v1/appointments, not of this list; pass the "
            "`next_cursor` that GET /api/v1/patients gave with its previous page",
        }

        for path, params, field in (
            ("/api/v1/patients", {"cursor": "not-a-cursor"}, "cursor"),
            ("/api/v1/patients", {"limit": "0"}, "limit"),
            ("/api/v1/patients", {"status": "gone"}, "status"),
            ("/api/v1/patients", {"sort": "name"}, "sort"),
            ("/api/v1/appointments", {"from": "tomorrow"}, "from"),
            ("/api/v1/appointments", {"patient_id": "x"}, "patient_id"),
        ):
            answer = await http.get(path, params=params)
            assert answer.status_code == 422, (path, params, answer.text)
            assert answer.json()["error"]["field"] == field
