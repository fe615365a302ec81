"""The API's side of issue 17 over a real web process: automatic templates (PUT with
``automatic``), the preview of an automatic message with real values, and a patient's
preferences as the clinic sees and sets them (never undoing the patient's own opt-out)."""

from __future__ import annotations

import httpx

from tests.factories import create_patient
from tests.web.processes import clinic_key

STARTS = "2027-05-03T09:30:00+00:00"
TEXT = "{{ clinic_name }}: {{ patient_name }}, {{ starts_at|time }} in {{ location }}"


async def test_automatic_templates_and_preview(db, admin_conn, web_process):
    _, key = await clinic_key(db, admin_conn, "Preview Clinic")
    _, base = await web_process()
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30
    ) as http:
        put = {"kind": "appointment_reminder", "channel": "telegram", "automatic": True}
        first = await http.put("/api/v1/templates/first", json={**put, "body": TEXT})
        assert first.status_code == 201, first.text
        assert first.json()["automatic"] is True
        # A second template of the same kind, locale and channel takes the place.
        second = await http.put(
            "/api/v1/templates/second", json={**put, "body": "Hi {{ patient_name }}"}
        )
        assert second.status_code == 201 and second.json()["automatic"] is True
        listed = {
            t["name"]: t["automatic"] for t in (await http.get("/api/v1/templates")).json()["data"]
        }
        assert listed == {"first": False, "second": True}
        refused = await http.put(
            "/api/v1/templates/compose", json={"body": "Hello", "automatic": True}
        )
        assert refused.status_code == 422 and refused.json()["error"]["field"] == "automatic"

        versions = [{"name": "first", "locale": "en", "channel": "telegram", "body": TEXT}]
        request = {
            "kind": "appointment_reminder",
            "locale": "en",
            "channel": "telegram",
            "timezone": "Europe/Madrid",
            "values": {
                "patient_name": "Ana Real",
                "clinic_name": "Lakeside",
                "starts_at": STARTS,
                "location": "Room 4",
            },
            "versions": versions,
        }
        clinic = (await http.post("/api/v1/templates/preview", json=request)).json()
        assert clinic["text"] == "Lakeside: Ana Real, 11:30 AM in Room 4"  # Madrid in May
        assert clinic["source"] == "clinic" and clinic["template"]["name"] == "first"
        spanish = (
            await http.post("/api/v1/templates/preview", json={**request, "locale": "es"})
        ).json()
        assert spanish["source"] == "builtin" and spanish["text"].startswith("Recordatorio")
        broken = [{**versions[0], "channel": "sms", "body": "Hi {{ patient_name.__class__ }}"}]
        sms = (
            await http.post(
                "/api/v1/templates/preview", json={**request, "channel": "sms", "versions": broken}
            )
        ).json()
        assert sms["source"] == "builtin" and "template 'first' (en, sms)" in sms["note"]
        assert sms["encoding"] == "GSM-7" and sms["segments"] == 1
        no_time = await http.post("/api/v1/templates/preview", json={**request, "values": {}})
        assert no_time.status_code == 422 and no_time.json()["error"]["field"] == "values.due_at"
        not_automatic = await http.post(
            "/api/v1/templates/preview", json={**request, "kind": "free_text"}
        )
        assert not_automatic.status_code == 422 and not_automatic.json()["error"]["field"] == "kind"


async def test_clinic_preferences_never_undo_the_patients_opt_out(db, admin_conn, web_process):
    org, key = await clinic_key(db, admin_conn, "Prefs Clinic")
    _, other_key = await clinic_key(db, admin_conn, "Other Clinic")
    patient = await create_patient(admin_conn, org["id"])
    await admin_conn.execute(
        "insert into patient_preferences (patient_id, category, patient_choice)"
        " values ($1, 'medication', 'out')",
        patient["id"],
    )
    path = f"/api/v1/patients/{patient['id']}/preferences"
    _, base = await web_process()
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30
    ) as http:
        before = (await http.get(path)).json()
        assert [(c["category"], c["opted_out"]) for c in before["categories"]] == [
            ("medication", True),
            ("appointments", False),
            ("clinic_news", False),
        ]
        assert before["appointment_reminder_offsets"] is None
        assert before["clinic_offsets"] == [1440, 120]
        changed = await http.put(
            path,
            json={
                "categories": {
                    "medication": {"clinic_choice": "in"},
                    "clinic_news": {"clinic_choice": "out"},
                    "appointments": {"channel": "sms"},
                },
                "appointment_reminder_offsets": [120, 2880],
            },
        )
        assert changed.status_code == 200, changed.text
        after = {c["category"]: c for c in changed.json()["categories"]}
        assert after["medication"]["opted_out"] is True  # the patient's "out" wins
        assert after["medication"]["patient_choice"] == "out"
        assert after["medication"]["clinic_choice"] == "in"
        assert after["clinic_news"]["opted_out"] is True
        assert after["appointments"]["channel"] == "sms"
        assert changed.json()["appointment_reminder_offsets"] == [2880, 120]
        # Left out: unchanged; null: back to the clinic's.
        assert (await http.put(path, json={})).json()["appointment_reminder_offsets"] == [2880, 120]
        cleared = await http.put(path, json={"appointment_reminder_offsets": None})
        assert cleared.json()["appointment_reminder_offsets"] is None
        bad = await http.put(path, json={"appointment_reminder_offsets": [3]})
        assert bad.status_code == 422
        assert bad.json()["error"]["field"].startswith("appointment_reminder_offsets")
        unknown = await http.put(path, json={"categories": {"news": {"clinic_choice": "out"}}})
        assert unknown.status_code == 422
        # Clinic news sent through the API is held to the clinic-news opt-out.
        news = await http.post(
            "/api/v1/messages",
            json={"patient_id": str(patient["id"]), "text": "Open day", "category": "clinic_news"},
        )
        assert news.status_code == 201, news.text
        held = await admin_conn.fetchval(
            "select public.message_category(kind, payload) = 'clinic_news'"
            " and public.patient_opted_out(patient_id, public.message_category(kind, payload))"
            " from scheduled_messages where id = $1",
            news.json()["id"],
        )
        assert held is True
        not_news = await http.post(
            "/api/v1/messages",
            json={
                "patient_id": str(patient["id"]),
                "template": "medication_reminder",
                "kind": "medication_reminder",
                "category": "clinic_news",
            },
        )
        assert not_news.status_code == 422 and not_news.json()["error"]["field"] == "category"
        # Another clinic's key: the patient does not exist.
        other = {"Authorization": f"Bearer {other_key}"}
        assert (await http.get(path, headers=other)).status_code == 404
        assert (await http.put(path, headers=other, json={})).status_code == 404
    actors = await admin_conn.fetch(
        "select actor, details->>'category' as category from audit_log"
        " where action = 'preference.changed' and entity_id = $1 order by id",
        str(patient["id"]),
    )
    assert actors[0]["actor"] == "patient"
    assert len(actors) == 4 and all(a["actor"].startswith("api_key:") for a in actors[1:])
