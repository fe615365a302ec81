"""Issue 20, capacity plan step 1: several Telegram bots, each chat served by its own bot.

Two bots on one loopback Bot API (the fake answers any token and records which one each call used):
the default (``TELEGRAM_BOT_TOKEN``) and bot B (``MEDREMIND_TELEGRAM_BOTS``). The web app runs
in-process with the real senders; the worker is a real ``medremind worker`` process.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import time, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx
import pytest
from prometheus_client import REGISTRY

from core.db import Database
from core.settings import Settings, load_settings
from medremind.web import create_app
from platforms.base import Channel, ConfigurationError, OutboundMessage
from platforms.registry import build_senders
from platforms.telegram_bots import TelegramBots, webhook_secret
from scheduler.clinic_senders import ClinicSenders
from tests.factories import create_message, create_organization, create_patient
from tests.fakes.fake_telegram import DEFAULT_TOKEN, FakeTelegram, callback_update, text_update
from tests.fakes.fake_twilio import FakeTwilio
from tests.process_env import QUIET_HOURS_OFF
from tests.web.conftest import PUBLIC_BASE_URL, WEBHOOK_SECRET, make_client, web_env
from tests.web.processes import (
    _LOGS,
    free_port,
    kill,
    running_worker,
    start_worker,
    twilio_env,
    until,
)

BOT_B_TOKEN = "654321:BOT-B-token-abcdefghijklmnopq"
BOT_B = "654321"
CLINIC_TOKEN = "777888:CLINIC-bot-token-abcdefghijklmn"
CLINIC_BOT = "777888"
DEFAULT_BOT = DEFAULT_TOKEN.split(":", 1)[0]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@pytest.fixture
def two_bots() -> Iterator[FakeTelegram]:
    """A Bot API fake for both bots, each with its own username."""
    with FakeTelegram(token=None) as server:
        server.usernames = {
            DEFAULT_TOKEN: "medremind_test_bot",
            BOT_B_TOKEN: "medremind_b_bot",
            CLINIC_TOKEN: "north_clinic_bot",
        }
        yield server


def bots_env(fake: FakeTelegram) -> dict[str, str]:
    return {
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
        "MEDREMIND_TELEGRAM_BOTS": BOT_B_TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        **QUIET_HOURS_OFF,
    }


@pytest.fixture
def bots_settings(database_url: str, tmp_path: Path, two_bots: FakeTelegram) -> Settings:
    return load_settings(web_env(database_url, tmp_path, **bots_env(two_bots)))


@pytest.fixture
async def bots_web(bots_settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    senders = build_senders(bots_settings)
    app = create_app(
        bots_settings,
        database=db,
        senders=senders,
        bot_username="medremind_test_bot",
        detach_processing=False,
    )
    # Clinics' own accounts (their bots), as the app's start-up loads them in a web process.
    state = app.state.web
    assert db.pool is not None
    state.clinic_senders = ClinicSenders(db.pool, bots_settings, senders, state.secret_box)
    await state.clinic_senders.refresh()
    try:
        async with make_client(app) as http:
            yield http
    finally:
        await state.clinic_senders.aclose()
        for sender in senders.values():
            await sender.aclose()


def bot_b_headers() -> dict[str, str]:
    return {SECRET_HEADER: webhook_secret(WEBHOOK_SECRET, BOT_B)}


async def to_bot_b(web: httpx.AsyncClient, update: dict) -> httpx.Response:
    return await web.post(f"/telegram/webhook/{BOT_B}", json=update, headers=bot_b_headers())


def sent_by(fake: FakeTelegram, chat: int) -> list[str]:
    """The tokens' bot ids of the messages sent to ``chat``, in order."""
    return [c.token.split(":", 1)[0] for c in fake.sent_messages if c.chat_id == chat]


async def test_reminders_go_out_through_each_chats_bot(
    database_url: str, tmp_path: Path, admin_conn: asyncpg.Connection, two_bots: FakeTelegram
) -> None:
    org = await create_organization(admin_conn)
    on_default = await create_patient(admin_conn, org["id"], contacts={"telegram": "555200001"})
    on_b = await create_patient(admin_conn, org["id"], contacts={"telegram": "555200002"})
    await admin_conn.execute(
        "update contact_points set telegram_bot = $2 where patient_id = $1", on_b["id"], BOT_B
    )
    for patient in (on_default, on_b):
        await create_message(admin_conn, patient["id"], platform="telegram", urgent=True)

    async def both_sent() -> bool:
        return await admin_conn.fetchval(
            "select count(*) = 2 from scheduled_messages where status = 'sent'"
        )

    variables = bots_env(two_bots) | {"MEDREMIND_WORKER_POLL_SECONDS": "0.5"}
    async with running_worker(database_url, tmp_path, **variables) as log:
        await until("both reminders sent", both_sent, log)
    assert sent_by(two_bots, 555200001) == [DEFAULT_BOT]
    assert sent_by(two_bots, 555200002) == [BOT_B]


async def test_a_chat_on_a_bot_the_worker_lacks_falls_back_to_the_next_channel(
    database_url: str,
    tmp_path: Path,
    admin_conn: asyncpg.Connection,
    two_bots: FakeTelegram,
    fake_twilio: FakeTwilio,
) -> None:
    """A clinic removed its own bot (no account, no token on the worker): its patients' chats on
    it are passed over as blocked ones are; the reminder goes by SMS and the row says why. With no
    other channel the reminder fails naming the bot. (Before: a configuration error, no SMS.)"""
    # The clinic's quiet hours off, so the reminders go at any hour the suite runs.
    org = await create_organization(
        admin_conn, default_quiet_start=time(0), default_quiet_end=time(0)
    )
    phone = "+14155550477"
    with_sms = await create_patient(
        admin_conn, org["id"], contacts={"telegram": "555200041", "sms": phone}
    )
    only_chat = await create_patient(admin_conn, org["id"], contacts={"telegram": "555200042"})
    await admin_conn.execute(
        "update contact_points set telegram_bot = $1 where channel = 'telegram'"
        " and patient_id = any($2)",
        CLINIC_BOT,
        [with_sms["id"], only_chat["id"]],
    )
    by_sms = await create_message(admin_conn, with_sms["id"], message_content="Take your dose")
    nowhere = await create_message(admin_conn, only_chat["id"], message_content="Take your dose")

    async def both_done() -> bool:
        return await admin_conn.fetchval(
            "select count(*) = 2 from scheduled_messages"
            " where id = any($1) and status in ('sent', 'failed')",
            [by_sms["id"], nowhere["id"]],
        )

    variables = bots_env(two_bots) | twilio_env(fake_twilio)
    async with running_worker(database_url, tmp_path, **variables) as log:
        await until("both reminders done", both_done, log)
    rows = {
        r["id"]: r
        for r in await admin_conn.fetch(
            "select id, status, last_error from scheduled_messages where id = any($1)",
            [by_sms["id"], nowhere["id"]],
        )
    }
    assert rows[by_sms["id"]]["status"] == "sent", rows[by_sms["id"]]["last_error"]
    assert [m.body for m in fake_twilio.messages if m.to == phone] == ["Take your dose"]
    assert f"Telegram bot {CLINIC_BOT} is not configured" in rows[by_sms["id"]]["last_error"]
    assert rows[nowhere["id"]]["status"] == "failed"
    assert f"Telegram bot {CLINIC_BOT} is not configured" in rows[nowhere["id"]]["last_error"]
    assert not [c for c in two_bots.sent_messages if c.chat_id in (555200041, 555200042)]
    # The contact points stay as they were: the bot's absence is not the patient's doing.
    blocked = await admin_conn.fetchval(
        "select count(*) from contact_points where patient_id = any($1)"
        " and (blocked_at is not null or not active)",
        [with_sms["id"], only_chat["id"]],
    )
    assert blocked == 0


async def test_bot_b_is_its_own_rate_key_and_unknown_bots_refuse(bots_settings: Settings) -> None:
    senders = build_senders(bots_settings)
    try:
        bots = senders[Channel.TELEGRAM]
        assert isinstance(bots, TelegramBots)
        assert bots.ids == [DEFAULT_BOT, BOT_B]
        assert bots.for_bot(BOT_B).rate_key == f"telegram:{BOT_B}"
        assert bots.for_bot(None).rate_key == f"telegram:{DEFAULT_BOT}"
        # A chat of a bot this process has no token for is never sent through another bot.
        unknown = bots.for_bot("999")
        with pytest.raises(ConfigurationError, match="MEDREMIND_TELEGRAM_BOTS"):
            await unknown.send("1", OutboundMessage(text="x"))
    finally:
        for sender in senders.values():
            await sender.aclose()


async def test_update_to_bot_b_is_answered_through_bot_b(
    bots_web: httpx.AsyncClient, two_bots: FakeTelegram, admin_conn: asyncpg.Connection
) -> None:
    chat = 555200010
    update = text_update(chat, "/help")
    labels = {"method": "POST", "route": "/telegram/webhook/{bot}", "status": "200"}
    before = REGISTRY.get_sample_value("medremind_http_requests_total", labels) or 0.0
    assert (await to_bot_b(bots_web, update)).status_code == 200
    assert sent_by(two_bots, chat) == [BOT_B]
    # Counted under the bots' route template, never one series per bot id.
    after = REGISTRY.get_sample_value("medremind_http_requests_total", labels)
    assert after == before + 1
    # Bot B numbers its updates on its own: the same update_id on the default bot is another
    # update, not a duplicate.
    response = await bots_web.post(
        "/telegram/webhook", json=update, headers={SECRET_HEADER: WEBHOOK_SECRET}
    )
    assert response.status_code == 200
    assert sent_by(two_bots, chat) == [BOT_B, DEFAULT_BOT]
    assert await admin_conn.fetchval("select count(*) from inbound_messages") == 2
    # The reply row names its bot, for the dispatcher if it has to finish the send.
    bots = await admin_conn.fetch(
        "select payload->>'telegram_bot' as bot from scheduled_messages order by created_at"
    )
    assert [r["bot"] for r in bots] == [BOT_B, None]


async def test_bot_webhooks_refuse_other_secrets_and_unknown_bots(
    bots_web: httpx.AsyncClient, two_bots: FakeTelegram, admin_conn: asyncpg.Connection
) -> None:
    update = text_update(555200020, "/help")
    # The default bot's secret does not open bot B's webhook, nor B's the default's.
    wrong = await bots_web.post(
        f"/telegram/webhook/{BOT_B}", json=update, headers={SECRET_HEADER: WEBHOOK_SECRET}
    )
    assert wrong.status_code == 403
    crossed = await bots_web.post("/telegram/webhook", json=update, headers=bot_b_headers())
    assert crossed.status_code == 403
    unknown_headers = {SECRET_HEADER: webhook_secret(WEBHOOK_SECRET, "999")}
    unknown = await bots_web.post("/telegram/webhook/999", json=update, headers=unknown_headers)
    assert unknown.status_code == 404
    assert "MEDREMIND_TELEGRAM_BOTS" in unknown.text
    assert await admin_conn.fetchval("select count(*) from inbound_messages") == 0
    assert two_bots.sent_messages == []


async def test_invites_are_sharded_and_the_chat_keeps_the_bot_it_started(
    bots_web: httpx.AsyncClient,
    bots_settings: Settings,
    two_bots: FakeTelegram,
    admin_conn: asyncpg.Connection,
    db: Database,
) -> None:
    from medremind.api_keys import create_api_key

    org = await create_organization(admin_conn)
    assert db.pool is not None
    auth = {"Authorization": f"Bearer {await create_api_key(db.pool, str(org['id']), 'tests')}"}
    senders = build_senders(bots_settings)
    try:
        bots = senders[Channel.TELEGRAM]
        assert isinstance(bots, TelegramBots)
        links: dict[str, tuple[str, str]] = {}
        for n in range(12):
            created = await bots_web.post(
                "/api/v1/patients",
                json={"display_name": f"P{n}", "timezone": "UTC", "locale": "en"},
                headers=auth,
            )
            assert created.status_code == 201, created.text
            patient_id = created.json()["id"]
            invite = await bots_web.post(f"/api/v1/patients/{patient_id}/invites", headers=auth)
            body = invite.json()
            links[patient_id] = (body["link"], body["token"])
            expected = bots.shard(uuid.UUID(patient_id))
            username = "medremind_b_bot" if expected == BOT_B else "medremind_test_bot"
            assert body["link"].startswith(f"https://t.me/{username}?start="), body["link"]
    finally:
        for sender in senders.values():
            await sender.aclose()
    usernames = {link.split("/")[3].split("?")[0] for link, _ in links.values()}
    assert usernames == {"medremind_b_bot", "medremind_test_bot"}  # both bots get patients

    # A patient whose link names bot B starts bot B: the contact point records B.
    patient_id, (_link, token) = next((p, v) for p, v in links.items() if "medremind_b_bot" in v[0])
    chat = 555200030
    assert (await to_bot_b(bots_web, text_update(chat, f"/start {token}"))).status_code == 200
    consent = two_bots.sent_messages[-1]
    agree = next(data for row in consent.buttons() for label, data in row if label == "I agree")
    assert (await to_bot_b(bots_web, callback_update(chat, agree))).status_code == 200
    row = await admin_conn.fetchrow(
        "select patient_id::text, telegram_bot from contact_points where address = $1", str(chat)
    )
    assert (row["patient_id"], row["telegram_bot"]) == (patient_id, BOT_B)
    assert set(sent_by(two_bots, chat)) == {BOT_B}
    # A second invite for the same patient names the bot they already talk to.
    again = await bots_web.post(f"/api/v1/patients/{patient_id}/invites", headers=auth)
    assert again.json()["link"].startswith("https://t.me/medremind_b_bot?start=")


async def test_paid_broadcast_only_for_the_clinics_that_enable_it_within_their_allowance(
    database_url: str,
    tmp_path: Path,
    admin_conn: asyncpg.Connection,
    two_bots: FakeTelegram,
    bots_web: httpx.AsyncClient,
    db: Database,
) -> None:
    """A clinic's paid broadcasts are charged to its own monthly allowance of Stars
    (``telegram_paid_stars_monthly``), before each send: they were paid from the service's bots'
    Stars without bound. Once the allowance is used up its messages go unpaid at the bot's free
    rate; a clinic with paid broadcasts on and no allowance pays for none; the clinic sees its
    allowance and what this month used in ``GET /api/v1/clinic``."""
    from medremind.api_keys import create_api_key

    quiet_off = {"default_quiet_start": time(0), "default_quiet_end": time(0)}
    paying = await create_organization(
        admin_conn,
        telegram_paid_broadcast_after_seconds=0,
        telegram_paid_stars_monthly=Decimal("0.2"),  # two messages
        **quiet_off,
    )
    no_allowance = await create_organization(
        admin_conn, telegram_paid_broadcast_after_seconds=0, **quiet_off
    )
    free = await create_organization(admin_conn, **quiet_off)
    chats = {
        555200041: paying,
        555200043: paying,
        555200044: paying,
        555200045: no_allowance,
        555200042: free,
    }
    for chat, org in chats.items():
        patient = await create_patient(admin_conn, org["id"], contacts={"telegram": str(chat)})
        await create_message(admin_conn, patient["id"], platform="telegram")
    await admin_conn.execute(
        "update contact_points set telegram_bot = $1 where channel = 'telegram'", BOT_B
    )

    async def all_sent() -> bool:
        return await admin_conn.fetchval(
            "select count(*) = 5 from scheduled_messages where status = 'sent'"
        )

    port = free_port()
    variables = bots_env(two_bots) | {
        "MEDREMIND_WORKER_POLL_SECONDS": "0.5",
        "MEDREMIND_WORKER_METRICS_PORT": str(port),
    }
    async with running_worker(database_url, tmp_path, **variables) as log:
        await until("all messages sent", all_sent, log)
        async with httpx.AsyncClient() as http:
            metrics = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    sent = {int(c.chat_id): c for c in two_bots.sent_messages}
    assert set(sent) == set(chats)
    paid = {chat for chat, c in sent.items() if c.params.get("allow_paid_broadcast") is True}
    # Two of the paying clinic's three: its allowance; none of the others'.
    assert len(paid) == 2 and paid < {555200041, 555200043, 555200044}, paid
    assert all(c.token == BOT_B_TOKEN for c in sent.values())  # through the chat's own bot
    # The paid sends are their own fleet-wide key (1,000/s), apart from the bot's 30/s.
    keys = {r["key"] for r in await admin_conn.fetch("select key from send_rate_ledger")}
    assert f"telegram:{BOT_B}:paid" in keys
    assert f'medremind_telegram_paid_messages_total{{bot="{BOT_B}"}} 2.0' in metrics
    assert f'medremind_telegram_stars_spent_total{{bot="{BOT_B}"}} 0.2' in metrics

    # The paying clinic's statistics count its paid messages and Stars; the others' none.
    [usage] = await admin_conn.fetch("select organization_id, minute from telegram_paid_usage")
    assert usage["organization_id"] == paying["id"]
    day = usage["minute"].date()
    period = {
        "from": (day - timedelta(days=1)).isoformat(),
        "to": (day + timedelta(days=1)).isoformat(),
    }
    assert db.pool is not None
    # "This month" in GET /api/v1/clinic: the one of the sends unless a month began since.
    same_month = await admin_conn.fetchval(
        "select date_trunc('month', $1 at time zone 'UTC')"
        " = date_trunc('month', now() at time zone 'UTC')",
        usage["minute"],
    )
    for org, expected, allowance in (
        (paying, {"messages": 2, "stars": 0.2}, 0.2),
        (no_allowance, {"messages": 0, "stars": 0.0}, None),
        (free, {"messages": 0, "stars": 0.0}, None),
    ):
        auth = {"Authorization": f"Bearer {await create_api_key(db.pool, str(org['id']), 't')}"}
        answer = await bots_web.get("/api/v1/statistics", params=period, headers=auth)
        assert answer.status_code == 200, answer.text
        assert answer.json()["tables"]["telegram_paid_broadcast"] == [expected]
        clinic = (await bots_web.get("/api/v1/clinic", headers=auth)).json()
        assert clinic["telegram_paid_stars_monthly"] == allowance
        assert clinic["telegram_paid_stars_used"] == (expected["stars"] if same_month else 0.0)


async def test_paid_broadcasts_counted_before_they_are_sent_survive_a_killed_worker(
    database_url: str, tmp_path: Path, admin_conn: asyncpg.Connection
) -> None:
    """A worker counted its paid broadcasts in memory and wrote them every ten seconds: a
    SIGKILL lost up to ten seconds of the Stars its clinics spent. Each paid send is now charged
    in the database before it goes: killed mid-run, the worker loses no count, and counts too
    many at most the paid sends it had charged and not yet sent (its concurrency)."""
    concurrency = 4
    org = await create_organization(
        admin_conn,
        telegram_paid_broadcast_after_seconds=0,
        telegram_paid_stars_monthly=Decimal("1000"),
        default_quiet_start=time(0),
        default_quiet_end=time(0),
    )
    chats = [555300000 + n for n in range(60)]
    for chat in chats:
        patient = await create_patient(admin_conn, org["id"], contacts={"telegram": str(chat)})
        await create_message(admin_conn, patient["id"], platform="telegram")
    # A slow Bot API: the run lasts long enough to be killed in the middle.
    with FakeTelegram(token=None, latency=0.2) as slow:
        variables = bots_env(slow) | {
            "MEDREMIND_WORKER_POLL_SECONDS": "0.5",
            "MEDREMIND_WORKER_CONCURRENCY": str(concurrency),
        }
        worker = start_worker(database_url, tmp_path, **variables)
        try:

            def paid_calls() -> list[int]:
                return [
                    int(c.chat_id)
                    for c in slow.calls_to("sendMessage")
                    if c.params.get("allow_paid_broadcast") is True
                ]

            async def some_paid() -> bool:
                return len(paid_calls()) >= 8

            await until("paid sends under way", some_paid, tmp_path / "worker.log")
            worker.kill()  # SIGKILL: no shutdown, no last write
            await asyncio.to_thread(worker.wait, 30)
            await asyncio.sleep(1.0)  # requests already on their way are answered
            sent_paid = paid_calls()
        finally:
            kill(worker)
    assert len(sent_paid) < len(chats), "the worker was not killed in the middle of the run"
    counted = await admin_conn.fetchval(
        "select coalesce(sum(messages), 0) from telegram_paid_usage where organization_id = $1",
        org["id"],
    )
    month = await admin_conn.fetchval(
        "select coalesce(sum(messages), 0) from telegram_paid_months where organization_id = $1",
        org["id"],
    )
    assert month == counted
    assert len(sent_paid) <= counted <= len(sent_paid) + concurrency, (len(sent_paid), counted)


async def test_a_clinics_own_bot_stored_sealed_enrols_its_patients_and_sends_their_reminders(
    bots_web: httpx.AsyncClient,
    two_bots: FakeTelegram,
    admin_conn: asyncpg.Connection,
    db: Database,
    database_url: str,
    tmp_path: Path,
) -> None:
    from medremind.api_keys import create_api_key

    org = await create_organization(
        admin_conn, default_quiet_start=time(0), default_quiet_end=time(0)
    )
    other = await create_organization(admin_conn)
    assert db.pool is not None
    auth = {"Authorization": f"Bearer {await create_api_key(db.pool, str(org['id']), 'tests')}"}
    bad = await bots_web.put(
        "/api/v1/provider-accounts/telegram", json={"token": "nope"}, headers=auth
    )
    assert bad.status_code == 422 and "token" in bad.text
    saved = await bots_web.put(
        "/api/v1/provider-accounts/telegram", json={"token": CLINIC_TOKEN}, headers=auth
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["config"] == {"bot_id": CLINIC_BOT, "username": "north_clinic_bot"}
    stored = await admin_conn.fetchval("select secret from clinic_provider_accounts")
    assert CLINIC_TOKEN not in stored and CLINIC_TOKEN.split(":")[1] not in stored
    [hook] = [c for c in two_bots.calls_to("setWebhook") if c.token == CLINIC_TOKEN]
    assert hook.params["url"] == f"{PUBLIC_BASE_URL}/telegram/webhook/{CLINIC_BOT}"
    assert hook.params["secret_token"] == webhook_secret(WEBHOOK_SECRET, CLINIC_BOT)

    # The clinic's new patient is invited to its own bot and enrolled there.
    created = await bots_web.post(
        "/api/v1/patients", json={"display_name": "Nia", "timezone": "UTC"}, headers=auth
    )
    patient_id = created.json()["id"]
    invite = (await bots_web.post(f"/api/v1/patients/{patient_id}/invites", headers=auth)).json()
    assert invite["link"].startswith("https://t.me/north_clinic_bot?start=")
    chat = 555200050
    headers = {SECRET_HEADER: webhook_secret(WEBHOOK_SECRET, CLINIC_BOT)}
    url = f"/telegram/webhook/{CLINIC_BOT}"
    start = text_update(chat, f"/start {invite['token']}")
    assert (await bots_web.post(url, json=start, headers=headers)).status_code == 200
    agree = next(
        data
        for row in two_bots.sent_messages[-1].buttons()
        for label, data in row
        if label == "I agree"
    )
    assert (
        await bots_web.post(url, json=callback_update(chat, agree), headers=headers)
    ).status_code == 200
    assert set(sent_by(two_bots, chat)) == {CLINIC_BOT}
    assert (
        await admin_conn.fetchval(
            "select telegram_bot from contact_points where address = $1", str(chat)
        )
        == CLINIC_BOT
    )

    # The worker opens the sealed token and sends the clinic's reminder through its bot.
    await create_message(admin_conn, uuid.UUID(patient_id), platform="telegram")
    before = len(sent_by(two_bots, chat))

    async def sent() -> bool:
        return await admin_conn.fetchval(
            "select count(*) = 1 from scheduled_messages where status = 'sent'"
            " and kind = 'free_text'"
        )

    variables = bots_env(two_bots) | {"MEDREMIND_WORKER_POLL_SECONDS": "0.5"}
    async with running_worker(database_url, tmp_path, **variables) as log:
        await until("the clinic's reminder sent", sent, log)
    assert sent_by(two_bots, chat)[before:] == [CLINIC_BOT]

    # Another clinic's patient cannot be put on this clinic's bot.
    outsider = await create_patient(admin_conn, other["id"], contacts={"telegram": "555200051"})
    with pytest.raises(asyncpg.CheckViolationError, match="another clinic"):
        await admin_conn.execute(
            "update contact_points set telegram_bot = $2 where patient_id = $1",
            outsider["id"],
            CLINIC_BOT,
        )


async def test_an_invite_never_names_a_bot_the_clinic_removed(
    bots_web: httpx.AsyncClient, admin_conn: asyncpg.Connection, db: Database
) -> None:
    """A patient on the clinic's own bot is invited there; once the clinic removes the bot, a new
    invite names one of the service's bots (picked as for a new patient), not the removed one."""
    from medremind.api_keys import create_api_key

    org = await create_organization(admin_conn)
    assert db.pool is not None
    auth = {"Authorization": f"Bearer {await create_api_key(db.pool, str(org['id']), 'tests')}"}
    url = "/api/v1/provider-accounts/telegram"
    saved = await bots_web.put(url, json={"token": CLINIC_TOKEN}, headers=auth)
    assert saved.status_code == 200, saved.text
    patient = await create_patient(admin_conn, org["id"], contacts={"telegram": "555200060"})
    await admin_conn.execute(
        "update contact_points set telegram_bot = $2 where patient_id = $1",
        patient["id"],
        CLINIC_BOT,
    )
    invites = f"/api/v1/patients/{patient['id']}/invites"
    before = (await bots_web.post(invites, headers=auth)).json()["link"]
    assert before.startswith("https://t.me/north_clinic_bot?start=")

    assert (await bots_web.delete(url, headers=auth)).status_code == 204
    after = await bots_web.post(invites, headers=auth)
    assert after.status_code in (200, 201), after.text
    username = after.json()["link"].split("/")[3].split("?")[0]
    assert username in {"medremind_test_bot", "medremind_b_bot"}


async def test_new_patients_go_to_the_bot_with_spare_capacity(
    bots_web: httpx.AsyncClient, admin_conn: asyncpg.Connection, db: Database
) -> None:
    from medremind.api_keys import create_api_key

    org = await create_organization(admin_conn)
    assert db.pool is not None
    auth = {"Authorization": f"Bearer {await create_api_key(db.pool, str(org['id']), 'tests')}"}
    # Six chats on the default bot already (say bot B was added since): B has the room.
    for n in range(6):
        await create_patient(admin_conn, org["id"], contacts={"telegram": str(555200060 + n)})
    for n in range(3):
        created = await bots_web.post(
            "/api/v1/patients", json={"display_name": f"New {n}"}, headers=auth
        )
        invite = await bots_web.post(
            f"/api/v1/patients/{created.json()['id']}/invites", headers=auth
        )
        assert invite.json()["link"].startswith("https://t.me/medremind_b_bot?start=")


async def test_start_up_registers_each_bots_webhook_with_its_own_secret(
    bots_settings: Settings, two_bots: FakeTelegram
) -> None:
    from medremind.web_process import register_once

    assert await register_once(bots_settings) == "medremind_test_bot"
    hooks = {c.token: c.params for c in two_bots.calls_to("setWebhook")}
    assert hooks[DEFAULT_TOKEN]["url"] == f"{PUBLIC_BASE_URL}/telegram/webhook"
    assert hooks[DEFAULT_TOKEN]["secret_token"] == WEBHOOK_SECRET
    assert hooks[BOT_B_TOKEN]["url"] == f"{PUBLIC_BASE_URL}/telegram/webhook/{BOT_B}"
    assert hooks[BOT_B_TOKEN]["secret_token"] == webhook_secret(WEBHOOK_SECRET, BOT_B)
    assert hooks[BOT_B_TOKEN]["secret_token"] != WEBHOOK_SECRET


async def test_start_up_registers_every_clinic_bots_webhook_at_the_current_address(
    bots_settings: Settings,
    two_bots: FakeTelegram,
    admin_conn: asyncpg.Connection,
    db: Database,
    database_url: str,
    tmp_path: Path,
) -> None:
    """Clinic bots saved under an old PUBLIC_BASE_URL are pointed at the new one when a real
    ``medremind web`` starts; one bot that Telegram refuses is logged without its token and
    leaves the others registered."""
    from medremind.provider_accounts import save_account
    from tests.web.processes import kill, output, start_web, wait_until_up

    refused_token = "778899:REFUSED-clinic-token-abcdefghij"
    tokens = {CLINIC_TOKEN: CLINIC_BOT, "779900:SECOND-clinic-token-abcdefghi": "779900"}
    two_bots.usernames |= {t: f"clinic_{t.split(':')[0]}_bot" for t in [*tokens, refused_token]}
    assert db.pool is not None
    state = create_app(bots_settings, database=db).state.web
    for token in [*tokens, refused_token]:
        org = await create_organization(admin_conn)
        await save_account(
            db.pool,
            bots_settings,
            state.secret_box,
            org["id"],
            "telegram",
            {"token": token},
            actor="tests",
        )
    two_bots.reset()
    two_bots.fail_next(
        400,
        "Bad Request: bad webhook: HTTPS url must be provided",
        method="setWebhook",
        token=refused_token,
        times=5,
    )

    moved = "https://moved.medremind.example"
    variables = bots_env(two_bots) | {"PUBLIC_BASE_URL": moved}
    for given_by_start_web in (
        "TELEGRAM_BOT_TOKEN",
        "TELEGRAM_WEBHOOK_SECRET",
        "TELEGRAM_API_BASE_URL",
    ):
        variables.pop(given_by_start_web)
    process, base = start_web(database_url, tmp_path, two_bots, **variables)
    try:
        await wait_until_up(base, process)

        async def all_tried() -> bool:
            # After the port opens (in the background): each bot set, the refused one logged.
            set_ = {c.token for c in two_bots.calls_to("setWebhook")}
            failed = "setWebhook failed for a clinic's bot" in output(process)
            return failed and set_ >= set(tokens)

        await until("every clinic bot's webhook tried", all_tried, _LOGS[process.pid])
        hooks = {c.token: c.params for c in two_bots.calls_to("setWebhook")}
        for token, bot in tokens.items():
            assert hooks[token]["url"] == f"{moved}/telegram/webhook/{bot}"
            assert hooks[token]["secret_token"] == webhook_secret(WEBHOOK_SECRET, bot)
        assert refused_token not in hooks
        assert hooks[DEFAULT_TOKEN]["url"] == f"{moved}/telegram/webhook"
        # The refused bot is named by its (public) id, never by its token.
        text = output(process)
        assert "setWebhook failed for a clinic's bot" in text and "778899" in text
        assert refused_token not in text and refused_token.split(":")[1] not in text
    finally:
        kill(process)
