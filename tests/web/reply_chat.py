"""Talking to a real ``medremind web`` as a Telegram or SMS chat, and waiting for its reply rows."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import asyncpg
import httpx

from tests.fakes.fake_telegram import text_update
from tests.fakes.fake_twilio import inbound_form
from tests.web.conftest import WEBHOOK_SECRET, twilio_signature

TELEGRAM = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET, "Content-Type": "application/json"}


async def post_text(base: str, chat: int, text: str) -> None:
    """The Bot API's update of ``chat`` writing ``text``, posted to the webhook (answered 200)."""
    async with httpx.AsyncClient(base_url=base) as http:
        response = await http.post(
            "/telegram/webhook",
            content=json.dumps(text_update(chat, text)).encode(),
            headers=TELEGRAM,
        )
        assert response.status_code == 200


async def post_sms(base: str, phone: str, text: str) -> None:
    """Twilio's signed inbound SMS from ``phone`` saying ``text``, posted (answered 200)."""
    form = inbound_form(phone, text)
    async with httpx.AsyncClient(base_url=base) as http:
        response = await http.post(
            "/twilio/inbound",
            data=form,
            headers={"X-Twilio-Signature": twilio_signature("/twilio/inbound", form)},
        )
        assert response.status_code == 200


async def eventually(
    conn: asyncpg.Connection, sql: str, *args: Any, until: Any = None, timeout: float = 60
) -> list[asyncpg.Record]:
    """``conn.fetch(sql, *args)`` once it returns rows and ``until(rows)`` holds (a hang guard
    with a generous deadline, not a timing test)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = await conn.fetch(sql, *args)
        if rows and (until is None or until(rows)):
            return rows
        assert time.monotonic() < deadline, f"never got there: {rows}"
        await asyncio.sleep(0.1)


def all_status(*statuses: str) -> Any:
    """``until`` for :func:`eventually`: every row has one of ``statuses``."""
    return lambda rows: all(r["status"] in statuses for r in rows)
