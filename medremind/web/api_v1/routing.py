"""The route class of every ``/api/v1`` operation, and :func:`router` to make a resource's router.

FastAPI reads and parses a request body with the standard library before it resolves any
dependency. :class:`ApiRoute` keeps the order and the safety the API had before FastAPI:

0. a header that takes one value (``Authorization``, ``Idempotency-Key``, ``Content-Type``)
   given twice is a 422 naming it;
1. the API key first (401/429 before the body is even read, so a client without a valid key, or
   over its rate, costs us no body parsing), and its role where the operation is an admin's
   (403);
2. the query: a NUL in a parameter's value is a 422 naming it (PostgreSQL's text holds none), so
   is a parameter given twice (each takes one value) and any parameter of an operation that takes
   none (unknown ones of the others: their models);
3. the body through :func:`medremind.web.json_input.decode` (415 for another media type, 413 past
   the streaming cap, 400 for deep nesting, lone surrogates or out-of-range numbers, 422 for a
   NUL), handed to FastAPI already parsed, so pydantic validates a value that is safe to store;
4. then FastAPI: the models, the handler, the response model.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from medremind.web.api_v1.common import (
    admin_organization,
    authenticated_admin,
    authenticated_organization,
    json_body,
    organization,
    refuse_bad_query,
    refuse_repeated_headers,
)
from medremind.web.api_v1.known_names import query_names
from medremind.web.api_v1.models import ADMIN_ONLY, ERROR_RESPONSES
from medremind.web.errors import ValidationFailed


def _needs(dependant: Dependant, call: Callable[..., Any]) -> bool:
    return dependant.call is call or any(_needs(d, call) for d in dependant.dependencies)


class ApiRoute(APIRoute):
    """An operation: key checked first, then the body decoded safely, then FastAPI's handler."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        authenticated = _needs(self.dependant, organization)
        admin_only = _needs(self.dependant, admin_organization)
        body_field = self.body_field
        body_required = body_field is not None and body_field.field_info.is_required()
        # An operation with no query parameter would ignore any: `GET /waitlist?status=waiting`
        # answered the whole list as if filtered. Those with some refuse unknown ones (models).
        takes_query = any(query_names(self.dependant))

        async def guarded(request: Request) -> Response:
            refuse_repeated_headers(request)
            if admin_only:
                await authenticated_admin(request)
            elif authenticated:
                await authenticated_organization(request)
            refuse_bad_query(request)
            if not takes_query and request.query_params:
                first = next(iter(request.query_params))
                raise ValidationFailed(first, "unknown query parameter; this operation takes none")
            if body_field is not None:
                raw = await request.body()
                if body_required or raw.strip():
                    # Cached where Request.json() looks, so FastAPI takes this value as it is.
                    request._json = await json_body(request)
                else:
                    request._body = b""  # an optional body left out (whitespace included)
            return await handler(request)

        return guarded


def router(tag: str, *, admin: bool = False) -> APIRouter:
    """A resource's router: its operations grouped under ``tag`` in the document; ``admin``
    when every operation takes ``AdminOrg`` (documents the 403)."""
    responses = {**ERROR_RESPONSES, **(ADMIN_ONLY if admin else {})}
    return APIRouter(route_class=ApiRoute, tags=[tag], responses=responses)
