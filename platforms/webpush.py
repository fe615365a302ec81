"""Web Push: a notification to every device the patient subscribed in the patient app.

pywebpush encrypts the payload for each subscription (RFC 8291, ``aes128gcm``) and signs a VAPID
token (RFC 8292) with ``VAPID_PRIVATE_KEY``; this module only chooses what to send and maps the
push service's answers onto the delivery error tree, per device:

====================  ==============================================================
201/202               delivered to the push service (its ``Location`` is the receipt)
404 / 410             the subscription is gone: retired, never tried again
413                   payload too large for this service: permanent for this message
429                   rate limited (``Retry-After``)
401 / 403             our VAPID token was refused: configuration, no retry loop
5xx, network errors   transient
====================  ==============================================================

A send succeeds when any device accepted it. When every subscription of the contact point is
gone the send is a :class:`~platforms.base.PermanentError` with ``DEACTIVATE``: the dispatcher
marks the contact point and falls back to the patient's next channel.

The notification text is the rendered message, which is generic unless the patient opted in to
medicine names (lock screens are public). Answer buttons travel as notification actions, each with
a signed token the service worker posts back (:mod:`platforms.push_actions`).
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol
from urllib.parse import urlsplit
from uuid import UUID

import aiohttp
from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid

from platforms.base import (
    Channel,
    ConfigurationError,
    ContactEffect,
    DeliveryError,
    OutboundMessage,
    PermanentError,
    RateLimitedError,
    Receipt,
    TransientError,
)
from platforms.push_actions import ActionSigner

if TYPE_CHECKING:
    from pywebpush import WebPushException

logger = logging.getLogger(__name__)

# How long a push service keeps a notification for a device that is offline. A reminder older
# than this is stale (the dispatcher expires late reminders by the same reasoning).
PUSH_TTL_SECONDS = 2 * 60 * 60
# Push services take at most 4 kB of payload (RFC 8030 section 7.2 recommends at least 4096
# octets; pywebpush adds 103 bytes of encryption overhead).
MAX_PAYLOAD_BYTES = 3_900
# The title a lock screen shows: the service's name, never the patient's or the medicine's.
NOTIFICATION_TITLE = "MedRemind"
_GONE = frozenset({404, 410})


class Subscription(NamedTuple):
    """One device's push subscription (``push_subscriptions``)."""

    id: UUID
    endpoint: str
    p256dh: str
    auth: str


class SubscriptionStore(Protocol):
    """Where the sender finds a contact point's devices and records what the services said."""

    async def active(self, address: str) -> Sequence[Subscription]:
        """The live subscriptions of the ``webpush`` contact point with this address."""
        ...

    async def retire(self, subscription_id: UUID, reason: str) -> None:
        """Never use this subscription again (the push service said it is gone)."""
        ...

    async def succeeded(self, subscription_ids: Sequence[UUID]) -> None:
        """These subscriptions accepted a notification just now."""
        ...


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass(frozen=True, slots=True)
class VapidKey:
    """The service's VAPID key pair (P-256)."""

    vapid: Vapid

    @classmethod
    def parse(cls, text: str) -> VapidKey:
        """From ``VAPID_PRIVATE_KEY``: a PEM block, or base64url of the raw 32-byte scalar or DER.

        Raises ``ValueError`` naming what is wrong (never echoing the key).
        """
        text = text.strip()
        try:
            if text.startswith("-----BEGIN"):
                vapid = Vapid.from_pem(text.encode("ascii"))
            else:
                vapid = Vapid.from_string(text)
        except Exception as exc:  # py_vapid raises bare Exceptions and binascii errors
            raise ValueError(
                "VAPID_PRIVATE_KEY is not a P-256 private key (PEM, or base64url of the raw "
                f"32-byte key or of DER) ({type(exc).__name__})"
            ) from None
        return cls(vapid)

    @classmethod
    def generate(cls) -> VapidKey:
        """A new key pair."""
        vapid = Vapid()
        vapid.generate_keys()
        return cls(vapid)

    def private_text(self) -> str:
        """The private key as base64url of its raw 32-byte scalar (what :meth:`parse` reads)."""
        number = self.vapid.private_key.private_numbers().private_value
        return _b64url(number.to_bytes(32, "big"))

    @property
    def application_server_key(self) -> str:
        """The public key as the browser's ``applicationServerKey`` (base64url, uncompressed)."""
        raw = self.vapid.public_key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return _b64url(raw)

    def secret_bytes(self) -> bytes:
        """The raw private scalar, for deriving other keys from it (HKDF input)."""
        return self.vapid.private_key.private_numbers().private_value.to_bytes(32, "big")


def load_or_create_key(path: Path) -> VapidKey:
    """The key stored at ``path``, or a new one written there (mode 0600) for ``medremind dev``."""
    if path.exists():
        return VapidKey.parse(path.read_text(encoding="ascii"))
    key = VapidKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(key.private_text() + "\n", encoding="ascii")
    return key


def notification_payload(
    message: OutboundMessage, signer: ActionSigner | None, now: float
) -> bytes:
    """The JSON the service worker shows: title, body, tag, and each option as an action."""
    actions: list[dict[str, str]] = []
    if signer is not None:
        actions = [
            {"action": o.data, "title": o.label, "token": signer.sign(o.data, now)}
            for o in message.options
        ]
    body: dict[str, Any] = {
        "title": NOTIFICATION_TITLE,
        "body": message.text,
        "tag": message.message_id or "medremind",
        "kind": message.kind,
        "actions": actions,
    }
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if len(data) > MAX_PAYLOAD_BYTES:
        raise PermanentError(
            f"webpush: the notification is {len(data)} bytes, more than the {MAX_PAYLOAD_BYTES}"
            " a push service takes"
        )
    return data


class WebPushSender:
    """``ChannelSender`` for ``webpush``: the address is the contact point's opaque id."""

    channel = Channel.WEBPUSH

    def __init__(
        self,
        key: VapidKey,
        subject: str,
        store: SubscriptionStore,
        *,
        signer: ActionSigner | None = None,
        timeout: float = 10.0,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self._key = key
        self._subject = subject
        self._store = store
        self._signer = signer
        self._timeout = timeout
        self._session = session
        self._own_session = session is None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._timeout)
            )
            self._own_session = True
        return self._session

    async def send(self, address: str, message: OutboundMessage) -> Receipt:
        """Push ``message`` to every live device of the contact point ``address``."""
        subscriptions = await self._store.active(address)
        if not subscriptions:
            raise PermanentError(
                "webpush: no live push subscription (the app was uninstalled or notifications"
                " were turned off)",
                effect=ContactEffect.DEACTIVATE,
            )
        payload = notification_payload(message, self._signer, time.time())
        accepted: list[tuple[UUID, str | None]] = []
        failures: list[DeliveryError] = []
        for subscription in subscriptions:
            try:
                location = await self._push(subscription, payload)
            except _Gone as gone:
                await self._store.retire(subscription.id, gone.reason)
                continue
            except DeliveryError as exc:
                failures.append(exc)
                continue
            accepted.append((subscription.id, location))
        if accepted:
            await self._store.succeeded([sid for sid, _ in accepted])
            return Receipt(
                provider_message_id=accepted[0][1],
                channel=Channel.WEBPUSH,
                response={"devices": len(accepted), "failed": len(failures)},
            )
        if not failures:
            raise PermanentError(
                "webpush: every push subscription is gone (404/410 from the push service)",
                effect=ContactEffect.DEACTIVATE,
            )
        # The most telling failure decides: configuration, then rate limits, then the rest.
        for kind in (ConfigurationError, RateLimitedError, PermanentError):
            for failure in failures:
                if isinstance(failure, kind):
                    raise failure
        raise failures[0]

    async def _push(self, subscription: Subscription, payload: bytes) -> str | None:
        """POST one encrypted notification; the push service's ``Location``, or an error."""
        info = {
            "endpoint": subscription.endpoint,
            "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
        }
        # Imported here, not at the top: pywebpush imports requests (~60 ms of CPU a process), and
        # every web process imports this module for the patient app's VAPID key.
        from pywebpush import WebPushException, webpush_async

        # A fresh claims dict per call: pywebpush fills in aud and exp in place.
        claims: dict[str, str | int] = {"sub": self._subject}
        try:
            response = await webpush_async(
                info,
                data=payload.decode("utf-8"),
                vapid_private_key=self._key.vapid,
                vapid_claims=claims,
                ttl=PUSH_TTL_SECONDS,
                timeout=self._timeout,
                headers={"Urgency": "high"},
                aiohttp_session=self._client(),
            )
        except WebPushException as exc:
            raise _classify(exc, subscription.endpoint) from None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            error = f"webpush: {type(exc).__name__} reaching the push service"
            raise TransientError(error) from exc
        except ValueError as exc:
            # A subscription whose keys do not decode: it can never receive anything.
            raise _Gone(f"unusable subscription keys ({type(exc).__name__})") from exc
        if isinstance(response, str):  # only for curl=True, which we never ask for
            return None
        return response.headers.get("Location")

    async def aclose(self) -> None:
        """Close the HTTP session we opened; safe to call twice."""
        if self._own_session and self._session is not None and not self._session.closed:
            await self._session.close()


class _Gone(Exception):
    """This subscription will never receive again."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _classify(exc: WebPushException, endpoint: str) -> Exception:
    """A push service's refusal as a delivery error (the endpoint's host only, for the text)."""
    status = exc.status_code
    host = urlsplit(endpoint).hostname or "push service"
    if status in _GONE:
        return _Gone(f"{host} answered {status}: subscription expired or unsubscribed")
    if status == 429:
        retry = _retry_after(exc)
        return RateLimitedError(f"webpush: {host} answered 429", retry_after=retry, code="429")
    if status == 413:
        return PermanentError(f"webpush: {host} answered 413 (payload too large)", code="413")
    if status in (400, 401, 403):
        return ConfigurationError(
            f"webpush: {host} refused our request ({status}): check VAPID_PRIVATE_KEY and"
            " VAPID_SUBJECT",
            code=str(status),
        )
    return TransientError(f"webpush: {host} answered {status}", code=str(status))


def _retry_after(exc: WebPushException) -> float:
    value = exc.retry_after
    try:
        return max(1.0, float(value)) if value else 60.0
    except ValueError:
        return 60.0


__all__ = [
    "PUSH_TTL_SECONDS",
    "Subscription",
    "SubscriptionStore",
    "VapidKey",
    "WebPushSender",
    "load_or_create_key",
    "notification_payload",
]
