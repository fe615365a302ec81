"""/pause stops reminders; it does not take back a dose the patient was already reminded of.

Before, /pause cancelled every open dose: a snoozed or unanswered dose vanished from /today and
a typed "1" found nothing, so after /resume a patient who had taken the pill could not say so
(their adherence counted it as never due). Each test is a patient's sequence through the real
bot, planner and dispatcher at the fixed clock of ``tests/bot/test_medicine_lifecycle_stateful``
(a Telegram patient in UTC with no quiet window, from 2026-03-04 11:58 UTC).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from core.db import Database
from core.settings import Settings
from tests.bot.test_medicine_lifecycle_stateful import World, _replay, _snooze_button


def _replies(machine: Any, world: World, since: int) -> list[Any]:
    return [m for a, m in world.sender.sends[since:] if a == machine.chat]


def _today_taken_button(machine: Any, world: World, dose: UUID) -> tuple[str, str]:
    """/today's text and the data of its Taken button for ``dose``."""
    sent = len(world.sender.sends)
    world.run(lambda: machine._dialog("/today"))
    (reply,) = _replies(machine, world, sent)
    data = [o.data for o in reply.options if dose.hex in (o.data or "")]
    assert data, f"/today offers no Taken for the dose: {reply.text!r}"
    return reply.text, data[0]


def _paused_dose(machine: Any, world: World, *, snooze: bool = False) -> UUID:
    """A medicine at 11:59, its reminder sent (and snoozed 15 min), then /pause: the dose."""
    machine.register()
    machine.adds_a_medicine(minutes_ahead=1)
    machine.time_passes(minutes=1)  # 11:59: the reminder goes out
    dose, snooze_data = _snooze_button(machine)
    if snooze:
        world.run(lambda: machine._press(dose, snooze_data))
    machine.pauses_or_resumes_everything(command="/pause")
    return dose


def _resume_and_take_from_today(machine: Any, world: World, dose: UUID, status: str) -> None:
    """/resume, then /today shows the dose ``status`` and its Taken records it."""
    machine.pauses_or_resumes_everything(command="/resume")
    text, taken = _today_taken_button(machine, world, dose)
    assert status in text, text
    world.run(lambda: machine._press(dose, taken))
    assert world.run(machine._doses)[dose] == "taken"


async def test_a_snoozed_dose_can_be_taken_from_today_after_pause_and_resume(
    db: Database, settings: Settings
) -> None:
    def steps(machine: Any, world: World) -> None:
        dose = _paused_dose(machine, world, snooze=True)
        assert world.run(machine._doses)[dose] == "snoozed"
        machine.time_passes(minutes=16)  # the snooze's time: nothing is sent while paused
        _resume_and_take_from_today(machine, world, dose, "snoozed")

    await _replay(db, settings, steps)


async def test_a_reminded_dose_can_be_answered_by_typing_after_pause_and_resume(
    db: Database, settings: Settings
) -> None:
    """A typed answer goes through the reminder's open question (the "1" of SMS too): the
    question no longer matched a cancelled dose."""

    def steps(machine: Any, world: World) -> None:
        dose = _paused_dose(machine, world)
        machine.time_passes(minutes=2)
        machine.pauses_or_resumes_everything(command="/resume")
        world.run(lambda: machine._inbound("taken"))
        assert world.run(machine._doses)[dose] == "taken"

    await _replay(db, settings, steps)


async def test_a_reminded_dose_can_be_skipped_by_its_button_while_paused(
    db: Database, settings: Settings
) -> None:
    def steps(machine: Any, world: World) -> None:
        dose = _paused_dose(machine, world)
        skip = next(b for d, b in machine.buttons if d == dose and b.endswith(":k"))
        world.run(lambda: machine._press(dose, skip))
        assert world.run(machine._doses)[dose] == "skipped"

    await _replay(db, settings, steps)


async def test_a_paused_patient_s_snooze_is_refused_and_says_how_to_resume(
    db: Database, settings: Settings
) -> None:
    """A snooze while paused would promise a reminder the pause withholds."""

    def steps(machine: Any, world: World) -> None:
        dose = _paused_dose(machine, world)
        world.run(lambda: machine._press(dose, _snooze_button(machine)[1]))  # asserts the reply
        assert world.run(machine._doses)[dose] == "due"

    await _replay(db, settings, steps)


async def test_an_unanswered_dose_while_paused_is_missed_and_still_answerable(
    db: Database, settings: Settings
) -> None:
    """Unanswered, the dose is missed at its usual time (nags were withdrawn; no caregiver
    alert while paused), and a late Taken from /today still records."""

    def steps(machine: Any, world: World) -> None:
        dose = _paused_dose(machine, world)
        for _ in range(5):
            machine.time_passes(minutes=40)
        assert world.run(machine._doses)[dose] == "missed"
        _resume_and_take_from_today(machine, world, dose, "missed")

    await _replay(db, settings, steps)


async def test_a_snooze_still_ahead_at_the_resume_comes_back(
    db: Database, settings: Settings
) -> None:
    """Snoozed 15 min, paused and resumed within them: the snoozed reminder comes at its time."""

    def steps(machine: Any, world: World) -> None:
        dose = _paused_dose(machine, world, snooze=True)
        machine.time_passes(minutes=1)
        machine.pauses_or_resumes_everything(command="/resume")
        reminded = machine.reminded[dose]
        machine.time_passes(minutes=16)
        assert machine.reminded[dose] == reminded + 1

    await _replay(db, settings, steps)


async def test_a_snooze_whose_time_passed_while_paused_comes_at_the_resume(
    db: Database, settings: Settings
) -> None:
    """Snoozed 15 min, paused, resumed after the snooze's time but before the dose's missed mark
    (an hour after it): the patient asked to be reminded, so the reminder comes at the resume,
    once. Before, it stayed withdrawn and the dose was missed without a reminder."""

    def steps(machine: Any, world: World) -> None:
        dose = _paused_dose(machine, world, snooze=True)
        machine.time_passes(minutes=16)  # 12:15: the snooze's time passes, nothing is sent
        reminded = machine.reminded[dose]
        machine.pauses_or_resumes_everything(command="/resume")
        machine.pauses_or_resumes_everything(command="/resume")  # twice: still one reminder
        machine.time_passes(minutes=1)
        assert machine.reminded[dose] == reminded + 1
        machine.time_passes(minutes=2)
        assert machine.reminded[dose] == reminded + 1
        assert world.run(machine._doses)[dose] == "snoozed"

    await _replay(db, settings, steps)


async def test_a_snooze_missed_while_paused_does_not_come_at_the_resume(
    db: Database, settings: Settings
) -> None:
    """Paused past the snoozed dose's missed mark: the dose is missed (no caregiver alert while
    paused) and its reminder does not come late at the resume."""

    def steps(machine: Any, world: World) -> None:
        dose = _paused_dose(machine, world, snooze=True)
        for _ in range(2):
            machine.time_passes(minutes=40)  # 13:19: past 12:14 + 4 x 15 min
        assert world.run(machine._doses)[dose] == "missed"
        reminded = machine.reminded[dose]
        machine.pauses_or_resumes_everything(command="/resume")
        machine.time_passes(minutes=1)
        assert machine.reminded[dose] == reminded
        assert world.run(machine._doses)[dose] == "missed"

    await _replay(db, settings, steps)


async def test_a_reminder_still_queued_at_the_pause_comes_at_the_resume(
    db: Database, settings: Settings
) -> None:
    """/pause at the dose's minute, before the worker sent its reminder: the dose stays open
    (due), its reminder withdrawn. Resumed before the dose's missed mark, the reminder comes
    then, once. Before, it never came and the dose ended missed though never reminded."""

    def steps(machine: Any, world: World) -> None:
        machine.register()
        machine.adds_a_medicine(minutes_ahead=1)
        world.now += timedelta(minutes=1)  # 11:59: due, its reminder still queued
        machine.pauses_or_resumes_everything(command="/pause")
        (dose,) = [d for d, s in world.run(machine._doses).items() if s == "due"]
        machine.time_passes(minutes=2)  # 12:01: nothing is sent while paused
        assert machine.reminded[dose] == 0
        machine.pauses_or_resumes_everything(command="/resume")
        machine.time_passes(minutes=1)
        assert machine.reminded[dose] == 1
        machine.time_passes(minutes=16)
        assert machine.reminded[dose] == 1
        assert world.run(machine._doses)[dose] == "due"

    await _replay(db, settings, steps)


async def test_a_typed_taken_after_a_refused_snooze_answers_the_newest_reminder(
    db: Database, settings: Settings
) -> None:
    """Two reminders, /pause, "snooze" (refused: the newest reminder's dose stays due), then
    "taken". The refused snooze closed the newest reminder's question as if answered, so
    "taken" went on to the older reminder's question: recorded on the other dose (found by
    tests/bot/test_answer_router_stateful.py with 50 random sequences)."""

    def steps(machine: Any, world: World) -> None:
        machine.register()
        machine.adds_a_medicine(minutes_ahead=1)
        machine.adds_a_medicine(minutes_ahead=2)
        machine.time_passes(minutes=1)  # 11:59: the first medicine's reminder
        machine.time_passes(minutes=1)  # 12:00: the second's, the newest question
        older, newer = dict.fromkeys(dose for dose, _ in machine.buttons)  # reminded in order
        machine.pauses_or_resumes_everything(command="/pause")
        world.run(lambda: machine._inbound("snooze"))
        doses = world.run(machine._doses)
        assert (doses[older], doses[newer]) == ("due", "due")
        # The refusal names no other dose: "Also waiting for your answer: ... Reply Taken or
        # Skip" named the older one last, and the "taken" typed to it went to the newer (found
        # by tests/bot/test_two_doses_at_any_hour_stateful.py, a random search).
        said = world.sender.sends[-1][1].text
        assert said.startswith("Your reminders are paused") and "Also waiting" not in said, said
        world.run(lambda: machine._inbound("taken"))
        doses = world.run(machine._doses)
        assert (doses[older], doses[newer]) == ("due", "taken")

    await _replay(db, settings, steps)


async def test_a_typed_taken_after_a_refused_snooze_is_recorded(
    db: Database, settings: Settings
) -> None:
    """One reminder, /pause, "snooze" (refused), "taken": the dose is taken. Before, the refused
    snooze closed the reminder's question and "taken" found nothing to answer."""

    def steps(machine: Any, world: World) -> None:
        dose = _paused_dose(machine, world)
        world.run(lambda: machine._inbound("snooze"))
        world.run(lambda: machine._inbound("taken"))
        assert world.run(machine._doses)[dose] == "taken"

    await _replay(db, settings, steps)


async def test_a_snoozed_dose_snoozed_again_while_paused_is_told_the_pause(
    db: Database, settings: Settings
) -> None:
    """The reminder's Snooze pressed again while paused: the snooze is refused (the dose keeps
    its first snooze), and the reply says the reminders are paused, not a new snooze time."""

    def steps(machine: Any, world: World) -> None:
        dose = _paused_dose(machine, world, snooze=True)  # snoozed until 12:14
        machine.time_passes(minutes=2)
        world.run(lambda: machine._press(dose, _snooze_button(machine)[1]))  # asserts the reply
        assert world.run(machine._doses)[dose] == "snoozed"

    await _replay(db, settings, steps)


async def test_a_snooze_pressed_again_in_the_pause_s_instant_is_told_the_pause(
    db: Database, settings: Settings
) -> None:
    """Snooze, /pause and Snooze again at one instant: the second snooze asks for the very time
    the dose is snoozed until, which read as a repeat of the first and was answered "OK, I'll
    remind you again at 12:14 PM", a reminder the pause withholds. It is refused as any snooze
    while paused is, and says how to resume (found by the medicine lifecycle machine at 10
    random sequences)."""

    def steps(machine: Any, world: World) -> None:
        dose = _paused_dose(machine, world, snooze=True)  # 11:59, snoozed until 12:14
        world.run(lambda: machine._press(dose, _snooze_button(machine)[1]))  # asserts the reply
        assert world.run(machine._doses)[dose] == "snoozed"

    await _replay(db, settings, steps)
