"""A clinic's own reminder and caregiver-alert texts can say which dose: ``medicine_number``.

The built-in texts of a patient with several medicines say "of medicine 2" (its /meds number);
a clinic's own text could not (an unknown variable, refused when saved), so two of its reminders
due at once read alike. Saved through ``PUT /api/v1/templates/{name}`` as the clinic's automatic
text (templates are data: checked, never run as code), the planner's rows rendered by the
worker's dispatcher and sent to the loopback Twilio. Quiet hours are set explicitly (02:00-03:00).
"""

from __future__ import annotations

from datetime import time, timedelta

import asyncpg
import httpx

from core.db import Database
from core.settings import Settings
from scheduler.planner import replan_patient, run_planner_tick
from tests import factories
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import START, Clock, worker

PATIENT = "+14155550170"
CAREGIVER = "+14155550171"
REMINDER = (
    "{{ patient_name }}: your {{ due_at|time }} dose"
    "{% if medicine_number %} of medicine {{ medicine_number }}{% endif %} is due."
)
ALERT = (
    "{{ patient_name }} missed the {{ due_at|time }} dose"
    "{% if medicine_number %} of medicine {{ medicine_number }}{% endif %}."
)


async def test_a_clinics_own_texts_say_which_dose_by_its_number(
    web: httpx.AsyncClient,
    auth: dict[str, str],
    db: Database,
    senders: dict,
    chat_clock: Clock,
    web_settings: Settings,
    admin_conn: asyncpg.Connection,
    org: asyncpg.Record,
    fake_twilio: FakeTwilio,
) -> None:
    for name, kind, body in (
        ("dose-text", "medication_reminder", REMINDER),
        ("missed-text", "missed_dose_caregiver", ALERT),
    ):
        saved = await web.put(
            f"/api/v1/templates/{name}",
            headers=auth,
            json={"kind": kind, "locale": "en", "channel": "sms", "body": body, "automatic": True},
        )
        assert saved.status_code == 201, saved.text
    # The dashboard's preview of the patient's next reminder says it as the send will.
    preview = await web.post(
        "/api/v1/templates/preview",
        headers=auth,
        json={
            "kind": "medication_reminder",
            "locale": "en",
            "channel": "sms",
            "values": {"patient_name": "Ana", "due_at": "2026-03-04T12:00:00+00:00",
                       "medicine_number": 2},
            "versions": [{"name": "dose-text", "locale": "en", "channel": "sms", "body": REMINDER}],
        },
    )  # fmt: skip
    assert preview.status_code == 200, preview.text
    assert (
        preview.json()["text"]
        .replace("\u202f", " ")
        .startswith("Ana: your 12:00 PM dose of medicine 2 is due.")
    )
    # Not for a kind that has no dose: still refused, naming the variable.
    refused = await web.put(
        "/api/v1/templates/visit-text",
        headers=auth,
        json={"kind": "appointment_reminder", "locale": "en", "channel": "sms",
              "body": "Medicine {{ medicine_number }}", "automatic": True},
    )  # fmt: skip
    assert refused.status_code == 422 and "medicine_number" in refused.text

    await admin_conn.execute(
        "update organizations set default_quiet_start = $2, default_quiet_end = $3 where id = $1",
        org["id"],
        time(2, 0),
        time(3, 0),
    )
    patient = await factories.create_patient(
        admin_conn,
        org["id"],
        contacts={"sms": PATIENT},
        display_name="Ana",
        nag_max=0,
        quiet_start=time(2, 0),
        quiet_end=time(3, 0),
    )
    await admin_conn.execute(
        "insert into caregivers (patient_id, name, channel, address, alert_delay_minutes)"
        " values ($1, 'Luz', 'sms', $2, 0)",
        patient["id"],
        CAREGIVER,
    )
    for name in ("Metformin", "Lisinopril"):
        await factories.create_medication(admin_conn, patient["id"], name=name, times=(time(12),))
    await replan_patient(admin_conn, patient["id"], START)

    chat_clock.now = START + timedelta(minutes=10)
    assert await worker(db, senders, chat_clock).run_once() == 2
    reminders = sorted((m.body or "").split("\n")[0] for m in fake_twilio.messages)
    assert [r.replace("\u202f", " ") for r in reminders] == [
        "Ana: your 12:00 PM dose of medicine 1 is due.",
        "Ana: your 12:00 PM dose of medicine 2 is due.",
    ]
    # Nobody answers: both doses are missed and the caregiver's alerts say which.
    assert db.pool is not None
    chat_clock.now += timedelta(minutes=16)
    await run_planner_tick(db.pool, chat_clock.now, web_settings)
    assert await worker(db, senders, chat_clock).run_once() == 2
    alerts = sorted(
        (m.body or "").replace("\u202f", " ") for m in fake_twilio.messages if m.to == CAREGIVER
    )
    assert alerts == [
        "Ana missed the 12:00 PM dose of medicine 1.",
        "Ana missed the 12:00 PM dose of medicine 2.",
    ]
    # A patient with one medicine: the clinic's text reads without a number.
    single = await factories.create_patient(
        admin_conn,
        org["id"],
        contacts={"sms": "+14155550172"},
        display_name="Tom",
        quiet_start=time(2, 0),
        quiet_end=time(3, 0),
    )
    await factories.create_medication(admin_conn, single["id"], times=(time(13),))
    await replan_patient(admin_conn, single["id"], chat_clock.now)
    chat_clock.now = START + timedelta(hours=1, minutes=10)
    await worker(db, senders, chat_clock).run_once()
    tom = [m.body or "" for m in fake_twilio.messages if m.to == "+14155550172"]
    assert [t.split("\n")[0].replace("\u202f", " ") for t in tom] == [
        "Tom: your 1:00 PM dose is due."
    ]
