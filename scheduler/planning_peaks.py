"""The 08:00 peak as the planner sees it: priority and the early window (issue 20).

Many patients share a reminder time, and the provider sends only so many a second (a Telegram
bot 30/s). The planner knows tomorrow's peak a day ahead, so it spreads it where that is safe:

* **Priority.** A reminder of a time-critical medication (``medications.time_critical``:
  insulin, anticonvulsants, Parkinson's medication) gets :data:`TIME_CRITICAL_PRIORITY`, ahead
  of every routine reminder in the claim order at its minute.
* **The early window.** When the reminders due at one instant exceed what the bots send in a
  minute (:class:`PeakCapacity`), a routine reminder of a clinic with an early window for its
  kind (``organizations.early_send_seconds``, e.g. ``{"medication_reminder": 300}``) may be
  scheduled up to that many seconds early. Which ones, and how early, is a hash of the reminder's
  key: stable across re-plans, spread evenly over the window, just enough of them to bring the
  instant down to capacity, and no more than the bots send in four fifths of the window (more
  would queue up and still be sending at the instant, ahead of its time-critical doses). Never a
  time-critical dose; never into the patient's quiet hours
  (a reminder then waits for their end; a dose due inside quiet hours, at the patient's own
  choice, is not moved at all). The text still says the dose's own time (it renders the dose's
  ``due_at``), and the reminder expires by the dose's time as before.

The planner's tick and every explicit re-plan (``replan_schedule``, ``replan_patient``: a
schedule created or edited through the API or the bot, a resume) plan by these rules.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from core.sql import query
from scheduler.planning_rules import REMINDER_PRIORITY, TIME_CRITICAL_PRIORITY
from scheduler.quiet_hours import quiet_window_end

if TYPE_CHECKING:
    import asyncpg

    from core.settings import Settings

# A peak is what the bots cannot send within this many seconds of its instant.
PEAK_SECONDS = 60.0
# The early sends fill this much of the window's capacity: the rest is slack for what pacing
# loses (a bot paced at exactly its cap falls behind and reaches the instant with a backlog).
# Measured with bench/telegram_capacity.py --live-window 15 (3,000 reminders, 4 bots).
WINDOW_LOAD = 0.8


@dataclass(frozen=True, slots=True)
class PeakCapacity:
    """What the service's bots send around one instant, and the service's quiet hours."""

    per_instant: float  # messages the bots send in PEAK_SECONDS
    default_quiet: tuple[time, time]

    @property
    def per_second(self) -> float:
        """Messages the bots send in a second."""
        return self.per_instant / PEAK_SECONDS

    @classmethod
    def from_settings(cls, settings: Settings) -> PeakCapacity:
        """Every Telegram bot (TELEGRAM_BOT_TOKEN and MEDREMIND_TELEGRAM_BOTS) at its rate."""
        bots = 1 + len(settings.telegram_extra_tokens)
        return cls(
            bots * settings.telegram_rate_per_second * PEAK_SECONDS,
            (settings.quiet_hours_start, settings.quiet_hours_end),
        )


def window_share(share: float, routine: int, per_second: float, window: float) -> float:
    """``share`` capped at what the bots send in :data:`WINDOW_LOAD` of ``window``: more would
    only queue up before the instant and be sent at it anyway, ahead of its time-critical
    doses."""
    if routine <= 0 or window <= 0:
        return 0.0
    return min(share, WINDOW_LOAD * per_second * window / routine)


def priority_of(row: Mapping[str, Any]) -> int:
    """The claim priority of a schedule's reminders."""
    return TIME_CRITICAL_PRIORITY if row.get("time_critical") else REMINDER_PRIORITY


def key_fraction(key: str) -> float:
    """A stable number in [0, 1) for ``key``."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") / 2**64


def early_send_at(
    due: datetime,
    key: str,
    window_seconds: float,
    share: float,
    zone: str,
    quiet: tuple[time, time],
) -> datetime:
    """When a routine reminder due at ``due`` is sent, given the share of the instant's routine
    reminders that must leave early (0: none) and the clinic's window.

    The reminder moves when its key's fraction falls below ``share``, by an amount spread evenly
    over the window; the result is never inside the quiet window ``quiet`` of ``zone``, and a
    reminder due inside it does not move.
    """
    if window_seconds <= 0 or share <= 0:
        return due
    h = key_fraction(key)
    if h >= share:
        return due
    start, end = quiet
    try:
        if quiet_window_end(due, zone, start, end) is not None:
            return due  # the patient chose a time inside their quiet hours: leave it alone
        earlier = due - timedelta(seconds=window_seconds * (1.0 - h / share))
        quiet_end = quiet_window_end(earlier, zone, start, end)
    except (ValueError, KeyError):
        return due  # an unknown zone: no early send rather than one at night
    return earlier if quiet_end is None else min(due, quiet_end)


def patient_quiet(row: Mapping[str, Any], default: tuple[time, time]) -> tuple[time, time]:
    """The patient's own quiet hours, else their clinic's, else the service's."""
    if row.get("quiet_start") is not None and row.get("quiet_end") is not None:
        return row["quiet_start"], row["quiet_end"]
    if row.get("default_quiet_start") is not None and row.get("default_quiet_end") is not None:
        return row["default_quiet_start"], row["default_quiet_end"]
    return default


async def early_shares(
    conn: asyncpg.Connection,
    capacity: PeakCapacity,
    instants: Sequence[datetime],
    routine: Mapping[datetime, int],
) -> dict[datetime, float]:
    """Per instant, the share of its new routine reminders that must leave early: what is due
    there (already pending, plus ``instants`` new ones) beyond ``capacity``, over ``routine``
    (the new routine reminders there that may move)."""
    new: dict[datetime, int] = {}
    for at in instants:
        new[at] = new.get(at, 0) + 1
    peaks = [at for at in new if routine.get(at)]
    if not peaks:
        return {}
    rows = await conn.fetch(query("planner", "pending_at_instants"), peaks)
    pending = {r["scheduled_time"]: int(r["n"]) for r in rows}
    shares: dict[datetime, float] = {}
    for at in peaks:
        excess = pending.get(at, 0) + new[at] - capacity.per_instant
        if excess > 0:
            shares[at] = min(1.0, excess / routine[at])
    return shares


__all__ = [
    "PEAK_SECONDS",
    "PeakCapacity",
    "early_send_at",
    "early_shares",
    "key_fraction",
    "patient_quiet",
    "priority_of",
    "window_share",
]
