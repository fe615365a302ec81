"""A real SMTP server (aiosmtpd) that keeps what it receives, with scriptable refusals.

Usage::

    with SmtpSink(username="u", password="p", starttls=True) as smtp:
        sender = EmailSender("127.0.0.1", smtp.port, ..., tls_context=smtp.client_tls_context())
        ...
        assert smtp.messages[0]["Subject"] == "..."

``fail_next_rcpt("550 5.1.1 User unknown")`` and ``fail_next_data("451 4.3.0 Try later")`` refuse
the next recipient or message with that reply. With ``starttls=True`` a throw-away self-signed
certificate for 127.0.0.1 is made with ``openssl``.
"""

from __future__ import annotations

import email
import email.policy
import ssl
import subprocess
import tempfile
import threading
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword

from tests.ports import free_port


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        refusal = self.sink._pop("rcpt")
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        refusal = self.sink._pop("data")
        if refusal:
            return refusal
        raw = envelope.original_content or b""
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        with self.sink._lock:
            self.sink.envelopes.append(
                {"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos), "raw": raw}
            )
            self.sink.messages.append(parsed)
        return "250 Message accepted for delivery"


class SmtpSink:
    """aiosmtpd on 127.0.0.1 (or ``host``: ``::1``); optional AUTH (``username``/``password``)
    and STARTTLS."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
    ) -> None:
        self.host = host
        self.username = username
        self.password = password
        self.starttls = starttls
        self.messages: list[EmailMessage] = []
        self.envelopes: list[dict[str, Any]] = []
        self.port = 0
        self._lock = threading.Lock()
        self._refusals: dict[str, list[str]] = {"rcpt": [], "data": []}
        self._controller: Controller | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._cert: Path | None = None

    def fail_next_rcpt(self, reply: str = "550 5.1.1 User unknown") -> None:
        with self._lock:
            self._refusals["rcpt"].append(reply)

    def fail_next_data(self, reply: str = "451 4.3.0 Try again later") -> None:
        with self._lock:
            self._refusals["data"].append(reply)

    def _pop(self, stage: str) -> str | None:
        with self._lock:
            queue = self._refusals[stage]
            return queue.pop(0) if queue else None

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == self.username
            and auth_data.password.decode() == self.password
        )
        # handled=False: aiosmtpd then answers 535 itself (True means "I already replied").
        return AuthResult(success=ok, handled=False)

    def client_tls_context(self) -> ssl.SSLContext | None:
        """An SSL context that trusts this server's throw-away certificate."""
        if self._cert is None:
            return None
        return ssl.create_default_context(cafile=str(self._cert))

    def start(self) -> SmtpSink:
        if self._controller is not None:
            return self
        self.port = free_port()  # nothing else is handed it before the controller binds it
        kwargs: dict[str, Any] = {}
        if self.username is not None:
            kwargs.update(authenticator=self._authenticate, auth_require_tls=self.starttls)
        if self.starttls:
            kwargs.update(tls_context=self._server_tls_context(), require_starttls=True)
        self._controller = Controller(_Handler(self), hostname=self.host, port=self.port, **kwargs)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _server_tls_context(self) -> ssl.SSLContext:
        self._tmp = tempfile.TemporaryDirectory(prefix="smtp-tls-")
        cert, key = Path(self._tmp.name, "cert.pem"), Path(self._tmp.name, "key.pem")
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-keyout", str(key), "-out", str(cert),
            ],
            check=True,
            capture_output=True,
        )  # fmt: skip
        self._cert = cert
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        return context
