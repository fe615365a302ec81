"""Inbound processing after the 200: detached tasks drained at shutdown, and updates a crashed
process left behind resumed at start-up or, by a process that stays up, once they are a minute
old; plus ``medremind apikey create``."""

from __future__ import annotations

import asyncio
import logging

from bot.intake import TURN_ATTEMPTS
from core.db import Database
from medremind.commands import run_apikey_create
from medremind.web import create_app
from medremind.web.inbound import drain
from tests import factories
from tests.bot.helpers import fail_turn_saves
from tests.fakes.fake_telegram import FakeTelegram, text_update
from tests.web.chat import telegram_text
from tests.web.conftest import WEBHOOK_SECRET, count, make_client

SECRET = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}


async def test_detached_processing_finishes_and_is_drained(
    web_settings, db: Database, senders, admin_conn, fake_telegram: FakeTelegram
):
    app = create_app(web_settings, database=db, senders=senders, resume_on_startup=False)
    state = app.state.web
    async with make_client(app) as client:
        for chat in (555100001, 555100002, 555100003):
            response = await client.post(
                "/telegram/webhook", json=text_update(chat, "/start"), headers=SECRET
            )
            assert response.status_code == 200
    assert await count(admin_conn, "inbound_messages") == 3
    assert await drain(state, grace_seconds=30) == 0
    assert not state.processing
    statuses = await admin_conn.fetch("select status from inbound_messages")
    assert {r["status"] for r in statuses} == {"processed"}
    assert len(fake_telegram.sent_messages) >= 3


async def test_unprocessed_updates_are_resumed_at_startup(
    web_settings, db: Database, senders, admin_conn, fake_telegram: FakeTelegram
):
    # A process that stored the update and died before processing it.
    from bot.intake import store_inbound
    from platforms.telegram import parse_update

    update = text_update(555100004, "/start")
    event = parse_update(update)
    assert db.pool is not None and event is not None
    await store_inbound(db.pool, event, update)
    assert await admin_conn.fetchval("select status from inbound_messages") == "received"

    app = create_app(web_settings, database=db, senders=senders)
    async with app.router.lifespan_context(app):
        # The reply is sent after the turn commits: wait for both (a loaded machine is slow).
        for _ in range(600):
            status = await admin_conn.fetchval("select status from inbound_messages")
            if status != "received" and fake_telegram.sent_messages:
                break
            await asyncio.sleep(0.05)
    assert await admin_conn.fetchval("select status from inbound_messages") == "processed"
    assert fake_telegram.sent_messages


async def test_updates_a_dead_process_left_are_resumed_by_a_running_one(
    web_settings, db: Database, senders, admin_conn, fake_telegram: FakeTelegram
):
    """Found in an operator drill: two web processes, one killed -9 right after acknowledging
    Telegram updates; the other never processed them (only a start-up resumed), so those
    patients got no answer until some web process was started again."""
    from bot.intake import store_inbound
    from platforms.telegram import parse_update

    app = create_app(web_settings, database=db, senders=senders, inbound_sweep_seconds=0.2)
    async with app.router.lifespan_context(app):
        await asyncio.sleep(0.5)  # its start-up resume has run: nothing was waiting
        # Another process stored this update a minute and a half ago and died.
        update = text_update(555100005, "/start")
        event = parse_update(update)
        assert db.pool is not None and event is not None
        await store_inbound(db.pool, event, update)
        await admin_conn.execute(
            "update inbound_messages set received_at = now() - interval '90 seconds'"
        )
        for _ in range(600):
            status = await admin_conn.fetchval("select status from inbound_messages")
            if status != "received" and fake_telegram.sent_messages:
                break
            await asyncio.sleep(0.05)
        # A fresh update (its own process is still on it) is left to that process.
        fresh = text_update(555100006, "/start")
        fresh_event = parse_update(fresh)
        assert fresh_event is not None
        await store_inbound(db.pool, fresh_event, fresh)
        await asyncio.sleep(1.0)
        statuses = await admin_conn.fetch(
            "select chat_address, status from inbound_messages order by chat_address"
        )
    assert [(r["chat_address"], r["status"]) for r in statuses] == [
        ("555100005", "processed"),
        ("555100006", "received"),
    ]
    assert [m.chat_id for m in fake_telegram.sent_messages] == [555100005]


async def test_a_flooding_chat_holds_up_no_other_chat(
    web_settings, db: Database, senders, admin_conn, fake_telegram: FakeTelegram
):
    """Found flooding one chat of a running ``medremind web`` (4,000 updates at 100 a second):
    another chat's /help waited over a minute. A turn holds its chat's row lock, so one chat's
    turns run one at a time, but each waited for that lock inside a processing slot with a pool
    connection, so the flood's turns held every slot and the other chat's waited behind its
    whole backlog. Now a chat's turns queue for the chat before they take a slot, and past
    ``ChatTurns``' limit a chat's new updates are left, stored, to the sweep."""
    from bot.intake import resume_unprocessed
    from medremind.web.chat_turns import ChatTurns
    from platforms.base import Channel

    app = create_app(web_settings, database=db, senders=senders, resume_on_startup=False)
    state = app.state.web
    flood, other, flood_size = 555100020, 555100021, 30
    async with make_client(app) as client:
        state.chat_turns = ChatTurns(max_waiting=20)
        # One turn of the flood's chat under way, held here until the other chat is answered:
        # what waits and what is left to the sweep then depends on no machine's speed.
        flooded = (str(Channel.TELEGRAM), str(flood))
        assert state.chat_turns.reserve(flooded)
        under_way = state.chat_turns.lock(flooded)
        await under_way.acquire()
        try:
            for n in range(flood_size):
                answer = await client.post(
                    "/telegram/webhook", json=text_update(flood, f"hello {n}"), headers=SECRET
                )
                assert answer.status_code == 200
            answer = await client.post(
                "/telegram/webhook", json=text_update(other, "/help"), headers=SECRET
            )
            assert answer.status_code == 200
            status = "select status from inbound_messages where chat_address = $1"
            for _ in range(1500):
                if await admin_conn.fetchval(status, str(other)) == "processed":
                    break
                await asyncio.sleep(0.02)
            assert await admin_conn.fetchval(status, str(other)) == "processed"
            flood_done = await admin_conn.fetchval(
                "select count(*) from inbound_messages where chat_address = $1"
                " and status = 'processed'",
                str(flood),
            )
            # Answered while the flood's chat was busy, not after its backlog.
            assert flood_done == 0, flood_done
        finally:
            under_way.release()
            state.chat_turns.release(flooded)
    assert await drain(state, grace_seconds=60) == 0
    statuses = await admin_conn.fetch(
        "select status, count(*) from inbound_messages where chat_address = $1 group by 1",
        str(flood),
    )
    # Past the 20 turns (the one held and 19 waiting), the flood's updates wait, stored, for the
    # sweep, which answers them.
    assert sorted(tuple(r) for r in statuses) == [("processed", 19), ("received", 11)]
    assert state.chat_turns.waiting == 0
    assert state.bot_context is not None
    await resume_unprocessed(state.bot_context)
    assert not await admin_conn.fetchval(
        "select count(*) from inbound_messages where status <> 'processed'"
    )


async def test_apikey_create_command(settings, admin_conn, org, capsys):
    assert await run_apikey_create(settings, org["name"], "ehr") == 0
    key = capsys.readouterr().out.strip()
    assert key.startswith("mr_")
    row = await admin_conn.fetchrow("select organization_id, name from api_keys")
    assert (row["organization_id"], row["name"]) == (org["id"], "ehr")
    assert await run_apikey_create(settings, "No Such Clinic", "x") == 1
    # Found by following the README from a clean clone: a fresh database has no clinic, and
    # nothing said what to pass or how to make one.
    error = capsys.readouterr().err
    assert "no organization with id or name 'No Such Clinic'" in error
    assert f"Clinics here: {org['name']!r}." in error
    assert "npm run create-clinician" in error and "--org-name" in error


async def test_invite_link_from_the_api_is_accepted_by_the_bot(
    client, admin_conn, auth, fake_telegram: FakeTelegram
):
    created = await client.post(
        "/api/v1/patients", json={"display_name": "Sam", "consent": True}, headers=auth
    )
    patient_id = created.json()["id"]
    invite = await client.post(f"/api/v1/patients/{patient_id}/invites", headers=auth)
    token = invite.json()["token"]
    response = await client.post(
        "/telegram/webhook", json=text_update(555100005, f"/start {token}"), headers=SECRET
    )
    assert response.status_code == 200
    # The bot found the invite by its hash and holds it for the consent step that follows.
    state = await admin_conn.fetchval(
        "select state::text from conversations where channel = 'telegram' and chat_address = $1",
        "555100005",
    )
    assert patient_id in state
    assert not any("not valid" in (m.text or "") for m in fake_telegram.sent_messages)


async def test_a_turn_an_erasure_refuses_every_time_forgets_its_text(
    web, admin_conn, org, fake_telegram: FakeTelegram, caplog
):
    """A turn refused as an erasure's each time it runs (``*_patient_erased``: patients of one
    shared number erased one after the other can do it; here a trigger of the test database
    refuses the first TURN_ATTEMPTS saves so) ended in the failure path, which kept the update's
    text and number after the erasure. The last refusal now treats the chat as the erasure left
    it, nobody's: the update is marked failed with its payload forgotten, the person is told to
    try again (a reply of no patient's), and their next message is answered as a stranger's."""
    chat = 555100007
    patient = await factories.create_patient(
        admin_conn, org["id"], contacts={"telegram": str(chat)}, display_name="Ana"
    )
    await telegram_text(web, chat, "/help")  # the chat is Ana's
    await admin_conn.execute("select public.erase_patient($1, 'erasure', now())", patient["id"])
    await fail_turn_saves(admin_conn, TURN_ATTEMPTS, "23514", "conversations_patient_erased")
    sent_before = len(fake_telegram.sent_messages)
    with caplog.at_level(logging.INFO):
        await telegram_text(web, chat, "/add Secret-Medicine")
    row = await admin_conn.fetchrow(
        "select status, payload, last_error from inbound_messages order by received_at desc"
    )
    assert (row["status"], row["payload"], row["last_error"]) == (
        "failed",
        {},
        "CheckViolationError",
    )
    assert await admin_conn.fetchval("select patient_id from conversations") is None
    assert not await admin_conn.fetchval(
        "select count(*) from scheduled_messages where patient_id is not null"
    )
    told = [m.text for m in fake_telegram.sent_messages[sent_before:]]
    assert told == ["Sorry, something went wrong. Please try again."]
    assert "Secret-Medicine" not in caplog.text
    # The next message is a stranger's: answered as one, its text forgotten too.
    await telegram_text(web, chat, "/help")
    assert "/start" in (fake_telegram.sent_messages[-1].text or "")
    statuses = await admin_conn.fetch("select status, payload from inbound_messages")
    assert sorted((r["status"], r["payload"]) for r in statuses) == [
        ("failed", {}),
        ("processed", {}),
    ]
