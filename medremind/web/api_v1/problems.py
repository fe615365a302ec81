"""FastAPI's validation errors in the API's own error shape.

FastAPI checks requests against the pydantic models and raises ``RequestValidationError`` with
pydantic's error list. :func:`validation_error_response` answers it as every other error of the
app (:mod:`medremind.web.errors`): ``{"error": {"status": 422, "code": "invalid", "reason",
"field"}}`` where ``field`` is the JSON path the client wrote (``channel_order[1]``,
``variables.a``) and ``reason`` says what a good value is; when several fields are wrong, they
are listed in ``error.errors`` (the first :data:`MAX_LISTED`, then how many more). A malformed
UUID in the path is a resource that does not exist (404), as it always was.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi.exceptions import RequestValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from core import near_miss
from medremind.web.api_v1.known_names import VALIDATOR_LAYERS, known_names
from medremind.web.errors import error_body


def json_path(loc: Sequence[Any]) -> str:
    """``("body", "channel_order", 1)`` -> ``channel_order[1]``; the source part goes."""
    parts = list(loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc)
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif not isinstance(part, str) or part.startswith(VALIDATOR_LAYERS):
            continue  # pydantic's names for validator layers, not the client's
        else:
            path = f"{path}.{part}" if path else part
    return path or "body"


# A Telegram chat cannot be given to the API (hostile input: a chat id reaches whoever's chat it
# is, migration 20260101012700): a body field that names one is answered with how to link it.
TELEGRAM_LINKED_BY_PATIENT = (
    "a Telegram chat cannot be given: the patient links their own chat. Create the patient"
    " (with phone or email, or neither), then make an invite (POST"
    " /api/v1/patients/{id}/invites) and have the patient open its link in Telegram; their chat"
    " is then linked to the record"
)
CONTACTS_FROM_PHONE_AND_EMAIL = (
    "contact points are not given as a list: they follow from phone and email; "
    + TELEGRAM_LINKED_BY_PATIENT
)


def telegram_field_reason(name: str, known: Sequence[str]) -> str | None:
    """The reason for an unknown body field that names a Telegram chat (``telegram``,
    ``telegram_chat_id``, ``chat_id``) or a list of contacts, unless it is a near miss of a
    known field (``telegram_paid_stars_montly``); None for any other."""
    folded = "".join(ch for ch in name.lower() if ch.isalnum())
    close = near_miss.close_matches(name, known)
    if "telegram" in folded:
        # telegram_id is no misspelt external_id; telegram_paid_stars_montly is a known one's.
        return None if any("telegram" in k for k in close) else TELEGRAM_LINKED_BY_PATIENT
    if close:
        return None
    if "chat" in folded:
        return TELEGRAM_LINKED_BY_PATIENT
    if folded in ("contacts", "contactpoints"):
        return CONTACTS_FROM_PHONE_AND_EMAIL
    return None


def _bounds(ctx: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in ctx.items() if k != "error")


def reason_of(error: Mapping[str, Any], known: Sequence[str] = ()) -> str:
    """A sentence for one pydantic error saying what a good value is; for an unknown field or
    parameter, which of ``known`` (the names beside it) was probably meant."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    source = error.get("loc", ("body",))[0]
    reasons = {
        "missing": "is required",
        "extra_forbidden": "unknown query parameter" if source == "query" else "unknown field",
        "string_type": "must be a string",
        # Text fields are trimmed first: "   " reached the client as "must be at least 1
        # character(s)", which it had three of.
        "string_too_short": "must not be empty (spaces alone are empty)"
        if ctx.get("min_length") == 1
        else f"must be at least {ctx.get('min_length')} characters",
        "string_too_long": f"must be at most {ctx.get('max_length')} characters",
        "string_pattern_mismatch": f"must match the pattern {ctx.get('pattern')}",
        "int_type": "must be an integer",
        "int_parsing": "must be an integer",
        "int_from_float": "must be a whole number",
        "bool_type": "must be true or false",
        "bool_parsing": "must be true or false",
        "greater_than_equal": f"must be at least {ctx.get('ge')}",
        "greater_than": f"must be greater than {ctx.get('gt')}",
        "less_than_equal": f"must be at most {ctx.get('le')}",
        "less_than": f"must be less than {ctx.get('lt')}",
        "literal_error": f"must be one of {ctx.get('expected', '').replace(chr(39), '')}",
        "enum": f"must be one of {ctx.get('expected', '').replace(chr(39), '')}",
        "uuid_type": "must be a UUID string",
        "uuid_parsing": "must be a UUID such as 6f1c3a52-0d8e-4c1a-9a53-2f1b5a6e7d90",
        "date_from_datetime_parsing": "must be a date as YYYY-MM-DD",
        "date_parsing": "must be a date as YYYY-MM-DD",
        "date_type": "must be a date as YYYY-MM-DD",
        "datetime_parsing": "must be an ISO 8601 date-time such as 2026-03-01T08:00:00Z",
        "datetime_type": "must be an ISO 8601 date-time such as 2026-03-01T08:00:00Z",
        "list_type": "must be a list",
        "too_short": f"must have at least {ctx.get('min_length')} item(s)",
        "too_long": f"must have at most {ctx.get('max_length')} item(s)",
        "dict_type": "must be a JSON object",
        "model_type": "must be a JSON object",
        "model_attributes_type": "must be a JSON object",
        "float_type": "must be a number",
        "float_parsing": "must be a number",
        "finite_number": "must be a finite number",
    }
    if kind == "extra_forbidden":
        name = str(error.get("loc", ("",))[-1])
        what = "query parameter" if source == "query" else "field"
        telegram = telegram_field_reason(name, known) if source == "body" else None
        if telegram is not None:
            return telegram
        return reasons[kind] + near_miss.hint(name, known, what=what)
    if kind in ("literal_error", "enum") and isinstance(error.get("input"), str):
        # A value close to an allowed one ("medication" for "medication_reminder").
        allowed = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        found = near_miss.close_matches(error["input"], allowed)
        if found:
            return reasons[kind] + "; did you mean " + " or ".join(found) + "?"
    if kind in reasons:
        return reasons[kind]
    message = str(error.get("msg", "is invalid"))
    # pydantic prefixes a validator's ValueError; the rest is our sentence.
    return message.removeprefix("Value error, ") or (_bounds(ctx) or "is invalid")


# Problems listed in one answer. A body of 15,000 unknown fields (229 kB, under the size cap)
# was answered with every one and its near-miss hint: 2.8 MB and seconds of CPU per request.
MAX_LISTED = 20


def malformed_id_reason(what: str) -> str:
    """The 404's reason for an id in the path that no id of this API can be: still a 404 (no
    such thing exists), but one saying so, where "patient not found" alone read as an id of
    another clinic (an integrator's own id sent in the path, a variable never filled in)."""
    reason = (
        f"{what} not found: the id in the path is not one this API gives out, which are UUIDs"
        " such as 6f1c3a52-0d8e-4c1a-9a53-2f1b5a6e7d90 (the `id` of the answer that created it)"
    )
    if what == "patient":
        reason += "; to find a patient by your own system's id, use GET /api/v1/patients?q=<it>"
    return reason


def field_of(error: Mapping[str, Any]) -> str:
    """The JSON path of one error (an item a validator named by index included)."""
    path = json_path(error.get("loc", ()))
    index = (error.get("ctx") or {}).get("index")
    return f"{path}[{index}]" if isinstance(index, int) else path


async def validation_error_response(request: Request, exc: Exception) -> Response:
    """The 422 (or, for a malformed id in the path, 404) answer to a ``RequestValidationError``."""
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    for error in errors:
        loc = error.get("loc", ())
        if loc and loc[0] == "path" and str(error.get("type", "")).startswith("uuid"):
            name = str(loc[-1]).removesuffix("_id").replace("_", " ")
            what = "waitlist entry" if name == "entry" else name
            return JSONResponse(error_body(404, malformed_id_reason(what)), status_code=404)
    route = request.scope.get("route")
    problems = [
        {"field": field_of(e), "reason": reason_of(e, known_names(route, e.get("loc", ())))}
        for e in errors[:MAX_LISTED]
    ] or [{"field": "body", "reason": "is invalid"}]
    if len(errors) > MAX_LISTED:
        problems.append(
            {
                "field": "body",
                "reason": f"and {len(errors) - MAX_LISTED} more problems, not listed: fix these"
                " and send it again",
            }
        )
    body = error_body(422, problems[0]["reason"], field=problems[0]["field"])
    if len(problems) > 1:
        body["error"]["errors"] = problems
    return JSONResponse(body, status_code=422)
