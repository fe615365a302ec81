"""Which Twilio account a webhook is for, and so which auth token must have signed it.

A clinic with its own Twilio sender receives its patients' messages at its own number: Twilio
posts them with ``To`` = that number (``whatsapp:`` prefixed for WhatsApp) and signs them with
that account's auth token. Status callbacks name our number as ``From``. Either may name the
messaging service (``MessagingServiceSid``) whose pool the number is in. A webhook for a
clinic's number is verified with that clinic's token only: one signed with the default token
(or another clinic's) is refused. A webhook for no clinic's number is verified with the default
``TWILIO_AUTH_TOKEN``.

The web process holds every clinic's Twilio accounts in memory (its
:class:`~scheduler.clinic_senders.ClinicSenders`), reloaded when the database announces a
change (NOTIFY ``medremind_accounts``, migration 20260101012300): a webhook is matched to its
account and its signature checked before any query, so a forged or unsigned request costs the
database nothing. Only while a change is being loaded is the account looked up in the database.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
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
    clinics = state.clinic_senders
    if clinics is not None and clinics.current:
        # Every account as loaded, kept current by NOTIFY: no query before the signature holds.
        return _from_memory(state, clinics, channel, number, service)
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
    if clinics is not None and number is not None and clinics.for_number(channel, number) is None:
        # Saved since this process last loaded the accounts: load now, so the reply to this
        # message already leaves from the clinic's number.
        await clinics.refresh()
    return WebhookAccount(token, row["organization_id"]) if token else None


def _from_memory(
    state: WebState, clinics: Any, channel: Channel, number: str | None, service: str | None
) -> WebhookAccount | None:
    """:func:`webhook_account` from the accounts the process holds (by number, then service)."""
    found = None
    for key in (number, service):
        if key is not None and (found := clinics.webhook_token(channel, key)) is not None:
            break
    if found is None:
        default = state.settings.twilio_auth_token
        return WebhookAccount(default.get_secret_value()) if default else None
    organization_id, token = found
    if not token:
        logger.warning(
            "twilio webhook for a clinic account that cannot be opened",
            extra={"organization_id": str(organization_id), "channel": str(channel)},
        )
        return None
    return WebhookAccount(token, organization_id)


__all__ = ["WebhookAccount", "webhook_account"]
