"""``medremind web``: uvicorn serving the web app on ``$PORT``, stopping gracefully on SIGTERM.

At start-up, with ``TELEGRAM_BOT_TOKEN`` set, the bot's username is fetched (for invite links)
and, with ``PUBLIC_BASE_URL`` and ``TELEGRAM_WEBHOOK_SECRET`` also set, the webhook is registered
at ``PUBLIC_BASE_URL/telegram/webhook`` with its secret and the update types the bot handles.
The bots of ``MEDREMIND_TELEGRAM_BOTS`` and every clinic's own bot (a provider account) are
registered at ``PUBLIC_BASE_URL/telegram/webhook/<bot id>`` with their derived secrets, so a
change of ``PUBLIC_BASE_URL`` or ``TELEGRAM_WEBHOOK_SECRET`` reaches every bot at the next start.
A Telegram outage at start-up is logged, not fatal: the API and Twilio webhooks still serve.
A PostgreSQL restart under the start-up (the pool, the limits, the clinics' accounts) is waited
out for ``MEDREMIND_DB_STARTUP_WAIT_SECONDS`` in all; a refused login or a missing migration ends
it at once, logged as ``database start-up failed`` with what to fix (:mod:`core.db_startup`).

SIGTERM (Heroku's stop) and SIGINT make uvicorn stop accepting connections, finish requests in
flight (and their background processing) for up to ``MEDREMIND_SHUTDOWN_GRACE`` seconds, run the
app's shutdown and return 0.

``WEB_CONCURRENCY`` above 1 runs that many such processes on one listening socket
(:mod:`medremind.web_workers`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import sys
import threading
from collections.abc import Callable, Generator, Mapping
from typing import Any

import uvicorn

from core.db import Database
from core.inbound_window import LastInboundLookup
from core.settings import Settings
from medremind.web import create_app
from medremind.web.request_deadline import server_config
from platforms.base import Channel

logger = logging.getLogger(__name__)


WEBHOOK_PATH = "/telegram/webhook"
# Telegram opens at most this many connections to the webhook at once (its default is 40).
WEBHOOK_MAX_CONNECTIONS = 40
# How long start-up waits for the database to list the clinics' bots.
CLINIC_BOTS_READ_SECONDS = 15.0


class _Server(uvicorn.Server):
    """uvicorn's server with our signal handling: stop gracefully and return, never re-raise.

    Stock uvicorn re-raises the captured signal after shutting down, which would end the
    process with 143 instead of letting ``web_workers.run_web`` return its exit code.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        loop = asyncio.get_running_loop()
        installed = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(sig, self._stop, sig)
                installed.append(sig)
            except (NotImplementedError, RuntimeError, ValueError):
                pass  # not the main thread (tests) or no signal support
        try:
            yield
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)

    # Called once the server listens, its app started (the supervisor's readiness signal).
    on_started: Callable[[], None] | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and self.on_started is not None:
            self.on_started()

    def _stop(self, sig: int) -> None:
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        logger.info("stopping web process", extra={"signal": signal.Signals(sig).name})
        self.should_exit = True


async def register_telegram_webhook(settings: Settings, senders: Mapping[Any, Any]) -> str | None:
    """Fetch the bot's username and, when configured, register the webhook; never raises.

    Returns the username (without ``@``) or None when Telegram is not configured or unreachable.
    """
    if settings.telegram_bot_token is None:
        return None
    bot = getattr(senders.get(Channel.TELEGRAM), "bot", None)
    if bot is None:
        return None
    try:
        me = await bot.get_me()
    except Exception as exc:  # Telegram down or token rejected: serve anyway
        logger.warning("telegram getMe failed", extra={"error_type": type(exc).__name__})
        return None
    if not settings.public_base_url:
        return me.username
    if settings.telegram_webhook_secret is None:
        # Without a secret every update would be refused (fail closed), so do not ask for them.
        logger.error("TELEGRAM_WEBHOOK_SECRET is not set: the Telegram webhook is not registered")
        return me.username
    from platforms.telegram import ALLOWED_UPDATES

    try:
        await bot.set_webhook(
            url=settings.public_base_url + WEBHOOK_PATH,
            secret_token=settings.telegram_webhook_secret.get_secret_value(),
            allowed_updates=list(ALLOWED_UPDATES),
            max_connections=WEBHOOK_MAX_CONNECTIONS,
        )
        logger.info("telegram webhook registered")
    except Exception as exc:
        logger.error("telegram setWebhook failed", extra={"error_type": type(exc).__name__})
    await _register_other_bots(settings, senders.get(Channel.TELEGRAM))
    return me.username


async def register_clinic_bots(settings: Settings, database: Database) -> None:
    """Register every clinic's own bot's webhook (as saving it did), 8 at a time; never raises.

    Their tokens are sealed in ``clinic_provider_accounts``: one connection reads them, and
    ``MEDREMIND_CREDENTIALS_KEY`` opens them. A bot that fails is logged (clinic, bot id, error
    type; never its token) and the others go on.
    """
    if not settings.public_base_url or settings.telegram_webhook_secret is None:
        return
    from core.sql import query
    from medremind.provider_accounts import register_clinic_bot_webhooks

    try:
        conn = await asyncio.wait_for(database.connect(), CLINIC_BOTS_READ_SECONDS)
        try:
            rows = await conn.fetch(query("accounts", "clinic_telegram_bots"))
        finally:
            await conn.close()
    except Exception as exc:  # the bots keep the webhooks they have
        _accounts_unread(settings, exc)
        return
    if not rows:
        return
    box = None
    if settings.credentials_key is not None:
        from core.credentials import SecretBox

        box = SecretBox.from_settings(settings)
    registered, failed = await register_clinic_bot_webhooks(settings, rows, box)
    logger.info(
        "clinic bots' webhooks registered", extra={"registered": registered, "failed": failed}
    )


def _accounts_unread(settings: Settings, exc: Exception) -> None:
    """Log why the clinics' bots could not be read: the database's own problem, when start-up
    knows it (a schema behind the code, a refused login), is the reason, not an ERROR of ours:
    on an unmigrated database the web logged "clinic bots' webhooks not registered" as an ERROR
    before it said to run `medremind migrate`."""
    from core.db_startup import explain, is_unavailable

    problem = None if is_unavailable(exc) else explain(exc, role=settings.db_role, connecting=False)
    if problem is None and not is_unavailable(exc):
        logger.error(
            "clinic bots' webhooks not registered: their accounts could not be read",
            extra={"error_type": type(exc).__name__},
        )
        return
    logger.warning(
        "clinic bots' webhooks not registered: they keep the webhooks they have",
        extra={"problem": problem or f"the database is unavailable ({type(exc).__name__})"},
    )


async def _register_other_bots(settings: Settings, bots: Any) -> None:
    """The webhooks of MEDREMIND_TELEGRAM_BOTS: ``/telegram/webhook/<bot id>``, each with the
    secret derived for it from TELEGRAM_WEBHOOK_SECRET (platforms.telegram_bots)."""
    from platforms.telegram import ALLOWED_UPDATES
    from platforms.telegram_bots import webhook_path, webhook_secret

    others = getattr(bots, "by_id", {})
    default = getattr(bots, "default_id", None)
    assert settings.telegram_webhook_secret is not None and settings.public_base_url
    master = settings.telegram_webhook_secret.get_secret_value()
    for bot_id, sender in others.items():
        if bot_id == default:
            continue
        try:
            await sender.bot.set_webhook(
                url=settings.public_base_url + webhook_path(bot_id),
                secret_token=webhook_secret(master, bot_id),
                allowed_updates=list(ALLOWED_UPDATES),
                max_connections=WEBHOOK_MAX_CONNECTIONS,
            )
            logger.info("telegram webhook registered", extra={"bot": bot_id})
        except Exception as exc:
            logger.error(
                "telegram setWebhook failed",
                extra={"bot": bot_id, "error_type": type(exc).__name__},
            )


async def serve(
    settings: Settings,
    *,
    host: str = "0.0.0.0",  # noqa: S104 (a dyno)
    sockets: list[socket.socket] | None = None,
    register_webhook: bool = True,
    bot_username: str | None = None,
    resume_on_startup: bool = True,
    on_started: Callable[[], None] | None = None,
) -> int:
    """Build senders, register the webhook, serve until stopped; the exit code.

    ``sockets``: listen on these (a worker of :mod:`medremind.web_workers`, whose supervisor bound
    ``$PORT`` and registered the webhook: ``register_webhook=False`` with its ``bot_username``)
    instead of binding ``host:$PORT``. ``on_started`` is called once it serves (the app's
    start-up done, the socket listening).
    """
    from platforms.registry import build_senders
    from platforms.whatsapp_content_store import PostgresContentStore

    # Opened by the app's start-up; created here so the WhatsApp window lookup can use it.
    database = Database(  # see medremind.web.app.create_app
        settings, reset_sessions=False, startup_wait_seconds=settings.db_startup_wait_seconds
    )
    senders = build_senders(
        settings,
        last_inbound_lookup=LastInboundLookup(database),
        content_store=PostgresContentStore(database),
    )
    clinic_bots: asyncio.Task[None] | None = None

    def started() -> None:
        nonlocal clinic_bots
        if register_webhook:
            # In the background: with many clinics and a slow Telegram, waiting would keep the
            # port closed past a platform's boot timeout (Heroku's is 60 s). Once started: a
            # start-up that fails (an unmigrated database) says why, and nothing else.
            clinic_bots = asyncio.create_task(register_clinic_bots(settings, database))
        if on_started is not None:
            on_started()

    try:
        username = bot_username
        if register_webhook:
            username = await register_telegram_webhook(settings, senders)
        app = create_app(
            settings,
            database=database,
            senders=senders,
            bot_username=username,
            resume_on_startup=resume_on_startup,
            clinic_accounts=True,
        )
        config = server_config(app, settings, host=host)
        server = _Server(config)
        server.on_started = started
        try:
            await server.serve(sockets=sockets)
        except SystemExit as exc:  # uvicorn exits this way when it cannot bind or start (3)
            code = int(exc.code or 1)
        else:
            code = 0 if server.started else 1
        startup_error = app.state.web.startup_error
        if startup_error is not None:
            # What is wrong and the fix, on stderr as `medremind worker` says it (exit 1).
            print(f"medremind web: {startup_error}", file=sys.stderr)
            return 1
        return code
    finally:
        if clinic_bots is not None:
            clinic_bots.cancel()
            with contextlib.suppress(BaseException):
                await clinic_bots
        for sender in senders.values():
            with contextlib.suppress(Exception):
                await sender.aclose()
        await database.stop()


async def register_once(settings: Settings) -> str | None:
    """:func:`register_telegram_webhook` with senders of its own (a supervisor's start-up); the
    clinics' bots follow in the background (:func:`register_clinic_bots_in_background`)."""
    from platforms.registry import build_senders

    senders = build_senders(settings)
    try:
        return await register_telegram_webhook(settings, senders)
    finally:
        for sender in senders.values():
            with contextlib.suppress(Exception):
                await sender.aclose()


async def _register_clinic_bots_alone(settings: Settings) -> None:
    database = Database(settings)
    try:
        await register_clinic_bots(settings, database)
    finally:
        await database.stop()


def register_clinic_bots_in_background(settings: Settings) -> threading.Thread:
    """:func:`register_clinic_bots` on a daemon thread with a database of its own, so a
    supervisor binds ``$PORT`` and starts its workers without waiting for Telegram."""
    thread = threading.Thread(
        target=asyncio.run,
        args=(_register_clinic_bots_alone(settings),),
        name="clinic-bot-webhooks",
        daemon=True,
    )
    thread.start()
    return thread
