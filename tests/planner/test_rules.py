"""The planner's pure rules, by tables of cases: zones, keys, quiet hours, follow-up plans."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest

from scheduler.planning_rules import (
    followup_key,
    in_quiet_hours,
    plan_nags,
    recurrence_for,
    reminder_key,
    resolve_timezone,
)
from scheduler.planning_stats import PlannerStats

DUE = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("schedule_tz", "patient_tz", "mode", "home_tz", "expected"),
    [
        ("Asia/Kolkata", "Europe/Berlin", "follow", "Europe/Berlin", "Asia/Kolkata"),
        ("Asia/Kolkata", "Europe/Berlin", "home", "Europe/Paris", "Asia/Kolkata"),
        (None, "America/New_York", "follow", "Europe/Berlin", "America/New_York"),
        (None, "America/New_York", "home", "Europe/Berlin", "Europe/Berlin"),
        (None, "America/New_York", "home", None, "America/New_York"),
    ],
)
def test_resolve_timezone(schedule_tz, patient_tz, mode, home_tz, expected) -> None:
    assert resolve_timezone(schedule_tz, patient_tz, mode, home_tz) == expected


def test_recurrence_from_row_and_keys() -> None:
    row = {
        "times_of_day": [time(20, 0), time(8, 0)],
        "days_of_week": [1, 3, 5],
        "every_n_days": None,
        "start_date": date(2026, 1, 1),
        "end_date": None,
        "max_count": None,
    }
    rule = recurrence_for(row, "Europe/Berlin")
    assert rule.times_of_day == (time(8, 0), time(20, 0))
    assert rule.days_of_week == frozenset({1, 3, 5})
    with pytest.raises(ValueError, match="timezone"):
        recurrence_for(row, "Mars/Olympus_Mons")
    sid = uuid.UUID(int=1)
    assert (
        reminder_key(sid, date(2026, 3, 8), time(2, 30), 3) == f"dose:{sid}:2026-03-08:02:30:00:v3"
    )
    assert followup_key(sid, 0, 2) == f"nag:{sid}:0:2"


@pytest.mark.parametrize(
    ("local", "start", "end", "quiet"),
    [
        (time(22, 0), time(21, 0), time(8, 0), True),  # evening part of a window over midnight
        (time(7, 59), time(21, 0), time(8, 0), True),  # morning part
        (time(8, 0), time(21, 0), time(8, 0), False),  # the end is not quiet
        (time(21, 0), time(21, 0), time(8, 0), True),  # the start is
        (time(13, 0), time(12, 0), time(14, 0), True),  # a window within one day
        (time(14, 0), time(12, 0), time(14, 0), False),
        (time(3, 0), time(0, 0), time(0, 0), False),  # empty window: quiet hours off
        (time(3, 0), None, None, False),
    ],
)
def test_in_quiet_hours(local: time, start, end, quiet: bool) -> None:
    # Berlin in March is UTC+1.
    at = datetime.combine(date(2026, 3, 2), local, tzinfo=UTC) - timedelta(hours=1)
    assert in_quiet_hours(at, "Europe/Berlin", start, end) is quiet


def _plan(**overrides):
    values = {
        "due_at": DUE,
        "snoozed_until": None,
        "reminder_status": "sent",
        "reminder_sent_at": DUE,
        "interval_minutes": 15,
        "nag_max": 3,
        "timezone": "UTC",
        "quiet_start": None,
        "quiet_end": None,
    } | overrides
    return plan_nags(**values)


def m(minutes: int) -> datetime:
    return DUE + timedelta(minutes=minutes)


@pytest.mark.parametrize(
    ("overrides", "followups", "missed_at", "generation"),
    [
        ({}, [(1, m(15)), (2, m(30)), (3, m(45))], m(60), 0),
        ({"reminder_status": "delivered"}, [(1, m(15)), (2, m(30)), (3, m(45))], m(60), 0),
        ({"nag_max": 0}, [], m(15), 0),
        ({"interval_minutes": 5, "nag_max": 1}, [(1, m(5))], m(10), 0),
        # Left late: count from when it went out.
        ({"reminder_sent_at": m(7)}, [(1, m(22)), (2, m(37)), (3, m(52))], m(67), 0),
        # Sent early (clock skew): never before the dose's own time.
        ({"reminder_sent_at": m(-1)}, [(1, m(15)), (2, m(30)), (3, m(45))], m(60), 0),
        # After a snooze the count restarts at the snooze time, with its own generation.
        (
            {"snoozed_until": m(30), "reminder_sent_at": m(30)},
            [(1, m(45)), (2, m(60)), (3, m(75))],
            m(90),
            int(m(30).timestamp()),
        ),
        # Quiet from 08:20 to 08:40: the 08:30 follow-up is dropped, the miss is not moved.
        (
            {"quiet_start": time(8, 20), "quiet_end": time(8, 40)},
            [(1, m(15)), (3, m(45))],
            m(60),
            0,
        ),
        # The dose's own time inside quiet hours (07:00-09:00, the patient chose it): its
        # follow-ups come with it. Before, all three were dropped without a word.
        (
            {"quiet_start": time(7, 0), "quiet_end": time(9, 0)},
            [(1, m(15)), (2, m(30)), (3, m(45))],
            m(60),
            0,
        ),
        # A snooze into quiet hours (08:30 in 08:20-08:40) is chosen too.
        (
            {
                "snoozed_until": m(30),
                "reminder_sent_at": m(30),
                "quiet_start": time(8, 20),
                "quiet_end": time(8, 40),
            },
            [(1, m(45)), (2, m(60)), (3, m(75))],
            m(90),
            int(m(30).timestamp()),
        ),
        ({"reminder_status": "pending", "reminder_sent_at": None}, [], None, 0),
        ({"reminder_status": "processing", "reminder_sent_at": None}, [], None, 0),
        ({"reminder_status": "failed", "reminder_sent_at": None}, [], m(60), 0),
        ({"reminder_status": "expired", "reminder_sent_at": None}, [], m(60), 0),
    ],
)
def test_plan_nags(overrides, followups, missed_at, generation) -> None:
    plan = _plan(**overrides)
    assert list(plan.followups) == followups
    assert plan.missed_at == missed_at
    assert plan.generation == generation


def test_stats_add_up() -> None:
    total = PlannerStats(doses_created=2, errors=1) + PlannerStats(doses_created=3, skipped=True)
    assert (total.doses_created, total.errors, total.skipped) == (5, 1, True)
    assert total.changed
    assert not PlannerStats(schedules_planned=4).changed
