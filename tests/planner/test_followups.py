"""Nag until acknowledged, the missed mark, caregiver alerts, snooze and refills, at exact times
against real Postgres: the test plays the dispatcher by marking rows sent."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import asyncpg
import pytest

from core.db import Database
from core.settings import Settings
from core.templating import TemplateRenderer
from platforms.base import Channel
from scheduler.dispatcher import Dispatcher, DispatcherConfig
from scheduler.dose_answers import record_dose_answer
from scheduler.planner import replan_patient, run_planner_tick
from tests import factories
from tests.dispatch.recording import RecordingSender
from tests.planner.conftest import mark_sent, messages

DUE = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    """``minutes`` after the 08:00 dose."""
    return DUE + timedelta(minutes=minutes)


@pytest.fixture
async def planned(db: Database, settings: Settings, admin_conn: asyncpg.Connection, org):
    """A patient (defaults: every 15 min, 3 times) with a caregiver, one 08:00 daily dose
    planned, and its reminder sent on time."""
    patient = await factories.create_patient(admin_conn, org["id"])
    caregiver = await admin_conn.fetchrow(
        """insert into caregivers (patient_id, name, channel, address, alert_delay_minutes)
           values ($1, 'Sam', 'sms', '+15555550100', 30) returning *""",
        patient["id"],
    )
    med, _ = await factories.create_medication(
        admin_conn, patient["id"], times=(time(8, 0),), pill_count=30
    )
    await run_planner_tick(db.pool, at(-60), settings)
    reminder = (await messages(admin_conn, patient["id"], "medication_reminder"))[0]
    assert reminder["scheduled_time"] == DUE
    await mark_sent(admin_conn, reminder["id"], DUE)
    return patient, caregiver, med, reminder["dose_event_id"]


async def _nags(conn: asyncpg.Connection, patient_id, status: str | None = "pending"):
    return [
        (r["scheduled_time"], r["idempotency_key"])
        for r in await messages(conn, patient_id, "dose_followup", status)
    ]


async def _dose(conn: asyncpg.Connection, dose_id) -> asyncpg.Record:
    return await conn.fetchrow("select * from dose_events where id = $1", dose_id)


async def test_nags_missed_and_caregiver_alert_at_the_right_times(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection, planned
) -> None:
    assert db.pool is not None
    patient, caregiver, _med, dose_id = planned
    # Before the reminder went out, nothing is planned.
    first = await run_planner_tick(db.pool, at(1), settings)
    assert first.followups_created == 3
    assert await _nags(admin_conn, patient["id"]) == [
        (at(15), f"nag:{dose_id}:0:1"),
        (at(30), f"nag:{dose_id}:0:2"),
        (at(45), f"nag:{dose_id}:0:3"),
    ]
    nag = (await messages(admin_conn, patient["id"], "dose_followup"))[0]
    assert (nag["platform"], nag["priority"], nag["dose_event_id"]) == ("auto", 1, dose_id)
    # Each expires when the next is due, the last with the dose (its missed mark).
    expiries = [r["expires_at"] for r in await messages(admin_conn, patient["id"], "dose_followup")]
    assert expiries == [at(30), at(45), at(60)]
    assert (await _dose(admin_conn, dose_id))["nag_count"] == 3
    # Idempotent: the next ticks add nothing.
    again = await run_planner_tick(db.pool, at(2), settings)
    assert (again.followups_created, again.followups_cancelled) == (0, 0)

    for row in await messages(admin_conn, patient["id"], "dose_followup"):
        await mark_sent(admin_conn, row["id"], row["scheduled_time"])
    # One second before the last interval ends the dose is still open.
    early = await run_planner_tick(db.pool, at(60) - timedelta(seconds=1), settings)
    assert early.doses_missed == 0
    assert (await _dose(admin_conn, dose_id))["status"] == "due"

    missed = await run_planner_tick(db.pool, at(60), settings)
    assert (missed.doses_missed, missed.caregiver_alerts) == (1, 1)
    assert (await _dose(admin_conn, dose_id))["status"] == "missed"
    alerts = await messages(admin_conn, patient["id"], "missed_dose_caregiver")
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert["scheduled_time"] == at(90)  # 30 minutes after the miss
    assert (alert["caregiver_id"], alert["platform"], alert["dose_event_id"]) == (
        caregiver["id"],
        "sms",
        dose_id,
    )
    # Generic unless the patient allowed details: no medication in the payload. The dose's set
    # time names it where the clocks sprang over it (core/dose_times.py).
    assert alert["payload"] == {
        "dose_event_id": str(dose_id),
        "share_details": False,
        "local_date": "2026-03-02",
        "local_time": "08:00:00",
    }
    assert alert["idempotency_key"] == f"caregiver:{dose_id}:{caregiver['id']}"
    later = await run_planner_tick(db.pool, at(61), settings)
    assert (later.doses_missed, later.caregiver_alerts) == (0, 0)

    # A late answer still counts and calls the caregiver alert off.
    async with db.pool.acquire() as conn:
        result = await record_dose_answer(conn, dose_id, "taken", channel="telegram", at=at(70))
    assert (result.status, result.pill_count_left) == ("taken", 29)
    assert await messages(admin_conn, patient["id"], "missed_dose_caregiver") == []
    assert len(await messages(admin_conn, patient["id"], "missed_dose_caregiver", "cancelled")) == 1


async def test_answer_cancels_pending_nags_and_nothing_more_happens(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection, planned
) -> None:
    assert db.pool is not None
    patient, _, _, dose_id = planned
    await run_planner_tick(db.pool, at(1), settings)
    first_nag = (await messages(admin_conn, patient["id"], "dose_followup"))[0]
    await mark_sent(admin_conn, first_nag["id"], at(15))
    async with db.pool.acquire() as conn:
        await record_dose_answer(conn, dose_id, "taken", channel="sms", at=at(20))
    assert await _nags(admin_conn, patient["id"]) == []
    assert [t for t, _ in await _nags(admin_conn, patient["id"], "cancelled")] == [at(30), at(45)]
    after = await run_planner_tick(db.pool, at(120), settings)
    assert (after.followups_created, after.doses_missed, after.caregiver_alerts) == (0, 0, 0)
    assert (await _dose(admin_conn, dose_id))["status"] == "taken"


async def test_caregiver_sees_details_only_when_allowed(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection, planned
) -> None:
    patient, caregiver, med, dose_id = planned
    await admin_conn.execute(
        "update caregivers set share_details = true, alert_delay_minutes = 0 where id = $1",
        caregiver["id"],
    )
    await run_planner_tick(db.pool, at(60), settings)
    alert = (await messages(admin_conn, patient["id"], "missed_dose_caregiver"))[0]
    assert alert["scheduled_time"] == at(60)
    assert alert["payload"] == {
        "dose_event_id": str(dose_id),
        "share_details": True,
        "medication_id": str(med["id"]),
        "local_date": "2026-03-02",
        "local_time": "08:00:00",
    }


async def test_no_caregiver_alert_without_active_caregiver(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection, planned
) -> None:
    _patient, caregiver, _, _ = planned
    await admin_conn.execute("update caregivers set active = false where id = $1", caregiver["id"])
    stats = await run_planner_tick(db.pool, at(60), settings)
    assert (stats.doses_missed, stats.caregiver_alerts) == (1, 0)


async def test_snooze_restarts_nags_after_the_snoozed_reminder(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection, planned
) -> None:
    assert db.pool is not None
    patient, _, _, dose_id = planned
    await run_planner_tick(db.pool, at(1), settings)
    async with db.pool.acquire() as conn:
        snoozed = await record_dose_answer(
            conn, dose_id, "snoozed", channel="telegram", at=at(5), snooze_minutes=30
        )
    assert snoozed.snoozed_until == at(35)
    assert await _nags(admin_conn, patient["id"]) == []
    # While the snoozed reminder waits, nothing is planned and the dose is not missed.
    waiting = await run_planner_tick(db.pool, at(34), settings)
    assert (waiting.followups_created, waiting.doses_missed) == (0, 0)
    again = await run_planner_tick(db.pool, at(61), settings)
    assert again.doses_missed == 0

    reminder = (await messages(admin_conn, patient["id"], "medication_reminder"))[0]
    assert reminder["scheduled_time"] == at(35)
    await mark_sent(admin_conn, reminder["id"], at(35))
    # Nags restart from the snoozed reminder's time (08:35).
    resumed = await run_planner_tick(db.pool, at(36), settings)
    generation = int(at(35).timestamp())
    assert resumed.followups_created == 3
    assert await _nags(admin_conn, patient["id"]) == [
        (at(50), f"nag:{dose_id}:{generation}:1"),
        (at(65), f"nag:{dose_id}:{generation}:2"),
        (at(80), f"nag:{dose_id}:{generation}:3"),
    ]
    missed = await run_planner_tick(db.pool, at(95), settings)
    assert missed.doses_missed == 1
    assert (await _dose(admin_conn, dose_id))["status"] == "missed"


async def test_nags_skip_quiet_hours_and_replan_on_quiet_hours_change(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection, org
) -> None:
    assert db.pool is not None
    patient = await factories.create_patient(
        admin_conn, org["id"], quiet_start=time(21, 0), quiet_end=time(7, 0)
    )
    await factories.create_medication(admin_conn, patient["id"], times=(time(20, 30),))
    evening = datetime(2026, 3, 2, 20, 30, tzinfo=UTC)
    await run_planner_tick(db.pool, evening - timedelta(hours=1), settings)
    reminder = (await messages(admin_conn, patient["id"], "medication_reminder"))[0]
    await mark_sent(admin_conn, reminder["id"], evening)
    await run_planner_tick(db.pool, evening + timedelta(minutes=1), settings)
    # 20:45 is before the quiet window; 21:00 and 21:15 are inside it.
    assert [t for t, _ in await _nags(admin_conn, patient["id"])] == [
        evening + timedelta(minutes=15)
    ]
    # The quiet window now starts at 20:40: the 20:45 follow-up is called off at once.
    await admin_conn.execute(
        "update patients set quiet_start = '20:40' where id = $1", patient["id"]
    )
    async with db.pool.acquire() as conn:
        stats = await replan_patient(conn, patient["id"], evening + timedelta(minutes=2))
    assert stats.followups_cancelled == 1
    assert await _nags(admin_conn, patient["id"]) == []
    # Quiet hours do not stop the missed mark: 20:30 + 4 x 15 min.
    missed = await run_planner_tick(db.pool, evening + timedelta(hours=1), settings)
    assert missed.doses_missed == 1


async def test_a_worker_back_from_an_outage_sends_the_newest_follow_up_only(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection, planned
) -> None:
    """Follow-ups planned ahead, then the worker down from 08:10 to 08:50: back, it sent all
    three at once (each expired only at the missed mark), the same question three times in a
    second (seen in `medremind dev` after a restart). Now the two whose successor was due are
    expired, and only the newest goes."""
    assert db.pool is not None
    patient, _caregiver, _med, _dose_id = planned
    await run_planner_tick(db.pool, at(1), settings)
    sender = RecordingSender(Channel.TELEGRAM)
    config = DispatcherConfig(worker_id="back", platform_rates={}, recipient_rates={})
    back = at(50)
    await Dispatcher(
        db.pool, {Channel.TELEGRAM: sender}, TemplateRenderer(), lambda: back, config
    ).run_once()
    rows = await messages(admin_conn, patient["id"], "dose_followup", None)
    assert [r["status"] for r in rows] == ["expired", "expired", "sent"]
    assert len(sender.sends) == 1


async def test_nag_settings_per_patient_and_late_reminder(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection, org
) -> None:
    patient = await factories.create_patient(
        admin_conn, org["id"], nag_interval_minutes=10, nag_max=2
    )
    await factories.create_medication(admin_conn, patient["id"], times=(time(8, 0),))
    await run_planner_tick(db.pool, at(-60), settings)
    reminder = (await messages(admin_conn, patient["id"], "medication_reminder"))[0]
    # The reminder left 4 minutes late: follow-ups count from when it actually went out.
    await mark_sent(admin_conn, reminder["id"], at(4))
    await run_planner_tick(db.pool, at(5), settings)
    assert [t for t, _ in await _nags(admin_conn, patient["id"])] == [at(14), at(24)]
    assert (await run_planner_tick(db.pool, at(33), settings)).doses_missed == 0
    assert (await run_planner_tick(db.pool, at(34), settings)).doses_missed == 1


async def test_expired_reminder_gets_no_nags_but_dose_is_missed(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection, planned
) -> None:
    _patient, _, _, dose_id = planned
    await admin_conn.execute(
        "update scheduled_messages set status = 'expired', sent_at = null where dose_event_id = $1",
        dose_id,
    )
    stats = await run_planner_tick(db.pool, at(30), settings)
    assert stats.followups_created == 0
    assert (await run_planner_tick(db.pool, at(60), settings)).doses_missed == 1


@pytest.mark.parametrize("ended", ["expired", "failed"])
async def test_a_dose_whose_reminder_never_went_out_alerts_no_caregiver(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection, planned, ended: str
) -> None:
    """Found by tests/web/test_clinic_and_patient_stateful.py: a worker down for hours let the
    reminder expire unsent, and two hours later the caregiver was told "Ana has not confirmed a
    scheduled reminder from 12:02 PM" about a reminder Ana never got. As for a reminder a /pause
    withheld: missed, with no alert (nobody is told the patient ignored it)."""
    patient, _, _, dose_id = planned
    await admin_conn.execute(
        "update scheduled_messages set status = $2, sent_at = null where dose_event_id = $1",
        dose_id,
        ended,
    )
    stats = await run_planner_tick(db.pool, at(60), settings)
    assert (stats.doses_missed, stats.caregiver_alerts) == (1, 0)
    assert (await _dose(admin_conn, dose_id))["status"] == "missed"
    assert await messages(admin_conn, patient["id"], "missed_dose_caregiver", None) == []


async def test_a_reminder_still_pending_past_its_expiry_is_missed_at_that_pass(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection, planned
) -> None:
    """Found by tests/bot/test_patients_across_zones_stateful.py (random run, 150x50): the worker
    away for three hours, its first pass's planner tick saw the dose's reminder still pending
    (the dispatcher expires it only when it claims it, after the tick) and left the dose due
    past its missed mark, until the pass after. A pending reminder past its expires_at is never
    sent: read as expired, the dose is missed at once, with no caregiver alert."""
    patient, _, _, dose_id = planned
    await admin_conn.execute(
        """update scheduled_messages set status = 'pending', sent_at = null, expires_at = $2
            where dose_event_id = $1""",
        dose_id,
        at(120),
    )
    # Before its expiry the reminder may still go: nothing is decided.
    assert (await run_planner_tick(db.pool, at(119), settings)).doses_missed == 0
    assert (await _dose(admin_conn, dose_id))["status"] == "due"
    stats = await run_planner_tick(db.pool, at(180), settings)
    assert (stats.doses_missed, stats.caregiver_alerts) == (1, 0)
    assert (await _dose(admin_conn, dose_id))["status"] == "missed"
    assert await messages(admin_conn, patient["id"], "missed_dose_caregiver", None) == []


async def test_refill_reminder_once_per_count_window(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection, org
) -> None:
    assert db.pool is not None
    patient = await factories.create_patient(admin_conn, org["id"])
    med, _ = await factories.create_medication(
        admin_conn, patient["id"], pill_count=12, pills_per_dose=1, refill_days_before=5
    )
    now = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    # 2 doses a day: 12 pills last 6 days, more than the 5-day warning.
    assert (await run_planner_tick(db.pool, now, settings)).refill_reminders == 0
    doses = await admin_conn.fetch("select id from dose_events order by due_at limit 3")
    async with db.pool.acquire() as conn:
        for i, dose in enumerate(doses[:2]):
            result = await record_dose_answer(
                conn, dose["id"], "taken", channel="sms", at=now + timedelta(hours=1 + 12 * i)
            )
    assert result.pill_count_left == 10
    stats = await run_planner_tick(db.pool, now + timedelta(hours=14), settings)
    assert stats.refill_reminders == 1
    rows = await messages(admin_conn, patient["id"], "refill_reminder")
    assert len(rows) == 1
    assert rows[0]["scheduled_time"] == now + timedelta(hours=14)
    assert rows[0]["payload"] == {
        "medication_id": str(med["id"]),
        "doses_left": 10,
        "runs_out_on": "2026-03-07",
    }
    # Once per window: another dose taken does not remind again.
    async with db.pool.acquire() as conn:
        await record_dose_answer(conn, doses[2]["id"], "taken", channel="sms", at=now)
    assert (
        await run_planner_tick(db.pool, now + timedelta(hours=15), settings)
    ).refill_reminders == 0
    # A refill re-arms it; the next low count reminds again.
    await admin_conn.execute("update medications set pill_count = 60 where id = $1", med["id"])
    assert (
        await admin_conn.fetchval(
            "select refill_reminded_at from medications where id = $1", med["id"]
        )
        is None
    )
    assert (
        await run_planner_tick(db.pool, now + timedelta(hours=16), settings)
    ).refill_reminders == 0
    await admin_conn.execute("update medications set pill_count = 4 where id = $1", med["id"])
    assert (
        await run_planner_tick(db.pool, now + timedelta(days=3), settings)
    ).refill_reminders == 1


async def test_refill_rate_follows_weekdays_and_fractional_doses(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection, org
) -> None:
    patient = await factories.create_patient(admin_conn, org["id"])
    # One 1.5-pill dose (2 whole pills) on Mon, Wed, Fri: 6/7 pills a day; 5 days need 4.3.
    await factories.create_medication(
        admin_conn,
        patient["id"],
        times=(time(8, 0),),
        schedule={"days_of_week": [1, 3, 5]},
        pill_count=5,
        pills_per_dose=1.5,
    )
    now = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    assert (await run_planner_tick(db.pool, now, settings)).refill_reminders == 0
    await admin_conn.execute("update medications set pill_count = 4")
    assert (await run_planner_tick(db.pool, now, settings)).refill_reminders == 1


async def test_nag_interval_change_moves_pending_followups(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection, planned
) -> None:
    patient, _, _, dose_id = planned
    await run_planner_tick(db.pool, at(1), settings)
    await admin_conn.execute(
        "update patients set nag_interval_minutes = 20, nag_max = 2 where id = $1", patient["id"]
    )
    stats = await run_planner_tick(db.pool, at(2), settings)
    # Follow-ups 1 and 2 move to 08:20 and 08:40; the third is no longer planned.
    assert (stats.followups_created, stats.followups_cancelled) == (2, 1)
    assert await _nags(admin_conn, patient["id"]) == [
        (at(20), f"nag:{dose_id}:0:1"),
        (at(40), f"nag:{dose_id}:0:2"),
    ]
    assert (await run_planner_tick(db.pool, at(59), settings)).doses_missed == 0
    assert (await run_planner_tick(db.pool, at(60), settings)).doses_missed == 1
