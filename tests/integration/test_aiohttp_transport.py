"""The aiohttp transport under the Telegram and Twilio adapters, against loopback servers.

Timeouts, refused connections, the pool bound and keep-alive, and the proxy environment. How
answers are classified (429 with ``retry_after``, 5xx, 403...) is held by
``test_telegram_adapter.py::test_direct_send_classifies_exactly_like_ptb_bot`` and the 20429 /
5xx tests in ``test_twilio_adapters.py``, which run over this same transport.
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket

import pytest
from telegram.error import NetworkError, TimedOut

from platforms.base import OutboundMessage, TransientError
from platforms.sms import SmsSender
from platforms.telegram import TelegramSender
from platforms.telegram_request import AiohttpRequest
from tests.fakes.fake_telegram import DEFAULT_TOKEN, FakeTelegram
from tests.fakes.fake_twilio import FakeTwilio
from tests.fakes.fixtures import fake_telegram, fake_twilio  # noqa: F401
from tests.fakes.forward_proxy import ForwardProxy

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
SENT = json.dumps({"ok": True, "result": {"message_id": 1, "date": 0}}).encode()


class LoopbackServer:
    """An HTTP/1.1 server on 127.0.0.1 that answers every request after ``delay`` (or never).

    Counts connections, the most open at once, and requests; keeps connections alive.
    """

    def __init__(self, body: bytes | None = SENT, *, delay: float = 0.0) -> None:
        self.body = body  # None: read the request and never answer
        self.delay = delay
        self.requests = 0
        self.connections = 0
        self.open_now = 0
        self.most_open = 0
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def __aenter__(self) -> str:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open_now += 1
        self.most_open = max(self.most_open, self.open_now)
        self._writers.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.decode("latin-1").split("\r\n"):
                    name, _, value = line.partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                await reader.readexactly(length)
                self.requests += 1
                if self.body is None:
                    await reader.read()  # until the client gives up
                    return
                await asyncio.sleep(self.delay)
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(self.body)}\r\n\r\n".encode()
                    + self.body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            self.open_now -= 1
            self._writers.discard(writer)
            writer.close()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


def sms_sender(base_url: str, server: FakeTwilio | None = None, timeout: float = 5) -> SmsSender:
    return SmsSender(
        server.account_sid if server else "AC" + "0" * 32,
        server.auth_token if server else "token",
        from_number="+15017122661",
        api_base_url=base_url,
        timeout=timeout,
    )


# -- Telegram -----------------------------------------------------------------------------------


async def test_telegram_read_timeout_is_transient_and_not_retried() -> None:
    server = LoopbackServer(body=None)
    async with server as url, TelegramSender(DEFAULT_TOKEN, base_url=url, timeout=0.3) as tg:
        with pytest.raises(TransientError) as caught:
            await tg.send("42", OutboundMessage(text="hi"))
    assert isinstance(caught.value.__cause__, TimedOut)
    assert server.requests == 1


async def test_waiting_past_the_pool_timeout_sends_nothing() -> None:
    server = LoopbackServer(body=None)  # holds the only connection
    async with server as url:
        request = AiohttpRequest(
            connection_pool_size=1, read_timeout=10, connect_timeout=0.1, pool_timeout=0.2
        )
        busy = asyncio.create_task(request.post_json(f"{url}/botT/sendMessage", {"a": 1}))
        while server.requests < 1:
            await asyncio.sleep(0.01)
        with pytest.raises(TimedOut, match=r"\*not\* sent"):
            await request.post_json(f"{url}/botT/sendMessage", {"a": 2})
        busy.cancel()
        await request.shutdown()
    assert server.requests == 1


async def test_telegram_refused_connection_is_transient_and_never_shows_the_token() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    async with TelegramSender(DEFAULT_TOKEN, base_url=url, timeout=5) as telegram:
        with pytest.raises(TransientError) as caught:
            await telegram.send("42", OutboundMessage(text="hi"))
    cause = caught.value.__cause__
    assert isinstance(cause, NetworkError)
    token_secret = DEFAULT_TOKEN.split(":")[1]
    assert token_secret not in str(caught.value)
    assert token_secret not in str(cause)


async def test_connections_stay_within_the_pool_and_are_kept_alive() -> None:
    server = LoopbackServer(delay=0.02)
    async with (
        server as url,
        TelegramSender(DEFAULT_TOKEN, base_url=url, connection_pool_size=3, timeout=10) as telegram,
    ):
        await asyncio.gather(
            *(telegram.send(str(n), OutboundMessage(text="hi")) for n in range(12))
        )
        for n in range(5):
            await telegram.send(str(n), OutboundMessage(text="again"))
    assert server.requests == 17
    assert server.most_open == 3
    assert server.connections == 3  # the later sends reused the pooled connections


async def test_telegram_goes_through_the_proxy_the_environment_names(
    fake_telegram: FakeTelegram,  # noqa: F811
    no_proxy_env: pytest.MonkeyPatch,
) -> None:
    proxy = ForwardProxy()
    async with proxy as proxy_url:
        no_proxy_env.setenv("HTTP_PROXY", proxy_url)
        async with TelegramSender(
            DEFAULT_TOKEN, base_url=fake_telegram.base_url, timeout=5
        ) as telegram:
            receipt = await telegram.send("4242", OutboundMessage(text="Through the proxy"))
            assert receipt.provider_message_id is not None
            await telegram.edit("4242", receipt.provider_message_id, OutboundMessage(text="Edited"))
    assert [call.text for call in fake_telegram.sent_messages] == ["Through the proxy"]
    base = fake_telegram.base_url.rstrip("/")
    assert proxy.requests == [
        f"POST {base}/bot{DEFAULT_TOKEN}/sendMessage",
        f"POST {base}/bot{DEFAULT_TOKEN}/editMessageText",
    ]


async def test_no_proxy_exempts_a_host(
    fake_telegram: FakeTelegram,  # noqa: F811
    no_proxy_env: pytest.MonkeyPatch,
) -> None:
    proxy = ForwardProxy()
    async with proxy as proxy_url:
        no_proxy_env.setenv("ALL_PROXY", proxy_url)
        no_proxy_env.setenv("NO_PROXY", "localhost,127.0.0.1")
        async with TelegramSender(
            DEFAULT_TOKEN, base_url=fake_telegram.base_url, timeout=5
        ) as telegram:
            await telegram.send("4242", OutboundMessage(text="Direct"))
    assert proxy.requests == []
    assert [call.text for call in fake_telegram.sent_messages] == ["Direct"]


# -- Twilio -------------------------------------------------------------------------------------


async def test_twilio_read_timeout_is_transient() -> None:
    server = LoopbackServer(body=None)
    async with server as url:
        sender = sms_sender(url, timeout=0.3)
        try:
            with pytest.raises(TransientError, match="timed out"):
                await sender.send("+14155552671", OutboundMessage(text="hi"))
        finally:
            await sender.aclose()
    assert server.requests == 1


async def test_twilio_refused_connection_is_transient() -> None:
    sender = sms_sender(f"http://127.0.0.1:{_closed_port()}")
    try:
        with pytest.raises(TransientError, match="network error"):
            await sender.send("+14155552671", OutboundMessage(text="hi"))
    finally:
        await sender.aclose()


async def test_twilio_goes_through_an_authenticating_proxy(
    fake_twilio: FakeTwilio,  # noqa: F811
    no_proxy_env: pytest.MonkeyPatch,
) -> None:
    proxy = ForwardProxy()
    async with proxy as proxy_url:
        no_proxy_env.setenv("HTTP_PROXY", proxy_url.replace("://", "://ops:s%40cret@"))
        sender = sms_sender(fake_twilio.base_url, fake_twilio)
        try:
            await sender.send("+14155552671", OutboundMessage(text="Through the proxy"))
        finally:
            await sender.aclose()
    assert [m.body for m in fake_twilio.messages] == ["Through the proxy"]
    [line] = proxy.requests
    assert line.startswith(f"POST {fake_twilio.base_url.rstrip('/')}/2010-04-01/Accounts/")
    assert proxy.authorizations == ["Basic " + base64.b64encode(b"ops:s@cret").decode()]
