"""The dashboard's way to pause or resume a patient's reminders: the API's pause, for a clinician.

A clinician on a patient's page pauses their reminders (until a day, for a number of days, or
until resumed) or resumes them. That must be the pause the API's ``PATCH /api/v1/patients/{id}``
makes (:mod:`medremind.web.api_v1.patient_pause`: what is pending withdrawn, the re-plan, the
patient told), and it is Python: the dashboard's server first asks the database, as the
signed-in clinician under RLS, for a one-time token bound to them and to that patient
(``public.issue_pause_token``, migration 20260101018450: null for a patient not of their
clinic), then sends the change here::

    POST /clinic/patients/{patient_id}/pause   Authorization: Bearer <token>
    {"paused": true, "pause_days": 3}            three days from now, at this time of day
    {"paused": true, "pause_until": "2027-03-15"}  until that day begins in the patient's zone
    {"paused": true, "pause_until": null}        until resumed (as {"paused": true} alone on a
                                                 patient not paused)
    {"paused": false}                            resume

The length and the day are read as the patient app and the bot read them
(:mod:`medremind.web.pause_choice`). Answers ``{"reminders_paused", "reminders_paused_until"}``
as they are after the change; 401 for a token unknown, used, expired or for another patient; 404
for a patient erased since; 422 naming the field. Audited as the clinician's.
"""

from __future__ import annotations

import hashlib
import uuid

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.sql import query
from medremind.web import failed_credentials
from medremind.web.api_v1.common import json_body
from medremind.web.api_v1.patient_pause import apply_pause, pause_change
from medremind.web.errors import ApiError, NotFound, ValidationFailed
from medremind.web.pause_choice import PAUSE_END_FIELDS, pause_end
from medremind.web.state import web_state

__all__ = ["ROUTES", "change_pause"]

_FIELDS = frozenset({"paused", *PAUSE_END_FIELDS})


async def _clinician(request: Request, patient_id: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
    """The (organization, clinician) the token was issued to for this patient."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "a pause token is required (Authorization: Bearer <token>)")
    digest = hashlib.sha256(token.strip().encode("utf-8")).hexdigest()
    # Made-up tokens were each a query (a delete), without end: limited per client address as
    # the admin tokens are, a 429 before the query past MEDREMIND_AUTH_FAILURES_PER_CLIENT.
    row = await failed_credentials.checked_lookup(
        request,
        "pause_token",
        lambda: web_state(request).pool.fetchrow(
            query("clinic_pause", "consume_pause_token"), digest, patient_id
        ),
    )
    if row is None:
        raise ApiError(401, "the pause token is unknown, used, expired or for another patient")
    return row["organization_id"], row["clinician_id"]


async def _body(request: Request) -> dict[str, object]:
    body = await json_body(request)  # the API's reading: media type, hostile JSON
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise ValidationFailed(
            unknown[0], "is not a field of a pause: use paused, pause_days or pause_until"
        )
    if not isinstance(body.get("paused"), bool):
        raise ValidationFailed("paused", "must be true (pause) or false (resume)")
    return body


async def change_pause(request: Request) -> Response:
    """Pause or resume the patient as the API's PATCH does; 200 with the pause as it is now."""
    try:
        patient_id = uuid.UUID(request.path_params["patient_id"])
    except ValueError:
        raise NotFound("patient") from None
    org_id, clinician_id = await _clinician(request, patient_id)
    body = await _body(request)
    state = web_state(request)
    now = state.clock()
    async with state.pool.acquire() as conn, conn.transaction():
        # The audit triggers name the clinician (migration 20260101009140), as for the API's key.
        await conn.execute(
            "select set_config('medremind.actor', $1, true)", f"clinician:{clinician_id}"
        )
        before = await conn.fetchrow(query("web", "get_patient"), patient_id, org_id)
        if before is None:
            raise NotFound("patient")
        picked, until = pause_end(body, before["timezone"], now)
        given = {"reminders_paused", *(["reminders_paused_until"] if picked else [])}
        change = pause_change(given, bool(body["paused"]), until, now)
        if change is not None:
            await apply_pause(conn, before, change, now, state.settings)
        after = await conn.fetchrow(query("web", "get_patient"), patient_id, org_id)
    end = after["reminders_paused_until"]
    return JSONResponse(
        {
            "reminders_paused": after["reminders_paused"],
            "reminders_paused_until": end.isoformat() if end is not None else None,
        },
        headers={"Cache-Control": "no-store"},
    )


ROUTES = [Route("/clinic/patients/{patient_id}/pause", change_pause, methods=["POST"])]
