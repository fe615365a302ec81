"""A reminder that goes out on another day than its dose's names the dose's day.

Before: Ana's 11:30 PM dose, snoozed at 11:50 PM for an hour, came back at 00:50 as "Time for your
11:30 PM dose.": read after midnight as tonight's dose, or a new one, and perhaps taken twice; so
did a nag of yesterday's dose sent after midnight. Now such a text says "Time for your 11:30 PM
dose on Wed, March 4." (scheduler/dose_day.py), and the same-day snooze's text is unchanged.

Driven as the product runs, with one injected clock: the button pressed through the web app's
Telegram webhook (callback_query), the worker's planner tick and dispatcher sending through the
real adapters to the loopback Telegram and Twilio. The patients live far from UTC (Los Angeles,
UTC-8; Kiritimati, UTC+14) and the dose and its late reminder share one UTC date, so a day read
in UTC would name none: only the patient's own midnight makes the difference.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import httpx

from core.answer_buttons import dose_data
from core.db import Database
from tests import factories
from tests.fakes.fake_telegram import FakeTelegram
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import START, Clock, plain, worker
from tests.web.test_old_reminder_buttons import _reminded, _telegram_press
from tests.web.worker_day import Day, sms_caregiver, sms_to

CHAT = 7_400_190
CHAT_ES = 7_400_192
NUMBER = "+14155550191"
ROSA = "+14155550193"
EVA = "+14155550194"
LA = ZoneInfo("America/Los_Angeles")
KIRITIMATI = ZoneInfo("Pacific/Kiritimati")
# Quiet hours away from the night's doses and nags (02:00-03:00 where the patient lives).
QUIET = {"quiet_start": time(2, 0), "quiet_end": time(3, 0)}
# Wednesday, March 4 2026, 11:30 PM in Los Angeles: 07:30 UTC on Thursday, March 5.
LA_DOSE = datetime(2026, 3, 4, 23, 30, tzinfo=LA)


def _sent_to_chat(telegram: FakeTelegram, since: int) -> list[str]:
    return [plain(m.text) for m in telegram.sent_messages[since:] if m.chat_id == CHAT]


async def _pressed(web: httpx.AsyncClient, telegram: FakeTelegram, data: str) -> list[str]:
    """A button pressed in Ana's chat: the texts the bot sent or edited there."""
    return await _telegram_press(web, telegram, data, CHAT)


async def _reminded_at_night(
    conn: asyncpg.Connection,
    db: Database,
    senders: dict,
    clock: Clock,
    due: datetime = LA_DOSE,
    chat: int = CHAT,
    **patient: Any,
) -> UUID:
    """A patient on Telegram (Ana in Los Angeles unless ``patient`` says otherwise), a medicine
    at ``due`` (in ``due``'s zone, the patient's), reminded then: the dose's id."""
    who = {"display_name": "Ana", "timezone": str(due.tzinfo)} | patient
    return await _reminded(conn, db, senders, clock, {"telegram": str(chat)}, due=due, **who)


async def _kiritimati_sms_patient(conn: asyncpg.Connection, **fields: Any) -> asyncpg.Record:
    """A patient on SMS in Pacific/Kiritimati (UTC+14), of a clinic whose quiet hours, a
    caregiver's default, are 02:00-03:00 as the patient's."""
    org = await factories.create_organization(
        conn, default_quiet_start=time(2, 0), default_quiet_end=time(3, 0)
    )
    return await factories.create_patient(
        conn,
        org["id"],
        contacts={"sms": NUMBER},
        timezone="Pacific/Kiritimati",
        **(QUIET | fields),
    )


async def test_a_snooze_past_midnight_comes_back_naming_the_dose_s_day(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_telegram: FakeTelegram,
) -> None:
    """Snooze 60 min pressed at 11:50 PM: the reminder comes back at 00:50, on Thursday where Ana
    lives (still March 5 in UTC, as the dose was), and says which day's dose it is."""
    dose = await _reminded_at_night(admin_conn, db, senders, chat_clock)
    assert _sent_to_chat(fake_telegram, 0) == ["Hi Ana. Time for your 11:30 PM dose."]
    chat_clock.now = LA_DOSE + timedelta(minutes=20)
    # Its reply says the reminder comes back on Thursday: "at 12:50 AM" alone, read at
    # 11:50 PM, is a time that has passed tonight.
    assert await _pressed(web, fake_telegram, dose_data(dose, "s60")) == [
        "OK, I'll remind you again on Thu, March 5 at 12:50 AM about your 11:30 PM dose."
    ]
    until = LA_DOSE + timedelta(minutes=80)
    assert until.astimezone(LA).date() != LA_DOSE.date()
    assert until.astimezone(UTC).date() == LA_DOSE.astimezone(UTC).date()
    assert (
        await admin_conn.fetchval("select snoozed_until from dose_events where id = $1", dose)
        == until
    )

    sent = len(fake_telegram.sent_messages)
    chat_clock.now = until
    assert await worker(db, senders, chat_clock).run_once() == 1
    assert _sent_to_chat(fake_telegram, sent) == [
        "Hi Ana. Time for your 11:30 PM dose on Wed, March 4."
    ]
    [message] = [m for m in fake_telegram.sent_messages[sent:] if m.chat_id == CHAT]
    assert [d for row in message.buttons() for _, d in row] == [
        dose_data(dose, "t"),
        dose_data(dose, "s"),
        dose_data(dose, "k"),
    ]
    # Its Taken names the same day.
    chat_clock.now = until + timedelta(minutes=2)
    assert await _pressed(web, fake_telegram, dose_data(dose, "t")) == [
        "Taken at 12:52 AM: your 11:30 PM dose on Wed, March 4. Well done!"
    ]


async def test_a_snooze_on_the_dose_s_day_comes_back_as_it_always_did(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_telegram: FakeTelegram,
) -> None:
    """Snooze 15 min pressed at 11:35 PM: back at 11:50 PM, the same day, the same text."""
    dose = await _reminded_at_night(admin_conn, db, senders, chat_clock)
    chat_clock.now = LA_DOSE + timedelta(minutes=5)
    assert await _pressed(web, fake_telegram, dose_data(dose, "s")) == [
        "OK, I'll remind you again at 11:50 PM about your 11:30 PM dose."
    ]
    sent = len(fake_telegram.sent_messages)
    chat_clock.now = LA_DOSE + timedelta(minutes=20)
    assert await worker(db, senders, chat_clock).run_once() == 1
    assert _sent_to_chat(fake_telegram, sent) == ["Hi Ana. Time for your 11:30 PM dose."]


async def test_a_spanish_snooze_across_midnight_says_which_day_it_comes_back(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_telegram: FakeTelegram,
) -> None:
    """Luis in Kiritimati (UTC+14), in Spanish, snoozes his 23:50 dose at 23:55 for 15 minutes:
    the reply names Friday, when it comes back (still March 5 in UTC, as the dose was)."""
    due = datetime(2026, 3, 5, 23, 50, tzinfo=KIRITIMATI)  # 09:50 UTC, March 5
    dose = await _reminded_at_night(
        admin_conn, db, senders, chat_clock, due, CHAT_ES, display_name="Luis", locale="es"
    )
    chat_clock.now = due + timedelta(minutes=5)
    assert (due + timedelta(minutes=20)).astimezone(UTC).date() == due.astimezone(UTC).date()
    assert await _telegram_press(web, fake_telegram, dose_data(dose, "s"), CHAT_ES) == [
        "De acuerdo, te recuerdo tu dosis de las 23:50 otra vez el vie, 6 de marzo a las 0:10."
    ]


async def test_a_nag_of_yesterday_s_dose_after_midnight_names_its_day(
    db: Database,
    day: Day,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
) -> None:
    """Luis in Kiritimati (UTC+14), on SMS in Spanish, a dose at 23:40 not answered: the nag at
    23:55 reads as before, the one at 00:10 (the same UTC date, March 5) names Thursday."""
    patient = await _kiritimati_sms_patient(
        admin_conn, display_name="Luis", locale="es", nag_interval_minutes=15, nag_max=3
    )
    await factories.create_medication(admin_conn, patient["id"], times=(time(23, 40),))
    due = datetime(2026, 3, 5, 23, 40, tzinfo=KIRITIMATI)  # 09:40 UTC, March 5
    await day.at(START)
    await day.at(due)
    await day.at(due + timedelta(minutes=1))  # the reminder sent: its nags are planned
    await day.at(due + timedelta(minutes=15))
    after_midnight = due + timedelta(minutes=30)  # 00:10 on Friday in Kiritimati
    assert after_midnight.astimezone(UTC).date() == due.astimezone(UTC).date()
    await day.at(after_midnight)
    texts = sms_to(fake_twilio, NUMBER)
    assert texts == [
        "Hola, Luis. Es la hora de tu dosis de las 23:40.\n\n1 Tomada\n2 Recordar en 15 min"
        "\n3 Omitir",
        # Our own wording over SMS in GSM-7 letters (core/gsm7_templates.py): "í", "á" fold.
        "¿Tomaste tu dosis de las 23:40? Avisanos, por favor.\n\n1 Tomada\n2 Recordar mas tarde"
        "\n3 No la tomé",
        "¿Tomaste tu dosis de las 23:40 del jue, 5 de marzo? Avisanos, por favor.\n\n1 Tomada"
        "\n2 Recordar mas tarde\n3 No la tomé",
    ]


async def test_a_caregiver_alert_after_the_patient_s_midnight_names_the_dose_s_day(
    db: Database,
    day: Day,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
) -> None:
    """Ana in Kiritimati (UTC+14) misses her 11:40 PM dose (missed at 11:55 PM): Rosa, alerted at
    once, reads the alert as before; Eva, whose alerts wait 30 minutes, gets hers at 00:26 on
    Friday where Ana lives and the 11:40 PM is shown, so it names Thursday. Eva lives in Madrid,
    where the dose and her alert share one date (as in UTC): the day is decided in the zone the
    alert's times are shown in, Ana's; Eva's own zone only sets her quiet hours."""
    patient = await _kiritimati_sms_patient(admin_conn, display_name="Ana", nag_max=0)
    await sms_caregiver(admin_conn, patient["id"], "Rosa", ROSA)
    eva = await sms_caregiver(admin_conn, patient["id"], "Eva", EVA)
    await admin_conn.execute(
        "update caregivers set alert_delay_minutes = 30, timezone = 'Europe/Madrid' where id = $1",
        eva,
    )
    await factories.create_medication(admin_conn, patient["id"], times=(time(23, 40),))
    due = datetime(2026, 3, 5, 23, 40, tzinfo=KIRITIMATI)  # 09:40 UTC, 10:40 in Madrid
    await day.at(START)
    for minutes in (0, 1, 16, 17, 46, 47):  # reminded, missed (Rosa alerted), Eva's alert due
        await day.at(due + timedelta(minutes=minutes))
    assert (due + timedelta(minutes=47)).astimezone(ZoneInfo("Europe/Madrid")).date() == date(
        2026, 3, 5
    )
    assert sms_to(fake_twilio, ROSA) == [
        "Hi Rosa. Ana has not confirmed a scheduled reminder from 11:40 PM. You may want to check"
        " in with them."
    ]
    assert sms_to(fake_twilio, EVA) == [
        "Hi Eva. Ana has not confirmed a scheduled reminder from 11:40 PM on Thu, March 5. You may"
        " want to check in with them."
    ]
