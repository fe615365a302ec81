"""A loopback Web Push service (RFC 8030) that checks what a real one checks, and decrypts.

A browser subscribes with our VAPID public key; the push service gives it an endpoint, and the
browser gives us the endpoint with its own P-256 public key and auth secret. This fake plays
both: :meth:`FakePushService.subscribe` makes a device (an EC key pair and an auth secret, as a
browser would) and returns the subscription JSON the patient app posts to us.

Each ``POST /push/<device>`` is checked like a push service does: ``TTL`` present, an
``Authorization: vapid t=<JWT>, k=<public key>`` whose ES256 signature verifies with ``k``,
``k`` equal to the key the device subscribed with, ``aud`` the service's origin, ``exp`` in the
future and at most 24 hours ahead, ``sub`` a mailto: or https: URL; then the ``aes128gcm`` body
is decrypted with the device's private key and auth secret (http_ece, RFC 8188/8291). A request
that fails a check gets the status a real service answers (400, 401, 403) and is kept in
``rejected``; a device can be scripted to answer 404, 410, 429 or 5xx instead.
"""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import http_ece
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.fakes._server import LoopbackServer


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Device:
    """One browser's subscription: its keys, and what it received."""

    id: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes
    server_key: str  # the applicationServerKey it subscribed with
    received: list[dict[str, Any]] = field(default_factory=list)
    # Status codes to answer, one per push (then 201); e.g. [410] for an unsubscribed device.
    script: list[int] = field(default_factory=list)

    @property
    def p256dh(self) -> str:
        raw = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return _b64url(raw)


class FakePushService(LoopbackServer):
    """Start it (``async with``), subscribe devices, inspect ``device.received``."""

    def __init__(self) -> None:
        self.devices: dict[str, Device] = {}
        self.rejected: list[tuple[int, str]] = []
        super().__init__(Starlette(routes=[Route("/push/{device}", self._push, methods=["POST"])]))

    async def __aenter__(self) -> FakePushService:
        await self.astart()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.astop()

    def subscribe(self, server_key: str) -> tuple[Device, dict[str, Any]]:
        """A new device subscribed with ``server_key``; returns it and its subscription JSON."""
        device = Device(
            id=uuid.uuid4().hex,
            private_key=ec.generate_private_key(ec.SECP256R1()),
            auth=os.urandom(16),
            server_key=server_key,
        )
        self.devices[device.id] = device
        subscription = {
            "endpoint": f"{self.base_url}/push/{device.id}",
            "expirationTime": None,
            "keys": {"p256dh": device.p256dh, "auth": _b64url(device.auth)},
        }
        return device, subscription

    def _reject(self, status: int, why: str) -> Response:
        self.rejected.append((status, why))
        return Response(why, status_code=status)

    async def _push(self, request: Request) -> Response:
        device = self.devices.get(request.path_params["device"])
        if device is None:
            return self._reject(404, "no such subscription")
        if "ttl" not in request.headers:
            return self._reject(400, "TTL header missing")
        problem = self._check_vapid(request.headers.get("authorization", ""), device)
        if problem is not None:
            return self._reject(*problem)
        body = await request.body()
        if request.headers.get("content-encoding") != "aes128gcm":
            return self._reject(400, "Content-Encoding must be aes128gcm")
        if len(body) > 4096:
            return self._reject(413, "payload too large")
        if device.script:
            status = device.script.pop(0)
            if status != 201:
                headers = {"Retry-After": "7"} if status == 429 else {}
                return Response(f"scripted {status}", status_code=status, headers=headers)
        try:
            plain = http_ece.decrypt(
                body, private_key=device.private_key, auth_secret=device.auth, version="aes128gcm"
            )
        except Exception as exc:  # a wrong key or a corrupt record: the browser drops it
            return self._reject(400, f"cannot decrypt: {type(exc).__name__}")
        device.received.append(
            {
                "payload": json.loads(plain),
                "ttl": int(request.headers["ttl"]),
                "urgency": request.headers.get("urgency"),
            }
        )
        location = f"{self.base_url}/message/{uuid.uuid4().hex}"
        return Response(status_code=201, headers={"Location": location})

    def _check_vapid(self, header: str, device: Device) -> tuple[int, str] | None:
        scheme, _, params = header.partition(" ")
        if scheme.lower() != "vapid":
            return 401, "Authorization must be vapid t=..., k=..."
        parts = dict(item.strip().split("=", 1) for item in params.split(",") if "=" in item)
        token, key = parts.get("t", ""), parts.get("k", "")
        if not token or not key:
            return 401, "vapid t and k required"
        if key != device.server_key:
            return 403, "k is not the key this subscription was created with"
        try:
            valid = Vapid02.verify(f"vapid t={token},k={key}")
        except Exception:
            valid = False
        if not valid:
            return 401, "VAPID signature does not verify with k"
        claims = json.loads(_unb64url(token.split(".")[1]))
        if claims.get("aud") != self.base_url:
            return 401, f"aud {claims.get('aud')!r} is not the push service's origin"
        exp = int(claims.get("exp", 0))
        if not time.time() < exp <= time.time() + 24 * 3600:
            return 401, "exp missing, past, or more than 24 hours ahead"
        if not str(claims.get("sub", "")).startswith(("mailto:", "https://")):
            return 401, "sub must be a mailto: or https: URL"
        return None


__all__ = ["Device", "FakePushService"]
