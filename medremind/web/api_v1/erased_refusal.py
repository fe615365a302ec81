"""The database's refusal of a row written for a patient being erased, as the API's 422.

Every table that points at a patient refuses a row written for one whose erasure committed while
the write waited for their row (migration 20260101018950: ``<table>_patient_erased``). The
routes that book or message check the patient under that lock themselves and answer before; any
other route's write (a FHIR MedicationRequest, a medicine's schedule) met the refusal as an
unexpected error, a 500. The clinic's answer is the one for a patient not theirs: nothing was
written, and the patient is gone.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from core.erased_rows import is_erased_refusal
from medremind.web.errors import error_response


async def erased_refusal_response(request: Request, exc: Exception) -> Response:
    """The 422 for :func:`is_erased_refusal`; any other check violation is raised on, to the
    app's handler of unexpected errors (a 500, logged)."""
    if not is_erased_refusal(exc):
        raise exc
    # FHIR resources name their patient as the subject; the REST routes as patient_id.
    field = "subject" if "/fhir/" in request.url.path else "patient_id"
    return error_response(
        422,
        "no such patient in your organization: erased while this request was being written;"
        " nothing was written",
        field=field,
    )
