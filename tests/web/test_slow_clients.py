"""A slow client cannot hold a connection of ``medremind web`` for ever (slowloris).

uvicorn times out only idle kept-alive connections: a client that sent its headers, or a body
to ``/twilio/inbound`` (which must be read whole to check the signature), one byte now and then,
or nothing at all after connecting, kept its connection, socket and request task indefinitely;
enough of them exhaust the process's file descriptors. ``MEDREMIND_REQUEST_READ_SECONDS``
bounds the time from a request's first byte to its last (medremind.web.request_deadline).

Against a real ``medremind web``, with the deadline at 2 s; the waits for the disconnect are
hang guards with generous deadlines, not timings.
"""

from __future__ import annotations

import asyncio
import re
import time
from urllib.parse import urlsplit

import asyncpg
import httpx
import websockets

from tests import factories
from tests.web.processes import StartWeb

DEADLINE = "2"
PHONE = "+14155550143"
SLOW_STARTS = {
    "headers": b"POST /twilio/inbound HTTP/1.1\r\nHost: medremind\r\nX-Trickle: ",
    "body": (
        b"POST /twilio/inbound HTTP/1.1\r\nHost: medremind\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nX-Twilio-Signature: forged\r\n"
        b"Content-Length: 5000\r\n\r\nBody="
    ),
    "nothing": b"",
}


async def _trickle_until_closed(base: str, start: bytes) -> float:
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
            if start:
                try:
                    writer.write(b"a")
                    await writer.drain()
                except ConnectionError:
                    return time.monotonic() - began
        raise AssertionError(f"still open after 60 s: {start[:40]!r}")
    finally:
        writer.close()


async def test_slow_headers_a_slow_body_and_silence_are_disconnected(
    web_process: StartWeb,
) -> None:
    process, base = await web_process(MEDREMIND_REQUEST_READ_SECONDS=DEADLINE)
    took = await asyncio.gather(*(_trickle_until_closed(base, s) for s in SLOW_STARTS.values()))
    assert all(t < 30 for t in took), dict(zip(SLOW_STARTS, took, strict=True))
    # The process still answers, and ordinary clients are not hurried: two requests on one
    # kept-alive connection, a while apart.
    async with httpx.AsyncClient(base_url=base) as http:
        assert (await http.get("/healthz")).status_code == 200
        await asyncio.sleep(1)
        assert (await http.get("/healthz")).status_code == 200
    assert process.poll() is None


async def test_the_patient_apps_live_socket_outlives_the_deadline(
    web_process: StartWeb, admin_conn: asyncpg.Connection
) -> None:
    """A WebSocket is the websocket protocol's after the upgrade: the request deadline does not
    close it."""
    await factories.create_patient(admin_conn, contacts={"sms": PHONE})
    _, base = await web_process(MEDREMIND_REQUEST_READ_SECONDS=DEADLINE)
    async with httpx.AsyncClient(base_url=base) as http:
        requested = await http.post("/app/api/sign-in/request", json={"address": PHONE})
        assert requested.status_code == 202
        content = await admin_conn.fetchval(
            "select message_content from scheduled_messages where kind = 'system'"
        )
        token = re.search(r"#sign-in=([\w-]+)", content)[1]  # type: ignore[index]
        signed = await http.post("/app/api/sign-in", json={"token": token})
        assert signed.status_code == 200
    cookie = signed.headers["set-cookie"].split(";", 1)[0]
    ws_url = base.replace("http://", "ws://") + "/app/ws"
    async with websockets.connect(ws_url, additional_headers={"Cookie": cookie}) as app:
        await asyncio.sleep(float(DEADLINE) * 2.5)
        pong = await app.ping()
        await asyncio.wait_for(pong, timeout=20)
