"""Attack run: the patient app's sign-in request was limited per patient only (3 links in 15
minutes), so one client naming one phone number after another had a text sent to every patient
it hit (each an SMS the clinic pays for, and a sign that the number is a patient's). Now one
client makes at most ``MEDREMIND_SIGN_IN_REQUESTS_PER_CLIENT`` requests per 15 minutes, over
every web process (a bucket in Postgres); past it a 429 says when to try again.

The client is the address the web process sees: in process (an injected clock) the connection's;
over a real ``medremind web`` behind a proxy on the same machine (docs/operations.md), the one
the proxy adds to ``X-Forwarded-For``, not one the client wrote there itself.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest

from core.db import Database
from core.settings import Settings, load_settings
from medremind.web import create_app
from medremind.web.patient_app import client_rate
from tests import factories
from tests.web.conftest import Clock, web_env
from tests.web.processes import StartWeb

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
BASE = "https://medremind.example.org"
PHONES = [f"+1415555{n:04d}" for n in range(200, 212)]


@pytest.fixture
async def patients(admin_conn: asyncpg.Connection) -> None:
    """A clinic's patients, one per number of :data:`PHONES`."""
    org = await factories.create_organization(admin_conn)
    for phone in PHONES:
        await factories.create_patient(admin_conn, org["id"], contacts={"sms": phone})


def _client(app: object, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url=BASE)


async def _ask(http: httpx.AsyncClient, phone: str) -> httpx.Response:
    return await http.post("/app/api/sign-in/request", json={"address": phone})


async def _links(conn: asyncpg.Connection) -> int:
    return await conn.fetchval("select count(*) from patient_sign_in_links")


async def test_one_client_asks_for_a_few_links_then_is_told_when_to_try_again(
    database_url: str,
    tmp_path: Path,
    db: Database,
    admin_conn: asyncpg.Connection,
    patients: None,
) -> None:
    settings: Settings = load_settings(
        web_env(
            database_url,
            tmp_path,
            PUBLIC_BASE_URL=BASE,
            MEDREMIND_SIGN_IN_REQUESTS_PER_CLIENT="3",
        )
    )
    clock = Clock(NOW)
    app = create_app(settings, database=db, senders={}, clock=clock, resume_on_startup=False)
    async with (
        app.router.lifespan_context(app),
        _client(app, "203.0.113.5") as one,
        _client(app, "198.51.100.7") as other,
    ):
        for phone in PHONES[:3]:
            assert (await _ask(one, phone)).status_code == 202
        refused = await _ask(one, PHONES[3])
        assert refused.status_code == 429
        # 15 minutes / 3: one more request every 5 minutes.
        assert refused.headers["retry-after"] == "300"
        reason = refused.json()["error"]["reason"]
        assert reason == (
            "too many sign-in requests from this network: at most 3 in 15 minutes."
            " Try again in 5 minutes"
        )
        assert await _links(admin_conn) == 3  # none for the refused request's patient

        # Another client is not held by this one.
        assert (await _ask(other, PHONES[4])).status_code == 202
        # Still held a moment before; one more request once the wait is over.
        clock.now = NOW + timedelta(seconds=299)
        assert (await _ask(one, PHONES[3])).headers["retry-after"] == "1"
        clock.now = NOW + timedelta(seconds=300)
        assert (await _ask(one, PHONES[3])).status_code == 202
        assert (await _ask(one, PHONES[5])).status_code == 429
    assert await _links(admin_conn) == 5
    # The buckets are keyed by a salted hash of the address: a plain SHA-256 of every IPv4
    # address would find the client again.
    keys = {r["client_key"] for r in await admin_conn.fetch("select * from sign_in_client_rates")}
    assert len(keys) == 2
    for address in ("203.0.113.5", "198.51.100.7"):
        assert hashlib.sha256(address.encode()).hexdigest() not in keys


async def test_behind_a_proxy_the_client_is_the_address_the_proxy_adds(
    web_process: StartWeb, admin_conn: asyncpg.Connection, patients: None
) -> None:
    """uvicorn trusts ``X-Forwarded-For`` from the machine itself (FORWARDED_ALLOW_IPS), where
    the proxy of docs/operations.md runs, and takes the last address the proxy did not add."""
    _, base = await web_process(MEDREMIND_SIGN_IN_REQUESTS_PER_CLIENT="2")

    def behind_proxy(client: str, written: str | None = None) -> dict[str, str]:
        """What nginx's ``$proxy_add_x_forwarded_for`` sends for ``client``, after any
        ``X-Forwarded-For`` the client wrote itself."""
        return {"X-Forwarded-For": f"{written}, {client}" if written else client}

    async with httpx.AsyncClient(base_url=base, timeout=30) as http:

        async def ask(phone: str, headers: dict[str, str]) -> int:
            answer = await http.post(
                "/app/api/sign-in/request", json={"address": phone}, headers=headers
            )
            return answer.status_code

        assert await ask(PHONES[0], behind_proxy("203.0.113.5")) == 202
        assert await ask(PHONES[1], behind_proxy("203.0.113.5")) == 202
        assert await ask(PHONES[2], behind_proxy("203.0.113.5")) == 429
        # Writing another address first does not make the client someone else.
        assert await ask(PHONES[2], behind_proxy("203.0.113.5", "192.0.2.77")) == 429
        # Another client behind the same proxy is counted apart.
        assert await ask(PHONES[3], behind_proxy("198.51.100.7")) == 202


async def test_a_proxy_that_hides_its_clients_is_reported_once(
    database_url: str,
    tmp_path: Path,
    db: Database,
    patients: None,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every request from the machine itself without ``X-Forwarded-For``, on an https service:
    a proxy that does not add the header makes all patients one client (one limit for all), so
    the operator is told, once."""
    monkeypatch.setattr(client_rate, "_warned", False)
    settings = load_settings(web_env(database_url, tmp_path, PUBLIC_BASE_URL=BASE))
    app = create_app(settings, database=db, senders={}, clock=Clock(NOW), resume_on_startup=False)
    async with app.router.lifespan_context(app), _client(app, "127.0.0.1") as local:
        answer = await local.post(
            "/app/api/sign-in/request",
            json={"address": PHONES[0]},
            headers={"X-Forwarded-For": "203.0.113.5"},
        )
        assert answer.status_code == 202
        assert "X-Forwarded-For" not in caplog.text
        for phone in PHONES[1:3]:
            assert (await _ask(local, phone)).status_code == 202
    warnings = [r for r in caplog.records if "proxy's own address" in r.getMessage()]
    assert len(warnings) == 1
    assert "docs/operations.md" in warnings[0].getMessage()
