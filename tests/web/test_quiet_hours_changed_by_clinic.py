"""A message held back by quiet hours is judged again when the clinic changes the window through
the API: the patient's own (``PATCH /api/v1/patients/{id}``) or the clinic's default
(``PATCH /api/v1/clinic``). Before, it waited for the old window's end.

The web app, the planner and the worker's dispatcher at one injected clock, through the real
adapters to the loopback Telegram and Twilio. Patients live in UTC; 22:00 is inside 21:00-08:00.
"""

from __future__ import annotations

from datetime import time, timedelta
from uuid import UUID

import asyncpg

from tests import factories
from tests.integration.clinician import as_clinician
from tests.web.chat import START
from tests.web.worker_day import ClinicDay, sms_caregiver, sms_to, telegram_to

EVENING = START.replace(hour=22, minute=0)
NEXT_MORNING = EVENING.replace(hour=8) + timedelta(days=1)
DEFERRED = "deferred to the end of quiet hours"
TEXT = "Your lab results are in: call us when you can"


async def _patient(clinic: ClinicDay, chat: int, **fields: object) -> UUID:
    patient = await factories.create_patient(
        clinic.conn, clinic.org["id"], timezone="UTC", contacts={"telegram": str(chat)}, **fields
    )
    patient_id: UUID = patient["id"]
    return patient_id


async def _message(clinic: ClinicDay, patient_id: UUID, **fields: object) -> UUID:
    values: dict[str, object] = {"message_content": TEXT, "scheduled_time": EVENING} | fields
    row = await factories.create_message(
        clinic.conn, patient_id, organization_id=clinic.org["id"], **values
    )
    message_id: UUID = row["id"]
    return message_id


async def _caregiver_alert(clinic: ClinicDay, patient_id: UUID, number: str) -> tuple[UUID, UUID]:
    """An SMS caregiver of the patient and a missed-dose alert to them due at 22:00, as the
    planner writes one: the caregiver's id and the alert's."""
    caregiver = await sms_caregiver(clinic.conn, patient_id, "Lucía", number)
    alert = await _message(
        clinic,
        patient_id,
        kind="missed_dose_caregiver",
        caregiver_id=caregiver,
        platform="sms",
        allow_fallback=False,
        message_content=None,
        payload={"due_at": (EVENING - timedelta(hours=1)).isoformat()},
    )
    return caregiver, alert


async def _state(conn: asyncpg.Connection, message_id: UUID) -> tuple[str, object, str | None]:
    row = await conn.fetchrow(
        "select status, scheduled_time, last_error from scheduled_messages where id = $1",
        message_id,
    )
    return row["status"], row["scheduled_time"], row["last_error"]


async def test_the_patients_window_changed_through_the_api(clinic: ClinicDay) -> None:
    chat = 7_300_401
    patient_id = await _patient(clinic, chat, quiet_start=time(21, 0), quiet_end=time(8, 0))
    message_id = await _message(clinic, patient_id)
    await clinic.day.at(EVENING)
    assert await _state(clinic.conn, message_id) == ("pending", NEXT_MORNING, DEFERRED)

    clinic.day.clock.now = EVENING + timedelta(minutes=10)
    changed = await clinic.web.patch(
        f"/api/v1/patients/{patient_id}",
        json={"quiet_start": "23:00", "quiet_end": "07:00"},
        headers=clinic.auth,
    )
    assert changed.status_code == 200, changed.text
    await clinic.day.at(EVENING + timedelta(minutes=10))

    assert (await _state(clinic.conn, message_id))[0] == "sent"
    assert telegram_to(clinic.telegram, chat) == [TEXT]


async def test_the_clinics_default_window_changed_through_the_api(clinic: ClinicDay) -> None:
    """The clinic turns its default window off: its patients who have no window of their own,
    and the caregivers, get what waited for it; a patient's own window still holds theirs."""
    await clinic.conn.execute(
        "update organizations set default_quiet_start = '21:00', default_quiet_end = '08:00'"
        " where id = $1",
        clinic.org["id"],
    )
    by_default, own = 7_300_402, 7_300_403
    default_id = await _patient(clinic, by_default)
    own_id = await _patient(clinic, own, quiet_start=time(21, 0), quiet_end=time(8, 0))
    lucia = "+14155550410"
    to_default = await _message(clinic, default_id)
    to_own = await _message(clinic, own_id)
    _, alert = await _caregiver_alert(clinic, own_id, lucia)
    await clinic.day.at(EVENING)
    for message_id in (to_default, to_own, alert):
        assert await _state(clinic.conn, message_id) == ("pending", NEXT_MORNING, DEFERRED)

    clinic.day.clock.now = EVENING + timedelta(minutes=10)
    changed = await clinic.web.patch(
        "/api/v1/clinic",
        json={"default_quiet_start": "00:00", "default_quiet_end": "00:00"},
        headers=clinic.auth,
    )
    assert changed.status_code == 200, changed.text
    await clinic.day.at(EVENING + timedelta(minutes=10))

    assert (await _state(clinic.conn, to_default))[0] == "sent"
    assert (await _state(clinic.conn, alert))[0] == "sent"
    assert telegram_to(clinic.telegram, by_default) == [TEXT]
    (alerted,) = sms_to(clinic.twilio, lucia)
    assert "has not confirmed a scheduled reminder from 9:00 PM" in alerted
    assert await _state(clinic.conn, to_own) == ("pending", NEXT_MORNING, DEFERRED)
    assert telegram_to(clinic.telegram, own) == []


async def test_the_clinics_default_window_changed_on_the_dashboard(clinic: ClinicDay) -> None:
    """The dashboard's Settings page writes the clinic's row directly (as the clinician, role
    authenticated: dashboard/src/app/(app)/settings/actions.ts). The planner's next pass re-times
    what waited for the old window: here a 22:00-06:00 window at 22:10 (it waits for 06:00), then
    none (it goes)."""
    chat = 7_300_404
    patient_id = await _patient(clinic, chat)
    message_id = await _message(clinic, patient_id)
    await clinic.day.at(EVENING)
    assert await _state(clinic.conn, message_id) == ("pending", NEXT_MORNING, DEFERRED)
    admin = await factories.create_clinician(clinic.conn, clinic.org["id"], role="admin")

    async def dashboard_saves(start: str, end: str) -> None:
        async with as_clinician(clinic.conn, admin["id"]) as conn:
            await conn.execute(
                "update organizations set default_quiet_start = $1::text::time,"
                " default_quiet_end = $2::text::time where id = public.current_organization_id()",
                start,
                end,
            )

    await dashboard_saves("22:00", "06:00")
    await clinic.day.at(EVENING + timedelta(minutes=10))
    six = NEXT_MORNING - timedelta(hours=2)
    assert await _state(clinic.conn, message_id) == ("pending", six, DEFERRED)

    await dashboard_saves("00:00", "00:00")
    await clinic.day.at(EVENING + timedelta(minutes=11))  # the pass re-times it, then the send
    await clinic.day.at(EVENING + timedelta(minutes=11))
    assert (await _state(clinic.conn, message_id))[0] == "sent"
    assert telegram_to(clinic.telegram, chat) == [TEXT]
    # Each note is read by every pass until a claim made before it can no longer record its
    # deferral (twice the lease, by the database's clock), then dropped.
    assert await clinic.conn.fetchval("select count(*) from quiet_window_changes") == 2
    await clinic.conn.execute("update quiet_window_changes set noted_at = now() - interval '1 h'")
    await clinic.day.at(EVENING + timedelta(minutes=12))
    assert await clinic.conn.fetchval("select count(*) from quiet_window_changes") == 0


async def test_a_caregivers_zone_changed_by_hand(clinic: ClinicDay) -> None:
    """A caregiver's time zone written by hand (Supabase): their alert, deferred to 08:00 in
    their old zone, follows the new one at the planner's next pass (Chicago: 16:10, it goes)."""
    own_id = await _patient(clinic, 7_300_405, quiet_start=time(21, 0), quiet_end=time(8, 0))
    lucia = "+14155550411"
    caregiver, alert = await _caregiver_alert(clinic, own_id, lucia)
    await clinic.day.at(EVENING)
    assert await _state(clinic.conn, alert) == ("pending", NEXT_MORNING, DEFERRED)

    await clinic.conn.execute(
        "update caregivers set timezone = 'America/Chicago' where id = $1", caregiver
    )
    await clinic.day.at(EVENING + timedelta(minutes=10))
    await clinic.day.at(EVENING + timedelta(minutes=10))
    assert (await _state(clinic.conn, alert))[0] == "sent"
    assert len(sms_to(clinic.twilio, lucia)) == 1
