"""The cap on a clinic's messages per patient, as the API answers it (docs/api.md, "A cap per
patient").

A trigger on ``scheduled_messages`` (migration 20260101018340) counts a clinic's messages to the
patient created in the last hour and the last 24 hours, after locking the patient's row, so two
web processes creating at once cannot both pass it; past the cap it raises SQLSTATE ``MR429``
with the reason as its message and the window, limit and retry time as its JSON detail. The
API's creates turn that into a 429 with ``Retry-After``; a group message leaves such members
out beforehand (``public.clinic_message_refusal``) and names them. Under the same lock the
trigger refuses the message of a patient erased meanwhile (migration 20260101018810): a 422 on
``patient_id``, as for any patient not (or no longer) the clinic's.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from medremind.web.errors import ApiError, ValidationFailed

CAP_STATE = "MR429"
CODE = "patient_message_cap"
# The trigger's refusal of a message to a patient erased while it was being created.
ERASED = "scheduled_messages_patient_erased"


def cap_error(error: asyncpg.PostgresError) -> ApiError | None:
    """The API's 429 for the trigger's refusal, or None for any other database error."""
    if getattr(error, "sqlstate", None) != CAP_STATE:
        return None
    detail: dict[str, Any] = json.loads(getattr(error, "detail", None) or "{}")
    retry_after = int(detail.get("retry_after", 60))
    return ApiError(
        429,
        f"{getattr(error, 'message', '')}. The limit is per patient, over every message your"
        " clinic creates for them (this API and the dashboard); GET /api/v1/messages?patient_id="
        " lists them, POST /api/v1/messages/{id}/cancel frees a place",
        field="patient_id",
        code=CODE,
        headers={"Retry-After": str(retry_after)},
        details={
            "window": detail.get("window"),
            "limit": detail.get("limit"),
            "setting": detail.get("setting"),
            "retry_at": detail.get("retry_at"),
        },
    )


@asynccontextmanager
async def capped() -> AsyncIterator[None]:
    """Inside it, the cap trigger's refusal is raised as the API's 429 (:func:`cap_error`), and
    its refusal of an erased patient as the 422 of a patient not the clinic's."""
    try:
        yield
    except asyncpg.PostgresError as error:
        if getattr(error, "constraint_name", None) == ERASED:
            raise ValidationFailed(
                "patient_id",
                "no such patient in your organization: erased while the message was being"
                " created; nothing was created",
            ) from None
        refusal = cap_error(error)
        if refusal is None:
            raise
        raise refusal from None


def refusal_message(row: asyncpg.Record) -> str:
    """A group member's reason, from the members query's ``cap_*`` columns
    (``public.clinic_message_refusal``)."""
    words = "hour" if row["cap_window"] == "hour" else "24 hours"
    return (
        f"already has {row['message_limit']} messages from your clinic created in the last"
        f" {words}, the most one patient may be given ({row['setting']}): given nothing. Another"
        f" can be created from {row['retry_at'].isoformat()}, or once one of them is cancelled"
    )
