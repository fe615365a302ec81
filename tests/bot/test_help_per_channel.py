"""/help lists what works on the channel it is asked on, and every command it lists works there.

WhatsApp's /help offered /export, whose CSV file Twilio cannot carry: the patient who sent it was
told "I can send charts and files on Telegram only". Each channel's help is checked by sending
every command it names, over the loopback Telegram and Twilio fakes.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack

import asyncpg
import pytest

from bot import texts
from tests.bot.conftest import Bot
from tests.bot.helpers import registered_patient, whatsapp_chat

NUMBER = "+15005550166"
# Commands the help names whose answer asks something: left with /cancel after.
_ASKING = {"/add", "/settings", "/delete_me"}
_REFUSALS = ("files_unavailable", "unknown_command", "not_understood")

Chat = Callable[[str], Awaitable[str]]


async def _telegram(bot: Bot, admin_conn: asyncpg.Connection, stack: AsyncExitStack) -> Chat:
    chat = bot.new_chat()
    await registered_patient(bot, admin_conn, chat)

    async def send(text: str) -> str:
        calls = await bot.send(chat, text)
        # A file (/export's CSV, /stats's chart) carries its text as the caption.
        return "\n".join(c.text or c.params.get("caption", "") for c in calls)

    return send


async def _sms(bot: Bot, admin_conn: asyncpg.Connection, stack: AsyncExitStack) -> Chat:
    await registered_patient(bot, admin_conn, NUMBER, channel="sms")

    async def send(text: str) -> str:
        return "\n".join(c.body or "" for c in await bot.sms(NUMBER, text))

    return send


async def _whatsapp(bot: Bot, admin_conn: asyncpg.Connection, stack: AsyncExitStack) -> Chat:
    await registered_patient(bot, admin_conn, NUMBER, channel="whatsapp")
    send = await stack.enter_async_context(whatsapp_chat(bot, NUMBER))
    await send("/start")
    return send


_CHATS = {"telegram": _telegram, "sms": _sms, "whatsapp": _whatsapp}


@pytest.mark.parametrize("channel", sorted(_CHATS))
async def test_help_lists_only_commands_that_work_on_the_channel(
    bot: Bot, admin_conn: asyncpg.Connection, channel: str
) -> None:
    async with AsyncExitStack() as stack:
        send = await _CHATS[channel](bot, admin_conn, stack)
        await _every_command_helped_works(send, channel)


async def _every_command_helped_works(send: Chat, channel: str) -> None:
    helped = await send("/help")
    # /stop last: after it nothing but /start is answered.
    named = sorted(set(re.findall(r"/[a-z_]+", helped)) - {"/help"}, key=lambda c: c == "/stop")
    assert "/today" in named and "/meds" in named, helped
    assert ("/export" in named) == (channel == "telegram"), helped
    refusals = [texts.text("en", key).split(".")[0] for key in _REFUSALS]
    await _history_points_to_what_works(send, named, refusals)
    for command in named:
        answer = await send(command)
        assert answer, command
        assert not any(refusal in answer for refusal in refusals), (command, answer)
        if command in _ASKING:
            await send("/cancel")


async def _history_points_to_what_works(send: Chat, named: list[str], refusals: list[str]) -> None:
    """/history (and "history", "my history", "/historial" typed without it) is no command: it
    was "I don't know that command". The answer names where a history is, each a command the
    channel's /help lists (no /export over SMS or WhatsApp, which cannot carry its file)."""
    for typed in ("/history", "history", "My history", "/historial", "historial"):
        answer = await send(typed)
        assert not any(refusal in answer for refusal in refusals), (typed, answer)
        pointed = set(re.findall(r"/[a-z_]+", answer))
        assert {"/today", "/stats"} <= pointed <= set(named), (typed, answer)
        assert ("/export" in pointed) == ("/export" in named), (typed, answer)


async def test_history_is_pointed_to_in_spanish_over_sms(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """A Spanish patient's HISTORIAL over SMS: in Spanish, in GSM-7's letters (one "í" makes the
    whole SMS UCS-2), naming only what works over SMS."""
    await registered_patient(bot, admin_conn, NUMBER, channel="sms", locale="es")
    for typed in ("HISTORIAL", "/historial", "mi historial"):
        answer = "\n".join(c.body or "" for c in await bot.sms(NUMBER, typed))
        assert "historial" in answer and "/today" in answer and "/stats" in answer, answer
        assert "/export" not in answer and "í" not in answer, answer
        assert "No conozco" not in answer and "no lo he entendido" not in answer, answer
