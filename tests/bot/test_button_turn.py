"""Taken / Skip in one round trip (bot.button_turn) against the general turn, on real Postgres.

Each scenario runs twice on fresh patients: once as the web process runs it (the stored event is
handed on, so a final dose answer takes ``answer_dose_button``) and once through the general turn
(no event: lock, engine, save). Everything a patient, a clinician or the dispatcher could observe
must be the same: the dose, the pill count, the cancelled reminders, the update's row, the contact
point, the conversation and every Bot API call. Further tests check that the fast path is really
taken, and that each case it must not decide falls back to the general turn, which then decides
as before.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from bot import texts
from bot.button_turn import (
    DUE_MINUTES,
    MINUTES,
    NAME,
    NUMBER,
    WHAT,
    reply_texts,
    taken_text_of_hour,
    try_dose_button_turn,
)
from bot.dialogs.answers import taken_text
from bot.intake import process_inbound, store_inbound
from core.answer_buttons import dose_data
from core.db import Database
from core.settings import Settings
from core.sql import load_queries
from platforms.telegram import parse_update
from tests.bot.conftest import START, Bot
from tests.bot.helpers import dose_events, registered_patient
from tests.factories import create_message, create_organization
from tests.fakes.fake_telegram import callback_update

# Press sequences: (dose index or "foreign" / "unknown", button code). Dose 0 is due with a pending
# reminder and follow-up; dose 1 was marked missed.
SCENARIOS: dict[str, list[tuple[Any, str]]] = {
    "taken": [(0, "t")],
    "skipped": [(0, "k")],
    "taken twice": [(0, "t"), (0, "t")],
    "skip after taken": [(0, "t"), (0, "k")],
    "late answer to a missed dose": [(1, "t")],
    "another patient's dose": [("foreign", "t")],
    "unknown dose": [("unknown", "k")],
}


async def _run(bot: Bot, admin: asyncpg.Connection, presses: list[tuple[Any, str]]) -> dict:
    """Run ``presses`` for a fresh patient; what can be observed afterwards, ids left out."""
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin, chat, timezone="America/Mexico_City")
    doses = await dose_events(
        admin,
        patient["id"],
        [START - timedelta(minutes=5), START - timedelta(hours=3)],
        statuses=["due", "missed"],
        pill_count=10,
    )
    for kind in ("medication_reminder", "dose_followup"):
        await create_message(
            admin,
            patient["id"],
            kind=kind,
            dose_event_id=doses[0],
            scheduled_time=START + timedelta(minutes=30),
        )
    other = await registered_patient(bot, admin, bot.new_chat())
    (foreign,) = await dose_events(admin, other["id"], [START])
    targets = {0: doses[0], 1: doses[1], "foreign": foreign, "unknown": uuid.uuid4()}

    before = len(bot.telegram.calls)
    for number, (target, code) in enumerate(presses):
        await bot.press_data(chat, dose_data(targets[target], code), message_id=3000 + number)
    calls = [
        (c.method, c.text, c.params.get("message_id"))
        for c in bot.telegram.calls[before:]
        if str(c.params.get("chat_id", chat)) == str(chat)
    ]
    pid = patient["id"]
    return {
        "doses": [
            tuple(r)
            for r in await admin.fetch(
                "select status, answered_at, answered_channel, snoozed_until from dose_events"
                " where patient_id = $1 order by due_at",
                pid,
            )
        ],
        "foreign dose": await admin.fetchval(
            "select status from dose_events where id = $1", foreign
        ),
        "pills": await admin.fetchval(
            "select pill_count from medications where patient_id = $1", pid
        ),
        "messages": sorted(
            tuple(r)
            for r in await admin.fetch(
                "select kind, status, last_error from scheduled_messages"
                " where patient_id = $1 and conversation_id is null",
                pid,
            )
        ),
        # The bot's replies: rows of the chat's conversation (issue 15, item 9).
        "replies": sorted(
            tuple(r)
            for r in await admin.fetch(
                "select m.status, m.message_content, m.attempts, m.patient_id = $1"
                "  from scheduled_messages m join conversations c on c.id = m.conversation_id"
                " where c.chat_address = $2",
                pid,
                str(chat),
            )
        ),
        "updates": [
            tuple(r)
            for r in await admin.fetch(
                "select status, attempts, last_error, payload <> '{}'::jsonb"
                " from inbound_messages where chat_address = $1 order by received_at",
                str(chat),
            )
        ],
        "contact noted": await admin.fetchval(
            "select last_inbound_at is not null from contact_points"
            " where channel = 'telegram' and address = $1",
            str(chat),
        ),
        "conversation": tuple(
            await admin.fetchrow(
                "select step, state, locale, patient_id = $2 from conversations"
                " where channel = 'telegram' and chat_address = $1",
                str(chat),
                pid,
            )
        ),
        "calls": calls,
    }


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_one_round_trip_turn_matches_the_general_turn(
    bot: Bot, admin_conn: asyncpg.Connection, name: str
) -> None:
    presses = SCENARIOS[name]
    fast = await _run(bot, admin_conn, presses)
    bot.general_turn = True
    general = await _run(bot, admin_conn, presses)
    assert fast == general
    # And what both did is what a press must do.
    assert fast["updates"][-len(presses) :] == [("processed", 1, None, True)] * len(presses)
    assert fast["contact noted"] is True
    assert fast["foreign dose"] == "due"
    edits = [c for c in fast["calls"] if c[0] == "editMessageText"]
    if name == "taken":
        assert fast["doses"][1][0] == "taken" and fast["pills"] == 9  # order: missed one first
        assert sorted(m[1] for m in fast["messages"]) == ["cancelled", "cancelled"]
        # 09:00 UTC is 03:00 in Mexico City (Babel puts a narrow no-break space before AM); the
        # dose was due at 02:55 there.
        taken = "Taken at 3:00 AM: your 2:55 AM dose. Well done!"
        assert edits == [("editMessageText", taken, 3000)]
        # Stored and recorded as sent, as every reply of the chat (the /start greeting too).
        assert ("sent", taken, 1, True) in fast["replies"]
        assert {r[0] for r in fast["replies"]} == {"sent"}
    if name == "taken twice":
        assert fast["pills"] == 9
        assert edits[-1][1] == "This dose was already recorded as taken: your 2:55 AM dose."
    if name in ("another patient's dose", "unknown dose"):
        assert edits == []
        assert any("no longer active" in (c[1] or "") for c in fast["calls"])
        assert {m[1] for m in fast["messages"]} == {"pending"}


async def _stored_press(bot: Bot, chat: int, data: str) -> tuple[uuid.UUID, Any]:
    update = callback_update(chat, data)
    event = parse_update(update)
    assert event is not None
    inbound_id = await store_inbound(bot.ctx.pool, event, update)
    assert inbound_id is not None
    return inbound_id, event


async def _taken_pressed(bot: Bot, admin: asyncpg.Connection) -> tuple[Any, uuid.UUID, Any]:
    """A new registered patient's due dose and the stored Taken press on it:
    ``(patient, update id, event)``."""
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin, chat)
    (dose_id,) = await dose_events(admin, patient["id"], [START])
    return patient, *await _stored_press(bot, chat, dose_data(dose_id, "t"))


async def test_a_reminder_press_takes_the_one_round_trip_turn(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    _, inbound_id, event = await _taken_pressed(bot, admin_conn)
    assert await try_dose_button_turn(bot.ctx, inbound_id, event) is True
    assert await admin_conn.fetchval("select status from dose_events") == "taken"
    assert bot.telegram.calls[-1].method in ("editMessageText", "answerCallbackQuery")
    # A redelivery of the same stored update: nothing more is recorded or sent.
    before = len(bot.telegram.calls)
    assert await try_dose_button_turn(bot.ctx, inbound_id, event) is True
    assert len(bot.telegram.calls) == before


async def test_cases_the_one_round_trip_turn_leaves_to_the_general_turn(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat)
    doses = await dose_events(admin_conn, patient["id"], [START, START - timedelta(hours=1)])

    async def declined(data: str) -> bool:
        inbound_id, event = await _stored_press(bot, chat, data)
        taken = await try_dose_button_turn(bot.ctx, inbound_id, event)
        status = await admin_conn.fetchval(
            "select status from inbound_messages where id = $1", inbound_id
        )
        return not taken and status == "received"

    # Not a final answer: a snooze, or a dialog's own button.
    assert await declined(dose_data(doses[0], "s"))
    assert await declined("t:deadbeef")
    # The patient switched language elsewhere: the general turn brings the conversation along.
    await admin_conn.execute("update patients set locale = 'es' where id = $1", patient["id"])
    assert await declined(dose_data(doses[0], "t"))
    await admin_conn.execute("update patients set locale = 'en' where id = $1", patient["id"])
    # An opted-out conversation, and a deleted patient.
    await admin_conn.execute("update conversations set state = '{\"opted_out\": true}'")
    assert await declined(dose_data(doses[0], "t"))
    await admin_conn.execute("update conversations set state = '{}'")
    await admin_conn.execute("update patients set status = 'deleted' where id = $1", patient["id"])
    assert await declined(dose_data(doses[0], "t"))
    # A chat that never wrote before has no conversation yet.
    assert await declined(dose_data(doses[1], "t"))  # (same chat, patient deleted)
    newcomer = bot.new_chat()
    inbound_id, event = await _stored_press(bot, newcomer, dose_data(doses[1], "t"))
    assert await try_dose_button_turn(bot.ctx, inbound_id, event) is False
    assert {r["status"] for r in await admin_conn.fetch("select status from dose_events")} == {
        "due"
    }


async def test_a_dose_of_another_day_is_left_to_the_general_turn_which_names_the_day(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """Taken or Skip on yesterday's reminder: the statement changes nothing (its texts say "your
    9:00 AM dose" only, read the next morning as today's); the general turn records it and names
    the day. Today's dose still takes the statement."""
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat)
    yesterday, today = await dose_events(
        admin_conn, patient["id"], [START - timedelta(days=1), START]
    )
    for code in ("t", "k"):
        inbound_id, event = await _stored_press(bot, chat, dose_data(yesterday, code))
        assert await try_dose_button_turn(bot.ctx, inbound_id, event) is False
        assert (
            await admin_conn.fetchval(
                "select status from inbound_messages where id = $1", inbound_id
            )
            == "received"
        )
    assert (
        await admin_conn.fetchval("select status from dose_events where id = $1", yesterday)
        == "due"
    )
    calls = await bot.press_data(chat, dose_data(yesterday, "t"))
    assert any(
        c.text == "Taken at 9:00 AM: your 9:00 AM dose on Sun, March 1. Well done!" for c in calls
    ), [c.text for c in calls]
    inbound_id, event = await _stored_press(bot, chat, dose_data(today, "k"))
    assert await try_dose_button_turn(bot.ctx, inbound_id, event) is True
    assert (
        await admin_conn.fetchval("select status from dose_events where id = $1", today)
        == "skipped"
    )


async def test_language_switched_elsewhere_is_answered_in_it(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat)
    (dose_id,) = await dose_events(admin_conn, patient["id"], [START])
    await admin_conn.execute("update patients set locale = 'es' where id = $1", patient["id"])
    calls = await bot.press_data(chat, dose_data(dose_id, "k"))
    assert any(c.text == "Omitida: tu dosis de las 9:00. Lo he anotado." for c in calls)
    assert await admin_conn.fetchval("select locale from conversations where chat_address = $1",
                                     str(chat)) == "es"  # fmt: skip


async def test_taken_and_skip_pressed_at_once_record_one_answer(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat)
    (dose_id,) = await dose_events(admin_conn, patient["id"], [START], pill_count=4)
    taken = await _stored_press(bot, chat, dose_data(dose_id, "t"))
    skip = await _stored_press(bot, chat, dose_data(dose_id, "k"))
    before = len(bot.telegram.calls)
    await asyncio.gather(
        process_inbound(bot.ctx, taken[0], taken[1]), process_inbound(bot.ctx, skip[0], skip[1])
    )
    status = await admin_conn.fetchval("select status from dose_events")
    assert status in ("taken", "skipped")
    assert await admin_conn.fetchval("select pill_count from medications") == (
        3 if status == "taken" else 4
    )
    edits = [c.text for c in bot.telegram.calls[before:] if c.method == "editMessageText"]
    assert len(edits) == 2
    assert sum("already recorded" in (text or "") for text in edits) == 1
    assert (
        await admin_conn.fetchval(
            "select count(*) from inbound_messages where status <> 'processed'"
        )
        == 0
    )


NAMED = "Lisinopril"


def test_the_statement_s_texts_of_taken_are_the_general_turn_s_at_every_minute() -> None:
    for locale in texts.LOCALES:
        for hour in range(24):
            pattern = taken_text_of_hour(locale, hour)
            words = reply_texts()[locale]["what"]
            for minute in range(60):
                at = datetime(2026, 3, 2, hour, minute, tzinfo=UTC)
                what = texts.dose_words(locale, at, number=2)
                numbered = words["numbered"][hour].replace(DUE_MINUTES, f"{minute:02d}")
                assert numbered.replace(NUMBER, "2") == what
                named = words["named"][hour].replace(DUE_MINUTES, f"{minute:02d}")
                assert named.replace(NAME, "Metformin") == texts.dose_words(
                    locale, at, name="Metformin"
                )
                plain = words["plain"][hour].replace(DUE_MINUTES, f"{minute:02d}")
                assert plain == texts.dose_words(locale, at)
                taken = pattern.replace(MINUTES, f"{minute:02d}").replace(WHAT, what)
                assert taken == taken_text(locale, at, "UTC", what)


async def test_a_press_is_one_statement_and_its_send_one_more(
    bot: Bot, admin_conn: asyncpg.Connection, settings: Settings
) -> None:
    """The answer, the update's mark and the reply row in one statement; the send's record in
    the (shared) record statement: the round trips a press costs the web process."""
    presses = [(await _taken_pressed(bot, admin_conn))[1:] for _ in range(2)]
    one = settings.model_copy(update={"db_pool_min": 1, "db_pool_max": 1})
    names = {text: name for name, text in load_queries("dose_answers").items()}
    names.update({text: name for name, text in load_queries("dispatch").items()})
    statements: list[str] = []
    async with Database(one, reset_sessions=False) as database:
        assert database.pool is not None
        ctx = dataclasses.replace(bot.ctx, pool=database.pool)
        # The first press warms the connection up (asyncpg reads the types it meets once).
        assert await try_dose_button_turn(ctx, *presses[0]) is True
        async with database.pool.acquire() as conn:
            conn.add_query_logger(lambda r: statements.append(names.get(r.query, r.query)))
        assert await try_dose_button_turn(ctx, *presses[1]) is True
    assert statements == ["answer_dose_button_reply", "record"]
    reply = await admin_conn.fetchrow(
        "select m.status, m.message_content, m.lease_token, m.locked_until, m.attempts,"
        "       (select count(*) from message_delivery_attempts a where a.message_id = m.id)"
        "         as attempt_rows"
        "  from scheduled_messages m where m.idempotency_key = $1",
        f"reply:{presses[1][0]}:0",
    )
    taken = "Taken at 9:00 AM: your 9:00 AM dose. Well done!"
    assert tuple(reply) == ("sent", taken, None, None, 1, 1)


async def test_a_zone_the_database_does_not_know_leaves_the_press_to_the_general_turn(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    patient, inbound_id, event = await _taken_pressed(bot, admin_conn)
    # Python's zoneinfo may know a zone newer than the server's IANA data; the statement reads the
    # local time of Taken itself and must then change nothing.
    await admin_conn.execute(
        "update patients set timezone = 'Mars/Olympus_Mons' where id = $1", patient["id"]
    )
    assert await try_dose_button_turn(bot.ctx, inbound_id, event) is False
    assert await admin_conn.fetchval("select status from dose_events") == "due"
    assert (
        await admin_conn.fetchval("select status from inbound_messages where id = $1", inbound_id)
        == "received"
    )
    assert not await admin_conn.fetchval(
        "select count(*) from scheduled_messages where idempotency_key = $1",
        f"reply:{inbound_id}:0",
    )


async def test_a_press_to_another_bot_names_it_on_the_reply(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """As the general turn: the reply row names the bot the person wrote to (a retry leaves
    from it)."""
    _patient, inbound_id, event = await _taken_pressed(bot, admin_conn)
    to_bot_b = dataclasses.replace(event, to_address="7000000002")
    assert await try_dose_button_turn(bot.ctx, inbound_id, to_bot_b) is True
    payload = await admin_conn.fetchval(
        "select payload from scheduled_messages where idempotency_key = $1",
        f"reply:{inbound_id}:0",
    )
    assert payload == {"telegram_bot": "7000000002", "recorded": True}


async def test_a_press_from_a_chat_marked_blocked_is_left_to_the_general_turn(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """A chat marked blocked by a refusal: the statement changes nothing, and the general turn
    records the press and lifts the block, first catching up the spell of a patient no channel
    reached (tests/bot/test_unreachable_return.py::...[pressed])."""
    _patient, inbound_id, event = await _taken_pressed(bot, admin_conn)
    await admin_conn.execute(
        "update contact_points set active = false, blocked_at = now()"
        " where channel = 'telegram' and address = $1",
        event.chat_address,
    )
    assert await try_dose_button_turn(bot.ctx, inbound_id, event) is False
    assert await admin_conn.fetchval("select status from dose_events") == "due"
    assert (
        await admin_conn.fetchval("select status from inbound_messages where id = $1", inbound_id)
        == "received"
    )
    await process_inbound(bot.ctx, inbound_id, event)
    assert await admin_conn.fetchval("select status from dose_events") == "taken"
    contact = await admin_conn.fetchrow(
        "select active, blocked_at from contact_points where channel = 'telegram' and address = $1",
        event.chat_address,
    )
    assert (contact["active"], contact["blocked_at"]) == (True, None)


async def test_a_press_through_another_clinics_own_bot_is_left_to_the_general_turn(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """A clinic holding its own bot's token could show a button naming another clinic's
    patient's dose; the one-statement turn answers nothing of it (the general turn gives its
    fixed text, tests/web/test_telegram_bot_attacks.py)."""
    _patient, inbound_id, event = await _taken_pressed(bot, admin_conn)
    other_clinic = await create_organization(admin_conn)
    await admin_conn.execute(
        "insert into clinic_provider_accounts"
        " (organization_id, channel, config, secret, secret_hint, validated_at, updated_by)"
        " values ($1, 'telegram', $2, 'sealed', '****', now(), 'tests')",
        other_clinic["id"],
        {"bot_id": "7000000003", "username": "clinic_a_bot"},
    )
    through_it = dataclasses.replace(event, to_address="7000000003")
    assert await try_dose_button_turn(bot.ctx, inbound_id, through_it) is False
    assert await admin_conn.fetchval("select status from dose_events") == "due"
    # Through one of the service's bots (no clinic's), the same press is answered at once.
    service_bot = dataclasses.replace(event, to_address="7000000004")
    assert await try_dose_button_turn(bot.ctx, inbound_id, service_bot) is True
    assert await admin_conn.fetchval("select status from dose_events") == "taken"
