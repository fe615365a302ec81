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

Quick replies (``WHATSAPP_QUICK_REPLIES``, on by default): inside the window, a message with
options is sent as a ``twilio/quick-reply`` content, tappable buttons instead of numbered text
(a message whose text names its options' typed replies, ``reply_keys``, gets buttons too, and
no numbered text when it falls back).
Twilio's docs (https://www.twilio.com/docs/content/twilio-quick-reply) allow 3 buttons in session,
titles of at most 20 characters and ids of at most 200, with variables allowed in the body, the
titles (in session) and the ids, so one Content resource per layout (number of buttons and of
255-character body parts, :mod:`platforms.whatsapp_quick_reply`) serves every message: it is
created once with ``POST https://content.twilio.com/v1/Content``
(https://www.twilio.com/docs/content/content-api-resources) and reused from memory and from
Postgres (:mod:`platforms.whatsapp_content`). The message goes out on the Messages API with
``ContentSid`` and ``ContentVariables``: the body, each option's label as the title and its
``data`` as the id, which Twilio returns unchanged as ``ButtonPayload`` when the button is pressed
(:mod:`platforms.twilio_inbound` makes that a ``BUTTON`` event).

The message falls back to numbered text, never lost, when the options do not fit (more than 3, a
label over 40 characters, titles that shorten to the same text, see
:func:`~platforms.whatsapp_quick_reply.plan_quick_reply`), when no content can be created (any
Twilio error; the reason is logged and put in the receipt as an error class and code only), or
when Twilio refuses the stored content (21655 deleted, 21656 bad variables, 21658 too long): that
one rejection creates no message, so the text that follows is the only delivery. Every other
error of the send itself is classified as before (:mod:`platforms.twilio_common`).
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

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
    DEFAULT_POOL_SIZE,
    DEFAULT_TIMEOUT_SECONDS,
    normalize_e164,
    status_callback_url,
)
from platforms.whatsapp_content import (
    ContentApi,
    ContentStore,
    ContentUnavailable,
    QuickReplyContents,
)
from platforms.whatsapp_quick_reply import QuickReplyPlan, plan_quick_reply

if TYPE_CHECKING:
    from core.settings import Settings

log = logging.getLogger(__name__)

SESSION_WINDOW = timedelta(hours=24)
PREFIX = "whatsapp:"
# Twilio's synchronous refusals of a content send that create no message, so numbered text may
# follow: ContentSid unknown (deleted), ContentVariables invalid, a parameter over its limit.
CONTENT_REFUSED_CODES = frozenset({"21655", "21656", "21658"})
# Reason codes, beyond plan_quick_reply's, for a message that went as numbered text.
CONTENT_UNAVAILABLE = "content_unavailable"
CONTENT_REFUSED = "content_refused"

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
        pool_size: int = DEFAULT_POOL_SIZE,
        quick_replies: QuickReplyContents | None = None,
    ) -> None:
        """``quick_replies``: the Content resources for buttons; None sends numbered text."""
        if not from_number:
            raise ConfigurationError("WhatsApp needs TWILIO_WHATSAPP_FROM to be set")
        self.from_address = from_number if from_number.startswith(PREFIX) else PREFIX + from_number
        self.rate_key = self.from_address  # WhatsApp's caps are per sender ("whatsapp:+1...")
        self.content_sids = dict(content_sids or {})
        self.last_inbound_at = last_inbound_at
        self.clock = clock
        self.window = window
        self.status_callback = status_callback
        self.quick_replies = quick_replies
        # Imported here, not at the top: the SDK's REST modules are slow to import, and every web
        # process imports this module whether or not it ever sends through Twilio.
        from platforms.twilio_client import TwilioMessages

        self._messages = TwilioMessages(
            account_sid,
            auth_token,
            api_base_url=api_base_url,
            timeout=timeout,
            pool_size=pool_size,
        )

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        last_inbound_at: LastInboundLookup | None = None,
        content_store: ContentStore | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> WhatsAppSender:
        """Build from ``TWILIO_*`` (incl. ``TWILIO_WHATSAPP_CONTENT_SIDS``) and the lookup.

        With ``WHATSAPP_QUICK_REPLIES`` on, options go as buttons whose contents are kept in
        ``content_store`` (Postgres in the processes; None keeps them in memory only).
        ``clock``: now, for the 24-hour window (the clock the inbound times were stored by).
        """
        account_sid = settings.twilio_account_sid or ""
        token = settings.twilio_auth_token
        auth_token = token.get_secret_value() if token else ""
        quick_replies = None
        if settings.whatsapp_quick_replies:
            api = ContentApi(account_sid, auth_token, base_url=settings.twilio_content_base_url)
            quick_replies = QuickReplyContents(api, store=content_store)
        return cls(
            account_sid,
            auth_token,
            from_number=settings.twilio_whatsapp_from or "",
            content_sids=settings.twilio_whatsapp_content_sids,
            last_inbound_at=last_inbound_at,
            api_base_url=settings.twilio_api_base_url,
            status_callback=status_callback_url(settings.public_base_url),
            quick_replies=quick_replies,
            pool_size=settings.worker_concurrency,
            clock=clock,
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
        """Inside the window: buttons, else numbered text; outside: the kind's approved template."""
        number = normalize_e164(address)
        params: dict[str, Any] = {"to": PREFIX + number, "from_": self.from_address}
        if self.status_callback:
            params["status_callback"] = self.status_callback
        if not await self.in_window(number):
            return await self._send_template(params, message)
        why: dict[str, Any] = {}
        # Every option may be a button, also those a text channel would not number because the
        # text names their typed replies (reply_keys: "30" minutes is typed as 30).
        if message.options and self.quick_replies is not None:
            plan = plan_quick_reply(message.text, message.options)
            if isinstance(plan, QuickReplyPlan):
                sent = await self._send_quick_reply(params, plan, self.quick_replies, why)
                if sent is not None:
                    return sent
            else:
                why["quick_reply_fallback"] = plan
            log.info("whatsapp quick replies not used", extra=why)
        body = with_numbered_options(message.text, message.numbered_options)
        if len(body) > WHATSAPP_MAX_CHARS:
            raise PermanentError(
                f"WhatsApp text too long: {len(body)} characters, at most {WHATSAPP_MAX_CHARS}",
                code="too_long",
            )
        return await self._create(params | {"body": body}, "freeform", why)

    async def _send_quick_reply(
        self,
        params: dict[str, Any],
        plan: QuickReplyPlan,
        contents: QuickReplyContents,
        why: dict[str, Any],
    ) -> Receipt | None:
        """Send ``plan`` as buttons; None (with ``why`` filled in) when text must go instead."""
        try:
            content_sid = await contents.content_sid(plan.layout)
        except ContentUnavailable as exc:
            why.update(
                quick_reply_fallback=CONTENT_UNAVAILABLE,
                error_class=str(exc.error_class),
                error_code=exc.code,
            )
            return None
        variables = json.dumps(plan.variables, ensure_ascii=False)
        try:
            return await self._create(
                params | {"content_sid": content_sid, "content_variables": variables},
                "quick_reply",
                {"buttons": plan.layout.buttons},
            )
        except PermanentError as exc:
            if exc.code not in CONTENT_REFUSED_CODES:
                raise
            if exc.code == "21655":  # deleted at Twilio: the next message creates a new one
                await contents.forget(plan.layout, content_sid)
            why.update(
                quick_reply_fallback=CONTENT_REFUSED,
                error_class=str(exc.error_class),
                error_code=exc.code,
            )
            return None

    async def _send_template(self, params: dict[str, Any], message: OutboundMessage) -> Receipt:
        content_sid = self.content_sids.get(message.kind)
        if not content_sid:
            raise PermanentError(
                f"template required: no approved WhatsApp template for kind {message.kind!r} "
                "and the patient has not written in the last 24 hours",
                code="template_required",
            )
        params = params | {
            "content_sid": content_sid,
            "content_variables": json.dumps(message.variables, ensure_ascii=False),
        }
        return await self._create(params, "template", {})

    async def _create(self, params: dict[str, Any], mode: str, extra: dict[str, Any]) -> Receipt:
        result = await self._messages.create(**params)
        # DEBUG, not INFO: a JSON line per send, scrubbed of sensitive values, cost ~28 us of
        # CPU, as much as the rest of a send (issue 20); each send is in its attempt row and
        # medremind_messages_sent. MEDREMIND_LOG_LEVEL=DEBUG shows it.
        log.debug("whatsapp sent sid=%s mode=%s", result["sid"], mode)
        return Receipt(
            provider_message_id=result["sid"],
            channel=Channel.WHATSAPP,
            response={**result, "mode": mode, **extra},
        )

    async def aclose(self) -> None:
        """Release connections; safe to call twice."""
        await self._messages.aclose()
        if self.quick_replies is not None:
            await self.quick_replies.aclose()


__all__ = ["SESSION_WINDOW", "LastInboundLookup", "WhatsAppSender"]
