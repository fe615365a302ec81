"""Models every resource shares: the error document, a page of results, the error responses
each kind of operation declares in the OpenAPI document, and the base of request models."""

from __future__ import annotations

import uuid
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from medremind.web.errors import ValidationFailed

T = TypeVar("T")


class RequestModel(BaseModel):
    """A request body or query: a misspelt field is a client bug worth a 422, not ignored."""

    model_config = ConfigDict(extra="forbid")


def patch_fields(body: BaseModel, nullable: frozenset[str]) -> set[str]:
    """The fields a PATCH body gives: 422 for none, and for a null where a value is needed
    (only ``nullable`` fields may be cleared)."""
    given = set(body.model_fields_set)
    if not given:
        raise ValidationFailed("body", "give at least one field to change")
    for name in sorted(given - nullable):
        if getattr(body, name) is None:
            raise ValidationFailed(name, "cannot be null; leave it out to keep it")
    return given


class FieldProblem(BaseModel):
    field: str
    reason: str


class ErrorDetail(BaseModel):
    status: int
    code: str = Field(description="bad_request, unauthorized, not_found, conflict, invalid, ...")
    reason: str = Field(description="What is wrong and what a good request looks like")
    field: str | None = Field(
        None, description="The JSON path (or parameter, or header) at fault, when there is one"
    )
    errors: list[FieldProblem] | None = Field(
        None, description="Every invalid field, when there is more than one"
    )
    existing_id: uuid.UUID | None = Field(
        None,
        description="409 for what is there already (a taken external_id, an appointment booked"
        " again, a MedicationRequest imported again, a URL subscribed, a patient waiting): its"
        " id",
    )


class Error(BaseModel):
    """Every error answer: ``{"error": {"status", "code", "reason", "field"?}}``."""

    error: ErrorDetail


class ApiWarning(BaseModel):
    """Something a create accepted that stands in its way: each resource narrows ``code``."""

    code: str
    field: str = Field(description="The request field it is about")
    message: str = Field(description="What is wrong and how to fix it")


class Page(BaseModel, Generic[T]):
    """A page of a list; ``next_cursor`` fetches the next one (null on the last page)."""

    data: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page")


class DataList(BaseModel, Generic[T]):
    """A whole (short) list."""

    data: list[T]


def _error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"model": Error, "description": description}
    if headers:
        response["headers"] = headers
    return response


# Every operation: a field or parameter can be invalid; a key can be missing or over its rate.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _error("Missing or invalid API key"),
    422: _error("A field is invalid; `error.field` names it, `error.reason` says how to fix it"),
    429: _error(
        "The API key made more requests than MEDREMIND_API_RATE_LIMIT a minute",
        {
            "Retry-After": {
                "description": "Seconds until the key may make another request",
                "schema": {"type": "integer", "minimum": 1},
            }
        },
    ),
}
# Operations that take a JSON body.
BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error(
        "Malformed or hostile JSON (nested deeper than 64, a lone surrogate, NaN or an "
        "out-of-range number); error.field names where when it can"
    ),
    413: _error("Body larger than the route takes (256 KB on /api/v1)"),
    415: _error("Body is not JSON"),
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: _error("Not found in your organization")}
# Operations only an admin's API key may call.
ADMIN_ONLY: dict[int | str, dict[str, Any]] = {
    403: _error("The API key's role is clinician; this needs an admin key")
}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: _error("Conflict with the current state (or an Idempotency-Key reused with another body)")
}
