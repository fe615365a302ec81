"""Health, readiness, metrics, JSON errors for every status, request ids, the OpenAPI document."""

from __future__ import annotations

import asyncio
import time

from core.db import Database
from medremind.web.api_v1.application import operations
from tests.web.conftest import make_app, make_client


async def test_healthz_and_readyz(client, admin_conn):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    latest = await admin_conn.fetchval("select max(version) from medremind_migrations")
    await admin_conn.execute("delete from medremind_migrations where version = $1", latest)
    # The database is asked at most every READY_REUSE_S: the change shows within a few seconds.
    deadline = time.monotonic() + 30
    while (not_ready := await client.get("/readyz")).status_code == 200:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.2)
    assert not_ready.status_code == 503
    assert "pending" in not_ready.json()["error"]["reason"]


async def test_readyz_without_database_is_503_and_healthz_still_200(web_settings):
    app = make_app(web_settings, Database(web_settings))  # never started
    async with make_client(app) as client:
        assert (await client.get("/healthz")).status_code == 200
        response = await client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "unavailable"


async def test_every_error_is_json(web_settings, client, auth):
    for method, path, status in (
        ("GET", "/nope", 404),
        ("GET", "/api/v1/messages/not-a-uuid", 404),
        ("DELETE", "/api/v1/messages", 405),
        ("GET", "/telegram/webhook", 405),
    ):
        response = await client.request(method, path, headers=auth)
        assert response.status_code == status, path
        assert response.headers["content-type"] == "application/json"
        assert response.json()["error"]["status"] == status
    # An unexpected failure (here: no database) is a JSON 500 with the request id.
    async with make_client(make_app(web_settings, Database(web_settings))) as broken:
        response = await broken.get("/api/v1/messages", headers=auth)
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert response.headers["x-request-id"]


async def test_an_id_not_of_this_api_is_a_404_saying_what_ids_look_like(client, auth, patient):
    """Attack run: ``GET /patients/MRN-1234`` (an integrator's own id, in the path by mistake)
    and ``/webhooks/None/deliveries`` (an id their code failed to fill in) answered "patient not
    found", "webhook not found", as for an id of another clinic: nothing said the id itself
    could not be one. Still a 404 (no id of this form exists), saying what ids look like."""
    for method, path, what in (
        ("GET", "/api/v1/patients/MRN-1234", "patient"),
        ("POST", "/api/v1/messages/not-a-uuid/cancel", "message"),
        ("GET", "/api/v1/webhooks/None/deliveries", "webhook"),
        ("PATCH", f"/api/v1/patients/{patient['id']}/medications/12", "medication"),
    ):
        answer = await client.request(method, path, headers=auth, json={})
        assert answer.status_code == 404, (path, answer.text)
        reason = answer.json()["error"]["reason"]
        assert reason.startswith(f"{what} not found: "), reason
        assert "6f1c3a52-0d8e-4c1a-9a53-2f1b5a6e7d90" in reason, reason
    reason = (await client.get("/api/v1/patients/MRN-1234", headers=auth)).json()["error"]
    assert "GET /api/v1/patients?q=" in reason["reason"]
    # A well-formed id of no row (or of another clinic's) is only not found.
    absent = await client.get(f"/api/v1/messages/{patient['id']}", headers=auth)
    assert absent.json()["error"]["reason"] == "message not found"


async def test_request_id_is_echoed_or_generated(client):
    response = await client.get("/healthz", headers={"X-Request-ID": "req-abc-12345"})
    assert response.headers["x-request-id"] == "req-abc-12345"
    # Something that is not an id is replaced rather than copied into the logs.
    response = await client.get("/healthz", headers={"X-Request-ID": "<script>"})
    assert response.headers["x-request-id"] != "<script>"
    assert len(response.headers["x-request-id"]) == 32


async def test_metrics_exposes_http_and_dispatch_figures(client, auth, admin_conn, patient):
    from datetime import UTC, datetime, timedelta

    from tests.factories import create_message

    late = datetime.now(UTC) - timedelta(minutes=10)
    await create_message(admin_conn, patient["id"], platform="sms", scheduled_time=late)
    await client.get("/api/v1/messages/00000000-0000-0000-0000-000000000000", headers=auth)
    text = (await client.get("/metrics")).text
    assert 'medremind_due_messages{platform="sms"} 1.0' in text
    age = next(
        line
        for line in text.splitlines()
        if line.startswith('medremind_due_oldest_age_seconds{platform="sms"}')
    )
    assert float(age.split()[-1]) >= 590
    assert "medremind_inbound_unprocessed 0.0" in text
    assert "medremind_schedules_unplanned 0.0" in text
    assert 'route="/api/v1/messages/{message_id}"' in text
    assert "medremind_http_request_duration_seconds_bucket" in text
    assert "medremind_inbound_updates_total" in text
    assert "medremind_messages_sent" in text  # the dispatcher's, same registry


async def test_openapi_documents_every_api_route(client):
    response = await client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    documented = {
        (path, method.upper()) for path, item in document["paths"].items() for method in item
    }
    app = client._transport.app  # the ASGI app behind the client
    (api,) = [route.app for route in app.routes if getattr(route, "path", "") == "/api/v1"]
    served = {
        ("/api/v1" + path, method)
        for path, methods, _ in operations(api)
        # The document itself and the docs page's own script and style files are no operations.
        if path != "/openapi.json" and not path.startswith("/docs/assets/")
        for method in methods - {"HEAD"}
    }
    assert served == documented
