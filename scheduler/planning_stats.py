"""What one planner pass did, as counts (logged, exported as metrics, asserted in tests)."""

from __future__ import annotations

import dataclasses
from typing import Any, Self


@dataclasses.dataclass(frozen=True, slots=True)
class PlannerStats:
    """Counts of one planner pass; ``a + b`` adds them up. ``skipped`` is True when another
    worker held the planner lock and this pass did (part of) nothing. "Created" counts rows
    written: new ones, cancelled ones brought back, and follow-ups moved to a new time."""

    schedules_planned: int = 0
    doses_created: int = 0
    reminders_created: int = 0
    doses_cancelled: int = 0
    messages_cancelled: int = 0
    followups_created: int = 0
    followups_cancelled: int = 0
    doses_missed: int = 0
    # Doses of patients no channel can reach (patients.unreachable_since): neither reminded nor
    # missed; and the messages cancelled for them.
    doses_unreachable: int = 0
    # Caregivers told once that reminders no longer reach the patient (planning_unreachable).
    unreachable_notices: int = 0
    # Pauses with an end that ended by themselves, their patients resumed (pause_ends).
    pauses_ended: int = 0
    caregiver_alerts: int = 0
    refill_reminders: int = 0
    appointments_synced: int = 0
    errors: int = 0
    # Schedules whose planning failed (a statement raised), recorded in planner_failures and
    # tried again next tick (planning_failures); the rest of their batch was planned.
    schedules_failed: int = 0
    skipped: bool = False

    def __add__(self, other: PlannerStats) -> PlannerStats:
        values: dict[str, Any] = {}
        for field in dataclasses.fields(self):
            a, b = getattr(self, field.name), getattr(other, field.name)
            values[field.name] = (a or b) if isinstance(a, bool) else a + b
        return PlannerStats(**values)

    def evolve(self, **changes: Any) -> Self:
        """A copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes)

    @property
    def changed(self) -> bool:
        """Whether the pass wrote anything (or failed on something) worth a log line."""
        return any(
            getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name not in ("schedules_planned", "skipped")
        )
