"""A patient keeping home times who sets a new time zone in /settings is asked whether they moved
there or are travelling. Before, they heard "Saved." and kept the old home's times: moved from
Chicago to Madrid, their 8:00 AM reminder came at 3:00 PM for good, and nothing in the bot could
move it. Over SMS through the web process at the injected clock (Wednesday, March 4, 2026, 11:50
UTC: 5:50 AM in Chicago, 12:50 PM in Madrid)."""

from __future__ import annotations

from datetime import UTC, datetime, time

import asyncpg
import httpx
import pytest

from tests import factories
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import option_number, sms_chat, through_menus

ANA = "+13125550187"


@pytest.mark.parametrize(
    ("answer", "said", "next_due", "home"),
    [
        (
            "I moved here",
            "Saved. Reminders keep their times in Madrid, your home time zone, even when"
            " you travel. Your next reminder: 8:00 AM (Madrid).",
            datetime(2026, 3, 5, 7, 0, tzinfo=UTC),
            "Europe/Madrid",
        ),
        (
            "Travelling",
            "Saved. Reminders keep their times in Chicago, your home time zone, even when"
            " you travel. Your next reminder: 8:00 AM in Chicago (3:00 PM where you are,"
            " Madrid).",
            datetime(2026, 3, 4, 14, 0, tzinfo=UTC),
            "America/Chicago",
        ),
    ],
)
async def test_a_new_zone_asks_move_or_trip(
    web: httpx.AsyncClient,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    answer: str,
    said: str,
    next_due: datetime,
    home: str,
) -> None:
    patient = await factories.create_patient(
        admin_conn,
        contacts={"sms": ANA},
        display_name="Ana",
        timezone="America/Chicago",
        home_timezone="America/Chicago",
    )
    await factories.create_medication(admin_conn, patient["id"], times=(time(8, 0),))
    say = sms_chat(web, fake_twilio, ANA)
    await through_menus(say, "/settings", "Time zone")
    asked = await through_menus(say, "Madrid", "Yes")
    assert asked.startswith(
        "Did you move to Madrid, or are you travelling? Moved: reminders come at their"
        " times in Madrid. Travelling: they keep your home times"
        " (Chicago)."
    ), asked
    assert await say(option_number(asked, answer)) == said
    row = await admin_conn.fetchrow(
        "select p.home_timezone, (select min(due_at) from dose_events d where d.patient_id = p.id"
        " and d.status = 'due') as next from patients p where p.id = $1",
        patient["id"],
    )
    assert (row["home_timezone"], row["next"]) == (home, next_due)
    # The menu names the home a traveller's reminders keep (the zone shown is where they are).
    mode = "keep home times" if home == "Europe/Madrid" else "keep home times: Chicago"
    assert f"Time zone: Madrid ({mode})\n" in await say("/settings")


async def test_a_follow_me_patient_is_told_where_reminders_now_fall(
    web: httpx.AsyncClient, admin_conn: asyncpg.Connection, fake_twilio: FakeTwilio
) -> None:
    patient = await factories.create_patient(
        admin_conn,
        contacts={"sms": ANA},
        display_name="Ana",
        timezone="America/Chicago",
        home_timezone="America/Chicago",
        timezone_mode="follow",
    )
    await factories.create_medication(admin_conn, patient["id"], times=(time(8, 0),))
    say = sms_chat(web, fake_twilio, ANA)
    await through_menus(say, "/settings", "Time zone")
    assert await through_menus(say, "Madrid", "Yes") == (
        "Saved. Reminders come at their times in the time zone you are in, now Madrid:"
        " when you travel, set the new one in Time zone. Your next reminder: 8:00 AM"
        " (Madrid)."
    )


async def test_the_zone_left_is_the_home_before_any_medicine(
    web: httpx.AsyncClient, admin_conn: asyncpg.Connection, fake_twilio: FakeTwilio
) -> None:
    """No medicine yet, so the planner never pinned Chicago as home: the new zone was taken
    without a question, and became home at the first medicine's plan."""
    patient = await factories.create_patient(
        admin_conn, contacts={"sms": ANA}, display_name="Ana", timezone="America/Chicago"
    )
    say = sms_chat(web, fake_twilio, ANA)
    await through_menus(say, "/settings", "Time zone")
    asked = await through_menus(say, "Madrid", "Yes")
    assert asked.startswith("Did you move to Madrid, or are you travelling?"), asked
    await say(option_number(asked, "Travelling"))
    home = "select home_timezone from patients where id = $1"
    assert await admin_conn.fetchval(home, patient["id"]) == "America/Chicago"


async def test_a_move_says_the_caregiver_stays_at_the_old_home(
    web: httpx.AsyncClient, admin_conn: asyncpg.Connection, fake_twilio: FakeTwilio
) -> None:
    """Lucía was "Same as mine" in Chicago: her nights stay Chicago's after Ana moves, and Ana
    is told so (she may have moved too)."""
    patient = await factories.create_patient(
        admin_conn, contacts={"sms": ANA}, display_name="Ana", timezone="America/Chicago"
    )
    await admin_conn.execute(
        "insert into caregivers (patient_id, name, channel, address, timezone)"
        " values ($1, 'Lucía', 'sms', '+13125550188', 'America/Chicago')",
        patient["id"],
    )
    say = sms_chat(web, fake_twilio, ANA)
    await through_menus(say, "/settings", "Time zone")
    moved = await say(option_number(await through_menus(say, "Madrid", "Yes"), "I moved here"))
    assert moved.endswith(
        "Lucía's alerts still wait for the night to end in Chicago: if they moved too,"
        " change it in Caregiver."
    ), moved


KEPT_AS_TRIP = (
    "Your time zone is Madrid (your local time now is 12:50 PM); your reminders keep"
    " their times in Chicago, your home time zone, as on a trip."
)
ASK_MOVED = "Did you move to Madrid, or are you travelling?"


async def _at_confirmation(admin_conn: asyncpg.Connection, say: object) -> asyncpg.Record:
    """A Chicago patient keeping home times, with an 8:00 medicine, at /settings' "Is your
    local time now 12:50 PM (Madrid)?"."""
    patient = await factories.create_patient(
        admin_conn,
        contacts={"sms": ANA},
        display_name="Ana",
        timezone="America/Chicago",
        home_timezone="America/Chicago",
    )
    await factories.create_medication(admin_conn, patient["id"], times=(time(8, 0),))
    await through_menus(say, "/settings", "Time zone")  # type: ignore[arg-type]
    asked = await say("Madrid")  # type: ignore[operator]
    assert "Is your local time now 12:50 PM (Madrid)?" in asked, asked
    return patient


async def test_a_command_at_the_confirmation_still_asks_moved_or_travelling(
    web: httpx.AsyncClient, admin_conn: asyncpg.Connection, fake_twilio: FakeTwilio
) -> None:
    """/today typed at the confirmation kept Madrid as a trip without a word ("reminders follow
    it", which they did not): the note now says the reminders keep Chicago's times, /today's
    answer follows, then the question, one message; "I moved here" then moves the home."""
    say = sms_chat(web, fake_twilio, ANA)
    patient = await _at_confirmation(admin_conn, say)
    before = len(fake_twilio.messages)
    said = await say("/today")
    assert len(fake_twilio.messages) == before + 1  # one inbound, one reply
    note, today, question = said.split("\n\n", 2)
    assert note == KEPT_AS_TRIP
    assert today.startswith("Today, ") or today.startswith("No doses"), today
    assert question.startswith(ASK_MOVED), question
    await say(option_number(question, "I moved here"))
    home = "select timezone, home_timezone from patients where id = $1"
    assert tuple(await admin_conn.fetchrow(home, patient["id"])) == ("Europe/Madrid",) * 2


async def test_a_command_that_opens_a_dialog_says_how_to_tell_a_move(
    web: httpx.AsyncClient, admin_conn: asyncpg.Connection, fake_twilio: FakeTwilio
) -> None:
    """/add opens its own question: the note says the trip and how to say they moved instead,
    and the way it names leads to the question."""
    say = sms_chat(web, fake_twilio, ANA)
    patient = await _at_confirmation(admin_conn, say)
    said = await say("/add")
    assert said.startswith(
        f"{KEPT_AS_TRIP} If you moved to Madrid, send /settings and choose Time zone"
        " again.\n\nWhat is the medicine called?"
    ), said
    await say("/cancel")
    await through_menus(say, "/settings", "Time zone")
    asked = await through_menus(say, "Madrid", "Yes")
    assert asked.startswith(ASK_MOVED), asked
    await say(option_number(asked, "I moved here"))
    home = "select home_timezone from patients where id = $1"
    assert await admin_conn.fetchval(home, patient["id"]) == "Europe/Madrid"


async def test_a_command_at_moved_or_travelling_asks_it_again(
    web: httpx.AsyncClient, admin_conn: asyncpg.Connection, fake_twilio: FakeTwilio
) -> None:
    """/pause at the question itself: paused, and the question again below; in Spanish."""
    say = sms_chat(web, fake_twilio, ANA)
    patient = await _at_confirmation(admin_conn, say)
    await admin_conn.execute("update patients set locale = 'es' where id = $1", patient["id"])
    asked = await say("1")  # Sí
    assert asked.startswith("¿Te has mudado a Madrid o estas de viaje?"), asked
    said = await say("/pause")
    # In this order (over one SMS's limit, split where a paragraph ends).
    note = "Tu zona horaria es Madrid (alli ahora son las 12:50); tus recordatorios"
    paused = "Todos los recordatorios estan en pausa."
    question = said[said.index("¿Te has mudado a Madrid o estas de viaje?") :]
    assert said.startswith(note) and note in said[: said.index(paused)], said
    assert said.index(paused) < said.index(question) and "mantienen sus horas en Chicago" in said
    await say(option_number(question, "Estoy de viaje"))
    home = "select home_timezone from patients where id = $1"
    assert await admin_conn.fetchval(home, patient["id"]) == "America/Chicago"
