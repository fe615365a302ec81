"""A re-plan never gives a day more doses than its schedule has: times changed after a dose of
the day was answered, or while it waits for an answer, move the rest of the day, not add to it.

Before, a patient who took their 08:00 dose and then moved it to 10:00 (/meds, the API) got a
second reminder at 10:00 the same day: "Time for your 10:00 AM dose", one dose too many for a
medicine taken once a day. So too a dose snoozed at 23:39 and its time moved to 23:52: the
snoozed reminder came at 23:54 and the new dose's at 23:52. A re-plan (``full``, from ``now``)
plans a local date's doses from now on; the doses that date already has (before now, or
answered) stay as they are, so they count: of the rule's ``n`` doses of that date, the date
keeps ``n - k`` of the new ones, ``k`` the doses it already has, and the last ones of the day
(08:00 and 20:00 moved to 09:30 and 21:00 at 09:00 after the 08:00 was taken: 21:00 is kept,
the evening dose the patient has not had). Any dose but a cancelled one counts: taken, skipped,
missed, still open (due or snoozed), or planned while the patient could not be reached. The
days after are planned as the rule says.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Protocol, TypeVar
from uuid import UUID

import asyncpg

from core.sql import query
from scheduler.recurrence import Occurrence, Recurrence, occurrences

__all__ = ["within_day_quota"]

# The rule's doses of a date are counted from this long before the re-plan (a local date is at
# most 26 hours long, and its first dose may be that far back in UTC).
_LOOK_BACK = timedelta(hours=52)
# Doses a re-plan cancels when its plan no longer has them (planner.sql: cancel_unwanted_doses):
# ahead of now, they are not the day's.
_REPLACEABLE = ("due", "unreachable")


class Planned(Protocol):
    """What the planner wants: an occurrence of a schedule row (scheduler.planner._Wanted)."""

    @property
    def row(self) -> Mapping[str, object]: ...

    @property
    def occ(self) -> Occurrence: ...


W = TypeVar("W", bound=Planned)


async def within_day_quota(
    conn: asyncpg.Connection,
    wanted: Sequence[W],
    rules: Mapping[UUID, Recurrence],
    now: datetime,
) -> list[W]:
    """``wanted`` without the occurrences of re-planned schedules (``rules``, planned from
    ``now``) that would give a local date more doses than the rule has for it."""
    days: dict[tuple[UUID, date], list[W]] = defaultdict(list)
    for w in wanted:
        schedule_id = w.row["id"]
        if isinstance(schedule_id, UUID) and schedule_id in rules:
            days[schedule_id, w.occ.local_date].append(w)
    if not days:
        return list(wanted)
    ids = sorted({schedule_id for schedule_id, _ in days})
    dates = sorted({day for _, day in days})
    latest = max(w.occ.utc for ws in days.values() for w in ws)
    existing = await conn.fetch(
        query("planner", "doses_of_dates"), ids, dates, now - _LOOK_BACK, latest + _LOOK_BACK
    )
    had: dict[tuple[UUID, date], int] = defaultdict(int)
    planned_at = {(w.row["id"], w.occ.utc) for w in wanted}
    for dose in existing:
        ahead = dose["due_at"] > now
        wanted_again = (dose["schedule_id"], dose["due_at"]) in planned_at
        if ahead and (dose["status"] in _REPLACEABLE or wanted_again):
            continue  # cancelled by this re-plan, or the very dose wanted again
        had[dose["schedule_id"], dose["local_date"]] += 1
    dropped: set[int] = set()
    for (schedule_id, day), ws in days.items():
        if not had[schedule_id, day]:
            continue
        rule_count = _rule_count(rules[schedule_id], day, now, max(w.occ.utc for w in ws))
        keep = max(0, rule_count - had[schedule_id, day])
        ws.sort(key=lambda w: w.occ.utc)
        dropped.update(id(w) for w in ws[: len(ws) - keep])
    return [w for w in wanted if id(w) not in dropped]


def _rule_count(rule: Recurrence, day: date, now: datetime, last: datetime) -> int:
    """How many doses ``rule`` has on local date ``day`` (those before ``now`` too)."""
    return sum(1 for o in occurrences(rule, now - _LOOK_BACK, last) if o.local_date == day)
