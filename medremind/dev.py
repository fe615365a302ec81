"""``medremind dev``: web, worker and a console chat in one process, on the embedded default.

With no ``DATABASE_URL`` the embedded PostgreSQL is started (and migrated) once here and its URL
handed to the web app and the worker, so exactly one handle owns the server and stops it on exit.
The person at the terminal is a patient on the ``console`` channel: each line typed is an inbound
message, stored and processed exactly as a Telegram or SMS update would be, and replies and
reminders are printed. With ``TELEGRAM_BOT_TOKEN`` and no ``PUBLIC_BASE_URL``, the Telegram bots
also run by long polling: the default bot and every bot of ``MEDREMIND_TELEGRAM_BOTS``, each with
its own ``getUpdates`` loop, its updates answered through it (patients are sharded across them).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from typing import Any, TextIO

import uvicorn
from pydantic import SecretStr

from bot.context import BotContext
from bot.intake import process_inbound, store_inbound
from core.db import Database
from core.inbound_window import LastInboundLookup
from core.migrate import migrate
from core.settings import Settings
from core.templating import TemplateRenderer
from medremind.web.request_deadline import server_config
from platforms.base import Channel, ChannelSender, InboundEvent, InboundKind

logger = logging.getLogger(__name__)

CONSOLE_ADDRESS = "console"
# Telegram long polling: how long one getUpdates call waits for news (seconds).
POLL_TIMEOUT = 25


def run_dev(settings: Settings, *, console: bool = True) -> int:
    """Run everything until Ctrl-C, SIGTERM, or the end of standard input; the exit code."""
    return asyncio.run(serve_dev(settings, console=console))


async def serve_dev(
    settings: Settings,
    *,
    console: bool = True,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
) -> int:
    """The body of ``run_dev``; ``stdin``/``stdout`` can be replaced (tests)."""
    from medremind import worker_process
    from medremind.web import create_app
    from platforms.registry import build_senders
    from platforms.whatsapp_content_store import PostgresContentStore

    owner = Database(settings)
    url = owner.resolve_url()
    try:
        conn = await owner.connect(as_app_role=False)
        try:
            applied = await migrate(conn)
        finally:
            await conn.close()
        if applied:
            logger.info("migrations applied", extra={"count": len(applied)})
        # Everyone else connects to the same server by URL; only ``owner`` may stop it.
        # The outbox is on here unless MEDREMIND_OUTBOX_ENABLED=false: `medremind dev` is where
        # a channel without credentials may write files instead of reaching patients.
        outbox = settings.outbox_enabled is not False
        shared = settings.model_copy(
            update={
                "database_url": SecretStr(url),
                "outbox_enabled": outbox,
                # Without PUBLIC_BASE_URL the patient app's links lead to this process (Telegram
                # keeps long polling); with it, they go there as in production.
                "local_app_base_url": f"http://127.0.0.1:{settings.port}",
                **dev_vapid_settings(settings),
                **dev_credentials_settings(settings),
            }
        )
        out = stdout or sys.stdout
        stop = asyncio.Event()
        _install_signal_handlers(stop)

        async with Database(shared) as database:
            senders = build_senders(
                shared,
                console_stream=out,
                last_inbound_lookup=LastInboundLookup(database),
                content_store=PostgresContentStore(database),
                database=database,
            )
            assert database.pool is not None
            app = create_app(shared, database=database, senders=senders)
            ctx = chat_context(app, shared)
            # The web's own configuration (its request deadline too), on loopback only.
            server = _QuietServer(server_config(app, shared, host="127.0.0.1"))
            tasks = [
                asyncio.create_task(server.serve(), name="web"),
                asyncio.create_task(
                    worker_process.serve(
                        shared,
                        senders,
                        install_signal_handlers=False,
                        stop=stop,
                        reload_templates=True,
                    ),
                    name="worker",
                ),
            ]
            if console:
                tasks.append(
                    asyncio.create_task(console_chat(ctx, stdin or sys.stdin, stop), name="chat")
                )
                out.write(
                    f"MedRemind dev on http://127.0.0.1:{shared.port} - type /start to chat "
                    "as a patient, Ctrl-D to quit.\n"
                )
                out.flush()
            if _use_long_polling(shared, senders):
                tasks.append(asyncio.create_task(telegram_polling(ctx, stop), name="telegram"))
            await stop.wait()
            server.should_exit = True
            await asyncio.gather(*tasks, return_exceptions=True)
            for sender in senders.values():
                with contextlib.suppress(Exception):
                    await sender.aclose()
    finally:
        await owner.stop()
    return 0


def dev_vapid_settings(settings: Settings) -> dict[str, object]:
    """VAPID settings for ``medremind dev`` when unset: a key generated once into the data
    directory (kept across restarts, so the browsers' subscriptions stay valid)."""
    from platforms.webpush import load_or_create_key

    update: dict[str, object] = {}
    if settings.vapid_private_key is None:
        key = load_or_create_key(settings.vapid_key_path)
        update["vapid_private_key"] = SecretStr(key.private_text())
    if settings.vapid_subject is None:
        update["vapid_subject"] = "mailto:medremind@localhost"
    return update


def dev_credentials_settings(settings: Settings) -> dict[str, object]:
    """``MEDREMIND_CREDENTIALS_KEY`` for ``medremind dev`` when unset: a key generated once into
    the data directory (mode 0600), so secrets stored in a session open in the next one."""
    if settings.credentials_key is not None:
        return {}
    from core.credentials import new_key

    path = settings.data_dir / "credentials_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(new_key() + "\n", encoding="ascii")
    return {"credentials_key": SecretStr(path.read_text(encoding="ascii").strip())}


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handling: this process's stop event ends everything."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _install_signal_handlers(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)


def _use_long_polling(settings: Settings, senders: Mapping[Channel, ChannelSender]) -> bool:
    return (
        settings.telegram_bot_token is not None
        and not settings.public_base_url
        and getattr(senders.get(Channel.TELEGRAM), "bot", None) is not None
    )


def chat_context(app: Any, settings: Settings) -> BotContext:
    """The conversation engine's context of the console chat and the long-polled bots: the web
    app's own (``WebState.bot_context``), so their replies take the web process's path, behind
    the fleet's circuit breakers (a reply an open breaker holds waits, pending, for the worker:
    medremind.web.reply_breakers) and answered by the bot a person wrote to. Only its templates
    are read again when edited, as the worker's are here."""
    from core.sign_in_links import app_url

    web: BotContext = app.state.web.bot_context
    renderer = TemplateRenderer(
        sms_max_segments=settings.sms_max_segments,
        auto_reload=True,
        app_url=app_url(settings.app_base_url),
    )
    return dataclasses.replace(web, renderer=renderer)


def polled_bots(sender: Any) -> list[tuple[str | None, Any]]:
    """(bot id, python-telegram-bot ``Bot``) of every bot to long-poll; None for the default bot
    (its updates keep their plain ids), else the id the webhook of that bot would name."""
    by_id: Mapping[str, Any] = getattr(sender, "by_id", None) or {}
    default = getattr(sender, "default_id", None)
    if not by_id:
        return [(None, sender.bot)]
    return [
        (None if bot == default else bot, getattr(one, "bot", None))
        for bot, one in by_id.items()
        if getattr(one, "bot", None) is not None
    ]


def console_event(line: str) -> InboundEvent:
    """One typed line as an inbound console message."""
    return InboundEvent(
        channel=Channel.CONSOLE,
        provider_id=f"console-{uuid.uuid4()}",
        chat_address=CONSOLE_ADDRESS,
        kind=InboundKind.TEXT,
        text=line.strip(),
    )


async def console_chat(ctx: BotContext, stdin: TextIO, stop: asyncio.Event) -> None:
    """Read lines from the terminal until end of input or ``stop``, each one a patient's message.

    A line is read by a daemon thread of its own: Ctrl-C or SIGTERM while the terminal waits for
    a line ends the chat at once (a read in the loop's default executor kept ``asyncio.run``
    waiting for that thread, so the process, and its embedded PostgreSQL, outlived the signal
    until someone pressed Enter).
    """
    lines = _read_lines(stdin, asyncio.get_running_loop())
    stopping = asyncio.ensure_future(stop.wait())
    try:
        while not stop.is_set():
            reading = asyncio.ensure_future(lines.get())
            await asyncio.wait({reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not reading.done():
                reading.cancel()
                return
            line = reading.result()
            if line == "":  # end of input: the person is done
                stop.set()
                return
            if not line.strip():
                continue
            event = console_event(line)
            inbound_id = await store_inbound(
                ctx.pool, event, {"source": "console"}, received_at=ctx.now()
            )
            if inbound_id is not None:
                await process_inbound(ctx, inbound_id)
    finally:
        stopping.cancel()


def _read_lines(stdin: TextIO, loop: asyncio.AbstractEventLoop) -> asyncio.Queue[str]:
    """Lines of ``stdin`` as a daemon thread reads them ("" at the end); the thread never holds
    up the process's exit."""
    lines: asyncio.Queue[str] = asyncio.Queue()

    def pump() -> None:
        while True:
            line = stdin.readline()
            try:
                loop.call_soon_threadsafe(lines.put_nowait, line)
            except RuntimeError:  # the loop is closed: the process is exiting
                return
            if line == "":
                return

    threading.Thread(target=pump, name="console-stdin", daemon=True).start()
    return lines


async def telegram_polling(ctx: BotContext, stop: asyncio.Event) -> None:
    """Long-poll every bot of the service (no public URL), until ``stop``."""
    bots = polled_bots(ctx.senders[Channel.TELEGRAM])
    await asyncio.gather(*(_poll_bot(ctx, bot, bot_id, stop) for bot_id, bot in bots))


async def _poll_bot(ctx: BotContext, bot: Any, bot_id: str | None, stop: asyncio.Event) -> None:
    """Long-poll one bot for updates, storing each before processing it. ``bot_id``: not the
    default bot: its updates are stored as ``<bot>:<update_id>`` and name it, as its webhook's
    would (``medremind.web.telegram_webhook``), so its replies go out through it."""
    from medremind.web.telegram_late import written_at
    from platforms.telegram import ALLOWED_UPDATES, parse_update
    from platforms.telegram_essentials import essentials

    offset: int | None = None
    username: str | None = None  # a group's command to another bot is left alone
    with contextlib.suppress(Exception):
        await bot.delete_webhook()
        username = (await bot.get_me()).username
    stopping = asyncio.ensure_future(stop.wait())
    try:
        while not stop.is_set():
            polling = asyncio.ensure_future(
                bot.get_updates(
                    offset=offset,
                    timeout=POLL_TIMEOUT,
                    allowed_updates=list(ALLOWED_UPDATES),
                )
            )
            # A stop ends the long poll at once (it may wait POLL_TIMEOUT seconds for news).
            await asyncio.wait({polling, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not polling.done():
                polling.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await polling
                return
            try:
                updates = polling.result()
            except Exception as exc:
                logger.warning(
                    "telegram polling failed",
                    extra={"error_type": type(exc).__name__, "bot": bot_id or "default"},
                )
                await asyncio.wait({stopping}, timeout=5)
                continue
            for update in updates:
                offset = update.update_id + 1
                raw = update.to_dict()
                event = parse_update(raw)
                if event is None:
                    await _other_update(ctx, bot, bot_id, username, raw)
                    continue
                if bot_id is not None:
                    event = dataclasses.replace(
                        event, provider_id=f"{bot_id}:{event.provider_id}", to_address=bot_id
                    )
                late = written_at(raw, ctx.now(), time.time())
                if late is not None:  # as the webhook does (medremind.web.telegram_late)
                    event = dataclasses.replace(event, written_at=late)
                kept = essentials(raw)  # stored as the webhook stores it
                inbound_id = await store_inbound(ctx.pool, event, kept, received_at=ctx.now())
                if inbound_id is not None:
                    await process_inbound(ctx, inbound_id, event)
    finally:
        stopping.cancel()


async def _other_update(
    ctx: BotContext, bot: Any, bot_id: str | None, username: str | None, raw: dict[str, Any]
) -> None:
    """An update that is no patient's message or press, as the webhook treats it
    (medremind.web.telegram_other): a block applied, a group's command told to write privately,
    an edit told to send it again. The webhook answers in its response; here the method is
    called. A failure is logged by its type and the update is not asked for again (as any
    update's processing here)."""
    from medremind.web.telegram_other import other_update

    sender = ctx.senders.get(Channel.TELEGRAM)
    try:
        _, method = await other_update(
            ctx.pool,
            raw,
            bot=bot_id,
            default_bot=getattr(sender, "default_id", None),
            username=username,
            default_locale=ctx.settings.default_locale,
        )
        if method is not None:
            fields = {k: v for k, v in method.items() if k != "method"}
            await bot.do_api_request(method["method"], api_kwargs=fields)
    except Exception as exc:
        logger.warning(
            "telegram update not answered",
            extra={"error_type": type(exc).__name__, "bot": bot_id or "default"},
        )
