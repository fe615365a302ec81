"""A caregiver told that a dose was missed is told when the patient then takes it late.

Driven as the product runs (the harness of test_caregiver_opt_out and
test_planned_caregiver_alerts): the planner marks Ana's noon dose missed at 12:16, her caregivers
Lucía (SMS) and Ben (Telegram) are alerted at once; Ana answers Taken over SMS to the web
process's signed webhook at 12:40; the worker's dispatcher sends through the real adapters to
the loopback Twilio and Telegram. One clock drives everything, so the tests pass at any hour.
"""

from __future__ import annotations

import asyncio
from datetime import time, timedelta

from core.answer_buttons import dose_data
from tests import factories
from tests.web.chat import START, telegram_press, twilio_inbound
from tests.web.test_caregiver_opt_out import (
    CAREGIVER_CHAT,
    CAREGIVER_SMS,
    PATIENT,
    QUIET,
    _setup,
)
from tests.web.worker_day import ClinicDay, sms_caregiver, sms_to, telegram_to

NOON = START + timedelta(minutes=10)
MISSED = NOON + timedelta(minutes=16)  # missed at 12:15, the alerts planned at once
ALERTED = MISSED + timedelta(minutes=1)
ANSWERED = NOON + timedelta(minutes=40)  # 12:40, Ana's late Taken

ALERT = "Ana has not confirmed"
UPDATE = "Update: Ana has now"
PATIENT_CHAT = 7_300_186  # Ana's own Telegram chat, in the test below that has her there


async def _answer_taken(clinic: ClinicDay) -> None:
    """Ana answers Taken (1, the reminder's first option) over SMS at 12:40."""
    clinic.day.clock.now = ANSWERED
    await twilio_inbound(clinic.web, PATIENT, "1")
    reply = clinic.twilio.messages[-1].body or ""
    assert "Taken" in reply, reply


def _updates(texts: list[str]) -> list[str]:
    return [t for t in texts if UPDATE in t]


async def test_a_late_taken_after_the_alert_went_out_updates_each_caregiver_once(
    clinic: ClinicDay,
) -> None:
    """Both caregivers read "not confirmed" at 12:17; Ana answers Taken at 12:40: each gets one
    update naming the answer's time in Ana's zone, on their own channel; Lucía, who may be told
    the medicine, reads its name, Ben (no share_details) does not. Ana's second Taken and later
    worker passes send nothing more."""
    patient, caregivers = await _setup(clinic.conn, clinic.org["id"])
    await clinic.conn.execute(
        "update caregivers set share_details = true where id = $1", caregivers["Lucía"]
    )
    for instant in (START, NOON, MISSED, ALERTED):
        await clinic.day.at(instant)
    assert [ALERT in t for t in sms_to(clinic.twilio, CAREGIVER_SMS)] == [True]
    assert [ALERT in t for t in telegram_to(clinic.telegram, CAREGIVER_CHAT)] == [True]

    await _answer_taken(clinic)
    await clinic.day.at(ANSWERED + timedelta(minutes=1))
    assert _updates(sms_to(clinic.twilio, CAREGIVER_SMS)) == [
        "Hi Lucía. Update: Ana has now taken the 12:00 PM dose of Metformin (answered at 12:40 PM)."
    ]
    assert _updates(telegram_to(clinic.telegram, CAREGIVER_CHAT)) == [
        "Hi Ben. Update: Ana has now confirmed the scheduled reminder from 12:00 PM"
        " (answered at 12:40 PM)."
    ]

    # Answered again (a second press, a retried webhook): nothing more for the caregivers.
    clinic.day.clock.now = ANSWERED + timedelta(minutes=5)
    await twilio_inbound(clinic.web, PATIENT, "1")
    for minutes in (6, 30, 120):
        await clinic.day.at(ANSWERED + timedelta(minutes=minutes))
    assert len(_updates(sms_to(clinic.twilio, CAREGIVER_SMS))) == 1
    assert len(_updates(telegram_to(clinic.telegram, CAREGIVER_CHAT))) == 1
    rows = await clinic.conn.fetch(
        "select status from scheduled_messages where patient_id = $1"
        " and kind = 'caregiver_dose_update'",
        patient,
    )
    assert [r["status"] for r in rows] == ["sent", "sent"]


async def test_no_update_when_the_alert_never_went_out(clinic: ClinicDay) -> None:
    """Lucía's alert waits for her 30 minutes' delay, Ben's for a block of his chat: Ana's Taken
    at 12:40 withdraws the waiting alert, and nobody is told of a miss, nor of its correction."""
    patient, caregivers = await _setup(clinic.conn, clinic.org["id"])
    await clinic.conn.execute(
        "update caregivers set alert_delay_minutes = 60 where id = any($1::uuid[])",
        list(caregivers.values()),
    )
    for instant in (START, NOON, MISSED, ALERTED):
        await clinic.day.at(instant)
    await _answer_taken(clinic)
    for minutes in (1, 60, 120):
        await clinic.day.at(ANSWERED + timedelta(minutes=minutes))
    assert sms_to(clinic.twilio, CAREGIVER_SMS) == []
    assert telegram_to(clinic.telegram, CAREGIVER_CHAT) == []
    assert (
        await clinic.conn.fetchval(
            "select count(*) from scheduled_messages where patient_id = $1"
            " and kind = 'caregiver_dose_update'",
            patient,
        )
        == 0
    )


async def test_a_caregiver_who_opted_out_since_the_alert_gets_no_update(
    clinic: ClinicDay,
) -> None:
    """Lucía texts STOP after her alert: Ana's late Taken updates Ben only."""
    await _setup(clinic.conn, clinic.org["id"])
    for instant in (START, NOON, MISSED, ALERTED):
        await clinic.day.at(instant)
    clinic.day.clock.now = ALERTED + timedelta(minutes=5)
    await twilio_inbound(clinic.web, CAREGIVER_SMS, "STOP")
    await _answer_taken(clinic)
    await clinic.day.at(ANSWERED + timedelta(minutes=1))
    assert _updates(sms_to(clinic.twilio, CAREGIVER_SMS)) == []
    assert len(_updates(telegram_to(clinic.telegram, CAREGIVER_CHAT))) == 1


async def test_a_pause_right_after_the_answer_does_not_hold_the_update(
    clinic: ClinicDay,
) -> None:
    """Ana answers Taken, then /pause: the update still goes (a pause holds reminders and
    alerts; this corrects an alert already read, and "missed" alone may bring a second pill)."""
    await _setup(clinic.conn, clinic.org["id"])
    for instant in (START, NOON, MISSED, ALERTED):
        await clinic.day.at(instant)
    await _answer_taken(clinic)
    await twilio_inbound(clinic.web, PATIENT, "/pause")
    await clinic.day.at(ANSWERED + timedelta(minutes=1))
    assert len(_updates(sms_to(clinic.twilio, CAREGIVER_SMS))) == 1
    assert len(_updates(telegram_to(clinic.telegram, CAREGIVER_CHAT))) == 1


async def test_a_late_taken_pressed_on_telegram_updates_the_caregiver(clinic: ClinicDay) -> None:
    """Ana on Telegram presses Taken on her noon reminder at 12:40 (a button's path through the
    webhook, not an SMS reply's): Lucía, alerted at 12:17, gets the update."""
    patient = await factories.create_patient(
        clinic.conn,
        clinic.org["id"],
        contacts={"telegram": str(PATIENT_CHAT)},
        display_name="Ana",
        nag_max=0,
        **QUIET,
    )
    await sms_caregiver(clinic.conn, patient["id"], "Lucía", CAREGIVER_SMS)
    await factories.create_medication(clinic.conn, patient["id"], times=(time(12, 0),))
    for instant in (START, NOON, MISSED, ALERTED):
        await clinic.day.at(instant)
    dose = await clinic.conn.fetchval(
        "select id from dose_events where patient_id = $1 and status = 'missed'", patient["id"]
    )
    clinic.day.clock.now = ANSWERED
    await telegram_press(clinic.web, PATIENT_CHAT, dose_data(dose, "t"))
    await clinic.day.at(ANSWERED + timedelta(minutes=1))
    assert sms_to(clinic.twilio, CAREGIVER_SMS)[1:] == [
        "Hi Lucía. Update: Ana has now confirmed the scheduled reminder from 12:00 PM"
        " (answered at 12:40 PM)."
    ]


async def test_the_update_speaks_the_patients_language_and_time(clinic: ClinicDay) -> None:
    """Ana speaks Spanish and lives in Kolkata (UTC+5:30, no DST): her caregiver's update is in
    her language, as the alert was, with both times on Ana's clock, not the server's (her 17:30
    dose, answered at 18:10: 12:00 and 12:40 UTC), in GSM-7 letters on SMS."""
    patient, _ = await _setup(clinic.conn, clinic.org["id"], medicines=())
    await clinic.conn.execute(
        "update patients set locale = 'es', timezone = 'Asia/Kolkata' where id = $1", patient
    )
    await factories.create_medication(
        clinic.conn, patient, name="Metformina", times=(time(17, 30),)
    )
    for instant in (START, NOON, MISSED, ALERTED):
        await clinic.day.at(instant)
    assert sms_to(clinic.twilio, CAREGIVER_SMS) == [
        "Hola, Lucía. Ana no ha confirmado un recordatorio programado de las 17:30."
        " Quiza quieras comunicarte con esa persona."
    ]
    clinic.day.clock.now = ANSWERED
    await twilio_inbound(clinic.web, PATIENT, "1")
    await clinic.day.at(ANSWERED + timedelta(minutes=1))
    assert sms_to(clinic.twilio, CAREGIVER_SMS)[1:] == [
        "Hola, Lucía. Actualizacion: Ana ya confirmo el recordatorio programado de las 17:30"
        " (respondio a las 18:10)."
    ]


CLINIC_UPDATE = (
    "{{ patient_name }} took the {{ due_at|time }} dose after all ({{ answered_at|time }})."
)


async def test_a_clinics_own_update_text_is_saved_previewed_and_sent(clinic: ClinicDay) -> None:
    """The clinic's automatic text for the update (PUT /api/v1/templates, checked as data),
    previewed as the dashboard does, is the one Lucía's SMS carries."""
    saved = await clinic.web.put(
        "/api/v1/templates/update-text",
        headers=clinic.auth,
        json={"kind": "caregiver_dose_update", "locale": "en", "channel": "sms",
              "body": CLINIC_UPDATE, "automatic": True},
    )  # fmt: skip
    assert saved.status_code == 201, saved.text
    preview = await clinic.web.post(
        "/api/v1/templates/preview",
        headers=clinic.auth,
        json={
            "kind": "caregiver_dose_update",
            "locale": "en",
            "channel": "sms",
            "values": {"patient_name": "Ana", "due_at": "2026-03-04T12:00:00+00:00"},
            "versions": [
                {"name": "update-text", "locale": "en", "channel": "sms", "body": CLINIC_UPDATE}
            ],
        },
    )
    assert preview.status_code == 200, preview.text
    assert (
        preview.json()["text"]
        .replace("\u202f", " ")
        .startswith("Ana took the 12:00 PM dose after all (12:00 PM).")
    )

    await _setup(clinic.conn, clinic.org["id"])
    for instant in (START, NOON, MISSED, ALERTED):
        await clinic.day.at(instant)
    await _answer_taken(clinic)
    await clinic.day.at(ANSWERED + timedelta(minutes=1))
    assert sms_to(clinic.twilio, CAREGIVER_SMS)[1:] == [
        "Ana took the 12:00 PM dose after all (12:40 PM)."
    ]


async def test_an_alert_under_way_when_the_dose_is_taken_is_followed_by_the_update(
    clinic: ClinicDay,
) -> None:
    """Ben's alert is at Telegram (sent, not yet answered) when Ana answers Taken: the answer
    finds it neither pending (to withdraw) nor sent (to correct). Once it is recorded sent, Ben
    gets the update all the same, once; Lucía's alert had gone out before and hers follows too."""
    await _setup(clinic.conn, clinic.org["id"])
    for instant in (START, NOON):
        await clinic.day.at(instant)
    clinic.telegram.hold_next(method="sendMessage", chat_id=CAREGIVER_CHAT)
    alerting = asyncio.create_task(clinic.day.at(MISSED))  # missed, the alerts sent at once
    await clinic.telegram.wait_for_held()
    await _answer_taken(clinic)  # while Ben's alert is under way
    clinic.telegram.release_held(200)
    await alerting
    assert [ALERT in t for t in telegram_to(clinic.telegram, CAREGIVER_CHAT)] == [True]
    for minutes in (1, 30):
        await clinic.day.at(ANSWERED + timedelta(minutes=minutes))
    assert _updates(telegram_to(clinic.telegram, CAREGIVER_CHAT)) == [
        "Hi Ben. Update: Ana has now confirmed the scheduled reminder from 12:00 PM"
        " (answered at 12:40 PM)."
    ]
    assert len(_updates(sms_to(clinic.twilio, CAREGIVER_SMS))) == 1
