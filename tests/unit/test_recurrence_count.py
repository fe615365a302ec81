"""A schedule's ``max_count`` (FHIR ``Timing.repeat.count``): where its doses stop, at any size.

The cut-off date is computed, not walked from ``start_date``: a count of 2,000,000,000 from the
year 1000 took a quarter of a minute of CPU in the web process that imported it (and in each
worker's planner) before. The property test holds the computation to a walk over the dates, the
definition, for counts small enough to walk, in zones that skipped a date.
"""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, time, timedelta

from hypothesis import example, given, settings
from hypothesis import strategies as st

from scheduler.recurrence import Recurrence, next_occurrence, occurrences
from scheduler.zone_gaps import date_exists, skipped_dates

APIA = "Pacific/Apia"  # skipped 2011-12-30
KWAJALEIN = "Pacific/Kwajalein"  # skipped 1993-08-21
# A hang guard, not a timing: the rules below cost milliseconds; the old walk took 15-30 s of CPU
# for them (113 s in all), which this still catches on a loaded machine.
CPU_BUDGET_SECONDS = 10.0
INT4_MAX = 2_147_483_647


def walked_last_dose(rule: Recurrence) -> tuple[date, int] | None:
    """The definition: the local date of the count-th dose and how many times fire on it."""
    assert rule.max_count is not None
    remaining = rule.max_count
    day = rule.start_date
    while day <= (rule.end_date or date(9999, 12, 29)):
        chosen = rule.days_of_week is None or day.isoweekday() in rule.days_of_week
        on_grid = (day - rule.start_date).days % (rule.every_n_days or 1) == 0
        if chosen and on_grid and date_exists(rule.zone, day):
            if remaining <= len(rule.times_of_day):
                return day, remaining
            remaining -= len(rule.times_of_day)
        day += timedelta(days=1)
    return None


def last_dose(rule: Recurrence) -> tuple[date, int] | None:
    """What the planner sees: the last occurrence of the rule (its date and its times there)."""
    assert rule.max_count is not None
    after = datetime.combine(rule.start_date - timedelta(days=2), time(0), UTC)
    # Each dose date is at most a week of grid steps after the one before, and a skipped date
    # (one per zone here) costs one more: Fridays every 4 days from Tuesday 2011-12-06 in Apia
    # fall first on the skipped 12-30, then on 2012-01-27, 52 days on (a window of 38 found none).
    span = (rule.max_count + 1) * 7 * (rule.every_n_days or 1) + 10
    found = occurrences(rule, after, after + timedelta(days=span))
    if len(found) < rule.max_count:
        return None
    last = found[-1].local_date
    return last, sum(1 for o in found if o.local_date == last)


# Near each zone's skipped date (Berlin skipped none).
AROUND = {APIA: date(2011, 12, 1), KWAJALEIN: date(1993, 7, 25), "Europe/Berlin": date(2026, 3, 1)}


@settings(max_examples=300, deadline=None)
@example(
    zone=APIA, shift=5, times=[time(8, 0)], days=frozenset({5}), every=4, count=1, end_after=None
)
@given(
    zone=st.sampled_from(sorted(AROUND)),
    shift=st.integers(-40, 40),
    times=st.lists(
        st.sampled_from([time(0, 0), time(2, 30), time(8, 0), time(23, 59)]),
        min_size=1,
        max_size=3,
    ),
    days=st.none() | st.frozensets(st.integers(1, 7), min_size=1, max_size=6),
    every=st.none() | st.integers(2, 9),
    count=st.integers(1, 120),
    end_after=st.none() | st.integers(0, 200),
)
def test_the_computed_cut_off_is_the_walked_one(
    zone: str,
    shift: int,
    times: list[time],
    days: frozenset[int] | None,
    every: int | None,
    count: int,
    end_after: int | None,
) -> None:
    start = AROUND[zone] + timedelta(days=shift)
    end = None if end_after is None else start + timedelta(days=end_after)
    try:
        rule = Recurrence(
            times_of_day=tuple(times),
            timezone=zone,
            start_date=start,
            end_date=end,
            days_of_week=days,
            every_n_days=every,
            max_count=count,
        )
    except ValueError:
        return  # weekdays the N-day grid never reaches
    assert last_dose(rule) == walked_last_dose(rule)


def test_the_zones_skipped_dates_are_found() -> None:
    assert [date.fromordinal(o) for o in skipped_dates(APIA)] == [date(2011, 12, 30)]
    assert [date.fromordinal(o) for o in skipped_dates(KWAJALEIN)] == [date(1993, 8, 21)]
    assert skipped_dates("Europe/Berlin") == ()


def test_a_count_of_two_billion_costs_no_walk() -> None:
    """``count`` 2147483647 once a day from the year 1000: doses stop after the year 9999 (no
    cut-off), and 24 a day: in the year 246,000, likewise; every third Monday: never reached."""
    rules = [
        Recurrence((time(8, 0),), "Europe/London", date(1000, 1, 1), max_count=INT4_MAX),
        Recurrence(
            tuple(time(h) for h in range(24)), APIA, date(1000, 1, 1), max_count=INT4_MAX - 7
        ),
        Recurrence(
            (time(9, 0),),
            "America/New_York",
            date(2026, 12, 7),
            days_of_week=frozenset({1}),
            every_n_days=3,
            max_count=INT4_MAX - 1,
        ),
        # A count reached: 3,000,000 daily doses from the year 1000 end in 9213.
        Recurrence((time(8, 0),), APIA, date(1000, 1, 1), max_count=3_000_000),
    ]
    now = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    started = clock.process_time()
    for rule in rules:
        assert next_occurrence(rule, now) is not None
        assert len(occurrences(rule, now, now + timedelta(days=7))) >= 1
    assert clock.process_time() - started < CPU_BUDGET_SECONDS
    last = Recurrence((time(8, 0),), APIA, date(1000, 1, 1), max_count=3_000_000)
    # 3,000,000 dates from 1000-01-01, one more for Apia's skipped 2011-12-30.
    expected = date.fromordinal(date(1000, 1, 1).toordinal() + 3_000_000)
    around = datetime.combine(expected, time(0), UTC)
    found = occurrences(last, around - timedelta(days=3), around + timedelta(days=3))
    assert [o.local_date for o in found] == [expected - timedelta(days=n) for n in (2, 1, 0)]
