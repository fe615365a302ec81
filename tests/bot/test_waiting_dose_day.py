"""A dose named as still waiting for an answer says its day when that is not today where the
patient is, as an answer's confirmation does (bot.dialogs.answers.dose_subject).

Found after midnight in Chicago over SMS: yesterday's 11:50 PM dose, reminded and unanswered,
was mentioned as "Also waiting for your answer: your 11:50 PM dose" under the answer to the
1:30 AM reminder, while tonight's 11:50 PM dose was due too: which one?
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

import asyncpg

from tests.bot.conftest import Bot
from tests.bot.helpers import dose_events, registered_patient, remind

NO_QUIET: dict[str, Any] = {"quiet_start": time(0, 0), "quiet_end": time(0, 0)}
LATE = datetime(2026, 3, 2, 23, 50, tzinfo=UTC)  # a Monday, the patient in UTC
EARLY = datetime(2026, 3, 3, 1, 30, tzinfo=UTC)


async def test_yesterday_s_dose_waiting_is_named_with_its_day(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat, **NO_QUIET)
    late, early = await dose_events(admin_conn, patient["id"], [LATE, EARLY])
    bot.clock.now = LATE
    await remind(bot, admin_conn, patient["id"], dose_id=late)
    bot.clock.now = EARLY
    await remind(bot, admin_conn, patient["id"], dose_id=early)

    await bot.send(chat, "Taken")  # the newest question takes it: the 1:30 AM dose

    said = bot.last_text(chat)
    assert "your 1:30 AM dose" in said and "on Mon" not in said.split("Also")[0], said
    assert "Also waiting for your answer: your 11:50 PM dose on Mon, March 2." in said, said


async def test_today_s_dose_waiting_is_named_without_a_day(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat, **NO_QUIET)
    first, second = await dose_events(
        admin_conn, patient["id"], [LATE.replace(hour=20), LATE.replace(hour=21)]
    )
    bot.clock.now = LATE.replace(hour=20)
    await remind(bot, admin_conn, patient["id"], dose_id=first)
    bot.clock.now = LATE.replace(hour=21)
    await remind(bot, admin_conn, patient["id"], dose_id=second)
    await bot.send(chat, "Taken")
    assert "Also waiting for your answer: your 8:50 PM dose. Reply" in bot.last_text(chat)
