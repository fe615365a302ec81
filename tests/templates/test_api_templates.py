"""``/api/v1/templates``: validate, save (validated) and list; messages naming a template."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.templates.conftest import add_template
from tests.web.conftest import count


async def _validate(client, auth, **body):
    response = await client.post("/api/v1/templates/validate", json=body, headers=auth)
    result = response.json()
    # 200 for a template that can be saved, 422 (the error document, plus every problem).
    assert response.status_code == (200 if result["ok"] else 422), response.text
    if not result["ok"]:
        assert result["error"]["field"] == "body"
        assert result["error"]["reason"] == "; ".join(result["problems"])
    return result


async def test_validate_gives_preview_length_and_segments(client, auth):
    result = await _validate(
        client, auth, body="Hi {{ patient_name }}, see you at {{ clinic_name }}.", channel="sms"
    )
    assert result["ok"] is True and result["problems"] == []
    assert result["preview"] == "Hi Alexandra Example, see you at Riverside Family Clinic."
    assert result["length"] == len(result["preview"])
    assert (result["segments"], result["encoding"]) == (1, "GSM-7")
    assert "patient_name" in result["allowed_variables"]
    assert "starts_at" not in result["allowed_variables"]

    appointment = await _validate(
        client,
        auth,
        body="{{ patient_name }}: {{ starts_at|datetime }} with {{ clinician_name }}",
        kind="appointment_reminder",
    )
    assert appointment["ok"], appointment["problems"]
    assert "Jan 16, 2025" in appointment["preview"]


async def test_validate_names_every_problem(client, auth):
    unknown = await _validate(client, auth, body="Hi {{ patient_nmae }}")
    assert not unknown["ok"] and "preview" not in unknown
    assert "unknown variable 'patient_nmae'" in unknown["problems"][0]
    # The medicine is a medication kind's variable, not a free message's.
    medicine = await _validate(client, auth, body="{{ medicine_name }}", kind="free_text")
    assert "unknown variable 'medicine_name'" in medicine["problems"][0]
    assert (await _validate(client, auth, body="{{ medicine_name }}", kind="medication_reminder"))[
        "ok"
    ]
    syntax = await _validate(client, auth, body="Hi {{ patient_name ")
    assert "syntax error" in syntax["problems"][0]
    long = await _validate(client, auth, body="Hello {{ patient_name }}! " * 30, channel="sms")
    assert "too long for sms" in long["problems"][0]
    # A default version may go out by SMS: it is held to SMS's limit too.
    default = await _validate(client, auth, body="Hello {{ patient_name }}! " * 30)
    assert "too long for sms" in default["problems"][0]
    assert (await _validate(client, auth, body="Hello " * 30, channel="email"))["ok"]


ESCAPES = {
    "{{ ''.__class__ }}": "attribute '__class__' is not allowed",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}": "attribute '__class__' is not allowed",
    "{{ patient_name|attr('format') }}": "the 'attr' filter is not allowed",
    "{{ patient_name.format(1) }}": "calling functions or methods is not allowed",
    "{{ patient_name['__class__'] }}": "access to item '__class__' is not allowed",
    "{% include 'x' %}": "including or importing other templates is not allowed",
    "{{ lipsum }}": "unknown variable 'lipsum'",
    "{% for x in range(9) %}{{ x }}{% endfor %}": "calling functions or methods is not allowed",
}


async def test_sandbox_escapes_are_refused_by_validate_and_put(
    client,
    auth,
    admin_conn,
) -> None:
    for source, reason in ESCAPES.items():
        result = await _validate(client, auth, body=source)
        assert not result["ok"], source
        assert any(reason in p for p in result["problems"]), (source, result["problems"])
        response = await client.put("/api/v1/templates/sneaky", json={"body": source}, headers=auth)
        assert response.status_code == 422, source
        error = response.json()["error"]
        assert error["field"] == "body"
        assert error["reason"].startswith("template 'sneaky' (en, default): ")
        assert reason in error["reason"]
    assert await count(admin_conn, "message_templates") == 0


async def test_put_creates_replaces_and_lists_per_locale_and_channel(
    client,
    auth,
    other_auth,
    admin_conn,
) -> None:
    created = await client.put(
        "/api/v1/templates/checkup",
        json={"body": "Hi {{ patient_name }}, time for your check-up."},
        headers=auth,
    )
    assert created.status_code == 201, created.text
    assert created.json()["locale"] == "en" and created.json()["channel"] == "default"
    spanish = await client.put(
        "/api/v1/templates/checkup",
        json={"body": "Hola {{ patient_name }}.", "locale": "es", "channel": "sms"},
        headers=auth,
    )
    assert spanish.status_code == 201, spanish.text
    replaced = await client.put(
        "/api/v1/templates/checkup",
        json={"body": "Hi {{ patient_name }}!", "subject": "From {{ clinic_name }}"},
        headers=auth,
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["id"] == created.json()["id"]

    listed = (await client.get("/api/v1/templates", headers=auth)).json()["data"]
    assert [(t["name"], t["locale"], t["channel"], t["body"]) for t in listed] == [
        ("checkup", "en", "default", "Hi {{ patient_name }}!"),
        ("checkup", "es", "sms", "Hola {{ patient_name }}."),
    ]
    assert listed[0]["subject"] == "From {{ clinic_name }}"
    # Another clinic sees none of them.
    assert (await client.get("/api/v1/templates", headers=other_auth)).json()["data"] == []

    bad_subject = await client.put(
        "/api/v1/templates/checkup", json={"body": "Hi", "subject": "{{ x }}"}, headers=auth
    )
    assert bad_subject.status_code == 422
    assert bad_subject.json()["error"]["field"] == "subject"
    for body, field in (
        ({"body": "Hi", "channel": "pigeon"}, "channel"),
        ({"body": "Hi", "locale": "not a locale"}, "locale"),
        ({"body": "Hi", "colour": "red"}, "colour"),
        ({"channel": "sms"}, "body"),
    ):
        response = await client.put("/api/v1/templates/checkup", json=body, headers=auth)
        assert response.status_code == 422, body
        assert response.json()["error"]["field"] == field
    assert (await client.get("/api/v1/templates")).status_code == 401


def _message(patient, template, **extra):
    when = (datetime.now(UTC) + timedelta(minutes=30)).isoformat()
    return {"patient_id": str(patient["id"]), "template": template, "scheduled_time": when} | extra


async def test_message_creation_checks_the_template(
    client,
    auth,
    admin_conn,
    org,
    other_org,
    patient,
) -> None:
    unknown = await client.post("/api/v1/messages", json=_message(patient, "nope"), headers=auth)
    assert unknown.status_code == 422
    assert unknown.json()["error"]["field"] == "template"
    assert "'nope'" in unknown.json()["error"]["reason"]

    # Another clinic's template of that name does not count.
    await add_template(admin_conn, other_org["id"], "theirs", "Hello")
    theirs = await client.post("/api/v1/messages", json=_message(patient, "theirs"), headers=auth)
    assert theirs.status_code == 422 and "'theirs'" in theirs.json()["error"]["reason"]

    # A stored template that no longer validates (written around the API) is refused by name.
    await add_template(admin_conn, org["id"], "broken", "Hi {{ patient_nmae }}", locale="es")
    broken = await client.post("/api/v1/messages", json=_message(patient, "broken"), headers=auth)
    assert broken.status_code == 422
    reason = broken.json()["error"]["reason"]
    assert "template 'broken' (es, default)" in reason and "patient_nmae" in reason

    # A medication template used for a free message: the medicine is not available there.
    await add_template(
        admin_conn, org["id"], "pill", "Take {{ medicine_name }}", kind="medication_reminder"
    )
    as_free = await client.post("/api/v1/messages", json=_message(patient, "pill"), headers=auth)
    assert as_free.status_code == 422 and "medicine_name" in as_free.json()["error"]["reason"]
    assert await count(admin_conn, "scheduled_messages") == 0

    ours = await client.post(
        "/api/v1/messages",
        json=_message(patient, "pill", kind="medication_reminder"),
        headers=auth,
    )
    assert ours.status_code == 201, ours.text
    # A built-in text that asks about an appointment: an API message is linked to none.
    unanswerable = await client.post(
        "/api/v1/messages",
        json=_message(patient, "appointment_reminder", kind="appointment_reminder"),
        headers=auth,
    )
    assert unanswerable.status_code == 422, unanswerable.text
    assert unanswerable.json()["error"]["field"] == "template"
    builtin = await client.post(
        "/api/v1/messages",
        json=_message(patient, "free_text", variables={"body": "Your results are in"}),
        headers=auth,
    )
    assert builtin.status_code == 201, builtin.text
    assert ours.json()["template"] == "pill"
