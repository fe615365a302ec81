"""Every error the web app answers is JSON: ``{"error": {"status", "code", "reason", "field"?}}``.

Handlers raise :class:`ApiError` (or a subclass); Starlette's own 404/405 and any unexpected
exception are turned into the same shape here, so a client never has to parse an HTML page.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import get_route_path

from medremind.web.allowed_methods import MethodTable

logger = logging.getLogger(__name__)

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    414: "uri_too_long",
    431: "header_fields_too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


class ApiError(Exception):
    """An error answer: HTTP ``status``, a human ``reason`` and, for 422, the ``field`` at fault."""

    def __init__(
        self,
        status: int,
        reason: str,
        *,
        field: str | None = None,
        code: str = "",
        headers: Mapping[str, str] | None = None,
        details: Mapping[str, Any] | None = None,
    ):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.field = field
        self.code = code or _CODES.get(status, "error")
        self.headers = headers
        # More members of the error object (a 409's ``existing_id``), JSON-ready.
        self.details = details


class ValidationFailed(ApiError):
    """422: ``field`` (a JSON path such as ``patient.phone``) has an unacceptable value."""

    def __init__(self, field: str, reason: str):
        super().__init__(422, reason, field=field)


class AlreadyThere(ApiError):
    """409 for a request that would make again what ``existing`` (an id) is: ``error.existing_id``
    and ``Location: location`` name it, so a client can go on with it."""

    def __init__(self, reason: str, *, field: str, existing: object, location: str):
        super().__init__(
            409,
            reason,
            field=field,
            details={"existing_id": str(existing)},
            headers={"Location": location},
        )


class NotFound(ApiError):
    """404: the thing does not exist, or belongs to another organization (indistinguishable)."""

    def __init__(self, what: str):
        super().__init__(404, f"{what} not found")


def error_body(
    status: int,
    reason: str,
    *,
    field: str | None = None,
    code: str = "",
    details: Mapping[str, Any] | None = None,
) -> dict:
    """The JSON document of an error answer."""
    error: dict[str, Any] = {
        "status": status,
        "code": code or _CODES.get(status, "error"),
        "reason": reason,
    }
    if field is not None:
        error["field"] = field
    if details:
        error.update(details)
    return {"error": error}


def error_response(
    status: int, reason: str, *, field: str | None = None, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """A JSON error response."""
    return JSONResponse(
        error_body(status, reason, field=field), status_code=status, headers=headers
    )


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    body = error_body(exc.status, exc.reason, field=exc.field, code=exc.code, details=exc.details)
    return JSONResponse(body, status_code=exc.status, headers=exc.headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    reason = exc.detail if isinstance(exc.detail, str) else _CODES.get(exc.status_code, "error")
    if exc.status_code == 404:
        reason = "no such resource"
    elif exc.status_code == 405:
        return _method_not_allowed(request, exc)
    return error_response(exc.status_code, reason, headers=exc.headers)


def _method_not_allowed(request: Request, exc: HTTPException) -> Response:
    # Starlette's Allow names the first matching route's methods only; the app's table (set by
    # its factory) knows every route at the path. OPTIONS is answered here: no route takes it.
    headers = dict(exc.headers or {})
    table = getattr(request.app.state, "method_table", None)
    if isinstance(table, MethodTable):
        allowed = table.allowed(get_route_path(request.scope))
        if allowed:
            headers["Allow"] = ", ".join(allowed)
            if request.method == "OPTIONS":
                return Response(status_code=204, headers=headers)
    reason = f"method {request.method} not allowed here; use {headers.get('Allow', 'another')}"
    return error_response(405, reason, headers=headers)


async def _unexpected(request: Request, exc: Exception) -> Response:
    # The traceback goes through the redaction filter like every other log record.
    logger.exception("unhandled error", extra={"error_type": type(exc).__name__})
    return error_response(500, "internal error; the request id identifies it in the logs")


EXCEPTION_HANDLERS = {
    ApiError: _api_error,
    HTTPException: _http_error,
    Exception: _unexpected,
}
