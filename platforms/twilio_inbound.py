"""Twilio webhooks: inbound SMS/WhatsApp messages and delivery status callbacks.

``POST /twilio/inbound`` forms become :class:`InboundEvent` (SMS or WhatsApp by the ``whatsapp:``
prefix on ``From``); ``POST /twilio/status`` forms become :class:`StatusUpdate`. Statuses only move
forward (:func:`merge_status`): a late ``sent`` never overwrites ``delivered``, and ``failed`` and
``undelivered`` are final. :func:`is_valid_signature` checks ``X-Twilio-Signature``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypedDict

from twilio.request_validator import RequestValidator

from platforms.base import Channel, InboundEvent, InboundKind

WHATSAPP_PREFIX = "whatsapp:"

# Twilio's MessageStatus -> ours. In-flight states count as "sent": the API already accepted it.
_STATUS_MAP: dict[str, str] = {
    "accepted": "sent",
    "scheduled": "sent",
    "queued": "sent",
    "sending": "sent",
    "sent": "sent",
    "partially_delivered": "sent",
    "delivered": "delivered",
    "read": "delivered",  # WhatsApp read receipt: delivered, and then some
    "undelivered": "undelivered",
    "failed": "failed",
    "canceled": "failed",
}
_RANK: dict[str, int] = {"sent": 1, "delivered": 2, "undelivered": 3, "failed": 3}
# Once here, no callback changes the status any more.
FINAL_STATUSES = frozenset({"delivered", "undelivered", "failed", "cancelled", "expired"})


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """One delivery status callback, mapped to our statuses."""

    provider_message_id: str
    status: str  # sent | delivered | undelivered | failed
    error_code: str | None = None
    channel: Channel = Channel.SMS
    provider_status: str = ""  # Twilio's own word, for the attempt log


class _Common(TypedDict):
    """The :class:`InboundEvent` fields every kind of Twilio inbound message has."""

    channel: Channel
    provider_id: str
    chat_address: str
    display_name: str | None
    to_address: str | None
    to_service: str | None


def parse_twilio_inbound(form: Mapping[str, str]) -> InboundEvent:
    """An inbound SMS or WhatsApp message as an :class:`InboundEvent`.

    ``chat_address`` is the bare E.164 number for both channels. WhatsApp quick replies become
    ``BUTTON`` (``button_data`` is the ``ButtonPayload``), shared locations ``LOCATION``, a file
    with no text (an MMS photo, a WhatsApp voice note) ``MEDIA``; with text, the text is read.
    Raises ``ValueError`` when ``From`` is missing or a location is off the globe.
    """
    sender = form.get("From", "").strip()
    if not sender:
        raise ValueError("Twilio inbound form has no From")
    whatsapp = sender.startswith(WHATSAPP_PREFIX)
    common: _Common = {
        "channel": Channel.WHATSAPP if whatsapp else Channel.SMS,
        "provider_id": form.get("MessageSid")
        or form.get("SmsMessageSid")
        or form.get("SmsSid", ""),
        "chat_address": sender.removeprefix(WHATSAPP_PREFIX),
        "display_name": form.get("ProfileName") or None,
        "to_address": form.get("To", "").removeprefix(WHATSAPP_PREFIX).strip() or None,
        "to_service": form.get("MessagingServiceSid") or None,
    }
    latitude, longitude = form.get("Latitude"), form.get("Longitude")
    if latitude and longitude:
        return InboundEvent(
            kind=InboundKind.LOCATION,
            latitude=_coordinate(latitude, 90),
            longitude=_coordinate(longitude, 180),
            text=form.get("Body", ""),
            **common,
        )
    payload, button_text = form.get("ButtonPayload"), form.get("ButtonText")
    if whatsapp and (payload or button_text):
        return InboundEvent(
            kind=InboundKind.BUTTON,
            button_data=payload or button_text,
            text=button_text or "",
            **common,
        )
    text = form.get("Body", "")
    if not text.strip() and _has_media(form):
        # A photo of the pills, a voice note "I took it": nothing the bot can read, and read as
        # an empty text it was answered "I didn't understand that" (bot.engine says so instead).
        return InboundEvent(kind=InboundKind.MEDIA, **common)
    return InboundEvent(kind=InboundKind.TEXT, text=text, **common)


def _has_media(form: Mapping[str, str]) -> bool:
    """Whether the message carries a file (Twilio's ``NumMedia``, ``MediaUrl0``)."""
    return bool(form.get("MediaUrl0")) or (form.get("NumMedia") or "0").strip() not in ("", "0")


def _coordinate(text: str, bound: float) -> float:
    """A shared location's degrees; ``ValueError`` for NaN, infinities or a value off the globe
    (JSON, and so the stored event, has no NaN: such a form was a 500)."""
    value = float(text)
    if not math.isfinite(value) or abs(value) > bound:
        raise ValueError(f"Twilio location coordinate out of range: {bound}")
    return value


def parse_twilio_status(form: Mapping[str, str]) -> StatusUpdate:
    """A status callback as a :class:`StatusUpdate`; ``ValueError`` without a ``MessageSid``."""
    sid = form.get("MessageSid") or form.get("SmsSid")
    if not sid:
        raise ValueError("Twilio status form has no MessageSid")
    raw = (form.get("MessageStatus") or form.get("SmsStatus") or "").lower()
    sender = form.get("To", "") + form.get("From", "")
    return StatusUpdate(
        provider_message_id=sid,
        status=_STATUS_MAP.get(raw, "sent"),
        error_code=form.get("ErrorCode") or None,
        channel=Channel.WHATSAPP if WHATSAPP_PREFIX in sender else Channel.SMS,
        provider_status=raw,
    )


def status_rank(status: str | None) -> int:
    """Order of delivery statuses: 0 for anything before ``sent`` (pending, processing)."""
    return _RANK.get(status or "", 0)


def merge_status(current: str | None, incoming: str) -> str:
    """The status to store when ``incoming`` arrives while ``current`` is stored.

    Never moves backwards: ``delivered`` stays ``delivered`` when a late ``sent`` arrives, and
    final statuses (delivered, undelivered, failed) stay as they are.
    """
    if current in FINAL_STATUSES:
        return current
    if current is None or status_rank(incoming) >= status_rank(current):
        return incoming
    return current


def is_valid_signature(auth_token: str, url: str, form: Mapping[str, str], signature: str) -> bool:
    """Check ``X-Twilio-Signature`` for a webhook posted to ``url`` (the public URL Twilio used)."""
    return bool(RequestValidator(auth_token).validate(url, dict(form), signature))


__all__ = [
    "FINAL_STATUSES",
    "StatusUpdate",
    "is_valid_signature",
    "merge_status",
    "parse_twilio_inbound",
    "parse_twilio_status",
    "status_rank",
]
