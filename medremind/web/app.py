"""The web app factory: routes, middleware, JSON errors and the start-up/shutdown lifecycle.

``create_app(settings, database=..., senders=..., clock=...)`` takes its dependencies explicitly;
the web process passes none (the app opens its own pool and builds the configured senders at
start-up), tests pass the test database and loopback fakes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime
from typing import Any

import asyncpg
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.db import Database
from core.db_startup import StartupError
from core.service_limits import publish_limits
from core.settings import Settings
from medremind.web import health, inbound, metrics, telegram_webhook, twilio_webhooks
from medremind.web.allowed_methods import MethodTable
from medremind.web.api_v1.application import build_api, operations
from medremind.web.api_v1.openapi import PREFIX as API_PREFIX
from medremind.web.body_limit import BodyLimitMiddleware
from medremind.web.clinic_admin import ROUTES as CLINIC_ADMIN_ROUTES
from medremind.web.clinic_pause import ROUTES as CLINIC_PAUSE_ROUTES
from medremind.web.errors import EXCEPTION_HANDLERS
from medremind.web.fast_webhook import TelegramWebhookFastPath
from medremind.web.middleware import RequestContextMiddleware, route_words
from medremind.web.patient_app import ROUTES as PATIENT_APP_ROUTES
from medremind.web.patient_app import STATIC_NAMES
from medremind.web.patient_app.live import LiveHub
from medremind.web.state import WebState, utc_now

logger = logging.getLogger(__name__)


class _WebApp(Starlette):
    """Starlette with the Telegram webhook's lean path in front of its middleware stack."""

    def build_middleware_stack(self) -> ASGIApp:
        return TelegramWebhookFastPath(super().build_middleware_stack(), self.state.web)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await super().__call__(scope, receive, send)
            return
        state = self.state.web

        async def say_what_to_fix(message: Message) -> None:
            # Starlette reports a failed start-up with the whole traceback, which uvicorn logs:
            # for a start-up error that says what to fix, the reason is the message.
            if message["type"] == "lifespan.startup.failed" and state.startup_error is not None:
                message = {**message, "message": f"start-up failed: {state.startup_error}"}
            await send(message)

        await super().__call__(scope, receive, say_what_to_fix)


def _routes(api: ASGIApp) -> list[BaseRoute]:
    return [
        Route("/telegram/webhook", telegram_webhook.telegram_webhook, methods=["POST"]),
        # The service's other bots, each under its own secret (platforms/telegram_bots.py).
        Route("/telegram/webhook/{bot}", telegram_webhook.telegram_bot_webhook, methods=["POST"]),
        Route("/twilio/inbound", twilio_webhooks.twilio_inbound, methods=["POST"]),
        Route("/twilio/status", twilio_webhooks.twilio_status, methods=["POST"]),
        Route("/healthz", health.healthz, methods=["GET"]),
        Route("/readyz", health.readyz, methods=["GET"]),
        Route("/metrics", metrics.metrics_endpoint, methods=["GET"]),
        Mount(API_PREFIX, app=api),
        *CLINIC_ADMIN_ROUTES,
        *CLINIC_PAUSE_ROUTES,
        *PATIENT_APP_ROUTES,
    ]


async def _start_clinic_senders(state: WebState) -> None:
    """Clinics' own senders for replies, reloaded in the background as accounts change."""
    from core.inbound_window import LastInboundLookup
    from platforms.whatsapp_content_store import PostgresContentStore
    from scheduler.clinic_senders import ACCOUNTS_CHANNEL, REFRESH_SECONDS, ClinicSenders
    from scheduler.listener import DueListener

    clinics = ClinicSenders(
        state.pool,
        state.settings,
        state.senders,
        state.secret_box,
        last_inbound_lookup=LastInboundLookup(state.database),
        content_store=PostgresContentStore(state.database),
    )
    await state.database.during_startup(clinics.refresh, what="loading provider accounts")
    state.clinic_senders = clinics
    changed = asyncio.Event()

    def announced(_: object) -> None:
        # The LISTEN callback (and each reconnect of it): webhooks look accounts up in the
        # database until the reload below has run (medremind.web.twilio_accounts).
        clinics.announce()
        changed.set()

    async def keep_fresh() -> None:
        announced = False  # an announcement not yet followed by a reload that ran
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), timeout=REFRESH_SECONDS)
            announced = announced or changed.is_set()
            changed.clear()
            try:
                reloaded = await clinics.refresh()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                logger.warning(
                    "loading provider accounts failed", extra={"error": type(exc).__name__}
                )
                continue
            if announced:
                # Since the announcement webhooks looked their account up in the database; from
                # here on they are checked from memory again (unless another one came meanwhile:
                # then this loop runs again). Rare: an account saved, or the LISTEN reconnected.
                logger.info(
                    "provider accounts checked after an announcement",
                    extra={"reloaded": reloaded, "current": clinics.current},
                )
                announced = False

    listener = DueListener(state.database.connect, announced, channel=ACCOUNTS_CHANNEL)
    for name, work in (("provider-accounts", keep_fresh()), ("accounts-listen", listener.run())):
        task = asyncio.create_task(work, name=name)
        state.tasks.add(task)
        task.add_done_callback(state.tasks.discard)


def create_app(
    settings: Settings,
    *,
    database: Database | None = None,
    senders: Mapping[Any, Any] | None = None,
    clock: Callable[[], datetime] | None = None,
    bot_username: str | None = None,
    resume_on_startup: bool = True,
    inbound_sweep_seconds: float = inbound.SWEEP_SECONDS,
    detach_processing: bool = True,
    clinic_accounts: bool | None = None,
) -> Starlette:
    """The ASGI app.

    ``database``: a ``core.db.Database`` (started or not; the app starts it and, when it created
    it itself, stops it). ``senders``: channel -> ``ChannelSender`` for the conversation engine
    (default: ``platforms.registry.build_senders(settings)`` at start-up, closed at shutdown).
    ``clock``: aware-UTC now. ``bot_username``: for invite links. ``resume_on_startup``: process
    inbound updates left unprocessed by an earlier process, in the background, at start-up, and
    then every ``inbound_sweep_seconds`` those another process left (:func:`inbound.resume`).
    ``detach_processing``: process inbound updates in detached tasks after the 200 (False: inside
    the request's background task, so a test client sees the effects when the call returns).
    ``clinic_accounts``: replies to a clinic's own number leave from it (clinics' provider
    accounts loaded over ``senders``); by default when the app builds its own senders.
    """
    own_database = database is None
    state = WebState(
        settings=settings,
        # Web requests leave no session state (no SET, LISTEN or session advisory locks on pooled
        # connections), so releasing a connection needs no reset query: one round trip fewer
        # per pool use, two per Telegram update.
        database=database or Database(settings, reset_sessions=False),
        senders=senders,
        clock=clock or utc_now,
        bot_username=bot_username,
        detach_processing=detach_processing,
    )
    own_senders = senders is None
    live = LiveHub(state)  # the patient app's open sockets (live reminders)
    api = build_api(state)
    routes = _routes(api)
    # Metric labels: each endpoint's path template (the API's, with the prefix it is mounted at).
    templates: dict[object, str] = {
        route.endpoint: route.path for route in routes if isinstance(route, Route | WebSocketRoute)
    }
    templates.update((endpoint, API_PREFIX + path) for path, _, endpoint in operations(api))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Both again while PostgreSQL restarts, within MEDREMIND_DB_STARTUP_WAIT_SECONDS in all
        # (core.db_startup); so is the clinics' accounts' first load below.
        try:
            await state.database.start()
            await state.database.during_startup(  # for the dashboard's length checks
                lambda: publish_limits(state.pool, settings), what="publishing limits"
            )
            if own_senders:
                from core.inbound_window import LastInboundLookup
                from platforms.registry import build_senders
                from platforms.whatsapp_content_store import PostgresContentStore

                # As the worker builds them: without the lookup WhatsApp counts every chat as
                # outside its 24-hour window, and a reply to a patient who just wrote failed
                # ("template required"), since no template serves a bot reply.
                state.senders = build_senders(
                    settings,
                    last_inbound_lookup=LastInboundLookup(state.database),
                    content_store=PostgresContentStore(state.database),
                    clock=state.clock,
                )
            if clinic_accounts if clinic_accounts is not None else own_senders:
                await _start_clinic_senders(state)
        except StartupError as exc:
            state.startup_error = exc  # `medremind web` prints it and exits 1
            raise
        await live.start()
        if resume_on_startup:
            task = asyncio.create_task(
                inbound.resume(state, inbound_sweep_seconds), name="resume-inbound"
            )
            state.tasks.add(task)
            task.add_done_callback(state.tasks.discard)
        try:
            yield
        finally:
            # uvicorn spent up to the other half of the grace finishing open requests; Heroku
            # kills 30 s after SIGTERM, and whatever is cut short here is resumed next start.
            unfinished = await inbound.drain(state, settings.shutdown_grace_seconds / 2)
            if unfinished:
                logger.warning(
                    "inbound updates left for the next start-up", extra={"count": unfinished}
                )
            await live.stop()
            for task in list(state.tasks):
                task.cancel()
            await asyncio.gather(*state.tasks, return_exceptions=True)
            if state.clinic_senders is not None:
                await state.clinic_senders.aclose()
            if own_senders and state.senders:
                for sender in state.senders.values():
                    with contextlib.suppress(Exception):
                        await sender.aclose()
            if own_database:
                await state.database.stop()

    # The Starlette route stays for what the lean path leaves to it (a mounted root path).
    app = _WebApp(
        routes=routes,
        middleware=[
            Middleware(
                RequestContextMiddleware,
                route_of=templates.get,
                path_words=route_words(templates.values()) | STATIC_NAMES,
            ),
            # Inside the request context, so a 413 is logged and counted like any answer.
            Middleware(BodyLimitMiddleware),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    app.state.web = state
    app.state.patient_live = live
    app.state.method_table = MethodTable.of(
        (route.path, route.methods)
        for route in routes
        if isinstance(route, Route) and route.methods
    )
    return app
