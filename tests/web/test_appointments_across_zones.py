"""A clinic in Madrid books an appointment for a patient who lives in New York.

Every appointment message showed the patient's own wall clock only ("Appointment booked: Mar 29,
2027, 3:00 AM, Clínica Sol"): the patient could not tell that it meant 09:00 in Madrid, where
the visit is. Now the texts name the clinic's time, labelled, and the patient's own beside it
("9:00 AM Madrid time (3:00 AM your time)"), on Telegram and SMS, in English and Spanish; a
patient in the clinic's zone, or in one with the same offset then (Paris), reads the text as it
always was. And the 2-hour reminder, due at 01:00 in the patient's quiet hours (21:00-08:00),
used to wait for 08:00 and expire unsent at 03:00, the appointment's start: it goes now.

Real paths: ``POST /api/v1/appointments`` and ``PATCH`` on the web app, the planner and the
worker's dispatcher at one injected clock, the real adapters on the loopback Telegram and
Twilio (scheduler.appointment_times, scheduler.quiet_hours.appointment_hold).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from uuid import UUID

import asyncpg

from tests import factories
from tests.web.worker_day import ClinicDay, sms_to, telegram_to

# Monday 29 March 2027, 09:00 in Madrid (CEST, UTC+2) is 03:00 in New York (EDT, UTC-4).
STARTS = datetime(2027, 3, 29, 7, 0, tzinfo=UTC)
# Booked a week before, at noon UTC: 08:00 in New York, just past the default quiet hours.
BOOKED = datetime(2027, 3, 22, 12, 0, tzinfo=UTC)
# The weeks of March when the US has moved its clocks and the EU not yet: 09:00 in Madrid (CET,
# UTC+1) on Wednesday 17 March 2027 is 04:00 in New York (EDT): 5 hours apart, not 6.
DST_GAP_STARTS = datetime(2027, 3, 17, 8, 0, tzinfo=UTC)
DST_GAP_BOOKED = datetime(2027, 3, 10, 13, 0, tzinfo=UTC)


async def _patient(clinic: ClinicDay, timezone: str, locale: str, **contacts: str) -> UUID:
    patient = await factories.create_patient(
        clinic.conn,
        clinic.org["id"],
        timezone=timezone,
        locale=locale,
        contacts=contacts,
        consent_at=BOOKED - timedelta(days=30),
    )
    patient_id: UUID = patient["id"]
    return patient_id


async def _book(clinic: ClinicDay, patient_id: UUID, starts_at: datetime, at: datetime) -> UUID:
    """The clinic books through the API at ``at``; the worker runs then."""
    clinic.day.clock.now = at
    booked = await clinic.web.post(
        "/api/v1/appointments",
        json={"patient_id": str(patient_id), "starts_at": starts_at.isoformat()},
        headers=clinic.auth,
    )
    assert booked.status_code == 201, booked.text
    await clinic.day.at(at)
    return UUID(booked.json()["id"])


async def _states(conn: asyncpg.Connection, appointment_id: UUID) -> list[tuple[str, str]]:
    rows = await conn.fetch(
        "select kind, status from scheduled_messages where appointment_id = $1"
        " order by scheduled_time, kind",
        appointment_id,
    )
    return [(r["kind"], r["status"]) for r in rows]


async def test_a_new_york_patient_of_a_madrid_clinic_reads_both_times(madrid: ClinicDay) -> None:
    chat = 7_410_001
    patient_id = await _patient(madrid, "America/New_York", "en", telegram=str(chat))
    appointment_id = await _book(madrid, patient_id, STARTS, BOOKED)
    (booked,) = telegram_to(madrid.telegram, chat)
    assert booked.startswith(
        "Your appointment is booked for Monday, March 29, 2027 at 9:00 AM Madrid time"
        " (3:00 AM your time), Clínica Sol."
    ), booked

    # The 24-hour reminder is due at 03:00 in New York: quiet hours hold it until 08:00, 19
    # hours before the appointment, as any clinic message.
    day_before = STARTS - timedelta(hours=24)
    await madrid.day.at(day_before)
    assert len(telegram_to(madrid.telegram, chat)) == 1
    await madrid.day.at(day_before.replace(hour=12))
    reminder = telegram_to(madrid.telegram, chat)[1]
    assert "on Monday, March 29, 2027 at 9:00 AM Madrid time (3:00 AM your time)" in reminder

    # The 2-hour reminder is due at 01:00 in New York: waiting for 08:00 would miss the
    # appointment (before: deferred, then expired unsent at 03:00). It goes at once.
    await madrid.day.at(STARTS - timedelta(hours=2))
    last = telegram_to(madrid.telegram, chat)[2]
    assert last.startswith("Reminder: you have an appointment on Monday, March 29, 2027 at 9:00")
    assert await _states(madrid.conn, appointment_id) == [
        ("appointment_confirmation", "sent"),
        ("appointment_reminder", "sent"),
        ("appointment_reminder", "sent"),
    ]


async def test_the_same_zone_or_the_same_offset_reads_as_before(madrid: ClinicDay) -> None:
    """A patient in Madrid, and one in Paris (another zone, the same wall clock then): one time,
    the text as it always was."""
    in_madrid, in_paris = 7_410_002, 7_410_003
    for chat, zone in ((in_madrid, "Europe/Madrid"), (in_paris, "Europe/Paris")):
        patient_id = await _patient(madrid, zone, "en", telegram=str(chat))
        await _book(madrid, patient_id, STARTS, BOOKED)
    for chat in (in_madrid, in_paris):
        (booked,) = telegram_to(madrid.telegram, chat)
        assert booked.startswith(
            "Your appointment is booked for Monday, March 29, 2027 at 9:00 AM, Clínica Sol.\n"
        ), booked


async def test_spanish_sms_in_the_weeks_the_offsets_differ_by_five_hours(
    madrid: ClinicDay,
) -> None:
    """In Spanish by SMS, when New York is 5 hours behind Madrid (the US moved its clocks on 14
    March 2027, the EU moves them on the 28th); then the clinic moves it past the patient's
    midnight: their own day is named too."""
    number = "+12125550171"
    patient_id = await _patient(madrid, "America/New_York", "es", sms=number)
    appointment_id = await _book(madrid, patient_id, DST_GAP_STARTS, DST_GAP_BOOKED)
    (booked,) = sms_to(madrid.twilio, number)
    assert booked.startswith(
        "Cita reservada: 17 mar 2027, 9:00 en Madrid (tu hora: 4:00), Clínica Sol. Responde 1"
    ), booked

    # 00:30 on Thursday in Madrid is 19:30 on Wednesday in New York.
    moved_to = datetime(2027, 3, 17, 23, 30, tzinfo=UTC)
    later = DST_GAP_BOOKED + timedelta(hours=1)
    madrid.day.clock.now = later
    moved = await madrid.web.patch(
        f"/api/v1/appointments/{appointment_id}",
        json={"starts_at": moved_to.isoformat()},
        headers=madrid.auth,
    )
    assert moved.status_code == 200, moved.text
    await madrid.day.at(later)
    notice = sms_to(madrid.twilio, number)[1]
    assert notice.startswith(
        "Tu cita en Clínica Sol ha cambiado al 18 mar 2027, 0:30 en Madrid"
        " (tu hora: 19:30 mié, 17 de marzo). Responde 1"
    ), notice


async def test_a_reminder_in_quiet_hours_goes_when_waiting_would_miss_the_appointment(
    madrid: ClinicDay,
) -> None:
    """The 2-hour reminder falls at 01:00 in New York, inside 21:00-08:00. Before, it was deferred
    to 08:00, expired at 03:00 (the appointment's start) and never sent. The 24-hour one, due at
    03:00 the day before, still waits for 08:00: 19 hours ahead is plenty."""
    number = "+12125550172"
    patient_id = await _patient(madrid, "America/New_York", "en", sms=number)
    appointment_id = await _book(madrid, patient_id, STARTS, BOOKED)
    await madrid.day.at(STARTS - timedelta(hours=24))
    await madrid.day.at(STARTS - timedelta(hours=12))
    await madrid.day.at(STARTS - timedelta(hours=2))
    rows = await madrid.conn.fetch(
        "select kind, status, sent_at, last_error from scheduled_messages"
        " where appointment_id = $1 and kind = 'appointment_reminder' order by sent_at",
        appointment_id,
    )
    assert [(r["status"], r["sent_at"]) for r in rows] == [
        ("sent", STARTS - timedelta(hours=12)),  # waited for 08:00 in New York
        ("sent", STARTS - timedelta(hours=2)),  # 01:00 in New York: at once
    ]
    assert len(sms_to(madrid.twilio, number)) == 3


async def test_a_wider_window_releases_a_held_reminder_it_would_hold_too_long(
    madrid: ClinicDay,
) -> None:
    """The patient's own window 21:00-08:30 holds the 2-hour reminder of a 10:00 appointment (New
    York; 16:00 in Madrid), due at 08:00, until 08:30. At 08:05 the clinic widens it to 09:30
    through the API: re-timed to 09:30 it would come half an hour before the appointment, so it
    is released and goes at once (before: held until 09:30)."""
    chat = 7_410_004
    patient = await factories.create_patient(
        madrid.conn,
        madrid.org["id"],
        timezone="America/New_York",
        contacts={"telegram": str(chat)},
        consent_at=BOOKED - timedelta(days=30),
        quiet_start=time(21, 0),
        quiet_end=time(8, 30),
    )
    starts = datetime(2027, 4, 5, 14, 0, tzinfo=UTC)  # 10:00 EDT, 16:00 CEST
    appointment_id = await _book(madrid, patient["id"], starts, BOOKED)
    await madrid.day.at(BOOKED + timedelta(minutes=30))  # the confirmation, at 08:30 there
    await madrid.day.at(starts - timedelta(hours=24))  # the 24-hour reminder
    assert len(telegram_to(madrid.telegram, chat)) == 2
    due = starts - timedelta(hours=2)
    await madrid.day.at(due)
    held = await madrid.conn.fetchrow(
        "select status, scheduled_time from scheduled_messages where appointment_id = $1"
        " and kind = 'appointment_reminder' and payload->>'offset_minutes' = '120'",
        appointment_id,
    )
    assert (held["status"], held["scheduled_time"]) == ("pending", due + timedelta(minutes=30))

    madrid.day.clock.now = due + timedelta(minutes=5)
    changed = await madrid.web.patch(
        f"/api/v1/patients/{patient['id']}",
        json={"quiet_start": "21:00", "quiet_end": "09:30"},
        headers=madrid.auth,
    )
    assert changed.status_code == 200, changed.text
    await madrid.day.at(due + timedelta(minutes=5))
    sent = telegram_to(madrid.telegram, chat)
    assert len(sent) == 3
    reminder = sent[-1]
    assert reminder.startswith(
        "Reminder: you have an appointment on Monday, April 5, 2027 at 4:00 PM Madrid time"
        " (10:00 AM your time), "
    ), reminder


async def test_a_freed_slot_offered_to_a_new_york_patient_names_both_times(
    madrid: ClinicDay,
) -> None:
    """A Madrid patient cancels the 09:00 visit; the slot is offered to the clinic's waitlist,
    where a patient in New York waits: the offer names Madrid's time and theirs (before: "Monday
    29 March, 03:00", with nothing to say it was not 03:00 in Madrid)."""
    cancelling = await _patient(madrid, "Europe/Madrid", "en", telegram="7410005")
    chat = 7_410_006
    waiting = await _patient(madrid, "America/New_York", "en", telegram=str(chat))
    madrid.day.clock.now = BOOKED
    joined = await madrid.web.post(
        "/api/v1/waitlist", json={"patient_id": str(waiting)}, headers=madrid.auth
    )
    assert joined.status_code == 201, joined.text
    appointment_id = await _book(madrid, cancelling, STARTS, BOOKED)
    cancelled = await madrid.web.post(
        f"/api/v1/appointments/{appointment_id}/cancel", headers=madrid.auth
    )
    assert cancelled.status_code == 200, cancelled.text
    await madrid.day.at(BOOKED)
    (offer,) = telegram_to(madrid.telegram, chat)
    assert offer.startswith(
        "Clínica Sol: an earlier appointment is free on Monday 29 March, 09:00 Madrid time"
        " (03:00 your time). Would you like it?"
    ), offer


async def test_the_dashboards_preview_says_it_as_the_send_will(madrid: ClinicDay) -> None:
    """``POST /api/v1/templates/preview`` (the patient page's next message) renders an
    appointment reminder for a patient in New York with the clinic's zone, as the worker does."""
    preview = await madrid.web.post(
        "/api/v1/templates/preview",
        headers=madrid.auth,
        json={
            "kind": "appointment_reminder",
            "locale": "en",
            "channel": "sms",
            "timezone": "America/New_York",
            "values": {"clinic_name": "Clínica Sol", "starts_at": STARTS.isoformat()},
        },
    )
    assert preview.status_code == 200, preview.text
    assert preview.json()["text"].startswith(
        "Reminder: appointment Mar 29, 2027, 9:00 AM Madrid time (3:00 AM your time), Clínica Sol."
    ), preview.text
