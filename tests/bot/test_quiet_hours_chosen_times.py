"""A reminder time the patient chooses inside their quiet hours keeps its follow-ups, and the
medicine's save says what quiet hours do to its reminders.

Before, with the default 21:00-08:00 window, a dose at 06:58 got its reminder and then no
follow-up at all ("nag until acknowledged" silently off), and saving it said nothing. The real
bot, planner and dispatcher at the fixed clock of tests/bot/test_medicine_lifecycle_stateful.py
(2026-03-04 11:58 UTC, a patient in UTC), quiet hours 12:00-13:00 typed in /settings; follow-ups
every 15 minutes, three of them (the defaults).
"""

from __future__ import annotations

from typing import Any

from core.db import Database
from core.settings import Settings
from tests.bot.test_medicine_lifecycle_stateful import World, _replay


async def test_a_time_chosen_in_quiet_hours_keeps_its_follow_ups(
    db: Database, settings: Settings
) -> None:
    def steps(machine: Any, world: World) -> None:
        machine.register()
        world.run(lambda: machine._dialog("/settings", "Quiet hours", "12:00-13:00"))
        machine.adds_a_medicine(minutes_ahead=2)  # 12:00, inside
        saved = world.sender.sends[-1][1].text
        assert "12:00\u202fPM is inside your quiet hours (12:00\u202fPM-1:00\u202fPM)" in saved
        assert "its reminder and follow-ups still come then" in saved
        machine.time_passes(minutes=2)  # 12:00: the reminder
        assert world.stats["medication_reminder"] == 1
        machine.time_passes(minutes=1)  # the planner's pass after the send plans the follow-ups
        for _ in range(3):
            machine.time_passes(minutes=16)
        assert world.stats["dose_followup"] == 3, dict(world.stats)

    await _replay(db, settings, steps)


async def test_a_time_before_quiet_hours_says_its_follow_ups_stop(
    db: Database, settings: Settings
) -> None:
    def steps(machine: Any, world: World) -> None:
        machine.register()
        world.run(lambda: machine._dialog("/settings", "Quiet hours", "12:30-13:00"))
        machine.adds_a_medicine(minutes_ahead=2)  # 12:00: follow-ups 12:15, 12:30, 12:45
        saved = world.sender.sends[-1][1].text
        assert "Follow-ups of 12:00\u202fPM stop at 12:30\u202fPM" in saved, saved
        assert "inside your quiet hours" not in saved
        machine.time_passes(minutes=2)
        machine.time_passes(minutes=1)
        for _ in range(3):
            machine.time_passes(minutes=16)
        assert world.stats["dose_followup"] == 1, dict(world.stats)  # 12:15 only

    await _replay(db, settings, steps)
