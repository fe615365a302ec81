"""A slow client cannot hold a connection of ``medremind web`` for ever (slowloris).

uvicorn times out only idle kept-alive connections: a client that sent its headers, or a body
to ``/twilio/inbound`` (which must be read whole to check the signature), one byte now and then,
or nothing at all after connecting, kept its connection, socket and request task indefinitely;
enough of them exhaust the process's file descriptors. ``MEDREMIND_REQUEST_READ_SECONDS``
bounds the time from a request's first byte to its last (medremind.web.request_deadline), and
``MAX_HEAD_BYTES`` the size of its line and headers (``MAX_URL_BYTES`` its target's).

Against a real ``medremind web``, with the deadline at 2 s; the waits for the disconnect are
hang guards with generous deadlines, not timings.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from typing import Any

import asyncpg
import httpx
import websockets

from medremind.web.patient_app.live import CLOSE_TOO_MANY, MAX_SOCKETS_PER_PATIENT
from tests import factories
from tests.slow_client import SLOW_STARTS, trickle_until_closed
from tests.web.processes import StartWeb

DEADLINE = "2"
# websockets' own opening deadline is 10 s: forty handshakes at once on a loaded box (each reads
# the session, the admitted ones write their connection row) can take longer.
OPEN_SECONDS = 60
PHONE = "+14155550143"


async def test_slow_headers_a_slow_body_and_silence_are_disconnected(
    web_process: StartWeb,
) -> None:
    process, base = await web_process(MEDREMIND_REQUEST_READ_SECONDS=DEADLINE)
    took = await asyncio.gather(*(trickle_until_closed(base, s) for s in SLOW_STARTS.values()))
    assert all(t < 30 for t in took), dict(zip(SLOW_STARTS, took, strict=True))
    # A fast client's endless headers: 40 MB of short ones, sent within the deadline, grew the
    # process by 250 MB and were answered 200. Past 64 KB they are a 431 saying so, at once.
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    flood = b"".join(b"X-%06d: a\r\n" % i for i in range(30_000))  # 330 KB
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + flood)
    answer = await asyncio.wait_for(reader.read(1000), 30)
    assert answer.startswith(b"HTTP/1.1 431 "), answer
    assert b"larger than 65536 bytes" in answer and b"header_fields_too_large" in answer
    writer.close()
    # A query string longer than uvicorn's URL parser reads (64 KB) was a plain-text 400
    # "Invalid HTTP request received.", naming nothing: now a JSON 414 saying what to shorten.
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"GET /api/v1/patients?q=" + b"a" * (65_536 - 19) + b" HTTP/1.1\r\n\r\n")
    answer = await asyncio.wait_for(reader.read(1000), 30)
    assert answer.startswith(b"HTTP/1.1 414 "), answer
    assert b"uri_too_long" in answer and b"send shorter query parameters" in answer
    writer.close()
    # The process still answers, and ordinary clients are not hurried: two requests on one
    # kept-alive connection, a while apart, with as many cookies as a browser sends.
    async with httpx.AsyncClient(base_url=base, cookies={"c": "a" * 40_000}) as http:
        assert (await http.get("/healthz")).status_code == 200
        await asyncio.sleep(1)
        assert (await http.get("/healthz")).status_code == 200
    assert process.poll() is None


async def _signed_in_cookie(base: str, admin_conn: asyncpg.Connection) -> str:
    """A patient signed in to the app with the link the web queued for their SMS."""
    await factories.create_patient(admin_conn, contacts={"sms": PHONE})
    async with httpx.AsyncClient(base_url=base) as http:
        requested = await http.post("/app/api/sign-in/request", json={"address": PHONE})
        assert requested.status_code == 202
        content = await admin_conn.fetchval(
            "select message_content from scheduled_messages where kind = 'system'"
        )
        token = re.search(r"#sign-in=([\w-]+)", content)[1]  # type: ignore[index]
        signed = await http.post("/app/api/sign-in", json={"token": token})
        assert signed.status_code == 200
    return signed.headers["set-cookie"].split(";", 1)[0]


async def test_the_patient_apps_live_socket_outlives_the_deadline(
    web_process: StartWeb, admin_conn: asyncpg.Connection
) -> None:
    """A WebSocket is the websocket protocol's after the upgrade: the request deadline does not
    close it."""
    _, base = await web_process(MEDREMIND_REQUEST_READ_SECONDS=DEADLINE)
    cookie = await _signed_in_cookie(base, admin_conn)
    ws_url = base.replace("http://", "ws://") + "/app/ws"
    async with websockets.connect(
        ws_url, additional_headers={"Cookie": cookie}, open_timeout=OPEN_SECONDS
    ) as app:
        await asyncio.sleep(float(DEADLINE) * 2.5)
        pong = await app.ping()
        await asyncio.wait_for(pong, timeout=20)


async def test_one_session_cannot_open_sockets_without_end(
    web_process: StartWeb, admin_conn: asyncpg.Connection
) -> None:
    """Each socket holds a connection row refreshed every heartbeat: a patient's session opening
    sockets by the hundred (at once, too) gets MAX_SOCKETS_PER_PATIENT, the rest are closed with
    4429 (the app retries later); the open ones keep working."""
    _, base = await web_process()
    cookie = await _signed_in_cookie(base, admin_conn)
    ws_url = base.replace("http://", "ws://") + "/app/ws"
    async with contextlib.AsyncExitStack() as stack:

        async def open_one() -> Any:
            return await stack.enter_async_context(
                websockets.connect(
                    ws_url, additional_headers={"Cookie": cookie}, open_timeout=OPEN_SECONDS
                )
            )

        sockets = await asyncio.gather(*(open_one() for _ in range(40)))

        async def closed_code(socket: Any) -> int | None:
            """The code the server closes ``socket`` with, once it does (frames are skipped)."""
            try:
                while True:
                    await socket.recv()
            except websockets.ConnectionClosed as closed:
                return closed.rcvd.code if closed.rcvd else None

        # Until the surplus sockets are closed (a hang guard: a loaded server closes them late);
        # the sockets still waiting then are the admitted ones, each checked open by a ping.
        waits = {asyncio.ensure_future(closed_code(s)): s for s in sockets}
        refused = 40 - MAX_SOCKETS_PER_PATIENT
        done: set[asyncio.Future[int | None]] = set()
        pending = set(waits)
        deadline = time.monotonic() + 60
        while len(done) < refused and (left := deadline - time.monotonic()) > 0:
            finished, pending = await asyncio.wait(
                pending, timeout=left, return_when=asyncio.FIRST_COMPLETED
            )
            done |= finished
        for wait in pending:
            wait.cancel()
        codes = [wait.result() for wait in done]
        assert codes == [CLOSE_TOO_MANY] * refused, codes
        still_open = [waits[wait] for wait in pending]
        assert len(still_open) == MAX_SOCKETS_PER_PATIENT
        for socket in still_open:
            pong = await socket.ping()
            await asyncio.wait_for(pong, timeout=20)
        # Each admitted socket writes its row in its handshake's transaction, which may still be
        # committing when the first socket answers a ping (3 of 8 at the first look, once, in a
        # loaded CI run).
        deadline = time.monotonic() + 20
        while True:
            rows = await admin_conn.fetchval("select count(*) from patient_app_connections")
            assert rows <= MAX_SOCKETS_PER_PATIENT
            if rows == MAX_SOCKETS_PER_PATIENT or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        assert rows == MAX_SOCKETS_PER_PATIENT
