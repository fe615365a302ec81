"""A loopback Twilio REST API (Programmable Messaging) speaking the real wire format.

``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` with a urlencoded form body and HTTP basic
auth (``AccountSid:AuthToken``), answered ``201`` with the Message resource JSON (``sid`` "SM...",
``status`` "queued" or "accepted", ``num_segments``...). Errors look as Twilio sends them::

    {"code": 21610, "message": "...", "more_info": "https://www.twilio.com/docs/errors/21610",
     "status": 400}

Usage::

    async with FakeTwilio() as tw:                      # or: with FakeTwilio() as tw
        sender = SmsSender(tw.account_sid, tw.auth_token, from_number="+15005550006",
                           api_base_url=tw.base_url)
        tw.fail_next_opted_out()                        # next create: 21610
        ...
        assert tw.messages[0].body == "..."

Scripting: ``fail_next(code, status=400, message=..., to=..., times=..., retry_after=...)`` and
shortcuts (``fail_next_opted_out``, ``fail_next_invalid_number``, ``fail_next_not_mobile``,
``fail_next_rate_limited``, ``fail_next_template_required``, ``fail_next_blocked``,
``fail_next_server_error``), ``opt_out(number)`` for a persistent 21610, ``latency`` and
``rate_limit_per_second`` (429 / 20429 above N per second). Build webhook forms with
:func:`inbound_form` and :func:`status_form`.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import re
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.templating import count_segments
from tests.fakes._server import LoopbackServer, parse_body

DEFAULT_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
DEFAULT_AUTH_TOKEN = "fake-auth-token"
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_MESSAGES = {
    20003: "Authenticate",
    20429: "Too Many Requests",
    21211: "The 'To' number is not a valid phone number.",
    21602: "Message body is required.",
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
    63014: "The message could not be delivered because the user has blocked this sender",
    63016: "Failed to send freeform message because you are outside the allowed window. "
    "If you are using WhatsApp, please use a Message Template.",
}


@dataclass
class TwilioCall:
    """One request the fake received, failed or not."""

    method: str
    path: str
    account_sid: str
    params: dict[str, Any]
    authorized: bool
    status: int = 0
    response: dict[str, Any] = field(default_factory=dict)

    @property
    def to(self) -> str | None:
        return self.params.get("To")

    @property
    def from_(self) -> str | None:
        return self.params.get("From")

    @property
    def body(self) -> str | None:
        return self.params.get("Body")

    @property
    def messaging_service_sid(self) -> str | None:
        return self.params.get("MessagingServiceSid")

    @property
    def status_callback(self) -> str | None:
        return self.params.get("StatusCallback")

    @property
    def content_sid(self) -> str | None:
        return self.params.get("ContentSid")

    @property
    def content_variables(self) -> dict[str, Any] | None:
        raw = self.params.get("ContentVariables")
        return json.loads(raw) if raw else None

    @property
    def sid(self) -> str | None:
        return self.response.get("sid")


@dataclass
class _Failure:
    code: int
    status: int
    message: str
    to: str | None
    remaining: int
    retry_after: float | None


class FakeTwilio:
    """A scriptable Twilio Messages API on 127.0.0.1; see the module docstring."""

    def __init__(
        self,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        *,
        latency: float = 0.0,
        rate_limit_per_second: int | None = None,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.latency = latency
        self.rate_limit_per_second = rate_limit_per_second
        self.calls: list[TwilioCall] = []
        self._failures: list[_Failure] = []
        self._opted_out: set[str] = set()
        self._stored: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._recent: deque[float] = deque()
        self._server = LoopbackServer(self._app())

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The value for ``TWILIO_API_BASE_URL``."""
        return self._server.base_url

    def start(self) -> FakeTwilio:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    async def __aenter__(self) -> FakeTwilio:
        await self._server.astart()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._server.astop()

    # -- inspection ------------------------------------------------------------------------

    @property
    def messages(self) -> list[TwilioCall]:
        """Successful message creations, oldest first."""
        with self._lock:
            return [c for c in self.calls if c.method == "POST" and c.status == 201]

    async def wait_for_messages(self, count: int, *, timeout: float = 5.0) -> list[TwilioCall]:
        """Wait until at least ``count`` messages were created."""
        deadline = time.monotonic() + timeout
        while len(found := self.messages) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"expected {count} messages, got {len(found)}")
            await asyncio.sleep(0.01)
        return found

    def reset(self) -> None:
        """Forget calls, failures and opt-outs."""
        with self._lock:
            self.calls.clear()
            self._failures.clear()
            self._opted_out.clear()

    # -- scripting -------------------------------------------------------------------------

    def fail_next(
        self,
        code: int,
        status: int = 400,
        message: str | None = None,
        *,
        to: str | None = None,
        times: int = 1,
        retry_after: float | None = None,
    ) -> None:
        """Answer the next ``times`` message creations (to ``to``, if given) with this error."""
        with self._lock:
            self._failures.append(
                _Failure(
                    code, status, message or _MESSAGES.get(code, "Error"), to, times, retry_after
                )
            )

    def fail_next_opted_out(self, **match: Any) -> None:
        self.fail_next(21610, **match)

    def fail_next_invalid_number(self, **match: Any) -> None:
        self.fail_next(21211, **match)

    def fail_next_not_mobile(self, **match: Any) -> None:
        self.fail_next(21614, **match)

    def fail_next_rate_limited(self, retry_after: float | None = None, **match: Any) -> None:
        self.fail_next(20429, 429, retry_after=retry_after, **match)

    def fail_next_template_required(self, **match: Any) -> None:
        self.fail_next(63016, **match)

    def fail_next_blocked(self, **match: Any) -> None:
        self.fail_next(63014, **match)

    def fail_next_server_error(self, status: int = 500, **match: Any) -> None:
        self.fail_next(20500, status, "Internal Server Error", **match)

    def opt_out(self, number: str) -> None:
        """Every later message to ``number`` (SMS or WhatsApp) fails with 21610."""
        with self._lock:
            self._opted_out.add(number.removeprefix("whatsapp:"))

    # -- the server ------------------------------------------------------------------------

    def _app(self) -> Starlette:
        base = "/2010-04-01/Accounts/{account_sid}"
        return Starlette(
            routes=[
                Route(f"{base}/Messages.json", self._create, methods=["POST"]),
                Route(f"{base}/Messages/{{sid}}.json", self._fetch, methods=["GET"]),
            ]
        )

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return user == self.account_sid and password == self.auth_token

    async def _create(self, request: Request) -> Response:
        if self.latency:
            await asyncio.sleep(self.latency)
        fields, _ = parse_body(request.headers.get("content-type", ""), await request.body())
        call = TwilioCall(
            method="POST",
            path=request.url.path,
            account_sid=request.path_params["account_sid"],
            params=fields,
            authorized=self._authorized(request),
        )
        status, payload, headers = self._answer_create(call)
        call.status, call.response = status, payload
        with self._lock:
            self.calls.append(call)
        return JSONResponse(payload, status_code=status, headers=headers)

    def _answer_create(self, call: TwilioCall) -> tuple[int, dict[str, Any], dict[str, str]]:
        if not call.authorized or call.account_sid != self.account_sid:
            return _error(20003, 401, "Authenticate")
        if self._over_rate():
            return _error(20429, 429, _MESSAGES[20429], retry_after=1)
        to = call.to or ""
        bare = to.removeprefix("whatsapp:")
        with self._lock:
            for failure in self._failures:
                if failure.to is not None and failure.to.removeprefix("whatsapp:") != bare:
                    continue
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._failures.remove(failure)
                return _error(
                    failure.code, failure.status, failure.message, retry_after=failure.retry_after
                )
            opted_out = bare in self._opted_out
        if not to:
            return _error(21604, 400, _MESSAGES[21604])
        if not _E164.match(bare):
            return _error(21211, 400, f"The 'To' number {to} is not a valid phone number.")
        if opted_out:
            return _error(21610, 400, _MESSAGES[21610])
        if not (call.from_ or call.messaging_service_sid):
            return _error(21603, 400, _MESSAGES[21603])
        if not (call.body or call.content_sid or call.params.get("MediaUrl")):
            return _error(21602, 400, _MESSAGES[21602])
        return 201, self._resource(call), {}

    def _resource(self, call: TwilioCall) -> dict[str, Any]:
        sid = "SM" + uuid.uuid4().hex
        now = formatdate(usegmt=True)
        body = call.body or ""
        _, segments = count_segments(body)
        resource = {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": call.from_,
            "messaging_service_sid": call.messaging_service_sid,
            "num_media": "0",
            "num_segments": str(segments),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if call.messaging_service_sid else "queued",
            "subresource_uris": {
                "media": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}/Media.json"
            },
            "to": call.to,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }
        with self._lock:
            self._stored[sid] = resource
        return resource

    async def _fetch(self, request: Request) -> Response:
        if not self._authorized(request):
            status, payload, _ = _error(20003, 401, "Authenticate")
            return JSONResponse(payload, status_code=status)
        resource = self._stored.get(request.path_params["sid"])
        if resource is None:
            status, payload, _ = _error(20404, 404, "The requested resource was not found")
            return JSONResponse(payload, status_code=status)
        return JSONResponse(resource)

    def _over_rate(self) -> bool:
        if not self.rate_limit_per_second:
            return False
        now = time.monotonic()
        with self._lock:
            while self._recent and now - self._recent[0] >= 1.0:
                self._recent.popleft()
            if len(self._recent) >= self.rate_limit_per_second:
                return True
            self._recent.append(now)
        return False


def _error(
    code: int, status: int, message: str, *, retry_after: float | None = None
) -> tuple[int, dict[str, Any], dict[str, str]]:
    payload = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
    return status, payload, headers


# ------------------------------------------------------------------------------------------
# webhook forms, for web and conversation tests

_sids = itertools.count(1)


def inbound_form(
    from_: str,
    body: str = "",
    *,
    to: str = "+15005550006",
    account_sid: str = DEFAULT_ACCOUNT_SID,
    profile_name: str | None = None,
    button_payload: str | None = None,
    button_text: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
) -> dict[str, str]:
    """The form Twilio posts to ``/twilio/inbound``; ``from_`` may carry ``whatsapp:``."""
    whatsapp = from_.startswith("whatsapp:")
    sid = "SM" + uuid.uuid4().hex
    form = {
        "ToCountry": "US",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "SmsSid": sid,
        "SmsStatus": "received",
        "Body": body,
        "To": ("whatsapp:" + to) if whatsapp and not to.startswith("whatsapp:") else to,
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": account_sid,
        "From": from_,
        "ApiVersion": "2010-04-01",
    }
    if whatsapp:
        form["WaId"] = from_.removeprefix("whatsapp:+")
        form["ProfileName"] = profile_name or "Ana"
        form["MessageType"] = "text"
    if button_payload is not None or button_text is not None:
        form["ButtonPayload"] = button_payload or ""
        form["ButtonText"] = button_text or ""
        form["MessageType"] = "button"
    if latitude is not None and longitude is not None:
        form["Latitude"], form["Longitude"] = str(latitude), str(longitude)
        form["MessageType"] = "location"
    return form


def status_form(
    message_sid: str,
    status: str,
    *,
    to: str = "+15551234567",
    from_: str = "+15005550006",
    error_code: int | str | None = None,
    account_sid: str = DEFAULT_ACCOUNT_SID,
) -> dict[str, str]:
    """The form Twilio posts to the ``StatusCallback`` URL."""
    form = {
        "SmsSid": message_sid,
        "SmsStatus": status,
        "MessageStatus": status,
        "To": to,
        "MessageSid": message_sid,
        "AccountSid": account_sid,
        "From": from_,
        "ApiVersion": "2010-04-01",
    }
    if error_code is not None:
        form["ErrorCode"] = str(error_code)
    return form


__all__ = [
    "DEFAULT_ACCOUNT_SID",
    "DEFAULT_AUTH_TOKEN",
    "FakeTwilio",
    "TwilioCall",
    "inbound_form",
    "status_form",
]
