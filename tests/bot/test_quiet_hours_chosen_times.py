"""A reminder time the patient chooses inside their quiet hours keeps its follow-ups, and the
medicine's save says what quiet hours do to its reminders.

Before, with the default 21:00-08:00 window, a dose at 06:58 got its reminder and then no
follow-up at all ("nag until acknowledged" silently off), and saving it said nothing. The real
bot, planner and dispatcher at the fixed clock of tests/bot/test_medicine_lifecycle_stateful.py
(2026-03-04 11:58 UTC, a patient in UTC), quiet hours 12:00-13:00 typed in /settings; follow-ups
every 15 minutes, three of them (the defaults).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from core.db import Database
from core.settings import Settings
from tests.bot.conftest import Bot
from tests.bot.helpers import registered_patient
from tests.bot.test_medicine_lifecycle_stateful import World, _replay


async def test_a_time_chosen_in_quiet_hours_keeps_its_follow_ups(
    db: Database, settings: Settings
) -> None:
    def steps(machine: Any, world: World) -> None:
        machine.register()
        world.run(lambda: machine._dialog("/settings", "Quiet hours", "12:00-13:00"))
        machine.adds_a_medicine(minutes_ahead=2)  # 12:00, inside
        saved = world.sender.sends[-1][1].text
        assert "Your reminder at 12:00 PM falls inside your quiet hours (12:00 PM-1:00 PM)" in saved
        assert "so it still comes then, with its follow-ups" in saved
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
        assert "Follow-ups of 12:00 PM stop at 12:30 PM" in saved, saved
        assert "inside your quiet hours" not in saved
        machine.time_passes(minutes=2)
        machine.time_passes(minutes=1)
        for _ in range(3):
            machine.time_passes(minutes=16)
        assert world.stats["dose_followup"] == 1, dict(world.stats)  # 12:15 only

    await _replay(db, settings, steps)


# The day clocks change (2027-03-28 in London, 01:00 GMT -> 02:00 BST; 2027-03-14 in New York,
# 02:00 EST -> 03:00 EDT): follow-ups are minutes after the reminder's instant, so a reminder
# before the change has them an hour later on the wall clock. The note was worked out on wall
# times of a day without a change, and missed the cut (or saw one that is not there).
_CUT = "Follow-ups of {time} stop at {start}"
_DST_CASES = [
    # zone, the clock at the save (UTC), quiet hours, the dose, the cut's words or None.
    # Saved just after midnight on the day: the 00:30 reminder's follow-ups at 00:45, then
    # 02:00 and 02:15 BST (01:00, 01:15 UTC), in quiet hours from 02:00.
    ("Europe/London", datetime(2027, 3, 28, 0, 5, tzinfo=UTC), "02:00-08:00", "00:30",
     ("12:30 AM", "2:00 AM")),
    # The day before (GMT): the next 00:30 is the day of the change.
    ("Europe/London", datetime(2027, 3, 27, 12, 0, tzinfo=UTC), "02:00-08:00", "00:30",
     ("12:30 AM", "2:00 AM")),
    # Saved in the afternoon of the day: the next 00:30 is the 29th, a plain day.
    ("Europe/London", datetime(2027, 3, 28, 12, 0, tzinfo=UTC), "02:00-08:00", "00:30", None),
    # New York, saved at 00:00 EST: 01:30's follow-ups at 01:45 EST, 03:00 and 03:15 EDT.
    ("America/New_York", datetime(2027, 3, 14, 5, 0, tzinfo=UTC), "03:00-08:00", "01:30",
     ("1:30 AM", "3:00 AM")),
    # ... saved at 09:00 EDT: the next 01:30 is the 15th, a plain day.
    ("America/New_York", datetime(2027, 3, 14, 13, 0, tzinfo=UTC), "03:00-08:00", "01:30", None),
    # A time after the change on the day: as on any day (12:15 and 12:30 EDT cut at 12:15).
    ("America/New_York", datetime(2027, 3, 14, 13, 0, tzinfo=UTC), "12:15-13:00", "12:00",
     ("12:00 PM", "12:15 PM")),
]  # fmt: skip


@pytest.mark.parametrize(("zone", "clock", "quiet", "dose", "cut"), _DST_CASES)
async def test_the_quiet_hours_note_on_the_day_clocks_change(
    db: Database,
    settings: Settings,
    zone: str,
    clock: datetime,
    quiet: str,
    dose: str,
    cut: tuple[str, str] | None,
) -> None:
    def steps(machine: Any, world: World) -> None:
        world.now = clock
        machine.register()
        world.run(lambda: _set_zone(world, machine.patient_id, zone))
        world.run(lambda: machine._dialog("/settings", "Quiet hours", quiet))
        world.run(lambda: machine._dialog("/add", "MedDST", "Skip", dose, "Done", "Every day",
                                          "Today", "No end date", "Skip", "Save"))  # fmt: skip
        saved = world.sender.sends[-1][1].text
        if cut is None:
            assert "Follow-ups of" not in saved and "inside your quiet hours" not in saved, saved
        else:
            assert _CUT.format(time=cut[0], start=cut[1]) in saved, saved

    await _replay(db, settings, steps)


async def test_the_note_names_the_times_the_patient_typed_on_the_night_clocks_change(
    db: Database, settings: Settings
) -> None:
    """London, 2027-03-28, saved at 00:05 GMT with quiet hours 01:00-08:00: 01:30 does not exist
    that night (its reminder comes at 02:00 BST). The note said "2:00 AM, 3:00 AM is inside
    your quiet hours": a time the patient never typed, and "is" for two."""

    def steps(machine: Any, world: World) -> None:
        world.now = datetime(2027, 3, 28, 0, 5, tzinfo=UTC)
        machine.register()
        world.run(lambda: _set_zone(world, machine.patient_id, "Europe/London"))
        world.run(lambda: machine._dialog("/settings", "Quiet hours", "01:00-08:00"))
        world.run(lambda: machine._dialog("/add", "MedDST", "Skip", "01:30, 03:00", "Done",
                                          "Every day", "Today", "No end date", "Skip",
                                          "Save"))  # fmt: skip
        saved = world.sender.sends[-1][1].text
        assert (
            "Your reminders at 1:30 AM, 3:00 AM fall inside your quiet hours (1:00 AM-8:00 AM)"
            in saved
        ), saved
        assert "you chose those times, so they still come then, with their follow-ups" in saved

    await _replay(db, settings, steps)


async def test_the_note_says_what_the_planner_does_on_the_day_clocks_change(
    db: Database, settings: Settings
) -> None:
    """London, 2027-03-28, saved at 00:05: the note says the 00:30 reminder's follow-ups stop at
    02:00, and the worker sends one (00:45) of the three."""

    def steps(machine: Any, world: World) -> None:
        world.now = datetime(2027, 3, 28, 0, 5, tzinfo=UTC)
        machine.register()
        world.run(lambda: _set_zone(world, machine.patient_id, "Europe/London"))
        world.run(lambda: machine._dialog("/settings", "Quiet hours", "02:00-08:00"))
        world.run(lambda: machine._dialog("/add", "MedDST", "Skip", "00:30", "Done", "Every day",
                                          "Today", "No end date", "Skip", "Save"))  # fmt: skip
        assert "stop at 2:00 AM" in world.sender.sends[-1][1].text
        machine.time_passes(minutes=25)  # 00:30 GMT: the reminder
        assert world.stats["medication_reminder"] == 1
        machine.time_passes(minutes=1)
        for _ in range(3):
            machine.time_passes(minutes=16)
        assert world.stats["dose_followup"] == 1, dict(world.stats)

    await _replay(db, settings, steps)


async def _set_zone(world: World, patient_id: UUID, zone: str) -> None:
    """The patient's zone, as /settings saves it (registration answered UTC)."""
    async with world.pool.acquire() as conn:
        await conn.execute("update patients set timezone = $2 where id = $1", patient_id, zone)


@pytest.mark.parametrize(
    ("locale", "typed", "said"),
    [
        ("en", ("23:00", "6:00"), "Your reminders at 6:00 AM, 11:00 PM fall inside your quiet"
         " hours (9:00 PM-8:00 AM): you chose those times, so they still come then, with their"
         " follow-ups."),
        ("en", ("23:00",), "Your reminder at 11:00 PM falls inside your quiet hours (9:00 PM-8:00"
         " AM): you chose that time,"),
        ("es", ("23:00", "6:00"), "Tus recordatorios de las 6:00 y de las 23:00 caen dentro de"
         " tus horas de silencio (21:00-8:00): elegiste esas horas, así que llegan igual"),
    ],
)  # fmt: skip
async def test_several_times_inside_quiet_hours_are_spoken_of_in_the_plural(
    bot: Bot, admin_conn: asyncpg.Connection, locale: str, typed: tuple[str, ...], said: str
) -> None:
    """Found adding 23:50 and 1:30 over SMS: "1:30, 23:50 is inside your quiet hours: you chose
    it". The service's default window (21:00-08:00)."""
    chat = bot.new_chat()
    await registered_patient(bot, admin_conn, chat, locale=locale)
    await bot.send(chat, "/add Aspirin")
    await bot.press(chat, "Skip" if locale == "en" else "Omitir")  # the dose
    for text in typed:
        await bot.send(chat, text)
    for label in (
        ("Done", "Every day", "Today", "No end date", "Skip", "Save")
        if locale == "en"
        else ("Listo", "Todos los días", "Hoy", "Sin fecha de fin", "Omitir", "Guardar")
    ):
        await bot.press(chat, label)
    assert said in bot.last_text(chat), bot.last_text(chat)


async def test_a_time_in_the_spring_forward_gap_is_named_as_chosen(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """Found in `medremind dev` at 01:45 in Chicago on 2027-03-14 (clocks 2:00 -> 3:00): "I'll
    remind you at 2:30 AM, 3:05 AM. 3:00 AM, 3:05 AM are inside your quiet hours"."""
    chat = bot.new_chat()
    bot.clock.now = datetime(2027, 3, 14, 7, 45, tzinfo=UTC)  # 01:45 CST
    await registered_patient(bot, admin_conn, chat, timezone="America/Chicago")
    await bot.send(chat, "/add Aspirin")
    await bot.press(chat, "Skip")
    await bot.send(chat, "2:30")
    for label in ("Done", "Every day", "Today", "No end date", "Skip", "Save"):
        await bot.press(chat, label)
    # That night's reminder comes at 3:00 AM, the gap's end: said (bot/skipped_times.py).
    assert bot.last_text(chat) == (
        "Saved. I'll remind you at 2:30 AM. The clocks change tonight, so your 2:30 AM reminder"
        " comes at 3:00 AM. Your reminder at 2:30 AM falls inside your quiet hours"
        " (9:00 PM-8:00 AM): you chose that time, so it still comes then, with its follow-ups."
    )
