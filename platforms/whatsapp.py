"""WhatsApp through Twilio (``whatsapp:+E164`` addresses).

WhatsApp allows free-form text only within 24 hours of the patient's last inbound message. Inside
that window the text goes out with the options as numbered replies; outside it, an approved
template is sent by ``ContentSid`` (from a kind -> Content SID mapping) with ``ContentVariables``
built from :attr:`OutboundMessage.variables` (display strings; name the template's variables like
ours, e.g. ``{{due_at}}``). A kind with no mapped template outside the window fails with
``PermanentError(code="template_required")`` before any HTTP, so the dispatcher tries the patient's
next channel.

The window is computed from an injected ``last_inbound_at(number)`` lookup (sync or async; the
dispatcher reads it from the database) and an injected clock. Without a lookup every send counts
as outside the window: a template, never a free-form message Twilio would reject with 63016.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx

from core.templating import WHATSAPP_MAX_CHARS, with_numbered_options
from platforms.base import (
    Channel,
    ConfigurationError,
    OutboundMessage,
    PermanentError,
    Receipt,
)
from platforms.twilio_common import (
    DEFAULT_API_BASE_URL,
    DEFAULT_TIMEOUT_SECONDS,
    TwilioMessages,
    normalize_e164,
    status_callback_url,
)

if TYPE_CHECKING:
    from core.settings import Settings

log = logging.getLogger(__name__)

SESSION_WINDOW = timedelta(hours=24)
PREFIX = "whatsapp:"

# address (bare E.164) -> when the patient last wrote to us, or None; may be a coroutine function.
LastInboundLookup = Callable[[str], "datetime | Awaitable[datetime | None] | None"]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class WhatsAppSender:
    """Sends WhatsApp messages through Twilio, honouring the 24-hour customer-service window."""

    channel = Channel.WHATSAPP

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        from_number: str,
        content_sids: Mapping[str, str] | None = None,
        last_inbound_at: LastInboundLookup | None = None,
        clock: Callable[[], datetime] = _utcnow,
        api_base_url: str = DEFAULT_API_BASE_URL,
        status_callback: str | None = None,
        window: timedelta = SESSION_WINDOW,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not from_number:
            raise ConfigurationError("WhatsApp needs TWILIO_WHATSAPP_FROM to be set")
        self.from_address = from_number if from_number.startswith(PREFIX) else PREFIX + from_number
        self.content_sids = dict(content_sids or {})
        self.last_inbound_at = last_inbound_at
        self.clock = clock
        self.window = window
        self.status_callback = status_callback
        self._messages = TwilioMessages(
            account_sid,
            auth_token,
            api_base_url=api_base_url,
            timeout=timeout,
            transport=transport,
        )

    @classmethod
    def from_settings(
        cls, settings: Settings, *, last_inbound_at: LastInboundLookup | None = None
    ) -> WhatsAppSender:
        """Build from ``TWILIO_*`` (incl. ``TWILIO_WHATSAPP_CONTENT_SIDS``) and the lookup."""
        token = settings.twilio_auth_token
        return cls(
            settings.twilio_account_sid or "",
            token.get_secret_value() if token else "",
            from_number=settings.twilio_whatsapp_from or "",
            content_sids=settings.twilio_whatsapp_content_sids,
            last_inbound_at=last_inbound_at,
            api_base_url=settings.twilio_api_base_url,
            status_callback=status_callback_url(settings.public_base_url),
        )

    async def in_window(self, number: str) -> bool:
        """True when ``number`` (bare E.164) wrote to us within the window."""
        if self.last_inbound_at is None:
            return False
        last = self.last_inbound_at(number)
        if inspect.isawaitable(last):
            last = await last
        if last is None:
            return False
        if last.tzinfo is None:  # a naive timestamp from the database is UTC
            last = last.replace(tzinfo=UTC)
        return self.clock() - last < self.window

    async def send(self, address: str, message: OutboundMessage) -> Receipt:
        """Send free-form text inside the window, else the kind's approved template."""
        number = normalize_e164(address)
        params: dict[str, Any] = {"to": PREFIX + number, "from_": self.from_address}
        if await self.in_window(number):
            body = with_numbered_options(message.text, message.options)
            if len(body) > WHATSAPP_MAX_CHARS:
                raise PermanentError(
                    f"WhatsApp text too long: {len(body)} characters, at most {WHATSAPP_MAX_CHARS}",
                    code="too_long",
                )
            params["body"] = body
            mode = "freeform"
        else:
            content_sid = self.content_sids.get(message.kind)
            if not content_sid:
                raise PermanentError(
                    f"template required: no approved WhatsApp template for kind {message.kind!r} "
                    "and the patient has not written in the last 24 hours",
                    code="template_required",
                )
            params["content_sid"] = content_sid
            params["content_variables"] = json.dumps(message.variables, ensure_ascii=False)
            mode = "template"
        if self.status_callback:
            params["status_callback"] = self.status_callback
        result = await self._messages.create(**params)
        log.info("whatsapp sent sid=%s mode=%s", result["sid"], mode)
        return Receipt(
            provider_message_id=result["sid"],
            channel=Channel.WHATSAPP,
            response={**result, "mode": mode},
        )

    async def aclose(self) -> None:
        """Release connections; safe to call twice."""
        await self._messages.aclose()


__all__ = ["SESSION_WINDOW", "LastInboundLookup", "WhatsAppSender"]
