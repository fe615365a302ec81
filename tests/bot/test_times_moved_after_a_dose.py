"""Times moved after a dose of the day was answered, or while it waits, give that day no extra
dose (scheduler/planning_day_quota.py).

Found using the product at night: a patient snoozed their 11:39 PM dose, then moved it to
11:52 PM in /meds: the snoozed reminder came at 11:54 PM and a new dose's at 11:52 PM, two doses
of a once-a-day medicine in one evening. So too a dose taken at 08:05 and moved to 10:00 at
09:00: "Time for your 10:00 AM dose" the same morning. Through the bot's /meds dialog over the
loopback Telegram, the real planner and dispatcher, one injected clock; quiet hours off.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import asyncpg

from core.message_limits import GSM7, count_segments
from core.templating import TemplateRenderer
from scheduler.dispatcher import Dispatcher, DispatcherConfig
from scheduler.planner import run_planner_tick
from tests.bot.conftest import Bot
from tests.bot.helpers import registered_patient
from tests.factories import create_medication

# A Monday; the patient lives in UTC.
DAY = date(2026, 3, 2)
NO_QUIET: dict[str, Any] = {"quiet_start": time(0, 0), "quiet_end": time(0, 0)}


def _at(hour: int, minute: int = 0, days: int = 0) -> datetime:
    return datetime.combine(DAY + timedelta(days=days), time(hour, minute), tzinfo=UTC)


async def _worker(bot: Bot, at: datetime) -> int:
    """The worker at ``at``: a planner tick, then one dispatcher pass; messages claimed."""
    bot.clock.now = at
    await run_planner_tick(bot.ctx.pool, at, bot.ctx.settings)
    config = DispatcherConfig(worker_id="bot-tests", platform_rates={}, recipient_rates={})
    dispatcher = Dispatcher(bot.ctx.pool, bot.ctx.senders, TemplateRenderer(), bot.clock, config)
    return await dispatcher.run_once()


async def _reminded(bot: Bot, conn: asyncpg.Connection, times: tuple[time, ...]) -> int:
    """A patient with Lisinopril at ``times``, planned at 06:00 and reminded at 08:00: the chat."""
    chat = bot.new_chat()
    bot.clock.now = _at(6)
    patient = await registered_patient(bot, conn, chat, **NO_QUIET)
    await create_medication(conn, patient["id"], times=times, name="Lisinopril")
    await _worker(bot, _at(6))
    assert await _worker(bot, _at(8)) == 1
    assert "Time for your <b>8:00 AM</b> dose" in bot.last_text(chat)
    return chat


async def _move_times(bot: Bot, chat: int, typed: str) -> None:
    await bot.send(chat, "/meds")
    await bot.press(chat, "Edit times of Lisinopril")
    await bot.send(chat, typed)
    await bot.press(chat, "Done")
    assert bot.last_text(chat).startswith("Lisinopril will now be reminded at"), bot.last_text(chat)


async def _taken_then_moved(
    bot: Bot, conn: asyncpg.Connection, times: tuple[time, ...], typed: str
) -> int:
    """Reminded at 08:00 (:func:`_reminded`), Taken at 08:05, times moved to ``typed`` at 09:00."""
    chat = await _reminded(bot, conn, times)
    bot.clock.now = _at(8, 5)
    await bot.press(chat, "Taken")
    bot.clock.now = _at(9)
    await _move_times(bot, chat, typed)
    return chat


async def _doses(conn: asyncpg.Connection) -> list[tuple[datetime, str]]:
    rows = await conn.fetch(
        "select due_at, status from dose_events where status <> 'cancelled' order by due_at"
    )
    return [(r["due_at"], r["status"]) for r in rows]


async def test_a_dose_taken_then_moved_is_not_reminded_again_that_day(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = await _taken_then_moved(bot, admin_conn, (time(8, 0),), "10:00")

    doses = await _doses(admin_conn)
    assert doses[0] == (_at(8), "taken")
    assert _at(10) not in [due for due, _ in doses]  # today has had its dose
    assert (_at(10, days=1), "due") in doses  # from tomorrow at the new time
    sent = len(bot.messages_to(chat))
    assert await _worker(bot, _at(10)) == 0
    assert len(bot.messages_to(chat)) == sent


async def test_a_snoozed_dose_moved_comes_back_once(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = await _reminded(bot, admin_conn, (time(8, 0),))
    bot.clock.now = _at(8, 2)
    await bot.press(chat, "Snooze 15 min")
    bot.clock.now = _at(8, 5)
    await _move_times(bot, chat, "8:10")

    assert [due for due, _ in await _doses(admin_conn)] == [_at(8), _at(8, 10, days=1)]
    sent = len(bot.messages_to(chat))
    assert await _worker(bot, _at(8, 10)) == 0
    assert await _worker(bot, _at(8, 17)) == 1  # the snooze, once
    assert len(bot.messages_to(chat)) == sent + 1
    assert "Time for your <b>8:00 AM</b> dose" in bot.last_text(chat)


async def test_twice_a_day_moved_after_the_morning_dose_keeps_the_evening_one(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """08:00 and 20:00 moved to 09:30 and 21:00 at 09:00, the 08:00 taken: today 21:00 only."""
    await _taken_then_moved(bot, admin_conn, (time(8, 0), time(20, 0)), "9:30, 21:00")

    today = [(due, status) for due, status in await _doses(admin_conn) if due < _at(0, days=1)]
    assert today == [(_at(8), "taken"), (_at(21), "due")]
    tomorrow = [
        due for due, _ in await _doses(admin_conn) if _at(0, days=1) <= due < _at(0, days=2)
    ]
    assert tomorrow == [_at(9, 30, days=1), _at(21, days=1)]


async def test_a_time_added_after_the_morning_dose_is_planned_today(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """Once a day becoming twice a day: the day has one dose, the rule two, so 20:00 comes."""
    await _taken_then_moved(bot, admin_conn, (time(8, 0),), "8:00, 20:00")

    today = [(due, status) for due, status in await _doses(admin_conn) if due < _at(0, days=1)]
    assert today == [(_at(8), "taken"), (_at(20), "due")]


async def test_moved_after_the_dose_says_from_tomorrow(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """Found moving a once-a-day time late at night: "will now be reminded at 11:59 PM" alone
    promised a reminder that night, which the day's quota (above) rightly never sends."""
    chat = await _taken_then_moved(bot, admin_conn, (time(8, 0),), "23:59")

    assert bot.last_text(chat) == (
        "Lisinopril will now be reminded at 11:59 PM, from tomorrow"
        " (today's dose was already reminded or answered)."
    )
    assert _at(23, 59) not in [due for due, _ in await _doses(admin_conn)]


async def test_moved_before_the_reminder_says_no_more(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    bot.clock.now = _at(6)
    patient = await registered_patient(bot, admin_conn, chat, **NO_QUIET)
    await create_medication(admin_conn, patient["id"], times=(time(8, 0),), name="Lisinopril")
    await _worker(bot, _at(6))
    await _move_times(bot, chat, "23:59")
    assert bot.last_text(chat) == "Lisinopril will now be reminded at 11:59 PM."
    assert (_at(23, 59), "due") in await _doses(admin_conn)


async def test_twice_a_day_moved_after_the_morning_dose_names_today_s_time(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = await _taken_then_moved(bot, admin_conn, (time(8, 0), time(20, 0)), "9:30, 21:00")
    assert bot.last_text(chat) == (
        "Lisinopril will now be reminded at 9:30 AM, 9:00 PM. Today only at 9:00 PM:"
        " the day's other doses were already reminded or answered."
    )


async def test_skipped_then_moved_in_spanish_over_sms_stays_gsm7(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    number = "+34600555124"
    bot.clock.now = _at(6)
    patient = await registered_patient(
        bot, admin_conn, number, channel="sms", locale="es", **NO_QUIET
    )
    await create_medication(admin_conn, patient["id"], times=(time(8, 0),), name="Lisinopril")
    await _worker(bot, _at(6))
    assert await _worker(bot, _at(8)) == 1
    bot.clock.now = _at(8, 5)
    await bot.sms(number, "3")  # Omitir (skip)
    bot.clock.now = _at(9)
    await bot.sms(number, "/meds")
    menu = bot.sms_to(number)[-1].body or ""
    edit = next(line for line in menu.splitlines() if "Cambiar horas de Lisinopril" in line)
    await bot.sms(number, edit.split()[0])
    times = (await bot.sms(number, "23:59"))[-1].body or ""
    assert times.endswith("responde LISTO."), times  # no numbered menu: "5" would be 5:00
    assert count_segments(times)[0] == GSM7
    done = (await bot.sms(number, "listo"))[-1].body or ""
    assert done == (
        "Te recordaré Lisinopril a las 23:59 a partir de mañana"
        " (la toma de hoy ya fue recordada o respondida)."
    ), done
    assert count_segments(done)[0] == GSM7
