"""A loopback Twilio REST API (Programmable Messaging) speaking the real wire format.

``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` with a urlencoded form body and HTTP basic
auth (``AccountSid:AuthToken``), answered ``201`` with the Message resource JSON (``sid`` "SM...",
``status`` "queued" or "accepted", ``num_segments``...). ``GET`` on the same path lists the
messages created, newest first, filtered by ``To``, ``From`` and ``DateSent`` (``<``/``>``) and
paged by ``PageSize``/``Page``, in Twilio's list format (``messages``, ``page``, ``page_size``,
``next_page_uri``...); ``GET .../Messages/{Sid}.json`` fetches one. Errors look as Twilio sends
them::

    {"code": 21610, "message": "...", "more_info": "https://www.twilio.com/docs/errors/21610",
     "status": 400}

Usage::

    async with FakeTwilio() as tw:                      # or: with FakeTwilio() as tw
        sender = SmsSender(tw.account_sid, tw.auth_token, from_number="+15005550006",
                           api_base_url=tw.base_url)
        tw.fail_next_opted_out()                        # next create: 21610
        ...
        assert tw.messages[0].body == "..."

The Content API (``content.twilio.com``, served on the same loopback base URL, as the sender's
``TWILIO_API_BASE_URL`` fallback expects) takes ``POST /v1/Content`` with the JSON body Twilio
documents (``friendly_name``, ``language``, ``variables``, ``types``) and validates it as Twilio's
docs state: ``language`` and ``types`` required, ``twilio/quick-reply`` with ``body`` of at most
1,024 characters and 1 to 10 ``actions`` of ``title`` (at most 20 characters) and ``id`` (at most
200), no other properties, at most 100 variables with keys of at most 16 characters and values of
at most 255 (https://www.twilio.com/docs/content/twilio-quick-reply,
https://www.twilio.com/docs/content/using-variables-with-content-api). A body that is not the
expected JSON is 400 / 70002 "Bad request"; a value over its limit is 400 / 21658 "Parameter
exceeded character limit" (both codes documented for these cases; Twilio does not document a
code per field). Created contents answer ``201`` with the resource (``sid`` "HX" + 32 hex) and are
kept in :attr:`FakeTwilio.contents`; ``GET /v1/Content/{sid}`` fetches one.

A message created with the ``ContentSid`` of such a content is rendered: ``ContentVariables``
(a JSON object, else 21656) replace the ``{{n}}`` placeholders, the rendered title, id and body
must fit their limits (else 21658), and :attr:`TwilioCall.rendered` holds the result for the test
(``call.buttons`` lists ``(title, id)``). A well-formed ``HX`` SID the fake does not hold (deleted
with :meth:`FakeTwilio.delete_content`, or never created) is 400 / 21655. A malformed placeholder
SID such as ``HX1`` stands for an approved template made in the Console, which the fake cannot
know: it is accepted and not rendered.

A clinic's account (:meth:`FakeTwilio.add_account`) owns what it is given:
``GET .../IncomingPhoneNumbers.json`` lists its numbers (``PhoneNumber`` filters),
``GET /v1/Services/{sid}`` answers its messaging services (another account's: 404 / 20404) and
``GET /v2/Channels/Senders`` lists its WhatsApp senders, each in Twilio's list format.

Scripting: ``fail_next(code, status=400, message=..., to=..., times=..., retry_after=...)`` and
shortcuts (``fail_next_opted_out``, ``fail_next_invalid_number``, ``fail_next_not_mobile``,
``fail_next_rate_limited``, ``fail_next_template_required``, ``fail_next_blocked``,
``fail_next_server_error``), ``opt_out(number)`` for a persistent 21610, ``latency`` and
``rate_limit_per_second`` (429 / 20429 above N per second), ``answer_latency`` (the message is
created at once, its answer comes that much later: a client that times out meanwhile does not
know it was sent), ``hold_creates()``/``release_creates()`` (a create received waits for the
release: answered after the client gave up, however slow the host; ``creates_held`` counts
them); ``fail_next_content(code, status, ...)`` for Content API creations;
``call_back_before_answering(origin, *statuses)`` posts signed status callbacks before a create
is answered (a callback that overtakes the API response).
Build webhook forms with :func:`inbound_form` and :func:`status_form`.
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
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import formatdate, parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from core.templating import count_segments
from tests.fakes._server import LoopbackServer, parse_body

DEFAULT_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
DEFAULT_AUTH_TOKEN = "fake-auth-token"
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_CONTENT_SID = re.compile(r"^HX[0-9a-fA-F]{32}$")
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}\s]+)\s*\}\}")
# Content API limits (docs cited in the module docstring).
QUICK_REPLY_BODY_MAX = 1024
QUICK_REPLY_ACTIONS_MAX = 10
QUICK_REPLY_TITLE_MAX = 20
QUICK_REPLY_ID_MAX = 200
VARIABLES_MAX = 100
VARIABLE_KEY_MAX = 16
VARIABLE_VALUE_MAX = 255
CONTENT_VARIABLE_VALUE_MAX = 1600  # per value sent in ContentVariables (error 21658's page)
TEXT_BODY_MAX = 1600
CONTENT_TYPES = frozenset(
    {
        "twilio/text",
        "twilio/media",
        "twilio/location",
        "twilio/list-picker",
        "twilio/call-to-action",
        "twilio/quick-reply",
        "twilio/card",
        "twilio/catalog",
        "twilio/carousel",
        "twilio/flows",
        "twilio/schedule",
        "whatsapp/card",
        "whatsapp/authentication",
        "whatsapp/flows",
    }
)
_MESSAGES = {
    20003: "Authenticate",
    20429: "Too Many Requests",
    21211: "The 'To' number is not a valid phone number.",
    21602: "Message body is required.",
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
    21655: "The ContentSid is Invalid",
    21656: "The ContentVariables Parameter is invalid",
    21658: "Parameter exceeded character limit",
    63014: "The message could not be delivered because the user has blocked this sender",
    63016: "Failed to send freeform message because you are outside the allowed window. "
    "If you are using WhatsApp, please use a Message Template.",
    70002: "Bad request",
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
    at: float = 0.0  # when it was answered (time.monotonic())
    # A message sent with the ContentSid of a content the fake holds, rendered with its variables:
    # {"type": "twilio/quick-reply", "body": ..., "actions": [{"title": ..., "id": ...}]}.
    rendered: dict[str, Any] | None = None

    @property
    def buttons(self) -> list[tuple[str, str | None]]:
        """The rendered quick-reply buttons as ``(title, id)``; empty for any other message."""
        if not self.rendered or self.rendered.get("type") != "twilio/quick-reply":
            return []
        return [(a["title"], a.get("id")) for a in self.rendered["actions"]]

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
        answer_latency: float = 0.0,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        # Every account the fake knows (sid -> auth token): the default and add_account()'s.
        self.accounts: dict[str, str] = {account_sid: auth_token}
        self.latency = latency
        # Seconds between creating a message and answering (an answer lost on its way back).
        self.answer_latency = answer_latency
        # Set unless hold_creates(): a create received waits for it (release_creates()).
        self._creates_open = threading.Event()
        self._creates_open.set()
        self.creates_held = 0  # creates received while held
        self.rate_limit_per_second = rate_limit_per_second
        self.calls: list[TwilioCall] = []
        self.list_calls = 0  # GET .../Messages.json (the Messages list)
        # Content API: POST /v1/Content requests (failed or not) and the contents created.
        self.content_calls: list[TwilioCall] = []
        self.contents: dict[str, dict[str, Any]] = {}
        self._content_failures: list[_Failure] = []
        self._failures: list[_Failure] = []
        self._opted_out: set[str] = set()
        self._stored: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._account_status: dict[str, str] = {account_sid: "active"}
        # What each account owns (add_account): number -> (account, SMS capable), messaging
        # service SID -> account, WhatsApp sender number -> account.
        self.phone_numbers: dict[str, tuple[str, bool]] = {}
        self.services: dict[str, str] = {}
        self.whatsapp_senders: dict[str, str] = {}
        self._recent: deque[float] = deque()
        # Status callbacks posted before the create is answered (call_back_before_answering).
        self._early_statuses: tuple[str, ...] = ()
        self._callback_origin: str | None = None
        self.callback_answers: list[int] = []
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

    @property
    def contents_created(self) -> list[TwilioCall]:
        """Successful ``POST /v1/Content`` requests, oldest first."""
        with self._lock:
            return [c for c in self.content_calls if c.status == 201]

    def reset(self) -> None:
        """Forget calls, failures and opt-outs (contents stay, as they do in a Twilio account)."""
        with self._lock:
            self.calls.clear()
            self.content_calls.clear()
            self._failures.clear()
            self._content_failures.clear()
            self._opted_out.clear()

    def clear_failures(self) -> None:
        """Drop the scripted failures not used yet: the provider is back."""
        with self._lock:
            self._failures.clear()

    def delete_content(self, sid: str) -> None:
        """Delete a content, as in the Console: later sends with its SID fail with 21655."""
        with self._lock:
            self.contents.pop(sid, None)

    # -- scripting -------------------------------------------------------------------------

    def hold_creates(self) -> None:
        """Message creations, once received, wait for :meth:`release_creates` before they are
        answered (and before a scripted failure is taken): a request that reached Twilio and
        was answered after the client gave up, whatever the host's speed. A fixed ``latency``
        raced the client's timeout on a loaded host."""
        self._creates_open.clear()

    def release_creates(self) -> None:
        """Answer the held creations, and those to come at once."""
        self._creates_open.set()

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

    def fail_next_content(
        self,
        code: int,
        status: int = 400,
        message: str | None = None,
        *,
        times: int = 1,
        retry_after: float | None = None,
    ) -> None:
        """Answer the next ``times`` Content API creations with this error."""
        with self._lock:
            self._content_failures.append(
                _Failure(
                    code, status, message or _MESSAGES.get(code, "Error"), None, times, retry_after
                )
            )

    def call_back_before_answering(self, origin: str, *statuses: str) -> None:
        """Post signed status callbacks (``statuses``, e.g. "sent", "delivered") for each message
        created with a ``StatusCallback`` before answering its create, as Twilio can when its
        callback overtakes the API response. ``origin`` (``http://127.0.0.1:port``) replaces the
        scheme and host of the callback URL, which names the public host the web process is
        behind; the signature is over the URL as given, as Twilio signs it."""
        self._callback_origin = origin.rstrip("/")
        self._early_statuses = statuses

    async def _call_back(self, call: TwilioCall, sid: str) -> None:
        url = call.status_callback
        if not url or not self._early_statuses or self._callback_origin is None:
            return
        parts = urlsplit(url)
        target = self._callback_origin + parts.path + (f"?{parts.query}" if parts.query else "")
        # Twilio signs with the auth token of the account that sent the message.
        validator = RequestValidator(self.accounts.get(call.account_sid, self.auth_token))
        async with httpx.AsyncClient(timeout=10) as http:
            for status in self._early_statuses:
                form = status_form(
                    sid,
                    status,
                    to=call.to or "",
                    from_=call.from_ or "",
                    account_sid=call.account_sid,
                    messaging_service_sid=call.messaging_service_sid,
                )
                response = await http.post(
                    target,
                    data=form,
                    headers={"X-Twilio-Signature": validator.compute_signature(url, form)},
                )
                self.callback_answers.append(response.status_code)

    def add_account(
        self,
        account_sid: str,
        auth_token: str,
        *,
        status: str = "active",
        numbers: Iterable[str] = (),
        services: Iterable[str] = (),
        whatsapp_senders: Iterable[str] = (),
        sms_capable: bool = True,
    ) -> None:
        """Another account (a clinic's own): its sends are authorized with its token; fetching
        it (``GET /2010-04-01/Accounts/{sid}.json``) answers ``status``. ``numbers`` (E.164) are
        its phone numbers (IncomingPhoneNumbers; ``sms_capable`` their SMS capability),
        ``services`` its messaging services (MG...), ``whatsapp_senders`` its WhatsApp senders
        (E.164, as the Senders API lists them: ``whatsapp:+1...``)."""
        with self._lock:
            self.accounts[account_sid] = auth_token
            self._account_status[account_sid] = status
            for number in numbers:
                self.phone_numbers[number] = (account_sid, sms_capable)
            for service in services:
                self.services[service] = account_sid
            for sender in whatsapp_senders:
                self.whatsapp_senders[sender.removeprefix("whatsapp:")] = account_sid

    def opt_out(self, number: str) -> None:
        """Every later message to ``number`` (SMS or WhatsApp) fails with 21610."""
        with self._lock:
            self._opted_out.add(number.removeprefix("whatsapp:"))

    def opt_in(self, number: str) -> None:
        """START: messages to ``number`` go again (the carrier lifts its block)."""
        with self._lock:
            self._opted_out.discard(number.removeprefix("whatsapp:"))

    # -- the server ------------------------------------------------------------------------

    def _app(self) -> Starlette:
        base = "/2010-04-01/Accounts/{account_sid}"
        return Starlette(
            routes=[
                Route("/2010-04-01/Accounts/{account_sid}.json", self._fetch_account),
                Route(f"{base}/Messages.json", self._create, methods=["POST"]),
                Route(f"{base}/Messages.json", self._list, methods=["GET"]),
                Route(f"{base}/Messages/{{sid}}.json", self._fetch, methods=["GET"]),
                Route(f"{base}/IncomingPhoneNumbers.json", self._list_numbers, methods=["GET"]),
                Route("/v1/Services/{sid}", self._fetch_service, methods=["GET"]),
                Route("/v2/Channels/Senders", self._list_senders, methods=["GET"]),
                Route("/v1/Content", self._create_content, methods=["POST"]),
                Route("/v1/Content/{sid}", self._fetch_content, methods=["GET"]),
            ]
        )

    def _authorized(self, request: Request) -> bool:
        """Basic auth of a known account, and of the account in the path when there is one."""
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        in_path = request.path_params.get("account_sid")
        if in_path is not None and in_path != user:
            return False
        with self._lock:
            return user in self.accounts and password == self.accounts[user]

    async def _fetch_account(self, request: Request) -> Response:
        """``GET /2010-04-01/Accounts/{sid}.json``: the Account resource, as Twilio answers it."""
        sid = request.path_params["account_sid"]
        if not self._authorized(request):
            status, payload, _ = _error(20003, 401, "Authenticate")
            return JSONResponse(payload, status_code=status)
        now = formatdate(usegmt=True)
        return JSONResponse(
            {
                "auth_token": None,
                "date_created": now,
                "date_updated": now,
                "friendly_name": f"Account {sid[-6:]}",
                "owner_account_sid": sid,
                "sid": sid,
                "status": self._account_status.get(sid, "active"),
                "type": "Full",
                "uri": f"/2010-04-01/Accounts/{sid}.json",
            }
        )

    def _basic_user(self, request: Request) -> str | None:
        """The account SID of a request's valid basic auth, else None."""
        if not self._authorized(request):
            return None
        header = request.headers["authorization"]
        return base64.b64decode(header[6:]).decode().partition(":")[0]

    async def _list_numbers(self, request: Request) -> Response:
        """``GET .../IncomingPhoneNumbers.json``: the account's phone numbers, filtered by
        ``PhoneNumber`` (as Twilio does: a pattern, digits matched anywhere, ``*`` any), in the
        2010 list format (``incoming_phone_numbers``, ``page``, ``next_page_uri``...)."""
        if not self._authorized(request):
            status, payload, _ = _error(20003, 401, "Authenticate")
            return JSONResponse(payload, status_code=status)
        account = request.path_params["account_sid"]
        wanted = request.query_params.get("PhoneNumber", "")
        digits = re.escape(wanted.lstrip("+")).replace(r"\*", r"\d")
        with self._lock:
            owned = [(n, sms) for n, (a, sms) in self.phone_numbers.items() if a == account]
        rows = [
            _number_resource(account, number, sms)
            for number, sms in owned
            if not wanted or re.search(digits, number)
        ]
        uri = f"/2010-04-01/Accounts/{account}/IncomingPhoneNumbers.json?PageSize=50&Page=0"
        return JSONResponse(
            {
                "end": max(0, len(rows) - 1),
                "first_page_uri": uri,
                "incoming_phone_numbers": rows,
                "next_page_uri": None,
                "page": 0,
                "page_size": 50,
                "previous_page_uri": None,
                "start": 0,
                "uri": uri,
            }
        )

    async def _fetch_service(self, request: Request) -> Response:
        """``GET /v1/Services/{sid}`` (messaging.twilio.com): the messaging service when it is
        the authenticated account's, else 404 / 20404, as Twilio answers another account's."""
        user = self._basic_user(request)
        if user is None:
            status, payload, _ = _error(20003, 401, "Authenticate")
            return JSONResponse(payload, status_code=status)
        sid = request.path_params["sid"]
        with self._lock:
            owner = self.services.get(sid)
        if owner != user:
            status, payload, _ = _error(
                20404, 404, f"The requested resource /Services/{sid} was not found"
            )
            return JSONResponse(payload, status_code=status)
        url = f"https://messaging.twilio.com/v1/Services/{sid}"
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        return JSONResponse(
            {
                "account_sid": user,
                "date_created": now,
                "date_updated": now,
                "friendly_name": f"Service {sid[-6:]}",
                "links": {"phone_numbers": f"{url}/PhoneNumbers"},
                "sid": sid,
                "url": url,
                "usecase": "notifications",
            }
        )

    async def _list_senders(self, request: Request) -> Response:
        """``GET /v2/Channels/Senders?Channel=whatsapp`` (messaging.twilio.com): the account's
        WhatsApp senders (``sender_id`` ``whatsapp:+1...``) in the v2 list format (``meta``)."""
        user = self._basic_user(request)
        if user is None:
            status, payload, _ = _error(20003, 401, "Authenticate")
            return JSONResponse(payload, status_code=status)
        channel = request.query_params.get("Channel", "")
        with self._lock:
            owned = [n for n, a in self.whatsapp_senders.items() if a == user]
        senders = [
            {
                "sid": "XE" + uuid.uuid5(uuid.NAMESPACE_URL, number).hex,
                "sender_id": f"whatsapp:{number}",
                "status": "ONLINE",
                "url": "https://messaging.twilio.com/v2/Channels/Senders/XE...",
            }
            for number in owned
            if channel in ("", "whatsapp")
        ]
        url = f"https://messaging.twilio.com/v2/Channels/Senders?Channel={channel}&PageSize=50"
        return JSONResponse(
            {
                "senders": senders,
                "meta": {
                    "page": 0,
                    "page_size": 50,
                    "first_page_url": url + "&Page=0",
                    "previous_page_url": None,
                    "url": url + "&Page=0",
                    "next_page_url": None,
                    "key": "senders",
                },
            }
        )

    async def _create(self, request: Request) -> Response:
        body = await request.body()  # received: a client that gives up later cannot undo it
        if not self._creates_open.is_set():
            with self._lock:
                self.creates_held += 1
            while not self._creates_open.is_set():  # polled: a stopping fake cancels the wait
                await asyncio.sleep(0.02)
        if self.latency:
            await asyncio.sleep(self.latency)
        fields, _ = parse_body(request.headers.get("content-type", ""), body)
        call = TwilioCall(
            method="POST",
            path=request.url.path,
            account_sid=request.path_params["account_sid"],
            params=fields,
            authorized=self._authorized(request),
        )
        status, payload, headers = self._answer_create(call)
        call.status, call.response, call.at = status, payload, time.monotonic()
        if status == 201:
            await self._call_back(call, payload["sid"])
        with self._lock:
            self.calls.append(call)
        if status == 201 and self.answer_latency:
            await asyncio.sleep(self.answer_latency)  # created: only the answer is late
        return JSONResponse(payload, status_code=status, headers=headers)

    async def _list(self, request: Request) -> Response:
        """``GET .../Messages.json``: the account's messages, newest first, filtered by ``To``,
        ``From`` and ``DateSent`` (``YYYY-MM-DD``; ``DateSent<``/``DateSent>`` on or before /
        after), paged by ``PageSize`` (50, at most 1,000) and ``Page``, in Twilio's list format."""
        self.list_calls += 1
        if not self._authorized(request):
            status, payload, _ = _error(20003, 401, "Authenticate")
            return JSONResponse(payload, status_code=status)
        account = request.path_params["account_sid"]
        query = request.query_params
        try:
            size = min(1000, max(1, int(query.get("PageSize", "50"))))
            page = max(0, int(query.get("Page", "0")))
        except ValueError:
            status, payload, _ = _error(20001, 400, "Invalid paging parameter")
            return JSONResponse(payload, status_code=status)
        with self._lock:
            stored = list(self._stored.values())
        chosen = [
            m
            for m in reversed(stored)  # created last, listed first
            if m["account_sid"] == account
            and query.get("To") in (None, m["to"])
            and query.get("From") in (None, m["from"])
            and _sent_on(m, query)
        ]
        base = f"/2010-04-01/Accounts/{account}/Messages.json"
        kept = [(k, v) for k, v in query.multi_items() if k not in ("Page", "PageSize")]

        def uri(number: int) -> str:
            return f"{base}?{urlencode([*kept, ('PageSize', size), ('Page', number)])}"

        rows = chosen[page * size : (page + 1) * size]
        more = len(chosen) > (page + 1) * size
        return JSONResponse(
            {
                "end": page * size + max(0, len(rows) - 1),
                "first_page_uri": uri(0),
                "messages": rows,
                "next_page_uri": uri(page + 1) if more else None,
                "page": page,
                "page_size": size,
                "previous_page_uri": uri(page - 1) if page else None,
                "start": page * size,
                "uri": uri(page),
            }
        )

    def _answer_create(self, call: TwilioCall) -> tuple[int, dict[str, Any], dict[str, str]]:
        if not call.authorized:
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
        if call.content_sid:
            refused = self._render_content(call)
            if refused is not None:
                return refused
        return 201, self._resource(call), {}

    def _render_content(
        self, call: TwilioCall
    ) -> tuple[int, dict[str, Any], dict[str, str]] | None:
        """Render a send by ContentSid into ``call.rendered``; Twilio's error when it would fail."""
        sid = call.content_sid or ""
        with self._lock:
            content = self.contents.get(sid)
        if content is None:
            # A placeholder SID (HX1) stands for an approved Console template: not rendered.
            return _error(21655, 400, _MESSAGES[21655]) if _CONTENT_SID.match(sid) else None
        raw = call.params.get("ContentVariables")
        try:
            sent = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            return _error(21656, 400, _MESSAGES[21656])
        if not isinstance(sent, dict) or not all(
            isinstance(v, str | int | float) for v in sent.values()
        ):
            return _error(21656, 400, _MESSAGES[21656])
        values = {**(content.get("variables") or {}), **{k: str(v) for k, v in sent.items()}}
        if any(len(v) > CONTENT_VARIABLE_VALUE_MAX for v in values.values()):
            return _error(21658, 400, _MESSAGES[21658])

        def fill(template: str) -> str:
            return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)

        types = content["types"]
        if "twilio/quick-reply" in types:
            spec = types["twilio/quick-reply"]
            actions: list[dict[str, Any]] = [
                {"title": fill(a["title"]), "id": fill(a["id"]) if "id" in a else None}
                for a in spec["actions"]
            ]
            rendered: dict[str, Any] = {
                "type": "twilio/quick-reply",
                "body": fill(spec["body"]),
                "actions": actions,
            }
            too_long = len(rendered["body"]) > QUICK_REPLY_BODY_MAX or any(
                len(a["title"]) > QUICK_REPLY_TITLE_MAX or len(a["id"] or "") > QUICK_REPLY_ID_MAX
                for a in actions
            )
            if too_long:
                return _error(21658, 400, _MESSAGES[21658])
        elif "twilio/text" in types:
            rendered = {"type": "twilio/text", "body": fill(types["twilio/text"]["body"])}
        else:
            rendered = {"type": next(iter(types))}
        call.rendered = rendered
        return None

    def _resource(self, call: TwilioCall) -> dict[str, Any]:
        sid = "SM" + uuid.uuid4().hex
        now = formatdate(usegmt=True)
        body = call.body or (call.rendered or {}).get("body") or ""
        _, segments = count_segments(body)
        resource = {
            "account_sid": call.account_sid,
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
                "media": f"/2010-04-01/Accounts/{call.account_sid}/Messages/{sid}/Media.json"
            },
            "to": call.to,
            "uri": f"/2010-04-01/Accounts/{call.account_sid}/Messages/{sid}.json",
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

    async def _create_content(self, request: Request) -> Response:
        raw = await request.body()
        call = TwilioCall(
            method="POST",
            path=request.url.path,
            account_sid="",
            params={},
            authorized=self._authorized(request),
        )
        status, payload, headers = self._answer_content(request, raw, call)
        call.status, call.response = status, payload
        with self._lock:
            self.content_calls.append(call)
        return JSONResponse(payload, status_code=status, headers=headers)

    def _answer_content(
        self, request: Request, raw: bytes, call: TwilioCall
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        if not call.authorized:
            return _error(20003, 401, "Authenticate")
        call.account_sid = self.account_sid
        with self._lock:
            if self._content_failures:
                failure = self._content_failures[0]
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._content_failures.pop(0)
                return _error(
                    failure.code, failure.status, failure.message, retry_after=failure.retry_after
                )
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "application/json":
            return _error(70002, 400, "Bad request: the body must be JSON (application/json)")
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _error(70002, 400, "Bad request: the body is not valid JSON")
        if not isinstance(body, dict):
            return _error(70002, 400, "Bad request: the body must be a JSON object")
        call.params = body
        problem = _content_problem(body)
        if problem is not None:
            return _error(problem[0], 400, problem[1])
        sid = "HX" + uuid.uuid4().hex
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        url = f"https://content.twilio.com/v1/Content/{sid}"
        resource = {
            "account_sid": self.account_sid,
            "date_created": now,
            "date_updated": now,
            "friendly_name": body.get("friendly_name") or "",
            "language": body["language"],
            "links": {
                "approval_create": f"{url}/ApprovalRequests/whatsapp",
                "approval_fetch": f"{url}/ApprovalRequests",
            },
            "sid": sid,
            "types": body["types"],
            "url": url,
            "variables": body.get("variables") or {},
        }
        with self._lock:
            self.contents[sid] = resource
        return 201, resource, {}

    async def _fetch_content(self, request: Request) -> Response:
        if not self._authorized(request):
            status, payload, _ = _error(20003, 401, "Authenticate")
            return JSONResponse(payload, status_code=status)
        with self._lock:
            resource = self.contents.get(request.path_params["sid"])
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


def _number_resource(account: str, number: str, sms: bool) -> dict[str, Any]:
    """An IncomingPhoneNumber resource as Twilio lists it (the fields a client reads)."""
    sid = "PN" + uuid.uuid5(uuid.NAMESPACE_URL, number).hex
    now = formatdate(usegmt=True)
    return {
        "account_sid": account,
        "capabilities": {"fax": False, "mms": sms, "sms": sms, "voice": True},
        "date_created": now,
        "date_updated": now,
        "friendly_name": number,
        "phone_number": number,
        "sid": sid,
        "sms_url": "",
        "status": "in-use",
        "uri": f"/2010-04-01/Accounts/{account}/IncomingPhoneNumbers/{sid}.json",
    }


def _sent_on(message: dict[str, Any], query: Any) -> bool:
    """Twilio's ``DateSent`` filters (a UTC date): a message not sent yet matches none."""
    wanted = [(k, query[k]) for k in ("DateSent", "DateSent<", "DateSent>") if k in query]
    if not wanted:
        return True
    if not message["date_sent"]:
        return False
    day = parsedate_to_datetime(message["date_sent"]).astimezone(UTC).date().isoformat()
    # The date part: Twilio documents YYYY-MM-DD; its SDKs send an ISO 8601 date-time.
    dates = [(k, str(v)[:10]) for k, v in wanted]
    return all(
        {"DateSent": day == v, "DateSent<": day <= v, "DateSent>": day >= v}[k] for k, v in dates
    )


def _content_problem(body: dict[str, Any]) -> tuple[int, str] | None:
    """What Twilio would refuse in a Content create body: ``(code, message)``, or None."""
    bad = 70002
    too_long = 21658
    if not isinstance(body.get("language"), str) or not body["language"]:
        return bad, "Bad request: language is required"
    if "friendly_name" in body and not isinstance(body["friendly_name"], str):
        return bad, "Bad request: friendly_name must be a string"
    variables = body.get("variables", {})
    if variables is None:
        variables = {}
    if not isinstance(variables, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in variables.items()
    ):
        return bad, "Bad request: variables must map names to strings"
    if len(variables) > VARIABLES_MAX:
        return bad, f"Bad request: at most {VARIABLES_MAX} variables"
    for key, value in variables.items():
        if not key or " " in key or len(key) > VARIABLE_KEY_MAX:
            return too_long, f"{_MESSAGES[too_long]}: variable name over {VARIABLE_KEY_MAX}"
        if len(value) > VARIABLE_VALUE_MAX:
            return too_long, f"{_MESSAGES[too_long]}: variable value over {VARIABLE_VALUE_MAX}"
    types = body.get("types")
    if not isinstance(types, dict) or not types:
        return bad, "Bad request: types is required"
    for name, spec in types.items():
        if name not in CONTENT_TYPES:
            return bad, f"Bad request: unknown content type {name!r}"
        if not isinstance(spec, dict):
            return bad, f"Bad request: {name} must be an object"
    if "twilio/text" in types:
        text = types["twilio/text"]
        if set(text) - {"body"} or not isinstance(text.get("body"), str) or not text["body"]:
            return bad, "Bad request: twilio/text takes a body only"
        if len(text["body"]) > TEXT_BODY_MAX:
            return too_long, f"{_MESSAGES[too_long]}: twilio/text body"
    if "twilio/quick-reply" in types:
        return _quick_reply_problem(types["twilio/quick-reply"])
    return None


def _quick_reply_problem(spec: dict[str, Any]) -> tuple[int, str] | None:
    bad = 70002
    too_long = 21658
    if set(spec) - {"body", "actions"}:
        return bad, "Bad request: twilio/quick-reply takes body and actions only"
    body = spec.get("body")
    if not isinstance(body, str) or not body:
        return bad, "Bad request: twilio/quick-reply body is required"
    if len(body) > QUICK_REPLY_BODY_MAX:
        return too_long, f"{_MESSAGES[too_long]}: body over {QUICK_REPLY_BODY_MAX}"
    actions = spec.get("actions")
    if not isinstance(actions, list) or not 1 <= len(actions) <= QUICK_REPLY_ACTIONS_MAX:
        return bad, f"Bad request: 1 to {QUICK_REPLY_ACTIONS_MAX} quick-reply actions"
    for action in actions:
        if not isinstance(action, dict) or set(action) - {"type", "title", "id"}:
            return bad, "Bad request: a quick-reply action takes type, title and id"
        if action.get("type", "QUICK_REPLY") != "QUICK_REPLY":
            return bad, "Bad request: quick-reply action type must be QUICK_REPLY"
        title, ident = action.get("title"), action.get("id")
        if not isinstance(title, str) or not title:
            return bad, "Bad request: a quick-reply action needs a title"
        if ident is not None and not isinstance(ident, str):
            return bad, "Bad request: a quick-reply id must be a string"
        if len(title) > QUICK_REPLY_TITLE_MAX:
            return too_long, f"{_MESSAGES[too_long]}: title over {QUICK_REPLY_TITLE_MAX}"
        if ident is not None and len(ident) > QUICK_REPLY_ID_MAX:
            return too_long, f"{_MESSAGES[too_long]}: id over {QUICK_REPLY_ID_MAX}"
    return None


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
    media: str | None = None,
) -> dict[str, str]:
    """The form Twilio posts to ``/twilio/inbound``; ``from_`` may carry ``whatsapp:``.
    ``media``: the content type of one attached file (an MMS photo, a WhatsApp voice note)."""
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
    if media is not None:
        form["NumMedia"] = "1"
        form["MediaContentType0"] = media
        form["MediaUrl0"] = (
            f"https://api.twilio.com/2010-04-01/Accounts/{account_sid}/Messages/{sid}/Media/ME{uuid.uuid4().hex}"
        )
        if whatsapp:
            form["MessageType"] = media.split("/", 1)[0]  # image, audio, video (else document)
    return form


def status_form(
    message_sid: str,
    status: str,
    *,
    to: str = "+15551234567",
    from_: str = "+15005550006",
    error_code: int | str | None = None,
    account_sid: str = DEFAULT_ACCOUNT_SID,
    messaging_service_sid: str | None = None,
) -> dict[str, str]:
    """The form Twilio posts to the ``StatusCallback`` URL (``From`` is our sender)."""
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
    if messaging_service_sid:
        form["MessagingServiceSid"] = messaging_service_sid
    return form


__all__ = [
    "DEFAULT_ACCOUNT_SID",
    "DEFAULT_AUTH_TOKEN",
    "FakeTwilio",
    "TwilioCall",
    "inbound_form",
    "status_form",
]
