"""A message's default expiry has one SQL place, held equal to the dispatcher's.

``public.dose_prompt_window_end`` (which decides whether the dashboard's and the API's Re-send
may copy a failed dose reminder or follow-up) repeated ``scheduler/expiry.py``'s windows as
literals. It now reads ``public.message_default_expiry`` (migration 20260101017940), and this
test ties that function to ``DEFAULT_EXPIRY`` and ``FALLBACK_EXPIRY`` for every message kind, and
the window Re-send reads to the one the dispatcher expires a row by. The planner's reminders and a
snooze's new reminder (which store their ``expires_at``) read the same function, rather than a
two-hour literal of their own.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from core.db import Database
from core.records import MessageKind
from core.settings import Settings
from scheduler.dose_answers import record_dose_answer
from scheduler.expiry import DEFAULT_EXPIRY, FALLBACK_EXPIRY, expiry_time
from scheduler.planner import run_planner_tick
from tests import factories

AT = datetime(2026, 3, 8, 9, 30, tzinfo=UTC)


async def test_every_kind_expires_after_the_dispatchers_window(
    admin_conn: asyncpg.Connection,
) -> None:
    kinds = [str(kind) for kind in MessageKind]
    assert set(DEFAULT_EXPIRY) <= set(kinds), "a default for a kind no message has"
    in_sql = dict(
        await admin_conn.fetch(
            "select k, public.message_default_expiry(k) from unnest($1::text[]) k", kinds
        )
    )
    assert in_sql == {kind: DEFAULT_EXPIRY.get(kind, FALLBACK_EXPIRY) for kind in kinds}


async def test_resend_reads_the_window_the_dispatcher_expires_by(
    admin_conn: asyncpg.Connection,
) -> None:
    org = await factories.create_organization(admin_conn)
    number = factories.phone_number()
    patient = await factories.create_patient(admin_conn, org["id"], contacts={"sms": number})
    _, schedule = await factories.create_medication(admin_conn, patient["id"])
    for hour, kind in enumerate(("medication_reminder", "dose_followup")):
        due = AT + timedelta(hours=hour)
        row = await factories.create_dose_reminder(
            admin_conn, schedule, due, kind=kind, status="failed", expires_at=None
        )
        window_end = await admin_conn.fetchval(
            "select public.dose_prompt_window_end(m) from scheduled_messages m where id = $1",
            row["id"],
        )
        assert window_end == expiry_time(kind, due, None), kind


@pytest.mark.fresh_database
async def test_planned_and_snoozed_reminders_expire_by_the_one_default(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection
) -> None:
    # Changed in the database alone: a reminder still planned with two hours repeats the default.
    await admin_conn.execute(
        """
        create or replace function public.message_default_expiry(p_kind text) returns interval
          language sql immutable parallel safe set search_path = public, pg_temp as $$
          select case p_kind when 'medication_reminder' then interval '3 hours'
                             else interval '24 hours' end
        $$
        """
    )
    assert db.pool is not None
    org = await factories.create_organization(admin_conn)
    patient = await factories.create_patient(admin_conn, org["id"])
    await factories.create_medication(admin_conn, patient["id"])
    await run_planner_tick(db.pool, AT, settings)
    planned = await admin_conn.fetch(
        "select scheduled_time, expires_at, dose_event_id from scheduled_messages"
        " where patient_id = $1 and kind = 'medication_reminder' order by scheduled_time",
        patient["id"],
    )
    assert planned, "the planner made no reminder"
    assert {r["expires_at"] - r["scheduled_time"] for r in planned} == {timedelta(hours=3)}

    until = planned[0]["scheduled_time"] + timedelta(minutes=15)
    async with db.pool.acquire() as conn:
        await record_dose_answer(
            conn, planned[0]["dose_event_id"], "snoozed", channel="sms", at=until, snooze_minutes=15
        )
    snoozed = await admin_conn.fetchval(
        "select expires_at from scheduled_messages where dose_event_id = $1 and scheduled_time = $2"
        " and kind = 'medication_reminder'",
        planned[0]["dose_event_id"],
        until + timedelta(minutes=15),
    )
    assert snoozed == until + timedelta(minutes=15, hours=3)
