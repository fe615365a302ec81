"""The channel port: what every platform adapter implements and what the dispatcher relies on.

Errors are sorted by what the caller should do, not by where they came from::

    DeliveryError
    ├── TransientError      retry with backoff (network, timeout, 5xx)
    ├── RateLimitedError    wait ``retry_after`` seconds; does not burn an attempt
    ├── PermanentError      never retry this address (blocked, invalid, opted out)
    └── ConfigurationError  the channel is not set up; no retry loop

Adapters translate vendor errors into this tree at the edge (``raise ... from exc``), with a table,
so nothing above ``platforms/`` ever imports a vendor SDK.

:class:`Channel`, :class:`Option` and :class:`OutboundMessage` are defined in :mod:`core.messages`
(template rendering in ``core`` builds them too) and re-exported here, where adapters look for them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from core.messages import Channel, Option, OutboundMessage


class ErrorClass(enum.StrEnum):
    """How a failed attempt is classified; stored in ``message_delivery_attempts.error_class``."""

    TRANSIENT = "transient"
    RATE_LIMITED = "rate_limited"
    PERMANENT = "permanent"
    CONFIG = "config"


class ContactEffect(enum.StrEnum):
    """What a permanent error says about the recipient's contact point."""

    NONE = "none"
    DEACTIVATE = "deactivate"  # bot blocked, chat not found, user deactivated
    OPT_OUT = "opt_out"  # the recipient opted out at the carrier (Twilio 21610)
    INVALID = "invalid"  # the address can never receive (21211, 21614)


class DeliveryError(Exception):
    """Base of every classified delivery failure. ``code`` is the provider's code, if any."""

    error_class: ErrorClass = ErrorClass.TRANSIENT

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class TransientError(DeliveryError):
    """Worth retrying later: network errors, timeouts, provider 5xx."""

    error_class = ErrorClass.TRANSIENT


class OutcomeUnknownError(TransientError):
    """Timed out after the request may have reached the provider: it may have been delivered.

    Retried like any transient error, but the attempt is recorded as ``unknown`` and counted, so
    the duplicates a retry may cause are visible.
    """


class RateLimitedError(DeliveryError):
    """The provider asked us to slow down for ``retry_after`` seconds."""

    error_class = ErrorClass.RATE_LIMITED

    def __init__(self, message: str, *, retry_after: float, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class PermanentError(DeliveryError):
    """Retrying this address will never work; ``effect`` says what to mark on the contact point."""

    error_class = ErrorClass.PERMANENT

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        effect: ContactEffect = ContactEffect.NONE,
    ) -> None:
        super().__init__(message, code=code)
        self.effect = effect


class ConfigurationError(DeliveryError):
    """The channel lacks credentials or settings; fix the configuration, do not retry."""

    error_class = ErrorClass.CONFIG


class CredentialsRefusedError(ConfigurationError):
    """The provider refused the account's credentials (a revoked bot token, a rotated Twilio auth
    token, an SMTP password changed): every send on the account fails the same way until a person
    replaces them, and none of it is the recipient's fault. The dispatcher holds the account's
    messages (its circuit breaker opens at once and probes slowly) instead of failing them, so a
    rotation loses no reminder; a missing setting stays a plain :class:`ConfigurationError`."""


@dataclass(frozen=True, slots=True)
class Receipt:
    """What a successful send returns: the provider's id and raw answer (no PHI is logged)."""

    provider_message_id: str | None
    channel: Channel
    response: dict[str, Any] = field(default_factory=dict)
    # The address actually used, when the provider moved it (Telegram migrate_to_chat_id).
    new_address: str | None = None
    # Written to the outbox folder, not handed to a provider: nobody received it.
    outbox: bool = False


@runtime_checkable
class ChannelSender(Protocol):
    """One channel's raw send. Implementations raise only ``DeliveryError`` subclasses."""

    channel: Channel

    async def send(self, address: str, message: OutboundMessage) -> Receipt:
        """Send ``message`` to ``address`` (chat id, E.164 number, e-mail address)."""
        ...

    async def aclose(self) -> None:
        """Release connections; safe to call twice."""
        ...


class InboundKind(enum.StrEnum):
    """What the patient did."""

    TEXT = "text"
    BUTTON = "button"  # a Telegram callback query or a WhatsApp quick reply
    CONTACT = "contact"  # a shared phone number (Telegram contact button)
    LOCATION = "location"  # a shared location (timezone detection)
    MEDIA = "media"  # a photo, voice note, video or file with no text (MMS, WhatsApp)


@dataclass(frozen=True, slots=True)
class InboundEvent:
    """One inbound update from any channel, parsed into a channel-agnostic shape.

    ``provider_id`` de-duplicates (Telegram ``update_id``, Twilio ``MessageSid``). ``chat_address``
    is where replies go (Telegram chat id, E.164 number for SMS and WhatsApp).
    """

    channel: Channel
    provider_id: str
    chat_address: str
    kind: InboundKind
    text: str = ""
    button_data: str | None = None
    phone_number: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    display_name: str | None = None
    language_code: str | None = None
    # Telegram: the message the pressed button belongs to, so the reply can edit it.
    reply_to_message_id: str | None = None
    callback_query_id: str | None = None
    # Twilio: our number the patient wrote to (a clinic's own sender), so replies leave from it,
    # and the messaging service it belongs to, if any (a pool number no account names).
    to_address: str | None = None
    to_service: str | None = None
    # A message the provider delivered late (Telegram after an outage: it keeps updates a day):
    # when it was written, as a Unix time on the receiving process's clock; None when on time.
    # An answer is routed to the questions open then (bot.routing), not to those asked since.
    written_at: float | None = None


__all__ = [
    "Channel",
    "ChannelSender",
    "ConfigurationError",
    "ContactEffect",
    "DeliveryError",
    "ErrorClass",
    "InboundEvent",
    "InboundKind",
    "Option",
    "OutboundMessage",
    "PermanentError",
    "RateLimitedError",
    "Receipt",
    "TransientError",
]
