"""A caregiver alert held by a quiet window longer than the alert's life still goes at its end.

The planner gives a missed-dose alert 12 hours to go (``CAREGIVER_ALERT_TTL``) from its time.
A clinic whose nights run 19:00-09:00 (14 hours) held a 19:30 alert to 09:00 and it expired at
07:30 on the way: the caregiver was never told. Found by
``tests/planner/test_nag_missed_caregiver_stateful.py``. Real Postgres, the real planner and
dispatcher at a clock the test sets, recording senders.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import asyncpg

from core.db import Database
from core.settings import Settings
from core.sql import query
from core.templating import TemplateRenderer
from platforms.base import Channel
from scheduler.dispatcher import Dispatcher, DispatcherConfig
from scheduler.planner import run_planner_tick
from scheduler.quiet_hours import DEFERRED_REASON
from tests import factories
from tests.dispatch.recording import RecordingSender

DUE = datetime(2026, 3, 4, 18, 0, tzinfo=UTC)  # the dose, in a patient's UTC evening


async def test_an_alert_held_past_its_life_by_a_long_night_goes_at_its_end(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection
) -> None:
    assert db.pool is not None
    org = await factories.create_organization(
        admin_conn, default_quiet_start=time(19, 0), default_quiet_end=time(9, 0)
    )
    patient = await factories.create_patient(
        admin_conn, org["id"], quiet_start=time(0, 0), quiet_end=time(0, 0)
    )
    await admin_conn.execute(
        "insert into caregivers (patient_id, name, channel, address, alert_delay_minutes)"
        " values ($1, 'Sam', 'sms', '+15555550123', 30)",
        patient["id"],
    )
    await factories.create_medication(admin_conn, patient["id"], times=(time(18, 0),))
    telegram, sms = RecordingSender(Channel.TELEGRAM), RecordingSender(Channel.SMS)
    config = DispatcherConfig(worker_id="night", platform_rates={}, recipient_rates={})

    async def worker_at(now: datetime) -> None:
        await run_planner_tick(db.pool, now, settings)
        dispatcher = Dispatcher(
            db.pool,
            {Channel.TELEGRAM: telegram, Channel.SMS: sms},
            TemplateRenderer(),
            lambda: now,
            config,
        )
        await dispatcher.run_once()

    # The reminder at 18:00, its three follow-ups, the missed mark at 19:00, the alert at 19:30
    # inside the clinic's night (19:00-09:00): held to 09:00.
    for minutes in range(0, 24 * 60, 15):
        await worker_at(DUE - timedelta(minutes=15) + timedelta(minutes=minutes))
        if sms.sends:
            break
    alerts = [m for _, m in sms.sends]
    assert len(alerts) == 1, "the caregiver was not told"
    (row,) = await admin_conn.fetch(
        "select status, sent_at from scheduled_messages where kind = 'missed_dose_caregiver'"
        " and patient_id = $1",
        patient["id"],
    )
    assert row["status"] == "sent"
    assert row["sent_at"] == datetime(2026, 3, 5, 9, 0, tzinfo=UTC)


def test_the_record_knows_a_deferral_by_its_reason() -> None:
    """The record tells a quiet-hours deferral by its reason's text: the same words."""
    assert f"'{DEFERRED_REASON}'" in query("dispatch", "record")
