"""One patient's bad row stops none of the planner tick's later steps for the others.

The tick's last transaction (follow-ups with the missed mark and caregiver alerts, refills, the
release of quiet-hours deferrals, appointment sync) was all-or-nothing, and a pause end that
raised a ``KeyError`` stopped the whole tick. A patient whose zone no zone database loads
('Etc/Unknown', ICU's name for 'Factory', stored before the API and the dashboard refused it)
made them raise on every tick: on the code before scheduler/planning_steps.py,
``run_planner_tick`` raised ``ZoneInfoNotFoundError`` here (from the pause end), and no clinic's
patient got a reminder planned, a follow-up, a refill reminder, an appointment confirmation or
the end of their pause. Now each bad patient is recorded per step, left out and retried; once
its zone is fixed the next tick does what was left. A new such zone is refused where a
clinician writes it (migration 20260101018710).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from prometheus_client import REGISTRY

from core.db import Database
from core.logs import JsonFormatter, RedactionFilter
from core.settings import Settings
from medremind.check import planner_lines
from medremind.web.metrics import refresh_backlog
from scheduler.planner import run_planner_tick
from scheduler.quiet_hours import DEFERRED_REASON
from scheduler.quiet_release import RELEASED_REASON
from tests import factories
from tests.erasure_race import erased_while_waiting
from tests.integration.clinician import as_clinician
from tests.log_probe import SENTINELS
from tests.planner.conftest import make_dose, messages

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
PHONE = "+14155550143"
UNKNOWN_ZONE = "Etc/Unknown"


async def _patient_with_everything(
    conn: asyncpg.Connection, organization_id: UUID, **overrides: Any
) -> asyncpg.Record:
    """A patient with an open dose whose reminder went out 30 minutes ago (follow-ups are due),
    a medicine about to run out (a refill reminder), an appointment the dashboard booked in the
    table (a confirmation) and a message deferred to the end of quiet hours."""
    patient = await factories.create_patient(conn, organization_id, **overrides)
    _, schedule = await factories.create_medication(
        conn, patient["id"], times=(time(11, 30),), pill_count=2, name="Warfarin"
    )
    await make_dose(conn, schedule, NOW - timedelta(minutes=30), reminder_status="sent")
    await conn.execute(
        "insert into appointments (organization_id, patient_id, starts_at) values ($1, $2, $3)",
        organization_id,
        patient["id"],
        NOW + timedelta(days=3),
    )
    await factories.create_message(
        conn,
        patient["id"],
        kind="refill_reminder",
        scheduled_time=NOW + timedelta(hours=20),
        last_error=DEFERRED_REASON,
        message_content=None,
        payload={},
        idempotency_key=f"deferred:{patient['id']}",
    )
    return patient


async def _unknown_zone(conn: asyncpg.Connection, patient_id: UUID) -> None:
    """The zone as rows stored before migration 20260101018710 hold it (its trigger is for
    the Supabase roles; this is the superuser, as a migration)."""
    await conn.execute("update patients set timezone = $2 where id = $1", patient_id, UNKNOWN_ZONE)


async def _refills(conn: asyncpg.Connection, patient_id: UUID) -> int:
    """The refill reminders the planner made for the patient (not the deferred one planted)."""
    return await conn.fetchval(
        "select count(*) from scheduled_messages where patient_id = $1 and kind ="
        " 'refill_reminder' and idempotency_key like 'refill:%'",
        patient_id,
    )


async def _failures(conn: asyncpg.Connection) -> dict[tuple[str, UUID], int]:
    rows = await conn.fetch("select step, unit_id, failures from planner_step_failures")
    return {(r["step"], r["unit_id"]): r["failures"] for r in rows}


async def test_a_patient_in_an_unknown_zone_stops_no_step_for_the_others(
    db: Database,
    settings: Settings,
    admin_conn: asyncpg.Connection,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert db.pool is not None
    clinic_a = await factories.create_organization(admin_conn)
    clinic_b = await factories.create_organization(admin_conn)
    healthy = await _patient_with_everything(admin_conn, clinic_a["id"])
    neighbour = await _patient_with_everything(admin_conn, clinic_b["id"])  # the bad one's clinic
    bad = await _patient_with_everything(
        admin_conn, clinic_b["id"], display_name="Quendolyn Probe", contacts={"sms": PHONE}
    )
    await _unknown_zone(admin_conn, bad["id"])
    # A pause with an end that has passed, in each clinic.
    resuming, paused_bad = [
        await factories.create_patient(
            admin_conn,
            clinic["id"],
            reminders_paused=True,
            reminders_paused_until=NOW - timedelta(minutes=5),
        )
        for clinic in (clinic_a, clinic_b)
    ]
    # Paused after a dose was reminded: the dose still waits for an answer.
    _, paused_schedule = await factories.create_medication(
        admin_conn, paused_bad["id"], times=(time(11, 30),)
    )
    await make_dose(
        admin_conn, paused_schedule, NOW - timedelta(minutes=30), reminder_status="sent"
    )
    await _unknown_zone(admin_conn, paused_bad["id"])
    bad_appointment = await admin_conn.fetchval(
        "select id from appointments where patient_id = $1", bad["id"]
    )
    # Clinic B's admin changes its default quiet hours on the dashboard: what waits out the
    # old window (08:00) is judged again, and at noon it is outside the new one: it goes now.
    # (The bad patient's is judged in UTC: scheduler.quiet_hours.deferral_end.)
    admin = await factories.create_clinician(admin_conn, clinic_b["id"], role="admin")
    async with as_clinician(admin_conn, admin["id"]) as conn:
        await conn.execute(
            "update organizations set default_quiet_start = '23:00', default_quiet_end = '07:00'"
            " where id = public.current_organization_id()"
        )

    with caplog.at_level(logging.INFO, logger="scheduler.planner"):
        first = await run_planner_tick(db.pool, NOW, settings)
        # Every other patient, in either clinic, as if the bad ones did not exist.
        for patient in (healthy, neighbour):
            assert await messages(admin_conn, patient["id"], "dose_followup")
            assert await _refills(admin_conn, patient["id"]) == 1
            assert await messages(admin_conn, patient["id"], "appointment_confirmation")
        deferred = await admin_conn.fetchrow(
            "select scheduled_time, last_error from scheduled_messages where idempotency_key = $1",
            f"deferred:{neighbour['id']}",
        )
        assert (deferred["scheduled_time"], deferred["last_error"]) == (NOW, RELEASED_REASON)
        assert not await admin_conn.fetchval(
            "select reminders_paused from patients where id = $1", resuming["id"]
        )
        assert await _failures(admin_conn) == {
            ("pause_end", paused_bad["id"]): 1,
            ("followups", bad["id"]): 1,
            ("followups", paused_bad["id"]): 1,  # its open dose, as the bad one's
            ("refills", bad["id"]): 1,
            ("appointments", bad_appointment): 1,
        }
        # Python's zoneinfo refused it in the follow-ups, PostgreSQL's "at time zone" in refills.
        classes = await admin_conn.fetch(
            "select step, error_class, sqlstate from planner_step_failures where unit_id = $1"
            " order by step",
            bad["id"],
        )
        assert [tuple(r) for r in classes] == [
            ("followups", "ZoneInfoNotFoundError", None),
            ("refills", "InvalidParameterValueError", "22023"),
        ]
        assert first.errors >= 3  # the two steps' and the pause end's (+ the schedule's)

        # Still broken: each is tried alone again and counted; the others are not done twice.
        await run_planner_tick(db.pool, NOW + timedelta(minutes=1), settings)
        assert set((await _failures(admin_conn)).values()) == {2}
        assert await _refills(admin_conn, healthy["id"]) == 1
        # What the operators see: /metrics' gauge (its alert pages) and `medremind check`.
        await refresh_backlog(db.pool)
        failed = REGISTRY.get_sample_value("medremind_planner_steps_failed", {"step": "refills"})
        assert failed == 1
        lines = await planner_lines(settings)
        assert (
            "Planner steps: FAILING - 2 patient(s) miss what a step of the planner tick does for"
            " them (appointments 1, followups 2, pause_end 1, refills 1:"
        ) in "\n".join(lines)

        # Fixed by the clinic (a zone the trigger accepts): the next tick does what was left.
        async with as_clinician(admin_conn, admin["id"]) as conn:
            await conn.execute(
                "update patients set timezone = 'Europe/Madrid' where id = any($1::uuid[])",
                [bad["id"], paused_bad["id"]],
            )
        await run_planner_tick(db.pool, NOW + timedelta(minutes=2), settings)
        assert await _failures(admin_conn) == {}
        assert await messages(admin_conn, bad["id"], "dose_followup")
        assert await _refills(admin_conn, bad["id"]) == 1
        assert await messages(admin_conn, bad["id"], "appointment_confirmation")
        assert not await admin_conn.fetchval(
            "select reminders_paused from patients where id = $1", paused_bad["id"]
        )
        assert "Planner steps: every step runs for every patient" in await planner_lines(settings)

    said = [(r.getMessage(), getattr(r, "step", None)) for r in caplog.records]
    assert said.count(("planner step failed", "refills")) == 2  # its 1st and 2nd failure
    assert ("planner step done again", "refills") in said
    # As production writes them: ids, never the name, the number or the medicine.
    formatter, redaction = JsonFormatter(), RedactionFilter()
    lines = [formatter.format(r) for r in caplog.records if redaction.filter(r)]
    leaked = [line for line in lines if any(s in line for s in (*SENTINELS, PHONE))]
    assert leaked == []


@pytest.mark.parametrize("own", [False, True], ids=["clinics", "self-registered"])
async def test_a_patient_erased_while_a_step_is_retried_for_them_fails_no_tick(
    db: Database,
    settings: Settings,
    admin_conn: asyncpg.Connection,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
    own: bool,
) -> None:
    """A patient's follow-ups, retried alone after an earlier failure, are written while the
    patient is erased: the write is refused (a clinic's patient, by the tombstone's trigger) or
    fails its foreign key (a self-registered one, whose row the erasure deletes). The tick
    recorded that as the step's failure: for the deleted patient the record's own foreign key
    failed and with it the whole tick (no one's reminders planned until the next); for the
    tombstone an error was logged each time. The patient is gone: nothing is recorded, nothing
    logged as an error, and the tick does the rest."""
    assert db.pool is not None
    org = await factories.create_organization(admin_conn)
    other = await factories.create_patient(admin_conn, org["id"])
    await factories.create_medication(admin_conn, other["id"], times=(time(18, 0),))
    patient = await factories.create_patient(admin_conn, None if own else org["id"])
    _, schedule = await factories.create_medication(
        admin_conn, patient["id"], times=(time(11, 30),)
    )
    # Planned before: the tick's batch has nothing to write for them.
    await admin_conn.execute(
        "update reminder_schedules set planned_until = $2 where id = $1",
        schedule["id"],
        NOW + timedelta(days=30),
    )
    await make_dose(admin_conn, schedule, NOW - timedelta(minutes=30), reminder_status="sent")
    await admin_conn.execute(
        "insert into planner_step_failures (step, unit_id, patient_id, first_failed_at,"
        " failed_at, error_class) values ('followups', $1, $1, $2, $2, 'ZoneInfoNotFoundError')",
        patient["id"],
        NOW - timedelta(minutes=1),
    )
    with caplog.at_level(logging.INFO, logger="scheduler.planner"):
        stats = await erased_while_waiting(
            database_url, admin_conn, patient["id"], run_planner_tick(db.pool, NOW, settings)
        )
    assert stats.schedules_planned == 1  # the other patient's
    assert len(await messages(admin_conn, other["id"], "medication_reminder")) == 2
    assert not await admin_conn.fetch("select * from planner_step_failures")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_clinician_cannot_store_a_zone_nothing_can_be_planned_in(
    admin_conn: asyncpg.Connection, org: asyncpg.Record
) -> None:
    """The door: through Supabase (the dashboard's role) a zone no zone database knows is
    refused, naming the column and a good value; a row stored before keeps working."""
    clinician = await factories.create_clinician(admin_conn, org["id"])
    patient = await factories.create_patient(admin_conn, org["id"])
    for zone in (UNKNOWN_ZONE, "europe/madrid", "UTC+3"):
        with pytest.raises(asyncpg.CheckViolationError) as refused:
            async with as_clinician(admin_conn, clinician["id"]) as conn:
                await conn.execute(
                    "update patients set timezone = $2 where id = $1", patient["id"], zone
                )
        assert refused.value.args[0] == (
            f'patients.timezone: "{zone}" is not a time zone reminders can be planned in'
        )
        assert refused.value.column_name == "timezone"
        assert "Europe/Madrid" in (refused.value.hint or "")
    await _unknown_zone(admin_conn, patient["id"])  # stored before the trigger
    async with as_clinician(admin_conn, clinician["id"]) as conn:  # its other columns change
        await conn.execute("update patients set nag_max = 2 where id = $1", patient["id"])
    medication, _ = await factories.create_medication(admin_conn, patient["id"])
    with pytest.raises(asyncpg.CheckViolationError, match=r"reminder_schedules\.timezone"):
        async with as_clinician(admin_conn, clinician["id"]) as conn:
            await conn.execute(
                "insert into reminder_schedules (medication_id, patient_id, times_of_day,"
                " start_date, timezone) values ($1, $2, '{08:00}', '2026-01-01', 'Mars/Olympus')",
                medication["id"],
                patient["id"],
            )
