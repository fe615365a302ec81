"""Secrets stored at rest, encrypted with ``MEDREMIND_CREDENTIALS_KEY`` (Fernet, ``cryptography``).

The variable holds one or more Fernet keys, comma separated, newest first. :class:`SecretBox`
is a ``MultiFernet`` over them: the first key encrypts, any key decrypts, so rotating is
1) put a new key first, keeping the old one after it (every row stays readable);
2) run ``medremind rotate-credentials`` (re-encrypts every stored secret with the first key);
3) drop the old key.

What is stored is a Fernet token (AES-128-CBC + HMAC-SHA256, with its creation time) of a small
JSON object, so one token can hold several secret fields (an account's auth token, a password).
The database never holds a key; a dump of it holds no usable secret.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

if TYPE_CHECKING:
    from core.settings import Settings

KEY_VARIABLE = "MEDREMIND_CREDENTIALS_KEY"
# Fernet tokens start with the version byte 0x80, "gAAAAA" in URL-safe base64.
_TOKEN_PREFIX = "gAAAAA"  # noqa: S105 - a format marker, not a secret


class CredentialsKeyMissing(RuntimeError):
    """A secret must be stored or read but ``MEDREMIND_CREDENTIALS_KEY`` is not set."""

    def __init__(self) -> None:
        super().__init__(
            f"{KEY_VARIABLE} is not set: secrets stored at rest cannot be encrypted or read; "
            "make a key with `medremind credentials-key` and set it on the web and worker processes"
        )


class SecretUnreadable(ValueError):
    """A stored secret was made with a key that is no longer in ``MEDREMIND_CREDENTIALS_KEY``."""


def parse_keys(value: str) -> list[Fernet]:
    """The Fernet keys of the variable's value; ``ValueError`` naming the bad key's position."""
    parts = [part.strip() for part in value.split(",") if part.strip()]
    if not parts:
        raise ValueError("no key given")
    keys = []
    for number, part in enumerate(parts, start=1):
        try:
            keys.append(Fernet(part))
        except ValueError:
            # Never echo the value: it is (part of) a secret.
            raise ValueError(
                f"key {number} of {len(parts)} is not a Fernet key "
                "(32 random bytes in URL-safe base64, 44 characters)"
            ) from None
    return keys


def new_key() -> str:
    """A fresh Fernet key for ``MEDREMIND_CREDENTIALS_KEY``."""
    return Fernet.generate_key().decode("ascii")


def looks_encrypted(stored: str) -> bool:
    """Whether ``stored`` is a Fernet token (rows written before encryption hold plain text)."""
    return stored.startswith(_TOKEN_PREFIX)


class SecretBox:
    """Encrypts and decrypts small JSON objects of secrets with the configured keys."""

    def __init__(self, keys: str) -> None:
        self._fernet = MultiFernet(parse_keys(keys))

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretBox | None:
        """The box for ``MEDREMIND_CREDENTIALS_KEY``; None when it is not set."""
        key = settings.credentials_key
        return cls(key.get_secret_value()) if key is not None else None

    def seal(self, secrets: Mapping[str, str]) -> str:
        """A token of ``secrets`` made with the first key."""
        return self._fernet.encrypt(json.dumps(dict(secrets)).encode("utf-8")).decode("ascii")

    def open(self, token: str) -> dict[str, str]:
        """The secrets in ``token``; :class:`SecretUnreadable` when no key opens it."""
        try:
            data = json.loads(self._fernet.decrypt(token.encode("ascii")))
        except (InvalidToken, UnicodeEncodeError, ValueError) as exc:
            raise SecretUnreadable(
                f"a stored secret cannot be decrypted with any key of {KEY_VARIABLE} "
                "(made with a key that was removed?)"
            ) from exc
        if not isinstance(data, dict):
            raise SecretUnreadable("a stored secret is not an object of fields")
        return {str(k): str(v) for k, v in data.items()}

    def rotate(self, token: str) -> str:
        """``token`` re-encrypted with the first key (``MultiFernet.rotate``)."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeEncodeError) as exc:
            raise SecretUnreadable(
                f"a stored secret cannot be decrypted with any key of {KEY_VARIABLE}"
            ) from exc


def require_box(box: SecretBox | None) -> SecretBox:
    """``box``, or :class:`CredentialsKeyMissing` when no key is configured."""
    if box is None:
        raise CredentialsKeyMissing()
    return box


def seal_text(box: SecretBox | None, value: str, field: str = "secret") -> str:
    """One secret string sealed for storage (``CredentialsKeyMissing`` without a key)."""
    return require_box(box).seal({field: value})


def open_text(box: SecretBox | None, stored: str, field: str = "secret") -> str:
    """A stored secret string: opened when sealed, as it is when stored before encryption."""
    if not looks_encrypted(stored):
        return stored
    return require_box(box).open(stored).get(field, "")


def hint(secret: str) -> str:
    """A masked hint of ``secret`` for display: its last four characters, if it is long enough."""
    return "****" + secret[-4:] if len(secret) >= 12 else "****"


__all__ = [
    "KEY_VARIABLE",
    "CredentialsKeyMissing",
    "SecretBox",
    "SecretUnreadable",
    "hint",
    "looks_encrypted",
    "new_key",
    "open_text",
    "parse_keys",
    "require_box",
    "seal_text",
]
