"""``POST /twilio/inbound`` and ``POST /twilio/status``, authenticated by ``X-Twilio-Signature``.

Twilio signs the URL it posted to plus the form parameters. Behind Heroku's router (or any
TLS-terminating proxy) the app sees ``http://`` and an internal host, so the URL is rebuilt from
``PUBLIC_BASE_URL`` + path (+ query), never from ``request.url``. With no auth token or no public
URL configured nothing can be verified, so every request is refused (403, fail closed) and
nothing is stored. A webhook for a clinic's own number is verified with that clinic's own auth
token only (:mod:`medremind.web.twilio_accounts`).

Inbound messages are stored unique by ``MessageSid`` (a redelivery is a no-op) and answered with
empty TwiML; replies go out through the REST API. Status callbacks are stored unique by (sid,
status, signer) in ``delivery_status_events`` and applied by the database function
``apply_delivery_status_events``: at once when the worker has recorded the send, else when it
records it (a trigger), so an early callback is never lost; statuses never move backwards. A
callback signed with a clinic's own token changes that clinic's messages only (migration
20260101015560): the clinic holds the token, and could sign one for any message id.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from twilio.request_validator import RequestValidator

from core.sql import query
from medremind.web import inbound
from medremind.web.errors import error_response
from medremind.web.metrics import INBOUND_UPDATES, STATUS_CALLBACKS, WEBHOOK_DROPPED
from medremind.web.state import WebState, web_state
from medremind.web.twilio_accounts import WebhookAccount, webhook_account
from platforms.twilio_common import classify_twilio_code
from platforms.twilio_inbound import parse_twilio_inbound, parse_twilio_status

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "x-twilio-signature"
# Longer than any SID (34 characters) or sender address (E.164, whatsapp:, messenger: ids)
# Twilio sends: such a value comes from a form someone else signed (a clinic signs its own
# number's webhooks) and is dropped, as PostgreSQL cannot index thousands of characters (a 500).
MAX_SID_CHARS = 64
MAX_ADDRESS_CHARS = 100
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def public_url(base_url: str, request: Request) -> str:
    """The URL Twilio signed: the configured public base, the path and the raw query string."""
    url = base_url.rstrip("/") + request.url.path
    raw_query = request.scope.get("query_string", b"")
    if raw_query:
        url += "?" + raw_query.decode("latin-1")
    return url


def _params(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Form fields for the validator; repeated fields as lists, as Twilio signs each value."""
    params: dict[str, Any] = {}
    for key, value in pairs:
        if key in params:
            existing = params[key]
            params[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            params[key] = value
    return params


async def _verified_form(
    request: Request, state: WebState, channel: str
) -> tuple[dict[str, str], WebhookAccount] | Response:
    """The form fields and the account whose token signed them when the signature holds;
    otherwise the 403 (or 413/415) to send.

    Twilio posts ``application/x-www-form-urlencoded``; it is parsed here with the standard
    library (no multipart parser needed, none wanted for a webhook). The token that must have
    signed it is the receiving clinic's own, else the default (:mod:`twilio_accounts`).
    """
    settings = state.settings
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not settings.public_base_url:
        INBOUND_UPDATES.labels(channel, "rejected").inc()
        logger.warning("twilio webhook refused: PUBLIC_BASE_URL not set")
        return error_response(403, "webhook signature cannot be verified on this server")
    if not signature:
        INBOUND_UPDATES.labels(channel, "rejected").inc()
        return error_response(403, "missing X-Twilio-Signature")
    # Read through the route's streaming cap (medremind.web.body_limit): 413 past it.
    body = await request.body()
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/x-www-form-urlencoded":
        INBOUND_UPDATES.labels(channel, "rejected").inc()
        return error_response(415, "expected application/x-www-form-urlencoded")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        return error_response(400, "form is not UTF-8")
    # Last value wins for repeated fields, as Starlette's form parsing does. PostgreSQL stores no
    # NUL, and a signed form with one must not turn into a 500 that Twilio retries forever.
    fields = {key: value.replace("\x00", "") for key, value in pairs}
    account = await webhook_account(state, fields, inbound=channel == "twilio")
    if account is None:
        INBOUND_UPDATES.labels(channel, "rejected").inc()
        logger.warning("twilio webhook refused: no auth token to verify it with")
        return error_response(403, "webhook signature cannot be verified on this server")
    url = public_url(settings.public_base_url, request)
    tokens = [account.auth_token]
    previous = settings.twilio_auth_token_previous
    if account.organization_id is None and previous is not None:
        # The service's token is being rotated: Twilio signs with the old one until the new one
        # is promoted (docs/operations.md). A clinic's own account has one token.
        tokens.append(previous.get_secret_value())
    params = _params(pairs)
    if not any(RequestValidator(token).validate(url, params, signature) for token in tokens):
        INBOUND_UPDATES.labels(channel, "rejected").inc()
        return error_response(403, "invalid X-Twilio-Signature")
    return fields, account


def _dropped(channel: str, problem: str, answer: Response) -> Response:
    """A signed form we cannot use: acknowledged (Twilio would log an error and try the fallback
    URL on a 4xx, and a retry would not make it usable), counted, never stored."""
    WEBHOOK_DROPPED.labels(channel, problem).inc()
    logger.warning("twilio webhook dropped", extra={"problem": problem})
    return answer


def _twiml() -> Response:
    return Response(EMPTY_TWIML, media_type="text/xml")


async def twilio_inbound(request: Request) -> Response:
    """An inbound SMS or WhatsApp message: verify, store once, answer empty TwiML, process."""
    state = web_state(request)
    form = await _verified_form(request, state, "twilio")
    if isinstance(form, Response):
        return form
    fields, _ = form
    try:
        event = parse_twilio_inbound(fields)
    except ValueError:
        return _dropped("twilio", "not_a_message", _twiml())
    if not event.provider_id:
        return _dropped("twilio", "no_sid", _twiml())
    if len(event.provider_id) > MAX_SID_CHARS:
        return _dropped("twilio", "sid_too_long", _twiml())
    if max(len(event.chat_address or ""), len(event.to_address or "")) > MAX_ADDRESS_CHARS:
        return _dropped("twilio", "address_too_long", _twiml())
    task = await inbound.accept(state, event, fields)
    return Response(EMPTY_TWIML, media_type="text/xml", background=task)


async def twilio_status(request: Request) -> Response:
    """A delivery status callback: verify, record once, move the message forward only."""
    state = web_state(request)
    form = await _verified_form(request, state, "twilio_status")
    if isinstance(form, Response):
        return form
    fields, account = form
    try:
        update = parse_twilio_status(fields)
    except ValueError:
        return _dropped("twilio_status", "not_a_status", Response(status_code=204))
    if len(update.provider_message_id) > MAX_SID_CHARS:
        return _dropped("twilio_status", "sid_too_long", Response(status_code=204))
    outcome = await apply_status(state, update, account.organization_id)
    STATUS_CALLBACKS.labels(update.status, outcome).inc()
    return Response(status_code=204)


async def apply_status(state: WebState, update: Any, signed_by: uuid.UUID | None = None) -> str:
    """Record one ``StatusUpdate``; return ``applied``, ``duplicate`` or ``pending``.

    ``signed_by``: the clinic whose own Twilio token signed the callback (None: the service's
    token); it changes that clinic's messages only. ``pending``: no recorded send of the signer
    carries the id yet (the callback came before the worker's record commits); the stored
    callback is applied when it does, by the trigger of migration 20260101008410, through the
    same function as here.
    """
    error = classify_twilio_code(update.error_code) if update.error_code else None
    async with state.pool.acquire() as conn, conn.transaction():
        event_id = await conn.fetchval(
            query("web", "insert_status_event"),
            update.provider_message_id,
            update.status,
            update.error_code,
            update.provider_status or update.status,
            str(update.channel),
            str(error) if error is not None else None,
            str(error.error_class) if error is not None else None,
            signed_by,
        )
        if event_id is None:
            return "duplicate"
        applied = await conn.fetchval(
            query("web", "apply_status_events"), update.provider_message_id
        )
    return "applied" if applied else "pending"
