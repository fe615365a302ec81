"""Save, list and remove clinics' provider accounts; re-encrypt them after a key rotation.

Saving checks the fields (:func:`platforms.provider_accounts.parse_account`), then the account at
the provider (:mod:`platforms.account_checks`), and only then stores it with its secrets sealed
by ``MEDREMIND_CREDENTIALS_KEY`` (:mod:`core.credentials`) and an audit row (which names the
channel and who, never a secret). The worker picks a saved account up within seconds
(:mod:`scheduler.clinic_senders`). Used by the dashboard's admin endpoint and the API.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import asyncpg

from core.credentials import SecretBox, SecretUnreadable, hint, looks_encrypted, require_box
from core.settings import Settings
from core.sql import query
from platforms.account_checks import check_account
from platforms.base import Channel
from platforms.provider_accounts import (
    SECRET_FIELDS,
    AccountProblem,
    ProviderAccount,
    parse_account,
)

logger = logging.getLogger(__name__)

_PUBLIC_FIELDS = ("id", "channel", "secret_hint", "inbound_number", "updated_by")
# Clinic bots whose webhooks are set at once at start-up, and how long one setWebhook may take:
# a Telegram outage must not hold the web's start-up for long, nor open a connection per clinic.
WEBHOOK_CONCURRENCY = 8
WEBHOOK_CALL_SECONDS = 15.0


def account_view(row: asyncpg.Record) -> dict[str, Any]:
    """What anyone of the clinic may see of a stored account: no secret, a masked hint."""
    config = row["config"]
    view = {name: row[name] for name in _PUBLIC_FIELDS}
    view["id"] = str(view["id"])
    view["config"] = json.loads(config) if isinstance(config, str) else dict(config)
    view["validated_at"] = row["validated_at"].isoformat()
    view["updated_at"] = row["updated_at"].isoformat()
    return view


async def save_account(
    pool: asyncpg.Pool,
    settings: Settings,
    box: SecretBox | None,
    organization_id: uuid.UUID,
    channel: str,
    fields: dict[str, Any],
    *,
    actor: str,
    tls_context: ssl.SSLContext | None = None,
) -> dict[str, Any]:
    """Check and store a clinic's account for ``channel``; return its :func:`account_view`.

    Raises :class:`AccountProblem` (the field and why) when a field is wrong or the provider
    refuses the account, :class:`~core.credentials.CredentialsKeyMissing` without a key.
    """
    account = parse_account(channel, fields)
    if account.bot_id is not None and account.bot_id in service_bot_ids(settings):
        # Saving it would point the service's bot's webhook at the clinic's path (every update of
        # the default bot then refused for its secret) and make the bot the clinic's in the
        # database, whose trigger then keeps every other clinic's patients off it.
        raise AccountProblem(
            "token",
            "this is one of the service's own bots (TELEGRAM_BOT_TOKEN, MEDREMIND_TELEGRAM_BOTS);"
            " create the clinic's own bot with BotFather and give its token",
        )
    _refuse_the_services_sender(settings, account)
    sealer = require_box(box)  # before the provider is asked: nothing could be stored anyway
    await check_account(
        account,
        twilio_api_base_url=settings.twilio_api_base_url,
        tls_context=tls_context,
        allow_private=settings.webhook_allow_private,
        telegram_api_base_url=settings.telegram_api_base_url,
    )
    secret_values = [
        account.secrets[f] for f in SECRET_FIELDS[account.channel] if f in account.secrets
    ]
    masked = hint(secret_values[0]) if secret_values else "(none)"
    try:
        async with pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                query("accounts", "upsert_account"),
                organization_id,
                str(account.channel),
                account.config,
                sealer.seal(account.secrets),
                masked,
                account.inbound_number,
                account.messaging_service_sid,
                actor,
            )
            assert row is not None
            await conn.execute(
                query("accounts", "audit"),
                organization_id,
                actor,
                "provider_account.saved",
                str(row["id"]),
                {"channel": str(account.channel), "sender": account.label},
            )
    except asyncpg.UniqueViolationError:
        if account.channel is Channel.TELEGRAM:
            raise AccountProblem("token", "this bot is another clinic's already") from None
        raise AccountProblem(
            "from_number", "another clinic already sends from this number on this channel"
        ) from None
    if account.channel is Channel.TELEGRAM:
        await register_clinic_bot_webhook(settings, account)
    logger.info(
        "provider account saved",
        extra={"organization_id": str(organization_id), "channel": str(account.channel)},
    )
    return account_view(row)


def _refuse_the_services_sender(settings: Settings, account: ProviderAccount) -> None:
    """A clinic may not save the service's own Twilio number or messaging service as its own.

    Webhooks are verified with the token of the account whose number (or messaging service) they
    name (medremind.web.twilio_accounts): saved by a clinic, the service's number's genuine
    webhooks would be checked against the clinic's token and refused, every patient's SMS and
    WhatsApp answers and STOPs and every status callback lost, and the clinic could sign
    messages "to" it from anyone.
    """
    numbers = {
        n.removeprefix("whatsapp:")
        for n in (settings.twilio_sms_from, settings.twilio_whatsapp_from)
        if n
    }
    if account.inbound_number is not None and account.inbound_number in numbers:
        raise AccountProblem(
            "from_number",
            "this is the service's own number (TWILIO_SMS_FROM, TWILIO_WHATSAPP_FROM); give"
            " the clinic's own Twilio number",
        )
    service = settings.twilio_messaging_service_sid
    if service and account.messaging_service_sid == service:
        raise AccountProblem(
            "messaging_service_sid",
            "this is the service's own messaging service (TWILIO_MESSAGING_SERVICE_SID); give"
            " the clinic's own",
        )


def service_bot_ids(settings: Settings) -> set[str]:
    """The ids of the service's own Telegram bots, which no clinic may save as its own."""
    from platforms.telegram_bots import bot_id

    tokens = list(settings.telegram_extra_tokens)
    if settings.telegram_bot_token is not None:
        tokens.append(settings.telegram_bot_token.get_secret_value())
    return {bot_id(token) for token in tokens}


async def register_clinic_bot_webhook(settings: Settings, account: ProviderAccount) -> bool:
    """Point a clinic's bot at ``PUBLIC_BASE_URL/telegram/webhook/<bot id>`` with its derived
    secret, as the service's bots are at start-up; never raises (the bot still sends).

    True when Telegram accepted it; False when not configured or refused (logged with the bot's
    id, which is public, and the error's type: never the token).
    """
    from platforms.telegram import ALLOWED_UPDATES, TelegramSender
    from platforms.telegram_bots import webhook_path, webhook_secret

    master = settings.telegram_webhook_secret
    if not settings.public_base_url or master is None or account.bot_id is None:
        return False
    async with TelegramSender(
        account.secrets["token"], base_url=settings.telegram_api_base_url
    ) as bot:
        try:
            await asyncio.wait_for(
                bot.bot.set_webhook(
                    url=settings.public_base_url + webhook_path(account.bot_id),
                    secret_token=webhook_secret(master.get_secret_value(), account.bot_id),
                    allowed_updates=list(ALLOWED_UPDATES),
                ),
                WEBHOOK_CALL_SECONDS,
            )
        except Exception as exc:
            logger.error(
                "telegram setWebhook failed for a clinic's bot",
                extra={"bot": account.bot_id, "error_type": type(exc).__name__},
            )
            return False
    return True


async def register_clinic_bot_webhooks(
    settings: Settings,
    rows: Iterable[Mapping[str, Any]],
    box: SecretBox | None,
    *,
    concurrency: int = WEBHOOK_CONCURRENCY,
) -> tuple[int, int]:
    """Register the webhook of every clinic bot in ``rows`` (``accounts.clinic_telegram_bots``),
    ``concurrency`` at a time; ``(registered, failed)``. Never raises: a bot whose token cannot
    be opened or whose call fails is logged (its clinic and bot id) and the others go on."""
    from scheduler.clinic_senders import open_account

    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(row: Mapping[str, Any]) -> bool:
        account, why = open_account(row, box)
        if account is None:
            logger.error(
                "a clinic's Telegram bot's webhook is not registered: its account %s",
                why,
                extra={"organization_id": str(row["organization_id"])},
            )
            return False
        async with gate:
            return await register_clinic_bot_webhook(settings, account)

    done = await asyncio.gather(*(one(row) for row in rows))
    registered = sum(done)
    return registered, len(done) - registered


async def list_accounts(pool: asyncpg.Pool, organization_id: uuid.UUID) -> list[dict[str, Any]]:
    """The clinic's accounts as :func:`account_view` (no secrets)."""
    rows = await pool.fetch(query("accounts", "list_accounts"), organization_id)
    return [account_view(r) for r in rows]


async def delete_account(
    pool: asyncpg.Pool, organization_id: uuid.UUID, channel: str, *, actor: str
) -> bool:
    """Remove the clinic's account for ``channel`` (the default account serves it again)."""
    async with pool.acquire() as conn, conn.transaction():
        removed = await conn.fetchval(query("accounts", "delete_account"), organization_id, channel)
        if removed is None:
            return False
        await conn.execute(
            query("accounts", "audit"),
            organization_id,
            actor,
            "provider_account.removed",
            str(removed),
            {"channel": channel},
        )
    return True


async def reseal_all(pool: asyncpg.Pool, box: SecretBox) -> tuple[int, int]:
    """Re-encrypt every stored secret with the first key; ``(resealed, unreadable)``.

    Clinics' provider accounts and outgoing-webhook signing secrets (one stored before they were
    encrypted is encrypted now). Run after putting a new key first in
    ``MEDREMIND_CREDENTIALS_KEY``; then the old key may go. A row saved meanwhile is left alone
    (the update matches the value it read).
    """
    resealed = unreadable = 0
    for module in ("accounts", "webhooks"):
        for row in await pool.fetch(query(module, "sealed_secrets")):
            stored = row["secret"]
            try:
                token = (
                    box.rotate(stored) if looks_encrypted(stored) else box.seal({"secret": stored})
                )
            except SecretUnreadable:
                unreadable += 1
                continue
            await pool.execute(query(module, "reseal_secret"), row["id"], token, stored)
            resealed += 1
    return resealed, unreadable


__all__ = [
    "account_view",
    "delete_account",
    "list_accounts",
    "register_clinic_bot_webhook",
    "register_clinic_bot_webhooks",
    "reseal_all",
    "save_account",
]
