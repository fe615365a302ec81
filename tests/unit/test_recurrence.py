"""Table-driven tests of the pure recurrence maths across daylight-saving and date-line changes.

Every expected instant below is written out literally (checked against tzdata by hand), so a
wrong offset, a doubled fall-back dose or a dropped spring-forward dose fails a test.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from scheduler.recurrence import Occurrence, Recurrence, next_occurrence, occurrences

NY = "America/New_York"
BERLIN = "Europe/Berlin"
LORD_HOWE = "Australia/Lord_Howe"
KOLKATA = "Asia/Kolkata"
SANTIAGO = "America/Santiago"
APIA = "Pacific/Apia"


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def daily(
    zone: str, *times: time, start: date, end: date | None = None, **kw: object
) -> Recurrence:
    return Recurrence(times_of_day=times, timezone=zone, start_date=start, end_date=end, **kw)  # type: ignore[arg-type]


def everything(rule: Recurrence) -> list[Occurrence]:
    """All occurrences of a bounded rule, with a window wide enough to hold them all."""
    assert rule.end_date is not None
    after = datetime.combine(rule.start_date - timedelta(days=3), time(0), UTC)
    until = datetime.combine(rule.end_date + timedelta(days=3), time(0), UTC)
    return occurrences(rule, after, until)


# -- a daily 02:30 over three years ------------------------------------------------------------

# zone, first and last local date, dates that do not exist, {local date: expected UTC instant}
THREE_YEARS = [
    pytest.param(
        NY,
        date(2023, 1, 1),
        date(2025, 12, 31),
        set(),
        {
            date(2023, 3, 12): utc(2023, 3, 12, 7, 0),  # spring forward: 02:30 -> 03:00 EDT
            date(2024, 3, 10): utc(2024, 3, 10, 7, 0),
            date(2025, 3, 9): utc(2025, 3, 9, 7, 0),
            date(2024, 3, 9): utc(2024, 3, 9, 7, 30),  # the day before, still EST
            date(2024, 3, 11): utc(2024, 3, 11, 6, 30),  # the day after, EDT
            date(2024, 11, 3): utc(2024, 11, 3, 7, 30),  # fall back: 02:30 is EST, once
            date(2024, 11, 2): utc(2024, 11, 2, 6, 30),
        },
        id="new_york",
    ),
    pytest.param(
        BERLIN,
        date(2023, 1, 1),
        date(2025, 12, 31),
        set(),
        {
            date(2024, 3, 31): utc(2024, 3, 31, 1, 0),  # spring forward: 02:30 -> 03:00 CEST
            date(2024, 10, 27): utc(2024, 10, 27, 0, 30),  # fall back: first 02:30 (CEST) only
            date(2024, 10, 28): utc(2024, 10, 28, 1, 30),
            date(2023, 3, 26): utc(2023, 3, 26, 1, 0),
            date(2025, 10, 26): utc(2025, 10, 26, 0, 30),
        },
        id="berlin",
    ),
    pytest.param(
        LORD_HOWE,
        date(2023, 1, 1),
        date(2025, 12, 31),
        set(),
        {
            # 02:30 is exactly where the 30-minute gap (02:00 -> 02:30) ends: it exists.
            date(2024, 10, 6): utc(2024, 10, 5, 15, 30),
            date(2024, 10, 5): utc(2024, 10, 4, 16, 0),  # +10:30 before the change
            date(2024, 4, 7): utc(2024, 4, 6, 16, 0),  # after fall back, +10:30
            date(2024, 4, 6): utc(2024, 4, 5, 15, 30),  # +11
        },
        id="lord_howe",
    ),
    pytest.param(
        KOLKATA,
        date(2023, 1, 1),
        date(2025, 12, 31),
        set(),
        {
            date(2023, 1, 1): utc(2022, 12, 31, 21, 0),
            date(2024, 3, 10): utc(2024, 3, 9, 21, 0),
            date(2024, 10, 27): utc(2024, 10, 26, 21, 0),
            date(2025, 12, 31): utc(2025, 12, 30, 21, 0),
        },
        id="kolkata",
    ),
    pytest.param(
        SANTIAGO,
        date(2023, 1, 1),
        date(2025, 12, 31),
        set(),
        {
            date(2024, 9, 8): utc(2024, 9, 8, 5, 30),  # first day of -03
            date(2024, 9, 7): utc(2024, 9, 7, 6, 30),  # last day of -04
            date(2024, 4, 7): utc(2024, 4, 7, 6, 30),  # first day back on -04
            date(2024, 4, 6): utc(2024, 4, 6, 5, 30),
        },
        id="santiago",
    ),
    pytest.param(
        APIA,
        date(2010, 1, 1),
        date(2012, 12, 31),
        {date(2011, 12, 30)},  # Samoa jumped from 29 December straight to 31 December 2011
        {
            date(2011, 12, 29): utc(2011, 12, 29, 12, 30),  # -10
            date(2011, 12, 31): utc(2011, 12, 30, 12, 30),  # +14, exactly 24 h later
            date(2010, 1, 1): utc(2010, 1, 1, 13, 30),  # -11
            date(2012, 12, 31): utc(2012, 12, 30, 12, 30),  # +14 (DST)
        },
        id="apia",
    ),
]


@pytest.mark.parametrize(("zone", "first", "last", "missing", "expected"), THREE_YEARS)
def test_daily_0230_for_three_years_gives_one_occurrence_per_existing_date(
    zone: str, first: date, last: date, missing: set[date], expected: dict[date, datetime]
) -> None:
    rule = daily(zone, time(2, 30), start=first, end=last)
    found = everything(rule)

    all_dates = {first + timedelta(days=i) for i in range((last - first).days + 1)}
    assert len(found) == len(all_dates) - len(missing)
    assert [o.local_date for o in found] == sorted(all_dates - missing)
    assert all(o.local_time == time(2, 30) for o in found)
    assert all(o.utc.utcoffset() == timedelta(0) for o in found)
    assert all(a.utc < b.utc for a, b in pairwise(found))

    by_date = {o.local_date: o.utc for o in found}
    for day, instant in expected.items():
        assert by_date[day] == instant, day
    for day in missing:
        assert day not in by_date

    # Every dose is at 02:30 local time, except in a gap where it is the first instant after it.
    tz = ZoneInfo(zone)
    for o in found:
        local = o.utc.astimezone(tz)
        assert local.date() == o.local_date
        assert local.time() >= time(2, 30)
        assert local.time() <= time(3, 30)


# -- single wall times on transition days ------------------------------------------------------

# zone, local date, wall time, the instant it must fire at
TRANSITIONS = [
    # New York: gap 02:00-03:00 on 2024-03-10, 01:00-02:00 repeated on 2024-11-03
    pytest.param(NY, date(2024, 3, 10), time(1, 59), utc(2024, 3, 10, 6, 59), id="ny-before-gap"),
    pytest.param(NY, date(2024, 3, 10), time(2, 0), utc(2024, 3, 10, 7, 0), id="ny-gap-start"),
    pytest.param(NY, date(2024, 3, 10), time(2, 30), utc(2024, 3, 10, 7, 0), id="ny-gap"),
    pytest.param(NY, date(2024, 3, 10), time(2, 59, 59), utc(2024, 3, 10, 7, 0), id="ny-gap-end"),
    pytest.param(NY, date(2024, 3, 10), time(3, 0), utc(2024, 3, 10, 7, 0), id="ny-after-gap"),
    pytest.param(NY, date(2024, 11, 3), time(0, 59), utc(2024, 11, 3, 4, 59), id="ny-before-fold"),
    pytest.param(NY, date(2024, 11, 3), time(1, 0), utc(2024, 11, 3, 5, 0), id="ny-fold-start"),
    pytest.param(NY, date(2024, 11, 3), time(1, 30), utc(2024, 11, 3, 5, 30), id="ny-fold"),
    pytest.param(NY, date(2024, 11, 3), time(2, 0), utc(2024, 11, 3, 7, 0), id="ny-after-fold"),
    # Berlin: gap 02:00-03:00 on 2024-03-31, 02:00-03:00 repeated on 2024-10-27
    pytest.param(BERLIN, date(2024, 3, 31), time(2, 30), utc(2024, 3, 31, 1, 0), id="berlin-gap"),
    pytest.param(
        BERLIN, date(2024, 10, 27), time(2, 30), utc(2024, 10, 27, 0, 30), id="berlin-fold"
    ),
    pytest.param(
        BERLIN, date(2024, 10, 27), time(3, 0), utc(2024, 10, 27, 2, 0), id="berlin-after-fold"
    ),
    # Lord Howe: a 30-minute gap 02:00-02:30 on 2024-10-06, 01:30-02:00 repeated on 2024-04-07
    pytest.param(LORD_HOWE, date(2024, 10, 6), time(2, 15), utc(2024, 10, 5, 15, 30), id="lhi-gap"),
    pytest.param(
        LORD_HOWE, date(2024, 10, 6), time(2, 0), utc(2024, 10, 5, 15, 30), id="lhi-gap-start"
    ),
    pytest.param(
        LORD_HOWE, date(2024, 10, 6), time(1, 59), utc(2024, 10, 5, 15, 29), id="lhi-before-gap"
    ),
    pytest.param(LORD_HOWE, date(2024, 4, 7), time(1, 45), utc(2024, 4, 6, 14, 45), id="lhi-fold"),
    pytest.param(
        LORD_HOWE, date(2024, 4, 7), time(2, 0), utc(2024, 4, 6, 15, 30), id="lhi-after-fold"
    ),
    # Kolkata: no DST at all
    pytest.param(KOLKATA, date(2024, 3, 10), time(2, 30), utc(2024, 3, 9, 21, 0), id="kolkata"),
    # Santiago changes at midnight: 00:00-01:00 missing on 2024-09-08, 23:00-24:00 of 2024-04-06
    # repeated
    pytest.param(
        SANTIAGO, date(2024, 9, 8), time(0, 0), utc(2024, 9, 8, 4, 0), id="santiago-gap-start"
    ),
    pytest.param(SANTIAGO, date(2024, 9, 8), time(0, 30), utc(2024, 9, 8, 4, 0), id="santiago-gap"),
    pytest.param(
        SANTIAGO, date(2024, 4, 6), time(23, 30), utc(2024, 4, 7, 2, 30), id="santiago-fold"
    ),
    pytest.param(
        SANTIAGO, date(2024, 4, 7), time(0, 30), utc(2024, 4, 7, 4, 30), id="santiago-after-fold"
    ),
    # Apia: DST gap 03:00-04:00 on 2011-09-24, 03:00-04:00 repeated on 2011-04-02, date line
    pytest.param(APIA, date(2011, 9, 24), time(3, 30), utc(2011, 9, 24, 14, 0), id="apia-gap"),
    pytest.param(APIA, date(2011, 4, 2), time(3, 30), utc(2011, 4, 2, 13, 30), id="apia-fold"),
    pytest.param(
        APIA, date(2011, 12, 29), time(23, 59), utc(2011, 12, 30, 9, 59), id="apia-last-minute"
    ),
    pytest.param(
        APIA, date(2011, 12, 31), time(0, 0), utc(2011, 12, 30, 10, 0), id="apia-first-minute"
    ),
]


@pytest.mark.parametrize(("zone", "day", "wall", "expected"), TRANSITIONS)
def test_wall_time_on_transition_day_fires_once_at_the_right_instant(
    zone: str, day: date, wall: time, expected: datetime
) -> None:
    rule = daily(zone, wall, start=day, end=day)
    assert everything(rule) == [Occurrence(utc=expected, local_date=day, local_time=wall)]


@pytest.mark.parametrize("wall", [time(0, 0), time(2, 30), time(12, 0), time(23, 59)])
def test_skipped_date_has_no_occurrences(wall: time) -> None:
    rule = daily(APIA, wall, start=date(2011, 12, 30), end=date(2011, 12, 30))
    assert everything(rule) == []
    assert next_occurrence(rule, utc(2011, 12, 1)) is None


def test_apia_neighbours_of_the_skipped_date_each_fire_once() -> None:
    rule = daily(APIA, time(0, 0), time(12, 0), start=date(2011, 12, 29), end=date(2012, 1, 1))
    assert [(o.local_date, o.local_time, o.utc) for o in everything(rule)] == [
        (date(2011, 12, 29), time(0, 0), utc(2011, 12, 29, 10, 0)),
        (date(2011, 12, 29), time(12, 0), utc(2011, 12, 29, 22, 0)),
        (date(2011, 12, 31), time(0, 0), utc(2011, 12, 30, 10, 0)),
        (date(2011, 12, 31), time(12, 0), utc(2011, 12, 30, 22, 0)),
        (date(2012, 1, 1), time(0, 0), utc(2011, 12, 31, 10, 0)),
        (date(2012, 1, 1), time(12, 0), utc(2011, 12, 31, 22, 0)),
    ]


def test_two_times_in_one_gap_fire_once_at_its_end_as_the_first() -> None:
    """A schedule has one dose at an instant: two occurrences at one instant (00:00 and 00:30
    the night Santiago sprang to 01:00) made the planner's insert fail its whole batch, every
    tick for the two days the night was within its horizon (found in a Santiago run)."""
    rule = daily(NY, time(2, 0), time(2, 30), start=date(2024, 3, 10), end=date(2024, 3, 11))
    assert everything(rule) == [
        Occurrence(utc(2024, 3, 10, 7, 0), date(2024, 3, 10), time(2, 0)),
        Occurrence(utc(2024, 3, 11, 6, 0), date(2024, 3, 11), time(2, 0)),
        Occurrence(utc(2024, 3, 11, 6, 30), date(2024, 3, 11), time(2, 30)),
    ]
    first = Occurrence(utc(2024, 9, 8, 4, 0), date(2024, 9, 8), time(0, 0))
    santiago = daily(SANTIAGO, time(0, 0), time(0, 30), start=date(2024, 9, 7))
    assert occurrences(santiago, utc(2024, 9, 8, 0), utc(2024, 9, 8, 12)) == [first]
    assert next_occurrence(santiago, utc(2024, 9, 8, 0)) == first
    after = next_occurrence(santiago, first.utc)
    assert after is not None and after.local_date == date(2024, 9, 9)


def test_gap_across_midnight_fires_next_day_but_keeps_its_scheduled_date() -> None:
    # Nuuk sprang from 2024-03-30 23:00 (-02) straight to 2024-03-31 00:00 (-01).
    rule = daily("America/Nuuk", time(23, 30), start=date(2024, 3, 25))
    expected = Occurrence(utc(2024, 3, 31, 1, 0), date(2024, 3, 30), time(23, 30))
    assert occurrences(rule, utc(2024, 3, 30, 12), utc(2024, 3, 31, 12)) == [expected]
    assert next_occurrence(rule, utc(2024, 3, 30, 12)) == expected


def test_window_ending_where_local_dates_ran_backwards() -> None:
    # Goose Bay fell back at 00:01 on 2010-11-07, to 23:01 on the 6th. A window ending at
    # 03:30Z (23:30 on the 6th, second time round) still holds the 7th's 00:00:30 dose.
    rule = daily("America/Goose_Bay", time(0, 0, 30), start=date(2010, 11, 1))
    assert occurrences(rule, utc(2010, 11, 7, 3, 0), utc(2010, 11, 7, 3, 30)) == [
        Occurrence(utc(2010, 11, 7, 3, 0, 30), date(2010, 11, 7), time(0, 0, 30))
    ]


# -- every N days and weekdays across month and year ends ---------------------------------------

# rule, window (after, until), expected (local date, UTC) pairs
PATTERNS = [
    pytest.param(
        daily(BERLIN, time(8, 0), start=date(2024, 12, 28), every_n_days=3),
        (utc(2024, 12, 27), utc(2025, 1, 7)),
        [
            (date(2024, 12, 28), utc(2024, 12, 28, 7, 0)),
            (date(2024, 12, 31), utc(2024, 12, 31, 7, 0)),
            (date(2025, 1, 3), utc(2025, 1, 3, 7, 0)),
            (date(2025, 1, 6), utc(2025, 1, 6, 7, 0)),
        ],
        id="berlin-every-3-days-over-new-year",
    ),
    pytest.param(
        # Every other day through a leap day and into the spring-forward gap.
        daily(NY, time(2, 30), start=date(2024, 2, 27), every_n_days=2),
        (utc(2024, 2, 26), utc(2024, 3, 12)),
        [
            (date(2024, 2, 27), utc(2024, 2, 27, 7, 30)),
            (date(2024, 2, 29), utc(2024, 2, 29, 7, 30)),
            (date(2024, 3, 2), utc(2024, 3, 2, 7, 30)),
            (date(2024, 3, 4), utc(2024, 3, 4, 7, 30)),
            (date(2024, 3, 6), utc(2024, 3, 6, 7, 30)),
            (date(2024, 3, 8), utc(2024, 3, 8, 7, 30)),
            (date(2024, 3, 10), utc(2024, 3, 10, 7, 0)),
        ],
        id="ny-every-2-days-leap-day-and-gap",
    ),
    pytest.param(
        # The window opens long after start_date: the 7-day grid is still anchored at the start.
        daily(KOLKATA, time(9, 0), start=date(2023, 1, 30), every_n_days=7),
        (utc(2023, 3, 1), utc(2023, 3, 31)),
        [
            (date(2023, 3, 6), utc(2023, 3, 6, 3, 30)),
            (date(2023, 3, 13), utc(2023, 3, 13, 3, 30)),
            (date(2023, 3, 20), utc(2023, 3, 20, 3, 30)),
            (date(2023, 3, 27), utc(2023, 3, 27, 3, 30)),
        ],
        id="kolkata-weekly-grid-from-start",
    ),
    pytest.param(
        daily(LORD_HOWE, time(9, 0), start=date(2024, 12, 1), days_of_week=frozenset({1, 3, 5})),
        (utc(2024, 12, 29), utc(2025, 1, 6, 12)),
        [
            (date(2024, 12, 30), utc(2024, 12, 29, 22, 0)),  # Monday, +11
            (date(2025, 1, 1), utc(2024, 12, 31, 22, 0)),  # Wednesday
            (date(2025, 1, 3), utc(2025, 1, 2, 22, 0)),  # Friday
            (date(2025, 1, 6), utc(2025, 1, 5, 22, 0)),  # Monday
        ],
        id="lord-howe-mon-wed-fri-over-new-year",
    ),
    pytest.param(
        # Sundays at 00:30 in Santiago, one of them the day clocks skip 00:00-01:00.
        daily(SANTIAGO, time(0, 30), start=date(2024, 8, 1), days_of_week=frozenset({7})),
        (utc(2024, 8, 31), utc(2024, 9, 20)),
        [
            (date(2024, 9, 1), utc(2024, 9, 1, 4, 30)),
            (date(2024, 9, 8), utc(2024, 9, 8, 4, 0)),
            (date(2024, 9, 15), utc(2024, 9, 15, 3, 30)),
        ],
        id="santiago-sundays-over-spring-forward",
    ),
    pytest.param(
        # Every other day, weekdays only: both filters apply.
        daily(
            KOLKATA,
            time(20, 0),
            start=date(2024, 1, 1),
            every_n_days=2,
            days_of_week=frozenset({1, 2, 3, 4, 5}),
        ),
        (utc(2023, 12, 31), utc(2024, 1, 16)),
        [
            (date(2024, 1, 1), utc(2024, 1, 1, 14, 30)),
            (date(2024, 1, 3), utc(2024, 1, 3, 14, 30)),
            (date(2024, 1, 5), utc(2024, 1, 5, 14, 30)),
            (date(2024, 1, 9), utc(2024, 1, 9, 14, 30)),
            (date(2024, 1, 11), utc(2024, 1, 11, 14, 30)),
            (date(2024, 1, 15), utc(2024, 1, 15, 14, 30)),
        ],
        id="kolkata-every-2-days-weekdays-only",
    ),
    pytest.param(
        daily(APIA, time(8, 0), start=date(2011, 12, 27), every_n_days=3),
        (utc(2011, 12, 1), utc(2012, 1, 10)),
        [
            (date(2011, 12, 27), utc(2011, 12, 27, 18, 0)),
            # 2011-12-30 would be next but does not exist; the grid is calendar days.
            (date(2012, 1, 2), utc(2012, 1, 1, 18, 0)),
            (date(2012, 1, 5), utc(2012, 1, 4, 18, 0)),
            (date(2012, 1, 8), utc(2012, 1, 7, 18, 0)),
        ],
        id="apia-every-3-days-over-the-skipped-date",
    ),
    pytest.param(
        daily(BERLIN, time(21, 0), start=date(2024, 1, 30), end=date(2024, 2, 2)),
        (utc(2024, 1, 1), utc(2024, 3, 1)),
        [
            (date(2024, 1, 30), utc(2024, 1, 30, 20, 0)),
            (date(2024, 1, 31), utc(2024, 1, 31, 20, 0)),
            (date(2024, 2, 1), utc(2024, 2, 1, 20, 0)),
            (date(2024, 2, 2), utc(2024, 2, 2, 20, 0)),  # end_date is inclusive
        ],
        id="berlin-end-date-inclusive-over-month-end",
    ),
]


@pytest.mark.parametrize(("rule", "window", "expected"), PATTERNS)
def test_day_patterns(
    rule: Recurrence, window: tuple[datetime, datetime], expected: list[tuple[date, datetime]]
) -> None:
    found = occurrences(rule, *window)
    assert [(o.local_date, o.utc) for o in found] == expected


# -- windows ------------------------------------------------------------------------------------


def test_window_is_open_at_after_and_closed_at_until() -> None:
    rule = daily(NY, time(8, 0), start=date(2024, 1, 1))
    jan2 = utc(2024, 1, 2, 13, 0)  # 08:00 EST
    jan3 = utc(2024, 1, 3, 13, 0)
    assert [o.utc for o in occurrences(rule, jan2, jan3)] == [jan3]
    assert occurrences(rule, jan2, jan2) == []
    assert [o.utc for o in occurrences(rule, jan2 - timedelta(microseconds=1), jan2)] == [jan2]


def test_consecutive_windows_neither_drop_nor_repeat_occurrences() -> None:
    rule = daily(BERLIN, time(0, 0), time(2, 30), time(23, 59), start=date(2024, 3, 1))
    start, end = utc(2024, 3, 1), utc(2024, 11, 30)
    whole = occurrences(rule, start, end)
    pieces: list[Occurrence] = []
    cursor = start
    while cursor < end:
        step = min(cursor + timedelta(hours=7), end)
        pieces.extend(occurrences(rule, cursor, step))
        cursor = step
    assert pieces == whole
    assert len(whole) == 3 * 274


def test_window_bounds_may_be_in_any_zone() -> None:
    rule = daily(KOLKATA, time(8, 0), start=date(2024, 1, 1))
    tokyo = ZoneInfo("Asia/Tokyo")
    in_tokyo = occurrences(
        rule, datetime(2024, 5, 1, tzinfo=tokyo), datetime(2024, 5, 3, tzinfo=tokyo)
    )
    assert [o.utc for o in in_tokyo] == [utc(2024, 5, 1, 2, 30), utc(2024, 5, 2, 2, 30)]


def test_nothing_before_start_date() -> None:
    rule = daily(NY, time(8, 0), start=date(2024, 6, 1))
    assert occurrences(rule, utc(2024, 1, 1), utc(2024, 6, 1, 11, 59, 59)) == []
    assert [o.utc for o in occurrences(rule, utc(2024, 1, 1), utc(2024, 6, 1, 12, 0, 1))] == [
        utc(2024, 6, 1, 12, 0)
    ]


# -- max_count ----------------------------------------------------------------------------------


def test_max_count_counts_from_start_date_whatever_the_window() -> None:
    rule = daily(KOLKATA, time(8, 0), time(20, 0), start=date(2024, 1, 1), max_count=5)
    every = occurrences(rule, utc(2023, 12, 1), utc(2024, 2, 1))
    assert [o.utc for o in every] == [
        utc(2024, 1, 1, 2, 30),
        utc(2024, 1, 1, 14, 30),
        utc(2024, 1, 2, 2, 30),
        utc(2024, 1, 2, 14, 30),
        utc(2024, 1, 3, 2, 30),
    ]
    later = occurrences(rule, utc(2024, 1, 2), utc(2024, 2, 1))
    assert [o.utc for o in later] == [o.utc for o in every[2:]]
    assert next_occurrence(rule, utc(2024, 1, 3, 2, 30)) is None


def test_max_count_skips_the_date_that_does_not_exist() -> None:
    rule = daily(APIA, time(2, 30), start=date(2011, 12, 29), max_count=3)
    found = occurrences(rule, utc(2011, 12, 1), utc(2012, 2, 1))
    assert [o.local_date for o in found] == [
        date(2011, 12, 29),
        date(2011, 12, 31),
        date(2012, 1, 1),
    ]


def test_end_date_before_max_count_wins() -> None:
    rule = daily(NY, time(8, 0), start=date(2024, 1, 1), end=date(2024, 1, 2), max_count=10)
    assert len(everything(rule)) == 2


# -- next_occurrence ----------------------------------------------------------------------------


NEXT = [
    pytest.param(
        daily(NY, time(8, 0), start=date(2024, 1, 1)),
        utc(2024, 3, 10, 12, 0),  # exactly 08:00 EDT on the 10th: strictly after means the 11th
        utc(2024, 3, 11, 12, 0),
        id="strictly-after",
    ),
    pytest.param(
        daily(NY, time(8, 0), start=date(2024, 6, 1)),
        utc(2020, 1, 1),
        utc(2024, 6, 1, 12, 0),
        id="before-start",
    ),
    pytest.param(
        daily(NY, time(8, 0), start=date(2024, 6, 1), end=date(2024, 6, 30)),
        utc(2024, 6, 30, 12, 0),
        None,
        id="after-end",
    ),
    pytest.param(
        daily(BERLIN, time(9, 0), start=date(2024, 1, 5), every_n_days=28),
        utc(2024, 12, 1),
        utc(2024, 12, 6, 8, 0),  # 2024-01-05 + 12 * 28 days (2024 is a leap year)
        id="sparse",
    ),
    pytest.param(
        daily(SANTIAGO, time(0, 30), start=date(2024, 9, 8)),
        utc(2024, 9, 7),
        utc(2024, 9, 8, 4, 0),
        id="into-a-gap",
    ),
    pytest.param(
        daily(APIA, time(10, 0), start=date(2011, 12, 1)),
        utc(2011, 12, 29, 20, 0),  # 10:00 on the 29th (-10), then the 30th does not exist
        utc(2011, 12, 30, 20, 0),  # 10:00 on the 31st (+14)
        id="over-the-skipped-date",
    ),
]


@pytest.mark.parametrize(("rule", "after", "expected"), NEXT)
def test_next_occurrence(rule: Recurrence, after: datetime, expected: datetime | None) -> None:
    found = next_occurrence(rule, after)
    assert (found.utc if found else None) == expected


# -- rejections ---------------------------------------------------------------------------------


NAIVE = datetime(2024, 1, 1, 8, 0)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        pytest.param(lambda r: occurrences(r, NAIVE, utc(2024, 2, 1)), "after", id="after"),
        pytest.param(lambda r: occurrences(r, utc(2024, 1, 1), NAIVE), "until", id="until"),
        pytest.param(lambda r: next_occurrence(r, NAIVE), "after", id="next"),
        pytest.param(
            lambda r: occurrences(r, utc(2024, 2, 1), utc(2024, 1, 1)), "until", id="reversed"
        ),
    ],
)
def test_naive_or_reversed_bounds_are_rejected(call, field: str) -> None:
    rule = daily(NY, time(8, 0), start=date(2024, 1, 1))
    with pytest.raises(ValueError, match=rf"^{field}: "):
        call(rule)


GOOD: dict[str, object] = {
    "times_of_day": (time(8, 0),),
    "timezone": NY,
    "start_date": date(2024, 1, 1),
}
INVALID = [
    pytest.param({"times_of_day": ()}, "times_of_day", id="no-times"),
    pytest.param({"times_of_day": ("08:00",)}, "times_of_day", id="time-as-string"),
    pytest.param({"times_of_day": (time(8, 0, tzinfo=UTC),)}, "times_of_day", id="aware-time"),
    pytest.param({"timezone": "Mars/Olympus_Mons"}, "timezone", id="unknown-zone"),
    pytest.param({"timezone": ""}, "timezone", id="empty-zone"),
    pytest.param({"timezone": "../etc/passwd"}, "timezone", id="path-zone"),
    pytest.param({"start_date": datetime(2024, 1, 1, tzinfo=UTC)}, "start_date", id="datetime"),
    pytest.param({"end_date": date(2023, 12, 31)}, "end_date", id="end-before-start"),
    pytest.param({"every_n_days": 0}, "every_n_days", id="every-0-days"),
    pytest.param({"every_n_days": -2}, "every_n_days", id="every-negative-days"),
    pytest.param({"every_n_days": True}, "every_n_days", id="every-true-days"),
    pytest.param({"days_of_week": frozenset()}, "days_of_week", id="no-days"),
    pytest.param({"days_of_week": frozenset({0, 1})}, "days_of_week", id="day-0"),
    pytest.param({"days_of_week": frozenset({8})}, "days_of_week", id="day-8"),
    pytest.param({"max_count": 0}, "max_count", id="count-0"),
    pytest.param(
        # 2024-01-01 is a Monday: every 7 days from it never reaches a Tuesday.
        {"every_n_days": 7, "days_of_week": frozenset({2})},
        "days_of_week",
        id="never-fires",
    ),
]


@pytest.mark.parametrize(("change", "field"), INVALID)
def test_invalid_rules_are_rejected_naming_the_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=rf"^{field}: "):
        Recurrence(**{**GOOD, **change})  # type: ignore[arg-type]


def test_equivalent_spellings_are_normalized_and_equal() -> None:
    spelled = Recurrence(
        times_of_day=(time(20, 0), time(8, 0), time(20, 0)),
        timezone=NY,
        start_date=date(2024, 1, 1),
        days_of_week=frozenset(range(1, 8)),
        every_n_days=1,
    )
    assert spelled == Recurrence((time(8, 0), time(20, 0)), NY, date(2024, 1, 1))
    assert spelled.times_of_day == (time(8, 0), time(20, 0))
    assert spelled.days_of_week is None
    assert spelled.every_n_days is None


def test_fold_on_a_time_of_day_does_not_pick_the_second_instant() -> None:
    rule = daily(NY, time(1, 30, fold=1), start=date(2024, 11, 3), end=date(2024, 11, 3))
    assert [o.utc for o in everything(rule)] == [utc(2024, 11, 3, 5, 30)]
