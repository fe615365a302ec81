"""The web process's own senders (``create_app`` without ``senders``, as ``medremind web`` runs)
answer a WhatsApp patient who just wrote.

They were built without the last-inbound lookup, so WhatsApp counted every chat as outside its
24-hour window and every bot reply failed "template required" (no template serves a reply): a
patient writing "hello" over WhatsApp heard nothing. Found reading how the web process builds
its senders while injecting the clock into the window (the worker's were built with it). Real
parts: the app's lifespan, its signature check, the bot, the embedded Postgres, the loopback
Twilio (Messages and Content APIs).
"""

from __future__ import annotations

import asyncpg

from core.db import Database
from core.settings import Settings
from medremind.web import create_app
from tests.fakes.fake_twilio import FakeTwilio
from tests.waiting import eventually
from tests.web.chat import twilio_inbound
from tests.web.conftest import make_client

NUMBER = "+14155550111"


async def test_a_whatsapp_message_is_answered_by_the_web_process(
    web_settings: Settings,
    db: Database,
    fake_twilio: FakeTwilio,
    admin_conn: asyncpg.Connection,
) -> None:
    app = create_app(
        web_settings, database=db, bot_username="medremind_test_bot", detach_processing=False
    )
    async with app.router.lifespan_context(app), make_client(app) as web:
        await twilio_inbound(web, f"whatsapp:{NUMBER}", "hello")

        async def reply_sent() -> bool:
            # The reply goes out after the webhook's answer: leaving the app at once cancelled
            # it at shutdown on a loaded machine ("whatsapp: cancelled at shutdown").
            return bool(
                await admin_conn.fetchval(
                    "select count(*) from scheduled_messages"
                    " where platform = 'whatsapp' and status not in ('pending', 'processing')"
                )
            )

        await eventually(reply_sent)
    replies = await admin_conn.fetch(
        "select status, last_error from scheduled_messages where platform = 'whatsapp'"
    )
    assert [(r["status"], r["last_error"]) for r in replies] == [("sent", None)], replies
    sent = [m for m in fake_twilio.messages if m.to == f"whatsapp:{NUMBER}"]
    assert len(sent) == 1 and sent[0].status == 201, sent
