"""A message to a patient no channel reaches, over a real ``medremind web`` process: refused when
it is due within 15 minutes (it would fail unsent at once), accepted later with a warning (the
patient may reply START meanwhile), with the same definition of reach as the dashboard's Compose
(``public.message_reach``, migration 20260101015200).

Before: ``auto`` (or a platform with ``allow_fallback``) to an SMS-only patient who had sent STOP
was accepted at any time, and a message due now failed at once in the worker ("no usable contact
point in the patient's channel order"); a later one was accepted silently.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.factories import create_patient
from tests.web.processes import clinic_key


def _client(base: str, key: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30)


def _in(minutes: int) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


async def _stopped_patient(db, admin_conn, clinic: str, phone: str) -> tuple[Any, str]:
    """An SMS-only patient of a new clinic who sent STOP, and the clinic's API key."""
    org, key = await clinic_key(db, admin_conn, clinic)
    patient = await create_patient(admin_conn, org["id"], contacts={"sms": phone})
    await admin_conn.execute(
        "update contact_points set opted_out_at = now() where patient_id = $1", patient["id"]
    )
    return patient, key


async def test_a_stopped_patient_is_refused_now_and_warned_later(db, admin_conn, web_process):
    patient, key = await _stopped_patient(db, admin_conn, "Stopped Clinic", "+15005550102")
    _, base = await web_process()
    body = {"patient_id": str(patient["id"]), "text": "Lab results"}
    async with _client(base, key) as http:
        # Now, in 10 minutes, on auto, on SMS and on SMS with fallback: all refused, saying why.
        for extra in (
            {},
            {"scheduled_time": _in(10)},
            {"platform": "sms"},
            {"platform": "email", "allow_fallback": True},
        ):
            refused = await http.post("/api/v1/messages", json=body | extra)
            assert refused.status_code == 409, (extra, refused.text)
            error = refused.json()["error"]
            assert error["field"] == "patient_id"
            assert error["reason"].startswith(
                "No channel reaches this patient now: each of their contact points is opted out"
                " (STOP), blocked or inactive, or they have none. A message due within 15 minutes"
                " would fail unsent. A patient who sent STOP receives messages again once they"
                " reply START"
            ), error["reason"]
            assert "invite link" in error["reason"]
            assert error["reason"].endswith(
                "or give a `scheduled_time` 15 minutes or more ahead: it is then accepted with a"
                " warning, and goes out if they can be reached by then"
            )
        assert not await admin_conn.fetch(
            "select 1 from scheduled_messages where patient_id = $1", patient["id"]
        )

        # Later: accepted, and the answer says it will fail unless they are back by then.
        later = await http.post("/api/v1/messages", json=body | {"scheduled_time": _in(20)})
        assert later.status_code == 201, later.text
        [warning] = later.json()["warnings"]
        assert warning["code"] == "patient_unreachable"
        assert warning["field"] == "patient_id"
        assert "fails unsent when due unless they can be reached by then" in warning["message"]
        assert "once they reply START" in warning["message"]
        # The GET shows the message without warnings (they belong to the create's answer).
        shown = await http.get(f"/api/v1/messages/{later.json()['id']}")
        assert "warnings" not in shown.json()

        # Once they reply START (their contact point usable again), a message now is plain.
        await admin_conn.execute(
            "update contact_points set opted_out_at = null where patient_id = $1", patient["id"]
        )
        now = await http.post("/api/v1/messages", json=body)
        assert now.status_code == 201, now.text
        assert now.json()["warnings"] == []


async def test_an_idempotent_replay_repeats_the_warning(db, admin_conn, web_process):
    patient, key = await _stopped_patient(db, admin_conn, "Replay Clinic", "+15005550103")
    _, base = await web_process()
    body = {"patient_id": str(patient["id"]), "text": "Lab results", "scheduled_time": _in(60)}
    async with _client(base, key) as http:
        first = await http.post("/api/v1/messages", json=body, headers={"Idempotency-Key": "k1"})
        again = await http.post("/api/v1/messages", json=body, headers={"Idempotency-Key": "k1"})
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["warnings"] == first.json()["warnings"] != []


async def test_a_channel_outside_the_order_is_named_with_the_fix(db, admin_conn, web_process):
    """The patient's order has only their opted-out SMS; their e-mail is usable but not in it:
    `auto` reaches nobody, and the refusal says where they can be reached and what to change."""
    org, key = await clinic_key(db, admin_conn, "Order Clinic")
    patient = await create_patient(
        admin_conn,
        org["id"],
        contacts={"sms": "+15005550104", "email": "order@example.org"},
        channel_order=["sms"],
    )
    await admin_conn.execute(
        "update contact_points set opted_out_at = now() where patient_id = $1 and channel = 'sms'",
        patient["id"],
    )
    _, base = await web_process()
    async with _client(base, key) as http:
        refused = await http.post(
            "/api/v1/messages", json={"patient_id": str(patient["id"]), "text": "Lab results"}
        )
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["reason"].startswith(
            "No channel of this patient's channel order (sms) can be written to now; they can be"
            " reached on email. A message due within 15 minutes would fail unsent. Add one of"
            " those to their channel_order (PATCH /api/v1/patients/{patient_id}), or give it as"
            " the `platform`"
        )
        by_email = await http.post(
            "/api/v1/messages",
            json={"patient_id": str(patient["id"]), "text": "Lab results", "platform": "email"},
        )
        assert by_email.status_code == 201, by_email.text
        assert by_email.json()["warnings"] == []


async def test_another_clinics_patient_is_no_patient(db, admin_conn, web_process):
    """The shared function is asked for the API key's clinic: another clinic's patient is
    `no such patient` (nothing of their reach is told)."""
    org, _ = await clinic_key(db, admin_conn, "Home Clinic")
    _, other_key = await clinic_key(db, admin_conn, "Other Clinic")
    patient = await create_patient(admin_conn, org["id"], contacts={"sms": "+15005550105"})
    await admin_conn.execute(
        "update contact_points set opted_out_at = now() where patient_id = $1", patient["id"]
    )
    _, base = await web_process()
    async with _client(base, other_key) as http:
        refused = await http.post(
            "/api/v1/messages", json={"patient_id": str(patient["id"]), "text": "Lab results"}
        )
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["reason"] == "no such patient in your organization"
