"""/settings, /meds, /pause, /resume, /delete_me, invites and shared locations over Telegram."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from core.templating import TemplateRenderer
from scheduler.dispatcher import Dispatcher, DispatcherConfig
from scheduler.planner import run_planner_tick
from tests.bot.conftest import START, Bot
from tests.bot.helpers import dose_events, registered_patient, remind, whatsapp_chat
from tests.factories import (
    create_medication,
    create_message,
    create_organization,
    create_patient,
)


async def test_quiet_hours_none_means_none_not_the_default(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """The prompt says "Type like 22:00-07:00, or none": "none" stored no window of the patient's
    own, so the default (21:00-08:00 here) went on holding their messages back at night and
    /settings showed it. "none" is now an empty window: nothing is held back."""
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat)
    await bot.send(chat, "/settings")
    await bot.press(chat, "Quiet hours")
    await bot.send(chat, "none")
    assert bot.last_text(chat) == "Saved. Quiet hours: none."
    await bot.send(chat, "/settings")
    assert "Quiet hours: none\n" in bot.last_text(chat)

    # 22:00 in the patient's zone (UTC), inside the default window: a clinic's message goes now.
    bot.clock.now = START.replace(hour=22)
    message = await create_message(
        admin_conn, patient["id"], message_content="The clinic is closed tomorrow",
        scheduled_time=bot.clock.now,
    )  # fmt: skip
    config = DispatcherConfig(worker_id="bot-tests", platform_rates={}, recipient_rates={})
    dispatcher = Dispatcher(bot.ctx.pool, bot.ctx.senders, TemplateRenderer(), bot.clock, config)
    await dispatcher.run_once()
    row = await admin_conn.fetchrow(
        "select status, scheduled_time from scheduled_messages where id = $1", message["id"]
    )
    assert row["status"] == "sent", dict(row)
    assert bot.last_text(chat) == "The clinic is closed tomorrow"

    # The default window back on purpose: "default".
    await bot.send(chat, "/settings")
    await bot.press(chat, "Quiet hours")
    await bot.send(chat, "default")
    await bot.send(chat, "/settings")
    assert "Quiet hours: 9:00 PM-8:00 AM (the default" in bot.last_text(chat)


async def test_settings_changes_re_plan_at_once(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    """Quiet hours, follow-up settings and a 'follow me' zone changed in /settings re-plan the
    patient's reminders at once, as the API's changes do. They were only stored: a follow-up
    planned before the patient set quiet hours around it went out inside them when its time came
    before the planner's next tick (found by the zones state machine), and a traveller in 'follow
    me' mode kept getting the next two days' reminders at the old zone's times."""
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat)  # UTC
    (dose,) = await dose_events(admin_conn, patient["id"], [START])
    await remind(bot, admin_conn, patient["id"], dose_id=dose)
    await run_planner_tick(bot.ctx.pool, bot.clock.now, bot.ctx.settings)
    followups = "select scheduled_time from scheduled_messages where kind = 'dose_followup'"
    pending = f"{followups} and status = 'pending' order by 1"
    assert [r[0] for r in await admin_conn.fetch(pending)] == [
        START + timedelta(minutes=m) for m in (15, 30, 45)
    ]

    bot.clock.advance(minutes=14)
    await bot.send(chat, "/settings")
    await bot.press(chat, "Quiet hours")
    await bot.send(chat, "09:10-09:40")
    # No planner tick in between: the follow-ups inside the window are withdrawn already.
    assert [r[0] for r in await admin_conn.fetch(pending)] == [START + timedelta(minutes=45)]
    bot.clock.advance(minutes=1)
    config = DispatcherConfig(worker_id="bot-tests", platform_rates={}, recipient_rates={})
    dispatcher = Dispatcher(bot.ctx.pool, bot.ctx.senders, TemplateRenderer(), bot.clock, config)
    await dispatcher.run_once()
    assert not await admin_conn.fetch(
        f"{followups} and status <> 'cancelled' and status <> 'pending'"
    )

    # Every 5 minutes, twice: from the reminder (09:00), 09:05 and 09:10 have passed or are
    # quiet, so none is left.
    await bot.send(chat, "/settings")
    await bot.press(chat, "Follow-ups")
    await bot.send(chat, "5 2")
    assert await admin_conn.fetch(pending) == []

    # 'Follow me' in Chicago: the 20:00 reminders are at 20:00 Chicago time from now on.
    _, schedule = await create_medication(admin_conn, patient["id"], times=(time(20, 0),))
    await run_planner_tick(bot.ctx.pool, bot.clock.now, bot.ctx.settings)
    await bot.send(chat, "/settings")
    await bot.press(chat, "Home or follow")
    await bot.press(chat, "Follow me")
    await bot.send(chat, "/settings")
    await bot.press(chat, "Time zone")
    await bot.send(chat, "Chicago")
    await bot.press(chat, "Yes")
    reminders = await admin_conn.fetch(
        "select m.scheduled_time from scheduled_messages m join dose_events d"
        " on d.id = m.dose_event_id where d.schedule_id = $1 and m.status = 'pending'"
        " and m.kind = 'medication_reminder' order by 1",
        schedule["id"],
    )
    assert reminders, "no reminder planned"
    chicago = ZoneInfo("America/Chicago")
    assert {r[0].astimezone(chicago).time() for r in reminders} == {time(20, 0)}, reminders


async def test_the_menu_says_follow_ups_none_and_once(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """ "0 for never" showed "Follow-ups: every 15 min, up to 0 times", and one follow-up "up to
    1 times" (found over SMS with web + worker processes)."""
    chat = bot.new_chat()
    await registered_patient(bot, admin_conn, chat)
    await bot.send(chat, "/settings")
    assert "Follow-ups: every 15 min, up to 3 times\n" in bot.last_text(chat)
    for typed, shown in (("0", "none"), ("5 1", "once, after 5 min")):
        await bot.press(chat, "Follow-ups")
        await bot.send(chat, typed)
        await bot.send(chat, "/settings")
        assert f"Follow-ups: {shown}\n" in bot.last_text(chat), bot.last_text(chat)


async def _name_luis(bot: Bot, chat: int) -> None:
    """The caregiver dialog from its first question: Luis by SMS, alerted after 60 minutes."""
    await bot.send(chat, "Luis")
    await bot.press(chat, "SMS")
    await bot.send(chat, "+1 415 555 2671")
    await bot.press(chat, "Same as mine")
    await bot.press(chat, "60")


async def test_settings_change_each_value(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat)
    await bot.send(chat, "/settings")
    # No window of their own: the one that applies (the service default here) is shown.
    assert "Quiet hours: 9:00 PM-8:00 AM (the default" in bot.last_text(chat)
    await bot.press(chat, "Quiet hours")
    await bot.send(chat, "22:00-7am")
    await bot.send(chat, "/settings")
    await bot.press(chat, "Follow-ups")
    await bot.send(chat, "10 2")
    await bot.send(chat, "/settings")
    await bot.press(chat, "Medicine names")
    await bot.press(chat, "Yes, name it")
    await bot.send(chat, "/settings")
    await bot.press(chat, "Home or follow")
    await bot.press(chat, "Follow me")
    await bot.send(chat, "/settings")
    await bot.press(chat, "Time zone")
    await bot.share_location(chat, 19.43, -99.13)  # Mexico City
    assert "(Mexico City)" in bot.last_text(chat)
    await bot.press(chat, "Yes")
    await bot.send(chat, "/settings")
    await bot.press(chat, "Caregiver")
    await _name_luis(bot, chat)
    await bot.send(chat, "/settings")
    await bot.press(chat, "Language")
    await bot.press(chat, "Español")
    assert bot.last_text(chat) == "Guardado."

    row = await admin_conn.fetchrow("select * from patients where id = $1", patient["id"])
    assert (row["quiet_start"], row["quiet_end"]) == (time(22, 0), time(7, 0))
    assert (row["nag_interval_minutes"], row["nag_max"]) == (10, 2)
    assert row["name_medicine_in_reminders"] is True
    assert row["timezone_mode"] == "follow"
    assert row["timezone"] == "America/Mexico_City"
    assert row["locale"] == "es"
    caregiver = await admin_conn.fetchrow("select * from caregivers where active")
    assert (caregiver["name"], caregiver["channel"], caregiver["address"]) == (
        "Luis",
        "sms",
        "+14155552671",
    )
    assert caregiver["alert_delay_minutes"] == 60
    # "Same as mine": the patient's home zone when chosen, the one they had when they went
    # 'follow me' (UTC), not Mexico City, where they are now.
    assert caregiver["timezone"] == "UTC"
    await bot.send(chat, "/settings")
    assert "Cuidador: Luis" in bot.last_text(chat)


async def test_meds_pause_resume_edit_delete(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat)
    await create_medication(admin_conn, patient["id"], name="Lisinopril")
    await bot.send(chat, "/meds")
    assert "Lisinopril" in bot.last_text(chat)
    await bot.press(chat, "Pause Lisinopril")
    assert await admin_conn.fetchval("select status from medications") == "paused"
    assert await admin_conn.fetchval("select status from reminder_schedules") == "paused"
    await bot.send(chat, "/meds")
    assert "[paused]" in bot.last_text(chat)
    await bot.press(chat, "Resume Lisinopril")
    assert await admin_conn.fetchval("select status from reminder_schedules") == "active"
    await bot.send(chat, "/meds")
    await bot.press(chat, "Edit times of Lisinopril")
    await bot.send(chat, "7:15, 19:45")
    await bot.press(chat, "Done")
    assert await admin_conn.fetchval("select times_of_day from reminder_schedules") == [
        time(7, 15),
        time(19, 45),
    ]
    await bot.send(chat, "/meds")
    await bot.press(chat, "Delete Lisinopril")
    await bot.press(chat, "Yes")
    assert await admin_conn.fetchval("select status from medications") == "deleted"
    await bot.send(chat, "/meds")
    assert "no medicines" in bot.last_text(chat)


async def test_pause_resume_all(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    chat = bot.new_chat()
    await registered_patient(bot, admin_conn, chat)
    await bot.send(chat, "/pause")
    assert bot.last_text(chat) == "All reminders are paused. Send /resume to restart them."
    assert await admin_conn.fetchval("select reminders_paused from patients") is True
    await bot.send(chat, "/resume")
    assert await admin_conn.fetchval("select reminders_paused from patients") is False


async def test_a_first_caregiver_is_not_offered_removal_and_a_pause_names_them(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """Before: with no caregiver, /settings > Caregiver said "Send their name, or remove." with
    a Remove caregiver button; and /pause never said the caregiver's alerts stop with it."""
    chat = bot.new_chat()
    await registered_patient(bot, admin_conn, chat)
    await bot.send(chat, "/settings")
    await bot.press(chat, "Caregiver")
    assert bot.last_text(chat) == "Who should I tell if you miss a dose? Send their name."
    assert bot.labels(chat) == []
    await _name_luis(bot, chat)
    await bot.send(chat, "/settings")
    await bot.press(chat, "Caregiver")
    assert bot.labels(chat) == ["Remove caregiver"]
    await bot.send(chat, "/pause")
    assert bot.last_text(chat) == (
        "All reminders are paused. Send /resume to restart them.\n"
        "Luis will not get missed-dose alerts while they are paused."
    )


async def test_delete_me_erases_after_confirmation(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat)
    await create_medication(admin_conn, patient["id"])
    await bot.send(chat, "/delete_me")
    await bot.press(chat, "No")
    assert await admin_conn.fetchval("select count(*) from patients") == 1
    await bot.send(chat, "/delete_me")
    await bot.press(chat, "Yes, delete everything")
    assert "deleted" in bot.last_text(chat)
    for table in ("medications", "contact_points", "reminder_schedules"):
        assert await admin_conn.fetchval(f"select count(*) from {table}") == 0, table
    # The clinic keeps a tombstone: no name, only when and why.
    tombstone = await admin_conn.fetchrow("select * from patients")
    assert tombstone["status"] == "deleted" and tombstone["display_name"] is None
    assert tombstone["erasure_reason"] == "deleted at the patient's request"
    conv = await admin_conn.fetchrow("select patient_id, state from conversations")
    assert conv["patient_id"] is None and conv["state"] == {}
    await bot.send(chat, "/meds")
    assert "/start" in bot.last_text(chat)


@pytest.mark.parametrize("prefix", ["inv-", "cg_"])
async def test_invite_token_binds_existing_patient(
    bot: Bot, admin_conn: asyncpg.Connection, prefix: str
) -> None:
    """``cg_``: a random invite token may start like a caregiver's link; it is still an invite."""
    org = await create_organization(admin_conn, name="Hillside Clinic")
    patient = await create_patient(
        admin_conn, org["id"], contacts={}, consent_at=None, status="invited", display_name=None
    )
    token = prefix + "a1b2c3d4e5f6"
    await admin_conn.execute(
        """insert into patient_invites (organization_id, patient_id, token_hash, expires_at)
           values ($1, $2, $3, $4)""",
        org["id"],
        patient["id"],
        hashlib.sha256(token.encode()).hexdigest(),
        START + timedelta(days=7),
    )
    chat = bot.new_chat()
    await bot.send(chat, f"/start {token}")
    assert "Hillside Clinic" in bot.last_text(chat)
    await bot.press(chat, "I agree")
    assert await admin_conn.fetchval("select count(*) from patients") == 1
    row = await admin_conn.fetchrow("select * from patients")
    assert row["consent_at"] is not None and row["status"] == "active"
    assert await admin_conn.fetchval("select used_at from patient_invites") is not None
    contact = await admin_conn.fetchrow("select * from contact_points")
    assert (contact["patient_id"], contact["address"]) == (patient["id"], str(chat))


async def test_nothing_stored_before_consent(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    chat = bot.new_chat()
    await bot.send(chat, "/start")
    await bot.press(chat, "No thanks")
    assert "not stored anything" in bot.last_text(chat)
    for table in ("patients", "contact_points"):
        assert await admin_conn.fetchval(f"select count(*) from {table}") == 0
    # The stored updates keep only their ids (for de-duplication), not what was said.
    payloads = await admin_conn.fetch("select payload from inbound_messages")
    assert [r["payload"] for r in payloads] == [{}, {}]
    conv = await admin_conn.fetchrow("select patient_id, step, state from conversations")
    assert conv["patient_id"] is None and conv["step"] == "idle"
    assert "data" not in conv["state"]


async def test_phone_contact_adds_sms_channel(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    chat = bot.new_chat()
    await bot.send(chat, "/start")
    await bot.press(chat, "I agree")
    await bot.send(chat, "Ana")
    await bot.press(chat, "Español")
    await bot.press(chat, "Madrid")
    await bot.press(chat, "Sí")
    await bot.share_contact(chat, "34600111222")
    assert "Primero" in " ".join(bot.labels(chat))
    await bot.press(chat, "Primero SMS, luego Telegram")
    order = await admin_conn.fetchval("select channel_order from patients")
    assert order == ["sms", "telegram"]
    sms = await admin_conn.fetchrow("select * from contact_points where channel = 'sms'")
    assert sms["address"] == "+34600111222" and sms["verified"] is True


async def test_clinic_registered_chat_consents_to_its_record(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    org = await create_organization(admin_conn)
    patient = await create_patient(
        admin_conn, org["id"], contacts={"telegram": str(chat)}, consent_at=None
    )
    await bot.send(chat, "/start")
    assert "Privacy" in bot.last_text(chat)
    await bot.press(chat, "I agree")
    assert await admin_conn.fetchval("select count(*) from patients") == 1
    assert await admin_conn.fetchval("select consent_at from patients") is not None
    conv = await admin_conn.fetchval("select patient_id from conversations")
    assert conv == patient["id"]


async def test_two_medicines_of_one_name_have_buttons_told_apart(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """A patient who added Metformin twice (morning and a second one every few days; seen in
    medremind dev) got /meds buttons 'Pause Metformin' ... 'Pause Metformin' and could not tell
    which one a button acts on. A name the list has twice carries its number in the list."""
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat)
    first, _ = await create_medication(admin_conn, patient["id"], times=(time(8, 0),))
    second, _ = await create_medication(admin_conn, patient["id"], times=(time(21, 0),))
    await create_medication(admin_conn, patient["id"], name="Lisinopril", times=(time(9, 0),))
    await bot.send(chat, "/meds")
    listing = bot.last_text(chat)
    assert "1. Metformin" in listing and "2. Metformin" in listing, listing
    labels = bot.labels(chat)
    assert len(set(labels)) == len(labels), labels
    assert "Pause Metformin (2)" in labels and "Pause Lisinopril" in labels, labels
    await bot.press(chat, "Pause Metformin (2)")
    statuses = dict(
        await admin_conn.fetch(
            "select id, status from medications where id = any($1)", [first["id"], second["id"]]
        )
    )
    assert statuses == {first["id"]: "active", second["id"]: "paused"}


async def _caregiver_by(bot: Bot, chat: int, channel: str) -> None:
    """/settings > Caregiver: Luis, reached by ``channel`` (its button); the address is asked."""
    await bot.send(chat, "/settings")
    await bot.press(chat, "Caregiver")
    await bot.send(chat, "Luis")
    await bot.press(chat, channel)


async def test_the_caregiver_address_question_asks_for_what_the_channel_takes(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """Before: whatever channel was picked, the question was 'Their phone number (like +1 202
    555 0143) or Telegram chat id?' (seen in medremind dev after picking SMS), and for Telegram
    a phone number was refused with 'That does not look right. For example: +1 202 555 0143',
    the number it had just refused (and so was a wrong e-mail address). Telegram asks for no
    address at all: tests/bot/test_caregiver_telegram_link.py."""
    chat = bot.new_chat()
    await registered_patient(bot, admin_conn, chat)
    await _caregiver_by(bot, chat, "SMS")
    assert "Telegram" not in bot.last_text(chat)
    assert "+1 202 555 0143" in bot.last_text(chat)

    # E-mail: refused with an e-mail address as the example, not a phone number.
    await _caregiver_by(bot, chat, "E-mail")
    await bot.send(chat, "luis at home")
    refusal = bot.last_text(chat)
    assert "name@example.org" in refusal and "+1 202" not in refusal, refusal


async def test_a_number_typed_for_how_to_reach_the_caregiver_is_kept(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """ "How should I reach them?" answered with their number (found as a patient in Auckland)
    was "Please pick one of the options", and the number was gone. It is kept: only SMS or
    WhatsApp is asked, and the number is not asked again; an e-mail address typed there is the
    e-mail channel at once."""
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat)
    await bot.send(chat, "/settings")
    await bot.press(chat, "Caregiver")
    await bot.send(chat, "Luis")
    await bot.send(chat, "+1 202 555 0143")
    assert "SMS or WhatsApp" in bot.last_text(chat), bot.last_text(chat)
    assert bot.labels(chat) == ["SMS", "WhatsApp"]
    await bot.press(chat, "WhatsApp")
    assert "time zone" in bot.last_text(chat), bot.last_text(chat)  # not the number again
    await bot.press(chat, "Same as mine")
    await bot.press(chat, "60")
    row = await admin_conn.fetchrow(
        "select channel, address from caregivers where patient_id = $1", patient["id"]
    )
    assert (row["channel"], row["address"]) == ("whatsapp", "+12025550143")

    await bot.send(chat, "/settings")
    await bot.press(chat, "Caregiver")
    await bot.send(chat, "Marta")
    await bot.send(chat, "marta@example.org")
    assert "time zone" in bot.last_text(chat), bot.last_text(chat)


async def test_pause_until_a_day_either_way_round_asks_which(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """ "/pause until 4/3" in Auckland (day first there: 4 March; or 3 April) paused with "This
    pause has no end date" though the patient typed one (found as a patient), and then paused at
    once, open, while it asked which day: a patient who never answered had no reminders until a
    /resume. Nothing is paused until a day is picked, the region's reading first, and the one
    picked ends the pause at its start; a pick more than 31 days ahead ("1/5/2030") says how
    long that is and asks Yes or No first, as any far pause does."""
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat, timezone="Pacific/Auckland")
    await bot.send(chat, "/pause until 4/3")  # START: Monday, March 2, 2026, 22:00 in Auckland
    asked = bot.last_text(chat)
    assert asked == (
        "4/3 could be either date, so nothing is paused yet. Until which day should they stay off?"
    ), asked
    assert bot.labels(chat) == ["Wed, Mar 4, 2026", "Fri, Apr 3, 2026"]
    assert await _paused(admin_conn, patient["id"]) is False
    await bot.press(chat, "Wed, Mar 4, 2026")
    said = bot.last_text(chat)
    assert said == (
        "All reminders are paused.\nThey come back by themselves at the start of Wednesday, March"
        " 4, 2026. Send /resume to have them sooner."
    ), said
    # Ends 00:00 NZDT, March 4.
    assert await _paused_until(admin_conn, patient["id"]) == datetime(2026, 3, 3, 11, 0, tzinfo=UTC)
    # Both readings far ahead: the one picked is asked about, how long named, before a pause.
    await bot.send(chat, "/resume")
    await bot.send(chat, "/pause until 1/5/2030")
    assert bot.labels(chat) == ["Wed, May 1, 2030", "Sat, Jan 5, 2030"], bot.labels(chat)
    await bot.press(chat, "Sat, Jan 5, 2030")
    assert bot.last_text(chat) == (
        "That pauses all reminders for 4 years, until Saturday, January 5, 2030. Pause that long?"
    ), bot.last_text(chat)
    assert await _paused(admin_conn, patient["id"]) is False
    await bot.press(chat, "Yes")
    assert "at the start of Saturday, January 5, 2030" in bot.last_text(chat), bot.last_text(chat)
    # Ends 00:00 NZDT, January 5.
    assert await _paused_until(admin_conn, patient["id"]) == datetime(2030, 1, 4, 11, 0, tzinfo=UTC)


async def test_pause_until_a_day_not_ahead_pauses_nothing_and_says_why(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """ "/pause until" a date already past (a year typed wrong), or that is no date ("3/45"),
    paused open with "This pause has no end date", which said nothing of why: the patient did
    not see the typo and missed every dose until a /resume (found using the bot as a patient).
    Nothing is paused; why is said, with an example of a day ahead written their way round."""
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat, locale="es", timezone="Europe/Madrid")
    await bot.send(chat, "/pausa hasta el 1/3/2026")  # START: Monday, March 2, 2026, in Madrid
    assert bot.last_text(chat) == (
        "El domingo, 1 de marzo de 2026 ya ha pasado, así que no he cambiado nada. Para pausar"
        " tus recordatorios hasta un día que aún no ha llegado, envía por ejemplo /pausa hasta"
        " el 13/3, o /pausa 3 días."
    ), bot.last_text(chat)
    await admin_conn.execute("update conversations set locale = 'en'")
    await admin_conn.execute("update patients set locale = 'en'")
    await bot.send(chat, "/pause until 3/45")
    assert bot.last_text(chat).startswith(
        "I couldn't read 3/45 as a date, so nothing was changed. To pause your reminders until"
        " a day ahead, send for example /pause until "
    ), bot.last_text(chat)
    paused = await admin_conn.fetchval(
        "select reminders_paused from patients where id = $1", patient["id"]
    )
    assert paused is False
    # Of two readings, one passed, the other is meant ("2/4/2026": 4 February has passed).
    await bot.send(chat, "/pause until 2/4/2026")
    assert "at the start of Thursday, April 2, 2026." in bot.last_text(chat), bot.last_text(chat)
    # Ends 00:00 CEST, April 2.
    assert await _paused_until(admin_conn, patient["id"]) == datetime(2026, 4, 1, 22, 0, tzinfo=UTC)


async def test_a_pause_of_minutes_or_hours_says_to_snooze_or_pause_a_day(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """ "/pause 30 min" was refused with "I couldn't read 30 min as a date" (a pause is by days),
    "pause 30 min" without the slash was "Sorry, I didn't understand that", and "pause for an
    hour" was told how to pause one medicine (found as a patient in medremind dev's console).
    Nothing is paused; a break shorter than a snooze's longest is told to snooze the reminder
    for that long (which works while the reminder waits), a longer one to pause whole days; in
    the patient's language, on every channel (SMS in GSM-7's letters)."""
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat, timezone="Pacific/Chatham")
    (dose,) = await dose_events(admin_conn, patient["id"], [START])
    await remind(bot, admin_conn, patient["id"], dose_id=dose)
    await bot.send(chat, "/pause 30 min")
    short = (
        'A pause is by days, so nothing was changed. For a short break, reply "snooze {n}" to a'
        " reminder: it comes back {n} min later. For a day off, send /pause 1 day."
    )
    assert bot.last_text(chat) == short.format(n=30), bot.last_text(chat)
    # Without the slash, the waiting dose is named with its Snooze: nothing was paused.
    await bot.send(chat, "pause for an hour")
    said = bot.last_text(chat)
    assert said.startswith(short.format(n=60) + "\n\nAlso waiting for your answer: "), said
    assert "Snooze" in said.partition("Also waiting")[2], said
    await bot.send(chat, "snooze 60")
    assert "I'll remind you again at" in bot.last_text(chat), bot.last_text(chat)
    await bot.send(chat, "/pause 36 hours")
    assert bot.last_text(chat) == (
        "A pause is by days, so nothing was changed. For 2 days off, send /pause 2 days; one"
        ' reminder can be snoozed up to 12 hours ("snooze 720").'
    ), bot.last_text(chat)
    assert await _paused(admin_conn, patient["id"]) is False
    # Already paused: no reminder comes to snooze, and the pause stays.
    await bot.send(chat, "/pause")
    await bot.send(chat, "/pause 2 hours")
    assert bot.last_text(chat) == (
        "Your reminders are already paused, so nothing was changed. Send /resume to have them back."
    ), bot.last_text(chat)
    assert await _paused(admin_conn, patient["id"]) is True
    await bot.send(chat, "/resume")
    # Spanish over SMS: the words a patient types there, our words in GSM-7's letters.
    number = "+15005550177"
    sms_patient = await registered_patient(
        bot, admin_conn, number, channel="sms", locale="es", timezone="America/St_Johns"
    )
    (reply,) = await bot.sms(number, "pausa 2 horas")
    assert reply.body == (
        'Una pausa es por dias: no he cambiado nada. Para un rato, responde "posponer 120" a un'
        " recordatorio y vuelve 120 min después. Para un dia, envia /pausa 1 dia."
    ), reply.body
    (reply,) = await bot.sms(number, "/pausa media hora")
    assert '"posponer 30"' in (reply.body or ""), reply.body
    # "hasta las 5" at 5:30 AM in St. John's: the next 5 o'clock, 5:00 PM (11 h 30 min on).
    (reply,) = await bot.sms(number, "pausa hasta las 5")
    assert '"posponer 690"' in (reply.body or ""), reply.body
    paused = await admin_conn.fetchval(
        "select reminders_paused from patients where id = $1", sms_patient["id"]
    )
    assert paused is False
    whatsapp = "+15005550178"
    await registered_patient(
        bot, admin_conn, whatsapp, channel="whatsapp", timezone="Asia/Kathmandu"
    )
    async with whatsapp_chat(bot, whatsapp) as wa:
        await wa("/start")
        assert await wa("/pause 1h") == short.format(n=60)
        # Until a time of day: the minutes from now to it (in Kathmandu, 14:45 now).
        assert await wa("pause until 5pm") == short.format(n=135)


async def test_pause_until_a_day_read_as_today_offers_the_other_reading(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """ "/pause until 2/4" on 2 April in Madrid (day first there: today; or 4 February, next
    year) was refused as "today" without the other reading, and "4/3" on 4 March (today, or 3
    April) too: a patient who writes month first was not offered the day they meant. Nothing
    is paused until the other reading is picked, which ends the pause at its start; "No"
    pauses nothing. "until Monday" ends it at the next Monday's start."""
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat, timezone="Europe/Madrid")
    bot.clock.advance(days=2)  # Wednesday, March 4, 2026, 10:00 in Madrid
    await bot.send(chat, "/pause until 4/3")
    assert bot.last_text(chat) == (
        "4/3 read as Wednesday, March 4, 2026 is today, so nothing is paused yet. Did you mean"
        " Friday, April 3, 2026?"
    ), bot.last_text(chat)
    assert bot.labels(chat) == ["Yes", "No"]
    paused = await admin_conn.fetchval(
        "select reminders_paused from patients where id = $1", patient["id"]
    )
    assert paused is False
    await bot.press(chat, "No")
    assert bot.last_text(chat).startswith("Nothing was changed. To pause your reminders until a")
    await bot.send(chat, "/pause until 4/3")
    await bot.send(chat, "yes")  # typed, as over SMS
    assert bot.last_text(chat) == (
        "All reminders are paused.\nThey come back by themselves at the start of Friday, April 3,"
        " 2026. Send /resume to have them sooner."
    ), bot.last_text(chat)
    # Ends 00:00 CEST, April 3.
    assert await _paused_until(admin_conn, patient["id"]) == datetime(2026, 4, 2, 22, 0, tzinfo=UTC)
    # The other reading far ahead ("2/4" on 2 April: 4 February, next year): how long is said.
    await bot.send(chat, "/resume")
    bot.clock.advance(days=29)  # Thursday, April 2, 2026
    await bot.send(chat, "/pause until 2/4")
    assert bot.last_text(chat) == (
        "2/4 read as Thursday, April 2, 2026 is today, so nothing is paused yet. Did you mean"
        " Thursday, February 4, 2027? That pauses all reminders for 10 months."
    ), bot.last_text(chat)
    await bot.press(chat, "No")
    # A weekday: the next one (it paused open, "This pause has no end date", found in dev).
    await bot.send(chat, "pause until Monday")
    assert bot.last_text(chat) == (
        "All reminders are paused.\nThey come back by themselves at the start of Monday, April 6,"
        " 2026. Send /resume to have them sooner."
    ), bot.last_text(chat)


async def _paused(conn: asyncpg.Connection, patient_id: object) -> bool:
    return bool(
        await conn.fetchval("select reminders_paused from patients where id = $1", patient_id)
    )


async def test_a_pause_far_ahead_is_asked_yes_or_no_first(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """ "/pause until 2/3" on 2 March in Chicago (month first: 3 February, next year) paused for
    11 months with no question asked; the reply named the date, but a patient who did not notice
    missed every dose until next year. An end more than 31 days ahead pauses nothing yet and asks
    Yes or No, naming the date and how long that is: No says how to give a nearer day, Yes pauses.
    In Spanish over SMS (typed "sí"), and a length in days over WhatsApp (typed "no")."""
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat, timezone="America/Chicago")
    await bot.send(chat, "/pause until 2/3")  # START: Monday, March 2, 2026, 3:00 AM in Chicago
    asked = (
        "That pauses all reminders for 11 months, until Wednesday, February 3, 2027. Pause that"
        " long?"
    )
    assert bot.last_text(chat) == asked, bot.last_text(chat)
    assert bot.labels(chat) == ["Yes", "No"]
    assert await _paused(admin_conn, patient["id"]) is False
    await bot.press(chat, "No")
    assert bot.last_text(chat) == (
        "Nothing was changed. To pause your reminders until a nearer day, send for example"
        " /pause until 3/13, or /pause 3 days."
    ), bot.last_text(chat)
    assert await _paused(admin_conn, patient["id"]) is False
    await bot.send(chat, "/pause until 2/3")
    await bot.press(chat, "Yes")
    assert bot.last_text(chat) == (
        "All reminders are paused.\nThey come back by themselves at the start of Wednesday,"
        " February 3, 2027. Send /resume to have them sooner."
    ), bot.last_text(chat)
    # Ends 00:00 CST, February 3.
    assert await _paused_until(admin_conn, patient["id"]) == datetime(2027, 2, 3, 6, 0, tzinfo=UTC)
    # 31 days ahead is asked nothing (a month's pause, "until 4/2": 2 April picked of its two
    # readings, the other 4 February 2027).
    await bot.send(chat, "/resume")
    await bot.send(chat, "/pause until 4/2")
    await bot.press(chat, "Thu, Apr 2, 2026")
    assert bot.last_text(chat).startswith("All reminders are paused.\n"), bot.last_text(chat)
    # Spanish over SMS, a US number (month first): "sí" typed pauses.
    number = "+15005550179"
    sms_patient = await registered_patient(
        bot, admin_conn, number, channel="sms", locale="es", timezone="America/Los_Angeles"
    )
    (reply,) = await bot.sms(number, "/pausa hasta el 2/3")
    assert (reply.body or "").startswith(
        "Eso pausa todos los recordatorios durante 11 meses, hasta el miércoles, 3 de febrero de"
        " 2027. ¿Pausarlos tanto tiempo?"
    ), reply.body
    assert await _paused(admin_conn, sms_patient["id"]) is False
    (reply,) = await bot.sms(number, "sí")
    assert "al empezar el miércoles, 3 de febrero de 2027" in (reply.body or ""), reply.body
    assert await _paused(admin_conn, sms_patient["id"]) is True
    # A length in days over WhatsApp: "no" typed pauses nothing.
    whatsapp = "+15005550180"
    wa_patient = await registered_patient(
        bot, admin_conn, whatsapp, channel="whatsapp", timezone="Asia/Kolkata"
    )
    async with whatsapp_chat(bot, whatsapp) as wa:
        await wa("/start")
        said = await wa("/pause 60 days")
        assert said.startswith(
            "That pauses all reminders for 60 days, until Friday, May 1, 2026. Pause that long?"
        ), said
        assert (await wa("no")).startswith("Nothing was changed. To pause your reminders until")
    assert await _paused(admin_conn, wa_patient["id"]) is False


async def _paused_until(conn: asyncpg.Connection, patient_id: object) -> datetime | None:
    until: datetime | None = await conn.fetchval(
        "select reminders_paused_until from patients where id = $1", patient_id
    )
    return until


async def test_a_pause_until_a_part_of_a_day_or_of_a_few_days_has_an_end(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """ "/pause until tomorrow afternoon" and "pausa unos días" paused with "This pause has no end
    date" (a patient means an end), and "pausa 1 semana y media" or "a week and a half" was not
    understood. A day with a part of it ends the pause at the part's start (the afternoon: noon),
    with a time at that time; "tonight" is hours away, which a snooze gives; "a few days" asks
    how many, nothing paused until then; a week and a half is 10 days and 12 hours. In English
    and in Spanish, over Telegram and SMS."""
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat, timezone="Europe/Madrid")
    await bot.send(chat, "/pause until tomorrow afternoon")  # START: Mon 2 March, 10:00 in Madrid
    back = (
        "All reminders are paused.\nThey come back by themselves on {}. Send /resume to have"
        " them sooner."
    )
    assert bot.last_text(chat) == back.format("Tuesday, March 3, 2026 at 12:00 PM"), bot.last_text(
        chat
    )
    assert await _paused_until(admin_conn, patient["id"]) == datetime(2026, 3, 3, 11, 0, tzinfo=UTC)
    await bot.send(chat, "pause until Friday at 9pm")
    assert bot.last_text(chat) == back.format("Friday, March 6, 2026 at 9:00 PM"), bot.last_text(
        chat
    )
    await bot.send(chat, "/resume")
    # Tonight (19:00) is 9 hours away: a snooze covers it, nothing is paused.
    await bot.send(chat, "pause until tonight")
    assert '"snooze 540"' in bot.last_text(chat), bot.last_text(chat)
    await bot.send(chat, "pause for a few days")
    assert bot.last_text(chat) == (
        "How many days should your reminders stay off? Reply with a number, for example 3."
        " Nothing is paused yet."
    ), bot.last_text(chat)
    assert bot.labels(chat) == ["2 days", "3 days", "5 days", "7 days"]
    assert await _paused(admin_conn, patient["id"]) is False
    await bot.press(chat, "3 days")
    assert bot.last_text(chat) == back.format("Thursday, March 5, 2026 at 10:00 AM"), bot.last_text(
        chat
    )
    await bot.send(chat, "/resume")
    for length in ("pause a week and a half", "/pause 1.5 weeks"):
        await bot.send(chat, length)
        said = bot.last_text(chat)
        assert said == back.format("Thursday, March 12, 2026 at 10:00 PM"), said
    assert await _paused_until(admin_conn, patient["id"]) == datetime(
        2026, 3, 12, 21, 0, tzinfo=UTC
    )
    # Weeks typed as a number; more than 31 days is asked Yes or No first.
    await bot.send(chat, "/pause some weeks")
    assert bot.labels(chat) == ["1 week", "2 weeks", "3 weeks", "4 weeks"], bot.labels(chat)
    await bot.send(chat, "6")
    assert bot.last_text(chat) == (
        "That pauses all reminders for 42 days, until Monday, April 13, 2026. Pause that long?"
    ), bot.last_text(chat)
    await bot.press(chat, "No")
    # A day either way round with a time: the day picked ends the pause at that time.
    await bot.send(chat, "/pause until 4/3 at noon")
    await bot.press(chat, "Wed, Mar 4, 2026")
    assert await _paused_until(admin_conn, patient["id"]) == datetime(2026, 3, 4, 11, 0, tzinfo=UTC)
    # In Spanish over SMS (3:00 AM in Mexico City): the number typed; the lengths; the parts.
    number = "+15005550181"
    sms_patient = await registered_patient(
        bot, admin_conn, number, channel="sms", locale="es", timezone="America/Mexico_City"
    )
    (reply,) = await bot.sms(number, "pausa unos días")
    assert reply.body == (
        "¿Cuantos dias deben quedar en pausa tus recordatorios? Responde con un numero, por"
        " ejemplo 3. Aun no he pausado nada."
    ), reply.body
    assert await _paused(admin_conn, sms_patient["id"]) is False
    es_back = (
        "Todos los recordatorios estan en pausa.\nSe reanudaran solos el {}. Envia /resume para"
        " reanudarlos antes."
    )
    ends = {
        "4": "viernes, 6 de marzo de 2026 a las 3:00",
        "pausa 1 semana y media": "jueves, 12 de marzo de 2026 a las 15:00",
        "pausa hasta el lunes por la mañana": "lunes, 9 de marzo de 2026 a las 6:00",
    }
    for typed, when in ends.items():
        (reply,) = await bot.sms(number, typed)
        assert reply.body == es_back.format(when), (typed, reply.body)
        await bot.sms(number, "/resume")
    # At 3:00 AM "mañana por la tarde" could be this afternoon: both days are offered.
    (reply,) = await bot.sms(number, "pausa hasta mañana por la tarde")
    assert (reply.body or "").startswith(
        "Ahora son las 3:00, asi que puede ser hoy o mañana: aun no he pausado nada. ¿Hasta qué"
        " dia deben quedar en pausa?\n\n1 lun, 2 mar 2026\n2 mar, 3 mar 2026"
    ), reply.body
    (reply,) = await bot.sms(number, "1")
    assert reply.body == es_back.format("lunes, 2 de marzo de 2026 a las 12:00"), reply.body
    # At 2:15 AM "tomorrow morning" could be the morning after the night, today's: both offered.
    bot.clock.advance(hours=16, minutes=15)  # Tuesday, March 3, 2:15 AM in Madrid
    await bot.send(chat, "/resume")
    await bot.send(chat, "/pause until tomorrow morning")
    assert bot.last_text(chat) == (
        "It is 2:15 AM now, so that could mean today or tomorrow: nothing is paused yet. Until"
        " which day should they stay off?"
    ), bot.last_text(chat)
    assert bot.labels(chat) == ["Tue, Mar 3, 2026", "Wed, Mar 4, 2026"], bot.labels(chat)
    assert await _paused(admin_conn, patient["id"]) is False
    await bot.press(chat, "Tue, Mar 3, 2026")
    assert bot.last_text(chat) == back.format("Tuesday, March 3, 2026 at 6:00 AM"), bot.last_text(
        chat
    )
    assert await _paused_until(admin_conn, patient["id"]) == datetime(2026, 3, 3, 5, 0, tzinfo=UTC)
