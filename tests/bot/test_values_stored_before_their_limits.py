"""A row whose name or text was stored before its limit (migrations 20260101009110, 007600,
015500) can still be updated in its other columns; the limits hold for the values written
(migration 20260101015800).

They were CHECK constraints NOT VALID, which PostgreSQL checks against the whole new row of
every update: a patient named with 60 units before 009110 (the bot and the API took 200) could
not /pause, nor be linked by the record of a reminder (the record of the whole batch failed);
a medicine with a long name could not be paused; an appointment with a long place could not be
confirmed. Rows "stored before" are planted here with the limit out of the way, as a database
migrated from before it holds them.
"""

from __future__ import annotations

from datetime import time
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from core.db import Database
from core.templating import TemplateRenderer
from platforms.base import Channel
from scheduler.dispatcher import Dispatcher, DispatcherConfig
from tests import factories
from tests.bot.conftest import Bot
from tests.bot.helpers import registered_patient
from tests.dispatch.recording import RecordingSender

LONG_NAME = "Maria de los Angeles " * 3  # 63 units: the bot and the API took up to 200
LONG_PLACE = "Centro de Salud Universitario, planta 3, consulta 12, entrada por la calle Mayor"


async def _stored_before(
    conn: asyncpg.Connection, table: str, column: str, value: Any, id_: UUID
) -> None:
    """Write ``value`` as a row written before the column's limit: the limit's triggers off
    (replica role), and on a schema where it is still a CHECK, that constraint dropped and added
    back NOT VALID, as migration 009110 left it."""
    checks = await conn.fetch(
        "select conname, pg_get_constraintdef(oid) as definition from pg_constraint"
        " where conrelid = $1::regclass and contype = 'c'"
        " and pg_get_constraintdef(oid) like '%' || $2 || '%'"
        " and not convalidated",
        f"public.{table}",
        column,
    )
    async with conn.transaction():
        for check in checks:
            await conn.execute(f"alter table {table} drop constraint {check['conname']}")
        await conn.execute("set local session_replication_role = replica")
        await conn.execute(f"update {table} set {column} = $1 where id = $2", value, id_)
        await conn.execute("set local session_replication_role = origin")
        for check in checks:
            await conn.execute(
                f"alter table {table} add constraint {check['conname']} {check['definition']}"
                + ("" if "NOT VALID" in check["definition"] else " not valid")
            )


async def test_a_patient_named_before_the_limit_can_pause(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat)
    await _stored_before(admin_conn, "patients", "display_name", LONG_NAME, patient["id"])

    await bot.send(chat, "/pause")

    assert "paused" in bot.last_text(chat).lower()
    assert await admin_conn.fetchval(
        "select reminders_paused from patients where id = $1", patient["id"]
    )
    name = await admin_conn.fetchval(
        "select display_name from patients where id = $1", patient["id"]
    )
    assert name == LONG_NAME  # the clinic's record as it was


async def test_a_reminder_to_a_patient_named_before_the_limit_is_recorded(
    db: Database, admin_conn: asyncpg.Connection
) -> None:
    """The record of their first reminder links the patient (patients.linked_at): that update
    failed, and the whole batch's record with it (the lease ran out, the batch went again)."""
    org = await factories.create_organization(admin_conn)
    # No quiet window: the dispatcher runs on the machine's clock, and at 03:00 the clinic's
    # default night held both messages (found by `make any-hour`).
    off = {"quiet_start": time(0, 0), "quiet_end": time(0, 0)}
    patients = [
        await factories.create_patient(admin_conn, org["id"], contacts={"telegram": str(n)}, **off)
        for n in (880_000_001, 880_000_002)
    ]
    await _stored_before(admin_conn, "patients", "display_name", LONG_NAME, patients[0]["id"])
    for patient in patients:
        await factories.create_message(
            admin_conn, patient["id"], platform="telegram", message_content="Hello"
        )
    sender = RecordingSender()
    config = DispatcherConfig(worker_id="limits", platform_rates={}, recipient_rates={})
    assert db.pool is not None
    dispatcher = Dispatcher(db.pool, {Channel.TELEGRAM: sender}, TemplateRenderer(), config=config)
    assert await dispatcher.run_once() == 2

    statuses = await admin_conn.fetch("select status from scheduled_messages")
    assert [r["status"] for r in statuses] == ["sent", "sent"]
    assert (
        await admin_conn.fetchval("select count(*) from patients where linked_at is not null") == 2
    )


async def test_a_medicine_and_an_appointment_stored_before_their_limits_can_change(
    admin_conn: asyncpg.Connection,
) -> None:
    org = await factories.create_organization(admin_conn)
    patient = await factories.create_patient(admin_conn, org["id"])
    medication, _ = await factories.create_medication(admin_conn, patient["id"])
    appointment = await admin_conn.fetchval(
        "insert into appointments (organization_id, patient_id, starts_at)"
        " values ($1, $2, now() + interval '2 days') returning id",
        org["id"],
        patient["id"],
    )
    await _stored_before(admin_conn, "medications", "name", LONG_NAME, medication["id"])
    await _stored_before(admin_conn, "appointments", "location", LONG_PLACE, appointment)
    await _stored_before(admin_conn, "organizations", "name", LONG_NAME + "Clinic", org["id"])

    await admin_conn.execute(
        "update medications set status = 'paused' where id = $1", medication["id"]
    )
    await admin_conn.execute(
        "update appointments set status = 'confirmed' where id = $1", appointment
    )
    await admin_conn.execute(
        "update organizations set contact_phone = '+15005550100' where id = $1", org["id"]
    )
    assert (
        await admin_conn.fetchval("select status from medications where id = $1", medication["id"])
        == "paused"
    )

    # A value written, not kept, is held to its limit, whoever writes, as before.
    for table, column, value, id_, constraint in (
        ("medications", "name", LONG_NAME + "x", medication["id"], "medications_name_template_max"),
        (
            "appointments",
            "location",
            LONG_PLACE + "x",
            appointment,
            "appointments_location_template_max",
        ),
        (
            "patients",
            "display_name",
            LONG_NAME,
            patient["id"],
            "patients_display_name_template_max",
        ),
        ("patients", "display_name", "\u200b", patient["id"], "patients_display_name_visible"),
    ):
        with pytest.raises(asyncpg.CheckViolationError) as refused:
            await admin_conn.execute(f"update {table} set {column} = $1 where id = $2", value, id_)
        assert refused.value.constraint_name == constraint
        assert "Failing row" not in str(refused.value)


async def test_the_limits_hold_on_insert(admin_conn: asyncpg.Connection) -> None:
    org = await factories.create_organization(admin_conn)
    with pytest.raises(asyncpg.CheckViolationError) as refused:
        await factories.create_patient(admin_conn, org["id"], display_name=LONG_NAME)
    assert refused.value.constraint_name == "patients_display_name_template_max"
    with pytest.raises(asyncpg.CheckViolationError) as refused:
        await factories.create_organization(admin_conn, name=LONG_NAME + "Clinic")
    assert refused.value.constraint_name == "organizations_name_template_max"
    patient = await factories.create_patient(admin_conn, org["id"])
    with pytest.raises(asyncpg.CheckViolationError) as refused:
        await admin_conn.execute(
            "insert into caregivers (patient_id, name, channel, address)"
            " values ($1, $2, 'sms', '+14155550998')",
            patient["id"],
            LONG_NAME,
        )
    assert refused.value.constraint_name == "caregivers_name_template_max"
