"""Clinic settings over the API and admin-only operations, over a real web process: any key
reads the settings, only an admin's key changes them (and templates, webhooks, provider
accounts); a clinician's key gets a 403 that says which key it needs, before its body is read;
a change is audited as the key."""

from __future__ import annotations

import httpx

from medremind.api_keys import create_api_key
from tests.web.processes import clinic_key


async def test_settings_and_admin_only_operations(db, admin_conn, web_process):
    org, admin_key = await clinic_key(db, admin_conn, "Roles Clinic")
    clinician_key = await create_api_key(db.pool, str(org["id"]), "front desk", role="clinician")
    _, base = await web_process()
    admin = httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {admin_key}"}, timeout=30
    )
    clinician = httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {clinician_key}"}, timeout=30
    )
    async with admin, clinician:
        read = await clinician.get("/api/v1/clinic")
        assert read.status_code == 200, read.text
        assert read.json()["id"] == str(org["id"]) and read.json()["name"] == "Roles Clinic"

        change = {
            "name": "Roles Clinic West",
            "timezone": "Europe/Madrid",
            "locale": "es",
            "contact_phone": "+34600000001",
            "appointment_reminder_offsets": [2880, 60],
            "default_quiet_start": "22:00",
            "default_quiet_end": "07:30",
        }
        refused = await clinician.patch("/api/v1/clinic", json=change)
        assert refused.status_code == 403
        assert "admin" in refused.json()["error"]["reason"]
        changed = await admin.patch("/api/v1/clinic", json=change)
        assert changed.status_code == 200, changed.text
        assert {k: changed.json()[k] for k in change} == change
        assert (await clinician.get("/api/v1/clinic")).json() == changed.json()
        cleared = await admin.patch("/api/v1/clinic", json={"contact_phone": None})
        assert cleared.json()["contact_phone"] is None
        assert cleared.json()["timezone"] == "Europe/Madrid"
        audit = await admin_conn.fetch(
            "select actor from audit_log where organization_id = $1 and entity = 'organization'",
            org["id"],
        )
        assert audit and all(a["actor"].startswith("api_key:") for a in audit)
        invalid: list[tuple[dict[str, object], str]] = [
            ({}, "body"),
            ({"name": "x" * 61}, "name"),
            ({"timezone": None}, "timezone"),
            ({"appointment_reminder_offsets": [0]}, "appointment_reminder_offsets[0]"),
            ({"default_quiet_start": "22:00"}, "default_quiet_end"),
            ({"contact_email": "nobody"}, "contact_email"),
            ({"caps": {}}, "caps"),
        ]
        for body, field in invalid:
            answer = await admin.patch("/api/v1/clinic", json=body)
            assert answer.status_code == 422, (body, answer.text)
            assert answer.json()["error"]["field"] == field, body

        # The admin's operations: 403 for the clinician's key, even with a hostile body.
        template = {"body": "Hello {{ patient_name }}", "kind": "free_text"}
        webhook = {"url": "https://ehr.example.org/hooks"}
        for method, path, payload in (
            ("PUT", "/api/v1/templates/welcome", template),
            ("POST", "/api/v1/webhooks", webhook),
            ("GET", "/api/v1/webhooks", None),
            ("GET", "/api/v1/provider-accounts", None),
            ("DELETE", "/api/v1/provider-accounts/sms", None),
        ):
            answer = await clinician.request(method, path, json=payload)
            assert answer.status_code == 403, (method, path, answer.text)
        deep = b"[" * 5000 + b"]" * 5000
        answer = await clinician.patch(
            "/api/v1/clinic", content=deep, headers={"content-type": "application/json"}
        )
        assert answer.status_code == 403
        assert (await admin.put("/api/v1/templates/welcome", json=template)).status_code == 201
        assert (await admin.get("/api/v1/webhooks")).status_code == 200
        # The daily work stays open to the clinician's key.
        assert (await clinician.post("/api/v1/patients", json={})).status_code == 201
        checked = await clinician.post("/api/v1/templates/validate", json=template)
        assert checked.status_code == 200
        assert (await clinician.get("/api/v1/templates")).status_code == 200
