"""A snoozed dose may be snoozed again, typed as on a reminder, on every channel alike.

After a snooze, Telegram's reply offered Taken and the other snooze lengths as buttons, but the
question it recorded held Taken only, and over SMS (and WhatsApp, the console) the reply offered
"1 Taken" alone: a second "snooze 30", "2" or "later" was told "Nothing is waiting for an answer
right now" (found in `medremind dev`'s console) and the reminder came back at the first snooze's
time. Snoozing again is bounded as the first snooze is: 12 hours past the dose's time it is
refused and Taken offered (``core.answer_buttons.QUESTION_TTL``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from bot.dialogs.answers import snoozed_text
from core.answer_buttons import dose_data
from tests.bot.conftest import START, Bot
from tests.bot.helpers import dose_events, registered_patient, remind, reminded_doses

NUMBER = "+15005550199"
PENDING = """select scheduled_time from scheduled_messages
              where dose_event_id = $1 and status = 'pending' and kind = 'medication_reminder'"""


def body(calls: list) -> str:
    return "\n".join(c.body or "" for c in calls)


async def _snoozed_until(conn: asyncpg.Connection, dose_id: object) -> object:
    return await conn.fetchval("select snoozed_until from dose_events where id = $1", dose_id)


async def test_a_snoozed_dose_is_snoozed_again_over_sms(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    patient = await registered_patient(bot, admin_conn, NUMBER, channel="sms")
    (dose_id,) = await dose_events(admin_conn, patient["id"], [START - timedelta(minutes=3)])
    await remind(bot, admin_conn, patient["id"], dose_id=dose_id)

    snoozed = body(await bot.sms(NUMBER, "2"))  # the reminder's "2 Snooze 15 min"
    assert "remind you again at 9:15 AM" in snoozed, snoozed
    # Taken and the two longest other lengths: three choices, as on Telegram and WhatsApp.
    assert snoozed.endswith("1 Taken\n2 Snooze 30 min\n3 Snooze 60 min"), snoozed

    bot.clock.advance(minutes=5)
    again = body(await bot.sms(NUMBER, "snooze 30"))
    assert "remind you again at 9:35 AM" in again, again
    # The reply to this snooze offers the lengths it did not take, numbered anew.
    assert again.endswith("1 Taken\n2 Snooze 10 min\n3 Snooze 60 min"), again
    assert await _snoozed_until(admin_conn, dose_id) == bot.clock.now + timedelta(minutes=30)
    # One reminder comes back, at the newest snooze's time.
    assert [r[0] for r in await admin_conn.fetch(PENDING, dose_id)] == [
        bot.clock.now + timedelta(minutes=30)
    ]

    bot.clock.advance(minutes=1)
    assert "remind you again at 9:16 AM" in body(await bot.sms(NUMBER, "2"))  # Snooze 10 min
    bot.clock.advance(minutes=1)
    # A bare snooze word, offered several lengths, is the reminder's own Snooze: 15 minutes.
    assert "remind you again at 9:22 AM" in body(await bot.sms(NUMBER, "later"))
    assert await _snoozed_until(admin_conn, dose_id) == bot.clock.now + timedelta(minutes=15)
    assert len(await admin_conn.fetch(PENDING, dose_id)) == 1

    assert "Taken at" in body(await bot.sms(NUMBER, "1"))
    assert await admin_conn.fetchval("select status from dose_events") == "taken"
    assert not await admin_conn.fetch(PENDING, dose_id)


async def test_snoozing_again_stops_twelve_hours_past_the_dose(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """The limit Telegram's buttons have: a snooze 12 hours past the dose's time is refused
    (its reminder would read as another day's dose), Taken still offered."""
    patient = await registered_patient(bot, admin_conn, NUMBER, channel="sms")
    (dose_id,) = await dose_events(admin_conn, patient["id"], [START - timedelta(minutes=3)])
    await remind(bot, admin_conn, patient["id"], dose_id=dose_id)
    bot.clock.advance(hours=11, minutes=50)
    await bot.sms(NUMBER, "snooze 60")
    until = await _snoozed_until(admin_conn, dose_id)
    assert until == bot.clock.now + timedelta(minutes=60)

    bot.clock.advance(minutes=20)  # 12 h 10 min past the dose
    refused = body(await bot.sms(NUMBER, "snooze 30"))
    assert "remind you again" not in refused and refused.endswith("1 Taken"), refused
    assert await _snoozed_until(admin_conn, dose_id) == until
    assert "Taken at" in body(await bot.sms(NUMBER, "1"))


async def test_telegram_typed_snooze_after_a_snooze(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """Telegram showed the other lengths as buttons, but a typed "snooze 30" after a snooze
    found no question offering Snooze: the channels now record the same question."""
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat)
    (dose_id,) = await dose_events(admin_conn, patient["id"], [START - timedelta(minutes=3)])
    calls = await bot.press_data(chat, dose_data(dose_id, "s"), message_id=3001)
    edit = next(c for c in calls if c.method == "editMessageText")
    labels = [label for row in edit.buttons() for label, _ in row]
    assert labels == ["Taken", "Snooze 30 min", "Snooze 60 min"]

    bot.clock.advance(minutes=5)
    await bot.send(chat, "snooze 30")
    assert "remind you again at 9:35 AM" in bot.last_text(chat), bot.last_text(chat)
    assert await _snoozed_until(admin_conn, dose_id) == bot.clock.now + timedelta(minutes=30)


async def test_a_snooze_while_another_dose_waits_leaves_that_one_the_typed_answers(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """Two reminders open (11:55 PM and 12:00 AM), "2" snoozes the newer: its reply said "Also
    waiting for your answer: your 11:55 PM dose. Reply Taken, Snooze 15 min or Skip" above its
    own "1 Taken / 2 Snooze 30 min", and the "Taken" the patient typed took the dose just
    snoozed (found in a New Year's Eve run). The reply now shows nothing of its own and the one
    named is asked again: what it says to type reaches that one; the snoozed one's answers
    are taken next.
    A reply that must ask its own question (Taken, for a dose too late to snooze) names the
    other without its answers, and it is asked once this one is answered."""
    patient = await registered_patient(bot, admin_conn, NUMBER, channel="sms")
    due = [START - timedelta(minutes=5), START]
    older, newer = await reminded_doses(
        bot, admin_conn, patient["id"], due, apart=timedelta(minutes=5)
    )
    bot.clock.advance(minutes=1)
    snoozed = body(await bot.sms(NUMBER, "2"))
    assert snoozed.startswith("OK, I'll remind you again at 9:21 AM about your 9:00 AM dose."), (
        snoozed
    )
    assert snoozed.endswith("your 8:55 AM dose. Reply Taken, Snooze 15 min or Skip."), snoozed
    taken = body(await bot.sms(NUMBER, "Taken"))
    assert taken.startswith("Taken at 9:06 AM: your 8:55 AM dose."), taken
    status = "select status from dose_events where id = $1"
    assert (await admin_conn.fetchval(status, older), await admin_conn.fetchval(status, newer)) == (
        "taken",
        "snoozed",
    )
    # The snoozed one stays answerable before its reminder is back, and is named now.
    assert taken.endswith("9:00 AM dose. Reply Taken, Snooze 30 min or Snooze 60 min."), taken
    assert "Taken at 9:06 AM: your 9:00 AM dose" in body(await bot.sms(NUMBER, "1"))

    (late, other) = await dose_events(
        admin_conn, patient["id"], [START + timedelta(hours=1), START + timedelta(hours=13)]
    )
    bot.clock.advance(hours=13)
    await remind(bot, admin_conn, patient["id"], dose_id=other)
    await remind(bot, admin_conn, patient["id"], dose_id=late)  # late, after an outage
    refused = body(await bot.sms(NUMBER, "2"))
    assert "too late to snooze your 10:00 AM dose of medicine 2 on Mon, March 2" in refused
    assert (
        "\n\nAlso waiting for your answer: your 10:00 PM dose of medicine 2; answer it after"
        in refused
    )
    assert refused.endswith("1 Taken"), refused
    taken = body(await bot.sms(NUMBER, "1"))
    assert taken.startswith("Taken at 10:06 PM: your 10:00 AM dose of medicine 2"), taken
    assert taken.endswith("10:00 PM dose of medicine 2. Reply Taken, Snooze 15 min or Skip."), taken
    assert "Taken at" in body(await bot.sms(NUMBER, "1"))
    assert await admin_conn.fetchval(status, other) == "taken"


@pytest.mark.parametrize(
    ("locale", "zone", "now", "minutes", "said"),
    [
        # Berlin falls back at 01:00 UTC: 60 minutes from 2:30 AM is 2:30 AM again.
        ("en", "Europe/Berlin", datetime(2027, 10, 31, 0, 30, tzinfo=UTC), 60,
         "OK, I'll remind you again in 60 min about your 2:30 AM dose (at 2:30 AM: the clocks"
         " change tonight)."),
        # It springs forward at 01:00 UTC: 15 minutes from 1:50 AM is 3:05 AM.
        ("es", "Europe/Madrid", datetime(2027, 3, 28, 0, 50, tzinfo=UTC), 15,
         "De acuerdo, te recuerdo tu dosis de las 2:30 otra vez dentro de 15 min (a las 3:05:"
         " esta noche cambia la hora)."),
        # No change in between: the time alone.
        ("en", "Europe/Berlin", datetime(2027, 10, 31, 2, 30, tzinfo=UTC), 60,
         "OK, I'll remind you again at 4:30 AM about your 2:30 AM dose."),
    ],
)  # fmt: skip
def test_a_snooze_over_a_clock_change_says_in_how_many_minutes(
    locale: str, zone: str, now: datetime, minutes: int, said: str
) -> None:
    """ "OK, I'll remind you again at 2:30 AM about your 2:30 AM dose", said at 2:30 AM the
    night the clocks go back, read as now (found snoozing in a Berlin run that night)."""
    what = "your 2:30 AM dose" if locale == "en" else "tu dosis de las 2:30"
    until = now + timedelta(minutes=minutes)
    assert snoozed_text(locale, now, until, zone, what) == said
