"""The database's check violations a client's request can cause, as the API's 422s.

A route checks what it writes first and names the field as the request spells it; the database
holds the same rules for every writer, and its refusal reaches the API only from a path that
did not check (found: a FHIR Appointment's Location display with a line break, a 500). Each
known refusal is a 422 naming the column: a patient erased meanwhile
(:mod:`medremind.web.api_v1.erased_refusal`), a one-line name holding a line break
(:mod:`core.one_line`). Any other check violation is raised on, to the app's handler of
unexpected errors (a 500, logged).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from core.one_line import refused_column
from medremind.web.api_v1.erased_refusal import erased_refusal_response
from medremind.web.errors import error_response


async def check_refusal_response(request: Request, exc: Exception) -> Response:
    """The 422 for a check violation the request caused (see the module)."""
    column = refused_column(exc)
    if column is not None:
        return error_response(
            422,
            "holds a line break or control character: a name is one line of visible text;"
            " type it on one line; nothing was written",
            field=column,
        )
    return await erased_refusal_response(request, exc)
