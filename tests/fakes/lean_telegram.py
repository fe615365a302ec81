"""A lean loopback Bot API server for benchmarks: raw asyncio HTTP/1.1 with keep-alive.

It stands in for Telegram in ``bench/``, so it must never be the bottleneck: the full
:class:`~tests.fakes.fake_telegram.FakeTelegram` (Starlette + uvicorn in a thread, every call
kept, HTML checked) costs far more CPU per request than a sender does. This one parses just
enough HTTP/1.1 (request line, ``Content-Length``, keep-alive), answers in Telegram's real wire
format (``{"ok": true, "result": Message}``; 429 with ``parameters.retry_after``), sets
TCP_NODELAY on every connection (Nagle plus delayed ACK would add ~40 ms to each answer), and
keeps only counters. Not for tests: scripting failures is :class:`FakeTelegram`'s job.

Run it in its own process (so it shares no GIL with what it measures)::

    python -m tests.fakes.lean_telegram --token T [--latency 0.005] [--rate-limit 30]
        [--chat-rate-limit 1]

It prints its base URL on the first line of stdout, serves until stdin closes, then prints one
JSON line of statistics: ``calls``, ``ok``, ``429`` (``429_chat`` of them for the per-chat
limit), ``first_ok``, ``last_ok`` (epoch seconds), ``methods`` (successful calls per method),
``distinct_texts`` and ``repeated_texts`` (sendMessage texts accepted more than once, how often).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from typing import Any, cast
from urllib.parse import parse_qsl, unquote

_BOT_USER = {"id": 7000001, "is_bot": True, "first_name": "MedRemind", "username": "bench_bot"}
_MAX_BODY = 10 * 1024 * 1024


class LeanTelegram:
    """Counters and answers of the lean fake; one event loop serves every connection."""

    def __init__(
        self,
        token: str | None,
        *,
        latency: float = 0.0,
        rate_limit_per_second: int | None = None,
        chat_rate_limit_per_second: int | None = None,
    ) -> None:
        self.token = token
        self.latency = latency
        self.rate_limit = rate_limit_per_second
        self.chat_rate_limit = chat_rate_limit_per_second
        self.chat_limited = 0
        self._chats: dict[Any, deque[float]] = {}
        self.calls = 0
        self.ok = 0
        self.limited = 0
        self.first_ok: float | None = None
        self.limited_at: list[float] = []  # when 429s were answered (epoch seconds, first 100)
        self.limited_early: list[float] = []  # seconds before the bot's window had room (same)
        self.last_ok: float | None = None
        self.ok_at: list[float] = []  # when calls succeeded (epoch seconds, first 100,000)
        self.methods: dict[str, int] = {}
        # Texts accepted more than once (sendMessage), and how many distinct ones: a duplicate
        # send is what a fleet's kill may cost, and these say which.
        self._texts: dict[str, int] = {}
        self._recent: deque[float] = deque()
        self._ids = itertools.count(1000)

    def stats(self) -> dict[str, Any]:
        """The counters as printed at exit."""
        return {
            "calls": self.calls,
            "ok": self.ok,
            "429": self.limited,
            "429_chat": self.chat_limited,
            "first_ok": self.first_ok,
            "last_ok": self.last_ok,
            "methods": self.methods,
            "limited_at": self.limited_at,
            "limited_early": self.limited_early,
            "ok_at": self.ok_at,
            "distinct_texts": len(self._texts),
            "repeated_texts": {text: n for text, n in self._texts.items() if n > 1},
        }

    def answer(self, path: str, content_type: str, body: bytes) -> tuple[int, bytes]:
        """Status and JSON body for one request to ``path``."""
        self.calls += 1
        parts = path.split("?", 1)[0].split("/")
        # /bot<token>/<method> or /bot<token>/test/<method>
        if len(parts) < 3 or not parts[1].startswith("bot"):
            return _error(404, "Not Found")
        token, method = unquote(parts[1][3:]), parts[-1]
        if self.token is not None and token != self.token:
            return _error(401, "Unauthorized")
        if self.rate_limit:
            # Telegram's rule as the full fake applies it: no more than N in any trailing second.
            now = time.monotonic()
            recent = self._recent
            while recent and now - recent[0] >= 1.0:
                recent.popleft()
            if len(recent) >= self.rate_limit:
                self.limited += 1
                if len(self.limited_at) < 100:
                    self.limited_at.append(time.time())
                    # How far inside the second this one came: a few microseconds or a
                    # millisecond say a clock or a timer, a tenth of a second a limiter.
                    self.limited_early.append(round(1.0 - (now - recent[0]), 6))
                return _error(429, "Too Many Requests: retry after 1", {"retry_after": 1})
            recent.append(now)
        params = _params(content_type, body)
        if self.chat_rate_limit and "chat_id" in params:
            # Telegram's per-chat rule: no more than N messages to one chat in any second.
            now = time.monotonic()
            chat = self._chats.setdefault(params["chat_id"], deque())
            while chat and now - chat[0] >= 1.0:
                chat.popleft()
            if len(chat) >= self.chat_rate_limit:
                self.limited += 1
                self.chat_limited += 1
                if len(self.limited_at) < 100:
                    self.limited_at.append(time.time())
                return _error(429, "Too Many Requests: retry after 1", {"retry_after": 1})
            chat.append(now)
        lowered = method.lower()
        if lowered in ("sendmessage", "editmessagetext"):
            chat_id = _int(params.get("chat_id"))
            message: dict[str, Any] = {
                "message_id": (
                    _int(params.get("message_id")) or 0
                    if lowered == "editmessagetext"
                    else next(self._ids)
                ),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private", "first_name": "Patient"},
                "from": _BOT_USER,
                "text": params.get("text", ""),
            }
            if "reply_markup" in params:
                message["reply_markup"] = json.loads(params["reply_markup"])
            if lowered == "editmessagetext":
                message["edit_date"] = message["date"]
            result: Any = message
        elif lowered == "getme":
            result = _BOT_USER
        elif lowered in (
            "answercallbackquery",
            "setwebhook",
            "deletewebhook",
            "setmycommands",
            "sendchataction",
            "editmessagereplymarkup",
        ):
            result = True
        else:
            return _error(404, "Not Found")
        wall = time.time()
        self.ok += 1
        self.first_ok = self.first_ok or wall
        self.last_ok = wall
        if len(self.ok_at) < 100_000:
            self.ok_at.append(wall)
        self.methods[method] = self.methods.get(method, 0) + 1
        if lowered == "sendmessage":
            text = str(params.get("text", ""))
            self._texts[text] = self._texts.get(text, 0) + 1
        return 200, json.dumps({"ok": True, "result": result}).encode()


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; requests are answered in order."""

    def __init__(self, fake: LeanTelegram) -> None:
        self.fake = fake
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream protocol is always given a stream transport; the base signature is wider.
        self.transport = cast(asyncio.Transport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
            headers = {}
            for line in head[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0") or 0)
            if length > _MAX_BODY:
                self._write(_response(413, b'{"ok":false}', close=True), close=True)
                return
            if len(self.buffer) < end + 4 + length:
                return
            body = bytes(self.buffer[end + 4 : end + 4 + length])
            del self.buffer[: end + 4 + length]
            method_line = head[0].split(" ")
            path = method_line[1] if len(method_line) > 1 else "/"
            close = headers.get("connection", "").lower() == "close"
            if self.fake.latency:
                # Clients do not pipeline, so equal delays keep answers in request order.
                asyncio.get_running_loop().call_later(
                    self.fake.latency, self._respond, path, headers, body, close
                )
            else:
                self._respond(path, headers, body, close)

    def _respond(self, path: str, headers: dict[str, str], body: bytes, close: bool) -> None:
        status, payload = self.fake.answer(path, headers.get("content-type", ""), body)
        self._write(_response(status, payload, close=close), close=close)

    def _write(self, data: bytes, *, close: bool = False) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        self.transport.write(data)
        if close:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


_REASONS = {200: "OK", 401: "Unauthorized", 404: "Not Found", 413: "Too Large", 429: "Too Many"}


def _response(status: int, payload: bytes, *, close: bool = False) -> bytes:
    head = (
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n"
        f"Connection: {'close' if close else 'keep-alive'}\r\n\r\n"
    )
    return head.encode() + payload


def _error(
    status: int, description: str, parameters: dict[str, Any] | None = None
) -> tuple[int, bytes]:
    payload: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        payload["parameters"] = parameters
    return status, json.dumps(payload).encode()


def _params(content_type: str, body: bytes) -> dict[str, Any]:
    kind = content_type.split(";")[0].strip().lower()
    if not body:
        return {}
    if kind == "application/json":
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in json.loads(body).items()}
    if kind == "application/x-www-form-urlencoded":
        return dict(parse_qsl(body.decode(), keep_blank_values=True))
    return {}  # multipart uploads: not needed by the benchmarks


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


async def serve(fake: LeanTelegram, ready: asyncio.Future[str] | None = None) -> None:
    """Serve ``fake`` on a free loopback port until cancelled; ``ready`` gets the base URL."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Connection(fake), "127.0.0.1", 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    if ready is not None:
        ready.set_result(f"http://127.0.0.1:{port}")
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    """Child-process mode: print the base URL, serve until stdin closes, print statistics."""
    parser = argparse.ArgumentParser(description="lean loopback Bot API for benchmarks")
    parser.add_argument("--token", default=None)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--rate-limit", type=int, default=None)
    parser.add_argument("--chat-rate-limit", type=int, default=None)
    args = parser.parse_args(argv)
    fake = LeanTelegram(
        args.token,
        latency=args.latency,
        rate_limit_per_second=args.rate_limit,
        chat_rate_limit_per_second=args.chat_rate_limit,
    )
    loop: asyncio.AbstractEventLoop
    try:
        import uvloop

        loop = uvloop.new_event_loop()
    except ImportError:  # the plain loop is fast enough, just less so
        loop = asyncio.new_event_loop()
    stop = loop.create_future()
    stdin_closed = threading.Thread(
        target=lambda: (sys.stdin.read(), loop.call_soon_threadsafe(stop.set_result, None)),
        daemon=True,
    )

    async def run() -> None:
        ready: asyncio.Future[str] = loop.create_future()
        serving = asyncio.create_task(serve(fake, ready))
        print(await ready, flush=True)
        stdin_closed.start()
        await stop
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)

    loop.run_until_complete(run())
    loop.close()
    print(json.dumps(fake.stats()), flush=True)
    return 0


class LeanTelegramProcess:
    """:func:`main` in a child process: ``base_url`` once it serves; :meth:`stop` returns its
    statistics. ``options`` are its command-line options (``["--rate-limit", "30"]``)."""

    def __init__(self, token: str, *options: str, cwd: str | None = None) -> None:
        # This file as a script, not ``-m tests.fakes.lean_telegram``: the package's __init__
        # imports the full fakes (Starlette, uvicorn, httpx, aiosmtpd, the templating), 0.3 of the
        # 0.4 CPU-s a start cost; this module needs only the standard library (and uvloop). -P:
        # this folder is not put on the path, where a fake named like a standard module would
        # shadow it.
        command = [sys.executable, "-P", __file__, "--token", token, *options]
        self.proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=cwd
        )
        assert self.proc.stdout is not None
        self.base_url = self.proc.stdout.readline().strip()
        self.token = token

    def stop(self) -> dict[str, Any]:
        """Close its stdin, read its statistics, wait for it to exit."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.close()
        stats: dict[str, Any] = json.loads(self.proc.stdout.readline())
        self.proc.wait(timeout=30)
        return stats


if __name__ == "__main__":
    sys.exit(main())
