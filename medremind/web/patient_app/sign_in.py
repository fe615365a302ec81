"""Passwordless sign-in: a one-time link sent over one of the patient's own channels.

``POST /app/api/sign-in/request`` takes a phone number or e-mail address. When it is a usable
contact point of an active, consented patient, a link is queued on that channel (the durable
outbound path: the worker sends it like any message, urgent, no fallback, expiring with the
link). The answer is the same whether or not the address is known, so the form tells nobody who
is a patient; at most :data:`LINKS_PER_WINDOW` links go to one patient per window, and one client
makes at most ``MEDREMIND_SIGN_IN_REQUESTS_PER_CLIENT`` requests per 15 minutes
(:mod:`medremind.web.patient_app.client_rate`).

The link carries its secret in the URL fragment (``/app/#sign-in=<token>``): a fragment never
reaches a server, so chat apps' link previews (which fetch the URL) cannot spend the link, and
it stays out of access logs. The page posts it to ``POST /app/api/sign-in``, which redeems it
once (stored hashed, valid :data:`LINK_MINUTES` minutes) and starts a session; a client address
whose codes did not work too often is answered 429 before the redeeming write
(:mod:`medremind.web.failed_credentials`).
"""

from __future__ import annotations

from datetime import datetime

import asyncpg
import phonenumbers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from core.link_messages import SIGN_IN_MARKER, SIGN_IN_USED, scrub_spent_link
from core.sign_in_links import LINK_MINUTES, issue_link, link_url
from core.sql import query
from medremind.web import failed_credentials
from medremind.web.api_v1.common import json_body
from medremind.web.api_v1.fields import invalid_phone_reason
from medremind.web.errors import ApiError, ValidationFailed
from medremind.web.patient_app import client_rate
from medremind.web.patient_app.sessions import (
    SESSION_LIFETIME,
    check_origin,
    clear_session_cookie,
    current_patient,
    new_token,
    set_session_cookie,
    token_hash,
)
from medremind.web.state import web_state

_SENT = (
    "If that address belongs to a MedRemind patient, a sign-in link is on its way to it."
    f" It works once, for {LINK_MINUTES} minutes."
)
_TEXTS = {
    "en": "Your MedRemind sign-in link (valid {minutes} minutes, works once): {link}\n"
    "If you did not ask for it, ignore this message.",
    "es": "Su enlace para entrar en MedRemind (válido {minutes} minutos, un solo uso): {link}\n"
    "Si no lo pidió, ignore este mensaje.",
}


def _candidates(text: str) -> tuple[list[str], str]:
    """The channels and canonical address an entered phone number or e-mail may be on."""
    text = text.strip()
    if "@" in text:
        if len(text) > 254 or " " in text:
            raise ValidationFailed("address", "is not an e-mail address")
        return ["email"], text.lower()
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        raise ValidationFailed(
            "address",
            "enter your phone number with its country code (+1 415 555 0123) or your"
            " e-mail address",
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationFailed("address", invalid_phone_reason(number))
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return ["sms", "whatsapp"], e164


def _base_url(request: Request) -> str:
    base = web_state(request).settings.public_base_url
    return base or str(request.base_url).rstrip("/")


async def request_link(request: Request) -> Response:
    """Queue a sign-in link to a known address; the same answer either way."""
    check_origin(request)
    body = await json_body(request)
    address = body.get("address") if isinstance(body, dict) else None
    if not isinstance(address, str) or not 3 <= len(address) <= 254:
        raise ValidationFailed("address", "enter your phone number or e-mail address")
    channels, canonical = _candidates(address)
    state = web_state(request)
    now = state.clock()
    async with state.pool.acquire() as conn:
        # Counted on its own: a request that fails later still counts.
        limit = state.settings.sign_in_requests_per_client
        key = await client_rate.client_key(request, conn)
        await client_rate.take_request(conn, key, limit, now)
        await _queue_link(request, conn, channels, canonical, address, now)
    return JSONResponse({"status": "sent", "message": _SENT}, status_code=202)


async def _queue_link(
    request: Request,
    conn: asyncpg.Connection,
    channels: list[str],
    canonical: str,
    address: str,
    now: datetime,
) -> None:
    """Queue a link to the patient whose contact point ``canonical`` is, if any."""
    async with conn.transaction():
        contact = await conn.fetchrow(
            query("patient_app", "contact_for_sign_in"), channels, canonical
        )
        if contact is None and channels[0] == "email" and canonical != address.strip():
            contact = await conn.fetchrow(
                query("patient_app", "contact_for_sign_in"), channels, address.strip()
            )
        issued = None
        if contact is not None:
            issued = await issue_link(conn, contact["patient_id"], contact["channel"], now)
        if issued is not None:
            link_id, token, expires = issued
            text = _TEXTS.get(contact["locale"][:2], _TEXTS["en"]).format(
                minutes=LINK_MINUTES, link=link_url(_base_url(request), token)
            )
            await conn.execute(
                query("patient_app", "insert_sign_in_message"),
                contact["patient_id"],
                text,
                now,
                contact["channel"],
                expires,
                f"sign-in:{link_id}",
            )


async def redeem_link(request: Request) -> Response:
    """Spend a sign-in link's token and start a session (cookie)."""
    check_origin(request)
    body = await json_body(request)
    token = body.get("token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        raise ValidationFailed("token", "is not a sign-in link's code")
    state = web_state(request)
    now = state.clock()
    # A client that sent too many codes that were no link's gets its 429 here, before the write.
    check = failed_credentials.admitted(request, "sign_in_link")
    async with state.pool.acquire() as conn, conn.transaction():
        try:
            link = await conn.fetchrow(
                query("patient_app", "redeem_sign_in_link"), token_hash(token), now
            )
        except BaseException:
            check.not_checked()
            raise
        if link is None:
            check.failed()
            raise ApiError(
                401, "this sign-in link was used already or has expired: ask for a new one"
            )
        check.succeeded()
        patient_id = link["patient_id"]
        await scrub_spent_link(conn, patient_id, SIGN_IN_MARKER, token, SIGN_IN_USED)
        session = new_token()
        await conn.execute(
            query("patient_app", "create_session"),
            patient_id,
            token_hash(session),
            _device_label(request.headers.get("user-agent", "")),
            now,
            now + SESSION_LIFETIME,
        )
    # The new session works from here even while this address is held for forged cookies (a
    # carrier's NAT that someone else behind it abuses): it was issued here, not guessed.
    failed_credentials.trust(request, "session", token_hash(session))
    response = JSONResponse({"status": "signed_in"})
    set_session_cookie(request, response, session)
    return response


def _device_label(agent: str) -> str:
    """A coarse label for the patient's list of devices (never the whole user agent)."""
    browser = next((b for b in ("Firefox", "Edg", "Chrome", "Safari") if b in agent), "Browser")
    system = next(
        (s for s in ("Android", "iPhone", "iPad", "Windows", "Mac OS", "Linux") if s in agent), ""
    )
    name = {"Edg": "Edge"}.get(browser, browser)
    return f"{name} on {system}" if system else name


async def sign_out(request: Request) -> Response:
    """End this session, or every session of the patient with ``{"everywhere": true}``."""
    patient = await current_patient(request)
    body = await json_body(request)
    everywhere = isinstance(body, dict) and body.get("everywhere") is True
    state = web_state(request)
    if everywhere:
        await state.pool.execute(
            query("patient_app", "revoke_patient_sessions"), patient.patient_id, state.clock()
        )
    else:
        await state.pool.execute(
            query("patient_app", "revoke_session"), patient.session_id, state.clock()
        )
    response = JSONResponse({"status": "signed_out"})
    clear_session_cookie(request, response)
    return response
