"""A loopback Telegram Bot API server speaking the real wire format.

``POST /bot<token>/<method>`` (also ``/bot<token>/test/<method>``) with a JSON, urlencoded or
multipart body; answers ``{"ok": true, "result": ...}`` with realistic ``Message`` objects, or
``{"ok": false, "error_code": ..., "description": ..., "parameters": ...}`` as Telegram does.

Usage::

    async with FakeTelegram(token="123:abc") as tg:         # or: with FakeTelegram() as tg
        sender = TelegramSender("123:abc", base_url=tg.base_url)
        tg.fail_next_blocked()                              # next call: 403 blocked
        ...
        assert tg.sent_messages[0].buttons() == [[("Taken", "t:1")]]

Scripting: ``fail_next(status, description, parameters=..., method=..., chat_id=..., times=...)``
and shortcuts (``fail_next_rate_limited``, ``fail_next_blocked``, ``fail_next_chat_not_found``,
``fail_next_migrated``, ``fail_next_server_error``...), ``block_chat(chat_id)`` for a persistent
block, ``rate_limit_per_second`` (429 above N requests per second), ``latency`` (seconds), and
``hold_next(...)``: the next matching request waits, unanswered, until ``release_held(status)``
(a test kills the client in between: the request reached the server, the answer never came; or
acts while the send is under way, then releases it with 200 to answer it as sent).
Long polling: ``queue_update(update, token=...)`` hands an update to that bot's ``getUpdates``,
which waits up to its ``timeout`` for one and confirms those below its ``offset``, as Telegram
does (each bot its own queue).
The server also checks what real Telegram checks: empty or over-long text, ``callback_data`` over
64 bytes, and HTML that does not parse (an unescaped ``<`` from a patient's name fails here too).
Build inbound updates for webhook tests with :func:`text_update`, :func:`callback_update`,
:func:`contact_update` and :func:`location_update`.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.fakes._server import LoopbackServer, parse_body

DEFAULT_TOKEN = "123456:TEST-token"
_ALLOWED_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "span"}
    | {"tg-spoiler", "tg-emoji", "blockquote"}
)
# Fields Telegram clients send JSON-encoded (python-telegram-bot encodes every non-string value).
_JSON_FIELDS = frozenset(
    {"reply_markup", "entities", "caption_entities", "link_preview_options", "reply_parameters"}
    | {"allowed_updates", "commands"}
)
_INT_FIELDS = frozenset({"chat_id", "message_id", "from_chat_id", "offset", "limit", "timeout"})


@dataclass
class TelegramCall:
    """One request the fake received, failed or not."""

    method: str
    token: str
    params: dict[str, Any]
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    status: int = 200
    at: float = 0.0
    # What the fake answered with (a sent message, with its message_id): None when it failed.
    result: Any = None

    @property
    def chat_id(self) -> Any:
        return self.params.get("chat_id")

    @property
    def text(self) -> str | None:
        return self.params.get("text")

    @property
    def reply_markup(self) -> dict[str, Any] | None:
        return self.params.get("reply_markup")

    def buttons(self) -> list[list[tuple[str, str]]]:
        """The inline keyboard as rows of ``(text, callback_data)``; empty when none."""
        markup = self.reply_markup or {}
        return [
            [(b.get("text", ""), b.get("callback_data", "")) for b in row]
            for row in markup.get("inline_keyboard", [])
        ]


@dataclass
class _Failure:
    status: int
    description: str
    parameters: dict[str, Any] | None
    method: str | None
    chat_id: Any
    remaining: int
    token: str | None = None


class FakeTelegram:
    """A scriptable Bot API server on 127.0.0.1; see the module docstring."""

    def __init__(
        self,
        token: str | None = DEFAULT_TOKEN,
        *,
        latency: float = 0.0,
        rate_limit_per_second: int | None = None,
        bot_username: str = "medremind_test_bot",
    ) -> None:
        self.token = token  # None accepts any token
        self.latency = latency
        self.rate_limit_per_second = rate_limit_per_second
        self.bot_user = {
            "id": 7000001,
            "is_bot": True,
            "first_name": "MedRemind",
            "username": bot_username,
        }
        self.calls: list[TelegramCall] = []
        # getMe's username per token, for servers of several bots (token=None); else bot_username.
        self.usernames: dict[str, str] = {}
        self.webhook_url = ""
        self._failures: list[_Failure] = []
        self._blocked: set[int] = set()
        self._lock = threading.Lock()
        self._message_ids = itertools.count(1000)
        self._recent: deque[float] = deque()
        self._hold: tuple[str | None, int | None] | None = None
        self.held: list[TelegramCall] = []
        self._released: int | None = None  # the status held requests answer with, once released
        # Long polling: each bot's (token's) updates not yet confirmed by an offset.
        self._updates: dict[str, list[dict[str, Any]]] = {}
        self._server = LoopbackServer(self._app())

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The value for ``TELEGRAM_API_BASE_URL``."""
        return self._server.base_url

    def start(self) -> FakeTelegram:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> FakeTelegram:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    async def __aenter__(self) -> FakeTelegram:
        await self._server.astart()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._server.astop()

    # -- inspection ------------------------------------------------------------------------

    def calls_to(self, method: str, *, ok_only: bool = True) -> list[TelegramCall]:
        """Calls of one Bot API method (``sendMessage``...), successful ones unless told."""
        with self._lock:
            return [
                c for c in self.calls if c.method == method and (c.status == 200 or not ok_only)
            ]

    @property
    def sent_messages(self) -> list[TelegramCall]:
        """Successful ``sendMessage`` calls, oldest first."""
        return self.calls_to("sendMessage")

    async def wait_for_calls(
        self, count: int, *, method: str | None = None, timeout: float = 5.0
    ) -> list[TelegramCall]:
        """Wait until at least ``count`` successful calls (of ``method``) arrived."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                matching = [
                    c
                    for c in self.calls
                    if c.status == 200 and (method is None or c.method == method)
                ]
            if len(matching) >= count:
                return matching
            if time.monotonic() > deadline:
                raise TimeoutError(f"expected {count} calls, got {len(matching)}")
            await asyncio.sleep(0.01)

    def reset(self) -> None:
        """Forget calls, failures and blocks."""
        with self._lock:
            self.calls.clear()
            self._failures.clear()
            self._blocked.clear()

    # -- scripting -------------------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        description: str,
        *,
        parameters: dict[str, Any] | None = None,
        method: str | None = None,
        chat_id: int | str | None = None,
        times: int = 1,
        token: str | None = None,
    ) -> None:
        """Answer the next ``times`` matching calls with this error (``token``: only one
        bot's calls, on a server of several bots)."""
        with self._lock:
            self._failures.append(
                _Failure(status, description, parameters, method, _int(chat_id), times, token)
            )

    def fail_next_rate_limited(self, retry_after: int = 5, **match: Any) -> None:
        self.fail_next(
            429,
            f"Too Many Requests: retry after {retry_after}",
            parameters={"retry_after": retry_after},
            **match,
        )

    def fail_next_blocked(self, **match: Any) -> None:
        self.fail_next(403, "Forbidden: bot was blocked by the user", **match)

    def fail_next_cannot_initiate(self, **match: Any) -> None:
        self.fail_next(403, "Forbidden: bot can't initiate conversation with a user", **match)

    def fail_next_user_deactivated(self, **match: Any) -> None:
        self.fail_next(403, "Forbidden: user is deactivated", **match)

    def fail_next_chat_not_found(self, **match: Any) -> None:
        self.fail_next(400, "Bad Request: chat not found", **match)

    def fail_next_migrated(self, new_chat_id: int, **match: Any) -> None:
        self.fail_next(
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            parameters={"migrate_to_chat_id": new_chat_id},
            **match,
        )

    def fail_next_server_error(self, status: int = 500, **match: Any) -> None:
        self.fail_next(status, "Internal Server Error", **match)

    def hold_next(self, *, method: str | None = None, chat_id: int | str | None = None) -> None:
        """Hold the next matching request unanswered until :meth:`release_held`."""
        with self._lock:
            self._hold = (method, _int(chat_id))
            self._released = None

    async def wait_for_held(self, timeout: float = 5.0) -> TelegramCall:
        """The held request, once it arrived."""
        deadline = time.monotonic() + timeout
        while not self.held:
            if time.monotonic() > deadline:
                raise TimeoutError("no request was held")
            await asyncio.sleep(0.01)
        return self.held[0]

    def release_held(self, status: int = 502) -> None:
        """Answer held requests with ``status``: an error (the message was not sent), or 200
        (answered as it would have been: a send that was slow, not lost)."""
        with self._lock:
            self._released = status

    def block_chat(self, chat_id: int | str) -> None:
        """Every later call to this chat answers 403 "bot was blocked by the user"."""
        with self._lock:
            self._blocked.add(int(chat_id))

    # -- the server ------------------------------------------------------------------------

    def _app(self) -> Starlette:
        routes = [
            Route("/bot{token}/test/{method}", self._endpoint, methods=["GET", "POST"]),
            Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"]),
        ]
        return Starlette(routes=routes)

    async def _endpoint(self, request: Request) -> JSONResponse:
        if self.latency:
            await asyncio.sleep(self.latency)
        token = request.path_params["token"]
        method = request.path_params["method"]
        fields, files = parse_body(request.headers.get("content-type", ""), await request.body())
        fields.update(request.query_params)
        params = _decode(fields)
        call = TelegramCall(method=method, token=token, params=params, files=files, at=time.time())
        if self._held(call):
            while self._released is None:
                await asyncio.sleep(0.01)
            if self._released == 200:  # released as taken: answered as it would have been
                status, payload = self._answer(call)
                call.status, call.result = status, payload.get("result")
                with self._lock:
                    self.calls.append(call)
                return JSONResponse(payload, status_code=status)
            call.status = self._released
            with self._lock:
                self.calls.append(call)
            return JSONResponse(_error(call.status, "Bad Gateway")[1], status_code=call.status)
        status, payload = self._answer(call)
        if status == 200 and method.lower() == "getupdates":
            status, payload = await self._get_updates(call)
        call.status = status
        call.result = payload.get("result")
        with self._lock:
            self.calls.append(call)
        return JSONResponse(payload, status_code=status)

    async def _get_updates(self, call: TelegramCall) -> tuple[int, dict[str, Any]]:
        """``getUpdates``: the bot's updates from ``offset`` on, waiting up to ``timeout``
        seconds for one; updates below ``offset`` are confirmed (forgotten)."""
        offset = _int(call.params.get("offset"))
        timeout = float(call.params.get("timeout") or 0)
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                pending = self._updates.setdefault(call.token, [])
                if offset is not None:
                    pending[:] = [u for u in pending if u["update_id"] >= offset]
                found = list(pending[:100])
            if found or time.monotonic() >= deadline:
                return _ok(found)
            await asyncio.sleep(0.05)

    def queue_update(self, update: dict[str, Any], token: str | None = None) -> None:
        """Hand ``update`` (e.g. :func:`text_update`) to bot ``token``'s ``getUpdates``
        (default: the server's token)."""
        key = token or self.token or DEFAULT_TOKEN
        with self._lock:
            self._updates.setdefault(key, []).append(update)

    def _held(self, call: TelegramCall) -> bool:
        with self._lock:
            if self._hold is None:
                return False
            method, chat = self._hold
            if method not in (None, call.method) or chat not in (None, _int(call.chat_id)):
                return False
            self._hold = None
            self.held.append(call)
            return True

    def _answer(self, call: TelegramCall) -> tuple[int, dict[str, Any]]:
        if self.token is not None and call.token != self.token:
            return _error(401, "Unauthorized")
        limited = self._rate_limited()
        if limited:
            return limited
        scripted = self._scripted_failure(call)
        if scripted:
            return scripted
        handler = getattr(self, f"_m_{call.method.lower()}", None)
        if handler is None:
            return _error(404, "Not Found")
        return handler(call)

    def _rate_limited(self) -> tuple[int, dict[str, Any]] | None:
        if not self.rate_limit_per_second:
            return None
        now = time.monotonic()
        with self._lock:
            while self._recent and now - self._recent[0] >= 1.0:
                self._recent.popleft()
            if len(self._recent) >= self.rate_limit_per_second:
                return _error(429, "Too Many Requests: retry after 1", {"retry_after": 1})
            self._recent.append(now)
        return None

    def _scripted_failure(self, call: TelegramCall) -> tuple[int, dict[str, Any]] | None:
        chat = _int(call.chat_id)
        with self._lock:
            if chat is not None and chat in self._blocked:
                return _error(403, "Forbidden: bot was blocked by the user")
            for failure in self._failures:
                if failure.method not in (None, call.method):
                    continue
                if failure.chat_id is not None and failure.chat_id != chat:
                    continue
                if failure.token is not None and failure.token != call.token:
                    continue
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._failures.remove(failure)
                return _error(failure.status, failure.description, failure.parameters)
        return None

    # -- Bot API methods -------------------------------------------------------------------

    def _message(self, call: TelegramCall, **content: Any) -> dict[str, Any]:
        chat_id = _int(call.chat_id) or 0
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": _chat(chat_id),
            "from": self.bot_user,
            **content,
        }
        if call.reply_markup:
            message["reply_markup"] = call.reply_markup
        return message

    def _m_getme(self, call: TelegramCall) -> tuple[int, dict[str, Any]]:
        user = dict(self.bot_user)
        if call.token in self.usernames:
            user["id"] = int(call.token.split(":", 1)[0])
            user["username"] = self.usernames[call.token]
        return _ok({**user, "can_join_groups": True, "supports_inline_queries": False})

    def _m_sendmessage(self, call: TelegramCall) -> tuple[int, dict[str, Any]]:
        problem = _check_text(call.text or "", call.params.get("parse_mode"), 4096)
        problem = problem or _check_markup(call.reply_markup)
        if problem:
            return _error(400, f"Bad Request: {problem}")
        visible = _visible(call.text or "", call.params.get("parse_mode"))
        return _ok(self._message(call, text=visible))

    def _m_editmessagetext(self, call: TelegramCall) -> tuple[int, dict[str, Any]]:
        problem = _check_text(call.text or "", call.params.get("parse_mode"), 4096)
        problem = problem or _check_markup(call.reply_markup)
        if problem:
            return _error(400, f"Bad Request: {problem}")
        message = self._message(call, text=_visible(call.text or "", call.params.get("parse_mode")))
        message["message_id"] = call.params.get("message_id")
        message["edit_date"] = int(time.time())
        return _ok(message)

    def _m_editmessagereplymarkup(self, call: TelegramCall) -> tuple[int, dict[str, Any]]:
        message = self._message(call, text="")
        message["message_id"] = call.params.get("message_id")
        return _ok(message)

    def _m_answercallbackquery(self, call: TelegramCall) -> tuple[int, dict[str, Any]]:
        return _ok(True)

    def _m_senddocument(self, call: TelegramCall) -> tuple[int, dict[str, Any]]:
        upload = call.files.get("document") or {}
        document = {
            "file_id": f"doc-{next(self._message_ids)}",
            "file_unique_id": f"u{next(self._message_ids)}",
            "file_name": upload.get("filename", "file"),
            "mime_type": upload.get("content_type", "application/octet-stream"),
            "file_size": len(upload.get("data", b"")),
        }
        return _ok(self._message(call, document=document))

    def _m_sendphoto(self, call: TelegramCall) -> tuple[int, dict[str, Any]]:
        upload = call.files.get("photo") or {}
        photo = [
            {
                "file_id": f"photo-{next(self._message_ids)}",
                "file_unique_id": f"u{next(self._message_ids)}",
                "width": 640,
                "height": 480,
                "file_size": len(upload.get("data", b"")),
            }
        ]
        return _ok(self._message(call, photo=photo))

    def _m_setwebhook(self, call: TelegramCall) -> tuple[int, dict[str, Any]]:
        self.webhook_url = str(call.params.get("url", ""))
        return _ok(True)

    def _m_deletewebhook(self, call: TelegramCall) -> tuple[int, dict[str, Any]]:
        self.webhook_url = ""
        return _ok(True)

    def _m_getwebhookinfo(self, call: TelegramCall) -> tuple[int, dict[str, Any]]:
        return _ok(
            {"url": self.webhook_url, "has_custom_certificate": False, "pending_update_count": 0}
        )

    def _m_setmycommands(self, call: TelegramCall) -> tuple[int, dict[str, Any]]:
        return _ok(True)

    def _m_sendchataction(self, call: TelegramCall) -> tuple[int, dict[str, Any]]:
        return _ok(True)

    def _m_getupdates(self, call: TelegramCall) -> tuple[int, dict[str, Any]]:
        return _ok([])  # answered by _get_updates (it waits), once the checks above passed


# ------------------------------------------------------------------------------------------
# wire helpers


def _ok(result: Any) -> tuple[int, dict[str, Any]]:
    return 200, {"ok": True, "result": result}


def _error(
    status: int, description: str, parameters: dict[str, Any] | None = None
) -> tuple[int, dict[str, Any]]:
    payload: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        payload["parameters"] = parameters
    return status, payload


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _chat(chat_id: int) -> dict[str, Any]:
    if chat_id >= 0:
        return {"id": chat_id, "type": "private", "first_name": "Patient"}
    return {"id": chat_id, "type": "supergroup", "title": "Group"}


def _decode(fields: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for key, value in fields.items():
        if key in _JSON_FIELDS and isinstance(value, str):
            params[key] = json.loads(value)
        elif key in _INT_FIELDS and _int(value) is not None:
            params[key] = _int(value)
        else:
            params[key] = value
    return params


class _EntityChecker(HTMLParser):
    """Telegram's HTML parse mode: a few tags, balanced; anything else is an error."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problem: str | None = None
        self.visible: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _ALLOWED_TAGS:
            self.problem = self.problem or f'can\'t parse entities: unsupported start tag "{tag}"'
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problem = self.problem or f'can\'t parse entities: unexpected end tag "{tag}"'
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.visible.append(data)


def _parse_html(text: str) -> _EntityChecker:
    checker = _EntityChecker()
    checker.feed(text)
    checker.close()
    if checker.stack and not checker.problem:
        checker.problem = f"can't parse entities: can't find end tag for \"{checker.stack[-1]}\""
    return checker


def _visible(text: str, parse_mode: str | None) -> str:
    if (parse_mode or "").upper() != "HTML":
        return text
    return "".join(_parse_html(text).visible)


def _check_text(text: str, parse_mode: str | None, limit: int) -> str | None:
    if (parse_mode or "").upper() == "HTML":
        checker = _parse_html(text)
        if checker.problem:
            return checker.problem
        # A bare "<" that HTMLParser let through as data is still an error on Telegram.
        if "<" in html.unescape("".join(checker.visible)) and "&lt;" not in text:
            return 'can\'t parse entities: unexpected "<"'
        text = "".join(checker.visible)
    if not text.strip():
        return "message text is empty"
    if len(text.encode("utf-16-le")) // 2 > limit:
        return "message is too long"
    return None


def telegram_html_problem(text: str) -> str | None:
    """What real Telegram would say about ``text`` in HTML parse mode, or ``None`` if it parses.

    Length is not checked here; senders split long texts.
    """
    return _check_text(text, "HTML", limit=10**9)


def _check_markup(markup: dict[str, Any] | None) -> str | None:
    for row in (markup or {}).get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= 64:
                return "BUTTON_DATA_INVALID"
            if not button.get("text"):
                return "BUTTON_TEXT_INVALID"  # hypothetical wording; Telegram rejects empty text
    return None


# ------------------------------------------------------------------------------------------
# inbound updates, for webhook and conversation tests

_update_ids = itertools.count(500_000)


def _user(user_id: int, first_name: str, language_code: str | None) -> dict[str, Any]:
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if language_code:
        user["language_code"] = language_code
    return user


def _inbound_message(chat_id: int, first_name: str, language_code: str | None) -> dict[str, Any]:
    return {
        "message_id": next(_update_ids),
        "date": int(time.time()),
        "chat": _chat(chat_id),
        "from": _user(chat_id, first_name, language_code),
    }


def text_update(
    chat_id: int, text: str, *, first_name: str = "Ana", language_code: str | None = "en"
) -> dict[str, Any]:
    """An ``Update`` with a text message from the user whose id is ``chat_id``."""
    message = _inbound_message(chat_id, first_name, language_code)
    message["text"] = text
    if text.startswith("/"):
        command = text.split()[0]
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    return {"update_id": next(_update_ids), "message": message}


def callback_update(
    chat_id: int,
    data: str,
    *,
    message_id: int = 1000,
    first_name: str = "Ana",
    language_code: str | None = "en",
) -> dict[str, Any]:
    """An ``Update`` with a button press on message ``message_id``."""
    message = _inbound_message(chat_id, "MedRemind", None)
    message["message_id"] = message_id
    message["text"] = "reminder"
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": f"cbq-{next(_update_ids)}",
            "from": _user(chat_id, first_name, language_code),
            "chat_instance": "ci-1",
            "message": message,
            "data": data,
        },
    }


def contact_update(
    chat_id: int, phone_number: str, *, own: bool = True, first_name: str = "Ana"
) -> dict[str, Any]:
    """An ``Update`` sharing a contact; ``own`` makes it the sender's own number."""
    message = _inbound_message(chat_id, first_name, "en")
    message["contact"] = {
        "phone_number": phone_number,
        "first_name": first_name,
        "user_id": chat_id if own else chat_id + 1,
    }
    return {"update_id": next(_update_ids), "message": message}


def location_update(chat_id: int, latitude: float, longitude: float) -> dict[str, Any]:
    """An ``Update`` sharing a location."""
    message = _inbound_message(chat_id, "Ana", "en")
    message["location"] = {"latitude": latitude, "longitude": longitude}
    return {"update_id": next(_update_ids), "message": message}


def member_update(
    chat_id: int, status: str, date: int, *, chat_type: str = "private", bot_id: int = 123456
) -> dict[str, Any]:
    """A ``my_chat_member`` update: the bot's status in ``chat_id`` became ``status`` at
    ``date`` (Unix time): ``kicked`` when the person blocked it, ``member`` when unblocked."""
    bot = {"id": bot_id, "is_bot": True, "first_name": "MedRemind", "username": "medremind_bot"}
    old = "member" if status == "kicked" else "kicked"
    chat = (
        _chat(chat_id)
        if chat_type == "private"
        else {"id": chat_id, "type": chat_type, "title": "Family"}
    )

    def member(state: str) -> dict[str, Any]:
        return {"status": state, "user": bot} | ({"until_date": 0} if state == "kicked" else {})

    return {
        "update_id": next(_update_ids),
        "my_chat_member": {
            "chat": chat,
            "from": _user(chat_id if chat_id > 0 else 555_000_777, "Ana", "en"),
            "date": date,
            "old_chat_member": member(old),
            "new_chat_member": member(status),
        },
    }


def edited_update(update: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """``update``'s message edited (``changes``: its new fields, such as ``text``), as Telegram
    sends the edit."""
    message = update["message"] | {"edit_date": update["message"]["date"] + 60} | changes
    return {"update_id": next(_update_ids), "edited_message": message}


__all__ = [
    "DEFAULT_TOKEN",
    "FakeTelegram",
    "TelegramCall",
    "callback_update",
    "contact_update",
    "edited_update",
    "location_update",
    "member_update",
    "telegram_html_problem",
    "text_update",
]
