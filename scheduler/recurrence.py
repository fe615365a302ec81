"""Pure recurrence maths: a reminder schedule's wall-clock times turned into UTC instants.

No clock and no database in here: every function takes the instants it works between as
arguments, and rejects naive datetimes, so the same rule gives the same answer on every worker.

Semantics, per local date in the rule's IANA timezone:

- The chosen dates are those between ``start_date`` and ``end_date`` (both inclusive) that fall on
  one of ``days_of_week`` (every day when ``None``) and, with ``every_n_days``, whose distance in
  calendar days from ``start_date`` is a multiple of N. Both filters apply together.
- On each chosen date every time in ``times_of_day`` fires once.
- A wall time that does not exist (the gap when clocks spring forward) fires at the first valid
  instant after the gap: 02:30 becomes 03:00 in New York, 02:15 becomes 02:30 on Lord Howe Island.
  Several times in one gap (00:00 and 00:30 the night Santiago springs from 00:00 to 01:00) fire
  once, as the first of them: a schedule has one dose at an instant (the planner's doses are
  unique by schedule and instant; two in one statement failed the planner's whole batch, every
  tick until the night had passed). ``max_count`` still counts each of them.
- A wall time that happens twice (clocks fall back) fires once, at its first occurrence (fold=0).
- A local date that does not exist at all (Pacific/Apia skipped 2011-12-30) has no occurrences;
  no other date takes them over.
- ``max_count`` caps the total number of occurrences counted from ``start_date`` in order of
  (local date, time of day), whatever window a caller asks about.

Windows are half-open on the left: ``occurrences(rule, after, until)`` returns the instants with
``after < utc <= until``. Planners call it with the previous window's ``until`` as the next
``after``, so consecutive windows neither drop nor repeat an occurrence.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scheduler.zone_gaps import date_exists, gap_end, in_gap, skipped_dates

__all__ = ["Occurrence", "Recurrence", "next_occurrence", "occurrences"]

_UTC = UTC
_ALL_DAYS = frozenset(range(1, 8))
# Dates scanned either side of the requested window. A gap can push a time past midnight into the
# next date and a fall-back across midnight can make local dates run backwards for an hour, so a
# date's occurrence may lie a little outside the date itself; two days covers every tzdb zone.
_MARGIN_DAYS = 2
_MIN_ORDINAL = date.min.toordinal() + _MARGIN_DAYS
_MAX_ORDINAL = date.max.toordinal() - _MARGIN_DAYS


@dataclass(frozen=True, slots=True)
class Recurrence:
    """A recurring reminder schedule in a patient's local time.

    Equivalent spellings are normalized on construction so that equal schedules compare equal:
    ``times_of_day`` becomes a sorted tuple without duplicates, ``days_of_week`` listing all
    seven days becomes ``None`` and ``every_n_days=1`` becomes ``None``.

    Raises ``ValueError`` naming the offending field when the rule is invalid.
    """

    times_of_day: tuple[time, ...]
    timezone: str
    start_date: date
    end_date: date | None = None
    days_of_week: frozenset[int] | None = None
    every_n_days: int | None = None
    max_count: int | None = None

    def __post_init__(self) -> None:
        set_ = functools.partial(object.__setattr__, self)
        set_("times_of_day", _check_times(self.times_of_day))
        _check_zone(self.timezone)
        if not isinstance(self.start_date, date) or isinstance(self.start_date, datetime):
            raise ValueError(f"start_date: must be a date, got {self.start_date!r}")
        if self.end_date is not None:
            if not isinstance(self.end_date, date) or isinstance(self.end_date, datetime):
                raise ValueError(f"end_date: must be a date or None, got {self.end_date!r}")
            if self.end_date < self.start_date:
                raise ValueError(
                    f"end_date: {self.end_date} is before start_date {self.start_date}"
                )
        set_("days_of_week", _check_days(self.days_of_week))
        if self.every_n_days is not None:
            if not _is_int(self.every_n_days) or self.every_n_days < 1:
                raise ValueError(
                    f"every_n_days: must be an integer >= 1, got {self.every_n_days!r}"
                )
            if self.every_n_days == 1:
                set_("every_n_days", None)
        if self.max_count is not None and (not _is_int(self.max_count) or self.max_count < 1):
            raise ValueError(f"max_count: must be an integer >= 1, got {self.max_count!r}")
        if self.days_of_week is not None and self.every_n_days is not None:
            # Every N days visits the weekdays in a cycle of at most 7 steps; if none of them is
            # allowed the rule could never fire and next_occurrence would search forever.
            first = self.start_date.isoweekday() - 1
            reachable = {(first + k * self.every_n_days) % 7 + 1 for k in range(7)}
            if not reachable & self.days_of_week:
                raise ValueError(
                    "days_of_week: no date matches both days_of_week and every_n_days "
                    f"counted from start_date {self.start_date}"
                )

    @property
    def zone(self) -> ZoneInfo:
        """The rule's timezone as a ``ZoneInfo`` (cached by ``zoneinfo`` itself)."""
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, slots=True, order=True)
class Occurrence:
    """One firing of a rule.

    ``utc`` is the aware UTC instant to send at; ``local_date`` and ``local_time`` are the
    *scheduled* wall-clock date and time, which differ from ``utc`` in the patient's zone only
    when the time fell into a daylight-saving gap. Together with the schedule they identify a dose.
    """

    utc: datetime
    local_date: date
    local_time: time


def occurrences(rule: Recurrence, after: datetime, until: datetime) -> list[Occurrence]:
    """All occurrences of ``rule`` with ``after < utc <= until``, in chronological order.

    Both bounds must be timezone-aware (any zone); ``until`` before ``after`` is an error.
    Cost is proportional to the number of local dates in the window, not its length in minutes.
    """
    _check_aware("after", after)
    _check_aware("until", until)
    if until < after:
        raise ValueError(f"until: {until.isoformat()} is before after {after.isoformat()}")
    tz = rule.zone
    cutoff = _count_cutoff(rule)
    first = after.astimezone(tz).date().toordinal() - _MARGIN_DAYS
    last = until.astimezone(tz).date().toordinal() + _MARGIN_DAYS
    found = [
        occ
        for day in _chosen_dates(rule, cutoff, first, last)
        for occ in _on_date(rule, cutoff, tz, day)
        if after < occ.utc <= until
    ]
    # Already in order for every tzdb zone; the sort is a cheap guarantee, not a fix.
    found.sort()
    # One per instant, the first: times that fell into one gap (sorted by date and time).
    return [occ for i, occ in enumerate(found) if i == 0 or found[i - 1].utc != occ.utc]


def next_occurrence(rule: Recurrence, after: datetime) -> Occurrence | None:
    """The first occurrence strictly after ``after``, or ``None`` once the rule has ended."""
    _check_aware("after", after)
    tz = rule.zone
    cutoff = _count_cutoff(rule)
    first = after.astimezone(tz).date().toordinal() - _MARGIN_DAYS
    best: Occurrence | None = None
    for day in _chosen_dates(rule, cutoff, first, None):
        # Occurrences are chronological by date; the margin only guards the proof of that.
        if best is not None and day.toordinal() > best.local_date.toordinal() + _MARGIN_DAYS:
            break
        for occ in _on_date(rule, cutoff, tz, day):
            if occ.utc > after and (best is None or occ < best):
                best = occ
    return best


# -- validation helpers -------------------------------------------------------------------------


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_times(times: Iterable[time]) -> tuple[time, ...]:
    if isinstance(times, str | bytes) or not isinstance(times, Iterable):
        raise ValueError(f"times_of_day: must be a tuple of datetime.time, got {times!r}")
    cleaned: set[time] = set()
    for t in times:
        if not isinstance(t, time):
            raise ValueError(f"times_of_day: {t!r} is not a datetime.time")
        if t.tzinfo is not None:
            raise ValueError(f"times_of_day: {t} must be a naive wall-clock time")
        # fold would leak into datetime.combine and pick the second of two repeated instants.
        cleaned.add(t.replace(fold=0))
    if not cleaned:
        raise ValueError("times_of_day: must not be empty")
    return tuple(sorted(cleaned))


def _check_zone(key: object) -> None:
    if not isinstance(key, str) or not key:
        raise ValueError(f"timezone: must be an IANA timezone name, got {key!r}")
    try:
        ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"timezone: unknown IANA timezone {key!r}") from exc


def _check_days(days: Iterable[int] | None) -> frozenset[int] | None:
    if days is None:
        return None
    if isinstance(days, str | bytes) or not isinstance(days, Iterable):
        raise ValueError(f"days_of_week: must be a frozenset of ISO weekdays, got {days!r}")
    result = frozenset(days)
    if not result:
        raise ValueError("days_of_week: must not be empty (use None for every day)")
    bad = sorted((d for d in result if not _is_int(d) or not 1 <= d <= 7), key=repr)
    if bad:
        raise ValueError(f"days_of_week: {bad!r} are not ISO weekdays 1 (Mon) .. 7 (Sun)")
    return None if result == _ALL_DAYS else result


def _check_aware(name: str, value: datetime) -> None:
    if not isinstance(value, datetime):
        raise ValueError(f"{name}: must be a datetime, got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{name}: naive datetime {value.isoformat()} is ambiguous; pass an aware one"
        )


# -- date selection -----------------------------------------------------------------------------


def _chosen_dates(
    rule: Recurrence, cutoff: _Cutoff | None, first: int, last: int | None
) -> Iterator[date]:
    """Chosen local dates with ordinals in ``[first, last]`` (open-ended when ``last`` is None).

    Dates past the ``max_count`` cut-off are not yielded; on the cut-off date itself
    ``_on_date`` yields only the times still within the count.
    """
    first = max(first, rule.start_date.toordinal())
    stop = _MAX_ORDINAL if last is None else min(last, _MAX_ORDINAL)
    if rule.end_date is not None:
        stop = min(stop, rule.end_date.toordinal())
    if cutoff is not None:
        stop = min(stop, cutoff[0].toordinal())
    step = rule.every_n_days or 1
    if step > 1:
        # Align to the N-day grid anchored at start_date.
        first += -(first - rule.start_date.toordinal()) % step
    days = rule.days_of_week
    for ordinal in range(first, stop + 1, step):
        day = date.fromordinal(ordinal)
        if days is None or day.isoweekday() in days:
            yield day


_Cutoff = tuple[date, int]


@functools.lru_cache(maxsize=4096)
def _count_cutoff(rule: Recurrence) -> _Cutoff | None:
    """The local date of the ``max_count``-th occurrence and how many times fire on it.

    ``None`` when the rule has no count or ends (``end_date``, or the year 9999) before
    reaching it. Computed, not walked: the chosen dates repeat every 7 steps of the rule's day
    grid, so the date is found by arithmetic and moved past the chosen dates the zone skipped
    (:func:`scheduler.zone_gaps.skipped_dates`). A walk from ``start_date`` took seconds of CPU
    for a large count (``count`` 2,000,000,000 from a FHIR import: half a minute, with the web
    process or the worker's planner blocked). Cached because the planner asks every tick.
    """
    if rule.max_count is None:
        return None
    per_day = len(rule.times_of_day)
    # The cut-off is the (index + 1)-th existing chosen date; `left` times fire on it.
    index = (rule.max_count - 1) // per_day
    left = rule.max_count - index * per_day
    grid = _DayGrid(rule)
    if not grid.hits:
        return None  # no chosen date before the year 9999: the count is never reached
    for skipped in skipped_dates(rule.timezone):
        if skipped > grid.nth(index):
            break
        if grid.chosen(skipped):
            index += 1  # a chosen date the zone skipped fires nothing: the cut-off moves on
    ordinal = grid.nth(index)
    stop = _MAX_ORDINAL if rule.end_date is None else rule.end_date.toordinal()
    if ordinal > min(stop, _MAX_ORDINAL):
        return None
    return date.fromordinal(ordinal), left


class _DayGrid:
    """A rule's chosen dates as ordinals: every ``step`` days from the start, on its weekdays.

    The weekday of the k-th grid date repeats every 7 values of k, so the chosen ones are
    ``hits`` (offsets within one cycle of 7 grid dates, or of 1 when every weekday counts)
    repeated cycle after cycle. ``Recurrence`` refuses a rule none of whose dates is chosen.
    """

    __slots__ = ("cycle", "days", "hits", "start", "step")

    def __init__(self, rule: Recurrence) -> None:
        self.start = rule.start_date.toordinal()
        self.step = rule.every_n_days or 1
        self.days = rule.days_of_week
        self.cycle = 1 if self.days is None else 7
        self.hits = tuple(k for k in range(self.cycle) if self.chosen(self.start + k * self.step))

    def nth(self, index: int) -> int:
        """The ordinal of the chosen date ``index`` (0: the first), however far."""
        cycles, within = divmod(index, len(self.hits))
        return self.start + (cycles * self.cycle + self.hits[within]) * self.step

    def chosen(self, ordinal: int) -> bool:
        if ordinal < self.start or ordinal > _MAX_ORDINAL or (ordinal - self.start) % self.step:
            return False
        # Ordinal 1 (0001-01-01) is a Monday; no date object, as the ordinal may be past 9999.
        return self.days is None or (ordinal - 1) % 7 + 1 in self.days


# -- wall clock to UTC --------------------------------------------------------------------------


def _on_date(rule: Recurrence, cutoff: _Cutoff | None, tz: ZoneInfo, day: date) -> list[Occurrence]:
    times = rule.times_of_day
    if cutoff is not None and cutoff[0] == day:
        times = times[: cutoff[1]]
    result: list[Occurrence] = []
    for t in times:
        wall = datetime.combine(day, t, tzinfo=tz)
        if not in_gap(wall):
            # Ordinary time, or a repeated one where fold=0 is already the first occurrence.
            utc = wall.astimezone(_UTC)
        else:
            if not date_exists(tz, day):
                return []
            utc = gap_end(tz, wall)
        result.append(Occurrence(utc=utc, local_date=day, local_time=t))
    return result
