"""Two reminders sent at the same instant (a patient with two medicines at 08:00): a typed answer
both show goes to the one sent last, the one the patient read last.

Questions are ordered by when they were asked, then by their sequence. The record inserted a
batch's questions in the order of their message ids (random), so when two of one chat were asked
at the same instant the "newest" was a coin toss: the stateful answer router test found "Skip"
recorded on the older reminder (MEDREMIND_STATEFUL_EXAMPLES=40, issue 14's invariant). Through
the worker's dispatcher and the bot over loopback Twilio, at the bot tests' fixed clock.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from core.db import Database
from core.templating import TemplateRenderer
from scheduler.dispatcher import Dispatcher, DispatcherConfig
from tests.bot.conftest import Bot
from tests.bot.helpers import dose_events, registered_patient
from tests.factories import create_message

# Message ids whose order is the opposite of the send order (ids sort before the sends do).
FIRST_SENT = UUID("ffffffff-0000-4000-8000-000000000001")
SENT_LAST = UUID("00000000-0000-4000-8000-000000000002")


async def _dose_status(db: Database, dose: UUID) -> str:
    assert db.pool is not None
    status: str = await db.pool.fetchval("select status from dose_events where id = $1", dose)
    return status


@pytest.mark.parametrize("reply", ["Skip", "skip", "SKIP"])
async def test_a_typed_answer_goes_to_the_reminder_sent_last_at_the_same_instant(
    db: Database, bot: Bot, reply: str
) -> None:
    assert db.pool is not None
    number = "+15005550177"
    async with db.pool.acquire() as conn:
        patient = await registered_patient(bot, conn, number, channel="sms")
        (first_dose,) = await dose_events(conn, patient["id"], [bot.clock.now])
        (last_dose,) = await dose_events(conn, patient["id"], [bot.clock.now])
        for message_id, dose, early in ((FIRST_SENT, first_dose, 2), (SENT_LAST, last_dose, 1)):
            await create_message(
                conn,
                patient["id"],
                id=message_id,
                kind="medication_reminder",
                message_content=None,
                dose_event_id=dose,
                # Both due now; the claim hands them over in time order: FIRST_SENT first.
                scheduled_time=bot.clock.now - timedelta(seconds=early),
                priority=1,
            )
    # One send at a time, in the claim's order: two at once end in either order, and the one
    # whose send ended last is the one the question order follows (what the test cannot know).
    config = DispatcherConfig(
        worker_id="bot-tests", platform_rates={}, recipient_rates={}, concurrency=1
    )
    dispatcher = Dispatcher(bot.ctx.pool, bot.ctx.senders, TemplateRenderer(), bot.clock, config)
    assert await dispatcher.run_once() == 2
    reminders = [m for m in bot.sms_to(number) if "dose" in (m.body or "")]
    assert len(reminders) == 2

    await bot.sms(number, reply)

    assert await _dose_status(db, last_dose) == "skipped"
    assert await _dose_status(db, first_dose) == "due"
