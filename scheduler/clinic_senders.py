"""Which sender serves each clinic: its own provider accounts over the default ones.

The worker loads every clinic's accounts (``clinic_provider_accounts``) at start, opens their
secrets with ``MEDREMIND_CREDENTIALS_KEY`` and builds one ordinary adapter per account
(:func:`platforms.provider_accounts.build_sender`). :meth:`ClinicSenders.for_clinic` answers the
default senders overlaid with the clinic's own. Each adapter has its own ``rate_key`` (its sender
number, messaging service or SMTP login), so the fleet-wide rate ledger and the circuit breakers
hold a cap per account.

An account that cannot be opened (no key, or a key that was removed) does not fall back to the
default account: that would send a clinic's patients messages from another clinic's number. Its
channel answers ``ConfigurationError`` with the reason instead, and ``medremind check`` says so.

Saved or removed accounts are picked up by :meth:`ClinicSenders.refresh` (the worker calls it
every few seconds; one cheap query when nothing changed). Replaced senders are closed only at
shutdown, since a send may still be using one.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import asyncpg

from core.credentials import CredentialsKeyMissing, SecretBox, SecretUnreadable
from core.sql import query
from platforms.base import Channel, ChannelSender, ConfigurationError, OutboundMessage, Receipt
from platforms.provider_accounts import (
    AccountProblem,
    ProviderAccount,
    build_sender,
    parse_account,
)

if TYPE_CHECKING:
    from core.settings import Settings
    from platforms.whatsapp import LastInboundLookup
    from platforms.whatsapp_content import ContentStore

logger = logging.getLogger(__name__)

REFRESH_SECONDS = 10.0
# The channel the database announces account changes on (migration 20260101012300).
ACCOUNTS_CHANNEL = "medremind_accounts"


class UnusableAccount:
    """A clinic's account that cannot be used: every send is a ``ConfigurationError``."""

    def __init__(self, channel: Channel, organization_id: uuid.UUID, reason: str) -> None:
        self.channel = channel
        self.reason = reason
        self.rate_key = f"{channel}:clinic:{organization_id}"

    async def send(self, address: str, message: OutboundMessage) -> Receipt:
        """Refuse: the clinic's own account is configured but unusable here."""
        raise ConfigurationError(f"the clinic's own {self.channel} account {self.reason}")

    async def aclose(self) -> None:
        """Nothing to release."""


@dataclass(frozen=True, slots=True)
class LoadedAccount:
    """One clinic account as the worker holds it."""

    organization_id: uuid.UUID
    channel: Channel
    sender: ChannelSender
    usable: bool
    description: str  # the sender, or why it is unusable (no secret)
    number: str | None = None  # the number patients write to (Twilio senders), a bot's id
    service: str | None = None  # the Twilio messaging service it sends through, if any
    auth_token: str | None = field(default=None, repr=False)  # a Twilio account's


def open_account(
    row: Mapping[str, object], box: SecretBox | None
) -> tuple[ProviderAccount | None, str]:
    """The stored row as an account, or ``(None, why not)``."""
    config = row["config"]
    fields = json.loads(config) if isinstance(config, str) else dict(config)  # type: ignore[call-overload]
    try:
        if box is None:
            raise CredentialsKeyMissing()
        fields.update(box.open(str(row["secret"])))
        account = parse_account(str(row["channel"]), fields)
    except CredentialsKeyMissing:
        return None, "cannot be used: MEDREMIND_CREDENTIALS_KEY is not set on this process"
    except SecretUnreadable:
        return None, "cannot be used: no key of MEDREMIND_CREDENTIALS_KEY decrypts its secret"
    except AccountProblem as exc:
        return None, f"cannot be used: stored field {exc.field} is invalid ({exc.reason})"
    return account, account.label


class ClinicSenders:
    """Per-clinic senders over the defaults; see the module docstring."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        settings: Settings,
        defaults: Mapping[Channel, ChannelSender],
        box: SecretBox | None,
        *,
        last_inbound_lookup: LastInboundLookup | None = None,
        content_store: ContentStore | None = None,
    ) -> None:
        self.pool = pool
        self.settings = settings
        self.defaults = dict(defaults)
        self.box = box
        self.last_inbound_lookup = last_inbound_lookup
        self.content_store = content_store
        self.accounts: dict[uuid.UUID, list[LoadedAccount]] = {}
        self._maps: dict[uuid.UUID, dict[Channel, ChannelSender]] = {}
        self._numbers: dict[tuple[Channel, str], ChannelSender] = {}
        self._version: str | None = None
        self._retired: list[ChannelSender] = []
        # Twilio accounts by (channel, our number or messaging service SID): the clinic and the
        # auth token its webhooks are signed with (None: the secret cannot be opened here).
        self._webhook_tokens: dict[tuple[Channel, str], tuple[uuid.UUID, str | None]] = {}
        # Changes announced (announce()) and the announcement the loaded accounts reflect.
        self._announced = 0
        self._loaded = -1
        # One reload at a time: the web reloads on an announcement and after an account is
        # saved through it. Interleaved, a reload begun before an announcement finished after
        # one begun since and set _loaded back: :attr:`current` stayed False (every webhook
        # looked its account up in the database) until the next reload, and an older reload's
        # accounts could replace newer ones.
        self._reloading = asyncio.Lock()

    def for_clinic(self, organization_id: uuid.UUID | None) -> Mapping[Channel, ChannelSender]:
        """The senders for a clinic's messages: its own accounts, the defaults for the rest."""
        if organization_id is None:
            return self.defaults
        return self._maps.get(organization_id, self.defaults)

    def for_number(self, channel: Channel, number: str) -> ChannelSender | None:
        """The clinic sender whose number (or messaging service SID) is ``number`` on
        ``channel`` (replies), if any."""
        return self._numbers.get((channel, number))

    def is_default(self, channel: Channel, sender: ChannelSender) -> bool:
        """Whether ``sender`` is the service-wide default for ``channel``."""
        return self.defaults.get(channel) is sender

    def announce(self) -> None:
        """The accounts changed (a NOTIFY on ``medremind_accounts``, or a reconnect of its
        LISTEN): :attr:`current` is False until a :meth:`refresh` started after this returns."""
        self._announced += 1

    @property
    def current(self) -> bool:
        """Whether the loaded accounts reflect every announced change (see :meth:`announce`)."""
        return self._loaded == self._announced

    def webhook_token(self, channel: Channel, key: str) -> tuple[uuid.UUID, str | None] | None:
        """The clinic whose Twilio number or messaging service ``key`` is on ``channel`` and its
        auth token (None when its secret cannot be opened); None for no clinic's."""
        return self._webhook_tokens.get((channel, key))

    async def refresh(self) -> bool:
        """Reload the accounts when they changed since the last load; True when reloaded."""
        async with self._reloading:
            return await self._refresh()

    async def _refresh(self) -> bool:
        announced = self._announced
        version = await self.pool.fetchval(query("accounts", "accounts_version"))
        if version == self._version:
            self._loaded = announced
            return False
        rows = await self.pool.fetch(query("accounts", "worker_accounts"))
        accounts: dict[uuid.UUID, list[LoadedAccount]] = {}
        tokens: dict[tuple[Channel, str], tuple[uuid.UUID, str | None]] = {}
        for row in rows:
            loaded = self._load(row)
            accounts.setdefault(loaded.organization_id, []).append(loaded)
            if loaded.channel in (Channel.SMS, Channel.WHATSAPP):
                # By number first, as the database lookup orders them (twilio_account_for).
                for key in (loaded.service, loaded.number):
                    if key is not None:
                        tokens[(loaded.channel, key)] = (loaded.organization_id, loaded.auth_token)
        maps = {org: self._clinic_map(loaded) for org, loaded in accounts.items()}
        numbers = {
            (a.channel, key): a.sender
            for loaded in accounts.values()
            for a in loaded
            for key in (a.number, a.service)
            if key is not None
        }
        self._retired.extend(a.sender for old in self.accounts.values() for a in old)
        self.accounts, self._maps, self._version = accounts, maps, version
        self._numbers, self._webhook_tokens = numbers, tokens
        self._loaded = announced
        unusable = sum(not a.usable for loaded in accounts.values() for a in loaded)
        logger.info(
            "clinic provider accounts loaded",
            extra={"accounts": len(rows), "unusable": unusable},
        )
        return True

    def _clinic_map(self, loaded: list[LoadedAccount]) -> dict[Channel, ChannelSender]:
        """The defaults overlaid with a clinic's accounts. A clinic's own Telegram bot joins the
        service's bots (``TelegramBots.with_clinic_bot``) instead of replacing them: a chat that
        started a service bot can only be written to by that bot."""
        senders = dict(self.defaults)
        for account in loaded:
            join = getattr(self.defaults.get(account.channel), "with_clinic_bot", None)
            if account.channel is Channel.TELEGRAM and join is not None and account.number:
                senders[account.channel] = join(account.number, account.sender)
            else:
                senders[account.channel] = account.sender
        return senders

    def _load(self, row: asyncpg.Record) -> LoadedAccount:
        org: uuid.UUID = row["organization_id"]
        channel = Channel(row["channel"])
        account, description = open_account(row, self.box)
        if account is None:
            logger.warning(
                "a clinic's provider account is unusable",
                extra={"organization_id": str(org), "channel": str(channel)},
            )
            unusable = UnusableAccount(channel, org, description)
            number = row["inbound_number"] or _bot_id(row)
            service = row["messaging_service_sid"]
            return LoadedAccount(org, channel, unusable, False, description, number, service)
        sender = build_sender(
            account,
            self.settings,
            last_inbound_lookup=self.last_inbound_lookup,
            content_store=self.content_store,
        )
        return LoadedAccount(
            org,
            channel,
            sender,
            True,
            description,
            account.inbound_number or account.bot_id,
            account.messaging_service_sid,
            account.secrets.get("auth_token"),
        )

    async def aclose(self) -> None:
        """Close every clinic sender built (the defaults belong to the caller); safe twice."""
        senders = [a.sender for loaded in self.accounts.values() for a in loaded]
        senders += self._retired
        self.accounts, self._maps, self._numbers, self._retired = {}, {}, {}, []
        for sender in senders:
            await sender.aclose()


def _bot_id(row: Mapping[str, object]) -> str | None:
    """A stored Telegram bot's id (its config; public), else None."""
    config = row["config"]
    fields = json.loads(config) if isinstance(config, str) else dict(config)  # type: ignore[call-overload]
    value = fields.get("bot_id") if row["channel"] == "telegram" else None
    return str(value) if value else None


__all__ = [
    "ACCOUNTS_CHANNEL",
    "REFRESH_SECONDS",
    "ClinicSenders",
    "LoadedAccount",
    "UnusableAccount",
    "open_account",
]
