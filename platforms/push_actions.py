"""Signed answer buttons for push notifications.

A notification's Taken / Snooze button must work from the lock screen, when the app's session
cookie has long expired, so each action carries a token: an HMAC of the button's data (which
names the dose or appointment, see :mod:`core.answer_buttons`) and an expiry. The service worker
posts data and token back; the web process checks the token and records the answer like any
other channel's. The token grants exactly that one answer, for a day.

The HMAC key is derived from the VAPID private key with HKDF, so no second secret is configured:
whoever can sign our pushes could already send the patient anything.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# A reminder is answered within hours; a day covers a phone that was off overnight.
ACTION_TOKEN_SECONDS = 24 * 60 * 60
_INFO = b"medremind push action tokens v1"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class ActionSigner:
    """Signs and checks ``(button data, expiry)`` pairs."""

    def __init__(self, secret: bytes, lifetime: float = ACTION_TOKEN_SECONDS) -> None:
        self._key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret)
        self._lifetime = lifetime

    def _mac(self, data: str, expires: int) -> str:
        text = f"{expires}:{data}".encode()
        return _b64url(hmac.new(self._key, text, hashlib.sha256).digest())

    def sign(self, data: str, now: float) -> str:
        """A token for ``data`` valid until ``now`` plus the lifetime (Unix seconds)."""
        expires = int(now + self._lifetime)
        return f"{expires}.{self._mac(data, expires)}"

    def verify(self, data: str, token: str, now: float) -> bool:
        """Whether ``token`` was signed for ``data`` and has not expired."""
        expires_text, _, mac = token.partition(".")
        if not expires_text.isdigit() or len(expires_text) > 12 or not mac:
            return False
        expires = int(expires_text)
        if expires < now:
            return False
        return hmac.compare_digest(mac, self._mac(data, expires))


__all__ = ["ACTION_TOKEN_SECONDS", "ActionSigner"]
