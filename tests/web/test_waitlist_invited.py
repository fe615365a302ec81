"""An invited patient (not consented yet) is refused a place on the waitlist, over a real web
process, as a booking for them is (409 on patient_id naming the invite link).

Before, ``POST /waitlist`` took them: the planner never offers a slot to a patient who has not
consented (core/sql/waitlist.sql fitting_entries; an offer would be cancelled at send, "no consent
recorded"), so the clinic saw them waiting while every freed slot went past them unsaid. An
accepted offer books an appointment, which the API refuses for them too.
"""

from __future__ import annotations

import httpx

from tests.factories import create_patient
from tests.web.processes import clinic_key


async def test_an_invited_patient_is_not_put_on_the_waitlist(db, admin_conn, web_process):
    org, key = await clinic_key(db, admin_conn, "Invite Clinic")
    invited = await create_patient(
        admin_conn, org["id"], status="invited", consent_at=None, contacts={"sms": "+14155550101"}
    )
    _, base = await web_process()
    auth = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        answer = await http.post(
            "/api/v1/waitlist", headers=auth, json={"patient_id": str(invited["id"])}
        )
        assert answer.status_code == 409, answer.text
        error = answer.json()["error"]
        assert error["field"] == "patient_id"
        assert "not consented yet (invited)" in error["reason"]
        assert "/invites" in error["reason"] and "waitlist" in error["reason"]
        listed = (await http.get("/api/v1/waitlist", headers=auth)).json()["data"]
        assert listed == []

        await admin_conn.execute(
            "update patients set status = 'active', consent_at = now() where id = $1",
            invited["id"],
        )
        joined = await http.post(
            "/api/v1/waitlist", headers=auth, json={"patient_id": str(invited["id"])}
        )
        assert joined.status_code == 201, joined.text
