"""Attack run: a patient's sign-in link to the patient app is the key to their account there
(answer their doses, subscribe a browser to their reminders, erase them). It travels in the text
of a message row, which the clinic reads: its API key through ``GET /api/v1/messages``, its
clinicians on the dashboard (row-level security). The text used to be scrubbed only once the
link was spent, so for its 15 minutes anyone of the clinic could read the link and sign in as
the patient first. Now a message that still holds a usable link is not the clinic's to read
(nor to cancel or re-send), on both ways in; once spent (scrubbed) or expired it shows again.
The bot's ``/app`` answer holds a link too, and is hidden and scrubbed the same way."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from core.db import Database
from core.settings import Settings, load_settings
from core.sign_in_links import LINK_MINUTES
from medremind.api_keys import create_api_key
from medremind.web import create_app
from tests import factories
from tests.integration.clinician import as_clinician
from tests.web.conftest import web_env

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
PHONE = "+14155550123"
BASE = "https://medremind.example.org"
LINK = re.compile(r"/app/#sign-in=([\w-]+)")


@pytest.fixture
def app_settings(database_url: str, tmp_path: Path) -> Settings:
    return load_settings(web_env(database_url, tmp_path, PUBLIC_BASE_URL=BASE))


@pytest.fixture
async def http(app_settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        app_settings, database=db, senders={}, clock=lambda: NOW, resume_on_startup=False
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client,
    ):
        yield client


@pytest.fixture
async def clinic(admin_conn: asyncpg.Connection, db: Database) -> dict[str, Any]:
    org = await factories.create_organization(admin_conn)
    patient = await factories.create_patient(admin_conn, org["id"], contacts={"sms": PHONE})
    clinician = await factories.create_clinician(admin_conn, org["id"])
    assert db.pool is not None
    key = await create_api_key(db.pool, str(org["id"]), "integration")
    return {"patient": patient, "clinician": clinician, "auth": {"Authorization": f"Bearer {key}"}}


async def _link_message(admin_conn: asyncpg.Connection) -> tuple[Any, str]:
    row = await admin_conn.fetchrow(
        "select id, message_content from scheduled_messages where message_content like $1",
        "%/app/#sign-in=%",
    )
    assert row is not None
    match = LINK.search(row["message_content"])
    assert match is not None
    return row["id"], match[1]


async def _clinician_texts(admin_conn: asyncpg.Connection, clinician_id: Any) -> list[str]:
    async with as_clinician(admin_conn, clinician_id) as conn:
        rows = await conn.fetch("select message_content from scheduled_messages")
    return [r["message_content"] or "" for r in rows]


async def test_the_clinic_cannot_read_a_live_sign_in_link(
    http: httpx.AsyncClient, admin_conn: asyncpg.Connection, clinic: dict[str, Any]
) -> None:
    asked = await http.post("/app/api/sign-in/request", json={"address": PHONE})
    assert asked.status_code == 202
    message_id, token = await _link_message(admin_conn)
    auth = clinic["auth"]

    listed = await http.get("/api/v1/messages", headers=auth)
    assert listed.status_code == 200 and token not in listed.text
    for answer in (
        await http.get(f"/api/v1/messages/{message_id}", headers=auth),
        await http.post(f"/api/v1/messages/{message_id}/cancel", headers=auth),
    ):
        assert answer.status_code == 404 and token not in answer.text
    await admin_conn.execute(
        "update scheduled_messages set status = 'failed' where id = $1", message_id
    )
    resent = await http.post(f"/api/v1/messages/{message_id}/resend", headers=auth)
    assert resent.status_code == 404 and token not in resent.text
    await admin_conn.execute(
        "update scheduled_messages set status = 'sent' where id = $1", message_id
    )
    assert not [
        t for t in await _clinician_texts(admin_conn, clinic["clinician"]["id"]) if token in t
    ]

    # The patient spends the link: the row shows again, without it.
    signed = await http.post("/app/api/sign-in", json={"token": token})
    assert signed.status_code == 200, signed.text
    shown = await http.get(f"/api/v1/messages/{message_id}", headers=auth)
    assert shown.status_code == 200
    assert shown.json()["text"] == "MedRemind sign-in link (used)"
    assert "MedRemind sign-in link (used)" in await _clinician_texts(
        admin_conn, clinic["clinician"]["id"]
    )


async def test_an_unused_link_shows_once_it_has_expired(
    http: httpx.AsyncClient, admin_conn: asyncpg.Connection, clinic: dict[str, Any]
) -> None:
    await http.post("/app/api/sign-in/request", json={"address": PHONE})
    message_id, token = await _link_message(admin_conn)
    auth = clinic["auth"]
    # Still within the link's life (by the database's clock, which made the row): hidden.
    await admin_conn.execute(
        "update scheduled_messages set created_at = now() - make_interval(mins => $2 - 1)"
        " where id = $1",
        message_id,
        LINK_MINUTES,
    )
    assert (await http.get(f"/api/v1/messages/{message_id}", headers=auth)).status_code == 404
    await admin_conn.execute(
        "update scheduled_messages set created_at = now() - make_interval(mins => $2 + 1)"
        " where id = $1",
        message_id,
        LINK_MINUTES,
    )
    shown = await http.get(f"/api/v1/messages/{message_id}", headers=auth)
    assert shown.status_code == 200 and token in shown.json()["text"]


async def test_a_clinics_own_message_is_never_hidden(
    http: httpx.AsyncClient, admin_conn: asyncpg.Connection, clinic: dict[str, Any]
) -> None:
    """Only the service's own notices carry links; a clinic's free text is always its to read,
    whatever it says (and a message without text is not hidden either)."""
    auth = clinic["auth"]
    for body in (
        {"text": f"see {BASE}/app/#sign-in=abc"},
        {"template": "free_text", "variables": {"body": "x"}},
    ):
        created = await http.post(
            "/api/v1/messages",
            json={"patient_id": str(clinic["patient"]["id"]), **body},
            headers=auth,
        )
        assert created.status_code == 201, created.text
        got = await http.get(f"/api/v1/messages/{created.json()['id']}", headers=auth)
        assert got.status_code == 200
