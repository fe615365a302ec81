"""Attack run: a Telegram caregiver's link (``https://t.me/<bot>?start=cg_<token>``, 7 days,
single use) makes whoever opens it first the patient's caregiver, with missed-dose alerts naming
the patient. It reaches the patient in the text of a service notice (the bot's /settings answer,
the worker's relink offer), and the clinic read it all along: its clinicians on the dashboard
(row-level security) and its API key through ``GET /api/v1/messages``, so anyone of the clinic
could open it first and receive the patient's alerts.

Now such a notice is hidden from the clinic while its link may work, by the rule that hides
patients' sign-in links (``public.message_holds_live_link``, migration 20260101015570); once the
caregiver opens it, the text reads ``MedRemind caregiver link (used)`` and shows again, and an
unopened one shows once its 7 days are over."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from bot.dialogs.caregiver_links import LIFETIME
from core.db import Database
from core.link_messages import CAREGIVER_USED
from core.settings import Settings
from medremind.api_keys import create_api_key
from medremind.caregiver_relinks import offer_relinks
from medremind.web import create_app
from platforms.base import Channel
from tests.bot.conftest import Bot
from tests.bot.helpers import registered_patient
from tests.bot.test_caregiver_telegram_link import _telegram_caregiver
from tests.factories import create_clinician
from tests.integration.clinician import as_clinician

LINK = "?start=cg_"


@pytest.fixture
async def api(settings: Settings, db: Database, bot: Bot) -> AsyncIterator[httpx.AsyncClient]:
    """The clinic's API, in process, on the bot's database and clock."""
    app = create_app(settings, database=db, senders={}, clock=bot.clock, resume_on_startup=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://medremind.example.org"
        ) as client,
    ):
        yield client


async def _patient_and_clinic(
    bot: Bot, db: Database, conn: asyncpg.Connection
) -> tuple[int, Any, dict[str, Any]]:
    """A clinic's patient on Telegram (their chat, their row) and the clinic as its clinician
    and its API key see it."""
    chat = bot.new_chat()
    patient = await registered_patient(bot, conn, chat)
    clinician = await create_clinician(conn, patient["organization_id"])
    assert db.pool is not None
    key = await create_api_key(db.pool, str(patient["organization_id"]), "integration")
    clinic = {"clinician": clinician["id"], "auth": {"Authorization": f"Bearer {key}"}}
    return chat, patient, clinic


async def _link_rows(conn: asyncpg.Connection, token: str) -> list[Any]:
    rows = await conn.fetch(
        "select id from scheduled_messages where strpos(message_content, $1) > 0", token
    )
    return [r["id"] for r in rows]


async def _seen(
    api: httpx.AsyncClient, conn: asyncpg.Connection, clinic: dict[str, Any], message_id: Any
) -> dict[str, Any]:
    """What the clinic sees of ``message_id``: its text through the API's list and get, and on
    the dashboard (as its clinician, under row-level security); None where hidden."""
    listed = await api.get("/api/v1/messages", headers=clinic["auth"])
    assert listed.status_code == 200, listed.text
    in_list = [m["text"] for m in listed.json()["data"] if m["id"] == str(message_id)]
    got = await api.get(f"/api/v1/messages/{message_id}", headers=clinic["auth"])
    async with as_clinician(conn, clinic["clinician"]) as tx:
        dashboard = await tx.fetchval(
            "select message_content from scheduled_messages where id = $1", message_id
        )
    return {
        "list": in_list[0] if in_list else None,
        "get": got.json()["text"] if got.status_code == 200 else got.status_code,
        "dashboard": dashboard,
    }


HIDDEN = {"list": None, "get": 404, "dashboard": None}


async def test_the_clinic_reads_a_caregiver_link_only_once_it_is_spent(
    bot: Bot, db: Database, admin_conn: asyncpg.Connection, api: httpx.AsyncClient
) -> None:
    chat, _, clinic = await _patient_and_clinic(bot, db, admin_conn)
    token = await _telegram_caregiver(bot, chat)
    (message_id,) = await _link_rows(admin_conn, token)
    assert await _seen(api, admin_conn, clinic, message_id) == HIDDEN
    for action in ("cancel", "resend"):
        answer = await api.post(f"/api/v1/messages/{message_id}/{action}", headers=clinic["auth"])
        assert answer.status_code == 404 and token not in answer.text

    # The caregiver opens it: the message shows again, without the link.
    await bot.send(bot.new_chat(), f"/start {token}")
    assert await _link_rows(admin_conn, token) == []
    shown = await _seen(api, admin_conn, clinic, message_id)
    assert shown == {"list": CAREGIVER_USED, "get": CAREGIVER_USED, "dashboard": CAREGIVER_USED}


async def test_an_unopened_caregiver_link_shows_once_its_days_are_over(
    bot: Bot, db: Database, admin_conn: asyncpg.Connection, api: httpx.AsyncClient
) -> None:
    chat, _, clinic = await _patient_and_clinic(bot, db, admin_conn)
    token = await _telegram_caregiver(bot, chat)
    (message_id,) = await _link_rows(admin_conn, token)
    # By the database's clock, which made the row: the code's LIFETIME is the rule's.
    for before, hidden in ((LIFETIME - timedelta(minutes=1), True), (LIFETIME, False)):
        await admin_conn.execute(
            "update scheduled_messages set created_at = now() - $2::interval where id = $1",
            message_id,
            before + timedelta(seconds=0 if hidden else 60),
        )
        seen = await _seen(api, admin_conn, clinic, message_id)
        assert (seen == HIDDEN) is hidden, seen
    assert token in seen["get"]


async def test_the_workers_relink_offer_is_hidden_too(
    bot: Bot, db: Database, admin_conn: asyncpg.Connection, api: httpx.AsyncClient
) -> None:
    """A caregiver typed in before links is offered a link by the worker (its own notice)."""
    _, patient, clinic = await _patient_and_clinic(bot, db, admin_conn)
    await admin_conn.execute(
        "insert into caregivers (patient_id, name, channel, address, awaiting_link_since)"
        " values ($1, 'Ben', 'telegram', '7300151', $2)",
        patient["id"],
        bot.clock.now,
    )
    assert db.pool is not None
    assert await offer_relinks(db.pool, bot.ctx.senders[Channel.TELEGRAM], bot.clock.now) == 1
    offer = await admin_conn.fetchrow(
        "select id, message_content from scheduled_messages where strpos(message_content, $1) > 0",
        LINK,
    )
    assert offer is not None
    assert await _seen(api, admin_conn, clinic, offer["id"]) == HIDDEN
    token = re.search(r"start=(cg_[\w-]+)", offer["message_content"])[1]  # type: ignore[index]
    await bot.send(7_300_151, f"/start {token}")
    assert (await _seen(api, admin_conn, clinic, offer["id"]))["get"] == CAREGIVER_USED
