"""A clinic's own provider account: what an admin enters, checked field by field, and its sender.

One account per clinic and channel (the table ``clinic_provider_accounts``):

    sms        Twilio: account_sid, auth_token, from_number and/or messaging_service_sid
    whatsapp   Twilio: account_sid, auth_token, from_number (the WhatsApp sender), content_sids
    email      SMTP: host, port, security (starttls | tls | none), username, password, from_address
    telegram   the clinic's own bot: token (from BotFather); its id and @username are kept public

:func:`parse_account` turns the fields an admin sent into a :class:`ProviderAccount` or raises
:class:`AccountProblem` naming the field and what a valid value looks like. The secret fields
(``auth_token``, ``password``) are kept apart from the rest (:attr:`ProviderAccount.secrets`), so
the caller encrypts exactly those. :func:`build_sender` makes the channel's ordinary adapter from
an account: a clinic's messages go through the same code as the default account's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import phonenumbers
from pydantic import SecretStr

from core import near_miss
from platforms.addresses import bare_host
from platforms.base import Channel, ChannelSender

if TYPE_CHECKING:
    from core.settings import Settings
    from platforms.whatsapp import LastInboundLookup
    from platforms.whatsapp_content import ContentStore

ACCOUNT_CHANNELS = (Channel.SMS, Channel.WHATSAPP, Channel.EMAIL, Channel.TELEGRAM)
SECRET_FIELDS: dict[Channel, tuple[str, ...]] = {
    Channel.SMS: ("auth_token",),
    Channel.WHATSAPP: ("auth_token",),
    Channel.EMAIL: ("password",),
    Channel.TELEGRAM: ("token",),
}
_BOT_TOKEN = re.compile(r"^([0-9]{1,20}):[A-Za-z0-9_-]{20,100}$")
_ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
_SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")
_CONTENT_SID = re.compile(r"^HX[0-9a-fA-F]{32}$")
_HOST = re.compile(r"^[A-Za-z0-9.-]{1,253}$|^\[[0-9A-Fa-f:.]+\]$")
_EMAIL = re.compile(r"^[^@\s<>]{1,64}@[^@\s<>]{1,255}$")
_KIND = re.compile(r"^[a-z_]{1,40}$")
_MAX_TEXT = 500
# What the stored config of a Telegram account adds: taken back, never suggested to an admin.
_STORED_ONLY = frozenset({"bot_id", "username"})
SECURITY_MODES = ("starttls", "tls", "none")


class AccountProblem(ValueError):
    """An account field is missing or malformed: ``field`` names it, the message says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


@dataclass(frozen=True, slots=True)
class ProviderAccount:
    """One clinic's account for one channel; ``secrets`` never leave the process unencrypted."""

    channel: Channel
    config: dict[str, Any]
    secrets: dict[str, str] = field(repr=False)

    @property
    def inbound_number(self) -> str | None:
        """The E.164 number patients write to (Twilio senders), for routing inbound webhooks."""
        value = self.config.get("from_number")
        return str(value) if value else None

    @property
    def messaging_service_sid(self) -> str | None:
        """The Twilio messaging service the SMS sender uses, if any."""
        value = self.config.get("messaging_service_sid")
        return str(value) if value else None

    @property
    def twilio_credentials(self) -> tuple[str, str]:
        """``(account_sid, auth_token)`` of a Twilio account."""
        return str(self.config["account_sid"]), self.secrets["auth_token"]

    @property
    def bot_id(self) -> str | None:
        """A Telegram bot's id (public: the part of its token before the colon)."""
        value = self.config.get("bot_id")
        return str(value) if value else None

    @property
    def label(self) -> str:
        """What the account sends from, for people (no secret)."""
        if self.channel is Channel.TELEGRAM:
            return f"Telegram bot {self.config.get('username') or self.config['bot_id']}"
        if self.channel is Channel.EMAIL:
            return (
                f"SMTP {self.config['host']}:{self.config['port']} as {self.config['from_address']}"
            )
        sender = self.config.get("from_number") or self.config.get("messaging_service_sid")
        return f"Twilio {self.channel} from {sender}"


def parse_account(channel: str, fields: Mapping[str, Any]) -> ProviderAccount:
    """Check an admin's fields for ``channel``; :class:`AccountProblem` names the first bad one."""
    try:
        which = Channel(channel)
    except ValueError:
        which = None
    if which not in ACCOUNT_CHANNELS:
        raise AccountProblem("channel", "must be sms, whatsapp, email or telegram")
    assert which is not None
    known = {
        Channel.SMS: {"account_sid", "auth_token", "from_number", "messaging_service_sid"},
        Channel.WHATSAPP: {"account_sid", "auth_token", "from_number", "content_sids"},
        Channel.EMAIL: {"host", "port", "security", "username", "password", "from_address"},
        # bot_id and username: what the stored config adds (re-read with the sealed token).
        Channel.TELEGRAM: {"token", "bot_id", "username"},
    }[which]
    unknown = sorted(set(fields) - known)
    if unknown:
        reason = f"unknown field for {which}" + near_miss.hint(
            unknown[0], known - _STORED_ONLY if which is Channel.TELEGRAM else known
        )
        raise AccountProblem(unknown[0], reason)
    if which is Channel.EMAIL:
        return _parse_email(fields)
    if which is Channel.TELEGRAM:
        token = _text(fields, "token")
        matched = _BOT_TOKEN.match(token)
        if matched is None:
            raise AccountProblem("token", "required: the bot's token from BotFather, 123456:AA...")
        bot = {"bot_id": matched.group(1)}
        if _text(fields, "username"):
            bot["username"] = _text(fields, "username")
        return ProviderAccount(which, bot, {"token": token})
    config: dict[str, Any] = {"account_sid": _match(fields, "account_sid", _ACCOUNT_SID, "AC...")}
    token = _text(fields, "auth_token")
    if not token:
        raise AccountProblem("auth_token", "required: the account's auth token (Twilio Console)")
    number = _text(fields, "from_number")
    if which is Channel.SMS:
        service = _text(fields, "messaging_service_sid")
        if not number and not service:
            raise AccountProblem(
                "from_number", "give the sender number or a messaging_service_sid (MG...)"
            )
        if service:
            config["messaging_service_sid"] = _match(fields, "messaging_service_sid", _SERVICE_SID)
    elif not number:
        raise AccountProblem(
            "from_number", "required: the WhatsApp sender number, e.g. +14155238886"
        )
    if number:
        config["from_number"] = _e164(number.removeprefix("whatsapp:"))
    if which is Channel.WHATSAPP and fields.get("content_sids") not in (None, {}, ""):
        config["content_sids"] = _content_sids(fields["content_sids"])
    return ProviderAccount(which, config, {"auth_token": token})


def _parse_email(fields: Mapping[str, Any]) -> ProviderAccount:
    host = _text(fields, "host")
    if not host or not _HOST.match(host):
        raise AccountProblem("host", "required: the SMTP server's host name, e.g. smtp.example.org")
    if host.startswith("[") and bare_host(host) == host:
        # Brackets hold an IP address only; the sender connects to it without them.
        raise AccountProblem(
            "host", "in brackets, an IP address: e.g. [2001:db8::1], or give a host name"
        )
    raw_port = fields.get("port", 587)
    try:
        port = int(raw_port)
    except (TypeError, ValueError):
        port = 0
    if isinstance(raw_port, bool) or not 1 <= port <= 65535:
        raise AccountProblem("port", "a TCP port from 1 to 65535, e.g. 587 (STARTTLS) or 465 (TLS)")
    security = _text(fields, "security") or ("tls" if port == 465 else "starttls")
    if security not in SECURITY_MODES:
        raise AccountProblem("security", "one of starttls, tls or none")
    sender = _text(fields, "from_address")
    bare = sender.partition("<")[2].partition(">")[0] if "<" in sender else sender
    if not _EMAIL.match(bare.strip()):
        raise AccountProblem(
            "from_address", "required: an address such as reminders@clinic.example"
        )
    username = _text(fields, "username")
    password = _text(fields, "password")
    if password and not username:
        raise AccountProblem("username", "required with a password")
    if username and not password:
        raise AccountProblem("password", "required with a username")
    config = {
        "host": host,
        "port": port,
        "security": security,
        "from_address": sender,
        "username": username or None,
    }
    return ProviderAccount(Channel.EMAIL, config, {"password": password} if password else {})


def _text(fields: Mapping[str, Any], name: str) -> str:
    value = fields.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise AccountProblem(name, "must be a string")
    if len(value) > _MAX_TEXT or "\x00" in value:
        raise AccountProblem(name, f"at most {_MAX_TEXT} characters")
    return value.strip()


def _match(fields: Mapping[str, Any], name: str, pattern: re.Pattern[str], shape: str = "") -> str:
    value = _text(fields, name)
    if not pattern.match(value):
        example = shape or pattern.pattern[1:3] + "..."
        raise AccountProblem(name, f"required: {example} followed by 32 hexadecimal characters")
    return value


def _e164(value: str) -> str:
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        raise AccountProblem("from_number", "a phone number in E.164 form, e.g. +14155550123")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _content_sids(value: object) -> dict[str, str]:
    if not isinstance(value, dict) or len(value) > 50:
        raise AccountProblem("content_sids", 'an object of kind -> Content SID, {"kind": "HX..."}')
    for kind, sid in value.items():
        if not isinstance(kind, str) or not _KIND.match(kind):
            raise AccountProblem(
                "content_sids", "keys are message kinds such as appointment_reminder"
            )
        if not isinstance(sid, str) or not _CONTENT_SID.match(sid):
            raise AccountProblem(
                "content_sids", f"{kind}: HX followed by 32 hexadecimal characters"
            )
    return dict(value)


def build_sender(
    account: ProviderAccount,
    settings: Settings,
    *,
    last_inbound_lookup: LastInboundLookup | None = None,
    content_store: ContentStore | None = None,
) -> ChannelSender:
    """The channel's adapter for ``account``: the default's code with the account's values.

    The settings are copied with the account's values in place of the ``TWILIO_*`` or ``SMTP_*``
    ones, so a clinic's sender is built exactly as the default is (status callbacks, segment
    limits, quick replies, unsubscribe headers). Vendor SDKs are imported only when needed.
    """
    config = account.config
    if account.channel is Channel.TELEGRAM:
        from platforms.telegram import TelegramSender

        return TelegramSender(
            account.secrets["token"],
            base_url=settings.telegram_api_base_url,
            connection_pool_size=settings.worker_concurrency,
        )
    if account.channel is Channel.EMAIL:
        from platforms.email import EmailSender

        password = account.secrets.get("password")
        return EmailSender.from_settings(
            settings.model_copy(
                update={
                    "smtp_host": config["host"],
                    "smtp_port": int(config["port"]),
                    "smtp_username": config.get("username"),
                    "smtp_password": SecretStr(password) if password else None,
                    "smtp_from": config["from_address"],
                    "smtp_starttls": config["security"] == "starttls",
                    "smtp_use_tls": config["security"] == "tls",
                }
            ),
            # A clinic's server: never one inside our network, unless the operator allows it.
            public_only=not settings.webhook_allow_private,
        )
    sid, token = account.twilio_credentials
    twilio = {"twilio_account_sid": sid, "twilio_auth_token": SecretStr(token)}
    if account.channel is Channel.SMS:
        from platforms.sms import SmsSender

        return SmsSender.from_settings(
            settings.model_copy(
                update=twilio
                | {
                    "twilio_sms_from": config.get("from_number"),
                    "twilio_messaging_service_sid": config.get("messaging_service_sid"),
                }
            )
        )
    from platforms.whatsapp import WhatsAppSender

    return WhatsAppSender.from_settings(
        settings.model_copy(
            update=twilio
            | {
                "twilio_whatsapp_from": config["from_number"],
                "twilio_whatsapp_content_sids": config.get("content_sids") or {},
            }
        ),
        last_inbound_at=last_inbound_lookup,
        content_store=content_store,
    )


__all__ = [
    "ACCOUNT_CHANNELS",
    "SECRET_FIELDS",
    "AccountProblem",
    "ProviderAccount",
    "build_sender",
    "parse_account",
]
