"""On the night clocks spring forward, a dose set at a time that does not exist that night is
named by the time the patient set, not by the instant it fires.

Found in `medremind dev` at 2027-03-14 in New York (tests/clock/run_at.py): a 2:30 AM dose
(clocks go from 2:00 to 3:00 that night) fires at 3:00, as planned (scheduler/recurrence.py),
but its reminder said "Time for your 3:00 AM dose.", /today listed "3:00 AM", and so did the
follow-up, the caregiver's alert and the answer's confirmation: a dose the patient never set.
Every one of them now says "2:30 AM" (core/dose_times.py). The day after, 2:30 exists and is
named as always.

Driven as the product runs, one injected clock: the worker's planner tick and dispatcher
sending through the real adapters to the loopback Telegram and Twilio, the patient's /today
and Taken through the web app's Telegram webhook (the button's one-statement turn leaves such a
dose to the general turn, migration 20260101015750). The dashboard's preview of the next
message (``POST /api/v1/templates/preview``) named it "3:00 AM" still: it now takes the set day
and time, as the dispatcher does.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import asyncpg
import httpx

from core.answer_buttons import dose_data
from tests import factories
from tests.fakes.fake_telegram import FakeTelegram
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import telegram_press, telegram_text
from tests.web.worker_day import Day, sms_caregiver, sms_to, telegram_to

CHAT = 7_400_330
ROSA = "+14155550333"
# Sunday, March 8 2026 in New York: 2:00 EST becomes 3:00 EDT (07:00 UTC).
GAP_END = datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
# Quiet hours at noon, away from the night's doses, nags and alerts.
AWAY = {"quiet_start": time(12, 0), "quiet_end": time(13, 0)}
CLINIC_TEXT = "Your {{ due_at|time }} dose is due."


async def test_a_dose_the_clocks_sprang_over_keeps_its_name(
    web: httpx.AsyncClient,
    day: Day,
    admin_conn: asyncpg.Connection,
    fake_telegram: FakeTelegram,
    fake_twilio: FakeTwilio,
) -> None:
    org = await factories.create_organization(
        admin_conn, default_quiet_start=time(12, 0), default_quiet_end=time(13, 0)
    )
    patient = await factories.create_patient(
        admin_conn,
        org["id"],
        contacts={"telegram": str(CHAT)},
        display_name="Ana",
        timezone="America/New_York",
        nag_max=1,
        **AWAY,
    )
    await factories.create_medication(admin_conn, patient["id"], times=(time(2, 30),))
    await sms_caregiver(admin_conn, patient["id"], "Rosa", ROSA)

    await day.at(GAP_END - timedelta(hours=2))  # planned ahead at 0:00 EST
    dose = await admin_conn.fetchrow(
        "select id, due_at, local_time from dose_events where local_date = '2026-03-08'"
    )
    assert (dose["due_at"], dose["local_time"]) == (GAP_END, time(2, 30))  # fires at 3:00 EDT

    await day.at(GAP_END)
    assert telegram_to(fake_telegram, CHAT)[-1] == "Hi Ana. Time for your 2:30 AM dose."
    await telegram_text(web, CHAT, "/today")
    assert "2:30 AM" in telegram_to(fake_telegram, CHAT)[-1]
    assert "3:00 AM" not in telegram_to(fake_telegram, CHAT)[-1]

    await day.at(GAP_END + timedelta(minutes=15))
    assert telegram_to(fake_telegram, CHAT)[-1].startswith("Did you take your 2:30 AM dose?")
    await day.at(GAP_END + timedelta(minutes=31))  # missed: Rosa's alert planned
    await day.at(GAP_END + timedelta(minutes=32))
    (alert,) = sms_to(fake_twilio, ROSA)
    assert "from 2:30 AM." in alert and "3:00" not in alert, alert

    sent = len(fake_telegram.calls)
    await telegram_press(web, CHAT, dose_data(dose["id"], "t"))
    said = [c.text or "" for c in fake_telegram.calls[sent:] if c.text and c.chat_id == CHAT]
    assert any("your 2:30 AM dose" in text for text in said), said

    # The next night 2:30 exists: named and fired at 2:30 EDT, as always.
    await day.at(datetime(2026, 3, 9, 6, 30, tzinfo=UTC))
    assert telegram_to(fake_telegram, CHAT)[-1] == "Hi Ana. Time for your 2:30 AM dose."


async def test_the_dashboards_preview_names_it_by_its_set_time(
    web: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    """``POST /api/v1/templates/preview`` (the patient page's next message) takes the set day and
    time from the row's payload, as the dispatcher reads them: "2:30 AM", built-in or the
    clinic's text. Without them the dose is named by its instant, as before."""
    reminder = {
        "kind": "medication_reminder",
        "locale": "en",
        "channel": "telegram",
        "timezone": "America/New_York",
    }
    values = {"patient_name": "Ana", "due_at": GAP_END.isoformat()}
    set_at = {"local_date": "2026-03-08", "local_time": "02:30"}
    clinic = [{"name": "dose", "locale": "en", "channel": "default", "body": CLINIC_TEXT}]
    texts = []
    for body in (
        reminder | {"values": values | set_at},
        reminder | {"values": values | set_at, "versions": clinic},
        reminder | {"values": values},
    ):
        answer = await web.post("/api/v1/templates/preview", headers=auth, json=body)
        assert answer.status_code == 200, answer.text
        texts.append(answer.json()["text"].replace("\u202f", " "))
    assert texts == [
        "Hi Ana. Time for your 2:30 AM dose.",
        "Your 2:30 AM dose is due.",
        "Hi Ana. Time for your 3:00 AM dose.",
    ]
    refused = await web.post(
        "/api/v1/templates/preview",
        headers=auth,
        json=reminder | {"values": values | {"local_date": "2026-03-08", "local_time": "2.30"}},
    )
    assert refused.status_code == 422, refused.text
    assert "local_time" in refused.text and "HH:MM" in refused.text
