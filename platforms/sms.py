"""SMS through Twilio's Messages API (async client).

Options become numbered replies appended to the text ("1 Taken\\n2 Snooze 15 min");
:func:`match_numbered_reply` maps a reply back to the option. Appointment templates instead ask for
letters (:data:`APPOINTMENT_REPLY_KEYS`), never the word CANCEL, which carriers treat as an opt-out.

Length: :func:`count_segments` says GSM-7 or UCS-2 and how many segments. The template renderer
refuses an over-long message at render time (``MessageTooLong``, a ``ValueError``); this sender
checks again before any HTTP and raises ``PermanentError(code="too_many_segments")``, because a
channel may only raise ``DeliveryError``: the dispatcher then tries the patient's next channel.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from core.templating import (
    DEFAULT_SMS_MAX_SEGMENTS,
    count_segments,
    match_numbered_reply,
    with_numbered_options,
)
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

if TYPE_CHECKING:
    from core.settings import Settings

log = logging.getLogger(__name__)

# Letter replies the appointment SMS templates ask for.
APPOINTMENT_REPLY_KEYS: dict[str, str] = {"C": "confirm", "R": "reschedule", "X": "cancel"}


class SmsSender:
    """Sends SMS through Twilio from ``messaging_service_sid`` (preferred) or ``from_number``."""

    channel = Channel.SMS

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        api_base_url: str = DEFAULT_API_BASE_URL,
        status_callback: str | None = None,
        max_segments: int = DEFAULT_SMS_MAX_SEGMENTS,
        default_region: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        pool_size: int = DEFAULT_POOL_SIZE,
    ) -> None:
        if not from_number and not messaging_service_sid:
            raise ConfigurationError(
                "SMS needs TWILIO_MESSAGING_SERVICE_SID or TWILIO_SMS_FROM to be set"
            )
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        # Twilio's throughput is per sender (a number, or a messaging service's pool).
        self.rate_key = f"sms:{messaging_service_sid or from_number}"
        self.status_callback = status_callback
        self.max_segments = max_segments
        self.default_region = default_region
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
    def from_settings(cls, settings: Settings) -> SmsSender:
        """Build from ``TWILIO_*``, ``PUBLIC_BASE_URL`` and ``MEDREMIND_SMS_MAX_SEGMENTS``."""
        token = settings.twilio_auth_token
        return cls(
            settings.twilio_account_sid or "",
            token.get_secret_value() if token else "",
            from_number=settings.twilio_sms_from,
            messaging_service_sid=settings.twilio_messaging_service_sid,
            api_base_url=settings.twilio_api_base_url,
            status_callback=status_callback_url(settings.public_base_url),
            max_segments=settings.sms_max_segments,
            pool_size=settings.worker_concurrency,
        )

    def compose(self, message: OutboundMessage) -> str:
        """The SMS body: the text and the options as numbered replies."""
        return with_numbered_options(message.text, message.numbered_options)

    async def send(self, address: str, message: OutboundMessage) -> Receipt:
        """Send to an E.164 number; invalid numbers fail before any HTTP request."""
        to = normalize_e164(address, default_region=self.default_region)
        body = self.compose(message)
        encoding, segments = count_segments(body)
        if segments > self.max_segments:
            raise PermanentError(
                f"SMS too long: {segments} {encoding} segments, at most {self.max_segments}",
                code="too_many_segments",
            )
        params: dict[str, Any] = {"to": to, "body": body}
        if self.messaging_service_sid:
            params["messaging_service_sid"] = self.messaging_service_sid
        else:
            params["from_"] = self.from_number
        if self.status_callback:
            params["status_callback"] = self.status_callback
        result = await self._messages.create(**params)
        # DEBUG, not INFO: a JSON line per send, scrubbed of sensitive values, cost ~28 us of
        # CPU, as much as the rest of a send (issue 20); each send is in its attempt row and
        # medremind_messages_sent. MEDREMIND_LOG_LEVEL=DEBUG shows it.
        log.debug("sms sent sid=%s segments=%d encoding=%s", result["sid"], segments, encoding)
        return Receipt(
            provider_message_id=result["sid"],
            channel=Channel.SMS,
            response={**result, "encoding": encoding, "segments": segments},
        )

    async def find_sent(
        self, address: str, message: OutboundMessage, since: datetime
    ) -> Receipt | None:
        """The message if Twilio already has it: after a send whose outcome is unknown (a timeout
        after the request may have reached Twilio), before sending it again.

        Twilio's Message resource keeps no metadata of ours (the status callback URL is not in
        it), so the idempotency marker is what we sent: an outbound message to this number, from
        this sender (number or messaging service), with exactly this body, created at or after
        ``since``. Raises a ``DeliveryError`` when Twilio cannot be asked (then it is unknown).
        """
        to = normalize_e164(address, default_region=self.default_region)
        body = self.compose(message)
        recent = await self._messages.recent_to(to, from_=self.from_number)
        for m in recent:
            ours = (
                m["messaging_service_sid"] == self.messaging_service_sid
                if self.messaging_service_sid
                else m["from"] == self.from_number
            )
            created = m["date_created"]
            if (
                ours
                and str(m["direction"] or "").startswith("outbound")
                and m["body"] == body
                and created is not None
                and created >= since
            ):
                log.info("sms found after an unknown outcome sid=%s", m["sid"])
                return Receipt(
                    provider_message_id=m["sid"],
                    channel=Channel.SMS,
                    response={"sid": m["sid"], "status": m["status"], "found": True},
                )
        return None

    async def aclose(self) -> None:
        """Release connections; safe to call twice."""
        await self._messages.aclose()


__all__ = [
    "APPOINTMENT_REPLY_KEYS",
    "SmsSender",
    "count_segments",
    "match_numbered_reply",
]
