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
import uuid
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from bot.button_turn import try_dose_button_turn
from bot.intake import process_inbound, store_inbound
from core.answer_buttons import dose_data
from platforms.telegram import parse_update
from tests.bot.conftest import START, Bot
from tests.bot.helpers import dose_events, registered_patient
from tests.factories import create_message
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
        # 09:00 UTC is 03:00 in Mexico City (Babel puts a narrow no-break space before AM).
        assert edits == [("editMessageText", "Taken at 3:00\u202fAM. Well done!", 3000)]
        # Stored and recorded as sent, as every reply of the chat (the /start greeting too).
        assert ("sent", "Taken at 3:00\u202fAM. Well done!", 1, True) in fast["replies"]
        assert {r[0] for r in fast["replies"]} == {"sent"}
    if name == "taken twice":
        assert fast["pills"] == 9
        assert edits[-1][1] == "This dose was already recorded as taken."
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


async def test_a_reminder_press_takes_the_one_round_trip_turn(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat)
    (dose_id,) = await dose_events(admin_conn, patient["id"], [START])
    inbound_id, event = await _stored_press(bot, chat, dose_data(dose_id, "t"))
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


async def test_language_switched_elsewhere_is_answered_in_it(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat)
    (dose_id,) = await dose_events(admin_conn, patient["id"], [START])
    await admin_conn.execute("update patients set locale = 'es' where id = $1", patient["id"])
    calls = await bot.press_data(chat, dose_data(dose_id, "k"))
    assert any(c.text == "Omitida. Lo he anotado." for c in calls)
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
