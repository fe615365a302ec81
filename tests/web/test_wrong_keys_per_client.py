"""Attack run: made-up API keys were not limited. Each one cost a database lookup and a hash,
however many a client sent. Now a client address may have
``MEDREMIND_AUTH_FAILURES_PER_CLIENT`` wrong keys checked per window; past it a 429 with
``Retry-After`` names the problem and the fix, and nothing is looked up (the ``api_keys`` table
is locked while a held client asks: it is answered anyway). A clinic's integration that shares
the address (one NAT) goes on working with its key, which was valid from there before. The
dashboard's admin and pause tokens (``/clinic/provider-accounts``,
``/clinic/patients/{id}/pause``) are held the same way, and so are the patient app's sign-in codes
and session cookies (``/app/api`` and the ``/app/ws`` socket): a patient who signed in from a
carrier's NAT keeps their session while someone behind it forges cookies, and can sign in again
there.

In process, on an injected clock; the client address is the connection's (behind a proxy,
uvicorn's from ``X-Forwarded-For``: tests/web/test_sign_in_requests_per_client.py).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from core.db import Database
from core.settings import load_settings
from core.sign_in_links import issue_link
from medremind.api_keys import create_api_key
from medremind.web import create_app
from medremind.web.patient_app.live import CLOSE_SIGNED_OUT, CLOSE_TOO_MANY
from tests import factories
from tests.web.conftest import Clock, web_env

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
NAT = "203.0.113.5"  # one public address: the clinic's integration and an attacker
WRONG = {"Authorization": "Bearer mr_0123456789ab_made-up-secret"}
CARRIER = "192.0.2.44"  # a mobile carrier's NAT: patients, and someone forging session cookies
PHONE = "+14155550166"


FORGED = "medremind_session=forged-session-cookie-0123456789abcdefghijklmno"


async def _socket_closed_with(app: Any, address: str, cookie: str | None) -> int:
    """Open ``/app/ws`` on the in-process app from ``address``: the code it is closed with."""
    headers = [(b"host", b"web.internal")] + ([(b"cookie", cookie.encode())] if cookie else [])
    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": "ws",
        "path": "/app/ws",
        "raw_path": b"/app/ws",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": (address, 40000),
        "server": ("web.internal", 80),
        "subprotocols": [],
    }
    incoming = [{"type": "websocket.connect"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await asyncio.wait_for(app(scope, receive, send), 10)
    assert [m["type"] for m in sent] == ["websocket.accept", "websocket.close"], sent
    return int(sent[-1]["code"])


def _client(app: object, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://web.internal")


async def test_wrong_keys_from_one_address_are_held_without_a_lookup(
    database_url: str,
    tmp_path: Path,
    db: Database,
    admin_conn: asyncpg.Connection,
    org: asyncpg.Record,
) -> None:
    assert db.pool is not None
    good = {"Authorization": f"Bearer {await create_api_key(db.pool, str(org['id']), 'emr')}"}
    fresh = {"Authorization": f"Bearer {await create_api_key(db.pool, str(org['id']), 'new')}"}
    env = web_env(database_url, tmp_path, MEDREMIND_AUTH_FAILURES_PER_CLIENT="3")
    clock = Clock(NOW)
    app = create_app(load_settings(env), database=db, senders={}, clock=clock)
    async with _client(app, NAT) as nat, _client(app, "198.51.100.7") as other:
        assert (await nat.get("/api/v1/patients", headers=good)).status_code == 200
        for _ in range(3):
            assert (await nat.get("/api/v1/patients", headers=WRONG)).status_code == 401
        held = await nat.get("/api/v1/patients", headers=WRONG)
        assert held.status_code == 429
        assert held.headers["retry-after"] == "300"  # 15 minutes / 3
        error = held.json()["error"]
        assert error["field"] == "Authorization"
        assert error["reason"].startswith(
            f"too many wrong API keys from your address ({NAT}): at most 3 in 15 minutes,"
            " so none is checked for 5 minutes. Check the key in the Authorization header"
        )
        # An X-Forwarded-For the client writes names no other client (uvicorn reads it from
        # FORWARDED_ALLOW_IPS proxies only; the app never does).
        rotated = {**WRONG, "X-Forwarded-For": "192.0.2.77"}
        assert (await nat.get("/api/v1/patients", headers=rotated)).status_code == 429

        async with admin_conn.transaction():
            # A lookup now would wait for this transaction: a held client is answered anyway.
            await admin_conn.execute("lock table api_keys in access exclusive mode")
            answer = await asyncio.wait_for(nat.get("/api/v1/patients", headers=WRONG), 10)
            assert answer.status_code == 429
            # A key never used from here waits like any other (no lookup to tell it is valid).
            answer = await asyncio.wait_for(nat.get("/api/v1/patients", headers=fresh), 10)
            assert answer.status_code == 429

        # The clinic's key, valid from this address before, still works; another address is not
        # held by this one.
        assert (await nat.get("/api/v1/patients", headers=good)).status_code == 200
        assert (await other.get("/api/v1/patients", headers=WRONG)).status_code == 401

        # One check back a window / limit later; still held a second before.
        clock.now = NOW + timedelta(seconds=299)
        assert (await nat.get("/api/v1/patients", headers=WRONG)).headers["retry-after"] == "1"
        clock.now = NOW + timedelta(seconds=300)
        assert (await nat.get("/api/v1/patients", headers=fresh)).status_code == 200
        # A valid key gives its check back: the one that came back is still there.
        assert (await nat.get("/api/v1/patients", headers=WRONG)).status_code == 401
        assert (await nat.get("/api/v1/patients", headers=WRONG)).status_code == 429

        # The trusted key's prefix with another secret loses the trust (it was guessed, not
        # known): the key then waits too.
        guessed = {"Authorization": good["Authorization"][:-4] + "AAAA"}
        assert (await nat.get("/api/v1/patients", headers=guessed)).status_code == 401
        assert (await nat.get("/api/v1/patients", headers=good)).status_code == 429

        # The dashboard's admin tokens: the same, each door counted apart.
        for _ in range(3):
            refused = await nat.delete("/clinic/provider-accounts/sms", headers=WRONG)
            assert refused.status_code == 401
        held = await nat.delete("/clinic/provider-accounts/sms", headers=WRONG)
        assert held.status_code == 429
        assert "too many unknown admin tokens" in held.json()["error"]["reason"]
        # And the dashboard's pause tokens (/clinic/patients/{id}/pause): each made-up one was a
        # query, without end.
        pause = f"/clinic/patients/{uuid.uuid4()}/pause"
        for _ in range(3):
            refused = await nat.post(pause, headers=WRONG, json={"paused": True})
            assert refused.status_code == 401
        held = await nat.post(pause, headers=WRONG, json={"paused": True})
        assert held.status_code == 429
        assert "too many unknown pause tokens" in held.json()["error"]["reason"]

        # The patient app's sign-in codes: the same, before the redeeming write.
        code = {"token": "made-up-sign-in-code-0123456789"}
        for _ in range(3):
            assert (await nat.post("/app/api/sign-in", json=code)).status_code == 401
        held = await nat.post("/app/api/sign-in", json=code)
        assert held.status_code == 429
        assert held.json()["error"]["field"] == "token"

        # The patient app's session cookies, from a carrier's NAT: a patient signed in before
        # someone there forges cookies keeps the session, and can sign in again while held.
        patient = await factories.create_patient(admin_conn, org["id"], contacts={"sms": PHONE})
        async with _client(app, CARRIER) as carrier:
            session = await _signed_in(carrier, admin_conn, patient["id"])
            for _ in range(3):
                refused = await carrier.get("/app/api/today", headers={"Cookie": FORGED})
                assert refused.status_code == 401
                # The cookie that was no session's is deleted: a browser stops sending it.
                assert refused.headers["set-cookie"].startswith('medremind_session="";')
            async with admin_conn.transaction():
                await admin_conn.execute("lock table patient_web_sessions in access exclusive mode")
                held = await asyncio.wait_for(
                    carrier.get("/app/api/today", headers={"Cookie": FORGED}), 10
                )
                assert held.status_code == 429
                assert held.headers["retry-after"] == "300"
                assert held.json()["error"]["reason"].startswith(
                    f"too many ended or unknown sessions from your address ({CARRIER}): at most 3"
                    " in 15 minutes, so none is checked for 5 minutes. Ask for a new sign-in link"
                )
                closed = await _socket_closed_with(app, CARRIER, FORGED)
                assert closed == CLOSE_TOO_MANY  # the app retries it with its backoff
            # No cookie: no lookup, the app's "sign in again"; the patient's own session works.
            assert await _socket_closed_with(app, CARRIER, None) == CLOSE_SIGNED_OUT
            assert (await carrier.get("/app/api/today", headers=session)).status_code == 200
            again = await _signed_in(carrier, admin_conn, patient["id"])
            assert (await carrier.get("/app/api/settings", headers=again)).status_code == 200
            # Signed out everywhere: the ended session is refused once, and trusted no more.
            assert (
                await carrier.post("/app/api/sign-out", json={"everywhere": True}, headers=again)
            ).status_code == 200
            assert (await carrier.get("/app/api/today", headers=session)).status_code == 401
            assert (await carrier.get("/app/api/today", headers=session)).status_code == 429
        # Another address's forged cookie is checked (and refused) as ever.
        assert await _socket_closed_with(app, "198.51.100.7", FORGED) == CLOSE_SIGNED_OUT

        metrics = (await nat.get("/metrics")).text
        assert 'medremind_credentials_held_total{door="api_key"}' in metrics
        assert 'medremind_credentials_held_total{door="admin_token"}' in metrics
        assert 'medremind_credentials_held_total{door="pause_token"}' in metrics
        assert 'medremind_credentials_held_total{door="sign_in_link"}' in metrics
        assert 'medremind_credentials_held_total{door="session"}' in metrics


async def _signed_in(
    http: httpx.AsyncClient, admin_conn: asyncpg.Connection, patient_id: Any
) -> dict[str, str]:
    """Sign ``patient_id`` in to the app with a new link: the session cookie as a header."""
    issued = await issue_link(admin_conn, patient_id, "sms", NOW)
    assert issued is not None
    signed = await http.post("/app/api/sign-in", json={"token": issued[1]})
    assert signed.status_code == 200, signed.text
    http.cookies.clear()  # sent by hand: the jar would send it with every request
    return {"Cookie": signed.headers["set-cookie"].split(";", 1)[0]}
