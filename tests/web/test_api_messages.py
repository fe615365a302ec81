"""``/api/v1`` keys and scheduled messages: create, list, get, cancel, idempotency, isolation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from tests.factories import create_message, create_patient
from tests.web.conftest import count


def _in(minutes: int) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


def _body(patient, **overrides):
    return {
        "patient_id": str(patient["id"]),
        "text": "Your lab results are ready",
        "scheduled_time": _in(30),
    } | overrides


BAD_KEYS = [None, "", "Bearer", "Bearer mr_nope", "Basic abc", "Bearer mr_abc_def", "bearer x y"]


async def test_missing_or_bad_key_is_401(client, admin_conn, patient, api_key):
    prefix = api_key.rsplit("_", 1)[0]
    for header in [*BAD_KEYS, f"Bearer {prefix}_wrongsecret", f"Bearer {api_key}x"]:
        headers = {"Authorization": header} if header is not None else {}
        response = await client.post("/api/v1/messages", json=_body(patient), headers=headers)
        assert response.status_code == 401, header
        assert response.json()["error"]["code"] == "unauthorized"
        assert (await client.get("/api/v1/messages", headers=headers)).status_code == 401
    assert await count(admin_conn, "scheduled_messages") == 0


async def test_key_is_stored_hashed_and_revocable(client, admin_conn, api_key, auth):
    row = await admin_conn.fetchrow("select prefix, key_hash from api_keys")
    assert api_key.startswith(f"mr_{row['prefix']}_")
    assert api_key.split("_", 2)[2] not in row["key_hash"]
    assert (await client.get("/api/v1/messages", headers=auth)).status_code == 200
    await admin_conn.execute("update api_keys set revoked_at = now()")
    assert (await client.get("/api/v1/messages", headers=auth)).status_code == 401


async def test_create_get_list_cancel(client, admin_conn, patient, auth):
    # No quiet hours: at night in Berlin the answer would warn that they hold the message.
    await admin_conn.execute(
        "update organizations set default_quiet_start = '00:00', default_quiet_end = '00:00'"
    )
    created = await client.post(
        "/api/v1/messages", json=_body(patient, priority=2, platform="telegram"), headers=auth
    )
    assert created.status_code == 201, created.text
    message = created.json()
    # The create's own answer: nothing stands in the way (docs/api.md "A patient no channel can
    # reach"); the message itself is what GET shows.
    assert message.pop("warnings") == []
    assert message["status"] == "pending"
    assert message["text"] == "Your lab results are ready"
    assert (message["priority"], message["platform"]) == (2, "telegram")
    row = await admin_conn.fetchrow("select * from scheduled_messages")
    assert str(row["id"]) == message["id"]
    assert row["organization_id"] is not None

    got = await client.get(f"/api/v1/messages/{message['id']}", headers=auth)
    assert got.status_code == 200
    assert got.json() == message

    listed = await client.get(
        "/api/v1/messages",
        params={"status": "pending", "patient_id": message["patient_id"]},
        headers=auth,
    )
    assert [m["id"] for m in listed.json()["data"]] == [message["id"]]
    assert listed.json()["next_cursor"] is None
    assert (await client.get("/api/v1/messages?status=sent", headers=auth)).json()["data"] == []

    # Changed while pending (PATCH, migration 20260101018500): its text, its time, or both.
    url = f"/api/v1/messages/{message['id']}"
    later = _in(90)
    # As the worker leaves a message its patient's quiet hours hold: the note is of the old time.
    await admin_conn.execute(
        "update scheduled_messages set last_error = 'deferred to the end of quiet hours'"
    )
    changed = await client.patch(
        url, json={"text": "Results: call us", "scheduled_time": later}, headers=auth
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["text"], changed.json()["status"]) == ("Results: call us", "pending")
    assert (
        changed.json()["scheduled_time"]
        == (await client.get(url, headers=auth)).json()["scheduled_time"]
    )
    assert datetime.fromisoformat(changed.json()["scheduled_time"]) == datetime.fromisoformat(later)
    assert (changed.json()["warnings"], changed.json()["last_error"]) == ([], None)
    # The patient sent STOP since (their only channel): as a create, a change that leaves the
    # message due within 15 minutes is refused (it would fail unsent at once), naming the time;
    # a later one is changed with the create's warning. Before, both were changed silently.
    await admin_conn.execute(
        "update contact_points set opted_out_at = now() where patient_id = $1", patient["id"]
    )
    soon = await client.patch(url, json={"text": "Call us", "scheduled_time": _in(5)}, headers=auth)
    assert (soon.status_code, soon.json()["error"]["field"]) == (422, "scheduled_time"), soon.text
    assert soon.json()["error"]["reason"].startswith(
        "No channel reaches this patient now: each of their contact points is opted out (STOP),"
        " blocked or inactive, or they have none. The message, due at the `scheduled_time` given"
        " within 15 minutes, would fail unsent."
    ), soon.json()
    assert "15 minutes or more ahead" in soon.json()["error"]["reason"]
    kept = await client.get(url, headers=auth)
    assert (kept.json()["text"], kept.json()["scheduled_time"]) == (
        "Results: call us",
        changed.json()["scheduled_time"],
    )
    warned = await client.patch(url, json={"text": "Results: please call us"}, headers=auth)
    assert warned.status_code == 200, warned.text
    [unreachable] = warned.json()["warnings"]
    assert (unreachable["code"], unreachable["field"]) == ("patient_unreachable", "patient_id")
    assert "The message is changed, but fails unsent when due" in unreachable["message"]
    await admin_conn.execute(
        "update contact_points set opted_out_at = null where patient_id = $1", patient["id"]
    )
    for body, field in (
        ({}, "body"),
        ({"text": None}, "text"),
        ({"text": "   "}, "text"),
        ({"text": "x" * 5000}, "text"),
        ({"scheduled_time": _in(-60)}, "scheduled_time"),
    ):
        refused = await client.patch(url, json=body, headers=auth)
        assert refused.status_code == 422, body
        assert refused.json()["error"]["field"] == field
    # Not before its expiry, nor a text for a template's message, nor the service's reminder.
    expiring = await create_message(
        admin_conn,
        patient["id"],
        from_clinic=True,
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )
    refused = await client.patch(
        f"/api/v1/messages/{expiring['id']}", json={"scheduled_time": _in(120)}, headers=auth
    )
    assert (refused.status_code, refused.json()["error"]["field"]) == (422, "scheduled_time")
    assert "expires_at" in refused.json()["error"]["reason"]
    templated = await create_message(
        admin_conn, patient["id"], from_clinic=True, message_content=None, template="notice"
    )
    refused = await client.patch(
        f"/api/v1/messages/{templated['id']}", json={"text": "Hi"}, headers=auth
    )
    assert (refused.status_code, refused.json()["error"]["field"]) == (422, "text")
    reminder = await create_message(admin_conn, patient["id"], kind="medication_reminder")
    refused = await client.patch(
        f"/api/v1/messages/{reminder['id']}", json={"text": "Hi"}, headers=auth
    )
    assert refused.status_code == 409
    assert "only a message your clinic wrote" in refused.json()["error"]["reason"]
    absent = await client.patch(
        f"/api/v1/messages/{uuid.uuid4()}", json={"text": "Hi"}, headers=auth
    )
    assert absent.status_code == 404

    cancelled = await client.post(f"/api/v1/messages/{message['id']}/cancel", headers=auth)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    again = await client.post(f"/api/v1/messages/{message['id']}/cancel", headers=auth)
    assert again.status_code == 409
    assert "pending" in again.json()["error"]["reason"]
    not_pending = await client.patch(url, json={"text": "Too late"}, headers=auth)
    assert not_pending.status_code == 409
    assert not_pending.json()["error"]["reason"] == (
        "only a pending message can be changed; this one is cancelled"
    )


async def test_template_message_and_paging(client, patient, auth):
    # A message may only name a template the clinic has (or a built-in kind).
    saved = await client.put(
        "/api/v1/templates/clinic_notice",
        json={"body": "News from {{ clinic_name }}"},
        headers=auth,
    )
    assert saved.status_code == 201, saved.text
    for i in range(3):
        response = await client.post(
            "/api/v1/messages",
            json={
                "patient_id": str(patient["id"]),
                "template": "clinic_notice",
                "variables": {"sender_name": f"Dr {i}"},
                "scheduled_time": _in(10 + i),
            },
            headers=auth,
        )
        assert response.status_code == 201, response.text
    page1 = (await client.get("/api/v1/messages?limit=2", headers=auth)).json()
    assert len(page1["data"]) == 2 and page1["next_cursor"]
    page2 = (
        await client.get(
            "/api/v1/messages", params={"limit": 2, "cursor": page1["next_cursor"]}, headers=auth
        )
    ).json()
    assert len(page2["data"]) == 1 and page2["next_cursor"] is None
    assert page2["data"][0]["variables"] == {"sender_name": "Dr 0"}


async def test_only_pending_messages_can_be_cancelled(client, admin_conn, patient, auth):
    sent = await create_message(admin_conn, patient["id"], status="sent")
    response = await client.post(f"/api/v1/messages/{sent['id']}/cancel", headers=auth)
    assert response.status_code == 409


async def test_idempotency_key_returns_first_response(client, admin_conn, patient, auth):
    body = _body(patient)
    headers = {**auth, "Idempotency-Key": "order-42"}
    first = await client.post("/api/v1/messages", json=body, headers=headers)
    second = await client.post("/api/v1/messages", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers.get("idempotent-replayed") == "true"
    assert await count(admin_conn, "scheduled_messages") == 1

    different = await client.post(
        "/api/v1/messages", json=_body(patient, text="Something else"), headers=headers
    )
    assert different.status_code == 409
    assert different.json()["error"]["field"] == "Idempotency-Key"
    assert await count(admin_conn, "scheduled_messages") == 1
    # Another key, or no key, creates another message.
    other = await client.post(
        "/api/v1/messages", json=body, headers={**auth, "Idempotency-Key": "order-43"}
    )
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]


async def test_idempotency_keys_are_per_organization(
    client, admin_conn, patient, auth, other_org, other_auth
):
    theirs = await create_patient(admin_conn, other_org["id"])
    key = {"Idempotency-Key": "shared-key"}
    mine = await client.post("/api/v1/messages", json=_body(patient), headers={**auth, **key})
    other = await client.post("/api/v1/messages", json=_body(theirs), headers={**other_auth, **key})
    assert mine.status_code == other.status_code == 201
    assert mine.json()["id"] != other.json()["id"]


INVALID = [
    ({"patient_id": None}, "patient_id"),
    ({"patient_id": "not-a-uuid"}, "patient_id"),
    ({"patient_id": str(uuid.uuid4())}, "patient_id"),
    ({"text": None}, "text"),
    ({"text": ""}, "text"),
    ({"text": "x" * 4097}, "text"),
    ({"template": "t"}, "text"),
    ({"scheduled_time": "2020-01-01T08:00:00Z"}, "scheduled_time"),
    ({"scheduled_time": "2099-01-01T08:00:00"}, "scheduled_time"),
    ({"scheduled_time": "tomorrow"}, "scheduled_time"),
    ({"expires_at": "2020-01-01T08:00:00Z"}, "expires_at"),
    ({"scheduled_time": _in(60), "expires_at": _in(30)}, "expires_at"),
    ({"priority": 10}, "priority"),
    ({"priority": True}, "priority"),
    ({"platform": "pigeon"}, "platform"),
    ({"kind": "spam"}, "kind"),
    ({"urgent": "yes"}, "urgent"),
    ({"variables": {"a": 1}}, "variables.a"),
    ({"colour": "red"}, "colour"),
]


async def test_invalid_fields_are_422_naming_the_field(client, admin_conn, patient, auth):
    for change, field in INVALID:
        body = {k: v for k, v in (_body(patient) | change).items() if v is not None}
        response = await client.post("/api/v1/messages", json=body, headers=auth)
        assert response.status_code == 422, (change, response.text)
        error = response.json()["error"]
        assert error["field"] == field, change
        assert error["reason"]
    assert await count(admin_conn, "scheduled_messages") == 0


async def test_text_with_variables_is_a_422_saying_how_to_fill_them(
    client, admin_conn, patient, auth
):
    """A `text` is sent as it is: `variables` beside it were stored, shown back, and never
    used (201, the values silently dropped). Now a 422 on `variables` that says so and how to
    fill values in (a template); the OpenAPI schema says it too. An empty `variables` asks for
    nothing and stays accepted."""
    body = _body(patient, variables={"patient_name": "Ana"})
    response = await client.post("/api/v1/messages", json=body, headers=auth)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == "variables"
    assert "sent as it is" in error["reason"] and "template" in error["reason"], error
    assert await count(admin_conn, "scheduled_messages") == 0
    plain = await client.post("/api/v1/messages", json=_body(patient, variables={}), headers=auth)
    assert plain.status_code == 201, plain.text
    schema = (await client.get("/api/v1/openapi.json")).json()
    described = schema["components"]["schemas"]["MessageCreate"]["properties"]["variables"]
    assert "not with `text`" in described["description"]


async def test_bad_query_parameters_and_bodies(client, auth):
    for query, field in (
        ("status=lost", "status"),
        ("patient_id=abc", "patient_id"),
        ("limit=0", "limit"),
        ("limit=x", "limit"),
        ("offset=2", "offset"),  # pages go by cursor: an unknown parameter
        ("cursor=x", "cursor"),
        ("channel=pigeon", "channel"),
        ("from=yesterday", "from"),
    ):
        response = await client.get(f"/api/v1/messages?{query}", headers=auth)
        assert response.status_code == 422
        assert response.json()["error"]["field"] == field
    response = await client.post(
        "/api/v1/messages", content=b"{", headers={**auth, "content-type": "application/json"}
    )
    assert response.status_code == 400
    response = await client.post(
        "/api/v1/messages", content=b"a=b", headers={**auth, "content-type": "text/plain"}
    )
    assert response.status_code == 415
    response = await client.post("/api/v1/messages", json=[1, 2], headers=auth)
    assert response.status_code == 422 and response.json()["error"]["field"] == "body"


async def test_another_organization_sees_nothing(
    client, admin_conn, patient, auth, other_auth, other_org
):
    mine = (await client.post("/api/v1/messages", json=_body(patient), headers=auth)).json()
    assert (
        await client.get(f"/api/v1/messages/{mine['id']}", headers=other_auth)
    ).status_code == 404
    listed = await client.get(
        "/api/v1/messages", params={"patient_id": mine["patient_id"]}, headers=other_auth
    )
    assert listed.json()["data"] == []
    assert (await client.get("/api/v1/messages", headers=other_auth)).json()["data"] == []
    response = await client.post(f"/api/v1/messages/{mine['id']}/cancel", headers=other_auth)
    assert response.status_code == 404
    response = await client.patch(
        f"/api/v1/messages/{mine['id']}", json={"text": "Not yours"}, headers=other_auth
    )
    assert response.status_code == 404
    # Nor can it schedule a message for our patient.
    response = await client.post("/api/v1/messages", json=_body(patient), headers=other_auth)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "patient_id"
    status = await admin_conn.fetchval("select status from scheduled_messages")
    assert status == "pending"
    assert await count(admin_conn, "scheduled_messages") == 1
