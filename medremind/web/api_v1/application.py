"""The ``/api/v1`` application: FastAPI, mounted by :mod:`medremind.web.app` at ``/api/v1``.

Each resource is one module with one ``router`` (see ``docs/api.md`` on adding a route);
:data:`ROUTERS` lists them. The Telegram and Twilio webhooks never come here: they stay plain
Starlette routes of the outer app, behind its lean fast path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import asyncpg
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp

from medremind.web.allowed_methods import MethodTable
from medremind.web.api_v1 import (
    appointments,
    caregivers,
    clinic,
    docs,
    fhir,
    medications,
    message_edit,
    message_groups,
    messages,
    openapi,
    outcomes,
    patients,
    preferences,
    provider_accounts,
    statistics,
    template_preview,
    templates,
    waitlist,
    webhooks_out,
)
from medremind.web.api_v1.check_refusal import check_refusal_response
from medremind.web.api_v1.problems import validation_error_response
from medremind.web.errors import EXCEPTION_HANDLERS, ApiError

ROUTERS = (
    docs.router,
    # Before messages: its /messages/group is no message id.
    message_groups.router,
    messages.router,
    message_edit.router,
    patients.router,
    preferences.router,
    medications.router,
    caregivers.router,
    appointments.router,
    outcomes.router,
    statistics.router,
    waitlist.router,
    webhooks_out.router,
    provider_accounts.router,
    fhir.router,
    template_preview.router,
    templates.router,
    clinic.router,
)


class _Api(FastAPI):
    """FastAPI without its own last-resort 500 page: an unexpected error goes on to the outer
    app's request middleware, which answers JSON with the request id and logs it once."""

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        return stack.app if isinstance(stack, ServerErrorMiddleware) else stack


def build_api(state: Any = None) -> FastAPI:
    """The API app; ``state`` is the outer app's ``WebState`` (None: for the document only)."""
    api = _Api(
        title=openapi.TITLE,
        version=openapi.VERSION,
        # Served by our own routes: the document with full paths, the page with local assets.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        exception_handlers={
            ApiError: EXCEPTION_HANDLERS[ApiError],
            HTTPException: EXCEPTION_HANDLERS[HTTPException],
            RequestValidationError: validation_error_response,
            asyncpg.CheckViolationError: check_refusal_response,
        },
    )
    api.state.web = state
    for router in ROUTERS:
        api.include_router(router)
    document: dict[str, Any] = {}

    @api.get("/openapi.json", include_in_schema=False)
    async def openapi_document(request: Request) -> Response:
        """The document (no key needed: it describes, it reveals nothing); built once."""
        if not document:
            document.update(openapi.generate(api))
        return JSONResponse(document)

    api.state.method_table = MethodTable.of((path, methods) for path, methods, _ in operations(api))
    return api


def operations(api: FastAPI) -> Iterator[tuple[str, frozenset[str], Callable[..., Any]]]:
    """Every route of ``api`` as (path under the mount, methods, endpoint), included routers'
    routes too (FastAPI keeps those behind one entry per router in ``api.routes``)."""
    for route in iter_route_contexts(api.routes):
        if route.path is not None and route.endpoint is not None:
            yield route.path, frozenset(route.methods or ()), route.endpoint


def build_document() -> dict[str, Any]:
    """The OpenAPI document, without a running app (tests and tools)."""
    return openapi.generate(build_api())
