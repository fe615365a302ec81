"""Check a clinic's provider account at the provider before it is saved.

Twilio: fetch the Account resource (``GET /2010-04-01/Accounts/{sid}.json``, basic auth) through
the same HTTP port the senders use (``TWILIO_API_BASE_URL``): the SID and token must be accepted
and the account ``active``; then the sender must be that account's own
(:func:`check_twilio_sender`). SMTP: connect, EHLO, STARTTLS or TLS as configured, and log in when a
user name is given; nothing is sent. A failure raises :class:`AccountProblem` naming the field to
fix and what the provider said (never a secret).
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING

import aiohttp
import aiosmtplib
from aiosmtplib.errors import (
    SMTPAuthenticationError,
    SMTPConnectError,
    SMTPException,
    SMTPResponseException,
    SMTPServerDisconnected,
)
from twilio.base.exceptions import TwilioException, TwilioRestException

from platforms.addresses import RefusedHost, connect_checked
from platforms.base import Channel
from platforms.provider_accounts import AccountProblem, ProviderAccount
from platforms.twilio_common import DEFAULT_API_BASE_URL

if TYPE_CHECKING:
    from twilio.rest import Client

CHECK_TIMEOUT_SECONDS = 10.0
# At most this many of an account's numbers or WhatsApp senders are read to find the one given.
OWNED_LIST_LIMIT = 1000


async def check_account(
    account: ProviderAccount,
    *,
    twilio_api_base_url: str = DEFAULT_API_BASE_URL,
    tls_context: ssl.SSLContext | None = None,
    wait_seconds: float = CHECK_TIMEOUT_SECONDS,
    allow_private: bool = False,
    telegram_api_base_url: str = "https://api.telegram.org",
) -> None:
    """Raise :class:`AccountProblem` unless the provider accepts ``account``.

    A Telegram bot: ``getMe`` must accept its token; its @username is added to the account's
    config (the clinic's invite links name it).

    ``allow_private``: an SMTP server on a private or loopback address may be checked (a clinic's
    LAN); otherwise such a host is refused before any connection (:mod:`platforms.addresses`).
    """
    if account.channel is Channel.EMAIL:
        await check_smtp(
            account, tls_context=tls_context, wait_seconds=wait_seconds, allow_private=allow_private
        )
    elif account.channel is Channel.TELEGRAM:
        await check_telegram(account, api_base_url=telegram_api_base_url, wait_seconds=wait_seconds)
    else:
        await check_twilio(account, api_base_url=twilio_api_base_url, wait_seconds=wait_seconds)


async def check_telegram(
    account: ProviderAccount,
    *,
    api_base_url: str,
    wait_seconds: float = CHECK_TIMEOUT_SECONDS,
) -> None:
    """The bot's token is accepted (``getMe``); keeps its @username in the config."""
    from telegram.error import InvalidToken, TelegramError

    from platforms.telegram import TelegramSender

    async with TelegramSender(
        account.secrets["token"], base_url=api_base_url, timeout=wait_seconds
    ) as bot:
        try:
            me = await bot.bot.get_me()
        except InvalidToken:
            raise AccountProblem("token", "Telegram does not accept this bot token") from None
        except TelegramError as exc:
            problem = type(exc).__name__
            raise AccountProblem("token", f"Telegram could not be asked ({problem})") from None
    if str(me.id) != account.bot_id:
        raise AccountProblem("token", "Telegram answered for another bot than the token names")
    account.config["username"] = me.username


async def check_twilio(
    account: ProviderAccount,
    *,
    api_base_url: str = DEFAULT_API_BASE_URL,
    wait_seconds: float = CHECK_TIMEOUT_SECONDS,
) -> None:
    """The Twilio account exists, takes this auth token, is active and owns the sender."""
    sid, token = account.twilio_credentials
    # Imported here, not at the top: the SDK's REST modules are slow to import, and every web
    # process imports this module for the clinic's account page.
    from platforms.twilio_client import make_client

    client, http = make_client(
        sid, token, api_base_url=api_base_url, timeout=wait_seconds, pool_size=1
    )
    try:
        try:
            fetched = await client.api.v2010.accounts(sid).fetch_async()
        except TwilioRestException as exc:
            if exc.status in (401, 403):
                raise AccountProblem(
                    "auth_token",
                    f"Twilio refused this account SID and auth token (error"
                    f" {exc.code or exc.status}); copy both from the Twilio Console",
                ) from None
            if exc.status == 404:
                raise AccountProblem(
                    "account_sid", "Twilio knows no account with this SID"
                ) from None
            raise AccountProblem(
                "account_sid", f"Twilio answered HTTP {exc.status} when the account was fetched"
            ) from None
        status = getattr(fetched, "status", None)
        if status not in (None, "active"):
            raise AccountProblem("account_sid", f"the Twilio account is {status}, not active")
        await check_twilio_sender(account, client)
    except (TimeoutError, TwilioException, aiohttp.ClientError, OSError) as exc:
        raise AccountProblem(
            "account_sid",
            f"Twilio could not be reached to check the account ({type(exc).__name__}); try again",
        ) from None
    finally:
        await http.close()


async def check_twilio_sender(account: ProviderAccount, client: Client) -> None:
    """The number and messaging service the clinic gave are its own account's.

    Webhooks for a number are verified with the token of the account saved with it
    (medremind.web.twilio_accounts), and its replies leave from it: a clinic that saved a number
    of someone else's account would have the real owner's webhooks refused and could sign
    messages "to" that number itself. Twilio answers each account for what it owns only: an SMS
    number among its IncomingPhoneNumbers (and able to send SMS), a WhatsApp number among its
    WhatsApp senders (Senders API), a messaging service fetched under its SID (404 otherwise).
    """
    sid = account.config["account_sid"]
    number = account.inbound_number
    service = account.messaging_service_sid
    try:
        if service is not None:
            try:
                await client.messaging.v1.services(service).fetch_async()
            except TwilioRestException as exc:
                if exc.status != 404:
                    raise
                raise AccountProblem(
                    "messaging_service_sid",
                    f"Twilio account {sid} has no messaging service {service}; give one of its"
                    " own (Twilio Console > Messaging > Services), or the account it belongs to",
                ) from None
        if number is None:
            return
        if account.channel is Channel.WHATSAPP:
            senders = await client.messaging.v2.channels_senders.list_async(
                channel="whatsapp", limit=OWNED_LIST_LIMIT
            )
            if f"whatsapp:{number}" not in {getattr(s, "sender_id", None) for s in senders}:
                raise AccountProblem(
                    "from_number",
                    f"{number} is not a WhatsApp sender of Twilio account {sid} (the shared"
                    " sandbox number is no clinic's own); register the number as a WhatsApp"
                    " sender of this account (Twilio Console > Messaging > Senders > WhatsApp"
                    " senders), or give the account it belongs to",
                )
            return
        numbers = await client.api.v2010.accounts(sid).incoming_phone_numbers.list_async(
            phone_number=number, limit=OWNED_LIST_LIMIT
        )
        # PhoneNumber is a pattern to Twilio (a partial number matches): compare exactly.
        owned = [n for n in numbers if getattr(n, "phone_number", None) == number]
        if not owned:
            raise AccountProblem(
                "from_number",
                f"{number} is not a phone number of Twilio account {sid}; give one of its own"
                " numbers (Twilio Console > Phone Numbers > Active numbers), or the account it"
                " belongs to",
            )
        capabilities = getattr(owned[0], "capabilities", None) or {}
        if capabilities.get("sms") is False:
            raise AccountProblem(
                "from_number",
                f"{number} of Twilio account {sid} cannot send SMS (Twilio lists it without the"
                " SMS capability); give one of its numbers that can (Twilio Console > Phone"
                " Numbers > Active numbers)",
            )
    except TwilioRestException as exc:
        if exc.status in (401, 403):
            raise AccountProblem(
                "auth_token",
                f"Twilio refused to list what account {sid} owns (error {exc.code or exc.status});"
                " use the account's own auth token, not a restricted API key",
            ) from None
        raise AccountProblem(
            "account_sid",
            f"Twilio answered HTTP {exc.status} when the account's senders were listed; try again",
        ) from None


async def check_smtp(
    account: ProviderAccount,
    *,
    tls_context: ssl.SSLContext | None = None,
    wait_seconds: float = CHECK_TIMEOUT_SECONDS,
    allow_private: bool = False,
) -> None:
    """The SMTP server answers EHLO, does the TLS asked for, and takes the login if any."""
    config = account.config
    where = f"{config['host']}:{config['port']}"
    try:
        # Resolved and checked once: the connection goes to that very address (DNS rebinding).
        sock = await connect_checked(
            str(config["host"]),
            int(config["port"]),
            allow_private=allow_private,
            wait_seconds=wait_seconds,
        )
    except RefusedHost as exc:
        raise AccountProblem(
            "host", f"{where}: {exc.reason} (allowed only with MEDREMIND_WEBHOOK_ALLOW_PRIVATE)"
        ) from None
    except (TimeoutError, OSError) as exc:
        raise AccountProblem(
            "host", f"could not talk to the SMTP server at {where} ({type(exc).__name__})"
        ) from None
    security = config["security"]
    smtp = aiosmtplib.SMTP(
        hostname=str(config["host"]),  # for TLS: the certificate must name it
        sock=sock,
        use_tls=security == "tls",
        start_tls=False,
        timeout=wait_seconds,
        tls_context=tls_context,
    )
    try:
        await smtp.connect()
        await smtp.ehlo()
        if security == "starttls":
            if not smtp.supports_extension("starttls"):
                raise AccountProblem("security", f"{where} does not offer STARTTLS")
            await smtp.starttls(tls_context=tls_context)
            await smtp.ehlo()
        username = config.get("username")
        if username:
            await smtp.login(str(username), account.secrets.get("password", ""))
    except AccountProblem:
        raise
    except SMTPAuthenticationError as exc:
        raise AccountProblem(
            "password", f"{where} refused the user name and password ({exc.code})"
        ) from None
    except (SMTPConnectError, SMTPServerDisconnected, TimeoutError, OSError) as exc:
        raise AccountProblem(
            "host", f"could not talk to the SMTP server at {where} ({type(exc).__name__})"
        ) from None
    except SMTPResponseException as exc:
        raise AccountProblem("host", f"{where} answered {exc.code} during the check") from None
    except SMTPException as exc:
        raise AccountProblem("security", f"{where}: {type(exc).__name__}") from None
    finally:
        if smtp.is_connected:
            try:
                await smtp.quit()
            except (SMTPException, OSError):
                smtp.close()
        sock.close()  # the transport's, closed with it; still ours when it never connected


__all__ = [
    "CHECK_TIMEOUT_SECONDS",
    "check_account",
    "check_smtp",
    "check_twilio",
    "check_twilio_sender",
]
