"""``POST /telegram/webhook``: Telegram's updates, authenticated by the webhook secret token.

Telegram sends the secret given at ``setWebhook`` in ``X-Telegram-Bot-Api-Secret-Token``. It is
compared in constant time; a missing or wrong header, or no secret configured at all (fail
closed), answers 403 before the body is even read, so nothing is stored.

A button press is answered in the webhook response itself (Telegram's "reply with a method"
feature: ``{"method": "answerCallbackQuery", ...}`` in the 200's body): the patient's spinner stops
with the acknowledgement instead of after processing, and the bot is spared one Bot API call.
The stored event then carries no ``callback_query_id``, so processing does not answer it again;
a redelivered duplicate gets the same answer in its response.
"""

from __future__ import annotations

import dataclasses
import hmac
import logging
import time
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot import texts
from core.answer_buttons import SNOOZE_MINUTES_MAX, SNOOZE_MINUTES_MIN, snooze_refused
from medremind.web import inbound, json_input
from medremind.web.body_limit import (
    CLOSE_HEADERS,
    BodyTooLarge,
    declared_too_large,
    limit_for,
    too_large_response,
)
from medremind.web.errors import error_response
from medremind.web.metrics import INBOUND_UPDATES, WEBHOOK_DROPPED
from medremind.web.state import WebState, web_state
from medremind.web.telegram_late import written_at
from medremind.web.telegram_other import other_update
from medremind.web.telegram_updates import parse_button_update
from platforms.base import Channel, InboundEvent
from platforms.telegram_essentials import essentials

logger = logging.getLogger(__name__)

SECRET_HEADER = "x-telegram-bot-api-secret-token"  # noqa: S105 (a header name)
# An update to a bot this process does not know reloads the clinics' bots at most this often.
BOTS_RELOAD_SECONDS = 1.0
MAX_BODY_BYTES = limit_for("/telegram/webhook")


def _parse_fully(update: dict) -> InboundEvent | None:
    """``update``'s event by python-telegram-bot; ``update`` is its essentials (the caller's)."""
    from platforms.telegram import parse_update

    try:
        return parse_update(update)
    except Exception as exc:  # any parser failure on an authenticated update
        # Authenticated but unparseable: acknowledge, or Telegram would redeliver it for a day.
        logger.warning("unparseable telegram update", extra={"error_type": type(exc).__name__})
        return None


# The event's fields that are text and numbers: python-telegram-bot builds an Update from any
# JSON without checking types, so a button's data of 5 reached a regular expression (a 500 that
# Telegram redelivers for a day) and a text of ["a"] was stored as a patient's message.
_TEXT_FIELDS = (
    "text",
    "button_data",
    "phone_number",
    "display_name",
    "language_code",
    "reply_to_message_id",
    "callback_query_id",
)
_NUMBER_FIELDS = ("latitude", "longitude")


def _well_typed(event: InboundEvent) -> bool:
    """Whether ``event``'s fields have the types Telegram sends: a chat id is an integer."""
    digits = event.chat_address.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()):  # isdigit() alone takes "٣" (Arabic three)
        return False
    for name in _TEXT_FIELDS:
        value = getattr(event, name)
        if value is not None and not isinstance(value, str):
            return False
    for name in _NUMBER_FIELDS:
        value = getattr(event, name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            return False
    return True


def _dropped(problem: str) -> Response:
    """Acknowledge an authenticated body that cannot be used: Telegram would redeliver anything
    but a 200 for hours, and a redelivery would not make it usable. Counted, never stored."""
    WEBHOOK_DROPPED.labels("telegram", problem).inc()
    logger.warning("telegram update dropped", extra={"problem": problem})
    return JSONResponse({"ok": True})


def secret_matches(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison; False when either side is missing or empty."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


async def telegram_webhook(request: Request) -> Response:
    """Verify, store (unique by ``update_id``), answer 200, then process in the background."""
    return await answer_update(
        web_state(request),
        request.headers.get(SECRET_HEADER),
        request.headers.get("content-length"),
        request.body,
    )


async def telegram_bot_webhook(request: Request) -> Response:
    """``POST /telegram/webhook/{bot}``: the updates of one of the service's other bots
    (``MEDREMIND_TELEGRAM_BOTS``), under that bot's own secret (platforms.telegram_bots)."""
    return await answer_bot_update(
        web_state(request),
        request.path_params["bot"],
        request.headers.get(SECRET_HEADER),
        request.headers.get("content-length"),
        request.body,
    )


async def answer_bot_update(
    state: WebState,
    bot: str,
    secret: str | None,
    content_length: str | None,
    read_body: Callable[[], Awaitable[bytes]],
) -> Response:
    """:func:`answer_update` for bot ``bot``'s webhook (shared with the lean path): 404 for a
    bot this service does not have, before anything is read."""
    # The service's bots, and the clinics' own (provider accounts of channel telegram); a bot
    # saved since this process loaded the accounts is loaded now (one query when none was).
    known = state.sender_for_number(Channel.TELEGRAM, bot) is not None
    now = time.monotonic()
    if (
        not known
        and state.clinic_senders is not None
        and bot.isdigit()
        and len(bot) <= 20
        # At most once a second, and only for an update that carries the bot's own secret:
        # anyone can post to /telegram/webhook/<any number>.
        and now - state.bots_reloaded_at >= BOTS_RELOAD_SECONDS
        and secret_matches(_bot_secret(state, bot), secret)
    ):
        state.bots_reloaded_at = now
        await state.clinic_senders.refresh()
        known = state.sender_for_number(Channel.TELEGRAM, bot) is not None
    if not known:
        INBOUND_UPDATES.labels("telegram", "rejected").inc()
        why = "no such bot here: its token is not in MEDREMIND_TELEGRAM_BOTS"
        return error_response(404, why, headers=CLOSE_HEADERS)
    default = getattr((state.senders or {}).get(Channel.TELEGRAM), "default_id", None)
    return await answer_update(
        state, secret, content_length, read_body, bot=None if bot == default else bot
    )


def _snooze_refusal(event: InboundEvent, default_locale: str) -> dict[str, object]:
    """The webhook's answer to a press whose snooze length no button offers: the range, as an
    alert the patient must dismiss (Telegram shows at most 200 characters of it)."""
    locale = texts.pick_locale(event.language_code, default_locale)
    low, high = SNOOZE_MINUTES_MIN, SNOOZE_MINUTES_MAX
    return {
        "method": "answerCallbackQuery",
        "callback_query_id": event.callback_query_id,
        "text": texts.text(locale, "snooze_minutes_range", low=low, high=high, hours=high // 60),
        "show_alert": True,
    }


def _bot_secret(state: WebState, bot: str | None) -> str | None:
    """The webhook secret of bot ``bot`` (None: the default bot's, ``TELEGRAM_WEBHOOK_SECRET``
    itself, from which the others' are derived); None when none is configured (all refused)."""
    configured = state.settings.telegram_webhook_secret
    expected = configured.get_secret_value() if configured is not None else None
    if bot is not None and expected:
        from platforms.telegram_bots import webhook_secret

        return webhook_secret(expected, bot)
    return expected


async def answer_update(
    state: WebState,
    secret: str | None,
    content_length: str | None,
    read_body: Callable[[], Awaitable[bytes]],
    *,
    bot: str | None = None,
) -> Response:
    """The webhook's answer from the secret and length headers and the body reader.

    Shared by the Starlette route and the lean ASGI path in :mod:`medremind.web.fast_webhook`,
    so both answer alike; the body is read only once the secret has matched.

    ``bot``: the update came to another bot than the default (its id): its own secret is
    expected, its ``update_id`` is stored as ``<bot>:<update_id>`` (each bot counts its own),
    and the event names the bot (``to_address``), so the replies go out through it.
    """
    if declared_too_large(content_length, MAX_BODY_BYTES):
        return too_large_response(MAX_BODY_BYTES)
    if not secret_matches(_bot_secret(state, bot), secret):
        INBOUND_UPDATES.labels("telegram", "rejected").inc()
        # The body stays unread: close rather than let the server drain it (see body_limit).
        return error_response(403, "bad or missing webhook secret", headers=CLOSE_HEADERS)
    try:
        body = await read_body()
    except BodyTooLarge:
        return too_large_response(MAX_BODY_BYTES)
    try:
        update = json_input.decode(body)
    except json_input.UnsafeJson as exc:
        return _dropped(exc.problem)
    if not isinstance(update, dict):
        return _dropped("not_object")

    # Only what the bot reads of the update is parsed and stored: the work per update is bounded
    # by those fields, not by what else fills the body (platforms.telegram_essentials).
    kept = essentials(update)
    event = parse_button_update(update)  # the hot path; None: let the full parser decide
    if event is None:
        event = _parse_fully(kept)
    if event is None:
        # No message or press of a patient (telegram_other): a block or an unblock, a group's
        # command (told to write privately), an edit (told to send it again), or ignored; the
        # answer goes in the response, and Telegram does not retry.
        outcome, method = await other_update(
            state.pool,
            update,
            bot=bot,
            default_bot=getattr((state.senders or {}).get(Channel.TELEGRAM), "default_id", None),
            username=state.bot_username if bot is None else state.telegram_usernames.get(bot),
            default_locale=state.settings.default_locale,
        )
        INBOUND_UPDATES.labels("telegram", outcome).inc()
        return JSONResponse(method or {"ok": True})
    if not _well_typed(event):
        return _dropped("wrong_types")
    if event.callback_query_id and event.button_data and snooze_refused(event.button_data):
        # A snooze length no button offers (forged data): refused with the range, nothing
        # stored, recorded or sent, rather than clamped to a length the patient never chose.
        INBOUND_UPDATES.labels("telegram", "refused").inc()
        return JSONResponse(_snooze_refusal(event, state.settings.default_locale))
    if bot is not None:
        event = dataclasses.replace(event, provider_id=f"{bot}:{event.provider_id}", to_address=bot)
    late = written_at(update, state.clock(), time.time())
    if late is not None:  # held back by Telegram: it answers what was open when written
        event = dataclasses.replace(event, written_at=late)
    answer: dict[str, object] = {"ok": True}
    if event.callback_query_id:
        answer = {"method": "answerCallbackQuery", "callback_query_id": event.callback_query_id}
        event = dataclasses.replace(event, callback_query_id=None)
    # JSON can only carry a NUL as the escape \u0000 (a raw control character is refused by
    # json.loads), so a body without either holds none and the NUL-stripping copy is skipped.
    nul_free = b"\\u0000" not in body and b"\x00" not in body
    task = await inbound.accept(state, event, kept, nul_free=nul_free)
    return JSONResponse(answer, background=task)
