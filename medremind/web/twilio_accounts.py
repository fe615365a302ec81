"""Which Twilio account a webhook is for, and so which auth token must have signed it.

A clinic with its own Twilio sender receives its patients' messages at its own number: Twilio
posts them with ``To`` = that number (``whatsapp:`` prefixed for WhatsApp) and signs them with
that account's auth token. Status callbacks name our number as ``From``. Either may name the
messaging service (``MessagingServiceSid``) whose pool the number is in. A webhook for a
clinic's number is verified with that clinic's token only: one signed with the default token
(or another clinic's) is refused. A webhook for no clinic's number is verified with the default
``TWILIO_AUTH_TOKEN``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from uuid import UUID

from core.credentials import SecretUnreadable
from core.sql import query
from medremind.web.state import WebState
from platforms.base import Channel
from platforms.twilio_inbound import WHATSAPP_PREFIX

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WebhookAccount:
    """The token a webhook must be signed with; ``organization_id`` None for the default."""

    auth_token: str
    organization_id: UUID | None = None


async def webhook_account(
    state: WebState, form: Mapping[str, str], *, inbound: bool
) -> WebhookAccount | None:
    """The account ``form`` was sent for; None when no token can verify it (fail closed).

    ``inbound``: an inbound message (our number is ``To``), else a status callback (``From``).
    """
    ours = (form.get("To") if inbound else form.get("From")) or ""
    channel = Channel.WHATSAPP if ours.startswith(WHATSAPP_PREFIX) else Channel.SMS
    number = ours.removeprefix(WHATSAPP_PREFIX).strip() or None
    service = form.get("MessagingServiceSid") or None
    row = None
    if number is not None or service is not None:
        row = await state.pool.fetchrow(
            query("accounts", "twilio_account_for"), number, service, str(channel)
        )
    if row is None:
        default = state.settings.twilio_auth_token
        return WebhookAccount(default.get_secret_value()) if default else None
    box = state.secret_box
    try:
        if box is None:
            raise SecretUnreadable("MEDREMIND_CREDENTIALS_KEY is not set")
        token = box.open(row["secret"]).get("auth_token", "")
    except SecretUnreadable:
        logger.warning(
            "twilio webhook for a clinic account that cannot be opened",
            extra={"organization_id": str(row["organization_id"]), "channel": str(channel)},
        )
        return None
    clinics = state.clinic_senders
    if clinics is not None and number is not None and clinics.for_number(channel, number) is None:
        # Saved since this process last loaded the accounts: load now, so the reply to this
        # message already leaves from the clinic's number.
        await clinics.refresh()
    return WebhookAccount(token, row["organization_id"]) if token else None


__all__ = ["WebhookAccount", "webhook_account"]
