"""The public API neither offers nor takes the ``console`` channel, over a real ``medremind web``
process and its OpenAPI document.

Found in the running API: ``channel_order`` (and a message's ``platform``, a category's
``channel``) listed ``console``, the terminal of ``medremind dev``, where the person at the
keyboard chats as a patient through the bot (never through the API). An integrator could put a
patient on it: their reminders would be printed on the service's standard output instead of
reaching them. The API now refuses it with the channels it takes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests.factories import create_patient
from tests.web.processes import clinic_key

ALLOWED = "must be one of telegram, whatsapp, sms or email"


async def test_console_is_neither_offered_nor_taken(db, admin_conn, web_process):
    org, key = await clinic_key(db, admin_conn, "Console Clinic")
    patient = await create_patient(admin_conn, org["id"], contacts={"sms": "+15005550131"})
    _, base = await web_process()
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30
    ) as http:
        schema = (await http.get("/api/v1/openapi.json")).json()
        offered = str(
            [
                schema["components"]["schemas"][name]
                for name in ("PatientCreate", "PatientUpdate", "MessageCreate", "ClinicChoice")
            ]
        )
        assert "console" not in offered

        path = f"/api/v1/patients/{patient['id']}"
        order = await http.patch(path, json={"channel_order": ["sms", "console"]})
        assert order.status_code == 422, order.text
        assert order.json()["error"]["field"] == "channel_order[1]"
        assert order.json()["error"]["reason"].startswith(ALLOWED)
        created = await http.post("/api/v1/patients", json={"channel_order": ["console"]})
        assert created.status_code == 422, created.text
        assert created.json()["error"]["field"] == "channel_order[0]"

        later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        message = await http.post(
            "/api/v1/messages",
            json={
                "patient_id": str(patient["id"]),
                "text": "Hello",
                "scheduled_time": later,
                "platform": "console",
            },
        )
        assert message.status_code == 422, message.text
        assert message.json()["error"]["field"] == "platform"
        assert message.json()["error"]["reason"].startswith("must be one of telegram")

        category = await http.put(
            f"{path}/preferences", json={"categories": {"medication": {"channel": "console"}}}
        )
        assert category.status_code == 422, category.text
        assert category.json()["error"]["reason"].startswith(ALLOWED)

        # Nothing changed; the channels a patient can have are taken as before.
        assert (await http.get(path)).json()["channel_order"] == ["sms"]
        assert await admin_conn.fetchval("select count(*) from scheduled_messages") == 0
        taken = await http.patch(path, json={"channel_order": ["sms", "email"]})
        assert taken.status_code == 200, taken.text


async def test_the_message_list_filters_by_no_console(db, admin_conn, web_process):
    """``GET /messages?channel=`` offered ``console`` after the API stopped taking it anywhere
    else (left by session 27): the filter now offers the channels a message can go out on."""
    _, key = await clinic_key(db, admin_conn, "Console Filter Clinic")
    _, base = await web_process()
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30
    ) as http:
        schema = (await http.get("/api/v1/openapi.json")).json()
        listing = schema["paths"]["/api/v1/messages"]["get"]["parameters"]
        channel = next(p for p in listing if p["name"] == "channel")
        assert "console" not in str(channel["schema"])
        assert "sms" in str(channel["schema"])

        refused = await http.get("/api/v1/messages", params={"channel": "console"})
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["field"] == "channel"
        assert refused.json()["error"]["reason"].startswith("must be one of telegram")
        assert (await http.get("/api/v1/messages", params={"channel": "sms"})).status_code == 200
