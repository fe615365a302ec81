"""A worker that read a burst ahead claims it by the versions of its rows (claim_sql.claim_versions)
and uses the rows it read ahead, never one that changed since: an edit of the message, its
medicine, its appointment or its caregiver after the read-ahead is what the patient (or the
caregiver) gets.

Real PostgreSQL, the worker's dispatcher as ``medremind worker`` runs it (claims and patient cache
on connections of their own, rendering ahead) and recording senders; the fixtures and helpers of
tests/dispatch/test_render_ahead.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import pytest

from tests import factories
from tests.dispatch.test_render_ahead import AHEAD_SECONDS, Worker, _reminder, worker
from tests.waiting import eventually

__all__ = ["worker"]  # the fixture, used here by name

Edit = Callable[[asyncpg.Connection], Awaitable[None]]


async def test_a_burst_read_ahead_is_claimed_without_reading_it_again(
    admin_conn: asyncpg.Connection, worker: Worker
) -> None:
    """Reminders rendered ahead and unchanged since: the claim leases them and returns their
    versions only; each is sent from the row read ahead, as rendered."""
    due = datetime.now(UTC) + timedelta(seconds=AHEAD_SECONDS)
    for n in range(4):
        await _reminder(admin_conn, due, {"telegram": f"88100{n}"}, name_medicine_in_reminders=True)
    worker.start()
    await eventually(lambda: worker.ahead.rendered >= 4)
    assert datetime.now(UTC) < due, "the box was too slow to render four reminders in time"

    await eventually(lambda: len(worker.sent()) == 4)
    assert (worker.ahead.rows_reused, worker.ahead.rows_changed) == (4, 0)
    assert (worker.ahead.taken, worker.ahead.stale) == (4, 0)
    assert all("Metformin" in m.text for _address, m in worker.sent())

    async def recorded_as_sent_once() -> bool:
        rows = await admin_conn.fetch("select status, attempts from scheduled_messages")
        return {(r["status"], r["attempts"]) for r in rows} == {("sent", 1)}

    # Recorded as a claim that read them would have had them: sent, one attempt each.
    await eventually(recorded_as_sent_once)


async def _patient(conn: asyncpg.Connection, chat: str) -> asyncpg.Record:
    org = await factories.create_organization(conn)
    return await factories.create_patient(conn, org["id"], contacts={"telegram": chat})


async def _free_text(conn: asyncpg.Connection, due: datetime) -> tuple[UUID, Edit, str]:
    person = await _patient(conn, "881101")
    message = await factories.create_message(
        conn, person["id"], message_content="Your results are ready", scheduled_time=due
    )

    async def edit(c: asyncpg.Connection) -> None:
        await c.execute(
            "update scheduled_messages set message_content = 'Your results are in: call us'"
            " where id = $1",
            message["id"],
        )

    return message["id"], edit, "call us"


async def _medicine(conn: asyncpg.Connection, due: datetime) -> tuple[UUID, Edit, str]:
    _person, medication, message = await _reminder(
        conn, due, {"telegram": "881102"}, name_medicine_in_reminders=True
    )

    async def edit(c: asyncpg.Connection) -> None:
        await c.execute(
            "update medications set name = 'Atorvastatin' where id = $1", medication["id"]
        )

    return message["id"], edit, "Atorvastatin"


async def _appointment(conn: asyncpg.Connection, due: datetime) -> tuple[UUID, Edit, str]:
    person = await _patient(conn, "881103")
    appointment_id: UUID = await conn.fetchval(
        "insert into appointments (organization_id, patient_id, starts_at, location)"
        " values ($1, $2, $3, 'Room 2') returning id",
        person["organization_id"],
        person["id"],
        due + timedelta(days=1),
    )
    message = await factories.create_message(
        conn,
        person["id"],
        kind="appointment_reminder",
        message_content=None,
        appointment_id=appointment_id,
        scheduled_time=due,
    )

    async def edit(c: asyncpg.Connection) -> None:
        await c.execute(
            "update appointments set location = 'Room 9, east wing' where id = $1", appointment_id
        )

    return message["id"], edit, "Room 9, east wing"


async def _caregiver(conn: asyncpg.Connection, due: datetime) -> tuple[UUID, Edit, str]:
    person = await _patient(conn, "881104")
    caregiver_id: UUID = await conn.fetchval(
        "insert into caregivers (patient_id, name, channel, address)"
        " values ($1, 'Lucía', 'sms', '+14155550194') returning id",
        person["id"],
    )
    message = await factories.create_message(
        conn,
        person["id"],
        scheduled_time=due,
        kind="missed_dose_caregiver",
        caregiver_id=caregiver_id,
        platform="sms",
        allow_fallback=False,
        payload={"due_at": due.isoformat()},
        message_content=None,
    )

    async def edit(c: asyncpg.Connection) -> None:
        await c.execute("update caregivers set name = 'Marisol' where id = $1", caregiver_id)

    return message["id"], edit, "Marisol"


@pytest.mark.parametrize(
    "make", [_free_text, _medicine, _appointment, _caregiver], ids=lambda f: f.__name__[1:]
)
async def test_a_row_edited_after_the_read_ahead_is_read_again_at_the_claim(
    admin_conn: asyncpg.Connection,
    worker: Worker,
    make: Callable[[asyncpg.Connection, datetime], Awaitable[tuple[UUID, Edit, str]]],
) -> None:
    """The message, its medicine, its appointment or its caregiver edited after the render:
    the claim's versions differ from those read ahead, the message is read again in full, and
    the edit is sent. (Were the versions not compared, the claim would be built from the row
    read ahead, equal to the one the held text was rendered from, and the old text sent.)"""
    due = datetime.now(UTC) + timedelta(seconds=AHEAD_SECONDS)
    message_id, edit, edited = await make(admin_conn, due)
    worker.start()
    await eventually(lambda: message_id in worker.ahead)
    assert datetime.now(UTC) < due, "the box was too slow to render the message in time"
    await edit(admin_conn)

    await eventually(lambda: len(worker.sent()) == 1)
    assert (worker.ahead.rows_reused, worker.ahead.rows_changed) == (0, 1)
    assert (worker.ahead.taken, worker.ahead.stale) == (0, 1)
    ((_address, sent),) = worker.sent()
    assert sent.message_id == str(message_id)
    assert edited in sent.text


async def test_messages_due_at_once_are_claimed_in_full_in_one_statement(
    admin_conn: asyncpg.Connection, worker: Worker
) -> None:
    """Nothing read ahead is due (a steady rate, a worker just started): the claim returns full
    rows in one statement, with no second read eating into a short lease."""
    worker.start()
    for n in range(3):
        await _reminder(admin_conn, datetime.now(UTC), {"telegram": f"88120{n}"})
    await eventually(lambda: len(worker.sent()) == 3)
    assert worker.dispatcher._claims.versions_claims == 0
    assert (worker.ahead.rows_reused, worker.ahead.rows_changed, worker.ahead.taken) == (0, 0, 0)
