"""The bot's SMS replies keep to GSM-7: the times and dates in them are spelled with plain spaces.

CLDR (Babel) writes "2:40\u202fAM" with a narrow no-break space, which GSM-7 does not have: one
such character made the whole SMS UCS-2 (70 characters a segment instead of 160) and showed as a
box on some phones. Templates replaced it (core.template_filters); the bot's own texts did not.
"""

from __future__ import annotations

import asyncpg
import httpx

from core.db import Database
from platforms.sms import count_segments
from tests import factories
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import Clock, twilio_inbound, worker
from tests.web.test_answer_router import _reminder

NUMBER = "+14155550177"


async def test_snooze_and_taken_replies_over_sms_are_gsm7(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    org: asyncpg.Record,
) -> None:
    """An SMS patient (English, so times read "2:40 PM") snoozes a reminder with "2", then answers
    "1": both replies name times, and both go out as GSM-7 with plain spaces."""
    patient = await factories.create_patient(
        admin_conn, org["id"], contacts={"sms": NUMBER}, locale="en"
    )
    _, schedule = await factories.create_medication(admin_conn, patient["id"])
    await _reminder(admin_conn, patient["id"], schedule, chat_clock)
    assert await worker(db, senders, chat_clock).run_once() == 1

    replies = []
    for answer in ("2", "1"):
        before = len(fake_twilio.messages)
        await twilio_inbound(web, NUMBER, answer)
        replies += [m.body or "" for m in fake_twilio.messages[before:] if m.to == NUMBER]
    assert len(replies) == 2, replies
    assert "remind you again at" in replies[0]
    assert "Taken at" in replies[1]
    assert [(count_segments(r)[0], "\u202f" in r) for r in replies] == [("GSM-7", False)] * 2
