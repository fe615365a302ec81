"""``POST /api/v1/messages/group`` over a real web process: one text to the clinic's patients
matching a search, sent only as counted (``expected_count``, and for an urgent one
``expected_at_night``), each member treated as ``POST /messages`` treats one patient, another
clinic's patients never in it, and a repeated ``Idempotency-Key`` sending nobody twice."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import httpx

from tests.factories import create_patient
from tests.web.processes import clinic_key

TEXT = "The clinic is closed on Friday."


async def test_a_group_message_goes_as_counted_to_the_clinics_matches_once(
    db, admin_conn, web_process
):
    org, key = await clinic_key(db, admin_conn, "Group Clinic")
    other, _ = await clinic_key(db, admin_conn, "Other Clinic")
    ana = await create_patient(
        admin_conn, org["id"], display_name="Group Ana", contacts={"sms": "+14155550161"}
    )
    owl = await create_patient(
        admin_conn,
        org["id"],
        display_name="Group Owl",
        quiet_start=time(22),
        quiet_end=time(7),
        contacts={"sms": "+14155550162"},
    )
    stopped = await create_patient(
        admin_conn, org["id"], display_name="Group Stopped", contacts={"sms": "+14155550163"}
    )
    await admin_conn.execute(
        "update contact_points set opted_out_at = now() where patient_id = $1", stopped["id"]
    )
    invited = await create_patient(
        admin_conn,
        org["id"],
        display_name="Group Invited",
        status="invited",
        consent_at=None,
        contacts={"sms": "+14155550164"},
    )
    await create_patient(admin_conn, org["id"], display_name="Bea Other", contacts={})
    await create_patient(
        admin_conn, other["id"], display_name="Group Stranger", contacts={"sms": "+14155550165"}
    )
    _, base = await web_process()
    auth = {"Authorization": f"Bearer {key}"}
    body = {"q": "Group", "text": TEXT, "expected_count": 3}

    async def messages() -> list[tuple[object, bool]]:
        rows = await admin_conn.fetch(
            "select patient_id, urgent from scheduled_messages where message_content = $1"
            " order by patient_id",
            TEXT,
        )
        return [(r["patient_id"], r["urgent"]) for r in rows]

    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        uncounted = {"q": "Group", "text": TEXT}
        refused = await http.post("/api/v1/messages/group", headers=auth, json=uncounted)
        assert refused.status_code == 422 and refused.json()["error"]["field"] == "expected_count"
        dry = await http.post(
            "/api/v1/messages/group", headers=auth, json={**uncounted, "dry_run": True}
        )
        assert dry.status_code == 200, dry.text
        counted = dry.json()
        # At night or not depends on the hour now; the urgent case below fixes its time.
        assert (counted["count"], counted["scheduled"]) == (3, 0)
        outcomes = {m["patient_id"]: m["outcome"] for m in counted["members"]}
        assert outcomes == {
            str(ana["id"]): "scheduled",
            str(owl["id"]): "scheduled",
            str(stopped["id"]): "unreachable",
            str(invited["id"]): "not_consented",
        }
        assert await messages() == []

        wrong = await http.post(
            "/api/v1/messages/group", headers=auth, json={**body, "expected_count": 2}
        )
        assert wrong.status_code == 409, wrong.text
        assert wrong.json()["error"]["field"] == "expected_count"
        assert wrong.json()["error"]["count"] == 3
        everyone = await http.post(
            "/api/v1/messages/group", headers=auth, json={**body, "q": None, "expected_count": 3}
        )
        assert everyone.status_code == 409, everyone.text  # null is every patient: 4 now
        assert everyone.json()["error"]["count"] == 4
        assert await messages() == []

        once = {**auth, "Idempotency-Key": "friday-closure"}
        sent = await http.post("/api/v1/messages/group", headers=once, json=body)
        assert sent.status_code == 201, sent.text
        assert sent.json()["scheduled"] == 2
        again = await http.post("/api/v1/messages/group", headers=once, json=body)
        assert again.status_code == 201 and again.json() == sent.json()
        assert await messages() == sorted([(ana["id"], False), (owl["id"], False)])

        # Urgent, tomorrow 23:30 UTC: inside the owl's 22:00-07:00, so it reaches them at night.
        tomorrow = datetime.now(UTC).date() + timedelta(days=1)
        late = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 23, 30, tzinfo=UTC)
        urgent = {**body, "q": "Group O", "expected_count": 1, "urgent": True}
        urgent["scheduled_time"] = late.isoformat()
        urgent["text"] = "Urgent: the clinic is closed tomorrow."
        unsaid = await http.post("/api/v1/messages/group", headers=auth, json=urgent)
        assert unsaid.status_code == 422 and unsaid.json()["error"]["field"] == "expected_at_night"
        night = await http.post(
            "/api/v1/messages/group", headers=auth, json={**urgent, "dry_run": True}
        )
        assert night.json()["at_night"] == 1, night.text
        wrong_night = await http.post(
            "/api/v1/messages/group", headers=auth, json={**urgent, "expected_at_night": 0}
        )
        assert wrong_night.status_code == 409, wrong_night.text
        assert wrong_night.json()["error"]["field"] == "expected_at_night"
        assert "get it at night" in wrong_night.json()["error"]["reason"]
        told = await http.post(
            "/api/v1/messages/group", headers=auth, json={**urgent, "expected_at_night": 1}
        )
        assert told.status_code == 201, told.text
        assert [(m["patient_id"], m["at_night"]) for m in told.json()["members"]] == [
            (str(owl["id"]), True)
        ]
        row = await admin_conn.fetchrow(
            "select urgent, scheduled_time from scheduled_messages where id = $1",
            told.json()["members"][0]["message_id"],
        )
        assert (row["urgent"], row["scheduled_time"]) == (True, late)
