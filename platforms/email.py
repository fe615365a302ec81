"""E-mail through SMTP with aiosmtplib (STARTTLS on 587, or implicit TLS on 465).

Errors are classified in one table, :func:`classify_smtp_error`::

    authentication failed                              CredentialsRefusedError (messages wait)
    STARTTLS/AUTH unsupported                          ConfigurationError
    recipient refused with 5xx                         PermanentError(INVALID)
    other 5xx reply                                    PermanentError
    4xx reply                                          TransientError
    connection refused, dropped, timed out             TransientError
"""

from __future__ import annotations

import logging
import socket
import ssl
from typing import TYPE_CHECKING

import aiosmtplib
from aiosmtplib.errors import (
    SMTPAuthenticationError,
    SMTPException,
    SMTPNotSupported,
    SMTPRecipientsRefused,
    SMTPResponseException,
)

from platforms.addresses import RefusedHost, bare_host, connect_checked
from platforms.base import (
    Channel,
    ConfigurationError,
    ContactEffect,
    CredentialsRefusedError,
    DeliveryError,
    OutboundMessage,
    PermanentError,
    Receipt,
    TransientError,
)
from platforms.mime import build_email

if TYPE_CHECKING:
    from core.settings import Settings

log = logging.getLogger(__name__)


class EmailSender:
    """Sends one e-mail per message over a fresh SMTP connection (reminders are not bulk mail)."""

    channel = Channel.EMAIL

    def __init__(
        self,
        host: str,
        port: int = 587,
        *,
        from_address: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = True,
        use_tls: bool = False,
        unsubscribe_url: str | None = None,
        unsubscribe_mailto: str | None = None,
        timeout: float = 30.0,
        tls_context: ssl.SSLContext | None = None,
        public_only: bool = False,
    ) -> None:
        if not host or not from_address:
            raise ConfigurationError("e-mail needs SMTP_HOST and SMTP_FROM to be set")
        self.host = bare_host(host)
        self.port = port
        # The sending limit is the server's per login, fleet-wide (clinics may share a server).
        self.rate_key = f"smtp:{username}@{host}:{port}" if username else f"smtp:{host}:{port}"
        self.from_address = from_address
        self.username = username
        self.password = password
        self.use_tls = use_tls
        # Implicit TLS and STARTTLS are exclusive; TLS wins when both are asked for.
        self.starttls = starttls and not use_tls
        self.unsubscribe_url = unsubscribe_url
        self.unsubscribe_mailto = unsubscribe_mailto
        self.timeout = timeout
        self.tls_context = tls_context
        # A clinic's server (not the operator's SMTP_HOST): connect only to an address outside
        # our network, the one checked (platforms.addresses.connect_checked), at each send.
        self.public_only = public_only

    @classmethod
    def from_settings(cls, settings: Settings, *, public_only: bool = False) -> EmailSender:
        """Build from ``SMTP_*``; unsubscribe by reply to ``SMTP_FROM`` and, with
        ``PUBLIC_BASE_URL``, by one click at ``/unsubscribe/<message id>``. ``public_only``: see
        the attribute (a clinic's own server)."""
        password = settings.smtp_password
        public = settings.public_base_url
        return cls(
            settings.smtp_host or "",
            settings.smtp_port,
            from_address=settings.smtp_from or "",
            username=settings.smtp_username,
            password=password.get_secret_value() if password else None,
            starttls=settings.smtp_starttls,
            use_tls=settings.smtp_use_tls,
            unsubscribe_url=f"{public}/unsubscribe/{{message_id}}" if public else None,
            unsubscribe_mailto=_bare_address(settings.smtp_from or ""),
            public_only=public_only,
        )

    async def send(self, address: str, message: OutboundMessage) -> Receipt:
        """Send a multipart text + HTML e-mail; the receipt's id is its ``Message-ID``."""
        email = build_email(
            message,
            to=address,
            from_address=self.from_address,
            unsubscribe_url=self.unsubscribe_url,
            unsubscribe_mailto=self.unsubscribe_mailto,
        )
        sock = await self._checked_socket() if self.public_only else None
        try:
            _, reply = await aiosmtplib.send(
                email,
                hostname=self.host,
                port=None if sock is not None else self.port,
                sock=sock,
                username=self.username,
                password=self.password,
                use_tls=self.use_tls,
                start_tls=self.starttls,
                timeout=self.timeout,
                tls_context=self.tls_context,
            )
        except (SMTPException, OSError) as exc:
            raise classify_smtp_error(exc) from exc
        finally:
            if sock is not None:
                sock.close()  # closed with the connection already, unless it never started
        message_id = email["Message-ID"]
        # DEBUG, not INFO: a JSON line per send, scrubbed of sensitive values, cost ~28 us of
        # CPU, as much as the rest of a send (issue 20); each send is in its attempt row and
        # medremind_messages_sent. MEDREMIND_LOG_LEVEL=DEBUG shows it.
        log.debug("email sent message_id=%s", message_id)
        return Receipt(
            provider_message_id=message_id, channel=Channel.EMAIL, response={"reply": reply}
        )

    async def _checked_socket(self) -> socket.socket:
        """A socket connected to the address the host resolved to and was checked at now."""
        try:
            return await connect_checked(
                self.host, self.port, allow_private=False, wait_seconds=self.timeout
            )
        except RefusedHost as exc:
            reason = f"the clinic's SMTP server {self.host}: {exc.reason}"
            raise ConfigurationError(reason) from None
        except OSError as exc:  # TimeoutError included
            raise classify_smtp_error(exc) from exc

    async def aclose(self) -> None:
        """Nothing to release: each send opens and closes its own connection."""


def classify_smtp_error(exc: BaseException) -> DeliveryError:
    """Translate an aiosmtplib or socket error into our error tree (the one table)."""
    if isinstance(exc, SMTPAuthenticationError):
        return CredentialsRefusedError(
            f"SMTP authentication failed ({exc.code})", code=str(exc.code)
        )
    if isinstance(exc, SMTPNotSupported) or (
        type(exc) is SMTPException and "not supported" in str(exc).lower()
    ):
        # aiosmtplib raises a bare SMTPException when the server lacks STARTTLS.
        return ConfigurationError(f"SMTP server does not support what we need: {exc}")
    if isinstance(exc, SMTPRecipientsRefused):
        codes = [refused.code for refused in exc.recipients]
        code = str(codes[0]) if codes else None
        if codes and all(c >= 500 for c in codes):
            return PermanentError(
                f"recipient refused ({code})", code=code, effect=ContactEffect.INVALID
            )
        return TransientError(f"recipient temporarily refused ({code})", code=code)
    if isinstance(exc, SMTPResponseException):
        code = str(exc.code)
        if exc.code >= 500:
            return PermanentError(f"SMTP server refused the message ({code})", code=code)
        return TransientError(f"SMTP server deferred the message ({code})", code=code)
    return TransientError(f"SMTP connection failed ({type(exc).__name__})")


def _bare_address(value: str) -> str | None:
    if "<" in value:
        value = value.partition("<")[2].partition(">")[0]
    return value.strip() or None


__all__ = ["EmailSender", "classify_smtp_error"]
