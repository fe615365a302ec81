"""``public.resend_message`` of a dose's reminder or follow-up (migration 20260101016500): only
while its dose is open and within its time, and the copy keeps that time's end.

A failed dose reminder was re-sent however late: the copy, due at once, dropped the reminder's
expiry once past, so "Time for your 8:00 AM dose" reached the patient at 19:00, an hour before
the next dose (a double dose). The dashboard's Re-send and the API's both call this function.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from core.resend import ResendOutcome, resend_message
from scheduler.expiry import DEFAULT_EXPIRY
from tests import factories

AT = datetime(2026, 5, 4, 19, 0, tzinfo=UTC)


async def _failed_prompt(
    conn: asyncpg.Connection, kind: str, scheduled: datetime, **overrides: object
) -> asyncpg.Record:
    """A failed ``kind`` message of a dose due at ``scheduled``, with no expiry unless given."""
    org = await factories.create_organization(conn)
    number = factories.phone_number()
    patient = await factories.create_patient(conn, org["id"], contacts={"sms": number})
    _, schedule = await factories.create_medication(conn, patient["id"])
    values = {"expires_at": None, **overrides}
    return await factories.create_dose_reminder(
        conn, schedule, scheduled, kind=kind, status="failed", **values
    )


@pytest.mark.parametrize("kind", ["medication_reminder", "dose_followup"])
async def test_a_dose_prompt_past_its_time_is_not_resent(db, admin_conn, kind: str) -> None:
    # The dispatcher's own window for a row without expires_at, held to here.
    window = DEFAULT_EXPIRY[kind]
    late = await _failed_prompt(admin_conn, kind, AT - window)
    result = await resend_message(db.pool, late["id"], late["organization_id"], actor="api", at=AT)
    assert result.outcome is ResendOutcome.TOO_LATE
    assert result.status == (AT).strftime("%Y-%m-%dT%H:%M:%SZ")

    in_time = await _failed_prompt(admin_conn, kind, AT - window + timedelta(minutes=1))
    done = await resend_message(
        db.pool, in_time["id"], in_time["organization_id"], actor="api", at=AT
    )
    assert done.outcome is ResendOutcome.RESENT
    copy = await admin_conn.fetchrow(
        "select scheduled_time, expires_at from scheduled_messages where id = $1", done.message_id
    )
    # Due now, and no later than the original's window: the worker expires it after that.
    assert copy["scheduled_time"] == AT
    assert copy["expires_at"] == AT + timedelta(minutes=1)
    assert await admin_conn.fetchval("select count(*) from scheduled_messages") == 3


async def test_the_reminders_own_expiry_is_its_window(db, admin_conn) -> None:
    # The planner writes due + 2 h; a reminder given a shorter one is held to it.
    message = await _failed_prompt(
        admin_conn,
        "medication_reminder",
        AT - timedelta(minutes=30),
        expires_at=AT - timedelta(minutes=10),
    )
    result = await resend_message(
        db.pool, message["id"], message["organization_id"], actor="api", at=AT
    )
    assert result.outcome is ResendOutcome.TOO_LATE


@pytest.mark.parametrize("status", ["taken", "skipped", "missed", "cancelled"])
async def test_a_reminder_of_an_answered_dose_is_not_resent(db, admin_conn, status: str) -> None:
    message = await _failed_prompt(admin_conn, "medication_reminder", AT - timedelta(minutes=20))
    await admin_conn.execute(
        "update dose_events set status = $2 where id = $1", message["dose_event_id"], status
    )
    result = await resend_message(
        db.pool, message["id"], message["organization_id"], actor="api", at=AT
    )
    assert (result.outcome, result.status) == (ResendOutcome.DOSE_CLOSED, status)
    assert await admin_conn.fetchval("select count(*) from scheduled_messages") == 1


async def test_other_messages_still_drop_an_expiry_past(db, admin_conn) -> None:
    org = await factories.create_organization(admin_conn)
    patient = await factories.create_patient(
        admin_conn, org["id"], contacts={"sms": "+14155550178"}
    )
    message = await factories.create_message(
        admin_conn,
        patient["id"],
        status="failed",
        scheduled_time=AT - timedelta(hours=5),
        expires_at=AT - timedelta(hours=1),
    )
    result = await resend_message(db.pool, message["id"], org["id"], actor="api", at=AT)
    assert result.outcome is ResendOutcome.RESENT
    assert (
        await admin_conn.fetchval(
            "select expires_at from scheduled_messages where id = $1", result.message_id
        )
        is None
    )
