"""Building blocks of the hand-written OpenAPI document: references, bodies, error responses.

Shared by :mod:`medremind.web.api_v1.openapi` and :mod:`medremind.web.api_v1.openapi_clinic_ops`,
which adds its paths to that document (so neither imports the other back).
"""

from __future__ import annotations

from typing import Any


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {
        400: "Malformed JSON",
        401: "Missing or invalid API key",
        404: "Not found in your organization",
        409: "Conflict with the current state (or an Idempotency-Key reused with another body)",
        413: "Body too large",
        415: "Body is not application/json",
        422: "A field is invalid; `error.field` names it",
        429: "The API key is over its rate limit; `Retry-After` says when to retry",
    }
    # Every operation that takes a key may be rate limited.
    codes = (*codes, 429) if 401 in codes else codes
    return {str(c): {"$ref": f"#/components/responses/E{c}"} for c in codes if c in text}


_UUID = {"type": "string", "format": "uuid"}
_TIME = {"type": "string", "format": "date-time"}
_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
_ID_PARAM = {"in": "path", "required": True, "schema": _UUID}
_IDEMPOTENCY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Repeat a create safely: the same key and body return the first response.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}
_BODY_ERRORS = (400, 401, 409, 413, 415, 422)


def _body(schema: dict[str, Any], media: str = "application/json") -> dict[str, Any]:
    return {"required": True, "content": {media: {"schema": schema}}}
