"""Arranging rows for bot tests: a registered patient on a chat, dose events, appointments."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, time, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from bot.intake import process_inbound, store_inbound
from core.templating import TemplateRenderer
from platforms.base import Channel, InboundEvent, InboundKind
from platforms.twilio_inbound import parse_twilio_inbound
from platforms.whatsapp import WhatsAppSender
from platforms.whatsapp_content import ContentApi, QuickReplyContents
from scheduler.dispatcher import Dispatcher, DispatcherConfig
from tests.bot.conftest import Bot
from tests.factories import (
    create_medication,
    create_message,
    create_organization,
    create_patient,
)
from tests.fakes.fake_twilio import inbound_form


async def registered_patient(
    bot: Bot, conn: asyncpg.Connection, chat: int | str, *, channel: str = "telegram", **kw: Any
) -> asyncpg.Record:
    """A consented patient whose ``channel`` contact point is ``chat``, bound by a /start."""
    org = await create_organization(conn, contact_phone="+15005550100", name="Sunrise Clinic")
    patient = await create_patient(
        conn, org["id"], contacts={channel: str(chat)}, display_name="Ana", **kw
    )
    if channel == "telegram":
        await bot.send(int(chat), "/start")
        # In the patient's language: the chat is theirs before the /start.
        assert any(w in bot.last_text(int(chat)) for w in ("Welcome back", "Hola de nuevo"))
    else:
        await bot.sms(str(chat), "/start")
    return patient


async def dose_events(
    conn: asyncpg.Connection,
    patient_id: UUID,
    due: list[datetime],
    *,
    statuses: list[str] | None = None,
    pill_count: int | None = None,
) -> list[UUID]:
    """A medication with one dose event per ``due`` time (status ``due`` unless told)."""
    medication, schedule = await create_medication(
        conn, patient_id, times=(time(8, 0), time(20, 0)), pill_count=pill_count
    )
    ids = []
    for index, when in enumerate(due):
        status = statuses[index] if statuses else "due"
        ids.append(
            await conn.fetchval(
                """insert into dose_events
                     (schedule_id, medication_id, patient_id, due_at, local_date, local_time,
                      status, answered_at)
                   values ($1, $2, $3, $4, $5, $6, $7, $8) returning id""",
                schedule["id"],
                medication["id"],
                patient_id,
                when,
                when.date(),
                when.time().replace(tzinfo=None),
                status,
                when + timedelta(minutes=5) if status in ("taken", "skipped") else None,
            )
        )
    return ids


async def wait_until_a_lock_is_awaited(conn: asyncpg.Connection) -> None:
    """Return once some session of this database waits for a lock (fail after ~5 s)."""
    for _ in range(500):
        waiting = await conn.fetchval(
            "select count(*) from pg_stat_activity where wait_event_type = 'Lock'"
            " and datname = current_database()"
        )
        if waiting:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("no session ever waited for a lock")


async def remind(
    bot: Bot,
    conn: asyncpg.Connection,
    patient_id: UUID,
    *,
    dose_id: UUID | None = None,
    appointment_id: UUID | None = None,
    kind: str = "medication_reminder",
) -> None:
    """The worker's dispatcher sends a reminder now, over the bot's senders (it records the
    question the reminder asks, which the patient's typed answer is routed to)."""
    await create_message(
        conn,
        patient_id,
        kind=kind,
        message_content=None,
        dose_event_id=dose_id,
        appointment_id=appointment_id,
        scheduled_time=bot.clock.now,
        priority=1,
    )
    config = DispatcherConfig(worker_id="bot-tests", platform_rates={}, recipient_rates={})
    dispatcher = Dispatcher(bot.ctx.pool, bot.ctx.senders, TemplateRenderer(), bot.clock, config)
    assert await dispatcher.run_once() == 1


async def booked_appointment(
    conn: asyncpg.Connection, patient: asyncpg.Record, starts_at: datetime
) -> UUID:
    """An appointment of ``patient`` (a row with its ``id`` and ``organization_id``) at
    ``starts_at``, booked by their clinic: its id."""
    appointment: UUID = await conn.fetchval(
        "insert into appointments (organization_id, patient_id, starts_at)"
        " values ($1, $2, $3) returning id",
        patient["organization_id"],
        patient["id"],
        starts_at,
    )
    return appointment


async def reminded_doses(
    bot: Bot, conn: asyncpg.Connection, patient_id: UUID, due: list[datetime], *, apart: timedelta
) -> list[UUID]:
    """A dose per ``due`` time (:func:`dose_events`), each reminded in turn, the clock moved on
    by ``apart`` between two reminders: the newest reminder is the last dose's."""
    doses = await dose_events(conn, patient_id, due)
    for index, dose in enumerate(doses):
        if index:
            bot.clock.advance(seconds=apart.total_seconds())
        await remind(bot, conn, patient_id, dose_id=dose)
    return doses


def inbound_event(
    channel: Channel, address: str, text: str, button: str | None = None
) -> InboundEvent:
    """A patient's text (or, with ``button``, a button press) as an adapter parses it."""
    return InboundEvent(
        channel=channel,
        provider_id=uuid.uuid4().hex,
        chat_address=address,
        kind=InboundKind.BUTTON if button else InboundKind.TEXT,
        text=text,
        button_data=button,
        callback_query_id=uuid.uuid4().hex if button else None,
    )


class WhatsAppChat:
    """A WhatsApp chat with one number over the loopback Twilio fake; calling it sends a text and
    returns what the patient's phone shows (a quick reply's rendered body too)."""

    def __init__(self, bot: Bot, number: str, ctx: Any) -> None:
        self.bot, self.number, self.ctx = bot, number, ctx

    async def __call__(self, text: str) -> str:
        return await self._inbound(inbound_form("whatsapp:" + self.number, text))

    async def press(self, title: str) -> str:
        """Press the quick-reply button ``title`` of the newest message that has it, as Twilio
        posts it (ButtonPayload, ButtonText)."""
        for call in reversed(self.bot.twilio.messages):
            for shown, payload in call.buttons:
                if shown == title:
                    form = inbound_form(
                        "whatsapp:" + self.number, title, button_payload=payload, button_text=title
                    )
                    return await self._inbound(form)
        raise AssertionError(f"no WhatsApp button {title!r}")

    def buttons(self) -> list[str]:
        """The button titles of the newest message to the chat."""
        calls = [m for m in self.bot.twilio.messages if m.to == "whatsapp:" + self.number]
        return [title for title, _ in calls[-1].buttons]

    async def _inbound(self, form: dict[str, str]) -> str:
        before = len(self.bot.twilio.messages)
        event = parse_twilio_inbound(form)
        inbound_id = await store_inbound(self.ctx.pool, event, {})
        assert inbound_id is not None
        await process_inbound(self.ctx, inbound_id)
        return "\n".join(
            m.body or str((m.rendered or {}).get("body") or "")
            for m in self.bot.twilio.messages[before:]
        )


@asynccontextmanager
async def whatsapp_chat(
    bot: Bot, number: str, *, quick_replies: bool = False
) -> AsyncIterator[WhatsAppChat]:
    """A WhatsApp chat with ``number`` over the loopback Twilio fake, inside the 24-hour window
    (the patient just wrote). ``quick_replies``: options go as buttons (Content API contents
    created on the fake, kept in memory), else as numbered text."""
    contents = None
    if quick_replies:
        api = ContentApi(
            bot.twilio.account_sid, bot.twilio.auth_token, base_url=bot.twilio.base_url
        )
        contents = QuickReplyContents(api)
    sender = WhatsAppSender(
        bot.twilio.account_sid,
        bot.twilio.auth_token,
        from_number="+15005550006",
        api_base_url=bot.twilio.base_url,
        last_inbound_at=lambda _: bot.clock.now,
        clock=bot.clock,
        quick_replies=contents,
    )
    senders = dict(bot.ctx.senders) | {Channel.WHATSAPP: sender}
    ctx = type(bot.ctx)(
        pool=bot.ctx.pool, senders=senders, settings=bot.ctx.settings, clock=bot.clock
    )
    try:
        yield WhatsAppChat(bot, number, ctx)
    finally:
        await sender.aclose()


async def fail_turn_saves(
    conn: asyncpg.Connection, times: int, errcode: str, constraint: str = ""
) -> None:
    """The first ``times`` saves of a turn's conversation fail with SQLSTATE ``errcode`` (and
    ``constraint``), raised by a trigger of the test database: an error a concurrent transaction
    or an erasure causes, forced rather than timed. ``test_turn_saves`` counts every save."""
    using = f"errcode = '{errcode}'" + (f", constraint = '{constraint}'" if constraint else "")
    await conn.execute(
        f"""
        create sequence test_turn_saves;
        grant usage on sequence test_turn_saves to public;
        create function test_fail_turn_save() returns trigger language plpgsql as $$
        begin
          if nextval('test_turn_saves') <= {times} then
            raise exception 'failed (forced by the test)' using {using};
          end if;
          return new;
        end $$;
        create trigger test_fail_turn_save before update on conversations
          for each row execute function test_fail_turn_save();
        """
    )
