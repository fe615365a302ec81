"""A patient brought back by the clinic, not the bot: a dose missed while no channel reached them
alerts nobody (docs/preferences.md "When no channel can reach the patient").

The bot's own returns (START, a message after unblocking) first run the planner's pass the spell
would have had (2f35edd, tests/bot/test_unreachable_return.py). A clinic that gives the patient
a channel back through the API (PATCH /api/v1/patients/{id} with a channel order that includes
their SMS number) did not: reminded at 12:00 on Telegram, the patient blocks the bot (the 12:15
follow-up's 403), the dose's missed mark (12:30) passes with no planner pass, and at 13:00 the
clinic adds SMS to the channel order. The next pass found a reachable patient with a dose past
its mark and alerted the caregiver "Ana has not confirmed ..." about a dose missed while
reminders could not reach her.

The web app, the planner and the worker's dispatcher at one injected clock, through the real
adapters to the loopback Telegram (which answers 403 once the chat blocked the bot) and Twilio.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from tests import factories
from tests.web.chat import START
from tests.web.worker_day import ClinicDay, sms_caregiver, sms_to

PATIENT_CHAT = 7_300_161
PATIENT_PHONE = "+14155550160"
LUCIA = "+14155550162"
NOON = START + timedelta(minutes=10)


async def test_a_dose_missed_while_unreachable_alerts_nobody_when_the_clinic_brings_them_back(
    clinic: ClinicDay,
) -> None:
    patient = await factories.create_patient(
        clinic.conn,
        clinic.org["id"],
        contacts={"telegram": str(PATIENT_CHAT), "sms": PATIENT_PHONE},
        channel_order=["telegram"],
        display_name="Ana",
        nag_max=1,
        nag_interval_minutes=15,
        quiet_start=time(2, 0),
        quiet_end=time(3, 0),
    )
    pid = patient["id"]
    # Reached before (linked: migration 20260101013800).
    await factories.create_message(
        clinic.conn,
        pid,
        organization_id=clinic.org["id"],
        status="sent",
        sent_at=START - timedelta(days=1),
        scheduled_time=START - timedelta(days=1),
    )
    await sms_caregiver(clinic.conn, pid, "Lucía", LUCIA)
    await factories.create_medication(clinic.conn, pid, times=(time(12, 0),))
    await clinic.day.at(START)
    await clinic.day.at(NOON)  # reminded on Telegram
    clinic.telegram.block_chat(PATIENT_CHAT)
    await clinic.day.at(NOON + timedelta(minutes=15))  # the follow-up's 403: no channel reaches Ana
    state = "select unreachable_since is not null from patients where id = $1"
    assert await clinic.conn.fetchval(state, pid)

    # 13:00, no planner pass since 12:15 (the mark was 12:30): the clinic adds her SMS number.
    clinic.day.clock.now = NOON + timedelta(hours=1)
    changed = await clinic.web.patch(
        f"/api/v1/patients/{pid}", json={"channel_order": ["telegram", "sms"]}, headers=clinic.auth
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["unreachable_since"] is None  # back, and the answer says so
    await clinic.day.at(NOON + timedelta(hours=1, minutes=1))
    await clinic.day.at(NOON + timedelta(hours=1, minutes=2))

    dose = await clinic.conn.fetchval(
        "select status from dose_events where patient_id = $1 and due_at = $2",
        pid,
        datetime.combine(NOON.date(), time(12, 0), tzinfo=NOON.tzinfo),
    )
    assert dose == "missed"
    alerts = await clinic.conn.fetch(
        "select template, status from scheduled_messages"
        " where patient_id = $1 and kind = 'missed_dose_caregiver'",
        pid,
    )
    assert [tuple(a) for a in alerts] == [], alerts
    assert sms_to(clinic.twilio, LUCIA) == []
