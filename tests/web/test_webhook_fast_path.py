"""The lean ASGI path of ``POST /telegram/webhook`` answers like the Starlette route it bypasses:
same statuses and bodies, the update stored before the 200, request id, access log line and HTTP
metrics as the middleware gives them; every other request still goes through Starlette."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from starlette.applications import Starlette
from starlette.types import Message, Receive, Scope, Send

from core.db import Database
from core.logs import configure_logging
from medremind.web.fast_webhook import TelegramWebhookFastPath
from medremind.web.state import WebState
from medremind.web.telegram_webhook import answer_update
from tests.fakes.fake_telegram import callback_update, text_update
from tests.web.conftest import INTERNAL_BASE_URL, WEBHOOK_SECRET, count, make_app, make_client

SECRET = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
ROUTE = "/telegram/webhook"


def _requests(status: int) -> float:
    labels = {"method": "POST", "route": ROUTE, "status": str(status)}
    return REGISTRY.get_sample_value("medremind_http_requests_total", labels) or 0.0


def _inbound(outcome: str) -> float:
    labels = {"channel": "telegram", "outcome": outcome}
    return REGISTRY.get_sample_value("medremind_inbound_updates_total", labels) or 0.0


def _starlette_only(app: Starlette) -> Any:
    """The same app without the lean path: Starlette's own middleware stack and router."""
    stack = Starlette.build_middleware_stack(app)

    async def call(scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = app
        await stack(scope, receive, send)

    return call


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Everything logged at INFO through the service's JSON handler and redaction filter."""
    root = logging.getLogger()
    level = root.level
    stream = io.StringIO()
    handler = configure_logging("INFO", stream=stream)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def test_the_app_puts_the_lean_path_in_front(client):
    app = client._transport.app
    await client.get("/healthz")
    assert isinstance(app.middleware_stack, TelegramWebhookFastPath)


async def test_wrong_secret_is_403_counted_and_stores_nothing(client, admin_conn):
    rejected, forbidden = _inbound("rejected"), _requests(403)
    for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
        response = await client.post(ROUTE, json=callback_update(555000901, "x"), headers=headers)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"
        assert len(response.headers["x-request-id"]) == 32
    assert await count(admin_conn, "inbound_messages") == 0
    assert _inbound("rejected") == rejected + 2
    assert _requests(403) == forbidden + 2


async def test_right_secret_is_200_stored_and_counted(client, admin_conn):
    stored, ok = _inbound("stored"), _requests(200)
    update = callback_update(555000902, "x:unknown")
    response = await client.post(
        ROUTE, json=update, headers={**SECRET, "X-Request-ID": "req-fast-0001"}
    )
    assert response.status_code == 200
    assert response.json() == {
        "method": "answerCallbackQuery",
        "callback_query_id": update["callback_query"]["id"],
    }
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-request-id"] == "req-fast-0001"
    row = await admin_conn.fetchrow("select provider_message_id, status from inbound_messages")
    assert row["provider_message_id"] == str(update["update_id"])
    # Processing ran after the response, from the same background task as through Starlette.
    assert row["status"] == "processed"
    assert _inbound("stored") == stored + 1
    assert _requests(200) == ok + 1


async def test_access_log_line_has_request_id_route_and_no_body(client, captured_logs):
    update = text_update(555000903, "my secret words")
    await client.post(ROUTE, json=update, headers={**SECRET, "X-Request-ID": "req-fast-0002"})
    records = [json.loads(line) for line in captured_logs.getvalue().splitlines() if line.strip()]
    access = [r for r in records if r.get("logger") == "medremind.web.access"]
    assert len(access) == 1
    line = access[0]
    assert line["request_id"] == "req-fast-0002"
    assert (line["method"], line["path"], line["route"], line["status"]) == (
        "POST",
        ROUTE,
        ROUTE,
        200,
    )
    assert "duration_ms" in line
    assert "my secret words" not in captured_logs.getvalue()
    assert WEBHOOK_SECRET not in captured_logs.getvalue()


async def test_lean_path_answers_like_the_starlette_route(web_settings, db, senders, admin_conn):
    app = make_app(web_settings, db, senders)
    lean = make_client(app)
    plain = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=_starlette_only(app)), base_url=INTERNAL_BASE_URL
    )
    cases: list[tuple[str, dict[str, Any]]] = [
        ("no secret", {"json": callback_update(555000904, "x")}),
        ("too large", {"content": b"{}", "headers": {**SECRET, "content-length": "1000001"}}),
        ("not json", {"content": b"{not json", "headers": SECRET}),
        ("not an object", {"json": [1, 2], "headers": SECRET}),
        ("ignored", {"json": {"update_id": 7, "edited_message": {}}, "headers": SECRET}),
    ]
    async with lean, plain:
        for name, request in cases:
            a = await lean.post(ROUTE, **request)
            b = await plain.post(ROUTE, **request)
            assert (a.status_code, a.content) == (b.status_code, b.content), name
            assert [k for k in a.headers if k != "x-request-id"] == [
                k for k in b.headers if k != "x-request-id"
            ], name
        assert await count(admin_conn, "inbound_messages") == 0
        # A button: both store it and answer the query in the response; a redelivery is not
        # stored twice, whichever path sees it.
        update = callback_update(555000905, "x:unknown")
        a = await lean.post(ROUTE, json=update, headers=SECRET)
        b = await plain.post(ROUTE, json=update, headers=SECRET)
        assert (a.status_code, a.content, a.headers["content-length"]) == (
            b.status_code,
            b.content,
            b.headers["content-length"],
        )
        assert await count(admin_conn, "inbound_messages") == 1


async def test_other_requests_still_go_through_starlette(client):
    response = await client.get(ROUTE, headers=SECRET)
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert response.headers["x-request-id"]
    response = await client.get("/healthz", headers={"X-Request-ID": "req-fast-0003"})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "req-fast-0003"
    response = await client.post("/telegram/webhook/extra", json={}, headers=SECRET)
    assert response.status_code == 404


async def test_unexpected_failure_is_a_json_500_with_the_request_id(web_settings, admin_conn):
    # No database: storing the update fails; the answer is the middleware's JSON 500.
    failed = _requests(500)
    async with make_client(make_app(web_settings, Database(web_settings))) as broken:
        response = await broken.post(ROUTE, json=callback_update(555000906, "x"), headers=SECRET)
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert response.headers["x-request-id"]
    assert _requests(500) == failed + 1
    assert await count(admin_conn, "inbound_messages") == 0


async def test_client_gone_before_the_body_is_counted_499_and_stores_nothing(
    web_settings, db, admin_conn
):
    app = make_app(web_settings, db)
    gone = _requests(499)
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": ROUTE,
        "raw_path": ROUTE.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"x-telegram-bot-api-secret-token", WEBHOOK_SECRET.encode())],
        "client": ("127.0.0.1", 1),
        "server": ("web.internal", 8000),
    }
    await app(scope, receive, send)
    assert sent == []
    assert _requests(499) == gone + 1
    assert await count(admin_conn, "inbound_messages") == 0


async def test_nul_in_a_button_update_is_stripped_from_event_and_raw_payload(
    web_settings, db, admin_conn
):
    # The answer stores the update before it returns; its processing (which forgets the payload
    # of an unknown chat) is the response's background task, not run here.
    state = WebState(settings=web_settings, database=db)
    update = callback_update(555000907, "x:unknown")
    update["callback_query"]["from"]["first_name"] = "Jo\u0000rdan"
    body = json.dumps(update).encode()
    assert b"\\u0000" in body

    async def read_body() -> bytes:
        return body

    response = await answer_update(state, WEBHOOK_SECRET, str(len(body)), read_body)
    assert response.status_code == 200
    assert response.background is not None
    payload = await admin_conn.fetchval("select payload from inbound_messages")
    if isinstance(payload, str):
        payload = json.loads(payload)
    assert payload["event"]["display_name"] == "Jordan"
    assert payload["raw"]["callback_query"]["from"]["first_name"] == "Jordan"
