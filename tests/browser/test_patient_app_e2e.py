"""The patient app end to end in headless Chromium at phone width (issue 18 item 4).

Real ``medremind web`` process on the test database; the worker's dispatcher (in this process)
with the real SMS adapter on the loopback Twilio and the live ``websocket`` sender. The patient
asks for a sign-in link for their phone number, the dispatcher sends it by SMS to the fake, the
browser opens the link from that SMS, sees today's due dose, receives the reminder live while the
page is open, presses Taken, and the dose is recorded with the same rows a Telegram Taken makes
(status, answered time, pills counted down, the pending follow-up cancelled). Screenshots at
phone width go to ``test-artifacts/screenshots/``.

Reminders are patient-chosen kinds and the sign-in link is urgent, so quiet hours never defer
them; the web process's environment comes from ``tests.process_env.service_env`` (quiet hours off).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from core.db import Database
from core.settings import load_settings
from core.templating import TemplateRenderer
from platforms.base import Channel, ChannelSender
from platforms.sms import SmsSender
from platforms.websocket import WebSocketSender
from scheduler.dispatcher import Dispatcher, DispatcherConfig
from tests import factories
from tests.browser import cdp
from tests.fakes.fake_telegram import FakeTelegram
from tests.fakes.fake_twilio import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, FakeTwilio
from tests.fakes.fixtures import fake_telegram, fake_twilio  # noqa: F401

# tests.web.conftest first: it and tests.web.processes import each other.
from tests.web.conftest import web_env  # noqa: F401
from tests.web.processes import kill, start_web, stop, wait_until_up

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
PHONE = "+14155550166"

pytestmark = pytest.mark.skipif(not cdp.available(), reason="needs chromium (apt install chromium)")


def _now() -> datetime:
    # The web process runs on the real clock; so does this dispatcher (no time-of-day rule
    # applies to what it sends: see the module docstring).
    return datetime.now(UTC)


def _zone_near_noon(now: datetime) -> str:
    """A whole-hour zone where ``now`` falls between 12:00 and 13:00 (no DST there).

    The day view drops a dose answered before the patient's midnight: with the patient in UTC, a
    run started at 2026-12-31T23:59:30Z pressed Taken after midnight on the dose of 23:57:30, and
    the view then showed the new day's doses, without it.
    """
    offset = 12 - now.astimezone(UTC).hour  # -11 .. +12 hours
    return f"Etc/GMT{-offset:+d}" if offset else "UTC"  # POSIX signs: Etc/GMT-3 is UTC+3


async def test_sign_in_see_a_dose_get_it_live_and_take_it(
    database_url: str,
    tmp_path: Path,
    db: Database,
    admin_conn: asyncpg.Connection,
    fake_telegram: FakeTelegram,  # noqa: F811
    fake_twilio: FakeTwilio,  # noqa: F811
) -> None:
    now = _now()
    patient = await factories.create_patient(
        admin_conn, contacts={"sms": PHONE}, display_name="Ana", timezone=_zone_near_noon(now)
    )
    medication, schedule = await factories.create_medication(
        admin_conn, patient["id"], name="Lisinopril", dose="10 mg", pill_count=20
    )
    dose = await factories.create_dose_event(admin_conn, schedule, now - timedelta(minutes=2))
    followup = await factories.create_message(
        admin_conn,
        patient["id"],
        kind="dose_followup",
        message_content=None,
        dose_event_id=dose["id"],
        scheduled_time=now + timedelta(hours=1),
    )
    twilio = {
        "TWILIO_ACCOUNT_SID": DEFAULT_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": DEFAULT_AUTH_TOKEN,
        "TWILIO_SMS_FROM": "+15005550006",
        "TWILIO_API_BASE_URL": fake_twilio.base_url,
    }
    process, base = start_web(database_url, tmp_path, fake_telegram, **twilio)
    assert db.pool is not None
    sms = SmsSender.from_settings(load_settings(twilio))
    senders: dict[Channel, ChannelSender] = {
        Channel.SMS: sms,
        Channel.WEBSOCKET: WebSocketSender(db),
    }
    dispatcher = Dispatcher(
        db.pool,
        senders,
        TemplateRenderer(),
        _now,
        DispatcherConfig(worker_id="e2e", platform_rates={}, recipient_rates={}),
    )
    try:
        await wait_until_up(base, process)
        async with cdp.phone_page() as page:
            # 1. Ask for a link: the form, then the dispatcher sends it by SMS.
            await page.goto(f"{base}/app/")
            await page.wait_for("!document.getElementById('sign-in').hidden", "the sign-in form")
            await page.screenshot(SCREENSHOTS / "patient-app-sign-in.png")
            await page.evaluate(
                f"document.getElementById('address').value = '{PHONE}';"
                "document.querySelector('#sign-in-form button').click(); true"
            )
            await page.wait_for(
                "document.getElementById('status').textContent.includes('on its way')",
                "the link-sent notice",
            )
            assert await dispatcher.run_once() == 1
            (sms_message,) = await fake_twilio.wait_for_messages(1, timeout=20)
            assert sms_message.to == PHONE
            link = re.search(r"(http://\S+/app/#sign-in=[\w-]+)", sms_message.body or "")
            assert link is not None, sms_message.body

            # 2. Open the link from the SMS: signed in, today's dose is due.
            await page.goto(link[1])
            await page.wait_for(
                "document.querySelectorAll('#doses li').length === 1", "today's dose"
            )
            assert await page.evaluate("location.hash") == ""  # the secret left the address bar
            card = await page.evaluate("document.querySelector('#doses li').innerText")
            assert "Lisinopril, 10 mg" in card and "Due" in card
            await page.wait_for(
                "!document.getElementById('live-state').hidden", "the live connection"
            )
            await page.screenshot(SCREENSHOTS / "patient-app-today.png")

            # 3. The reminder arrives live while the page is open.
            reminder = await factories.create_message(
                admin_conn,
                patient["id"],
                kind="medication_reminder",
                message_content=None,
                dose_event_id=dose["id"],
                scheduled_time=_now(),
                priority=1,
            )
            assert await dispatcher.run_once() == 1
            # A hang guard: the websocket's hand-over to the web process and the page took over
            # 20 s once at a load of 10-14 (make any-hour, Berlin's DST night; three reruns at
            # those instants passed in seconds).
            await page.wait_for(
                "!document.getElementById('reminder').hidden", "the live reminder", timeout=60
            )
            text = await page.evaluate("document.getElementById('reminder-text').textContent")
            assert text.startswith("Hi Ana. Time for your") and "Lisinopril" not in text
            await page.screenshot(SCREENSHOTS / "patient-app-live-reminder.png")
            row = await admin_conn.fetchrow(
                "select status, channel_used, delivered_at from scheduled_messages where id = $1",
                reminder["id"],
            )
            assert row["channel_used"] == "websocket" and row["delivered_at"] is not None
            assert len(fake_twilio.messages) == 1  # no SMS for the reminder: the app had it

            # 4. Taken, on the live reminder.
            await page.evaluate(
                "[...document.querySelectorAll('#reminder-actions button')]"
                ".find(b => b.textContent === 'Taken').click(); true"
            )
            await page.wait_for(
                "document.getElementById('status').textContent === 'Recorded: Taken.'",
                "the recorded answer",
            )
            await page.wait_for(
                "document.querySelector('#doses li .badge').textContent === 'Taken'",
                "the dose shown as taken",
            )
            await page.screenshot(SCREENSHOTS / "patient-app-taken.png")
            await page.evaluate("document.getElementById('preferences').scrollIntoView(); true")
            await page.screenshot(SCREENSHOTS / "patient-app-settings.png")

            # 5. Quiet hours of no length are refused, saying how to fix it; 00:00 to 00:00 is
            # none, and the form says so (it was kept silently and meant no quiet hours).
            save_quiet = (
                "document.getElementById('quiet-start').value = '{0}';"
                "document.getElementById('quiet-end').value = '{0}';"
                "document.querySelector('#preferences-form button[type=submit]').click(); true"
            )
            await page.evaluate(save_quiet.format("22:00"))
            await page.wait_for(
                "document.getElementById('status').textContent.includes('no time at all')",
                "the refusal of 22:00 to 22:00",
            )
            await page.evaluate(save_quiet.format("00:00"))
            await page.wait_for(
                "document.getElementById('quiet-default').textContent.startsWith('No quiet hours')",
                "no quiet hours, said",
            )
            assert page.errors == []
    finally:
        await sms.aclose()
        try:
            await stop(process, timeout=30)
        finally:
            kill(process)

    recorded = await admin_conn.fetchrow(
        "select status, answered_at, answered_channel from dose_events where id = $1", dose["id"]
    )
    assert recorded["status"] == "taken" and recorded["answered_at"] is not None
    assert recorded["answered_channel"] == "web"
    assert (
        await admin_conn.fetchval(
            "select pill_count from medications where id = $1", medication["id"]
        )
        == 19
    )
    assert (
        await admin_conn.fetchval(
            "select status from scheduled_messages where id = $1", followup["id"]
        )
        == "cancelled"
    )
