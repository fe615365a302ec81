"""The worker's Spanish SMS from built-in templates go in GSM-7: our wording without the
accents GSM-7 lacks, the medicine as written.

The bot's replies were written so already (bot.texts.sms_text), but the templates the worker
renders were not: "Avísanos" and "Recordar más tarde" made a follow-up UCS-2, and "medicación",
"reposición" and "más" a refill reminder: two parts where one does (67 characters a part
instead of 153). Now the file is read for SMS in GSM-7's letters (core/gsm7_templates.py).
Driven as the product runs: the planner plans a Spanish SMS patient's noon dose and its
follow-up, the worker's dispatcher sends them through the real SMS adapter to the loopback
Twilio, which counts the parts as Twilio does; quiet hours set explicitly (02:00-03:00).
"""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import asyncpg
import httpx

from core.db import Database
from core.message_limits import count_segments
from core.settings import Settings
from scheduler.planner import replan_patient, run_planner_tick
from tests import factories
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import START, Clock, twilio_inbound, worker

NUMBER = "+34600111444"
QUIET: dict[str, Any] = {"quiet_start": time(2, 0), "quiet_end": time(3, 0)}


def _sent(twilio: FakeTwilio, since: int) -> list[tuple[str, str]]:
    """Each SMS to the patient since ``since``: its body and the parts Twilio counted."""
    return [
        (m.body or "", str((m.response or {}).get("num_segments")))
        for m in twilio.messages[since:]
        if m.to == NUMBER
    ]


async def test_follow_up_and_refill_reminder_go_in_one_gsm7_part(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    web_settings: Settings,
) -> None:
    patient = await factories.create_patient(
        admin_conn,
        contacts={"sms": NUMBER},
        locale="es",
        display_name="Lucía",
        nag_interval_minutes=30,
        nag_max=1,
        **QUIET,
    )
    medication, _ = await factories.create_medication(
        admin_conn, patient["id"], name="Ácido fólico", times=(time(12, 0),)
    )
    await replan_patient(admin_conn, patient["id"], START)
    chat_clock.now = START + timedelta(minutes=10)
    assert await worker(db, senders, chat_clock).run_once() == 1  # the noon reminder
    # The patient's name as written: its "í" makes this one UCS-2, counted as such.
    ((reminder, parts),) = _sent(fake_twilio, 0)
    assert reminder.startswith("Hola, Lucía."), reminder
    assert count_segments(reminder) == ("UCS-2", int(parts)), reminder
    since = len(fake_twilio.messages)
    chat_clock.now = START + timedelta(minutes=40)
    assert db.pool is not None
    await run_planner_tick(db.pool, chat_clock.now, web_settings)  # plans the follow-up
    assert await worker(db, senders, chat_clock).run_once() == 1  # its follow-up at 12:30
    await factories.create_message(
        admin_conn,
        patient["id"],
        kind="refill_reminder",
        message_content=None,
        payload={"medication_id": str(medication["id"]), "doses_left": 2},
        scheduled_time=chat_clock.now,
    )
    assert await worker(db, senders, chat_clock).run_once() == 1

    (followup, followup_parts), (refill, refill_parts) = _sent(fake_twilio, since)
    assert "Avisanos" in followup and "Recordar mas tarde" in followup, followup
    assert count_segments(followup) == ("GSM-7", 1) and followup_parts == "1", followup
    assert "medicacion" in refill or "reposicion" in refill, refill
    assert count_segments(refill) == ("GSM-7", 1) and refill_parts == "1", refill

    # "más tarde" typed back, as the option now reads or with its accent, still snoozes.
    chat_clock.now += timedelta(minutes=1)
    before = len(fake_twilio.messages)
    await twilio_inbound(web, NUMBER, "mas tarde")
    answers = [body for body, _ in _sent(fake_twilio, before)]
    assert answers and "Perdona" not in answers[0], answers
