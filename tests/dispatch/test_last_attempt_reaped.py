"""A worker that dies holding a reminder does not spend the reminder's last attempt.

A claim counts an attempt; before this, the reaper failed a row whose lease ran out once it had
used them all ("lease expired on the last attempt"). A reminder whose earlier tries had failed
(a provider's timeouts) and whose last claim was lost by a killed worker was never sent at all,
decided by lost claims alone: the patient missed the dose's only reminder. Now a lost lease
gives the attempt back and is counted apart (``scheduled_messages.leases_lost``): the row goes
again, and only a row that loses its lease as many times as it has attempts, three at least (a
message whose send stops workers), fails. Nothing in the database says whether a lost claim's
send had begun, so a reaped row is always sent again: at least once, as for any other row.

Real ``medremind worker`` processes, the real Telegram adapter and the loopback Bot API
(``tests.fakes.fake_telegram``), real PostgreSQL. The database's statements at fixed times are in
test_reaped_late_record.py; the reap job's timing in test_reap_job.py.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from scheduler.reaper import MIN_LEASES_LOST
from tests import factories
from tests.dispatch.test_fleet_kills import KilledFleet
from tests.fakes.fake_telegram import DEFAULT_TOKEN, FakeTelegram


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(DEFAULT_TOKEN) as fake:
        yield fake


@pytest.fixture
def workers_on(database_url: str, tmp_path: Path, fake_telegram: FakeTelegram) -> Iterator[Any]:
    """``workers_on(lease, **env)``: ``medremind worker`` processes on the fake Bot API with a
    lease of ``lease`` seconds and these settings (stopped at the end)."""
    made: list[KilledFleet] = []

    def factory(lease: float, **env: str) -> KilledFleet:
        env |= {"TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN}
        env |= {"TELEGRAM_API_BASE_URL": fake_telegram.base_url}
        made.append(KilledFleet(database_url, tmp_path, env, lease_seconds=lease))
        return made[-1]

    try:
        yield factory
    finally:
        for workers in made:
            workers.stop()


async def _reminder(
    conn: asyncpg.Connection,
    patient: asyncpg.Record,
    medicine: str,
    due: datetime,
    *,
    attempts: int,
    max_attempts: int,
) -> UUID:
    """A dose of ``medicine`` due at ``due`` and its reminder, ``attempts`` of ``max_attempts``
    spent (earlier tries failed: "timed out; retrying", as the dispatcher records them). No
    reminder time of its schedule comes up while a test runs (it starts in 2030): the planner
    of the workers adds nothing."""
    _medication, schedule = await factories.create_medication(
        conn, patient["id"], name=medicine, schedule={"start_date": date(2030, 1, 1)}
    )
    row = await factories.create_dose_reminder(
        conn,
        schedule,
        due,
        attempts=attempts,
        max_attempts=max_attempts,
        last_error="telegram: timed out; retrying",
    )
    message_id: UUID = row["id"]
    return message_id


def _texts(fake: FakeTelegram, word: str, *, ok_only: bool = False) -> list[str]:
    """The texts of sendMessage calls that name ``word`` the Bot API answered (``ok_only``: with
    success). A held request whose sender died is not among them (its answer was cut off)."""
    return [
        c.text or ""
        for c in fake.calls_to("sendMessage", ok_only=ok_only)
        if word in (c.text or "")
    ]


async def _row(conn: asyncpg.Connection, message_id: UUID) -> asyncpg.Record:
    row = await conn.fetchrow("select * from scheduled_messages where id = $1", message_id)
    assert row is not None
    return row


async def _until_final(
    conn: asyncpg.Connection, ids: list[UUID], workers: KilledFleet, timeout: float = 120
) -> dict[UUID, str]:
    """Every row of ``ids`` sent or failed (a hang guard, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        statuses = dict(
            await conn.fetch(
                "select id, status from scheduled_messages where id = any($1::uuid[])", ids
            )
        )
        if all(s in ("sent", "failed", "expired", "cancelled") for s in statuses.values()):
            return statuses
        assert time.monotonic() < deadline, (statuses, workers.stderr())
        await asyncio.sleep(0.2)


async def test_a_reminder_whose_last_claim_died_unsent_is_sent_afterwards(
    admin_conn: asyncpg.Connection, workers_on: Any, fake_telegram: FakeTelegram
) -> None:
    # Two medicines at the same time for one patient on Telegram, each reminder on its last try.
    # The chat's rate (a message every 3 s) holds the second while the first is being sent: the
    # worker is killed then, the first send at the Bot API (no answer yet; its timeout, a third
    # of the 9 s lease, not reached), the second claimed and waiting for its slot, never sent.
    chat = "5550101"
    patient = await factories.create_patient(
        admin_conn, contacts={"telegram": chat}, name_medicine_in_reminders=True
    )  # the medicine's name tells the two reminders apart at the Bot API
    due = datetime.now(UTC).replace(microsecond=0)
    first = await _reminder(admin_conn, patient, "Metformin", due, attempts=2, max_attempts=3)
    second = await _reminder(admin_conn, patient, "Lisinopril", due, attempts=2, max_attempts=3)
    await admin_conn.execute(
        "update scheduled_messages set scheduled_time = scheduled_time - interval '1 second'"
        " where id = $1",
        first,
    )  # claimed and sent first
    workers = workers_on(9, MEDREMIND_TELEGRAM_CHAT_RATE="0.34")
    fake_telegram.hold_next(method="sendMessage", chat_id=chat)
    dying = workers.start_one()
    await fake_telegram.wait_for_held(timeout=90)
    dying.kill()
    assert dying.wait() == -9
    fake_telegram.release_held()  # its connection is gone; the fake's handler ends
    (reached,) = fake_telegram.held  # the first's request (a held request's call stays here)
    assert "Metformin" in (reached.text or "")
    # What the killed worker held: both rows, its lease still on them; the second never reached
    # the Bot API.
    held = [await _row(admin_conn, first), await _row(admin_conn, second)]
    assert [r["status"] for r in held] == ["processing", "processing"], held
    assert [r["attempts"] for r in held] == [3, 3]
    assert _texts(fake_telegram, "Lisinopril") == []

    workers.start_one()  # its reaper returns them once the dead worker's lease is over
    statuses = await _until_final(admin_conn, [first, second], workers)
    rows = {m: await _row(admin_conn, m) for m in (first, second)}
    assert statuses == {first: "sent", second: "sent"}, (rows, workers.stderr())
    # The claim that died spent no attempt (the third is the send that went); its lost lease
    # is counted apart.
    assert [(r["attempts"], r["leases_lost"]) for r in rows.values()] == [(3, 1), (3, 1)]
    # The second never went before: once now. The first had reached the Bot API when its worker
    # died (unanswered): nothing tells whether it went, so it goes again, at least once.
    assert len(_texts(fake_telegram, "Lisinopril")) == 1
    assert len(_texts(fake_telegram, "Lisinopril", ok_only=True)) == 1
    assert len(_texts(fake_telegram, "Metformin", ok_only=True)) == 1


async def test_a_message_whose_send_stops_every_worker_fails_after_three_lost_leases(
    admin_conn: asyncpg.Connection, workers_on: Any, fake_telegram: FakeTelegram
) -> None:
    # A reminder whose send stops the worker that tries it (here: killed as its request reaches
    # the Bot API), on its last try, and a caregiver's missed-dose alert due with it.
    chat, caregiver_chat = "5550202", "5550303"
    patient = await factories.create_patient(
        admin_conn, contacts={"telegram": chat}, name_medicine_in_reminders=True
    )
    due = datetime.now(UTC).replace(microsecond=0)
    poison = await _reminder(admin_conn, patient, "Warfarin", due, attempts=2, max_attempts=3)
    caregiver_id = await admin_conn.fetchval(
        "insert into caregivers (patient_id, name, channel, address)"
        " values ($1, 'Sam', 'telegram', $2) returning id",
        patient["id"],
        caregiver_chat,
    )
    alert = await factories.create_message(
        admin_conn,
        patient["id"],
        scheduled_time=due,
        kind="missed_dose_caregiver",
        caregiver_id=caregiver_id,
        platform="telegram",
        allow_fallback=False,
        payload={"due_at": due.isoformat()},
        message_content=None,
    )
    workers = workers_on(4)
    reached: list[str] = []  # the reminder's requests that reached the Bot API
    kills = 0
    deadline = time.monotonic() + 180
    while (await _row(admin_conn, poison))["status"] != "failed":
        assert kills <= MIN_LEASES_LOST, "the row loops"
        fake_telegram.held.clear()
        fake_telegram.hold_next(method="sendMessage", chat_id=chat)
        proc = workers.start_one()
        while not fake_telegram.held and (await _row(admin_conn, poison))["status"] != "failed":
            assert time.monotonic() < deadline, workers.stderr()
            await asyncio.sleep(0.05)
        if fake_telegram.held:
            proc.kill()
            assert proc.wait() == -9
            fake_telegram.release_held()
            reached += [c.text or "" for c in fake_telegram.held]
            kills += 1

    row = await _row(admin_conn, poison)
    assert kills == MIN_LEASES_LOST
    assert row["leases_lost"] == MIN_LEASES_LOST and row["attempts"] == 2
    assert row["last_error"] == (
        "lease expired 3 times (worker stopped mid-send); given up: every worker that held it"
        " stopped"
    )
    assert row["lease_token"] is None and row["locked_by"] is None
    # The worker that failed it (and is still running) sends the rest, the alert among them;
    # the reminder is not tried again.
    assert await _until_final(admin_conn, [alert["id"]], workers) == {alert["id"]: "sent"}
    assert len(reached) == MIN_LEASES_LOST and all("Warfarin" in t for t in reached)
    assert _texts(fake_telegram, "Warfarin", ok_only=True) == []
    to_caregiver = [
        c for c in fake_telegram.calls_to("sendMessage") if str(c.chat_id) == caregiver_chat
    ]
    assert to_caregiver  # at least once (a killed worker may have sent it unrecorded)
