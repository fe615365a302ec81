"""Telegram through python-telegram-bot's ``Bot``, against any Bot API server.

``base_url`` is the server's origin (``TELEGRAM_API_BASE_URL``: Telegram's, a self-hosted Bot API
server, or a loopback fake); requests go to ``<base_url>/bot<token>/<method>``, or to
``<base_url>/bot<token>/test/<method>`` for Telegram's test environment.

HTTP goes through :class:`platforms.telegram_request.AiohttpRequest` (PTB's ``BaseRequest`` port
on aiohttp, one connection pool per sender). The hot calls (sendMessage, editMessageText,
answerCallbackQuery) build their body here and read only what they need from ``result``; every
other call (uploads, webhook set-up) goes through PTB's ``Bot``. Either way a non-2xx answer
becomes the same PTB ``TelegramError``, so the table below is the only classification.

Rendering (:mod:`platforms.telegram_text`): messages are sent in HTML parse mode. Templates
render ``html`` with every variable escaped; a message without ``html`` has its whole text
escaped. Options become an inline keyboard whose
``callback_data`` must fit Telegram's 64 bytes (checked before any request). Texts over 4,096
characters are split on paragraph, then line, then word boundaries; the keyboard rides on the last
part, whose id is the receipt's (so it can be edited after the patient answers). A text with one
file and no keyboard goes as the file's caption when it fits (1,024 characters): one message.

Errors are classified in one table, :func:`classify_telegram_error`::

    403 bot was blocked by the user           PermanentError(DEACTIVATE)
    403 bot can't initiate conversation       PermanentError(DEACTIVATE)
    403 user is deactivated                   PermanentError(DEACTIVATE)
    400 chat not found                        PermanentError(DEACTIVATE)
    other 400 / 403                           PermanentError
    429 (parameters.retry_after)              RateLimitedError(retry_after)
    401 / 404 token rejected                  CredentialsRefusedError (the account's messages wait)
    timeouts, network errors, 5xx             TransientError
    400 with parameters.migrate_to_chat_id    resent to the new chat; Receipt.new_address
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

# Opt in to python-telegram-bot's timedelta time periods (its documented switch). Without it every
# RetryAfter warns PTBDeprecationWarning on construction, and tests run with warnings as errors.
os.environ.setdefault("PTB_TIMEDELTA", "true")

from telegram import Bot, Update
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from platforms.base import (
    Channel,
    ConfigurationError,
    ContactEffect,
    CredentialsRefusedError,
    DeliveryError,
    InboundEvent,
    InboundKind,
    OutboundMessage,
    OutcomeUnknownError,
    PermanentError,
    RateLimitedError,
    Receipt,
    TransientError,
)
from platforms.telegram_request import AiohttpRequest
from platforms.telegram_text import (
    MAX_CALLBACK_DATA_BYTES,
    MAX_TEXT_UNITS,
    build_keyboard,
    keyboard_json,
    message_html,
    split_text,
    utf16_units,
)

if TYPE_CHECKING:
    from core.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.telegram.org"
PHOTO_TYPES = frozenset({"image/png", "image/jpeg", "image/webp"})
# A photo's or document's caption, at most (Bot API); a longer text goes as its own message.
MAX_CAPTION_UNITS = 1024

# Descriptions that say the chat can never receive from us again, lower case, matched as substrings.
_DEAD_CHAT_DESCRIPTIONS: tuple[str, ...] = (
    "bot was blocked by the user",
    "bot can't initiate conversation with a user",
    "user is deactivated",
    "chat not found",
    "bot was kicked",
    "bot is not a member",
)
_NOT_MODIFIED = "message is not modified"
_TOKEN_IN_URL = re.compile(r"/bot[^/\s]+")
_STALE_CALLBACK = "query is too old"


class TelegramSender:
    """Sends, edits and answers on Telegram (one connection pool); ``async with`` closes it."""

    channel = Channel.TELEGRAM

    def __init__(
        self,
        token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        test_environment: bool = False,
        timeout: float = 10.0,
        connection_pool_size: int = 64,
    ) -> None:
        if not token:
            raise ConfigurationError("Telegram needs TELEGRAM_BOT_TOKEN to be set")
        base = base_url.rstrip("/")
        suffix = "/test" if test_environment else ""
        # aiohttp behind PTB's BaseRequest port: PTB's default httpx backend cost over 1 ms of
        # CPU per call here. Long polling (getUpdates) gets its own one-connection request, so a
        # pending getUpdates never holds a connection the sends need.
        self._request = AiohttpRequest(
            connection_pool_size=connection_pool_size,
            read_timeout=timeout,
            write_timeout=timeout,
            connect_timeout=timeout,
            pool_timeout=timeout,
        )
        self._updates_request = AiohttpRequest(connection_pool_size=1)
        # The fleet's rate limits are per bot; the bot's id (before the colon) is not secret.
        self.rate_key = f"telegram:{token.split(':', 1)[0]}"
        self._api_url = f"{base}/bot{token}{suffix}"
        self._bot = Bot(
            token,
            base_url=f"{base}/bot{{token}}{suffix}",
            base_file_url=f"{base}/file/bot{{token}}{suffix}",
            request=self._request,
            get_updates_request=self._updates_request,
        )
        self._closed = False

    @classmethod
    def from_settings(cls, settings: Settings) -> TelegramSender:
        """Build from ``TELEGRAM_BOT_TOKEN`` and ``TELEGRAM_API_BASE_URL``.

        The connection pool is as large as the dispatcher's concurrency
        (``MEDREMIND_WORKER_CONCURRENCY``), so no send in flight waits for a connection.
        """
        token = settings.telegram_bot_token
        return cls(
            token.get_secret_value() if token else "",
            base_url=settings.telegram_api_base_url,
            connection_pool_size=settings.worker_concurrency,
        )

    @property
    def bot(self) -> Bot:
        """The underlying ``Bot``, for webhook set-up by the web process."""
        return self._bot

    async def __aenter__(self) -> TelegramSender:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- sending ---------------------------------------------------------------------------

    async def send(
        self, address: str, message: OutboundMessage, *, paid_broadcast: bool = False
    ) -> Receipt:
        """Send text (split if long) with its keyboard, then any attachments.

        ``paid_broadcast``: ``allow_paid_broadcast`` on each ``sendMessage`` (up to 1,000/s for
        0.1 Stars a message; ``platforms.telegram_bots.PaidBroadcast``); the receipt's
        ``paid_parts`` says how many messages were paid for.
        """
        try:
            return await self._deliver(address, message, paid_broadcast)
        except ChatMigrated as migrated:
            new_address = str(migrated.new_chat_id)
            log.info("telegram chat migrated; resending to the new chat id")
            try:
                receipt = await self._deliver(new_address, message, paid_broadcast)
            except TelegramError as exc:
                raise classify_telegram_error(exc) from exc
            return replace(receipt, new_address=new_address)
        except TelegramError as exc:
            raise classify_telegram_error(exc) from exc

    def text_parts(self, message: OutboundMessage) -> int:
        """How many ``sendMessage`` calls :meth:`send` makes for ``message`` (the ones
        ``allow_paid_broadcast`` applies to; a lone file with its text as caption makes none)."""
        body = message_html(message)
        if not body.strip():
            return 0
        caption = len(message.attachments) == 1 and utf16_units(body) <= MAX_CAPTION_UNITS
        if caption and keyboard_json(message.options, message.columns) is None:
            return 0  # as in _deliver: the text goes as the lone file's caption
        return len(split_text(body, MAX_TEXT_UNITS))

    async def _deliver(
        self, address: str, message: OutboundMessage, paid_broadcast: bool = False
    ) -> Receipt:
        chat_id = _chat_id(address)
        body = message_html(message)
        keyboard = keyboard_json(message.options, message.columns)
        if not body.strip() and not message.attachments:
            raise PermanentError("nothing to send: empty text and no attachments", code="empty")
        one_file = len(message.attachments) == 1 and keyboard is None
        if one_file and body.strip() and utf16_units(body) <= MAX_CAPTION_UNITS:
            # One call, the text as the file's caption: the text cannot arrive without its file,
            # nor twice when the upload fails and the message is sent again.
            posted = await self._upload(chat_id, message.attachments[0], caption=body)
            log.debug("telegram sent message_id=%s parts=1", posted)
            return Receipt(
                provider_message_id=str(posted),
                channel=Channel.TELEGRAM,
                response={"message_id": posted, "message_ids": [posted]},
            )
        sent: list[int] = []
        if body.strip():
            parts = split_text(body, MAX_TEXT_UNITS)
            for index, part in enumerate(parts):
                payload: dict[str, Any] = {"chat_id": chat_id, "text": part, "parse_mode": "HTML"}
                if keyboard is not None and index == len(parts) - 1:
                    payload["reply_markup"] = keyboard
                if paid_broadcast:
                    payload["allow_paid_broadcast"] = True
                result = await self._call("sendMessage", payload)
                sent.append(int(result["message_id"]))
        text_message = sent[-1] if sent else None
        for attachment in message.attachments:
            sent.append(await self._upload(chat_id, attachment))
        primary = text_message if text_message is not None else sent[-1]
        # DEBUG, not INFO: a JSON line per send, scrubbed of sensitive values, cost ~28 us of
        # CPU, as much as the rest of a send (issue 20); each send is in its attempt row and
        # medremind_messages_sent. MEDREMIND_LOG_LEVEL=DEBUG shows it.
        log.debug("telegram sent message_id=%s parts=%d", primary, len(sent))
        response: dict[str, Any] = {"message_id": primary, "message_ids": sent}
        if paid_broadcast:
            response["paid_parts"] = len(sent) - len(message.attachments)
        return Receipt(
            provider_message_id=str(primary), channel=Channel.TELEGRAM, response=response
        )

    async def _upload(
        self, chat_id: int | str, attachment: tuple[str, str, bytes], caption: str | None = None
    ) -> int:
        """Send one file (a photo when it is an image Telegram shows as one); its message id.
        Uploads go through PTB's Bot (multipart; rare)."""
        filename, content_type, data = attachment
        extra: dict[str, Any] = {"caption": caption, "parse_mode": "HTML"} if caption else {}
        if content_type in PHOTO_TYPES:
            posted = await self._bot.send_photo(
                chat_id=chat_id, photo=data, filename=filename, **extra
            )
        else:
            posted = await self._bot.send_document(
                chat_id=chat_id, document=data, filename=filename, **extra
            )
        return int(posted.message_id)

    async def _call(self, method: str, payload: dict[str, Any]) -> Any:
        # The hot calls skip PTB's Bot (~0.3 ms of CPU a call in its objects) but not its error
        # handling: a non-2xx answer raises exactly the TelegramError that Bot would raise.
        return await self._request.post_json(f"{self._api_url}/{method}", payload)

    async def edit(self, address: str, message_id: str | int, message: OutboundMessage) -> Receipt:
        """Replace a sent message's text and keyboard (no options removes the keyboard).

        Editing to the same content is not an error: Telegram's "message is not modified" counts
        as success, so a repeated edit after a retry is harmless.
        """
        body = message_html(message)
        if utf16_units(body) > MAX_TEXT_UNITS:
            raise PermanentError("edited text longer than 4096 characters", code="too_long")
        keyboard = keyboard_json(message.options, message.columns)
        payload: dict[str, Any] = {
            "chat_id": _chat_id(address),
            "message_id": int(message_id),
            "text": body,
            "parse_mode": "HTML",
        }
        if keyboard is not None:
            payload["reply_markup"] = keyboard
        try:
            await self._call("editMessageText", payload)
        except BadRequest as exc:
            if _NOT_MODIFIED not in str(exc).lower():
                raise classify_telegram_error(exc) from exc
        except TelegramError as exc:
            raise classify_telegram_error(exc) from exc
        return Receipt(provider_message_id=str(message_id), channel=Channel.TELEGRAM)

    async def answer_callback(
        self, callback_query_id: str, text: str | None = None, *, show_alert: bool = False
    ) -> bool:
        """Stop the button's spinner, optionally with a toast; ``False`` if the query expired."""
        # Encoded as PTB's Bot.answer_callback_query encodes it (urlencoded, JSON booleans).
        fields = {"callback_query_id": callback_query_id}
        if text is not None:
            fields["text"] = text
        fields["show_alert"] = "true" if show_alert else "false"
        try:
            await self._request.post_form(f"{self._api_url}/answerCallbackQuery", fields)
        except BadRequest as exc:
            if _STALE_CALLBACK in str(exc).lower():
                return False  # answered too late; the patient's press is still processed
            raise classify_telegram_error(exc) from exc
        except TelegramError as exc:
            raise classify_telegram_error(exc) from exc
        return True

    async def aclose(self) -> None:
        """Close the HTTP connection pools; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        await self._request.shutdown()
        await self._updates_request.shutdown()


def _chat_id(address: str) -> int | str:
    return int(address) if re.fullmatch(r"-?\d+", address.strip()) else address.strip()


# ------------------------------------------------------------------------------------------
# the error table


def classify_telegram_error(exc: TelegramError) -> DeliveryError:
    """Translate a python-telegram-bot error into our error tree (the one table)."""
    # Network errors can quote the request URL, which holds the bot token.
    description = _TOKEN_IN_URL.sub("/bot<token>", str(exc))
    lowered = description.lower()
    if isinstance(exc, RetryAfter):
        return RateLimitedError(
            "Telegram flood control", retry_after=_retry_after_seconds(exc), code="429"
        )
    if isinstance(exc, InvalidToken):
        return CredentialsRefusedError("Telegram rejected the bot token", code="401")
    if isinstance(exc, Forbidden | BadRequest):
        status = "403" if isinstance(exc, Forbidden) else "400"
        for fragment in _DEAD_CHAT_DESCRIPTIONS:
            if fragment in lowered:
                return PermanentError(
                    f"Telegram: {fragment}", code=status, effect=ContactEffect.DEACTIVATE
                )
        return PermanentError(f"Telegram refused the request: {description}", code=status)
    if isinstance(exc, ChatMigrated):
        return PermanentError("Telegram chat migrated again", code="400")
    if isinstance(exc, TimedOut):
        if "was *not* sent" in str(exc):  # PTB's pool timeout: waited for a connection only
            return TransientError("Telegram request timed out")
        return OutcomeUnknownError("Telegram request timed out")
    if isinstance(exc, NetworkError):
        return TransientError(f"Telegram network or server error: {description}")
    return TransientError(f"Telegram error: {description}")


def _retry_after_seconds(exc: RetryAfter) -> float:
    # ``RetryAfter.retry_after`` warns (PTB's int -> timedelta migration); read the stored value.
    value: Any = getattr(exc, "_retry_after", None)
    if value is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


# ------------------------------------------------------------------------------------------
# inbound

# The one chat type (Telegram's ``Chat.type``) whose updates reach the bot: a patient's own chat.
PRIVATE_CHAT = "private"
# The updates every bot of the service asks for (setWebhook, getUpdates): messages and presses;
# edits, to say that they are not read (medremind.web.telegram_unread); and the person blocking
# or unblocking the bot (medremind.web.telegram_members).
ALLOWED_UPDATES = ("message", "edited_message", "callback_query", "my_chat_member")


def parse_update(update_json: dict[str, Any]) -> InboundEvent | None:
    """A Telegram ``Update`` (webhook JSON) as an :class:`InboundEvent`, or ``None`` to ignore.

    Text (commands included), button presses, shared contacts and locations are understood;
    edits, member updates and other content are ignored. A shared contact carries
    ``phone_number`` only when it is the sender's own (Telegram's ``user_id`` matches), so nobody
    can register someone else's number. Only a private chat is a patient's: a message or a press
    in a group, a supergroup or a channel is ignored (every member would see the patient's
    medicines and could answer their doses; the webhook says so: medremind.web.telegram_chats).
    """
    update = Update.de_json(update_json, None)
    provider_id = str(update.update_id)
    query = update.callback_query
    if query is not None:
        if query.message is not None and query.message.chat.type != PRIVATE_CHAT:
            return None
        user = query.from_user
        chat = query.message.chat.id if query.message is not None else user.id
        return InboundEvent(
            channel=Channel.TELEGRAM,
            provider_id=provider_id,
            chat_address=str(chat),
            kind=InboundKind.BUTTON,
            button_data=query.data,
            display_name=user.full_name,
            language_code=user.language_code,
            reply_to_message_id=(
                str(query.message.message_id) if query.message is not None else None
            ),
            callback_query_id=query.id,
        )
    message = update.message
    if message is None or message.chat.type != PRIVATE_CHAT:
        return None
    sender = message.from_user
    common: dict[str, Any] = {
        "channel": Channel.TELEGRAM,
        "provider_id": provider_id,
        "chat_address": str(message.chat.id),
        "display_name": sender.full_name if sender else None,
        "language_code": sender.language_code if sender else None,
    }
    if message.contact is not None:
        contact = message.contact
        own = sender is not None and contact.user_id == sender.id
        phone = contact.phone_number if own else None
        if phone and not phone.startswith("+"):
            phone = "+" + phone  # Telegram sends digits only for some clients
        return InboundEvent(kind=InboundKind.CONTACT, phone_number=phone, **common)
    if message.location is not None:
        return InboundEvent(
            kind=InboundKind.LOCATION,
            latitude=message.location.latitude,
            longitude=message.location.longitude,
            **common,
        )
    if message.text is not None:
        return InboundEvent(kind=InboundKind.TEXT, text=message.text, **common)
    return None


__all__ = [
    "ALLOWED_UPDATES",
    "DEFAULT_BASE_URL",
    "MAX_CALLBACK_DATA_BYTES",
    "PRIVATE_CHAT",
    "TelegramSender",
    "build_keyboard",
    "classify_telegram_error",
    "keyboard_json",
    "message_html",
    "parse_update",
    "split_text",
]
