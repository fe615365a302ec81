"""``PATCH /api/v1/messages/{id}``: change the text or the time of a message the clinic wrote.

The same edit as the dashboard's (``public.edit_scheduled_message``, migration 20260101018500):
a pending message, or one a worker claimed ahead of its time (before a forecast peak) until a
second before that time. Never both versions sent, never sent at the old time after a move: the
edit releases the worker's lease, so the worker drops the copy it holds and the row is claimed
again as edited (docs/delivery.md, "Claimed ahead"). Later it is a 409 saying it is being sent,
as a cancel then is.

Only a message the clinic wrote (``POST /messages``, a group message, the dashboard's Compose:
``from_clinic``); the service's own reminders follow their schedules and appointments, which are
what a clinic changes instead. A change is no new message: the cap per patient counts it once,
when it was created.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import asyncpg
from pydantic import Field

from core.logs import mark_sensitive
from core.message_limits import channel_limit_problem
from core.sql import query
from medremind.web.api_v1.common import Org, State, acting
from medremind.web.api_v1.fields import IsoDateTime, MessageText, not_past
from medremind.web.api_v1.message_reach import check_edit_reach, reach_of_message
from medremind.web.api_v1.message_values import TEXT_KINDS
from medremind.web.api_v1.messages import CreatedMessage, message_json, not_pending
from medremind.web.api_v1.models import BODY_ERRORS, CONFLICT, NOT_FOUND, RequestModel, patch_fields
from medremind.web.api_v1.quiet_warning import quiet_hours_warning
from medremind.web.api_v1.routing import router as new_router
from medremind.web.errors import ApiError, NotFound, ValidationFailed

router = new_router("messages")


class MessageUpdate(RequestModel):
    """Only what is given changes."""

    text: MessageText | None = Field(
        None, description="The new text, for a message sent as written (not from a template)"
    )
    scheduled_time: IsoDateTime | None = Field(
        None, description="The new time; not in the past, before the message's `expires_at`"
    )


@router.patch(
    "/messages/{message_id}",
    response_model=CreatedMessage,
    summary="Change the text or the time of a message your clinic wrote",
    operation_id="updateMessage",
    responses={**BODY_ERRORS, **NOT_FOUND, **CONFLICT},
)
async def update_message(
    message_id: uuid.UUID, body: MessageUpdate, org_id: Org, state: State
) -> Any:
    """The message as changed, with the `quiet_hours` warning of a new time the patient's quiet
    hours hold. A message still pending can be changed, as can one a worker claimed ahead of its
    time (before a peak) until a second before that time; the worker then sends only the new
    version, at the new time. 409 once it is being sent, or when it is no longer pending. As at
    its create, a message no channel of the patient reaches now (STOP on each, a blocked chat,
    no contact point) is a 422 on `scheduled_time` when due within 15 minutes after the change
    (it would fail unsent at once); due later it is changed with a `patient_unreachable`
    warning."""
    patch_fields(body, frozenset())
    now = state.clock()
    scheduled = not_past(body.scheduled_time, "scheduled_time", now)
    mark_sensitive(body.text)  # a message's text never reaches a log line
    async with acting(state.pool) as conn:
        current = await conn.fetchrow(query("web", "get_message"), message_id, org_id)
        if current is None:
            raise NotFound("message")
        _check_change(current, body.text, scheduled, state.settings.sms_max_segments)
        row = await conn.fetchrow(
            query("web", "edit_message"), message_id, org_id, body.text, scheduled
        )
        if row is None:
            current = await conn.fetchrow(query("web", "get_message"), message_id, org_id)
            if current is None:  # erased with its patient meanwhile
                raise NotFound("message")
            raise ApiError(409, not_pending(current, "change", "changed"))
        # After the edit, which decides whether it is still time (409): a refusal here rolls the
        # edit back with the transaction.
        warnings = await _reach_warnings(conn, row, org_id, moved=scheduled is not None, now=now)
        if scheduled is not None:
            quiet = await quiet_hours_warning(
                conn,
                state.settings,
                patient_id=row["patient_id"],
                org_id=org_id,
                kind=row["kind"],
                urgent=row["urgent"],
                due=scheduled,
            )
            if quiet is not None:
                warnings.append(quiet[0])
    return {**message_json(row), "warnings": warnings}


async def _reach_warnings(
    conn: asyncpg.Connection,
    message: Mapping[str, Any],
    org_id: uuid.UUID,
    *,
    moved: bool,
    now: datetime,
) -> list[dict[str, str]]:
    """The create's reach rule (``public.message_reach``) at the changed message's time, on its
    own platform and fallback: the patient may have sent STOP since it was created. A message to
    a caregiver goes to the caregiver's address: not the patient's channels."""
    if message["caregiver_id"] is not None:
        return []
    reach = await reach_of_message(conn, message, org_id, message["scheduled_time"], now)
    return check_edit_reach(message["platform"], reach, moved=moved)


def _check_change(
    current: Mapping[str, Any], text: str | None, scheduled: datetime | None, max_segments: int
) -> None:
    """Refuse what the message cannot become, naming the field (the edit itself decides
    whether it is still time)."""
    if not current["from_clinic"]:
        raise ApiError(
            409,
            f"only a message your clinic wrote can be changed; this one is the service's"
            f" {current['kind']} (change its schedule or appointment instead, or cancel it)",
        )
    if text is not None and (current["kind"] not in TEXT_KINDS or current["template"]):
        raise ValidationFailed(
            "text",
            "this message is written by its template when it is sent: it has no text of its"
            " own to change. Cancel it and create one with `text`",
        )
    if text is not None and current["platform"] != "auto":
        problem = channel_limit_problem(current["platform"], text, sms_max_segments=max_segments)
        if problem is not None:
            raise ValidationFailed("text", f"too long for {current['platform']}: {problem}")
    expires = current["expires_at"]
    if scheduled is not None and expires is not None and scheduled >= expires:
        raise ValidationFailed(
            "scheduled_time",
            f"must be before the message's expires_at ({expires.isoformat()}): it would expire"
            " unsent. Cancel it and create one with a later expires_at",
        )
