"""What the API refuses when it is asked, over a real ``medremind web`` process, rather than
accept and fail (or quietly do something else) later: a locale the bot has no texts in, a
channel order that reaches none of the patient's channels, a message to a patient who has not
consented yet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests.factories import create_patient
from tests.web.processes import clinic_key


def _client(base: str, key: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30)


async def test_a_locale_the_bot_does_not_speak_is_refused(db, admin_conn, web_process):
    org, key = await clinic_key(db, admin_conn, "Locale Clinic")
    patient = await create_patient(admin_conn, org["id"], locale="en")
    _, base = await web_process()
    async with _client(base, key) as http:
        created = await http.post("/api/v1/patients", json={"locale": "fr"})
        assert created.status_code == 422
        error = created.json()["error"]
        assert error["field"] == "locale"
        assert error["reason"] == "is not a language the bot speaks; use one of en, es"

        changed = await http.patch(f"/api/v1/patients/{patient['id']}", json={"locale": "fr"})
        assert changed.status_code == 422
        assert changed.json()["error"]["field"] == "locale"
        assert "en, es" in changed.json()["error"]["reason"]

        # A regional tag of a language the bot has: told which one to use.
        regional = await http.patch(f"/api/v1/patients/{patient['id']}", json={"locale": "es-MX"})
        assert regional.status_code == 422
        assert "use 'es'" in regional.json()["error"]["reason"]

        # The clinic's default (new patients get it) and a template's language alike.
        clinic = await http.patch("/api/v1/clinic", json={"locale": "de"})
        assert clinic.status_code == 422
        assert clinic.json()["error"]["field"] == "locale"
        template = await http.put("/api/v1/templates/hello", json={"body": "Hi", "locale": "fr"})
        assert template.status_code == 422
        assert template.json()["error"]["field"] == "locale"

        # Nothing was changed or created; a language the bot has is taken.
        assert await admin_conn.fetchval("select count(*) from patients") == 1
        assert (await http.get("/api/v1/clinic")).json()["locale"] != "de"
        spanish = await http.patch(f"/api/v1/patients/{patient['id']}", json={"locale": "es"})
        assert spanish.status_code == 200
        assert spanish.json()["locale"] == "es"
        new = await http.post("/api/v1/patients", json={"locale": "es", "consent": True})
        assert new.status_code == 201
        assert new.json()["locale"] == "es"


async def test_a_channel_order_that_reaches_none_of_the_patients_channels_is_refused(
    db, admin_conn, web_process
):
    org, key = await clinic_key(db, admin_conn, "Order Clinic")
    patient = await create_patient(
        admin_conn, org["id"], contacts={"sms": "+15005550111", "email": "o@example.org"}
    )
    joining = await create_patient(admin_conn, org["id"], contacts={}, consent_at=None)
    _, base = await web_process()
    async with _client(base, key) as http:
        path = f"/api/v1/patients/{patient['id']}"
        refused = await http.patch(path, json={"channel_order": ["telegram", "whatsapp"]})
        assert refused.status_code == 422
        error = refused.json()["error"]
        assert error["field"] == "channel_order"
        assert "their channels: sms, email" in error["reason"]
        assert (await http.get(path)).json()["channel_order"] == ["sms", "email"]

        # Channels they lack next to one they have: fine (they may add them).
        taken = await http.patch(path, json={"channel_order": ["telegram", "email"]})
        assert taken.status_code == 200
        assert taken.json()["channel_order"] == ["telegram", "email"]

        # A patient with no contact point yet (to join by invite) takes any order.
        later = await http.patch(
            f"/api/v1/patients/{joining['id']}", json={"channel_order": ["whatsapp"]}
        )
        assert later.status_code == 200


async def test_a_message_to_a_patient_who_has_not_consented_is_refused(db, admin_conn, web_process):
    org, key = await clinic_key(db, admin_conn, "Consent Clinic")
    invited = await create_patient(
        admin_conn, org["id"], contacts={"sms": "+15005550121"}, consent_at=None, status="invited"
    )
    _, base = await web_process()
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    async with _client(base, key) as http:
        for body in (
            {"text": "Your results are ready"},
            {"template": "free_text", "variables": {"body": "Your results are ready"}},
        ):
            refused = await http.post(
                "/api/v1/messages",
                json={"patient_id": str(invited["id"]), "scheduled_time": later, **body},
            )
            assert refused.status_code == 409, refused.text
            error = refused.json()["error"]
            assert error["field"] == "patient_id"
            assert error["reason"].startswith("this patient has not consented yet")
            assert "/invites" in error["reason"]
        assert await admin_conn.fetchval("select count(*) from scheduled_messages") == 0

        # A service notice goes without consent, as the worker sends it.
        notice = await http.post(
            "/api/v1/messages",
            json={"patient_id": str(invited["id"]), "text": "Welcome", "kind": "system"},
        )
        assert notice.status_code == 201, notice.text

        # Once the patient has consented, the same message is taken.
        await admin_conn.execute(
            "update patients set consent_at = now(), status = 'active' where id = $1",
            invited["id"],
        )
        taken = await http.post(
            "/api/v1/messages",
            json={"patient_id": str(invited["id"]), "text": "Your results are ready"},
        )
        assert taken.status_code == 201, taken.text
