"""A patient who comes back after their dose's missed mark passed while no channel reached them
(docs/preferences.md "When no channel can reach the patient").

The real bot, planner and dispatcher at the fixed clock of
tests/bot/test_medicine_lifecycle_stateful.py (2026-03-04 11:58 UTC): a Telegram patient
registered in the bot, a Telegram caregiver, a medicine at 12:00 (follow-ups every 15 minutes,
three: the missed mark at 13:00). Reminded at 12:00, the patient sends /stop at 12:05 and
/start at 14:00 (or blocks the bot and writes to it again), with no worker pass in between.

Before: the /start turn's re-plan found a reachable patient with a dose past its mark and
marked it missed with a caregiver alert, though the caregiver had had the one notice that
reminders no longer reach the patient (a pass during the spell marks it missed without one).
Now the turn of a patient still unreachable first runs that pass at its own clock.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from core.db import Database
from core.settings import Settings
from tests.bot.test_medicine_lifecycle_stateful import World, _replay


@pytest.mark.parametrize("away", ["stop", "blocked"])
async def test_a_dose_missed_while_unreachable_alerts_nobody_at_the_return(
    db: Database, settings: Settings, away: str
) -> None:
    """``stop``: /stop at 12:05, /start at 14:00. ``blocked``: the bot blocked at 12:05 (a
    follow-up's 403: the dispatcher marks the chat blocked), a message to it at 14:00."""

    def steps(machine: Any, world: World) -> None:
        machine.register()
        world.run(lambda: _caregiver(world, machine.patient_id))
        machine.adds_a_medicine(minutes_ahead=2)  # 12:00
        machine.time_passes(minutes=2)  # the reminder
        assert world.stats["medication_reminder"] == 1
        dose = machine.buttons[0][0]  # the reminded one (tomorrow's is planned too)
        world.now += timedelta(minutes=5)
        if away == "stop":
            world.run(lambda: machine._dialog("/stop"))
        else:
            world.run(lambda: _blocked(world, machine.patient_id))
        world.now += timedelta(minutes=115)  # 14:00, no worker pass since 12:05
        world.run(lambda: machine._dialog("/start" if away == "stop" else "/today"))
        machine.time_passes(minutes=1)
        assert world.run(machine._doses)[dose] == "missed"
        alerts = world.run(lambda: _alerts(world, machine.patient_id))
        assert alerts == ["patient_unreachable_caregiver"] * (away == "stop"), alerts

    await _replay(db, settings, steps)


async def test_a_press_that_lifts_the_block_catches_up_first(
    db: Database, settings: Settings
) -> None:
    """Two doses at 12:00, reminded; the bot blocked at 12:05; at 14:00 the patient, back,
    presses Taken on the first one's reminder. The press lifts the block as a message does, so
    the other dose, missed while nothing reached the patient, alerts nobody.

    Before: Taken and Skip take the one-statement turn (bot/button_turn.py), which lifted the
    block without the catch-up, and the next pass alerted the caregiver ("missed_dose_alert")."""

    def steps(machine: Any, world: World) -> None:
        machine.register()
        world.run(lambda: _caregiver(world, machine.patient_id))
        machine.adds_a_medicine(minutes_ahead=2)  # 12:00
        machine.adds_a_medicine(minutes_ahead=2)  # 12:00 too
        machine.time_passes(minutes=2)  # the reminders
        assert world.stats["medication_reminder"] == 2
        pressed, other = list(dict.fromkeys(dose for dose, _ in machine.buttons))
        taken = next(d for dose, d in machine.buttons if dose == pressed and d.endswith(":t"))
        world.now += timedelta(minutes=5)
        world.run(lambda: _blocked(world, machine.patient_id))
        world.now += timedelta(minutes=115)  # 14:00, no worker pass since 12:05
        world.run(lambda: machine._inbound("", taken))
        machine.time_passes(minutes=1)
        doses = world.run(machine._doses)
        assert (doses[pressed], doses[other]) == ("taken", "missed")
        assert world.run(lambda: _alerts(world, machine.patient_id)) == []

    await _replay(db, settings, steps)


async def _blocked(world: World, patient_id: Any) -> None:
    """What the dispatcher writes on a 403 (dispatch.sql deactivate_contacts)."""
    async with world.pool.acquire() as conn:
        await conn.execute(
            "update contact_points set active = false, blocked_at = $2,"
            " last_error = 'bot blocked' where patient_id = $1",
            patient_id,
            world.now,
        )


async def _caregiver(world: World, patient_id: Any) -> None:
    async with world.pool.acquire() as conn:
        await conn.execute(
            "insert into caregivers (patient_id, name, channel, address, alert_delay_minutes)"
            " values ($1, 'Sam', 'telegram', '810999001', 0)",
            patient_id,
        )


async def _alerts(world: World, patient_id: Any) -> list[str]:
    """The templates of the caregiver messages planned for the patient (None: a dose's alert)."""
    async with world.pool.acquire() as conn:
        rows = await conn.fetch(
            "select coalesce(template, 'missed_dose_alert') as template from scheduled_messages"
            " where patient_id = $1 and kind = 'missed_dose_caregiver' order by created_at",
            patient_id,
        )
    return [r["template"] for r in rows]
