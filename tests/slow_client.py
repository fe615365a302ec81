"""A slow client (slowloris): a request trickled a byte a second, for the request deadline's
tests (tests/web/test_slow_clients.py, tests/acceptance/test_dev.py)."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

SLOW_STARTS = {
    "headers": b"POST /twilio/inbound HTTP/1.1\r\nHost: medremind\r\nX-Trickle: ",
    "body": (
        b"POST /twilio/inbound HTTP/1.1\r\nHost: medremind\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nX-Twilio-Signature: forged\r\n"
        b"Content-Length: 5000\r\n\r\nBody="
    ),
    "nothing": b"",
}


async def trickle_until_closed(base: str, start: bytes) -> float:
    """Send ``start``, then one byte a second (nothing when ``start`` is empty) until the server
    closes the connection; the seconds it took (fails after 60)."""
    url = urlsplit(base)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    began = time.monotonic()
    try:
        writer.write(start)
        await writer.drain()
        while time.monotonic() - began < 60:
            try:
                if await asyncio.wait_for(reader.read(1024), timeout=1) == b"":
                    return time.monotonic() - began
            except TimeoutError:
                pass
            except ConnectionError:
                # Closed with a reset: the server closed while a trickled byte was still unread
                # in its socket (a loaded server reads late), which the kernel answers with RST.
                return time.monotonic() - began
            if start:
                try:
                    writer.write(b"a")
                    await writer.drain()
                except ConnectionError:
                    return time.monotonic() - began
        raise AssertionError(f"still open after 60 s: {start[:40]!r}")
    finally:
        writer.close()
