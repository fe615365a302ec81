"""CPU per Web Push notification: ``WebPushSender.send`` (RFC 8291 encryption and an ES256 VAPID
signature per device, through pywebpush over aiohttp) against a loopback push endpoint. By hand:

    .venv/bin/python bench/webpush.py                   # 2,000 sends, 32 in flight
    .venv/bin/python bench/webpush.py --sends 5000 --concurrency 64

The endpoint (a bare ASGI app answering 201) runs in its own process, so this process's CPU time
is the sender's alone: a fresh ephemeral ECDH key and AES-GCM per payload, the JWT signature, the
HTTP client. One JSON line: ``sends``, ``concurrency``, ``seconds``, ``sends_per_second``,
``cpu_us_per_send``, ``p50_ms``/``p99_ms``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import multiprocessing
import os
import socket
import statistics
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

from bench.dispatch import emit  # noqa: E402
from platforms.base import Option, OutboundMessage  # noqa: E402
from platforms.push_actions import ActionSigner  # noqa: E402
from platforms.webpush import Subscription, VapidKey, WebPushSender  # noqa: E402

MESSAGE = OutboundMessage(
    text="Hi Ana. Time for your 8:00 AM dose.",
    kind="medication_reminder",
    message_id=str(uuid.uuid4()),
    options=(
        Option("Taken", "d:0123456789abcdef0123456789abcdef:t"),
        Option("Snooze 15 min", "d:0123456789abcdef0123456789abcdef:s"),
        Option("Skip", "d:0123456789abcdef0123456789abcdef:k"),
    ),
)


async def _endpoint(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Any POST: read the body, answer 201 as a push service does."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 201, "headers": [(b"location", b"/m")]})
    await send({"type": "http.response.body", "body": b""})


def _serve(sock: socket.socket) -> None:
    import uvicorn

    config = uvicorn.Config(_endpoint, log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])


class _OneDevice:
    """A SubscriptionStore with one browser-like device (its own P-256 key and auth secret)."""

    def __init__(self, endpoint: str) -> None:
        key = (
            ec.generate_private_key(ec.SECP256R1())
            .public_key()
            .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        )
        b64 = base64.urlsafe_b64encode
        self.device = Subscription(
            uuid.uuid4(),
            endpoint,
            b64(key).rstrip(b"=").decode(),
            b64(os.urandom(16)).rstrip(b"=").decode(),
        )

    async def active(self, address: str) -> Sequence[Subscription]:
        return [self.device]

    async def retire(self, subscription_id: uuid.UUID, reason: str) -> None:
        raise AssertionError("the endpoint never answers 404/410")

    async def succeeded(self, subscription_ids: Sequence[uuid.UUID]) -> None:
        return None


async def run(args: argparse.Namespace, endpoint: str) -> None:
    key = VapidKey.generate()
    sender = WebPushSender(
        key,
        "mailto:bench@medremind.test",
        _OneDevice(endpoint),
        signer=ActionSigner(key.secret_bytes()),
    )
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(args.sends):
        queue.put_nowait(i)

    async def worker() -> None:
        while not queue.empty():
            queue.get_nowait()
            started = time.perf_counter()
            await sender.send("app-bench", MESSAGE)
            latencies.append(time.perf_counter() - started)

    await sender.send("app-bench", MESSAGE)  # warm up: session, imports
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(args.concurrency)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    await sender.aclose()
    latencies.sort()
    emit(
        bench="webpush_send",
        sends=args.sends,
        concurrency=args.concurrency,
        seconds=round(wall, 3),
        sends_per_second=round(args.sends / wall, 1),
        cpu_us_per_send=round(cpu / args.sends * 1e6, 1),
        p50_ms=round(statistics.median(latencies) * 1000, 2),
        p99_ms=round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sends", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(sock,), daemon=True)
    server.start()
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        asyncio.run(run(args, f"http://127.0.0.1:{port}/push/bench"))
    finally:
        server.terminate()
        server.join(5)


if __name__ == "__main__":
    main()
