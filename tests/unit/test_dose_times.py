"""core.dose_times: a dose is named by the time its patient set, also where clocks sprang over."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import pytest

from core.dose_times import named_local
from core.template_filters import FILTERS


def _utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("due_at", "zone", "local_date", "local_time", "named"),
    [
        # New York springs forward 2:00 -> 3:00 on March 8, 2026: 2:30 fires at 3:00 (07:00 UTC).
        (_utc(2026, 3, 8, 7, 0), "America/New_York", "2026-03-08", "02:30", "2026-03-08 02:30"),
        (
            _utc(2026, 3, 8, 7, 0),
            "America/New_York",
            date(2026, 3, 8),
            time(2, 0),
            "2026-03-08 02:00",
        ),
        # Set at 3:00 itself: that time exists.
        (_utc(2026, 3, 8, 7, 0), "America/New_York", "2026-03-08", "03:00", "2026-03-08 03:00"),
        # The day before and after: as always.
        (_utc(2026, 3, 7, 7, 30), "America/New_York", "2026-03-07", "02:30", "2026-03-07 02:30"),
        (_utc(2026, 3, 9, 6, 30), "America/New_York", "2026-03-09", "02:30", "2026-03-09 02:30"),
        # Lord Howe Island springs forward half an hour, 2:00 -> 2:30: 2:15 fires at 2:30.
        (
            _utc(2026, 10, 3, 15, 30),
            "Australia/Lord_Howe",
            "2026-10-04",
            "02:15",
            "2026-10-04 02:15",
        ),
        # The autumn night 1:30 happens twice; it exists, and is named by its instant.
        (_utc(2026, 11, 1, 5, 30), "America/New_York", "2026-11-01", "01:30", "2026-11-01 01:30"),
        # Shown in another zone than the schedule's (a patient away from home): their clock.
        (_utc(2026, 3, 8, 7, 0), "Europe/Madrid", "2026-03-08", "02:30", "2026-03-08 08:00"),
        # A snoozed reminder's own instant is not the dose's: only the dose's time is named.
        (_utc(2026, 3, 8, 8, 0), "America/New_York", "2026-03-08", "02:30", "2026-03-08 04:00"),
        # No set time, or one that is no time: by the instant.
        (_utc(2026, 3, 8, 7, 0), "America/New_York", None, None, "2026-03-08 03:00"),
        (
            _utc(2026, 3, 8, 7, 0),
            "America/New_York",
            "2026-03-08",
            "half past two",
            "2026-03-08 03:00",
        ),
    ],
)
def test_named_local(
    due_at: datetime,
    zone: str,
    local_date: date | str | None,
    local_time: time | str | None,
    named: str,
) -> None:
    local = named_local(due_at, zone, local_date, local_time)
    assert local.strftime("%Y-%m-%d %H:%M") == named
    assert getattr(local.tzinfo, "key", None) == zone


def test_the_time_filter_shows_a_set_time_at_its_wall_time() -> None:
    """Templates format ``due_at`` in the patient's zone: a set time the clocks sprang over
    stays 2:30 (converting it would read it as 3:30 EDT); any other instant is converted."""
    set_time = named_local(_utc(2026, 3, 8, 7, 0), "America/New_York", "2026-03-08", "02:30")
    ctx = {"timezone": "America/New_York", "locale": "en"}
    time_filter: Any = FILTERS["time"]
    assert time_filter(ctx, set_time).replace("\u202f", " ") == "2:30 AM"
    assert time_filter(ctx, _utc(2026, 3, 8, 7, 0)).replace("\u202f", " ") == "3:00 AM"
