"""A confirmation a worker held while its appointment was cancelled is not sent later.

Found by a clinician (dashboard): booked in the patient's quiet hours and cancelled within a
second, the patient got "confirmed" and "cancelled" together at 08:00. The worker had claimed the
confirmation; the cancel withdraws only pending messages, so the claimed one was recorded as
deferred to the end of the quiet window, then sent there. A confirmation, reminder or reschedule
notice of an appointment cancelled (or over) since it was planned is now cancelled when claimed,
and when re-checked right before its send; the cancellation notice still goes.

Real PostgreSQL, the real planner functions, claim, delivery gate, record and dispatcher; a
recording sender; the injected clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

import asyncpg

from core.db import Database
from scheduler.appointments import cancel_appointment, plan_appointment
from scheduler.claims import claim, record
from scheduler.delivery_gate import held_back
from scheduler.dispatcher import DispatcherConfig
from scheduler.send_checks import SendChecks
from tests import factories
from tests.dispatch.conftest import Clock
from tests.dispatch.test_dispatcher import MakeDispatcher

NIGHT = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)  # inside the patient's quiet hours (UTC)
MORNING = datetime(2026, 3, 4, 8, 0, tzinfo=UTC)  # their end
STARTS = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)


async def _booked(conn: asyncpg.Connection, db: Database) -> tuple[asyncpg.Record, asyncpg.Record]:
    org = await factories.create_organization(conn)
    patient = await factories.create_patient(
        conn,
        org["id"],
        timezone="UTC",
        quiet_start=time(22, 0),
        quiet_end=time(8, 0),
        contacts={"telegram": "4242"},
    )
    appointment = await conn.fetchrow(
        "insert into appointments (organization_id, patient_id, starts_at)"
        " values ($1, $2, $3) returning *",
        org["id"],
        patient["id"],
        STARTS,
    )
    assert db.pool is not None
    async with db.pool.acquire() as planner:
        plan = await plan_appointment(planner, appointment["id"], NIGHT)
    assert plan.confirmation_created
    return patient, appointment


async def test_a_held_confirmation_of_a_cancelled_appointment_is_not_sent(
    db: Database,
    admin_conn: asyncpg.Connection,
    make_dispatcher: MakeDispatcher,
    clock: Clock,
) -> None:
    _, appointment = await _booked(admin_conn, db)
    assert db.pool is not None
    # The worker claims the confirmation at night, as its dispatcher does...
    async with db.pool.acquire() as worker:
        (held,) = await claim(worker, now=NIGHT, limit=10, worker="w1", lease_seconds=60)
    assert held.kind == "appointment_confirmation"
    # ...the clinic cancels while the worker holds it...
    async with db.pool.acquire() as clinic:
        cancelled = await cancel_appointment(clinic, appointment["id"], NIGHT)
    assert cancelled.notice_created
    # ...and the worker records what its gate made of the claim: deferred to 08:00 (the claim
    # read the appointment before the cancel).
    deferral = held_back(held, NIGHT, DispatcherConfig())
    assert deferral is not None and deferral.outcome.status == "pending"
    async with db.pool.acquire() as worker:
        assert await record(worker, [deferral.outcome], deferral.attempts) == {held.id}

    clock.now = MORNING
    dispatcher, senders = make_dispatcher()
    assert await dispatcher.run_once() == 2  # the confirmation and the cancellation notice
    kinds = [message.kind for _, message in senders[next(iter(senders))].sends]
    assert kinds == ["appointment_cancelled"], kinds
    row = await admin_conn.fetchrow(
        "select status, last_error from scheduled_messages where id = $1", held.id
    )
    assert (row["status"], row["last_error"]) == ("cancelled", "appointment cancelled")


async def test_the_check_before_the_send_reads_the_appointment_again(
    db: Database, admin_conn: asyncpg.Connection
) -> None:
    _, appointment = await _booked(admin_conn, db)
    assert db.pool is not None
    async with db.pool.acquire() as worker:
        (held,) = await claim(worker, now=MORNING, limit=10, worker="w1", lease_seconds=60)
    checks = SendChecks(db.pool)
    contact = held.contacts[0].id
    assert await checks(held, contact) is None  # nothing changed since the claim
    async with db.pool.acquire() as clinic:
        await cancel_appointment(clinic, appointment["id"], MORNING)
    stopped = await checks(held, contact)  # a send that waited, right before the provider
    assert stopped is not None
    assert (stopped.outcome.status, stopped.outcome.last_error) == (
        "cancelled",
        "appointment cancelled",
    )
