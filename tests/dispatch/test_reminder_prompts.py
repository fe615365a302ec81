"""Reminders carry their answer buttons; a reminder whose dose was answered is not sent."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import asyncpg

from platforms.base import Channel
from scheduler.dispatcher import Dispatcher
from tests import factories
from tests.dispatch.conftest import NOON
from tests.dispatch.recording import RecordingSender

MakeDispatcher = Callable[..., tuple[Dispatcher, dict[Channel, RecordingSender]]]


async def _dose_with_reminder(
    conn: asyncpg.Connection,
    kind: str = "medication_reminder",
    patient: asyncpg.Record | None = None,
) -> tuple[asyncpg.Record, asyncpg.Record]:
    if patient is None:
        patient = await factories.create_patient(conn, contacts={"telegram": "777001"})
    _, schedule = await factories.create_medication(conn, patient["id"])
    dose = await factories.create_dose_event(conn, schedule, NOON)
    message = await factories.create_message(
        conn,
        patient["id"],
        kind=kind,
        message_content=None,
        dose_event_id=dose["id"],
        scheduled_time=NOON,
        priority=1,
    )
    return dose, message


async def test_medication_reminder_offers_taken_snooze_skip(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher
) -> None:
    dose, message = await _dose_with_reminder(admin_conn)
    dispatcher, senders = make_dispatcher()
    assert await dispatcher.run_once() == 1
    ((_, sent),) = senders[Channel.TELEGRAM].sends
    hex_id = dose["id"].hex
    assert [o.data for o in sent.options] == [f"d:{hex_id}:t", f"d:{hex_id}:s", f"d:{hex_id}:k"]
    assert [o.label for o in sent.options] == ["Taken", "Snooze 15 min", "Skip"]
    # Generic by default: the medicine is not named without the patient's opt-in.
    assert "Metformin" not in sent.text
    status = await admin_conn.fetchval(
        "select status from scheduled_messages where id = $1", message["id"]
    )
    assert status == "sent"


async def test_followup_for_an_answered_dose_is_cancelled_not_sent(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher
) -> None:
    dose, message = await _dose_with_reminder(admin_conn, kind="dose_followup")
    # The patient answered between planning and the claim (the race record_dose_answer cannot
    # close for a row a worker already holds).
    await admin_conn.execute(
        "update dose_events set status = 'taken', answered_at = $2 where id = $1",
        dose["id"],
        NOON - timedelta(minutes=1),
    )
    dispatcher, senders = make_dispatcher()
    await dispatcher.run_once()
    assert senders[Channel.TELEGRAM].sends == []
    row = await admin_conn.fetchrow(
        "select status, last_error from scheduled_messages where id = $1", message["id"]
    )
    assert row["status"] == "cancelled"
    assert row["last_error"] == "dose already taken"


async def test_a_reminder_or_nag_of_a_stopped_medicine_is_cancelled_at_the_claim(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher
) -> None:
    """The claim's own read withholds it too (a send within a quarter second of its claim is not
    checked again): a medicine deleted or paused by the dashboard or the API leaves its dose
    open, so the dose's answer alone does not stop it."""
    patient = await factories.create_patient(admin_conn, contacts={"telegram": "777002"})
    rows = []
    for kind, status in (("medication_reminder", "deleted"), ("dose_followup", "paused")):
        dose, message = await _dose_with_reminder(admin_conn, kind, patient)
        await admin_conn.execute(
            "update medications set status = $2 where id = $1", dose["medication_id"], status
        )
        rows.append((message["id"], status))
    dispatcher, senders = make_dispatcher()
    await dispatcher.run_once()
    assert senders[Channel.TELEGRAM].sends == []
    for message_id, status in rows:
        row = await admin_conn.fetchrow(
            "select status, last_error from scheduled_messages where id = $1", message_id
        )
        assert (row["status"], row["last_error"]) == ("cancelled", f"medicine {status}")


async def test_appointment_reminder_offers_confirm_reschedule_cancel(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher
) -> None:
    org = await factories.create_organization(admin_conn)
    patient = await factories.create_patient(admin_conn, org["id"], contacts={"telegram": "9001"})
    appointment = await admin_conn.fetchrow(
        "insert into appointments (organization_id, patient_id, starts_at) values ($1, $2, $3)"
        " returning *",
        org["id"],
        patient["id"],
        NOON + timedelta(days=1),
    )
    await factories.create_message(
        admin_conn,
        patient["id"],
        kind="appointment_reminder",
        message_content=None,
        appointment_id=appointment["id"],
        scheduled_time=NOON,
    )
    dispatcher, senders = make_dispatcher()
    assert await dispatcher.run_once() == 1
    ((_, sent),) = senders[Channel.TELEGRAM].sends
    hex_id = appointment["id"].hex
    assert [o.data for o in sent.options] == [f"a:{hex_id}:c", f"a:{hex_id}:r", f"a:{hex_id}:x"]
