"""Turns of different patients at once: each gets its own answer, never "something went wrong".

A turn PostgreSQL fails because of a concurrent one is run again (bot.intake.TURN_ATTEMPTS).
The interleavings are forced (a trigger in the test database that waits on an advisory lock the
test holds), not left to timing: the failures they catch showed only under load.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from uuid import UUID

import asyncpg
import pytest

from bot.intake import TURN_ATTEMPTS, process_inbound, store_inbound
from platforms.telegram import parse_update
from scheduler.waitlist import offer_data
from tests.bot.conftest import START, Bot
from tests.bot.helpers import fail_turn_saves, registered_patient
from tests.factories import create_organization, create_patient
from tests.fakes.fake_telegram import callback_update

PAUSE_KEY = 4_700_147  # the advisory lock the paused turn waits on


async def _press(bot: Bot, chat: int, data: str) -> asyncio.Task[None]:
    """Store a button press as the webhook does and start processing it."""
    update = callback_update(chat, data)
    event = parse_update(update)
    assert event is not None
    inbound_id = await store_inbound(bot.ctx.pool, event, update)
    assert inbound_id is not None
    return asyncio.create_task(process_inbound(bot.ctx, inbound_id, event))


def _said(bot: Bot, chat: int) -> str:
    """The last text the bot sent or edited into ``chat`` (a press's answer edits its message)."""
    calls = [
        c
        for c in bot.telegram.calls
        if c.method in ("sendMessage", "editMessageText") and str(c.chat_id) == str(chat)
    ]
    return calls[-1].text or "" if calls else ""


async def _waiting_for_locks(conn: asyncpg.Connection) -> list[str]:
    """What the sessions of this database that wait for a lock wait for."""
    rows = await conn.fetch(
        "select wait_event from pg_stat_activity"
        " where wait_event_type = 'Lock' and datname = current_database()"
    )
    return [r["wait_event"] for r in rows]


async def _done_or_blocked(task: asyncio.Task[None], conn: asyncpg.Connection) -> str:
    """'done' once ``task`` finished; 'blocked' once a second session waits for a lock (the
    first is the paused turn). Polls a condition; the deadline only guards against a hang."""
    for _ in range(3000):
        if task.done():
            return "done"
        if len(await _waiting_for_locks(conn)) >= 2:
            return "blocked"
        await asyncio.sleep(0.01)
    raise AssertionError("the turn neither finished nor waited for a lock")


async def _pause_when_linked(conn: asyncpg.Connection, patient_id: UUID) -> None:
    """The turn that links ``patient_id`` (their first message) stops right after the link,
    holding what the link locked, until the test releases :data:`PAUSE_KEY`."""
    await conn.execute(
        f"""
        create function test_pause_after_link() returns trigger language plpgsql as $$
        begin
          if new.id = '{patient_id}' then
            perform pg_advisory_xact_lock_shared({PAUSE_KEY});
          end if;
          return null;
        end $$;
        -- After patients_reachability_linked (triggers fire in name order).
        create trigger zz_test_pause_after_link after update of linked_at on patients
          for each row execute function test_pause_after_link();
        """
    )


async def test_accept_while_the_other_patients_first_turn_holds_its_link(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """Two patients offered one slot press Accept at once, both for the first time (the press
    links them). The loser's turn has linked its patient and is about to wait for the offer;
    the winner's turn books and writes the loser's "the slot is gone" message, which names the
    loser's patient. That insert must not wait for the loser's turn: if it does, the two wait
    for each other (a deadlock PostgreSQL breaks by failing one of them)."""
    org = await create_organization(admin_conn, name="Waitlist Clinic")
    winner_chat, loser_chat = bot.new_chat(), bot.new_chat()
    winner = await create_patient(admin_conn, org["id"], contacts={"telegram": str(winner_chat)})
    loser = await create_patient(admin_conn, org["id"], contacts={"telegram": str(loser_chat)})
    offer = await admin_conn.fetchval(
        "insert into slot_offers (organization_id, starts_at, duration_minutes, location)"
        " values ($1, $2, 30, 'Room 4') returning id",
        org["id"],
        START + timedelta(days=2),
    )
    recipients = {}
    for patient in (winner, loser):
        entry = await admin_conn.fetchval(
            "insert into waitlist_entries (organization_id, patient_id) values ($1, $2)"
            " returning id",
            org["id"],
            patient["id"],
        )
        recipients[patient["id"]] = await admin_conn.fetchval(
            "insert into slot_offer_recipients (offer_id, entry_id, patient_id)"
            " values ($1, $2, $3) returning id",
            offer,
            entry,
            patient["id"],
        )
    assert not await admin_conn.fetchval(
        "select bool_or(linked_at is not null) from patients where organization_id = $1", org["id"]
    )
    await _pause_when_linked(admin_conn, loser["id"])

    await admin_conn.execute("select pg_advisory_lock($1)", PAUSE_KEY)
    presses: list[asyncio.Task[None]] = []
    try:
        presses.append(await _press(bot, loser_chat, offer_data(recipients[loser["id"]], "y")))
        while await _waiting_for_locks(admin_conn) != ["advisory"]:
            await asyncio.sleep(0.01)  # the loser's turn has linked its patient and waits
        presses.append(await _press(bot, winner_chat, offer_data(recipients[winner["id"]], "y")))
        assert await _done_or_blocked(presses[1], admin_conn) == "done", (
            "the winner's turn waited for the loser's turn, which waits for the offer it holds:"
            f" {await _waiting_for_locks(admin_conn)}"
        )
    finally:
        await admin_conn.execute("select pg_advisory_unlock($1)", PAUSE_KEY)
        await asyncio.wait_for(asyncio.gather(*presses), 60)

    states = dict(await admin_conn.fetch("select patient_id, status from slot_offer_recipients"))
    assert states == {winner["id"]: "accepted", loser["id"]: "too_late"}
    inbound = await admin_conn.fetch("select status, last_error from inbound_messages")
    assert [(r["status"], r["last_error"]) for r in inbound] == [("processed", None)] * 2
    assert "It's yours" in _said(bot, winner_chat)
    assert "Sorry, someone accepted" in _said(bot, loser_chat)


@pytest.mark.parametrize(
    ("failures", "status", "answer"),
    [
        (1, "processed", "/add"),  # PostgreSQL failed the turn once: run again, answered
        (TURN_ATTEMPTS, "failed", "something went wrong"),  # every time: bounded, then failed
    ],
)
async def test_turn_failed_by_a_concurrent_one_runs_again(
    bot: Bot, admin_conn: asyncpg.Connection, failures: int, status: str, answer: str
) -> None:
    """A turn PostgreSQL fails because of another transaction (here a deadlock it broke, raised by
    a trigger of the test database at the turn's save) is run again, up to TURN_ATTEMPTS times."""
    chat = bot.new_chat()
    await registered_patient(bot, admin_conn, chat)
    await fail_turn_saves(admin_conn, failures, "40P01")  # deadlock_detected
    calls = await bot.send(chat, "/help")
    assert answer in " ".join(c.text or "" for c in calls if c.method == "sendMessage")
    row = await admin_conn.fetchrow(
        "select status, last_error from inbound_messages order by received_at desc limit 1"
    )
    assert (row["status"], row["last_error"]) == (
        status,
        None if status == "processed" else "DeadlockDetectedError",
    )
    # The failed saves, then the one that went through: the turn's, or after the last attempt
    # the failure's reset of the dialog to idle.
    assert await admin_conn.fetchval("select last_value from test_turn_saves") == failures + 1
