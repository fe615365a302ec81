"""Issue 17's API gaps over a real web process: a patient changed (PATCH) and erased (DELETE, the
same erasure as /delete_me), a taken ``external_id`` answered 409 with the id that has it, message
filters with cursor pages and ``appointment_id`` in the output, and an idempotent replay after a
cancel showing the cancel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests.factories import create_message, create_patient
from tests.web.pages import all_pages
from tests.web.processes import clinic_key

START = datetime(2027, 5, 3, 9, 0, tzinfo=UTC)


async def test_patient_update_conflict_and_erasure(db, admin_conn, web_process):
    _, key = await clinic_key(db, admin_conn, "Change Clinic")
    _, base = await web_process()
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30
    ) as http:
        first = await http.post("/api/v1/patients", json={"external_id": "MRN-1"})
        assert first.status_code == 201, first.text
        again = await http.post("/api/v1/patients", json={"external_id": "MRN-1"})
        assert again.status_code == 409
        error = again.json()["error"]
        assert error["field"] == "external_id" and error["existing_id"] == first.json()["id"]
        assert again.headers["location"] == f"/api/v1/patients/{first.json()['id']}"

        second = (await http.post("/api/v1/patients", json={"display_name": "Bo"})).json()
        path = f"/api/v1/patients/{second['id']}"
        changed = await http.patch(
            path,
            json={
                "display_name": "Bo Example",
                "timezone": "America/Chicago",
                "locale": "es",
                "channel_order": ["sms", "telegram"],
                "quiet_start": "22:30",
                "quiet_end": "07:00",
                "external_id": "MRN-2",
            },
        )
        assert changed.status_code == 200, changed.text
        body = changed.json()
        assert (body["display_name"], body["timezone"], body["locale"]) == (
            "Bo Example",
            "America/Chicago",
            "es",
        )
        assert body["channel_order"] == ["sms", "telegram"]
        assert (body["quiet_start"], body["quiet_end"], body["external_id"]) == (
            "22:30",
            "07:00",
            "MRN-2",
        )
        assert (await http.get(path)).json() == body
        # Only what is given changes; null clears what may be empty.
        cleared = await http.patch(
            path, json={"external_id": None, "quiet_start": None, "quiet_end": None}
        )
        assert cleared.status_code == 200, cleared.text
        assert cleared.json()["external_id"] is None and cleared.json()["quiet_start"] is None
        assert cleared.json()["timezone"] == "America/Chicago"
        taken = await http.patch(path, json={"external_id": "MRN-1"})
        assert taken.status_code == 409
        assert taken.json()["error"]["existing_id"] == first.json()["id"]
        for change, field in (
            ({}, "body"),
            ({"timezone": None}, "timezone"),
            ({"timezone": "Mars/Base"}, "timezone"),
            ({"quiet_start": "22:00"}, "quiet_end"),
            ({"quiet_start": "25:00", "quiet_end": "07:00"}, "quiet_start"),
            ({"channel_order": ["sms", "sms"]}, "channel_order[1]"),
            ({"phone": "+14155550123"}, "phone"),
        ):
            answer = await http.patch(path, json=change)
            assert answer.status_code == 422, (change, answer.text)
            assert answer.json()["error"]["field"] == field, change
        audited = await admin_conn.fetch(
            "select actor, details from audit_log"
            " where action = 'patient.settings_changed' and entity_id = $1 order by id",
            second["id"],
        )
        assert audited and all(a["actor"].startswith("api_key:") for a in audited)
        assert "display_name" in audited[0]["details"]["changed"]
        assert "Bo Example" not in str([a["details"] for a in audited])  # names, never values

        # DELETE: the erasure the patient's /delete_me makes; after it nothing can change.
        await admin_conn.execute(
            "insert into contact_points (patient_id, channel, address) values ($1, 'sms', $2)",
            second["id"],
            "+14155550188",
        )
        erased = await http.delete(path)
        assert erased.status_code == 200 and erased.json()["status"] == "deleted"
        assert erased.json()["display_name"] is None and erased.json()["contacts"] == []
        assert (
            await admin_conn.fetchval(
                "select count(*) from contact_points where patient_id = $1", second["id"]
            )
            == 0
        )
        assert (await http.patch(path, json={"locale": "en"})).status_code == 404


async def test_message_filters_pages_and_replay_after_cancel(db, admin_conn, web_process):
    org, key = await clinic_key(db, admin_conn, "Filter Clinic")
    other, _ = await clinic_key(db, admin_conn, "Other Filter Clinic")
    patient = await create_patient(admin_conn, org["id"])
    theirs = await create_patient(admin_conn, other["id"])
    appointment = await admin_conn.fetchval(
        "insert into appointments (organization_id, patient_id, starts_at)"
        " values ($1, $2, $3) returning id",
        org["id"],
        patient["id"],
        START + timedelta(days=2),
    )
    rows = []
    for i in range(9):
        rows.append(
            await create_message(
                admin_conn,
                patient["id"],
                scheduled_time=START + timedelta(hours=i),
                kind="appointment_reminder" if i % 3 == 0 else "free_text",
                appointment_id=appointment if i % 3 == 0 else None,
                platform="sms" if i % 2 else "telegram",
                status="sent" if i < 4 else "pending",
            )
        )
    await create_message(admin_conn, theirs["id"], scheduled_time=START)
    _, base = await web_process()
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30
    ) as http:
        every = await all_pages(http, "/api/v1/messages", {"limit": "2"})
        assert [m["id"] for m in every] == [str(r["id"]) for r in reversed(rows)]  # newest first
        by_appointment = await all_pages(
            http, "/api/v1/messages", {"appointment_id": str(appointment)}
        )
        assert [m["id"] for m in by_appointment] == [str(rows[i]["id"]) for i in (6, 3, 0)]
        assert {m["appointment_id"] for m in by_appointment} == {str(appointment)}
        assert every[-1]["appointment_id"] == str(appointment)
        assert every[0]["appointment_id"] is None
        kinds = await all_pages(
            http, "/api/v1/messages", {"kind": "free_text", "channel": "sms", "limit": "1"}
        )
        assert [m["id"] for m in kinds] == [str(rows[i]["id"]) for i in (7, 5, 1)]
        window = await all_pages(
            http,
            "/api/v1/messages",
            {
                "from": (START + timedelta(hours=2)).isoformat(),
                "to": (START + timedelta(hours=5)).isoformat(),
                "status": "sent",
            },
        )
        assert [m["id"] for m in window] == [str(rows[i]["id"]) for i in (3, 2)]
        for params, field in (
            ({"to": START.isoformat(), "from": START.isoformat()}, "to"),
            ({"channel": "fax"}, "channel"),
            ({"kind": "spam"}, "kind"),
            ({"cursor": "abc"}, "cursor"),
            ({"offset": "2"}, "offset"),
        ):
            answer = await http.get("/api/v1/messages", params=params)
            assert answer.status_code == 422, (params, answer.text)
            assert answer.json()["error"]["field"] == field

        # An idempotent create replayed after a cancel shows the cancel, not the first "pending".
        body = {
            "patient_id": str(patient["id"]),
            "text": "See you soon",
            "scheduled_time": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
        }
        once = {"Idempotency-Key": "ehr-msg-7"}
        first = await http.post("/api/v1/messages", json=body, headers=once)
        assert first.status_code == 201 and first.json()["status"] == "pending"
        cancelled = await http.post(f"/api/v1/messages/{first.json()['id']}/cancel")
        assert cancelled.status_code == 200
        replay = await http.post("/api/v1/messages", json=body, headers=once)
        assert replay.status_code == 201 and replay.headers["idempotent-replayed"] == "true"
        assert replay.json()["id"] == first.json()["id"]
        assert replay.json()["status"] == "cancelled"
