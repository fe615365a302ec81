"""The lean HTTP/1.1 client (platforms/http11.py) against real loopback servers.

The server runs its own event loop in a thread, so a test can act on the server side (close an
idle connection, hold answers back) while the client's loop is not running, which is exactly the
window in which a client must notice a connection the server already closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from platforms.http11 import (
    ClientClosed,
    ConnectError,
    ConnectTimeout,
    HTTPClient,
    PoolTimeout,
    ReadTimeout,
    RemoteProtocolError,
    Timeouts,
    WriteTimeout,
)
from platforms.http11.parser import ResponseParser


@dataclass
class Seen:
    """One request as the server read it."""

    connection: int
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    """What the server writes back: raw chunks (a short pause between them), then maybe close."""

    chunks: list[bytes]
    close: bool = False
    hold: bool = False  # wait for ``Server.release()`` before answering
    never: bool = False  # read the request, answer nothing


def answer(status: int = 200, body: bytes = b'{"ok":true}', *, extra: str = "") -> Reply:
    """A Content-Length framed answer."""
    head = f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode()
    return Reply([head + body])


@dataclass
class Server:
    """A scripted HTTP/1.1 server on 127.0.0.1 in its own thread and event loop."""

    respond: Callable[[Seen], Reply] = lambda seen: answer()
    ssl_context: ssl.SSLContext | None = None
    seen: list[Seen] = field(default_factory=list)
    connections: int = 0
    open_now: int = 0
    most_open: int = 0
    port: int = 0

    def __post_init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._writers: set[asyncio.StreamWriter] = set()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._started.wait()

    @property
    def url(self) -> str:
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._gate = asyncio.Event()
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.ssl_context)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._started.set()
        self._loop.run_forever()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number = self.connections
        self.open_now += 1
        self.most_open = max(self.most_open, self.open_now)
        self._writers.add(writer)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ")
                headers = {}
                for line in lines[1:]:
                    if line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                seen = Seen(number, method, path, headers, body)
                self.seen.append(seen)
                reply = self.respond(seen)
                if reply.never:
                    await reader.read()  # until the client gives up and closes
                    return
                if reply.hold:
                    await self._gate.wait()
                for index, chunk in enumerate(reply.chunks):
                    if index:
                        await asyncio.sleep(0.01)  # separate reads on the client side
                    writer.write(chunk)
                    await writer.drain()
                if reply.close:
                    return
        except ConnectionError:
            return
        finally:
            self.open_now -= 1
            self._writers.discard(writer)
            writer.close()

    def _call(self, make: Callable[[], object]) -> None:
        async def run() -> None:
            result = make()
            if asyncio.iscoroutine(result):
                await result

        asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=10)

    def close_connections(self) -> None:
        """Close every open connection, from the server side, and wait until they are closed."""

        async def close_all() -> None:
            for writer in list(self._writers):
                writer.close()
            for writer in list(self._writers):
                with contextlib.suppress(ConnectionError):
                    await writer.wait_closed()

        self._call(close_all)

    def release(self) -> None:
        """Let held answers go."""
        self._call(self._gate.set)

    def stop(self) -> None:
        async def shutdown() -> None:
            self._server.close()
            for writer in list(self._writers):
                writer.close()

        self._call(shutdown)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


@pytest.fixture
def server() -> Iterator[Server]:
    running = Server()
    yield running
    running.stop()


TIMEOUTS = Timeouts(connect=5, read=5, write=5, pool=5)


async def test_keep_alive_reuses_one_connection(server: Server) -> None:
    async with HTTPClient(timeouts=TIMEOUTS) as client:
        for number in range(3):
            response = await client.request(
                "POST", f"{server.url}/bot1/x?n={number}", b'{"a":1}', content_type="a/json"
            )
            assert response.status == 200
            assert response.body == b'{"ok":true}'
    assert server.connections == 1
    assert [s.path for s in server.seen] == ["/bot1/x?n=0", "/bot1/x?n=1", "/bot1/x?n=2"]
    first = server.seen[0]
    assert first.method == "POST"
    assert first.body == b'{"a":1}'
    assert first.headers["host"] == f"127.0.0.1:{server.port}"
    assert first.headers["content-type"] == "a/json"
    assert first.headers["content-length"] == "7"


async def test_chunked_response_split_across_reads(server: Server) -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n"
    server.respond = lambda seen: Reply(
        [head + b"5;ext=1\r\nhel", b"lo\r\n", b"6\r\n world\r\n0\r\n", b"X-Trailer: 1\r\n\r\n"]
    )
    async with HTTPClient(timeouts=TIMEOUTS) as client:
        first = await client.request("GET", server.url)
        second = await client.request("GET", server.url)
    assert first.body == second.body == b"hello world"
    assert first.headers["content-type"] == "text/plain"
    assert server.connections == 1  # the chunked framing left the connection reusable


async def test_connection_close_header_means_a_fresh_connection_next(server: Server) -> None:
    server.respond = lambda seen: Reply(
        [b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi"], close=True
    )
    async with HTTPClient(timeouts=TIMEOUTS) as client:
        for _ in range(2):
            assert (await client.request("POST", server.url, b"x")).body == b"hi"
    assert server.connections == 2


async def test_body_until_close_when_there_is_no_length(server: Server) -> None:
    server.respond = lambda seen: Reply([b"HTTP/1.1 200 OK\r\n\r\npart one, ", b"two"], close=True)
    async with HTTPClient(timeouts=TIMEOUTS) as client:
        response = await client.request("GET", server.url)
        assert response.body == b"part one, two"
        await client.request("GET", server.url)
    assert server.connections == 2


async def test_interim_100_continue_is_skipped(server: Server) -> None:
    server.respond = lambda seen: Reply(
        [b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nk"]
    )
    async with HTTPClient(timeouts=TIMEOUTS) as client:
        response = await client.request("POST", server.url, b"x")
    assert (response.status, response.body) == (201, b"k")


async def test_idle_connection_closed_by_the_server_is_not_used_for_a_post(server: Server) -> None:
    async with HTTPClient(timeouts=TIMEOUTS) as client:
        await client.request("POST", server.url, b"first")
        # Closed from the server's thread while this loop does not run: the client has not seen
        # the FIN yet, so only the check before writing can tell that the connection is dead.
        server.close_connections()
        response = await client.request("POST", server.url, b"second")
    assert response.status == 200
    assert [(s.connection, s.body) for s in server.seen] == [(1, b"first"), (2, b"second")]


async def test_idle_connection_past_keepalive_expiry_is_dropped(server: Server) -> None:
    async with HTTPClient(timeouts=TIMEOUTS, keepalive_expiry=0.05) as client:
        await client.request("GET", server.url)
        await asyncio.sleep(0.1)
        await client.request("GET", server.url)
    assert [s.connection for s in server.seen] == [1, 2]


async def test_error_statuses_come_back_as_responses(server: Server) -> None:
    bodies = {
        "/400": answer(400, b'{"ok":false,"error_code":400}'),
        "/429": answer(429, b'{"ok":false}', extra="Retry-After: 3\r\n"),
        "/502": answer(502, b"bad gateway"),
    }
    server.respond = lambda seen: bodies[seen.path]
    async with HTTPClient(timeouts=TIMEOUTS) as client:
        got = [await client.request("POST", server.url + path, b"{}") for path in bodies]
    assert [(r.status, r.body) for r in got] == [
        (400, b'{"ok":false,"error_code":400}'),
        (429, b'{"ok":false}'),
        (502, b"bad gateway"),
    ]
    assert got[1].headers["retry-after"] == "3"
    assert server.connections == 1


async def test_read_timeout_is_not_retried(server: Server) -> None:
    server.respond = lambda seen: Reply([], never=True)
    async with HTTPClient(timeouts=Timeouts(connect=5, read=0.1, write=5, pool=5)) as client:
        with pytest.raises(ReadTimeout) as caught:
            await client.request("POST", server.url, b"once")
    assert caught.value.sent is True
    assert len(server.seen) == 1


async def test_server_closing_mid_response_fails_without_a_retry(server: Server) -> None:
    server.respond = lambda seen: Reply(
        [b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a part"], close=True
    )
    async with HTTPClient(timeouts=TIMEOUTS) as client:
        with pytest.raises(RemoteProtocolError):
            await client.request("POST", server.url, b"once")
    assert len(server.seen) == 1


async def test_garbage_instead_of_http_is_a_protocol_error(server: Server) -> None:
    server.respond = lambda seen: Reply([b"SSH-2.0-OpenSSH\r\n\r\n"])
    async with HTTPClient(timeouts=TIMEOUTS) as client:
        with pytest.raises(RemoteProtocolError):
            await client.request("GET", server.url)


async def test_pool_limit_queues_waiters_in_order(server: Server) -> None:
    server.respond = lambda seen: Reply(answer(body=seen.body).chunks, hold=True)
    async with HTTPClient(pool_size=2, timeouts=TIMEOUTS) as client:
        tasks = [
            asyncio.create_task(client.request("POST", server.url, str(n).encode()))
            for n in range(6)
        ]
        while len(server.seen) < 2:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        assert len(server.seen) == 2  # the other four wait for a connection
        server.release()
        bodies = [(await task).body for task in tasks]
    assert bodies == [str(n).encode() for n in range(6)]
    assert server.connections == 2
    assert server.most_open == 2
    assert [s.body for s in server.seen] == [str(n).encode() for n in range(6)]


async def test_pool_timeout_sends_nothing(server: Server) -> None:
    server.respond = lambda seen: Reply(answer().chunks, hold=True)
    timeouts = Timeouts(connect=5, read=5, write=5, pool=0.05)
    async with HTTPClient(pool_size=1, timeouts=timeouts) as client:
        busy = asyncio.create_task(client.request("POST", server.url, b"first"))
        while not server.seen:
            await asyncio.sleep(0.01)
        with pytest.raises(PoolTimeout) as caught:
            await client.request("POST", server.url, b"second")
        assert caught.value.sent is False
        server.release()
        assert (await busy).status == 200
        assert (await client.request("POST", server.url, b"third")).status == 200
    assert [s.body for s in server.seen] == [b"first", b"third"]


async def test_a_cancelled_request_frees_its_slot_and_its_connection_is_not_reused(
    server: Server,
) -> None:
    server.respond = lambda seen: Reply([], never=True) if seen.body == b"slow" else answer()
    async with HTTPClient(pool_size=1, timeouts=TIMEOUTS) as client:
        slow = asyncio.create_task(client.request("POST", server.url, b"slow"))
        while not server.seen:
            await asyncio.sleep(0.01)
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow
        assert (await client.request("POST", server.url, b"next")).status == 200
    assert [s.connection for s in server.seen] == [1, 2]


async def test_connection_refused_is_a_connect_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with HTTPClient(timeouts=TIMEOUTS) as client:
        with pytest.raises(ConnectError) as caught:
            await client.request("POST", f"http://127.0.0.1:{port}/", b"x")
    assert caught.value.sent is False


async def test_connect_timeout_when_the_server_never_accepts() -> None:
    # A listening socket that never accepts, its backlog filled: the next SYN goes unanswered.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers = []
    try:
        for _ in range(8):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(listener.getsockname())
            fillers.append(filler)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
        async with HTTPClient(timeouts=Timeouts(connect=0.2, read=5, write=5, pool=5)) as client:
            with pytest.raises(ConnectTimeout):
                await client.request("POST", url, b"x")
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


async def test_write_timeout_when_the_server_does_not_read() -> None:
    # The kernel completes the handshake for a listening socket that never accepts or reads, so
    # a body larger than the socket buffers stalls the write.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
        async with HTTPClient(timeouts=Timeouts(connect=5, read=5, write=0.2, pool=5)) as client:
            with pytest.raises(WriteTimeout) as caught:
                await client.request("POST", url, b"x" * (64 * 1024 * 1024))
    assert caught.value.sent is True


async def test_closed_client_refuses_requests(server: Server) -> None:
    client = HTTPClient(timeouts=TIMEOUTS)
    await client.request("GET", server.url)
    await client.aclose()
    await client.aclose()  # safe twice
    with pytest.raises(ClientClosed):
        await client.request("GET", server.url)


def _self_signed(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    command += ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost"]
    command += ["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"]
    subprocess.run(
        command,
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
async def test_https_with_keep_alive(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    tls = Server(ssl_context=server_context)
    try:
        trusting = ssl.create_default_context(cafile=str(cert))
        async with HTTPClient(timeouts=TIMEOUTS, ssl_context=trusting) as client:
            for _ in range(2):
                response = await client.request("POST", f"{tls.url}/botT/sendMessage", b"{}")
                assert response.status == 200
        assert tls.connections == 1
        # The default context does not trust a self-signed certificate: a connect error.
        async with HTTPClient(timeouts=TIMEOUTS) as client:
            with pytest.raises(ConnectError):
                await client.request("POST", tls.url, b"{}")
    finally:
        tls.stop()


# -- the response parser alone: every byte boundary ------------------------------------------


@pytest.mark.parametrize(
    ("wire", "head_request", "status", "body", "keep_alive"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", False, 200, b"hello", True),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3;x=y\r\nabc\r\nA\r\n0123456789\r\n0\r\nT: 1\r\n\r\n",
            False,
            200,
            b"abc0123456789",
            True,
        ),
        (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No\r\n\r\n", False, 204, b"", True),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", True, 200, b"", True),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", False, 200, b"x", False),
        (
            b"HTTP/1.1 400 Bad\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
            False,
            400,
            b"",
            False,
        ),
    ],
)
def test_parser_at_every_byte_boundary(
    wire: bytes, head_request: bool, status: int, body: bytes, keep_alive: bool
) -> None:
    for step in (1, 2, 7, len(wire)):
        parser = ResponseParser(head_request=head_request)
        done = None
        for start in range(0, len(wire), step):
            assert done is None, "complete before the last byte"
            done = parser.feed(wire[start : start + step])
        assert done is not None
        assert (done.status, done.body, parser.keep_alive) == (status, body, keep_alive)


@pytest.mark.parametrize(
    "wire",
    [
        b"HTTP/2 200 OK\r\n\r\n",
        b"HTTP/1.1 2x0 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc",
    ],
)
def test_parser_refuses_what_is_not_http(wire: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        ResponseParser().feed(wire)


def test_parser_bytes_beyond_the_response_forbid_reuse() -> None:
    parser = ResponseParser()
    done = parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxEXTRA")
    assert done is not None
    assert done.body == b"x"
    assert parser.keep_alive is False


def test_parser_at_eof() -> None:
    until_close = ResponseParser()
    assert until_close.feed(b"HTTP/1.1 200 OK\r\n\r\nall of it") is None
    assert until_close.eof().body == b"all of it"
    short = ResponseParser()
    assert short.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nhalf") is None
    with pytest.raises(RemoteProtocolError):
        short.eof()
