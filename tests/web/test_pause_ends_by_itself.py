"""A pause with a length or an end date ends by itself (scheduler/pause_ends.py).

"/pause 3 days" was told "a pause has no end date" and a patient who forgot /resume missed every
dose after it. Now the end is stored and the worker's planner tick, once it has passed, does what
/resume does and tells the patient once, in their language, that reminders are back on. A
/resume before the end, a second /pause and a plain /pause keep their meaning.

Real parts: the web process over SMS (the loopback Twilio), the conversation engine, the
planner's tick and the dispatcher on the test database. One settable clock for both; the patient
lives in New York, whose clocks spring forward on Sunday, March 8, 2026 (02:00 EST to 03:00
EDT), with a daily 08:00 dose and quiet hours off. The clock starts on Wednesday, March 4 at
11:50 UTC (06:50 EST).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, time, timedelta

import asyncpg
import httpx
import pytest

from core.db import Database
from core.settings import Settings
from scheduler.planner import run_planner_tick
from tests import factories
from tests.fakes.fake_twilio import FakeTwilio
from tests.integration.clinician import as_clinician
from tests.web.chat import START, Clock, plain, sms_chat, worker

ZONE = "America/New_York"
PAUSED = "select reminders_paused, reminders_paused_until from patients where id = $1"
BACK_EN = "Your pause has ended: reminders are back on. Send /pause to pause them again."
BACK_ES = (
    "Tu pausa ha terminado: los recordatorios vuelven a estar activos. Envia /pause para"
    " pausarlos de nuevo."
)
NOTICES = (
    "select count(*) from scheduled_messages where patient_id = $1 and template = 'pause_ended'"
)


QUIET_OFF = (time(0, 0), time(0, 0))


async def _patient(
    conn: asyncpg.Connection,
    number: str,
    locale: str = "en",
    *,
    dose: time = time(8, 0),
    quiet: tuple[time, time] = QUIET_OFF,
) -> asyncpg.Record:
    """An SMS patient in New York with a daily dose (08:00), quiet hours (off)."""
    patient = await factories.create_patient(
        conn,
        contacts={"sms": number},
        display_name="Ana",
        locale=locale,
        timezone=ZONE,
        quiet_start=quiet[0],
        quiet_end=quiet[1],
    )
    await factories.create_medication(conn, patient["id"], times=(dose,))
    return patient


WorkerAt = Callable[[datetime], Awaitable[list[str]]]


@pytest.fixture
def worker_at(
    db: Database, senders: dict, chat_clock: Clock, web_settings: Settings, fake_twilio: FakeTwilio
) -> WorkerAt:
    """``worker_at(at)``: what a worker does at ``at`` (the clock moved there): a planner tick,
    then dispatch until idle; the SMS it sent."""

    async def at_(at: datetime) -> list[str]:
        assert db.pool is not None
        chat_clock.now = at
        before = len(fake_twilio.messages)
        await run_planner_tick(db.pool, at, web_settings)
        dispatcher = worker(db, senders, chat_clock)
        while await dispatcher.run_once():
            pass
        return [plain(m.body) for m in fake_twilio.messages[before:]]

    return at_


async def test_the_end_brings_reminders_back_once_across_a_dst_change(
    web: httpx.AsyncClient,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    worker_at: WorkerAt,
) -> None:
    """5 days from 06:50 EST on Wednesday is 06:50 EDT on Monday: 10:50 UTC, not 11:50 (the
    wall clock is kept across the change). Nothing is sent while paused, nor a minute before the
    end; the tick after it resumes the patient, who is told once, and the 08:00 dose is
    reminded."""
    patient = await _patient(admin_conn, "+12125550301")
    said = await sms_chat(web, fake_twilio, "+12125550301")("pause for 5 days")
    assert "come back by themselves on Monday, March 9, 2026 at 6:50 AM." in said, said
    end = datetime(2026, 3, 9, 10, 50, tzinfo=UTC)
    assert tuple(await admin_conn.fetchrow(PAUSED, patient["id"])) == (True, end)

    for day in range(5):  # every morning's dose time while paused, and just before the end
        assert await worker_at(datetime(2026, 3, 4 + day, 13, 5, tzinfo=UTC)) == []
    assert await worker_at(end - timedelta(minutes=1)) == []
    assert (await admin_conn.fetchrow(PAUSED, patient["id"]))["reminders_paused"] is True

    assert await worker_at(end + timedelta(minutes=1)) == [BACK_EN]
    assert tuple(await admin_conn.fetchrow(PAUSED, patient["id"])) == (False, None)
    assert await worker_at(end + timedelta(minutes=2)) == []  # told once
    # 08:00 EDT is 12:00 UTC: the day's dose is reminded again.
    reminded = await worker_at(datetime(2026, 3, 9, 12, 1, tzinfo=UTC))
    assert len(reminded) == 1 and "Time for your 8:00 AM dose." in reminded[0], reminded
    assert await admin_conn.fetchval(NOTICES, patient["id"]) == 1


async def test_a_resume_before_the_end_leaves_nothing_to_end(
    web: httpx.AsyncClient,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    worker_at: WorkerAt,
) -> None:
    """/resume a day into "/pause 3 days": the end goes with the pause, and its passing tells
    the patient nothing (they were told "Reminders are back on" by /resume)."""
    patient = await _patient(admin_conn, "+12125550302")
    say = sms_chat(web, fake_twilio, "+12125550302")
    await say("/pause 3 days")
    chat_clock.now += timedelta(days=1)
    assert (await say("/resume")).startswith("Reminders are back on.")
    assert tuple(await admin_conn.fetchrow(PAUSED, patient["id"])) == (False, None)
    after_end = datetime(2026, 3, 7, 11, 51, tzinfo=UTC)
    assert BACK_EN not in await worker_at(after_end)
    assert await admin_conn.fetchval(NOTICES, patient["id"]) == 0


async def test_a_second_pause_replaces_the_end(
    web: httpx.AsyncClient,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    worker_at: WorkerAt,
) -> None:
    """In Spanish: "pausa 2 días", then "pausa 1 semana" the same morning. The first end passes
    with the patient still paused; the second resumes them, told in Spanish."""
    patient = await _patient(admin_conn, "+12125550303", "es")
    say = sms_chat(web, fake_twilio, "+12125550303")
    await say("pausa 2 días")
    assert "miércoles, 11 de marzo de 2026 a las 6:50" in await say("pausa 1 semana")
    # 06:50 EDT on March 11 is 10:50 UTC.
    end = datetime(2026, 3, 11, 10, 50, tzinfo=UTC)
    assert tuple(await admin_conn.fetchrow(PAUSED, patient["id"])) == (True, end)
    assert await worker_at(datetime(2026, 3, 6, 12, 0, tzinfo=UTC)) == []
    assert (await admin_conn.fetchrow(PAUSED, patient["id"]))["reminders_paused"] is True
    assert await worker_at(end) == [BACK_ES]
    assert await worker_at(end + timedelta(minutes=1)) == []


async def test_a_plain_pause_never_ends_by_itself(
    web: httpx.AsyncClient,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    worker_at: WorkerAt,
) -> None:
    """/pause after "/pause 3 days" leaves it open: no end, and a tick a year on sends nothing."""
    patient = await _patient(admin_conn, "+12125550304")
    say = sms_chat(web, fake_twilio, "+12125550304")
    await say("/pause 3 days")
    assert await say("/pause") == "All reminders are paused. Send /resume to restart them."
    assert tuple(await admin_conn.fetchrow(PAUSED, patient["id"])) == (True, None)
    assert await worker_at(datetime(2026, 3, 7, 12, 0, tzinfo=UTC)) == []
    assert await worker_at(datetime(2027, 3, 4, 12, 0, tzinfo=UTC)) == []
    assert (await admin_conn.fetchrow(PAUSED, patient["id"]))["reminders_paused"] is True
    assert await admin_conn.fetchval(NOTICES, patient["id"]) == 0


async def test_a_snooze_withheld_by_a_short_pause_comes_back_once(
    web: httpx.AsyncClient,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    worker_at: WorkerAt,
) -> None:
    """The 11:30 PM reminder snoozed to 11:50 PM, then "/pause until tomorrow" at 11:40 PM: the
    pause ends at midnight (the start of that day), the snooze's time passed during it and the
    dose is not missed yet (its mark: 12:50 AM), so the tick that ends the pause sends it at once,
    once, with the notice: the same path as /resume."""
    patient = await _patient(admin_conn, "+12125550305", dose=time(23, 30))
    dose_at = datetime(2026, 3, 5, 4, 30, tzinfo=UTC)  # 11:30 PM EST on March 4
    assert await worker_at(dose_at - timedelta(hours=1)) == []
    (reminder,) = await worker_at(dose_at)
    assert "Time for your 11:30 PM dose." in reminder, reminder
    say = sms_chat(web, fake_twilio, "+12125550305")
    chat_clock.now = dose_at + timedelta(minutes=5)
    assert "11:50 PM" in await say("2")  # Snooze 15 min
    chat_clock.now = dose_at + timedelta(minutes=10)
    said = await say("/pause until tomorrow")
    assert "at the start of Thursday, March 5, 2026." in said, said
    end = datetime(2026, 3, 5, 5, 0, tzinfo=UTC)  # midnight EST
    assert tuple(await admin_conn.fetchrow(PAUSED, patient["id"])) == (True, end)
    assert await worker_at(dose_at + timedelta(minutes=20)) == []  # the snooze withheld

    sent = await worker_at(end + timedelta(minutes=1))
    assert len(sent) == 2 and BACK_EN in sent, sent
    assert any("Time for your 11:30 PM dose" in text for text in sent), sent
    assert await worker_at(end + timedelta(minutes=2)) == []
    assert await admin_conn.fetchval(NOTICES, patient["id"]) == 1


async def test_a_day_whose_midnight_the_clocks_skip_starts_after_the_gap(
    web: httpx.AsyncClient,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
) -> None:
    """Santiago's clocks go from 00:00 to 01:00 on September 6, 2026: "until 2026-09-06" ends
    at 01:00 there (04:00 UTC), the day's first instant, not an hour before it began."""
    patient = await factories.create_patient(
        admin_conn, contacts={"sms": "+12125550306"}, locale="en", timezone="America/Santiago"
    )
    chat_clock.now = datetime(2026, 9, 4, 15, 0, tzinfo=UTC)
    said = await sms_chat(web, fake_twilio, "+12125550306")("/pause until 2026-09-06")
    assert "at the start of Sunday, September 6, 2026." in said, said
    ends = datetime(2026, 9, 6, 4, 0, tzinfo=UTC)
    assert tuple(await admin_conn.fetchrow(PAUSED, patient["id"])) == (True, ends)


async def test_a_notice_held_by_quiet_hours_goes_before_a_reminder_inside_them(
    web: httpx.AsyncClient,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    worker_at: WorkerAt,
) -> None:
    """Quiet hours 10 PM to 8 AM and a 7:00 AM dose inside them (the patient's own time: never
    held). "/pause until tomorrow" ends at midnight, in quiet hours: the notice waits, but not
    until 8 AM (it came after the 7:00 reminder it announces): it goes a minute before it. A new
    pause while it waits withdraws it."""
    patient = await _patient(
        admin_conn, "+12125550307", dose=time(7, 0), quiet=(time(22, 0), time(8, 0))
    )
    chat_clock.now = datetime(2026, 3, 4, 23, 0, tzinfo=UTC)  # 6 PM EST
    said = await sms_chat(web, fake_twilio, "+12125550307")("/pause until tomorrow")
    assert "at the start of Thursday, March 5, 2026." in said, said
    end = datetime(2026, 3, 5, 5, 0, tzinfo=UTC)  # midnight EST
    dose_at = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)  # 7:00 AM EST

    assert await worker_at(end + timedelta(minutes=1)) == []  # resumed, told nothing at night
    assert tuple(await admin_conn.fetchrow(PAUSED, patient["id"])) == (False, None)
    assert await worker_at(dose_at - timedelta(minutes=2)) == []
    assert await worker_at(dose_at - timedelta(minutes=1)) == [BACK_EN]
    (reminder,) = await worker_at(dose_at)
    assert "Time for your 7:00 AM dose." in reminder, reminder
    assert await worker_at(datetime(2026, 3, 5, 13, 1, tzinfo=UTC)) == []  # 8 AM: nothing more
    assert await admin_conn.fetchval(NOTICES, patient["id"]) == 1

    # The next night the same, but at 3 AM a plain /pause: the notice still waiting for 6:59
    # would say "back on" while they are off. It is withdrawn; nothing comes.
    chat_clock.now = datetime(2026, 3, 5, 23, 0, tzinfo=UTC)
    await sms_chat(web, fake_twilio, "+12125550307")("/pause until tomorrow")
    assert await worker_at(end + timedelta(days=1, minutes=1)) == []
    chat_clock.now = datetime(2026, 3, 6, 8, 0, tzinfo=UTC)  # 3 AM EST
    await sms_chat(web, fake_twilio, "+12125550307")("/pause")
    assert await worker_at(dose_at + timedelta(days=1, minutes=-1)) == []
    assert await worker_at(dose_at + timedelta(days=1)) == []
    assert (
        await admin_conn.fetchval(
            "select status from scheduled_messages where patient_id = $1"
            " and template = 'pause_ended' and scheduled_time = $2",
            patient["id"],
            dose_at + timedelta(days=1, minutes=-1),
        )
        == "cancelled"
    )

    # The third night the notice waits for 6:59 again, and at 1 AM the dose moves to 6:30 (an
    # edit of the schedule, whatever path makes it: the planner re-plans it): the notice follows,
    # a minute before 6:30. Moved on to 9:00, after the quiet hours, it goes at their end, 8 AM.
    chat_clock.now = datetime(2026, 3, 6, 23, 0, tzinfo=UTC)
    await sms_chat(web, fake_twilio, "+12125550307")("/pause until tomorrow")
    assert await worker_at(end + timedelta(days=2, minutes=1)) == []
    waiting = (
        "select scheduled_time, urgent from scheduled_messages where patient_id = $1"
        " and template = 'pause_ended' and status = 'pending'"
    )
    assert tuple(await admin_conn.fetchrow(waiting, patient["id"])) == (
        dose_at + timedelta(days=2, minutes=-1),
        True,
    )

    async def move_dose(to: time, at: datetime) -> list[str]:
        await admin_conn.execute(
            "update reminder_schedules set times_of_day = $2, version = version + 1"
            " where patient_id = $1",
            patient["id"],
            [to],
        )
        return await worker_at(at)

    third = datetime(2026, 3, 7, tzinfo=UTC)
    assert await move_dose(time(6, 30), third + timedelta(hours=6)) == []  # 1 AM EST
    assert tuple(await admin_conn.fetchrow(waiting, patient["id"])) == (
        third + timedelta(hours=11, minutes=29),  # 6:29 AM EST
        True,
    )
    assert await move_dose(time(9, 0), third + timedelta(hours=7)) == []  # 2 AM EST
    assert await worker_at(third + timedelta(hours=11, minutes=59)) == []  # not at 6:29 nor 6:59
    assert await worker_at(third + timedelta(hours=13)) == [BACK_EN]  # 8 AM EST
    (reminder,) = await worker_at(third + timedelta(hours=14))
    assert "Time for your 9:00 AM dose." in reminder, reminder


CLINIC_PAUSED_EN = (
    "Your clinic has paused your medication reminders until Friday, March 6, 2026 at 8:30 AM."
    " You have not been forgotten: ask your clinic if you have questions."
)
CLINIC_PAUSED_ES = (
    "Tu clinica ha pausado tus recordatorios de medicacion hasta que los reactive. No te hemos"
    " olvidado: si tienes dudas, pregunta a tu clinica."
)
CLINIC_RESUMED_EN = "Your clinic has resumed your medication reminders: they are back on."
CLINIC_NOTICES = (
    "select template, status from scheduled_messages where patient_id = $1"
    " and template in ('clinic_paused', 'clinic_resumed') order by created_at, template"
)


async def test_a_clinic_pause_and_resume_are_told_to_the_patient(
    web: httpx.AsyncClient,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    org: asyncpg.Record,
    auth: dict[str, str],
    fake_twilio: FakeTwilio,
    worker_at: WorkerAt,
) -> None:
    """A clinic's PATCH pause or resume (scheduler/clinic_pause_notice.py) is told to the
    patient in their language, the end in their zone, held by their quiet hours (22:00-07:00);
    asking for what already holds tells nothing; a pause resumed within one night, by the clinic
    or the patient's /resume, nothing."""
    quiet = {"quiet_start": time(22, 0), "quiet_end": time(7, 0), "timezone": ZONE}
    ana, eva = [
        await factories.create_patient(
            admin_conn, org["id"], contacts={"sms": number}, locale=locale, **quiet
        )
        for number, locale in (("+12125550311", "en"), ("+12125550312", "es"))
    ]

    async def patch(patient: asyncpg.Record, body: dict[str, object]) -> None:
        answer = await web.patch(f"/api/v1/patients/{patient['id']}", json=body, headers=auth)
        assert answer.status_code == 200, answer.text

    # 06:50 EST, in quiet hours: both paused, told at 07:00.
    await patch(ana, {"reminders_paused": True, "reminders_paused_until": "2026-03-06T13:30:00Z"})
    await patch(eva, {"reminders_paused": True})
    assert await worker_at(START + timedelta(minutes=1)) == []
    assert sorted(await worker_at(START + timedelta(minutes=11))) == sorted(
        [CLINIC_PAUSED_EN, CLINIC_PAUSED_ES]
    )
    chat_clock.now = START + timedelta(minutes=15)
    await patch(ana, {"reminders_paused": True})  # nothing changed: nothing said
    await patch(ana, {"reminders_paused": False})
    assert await worker_at(START + timedelta(minutes=16)) == [CLINIC_RESUMED_EN]

    # 22:00 EST: paused, and resumed at 22:30, before the morning: the patient is told neither.
    chat_clock.now = datetime(2026, 3, 5, 3, 0, tzinfo=UTC)
    await patch(ana, {"reminders_paused": True})
    chat_clock.now += timedelta(minutes=30)
    await patch(ana, {"reminders_paused": False})
    # 23:00 paused again, and at 23:30 the patient's own /resume: that "paused" goes neither.
    chat_clock.now += timedelta(minutes=30)
    await patch(ana, {"reminders_paused": True})
    chat_clock.now += timedelta(minutes=30)
    assert (await sms_chat(web, fake_twilio, "+12125550311")("/resume")).startswith("Reminders")
    assert await worker_at(datetime(2026, 3, 5, 12, 1, tzinfo=UTC)) == []
    assert [tuple(r) for r in await admin_conn.fetch(CLINIC_NOTICES, ana["id"])] == [
        ("clinic_paused", "sent"),
        ("clinic_resumed", "sent"),
        ("clinic_paused", "cancelled"),
        ("clinic_paused", "cancelled"),
    ]

    # 07:01 EST: the dashboard's pause (medremind/web/clinic_pause.py), the same pause and notice
    # as a clinician, with a one-time token the database issues them for one patient of theirs.
    doctor = await factories.create_clinician(admin_conn, org["id"])
    stranger = await factories.create_patient(admin_conn, contacts={"sms": "+12125550313"})

    async def token_for(patient: asyncpg.Record) -> str | None:
        async with as_clinician(admin_conn, doctor["id"]):
            return await admin_conn.fetchval("select public.issue_pause_token($1)", patient["id"])

    async def dashboard(patient: asyncpg.Record, body: dict[str, object]) -> httpx.Response:
        bearer = {"Authorization": f"Bearer {await token_for(patient)}"}
        return await web.post(f"/clinic/patients/{patient['id']}/pause", json=body, headers=bearer)

    assert await token_for(stranger) is None  # another clinic's patient: "not found"
    refusals: list[tuple[dict[str, object], str]] = [
        ({"paused": True, "pause_days": 0}, "pause_days"),
        ({"paused": True, "pause_until": "2026-03-05"}, "pause_until"),  # today in New York
        ({"paused": False, "pause_days": 2}, "pause_days"),
    ]
    for body, field in refusals:
        refused = await dashboard(ana, body)
        assert (refused.status_code, refused.json()["error"]["field"]) == (422, field), body
    token = await token_for(ana)
    path = f"/clinic/patients/{eva['id']}/pause"
    stolen = await web.post(
        path, json={"paused": False}, headers={"Authorization": f"Bearer {token}"}
    )
    assert stolen.status_code == 401, stolen.text  # a token is for its one patient
    paused = await dashboard(ana, {"paused": True, "pause_days": 2})
    assert paused.json() == {
        "reminders_paused": True,
        "reminders_paused_until": "2026-03-07T12:01:00+00:00",  # 07:01 EST, two days on
    }
    assert (await dashboard(eva, {"paused": False})).json()["reminders_paused"] is False
    told = await worker_at(datetime(2026, 3, 5, 12, 2, tzinfo=UTC))
    assert len(told) == 2, told
    assert any(
        t.startswith("Your clinic has paused your medication reminders until Sat") for t in told
    )
    assert (
        await admin_conn.fetchval(
            "select actor from audit_log where entity_id = $1 order by id desc limit 1",
            str(ana["id"]),
        )
        == f"clinician:{doctor['id']}"
    )
