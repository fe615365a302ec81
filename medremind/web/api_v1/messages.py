"""``/api/v1/messages``: create, list, get, cancel and re-send scheduled messages of the caller's
clinic.

A created row is all the worker needs to send: it is a ``scheduled_messages`` row like those the
planner and the dashboard insert. A re-send (:mod:`core.resend`) is a new pending copy of a failed
message; the failed one keeps its status and delivery attempts.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

import asyncpg
from fastapi import Query, Response
from pydantic import BaseModel, Field, StrictBool, StrictInt

from core.logs import mark_sensitive
from core.message_limits import channel_limit_problem
from core.resend import ResendOutcome, resend_message
from core.sql import query
from medremind.web.api_v1 import templates as t
from medremind.web.api_v1.common import Org, State, acting, row_dict
from medremind.web.api_v1.fields import (
    IsoDateTime,
    Kind,
    MessageStatusName,
    MessageText,
    Platform,
    QueryInt,
    Trimmed,
    not_past,
)
from medremind.web.api_v1.idempotency import Idempotent
from medremind.web.api_v1.message_reach import (
    check_consent,
    check_length,
    check_reach,
    reach_of_message,
)
from medremind.web.api_v1.message_values import TEXT_KINDS, check_builtin_values, template_values
from medremind.web.api_v1.models import (
    BODY_ERRORS,
    CONFLICT,
    NOT_FOUND,
    ApiWarning,
    Page,
    RequestModel,
)
from medremind.web.api_v1.pagination import Cursor, decode_cursor, page
from medremind.web.api_v1.patient_cap import capped
from medremind.web.api_v1.priority_share import (
    DEFAULT_PRIORITY,
    TIME_CRITICAL,
    resend_share_warning,
    share_priority,
)
from medremind.web.api_v1.quiet_warning import quiet_hours_warning
from medremind.web.api_v1.routing import router as new_router
from medremind.web.errors import ApiError, NotFound, ValidationFailed

router = new_router("messages")

MAX_PAGE = 200
DEFAULT_LIMIT = 50
OUTPUT_FIELDS = (
    "id",
    "patient_id",
    "appointment_id",
    "status",
    "platform",
    "kind",
    "template",
    "scheduled_time",
    "expires_at",
    "priority",
    "urgent",
    "allow_fallback",
    "attempts",
    "last_error",
    "sent_at",
    "delivered_at",
    "channel_used",
    "via_outbox",
    "resent_from",
    "created_at",
    "updated_at",
)
Variables = Annotated[
    dict[Annotated[str, Field(max_length=64)], Annotated[str, Field(max_length=1000)]],
    Field(max_length=50),
]


class MessageCreate(RequestModel):
    """Give exactly one of `text` and `template`; `variables` only with `template`."""

    patient_id: uuid.UUID
    text: MessageText | None = None
    template: Annotated[str, Trimmed, Field(min_length=1, max_length=100)] | None = Field(
        None,
        description=(
            "A template of your organization (PUT /api/v1/templates/{name}), validated for "
            "`kind` now, or a built-in kind's name; 422 otherwise."
        ),
    )
    kind: Kind = "free_text"
    variables: Variables | None = Field(
        None,
        description=(
            "Values for the template's variables (body, sender_name, patient_name, clinic_name,"
            " clinic_phone, clinician_name, caregiver_name, location, due_at, starts_at,"
            " previous_starts_at, refill_by, doses_left; *_at as ISO 8601 with offset). A"
            " built-in template's required ones are checked now (422 naming the missing one)."
            " Only with `template`, not with `text`: a text is sent as it is (422)."
        ),
    )
    platform: Platform = Field(
        "auto",
        description=(
            "`auto`: the patient's channel for the message's category, then their channel order."
            " A channel: only that one (422 when the patient has no contact point there that may"
            " be written to), unless `allow_fallback`."
        ),
    )
    allow_fallback: StrictBool | None = Field(
        None,
        description=(
            "With an explicit `platform`: when it fails (or the patient cannot be reached there),"
            " go on to the patient's other channels in their order. Default false; `auto` always"
            " does."
        ),
    )
    scheduled_time: IsoDateTime | None = Field(None, description="Default now; not in the past.")
    expires_at: IsoDateTime | None = Field(
        None, description="After scheduled_time; not in the past."
    )
    priority: Annotated[StrictInt, Field(ge=0, le=9)] = Field(
        DEFAULT_PRIORITY,
        description=(
            "Lower goes first: 0 is the time-critical level (time-critical doses' reminders, the"
            " bot's replies), ahead of every clinic's dose reminders (1). A clinic may schedule"
            " MEDREMIND_API_PRIORITY_ZERO_PER_HOUR messages at 0 per hour (UTC) they go in"
            " (100 by default); past that a message is accepted at 5 with a `priority_share`"
            " warning"
        ),
    )
    urgent: StrictBool = False
    category: Literal["clinic_news"] | None = Field(
        None,
        description=(
            "`clinic_news` marks a free_text message as clinic news: a patient who opted out of "
            "clinic news (GET /api/v1/patients/{id}/preferences) does not receive it."
        ),
    )


class Message(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    appointment_id: uuid.UUID | None = Field(
        None, description="The appointment a confirmation, reminder or notice is about"
    )
    status: MessageStatusName
    platform: str
    kind: str
    template: str | None = None
    text: str | None = None
    variables: dict[str, str] = {}
    scheduled_time: datetime
    expires_at: datetime | None = None
    priority: int
    urgent: bool
    allow_fallback: bool = Field(
        description="Whether the patient's other channels may carry it (always for `auto`)"
    )
    attempts: int
    last_error: str | None = None
    sent_at: datetime | None = None
    delivered_at: datetime | None = None
    channel_used: str | None = None
    via_outbox: bool = Field(
        False,
        description=(
            "Written to the outbox folder instead of a provider (a channel without credentials, "
            "only with MEDREMIND_OUTBOX_ENABLED): `sent`, but nobody received it."
        ),
    )
    resent_from: uuid.UUID | None = Field(
        None, description="The failed message this one re-sends (POST .../resend)."
    )
    created_at: datetime
    updated_at: datetime


class MessageWarning(ApiWarning):
    code: Literal["patient_unreachable", "quiet_hours", "priority_share"] = Field(
        description=(
            "`patient_unreachable`: no channel the message may take reaches the patient now"
            " (each contact point opted out, blocked or inactive, or none); it was accepted"
            " because it is due later, and fails unsent when due unless they can be reached"
            " by then. `quiet_hours`: the patient's quiet hours (their own, else the clinic's)"
            " hold its time; it is sent when they end (the message names the instant), unless"
            " `urgent`. `priority_share`: your clinic's priority-0 messages for that hour are"
            " taken; it was accepted at priority 5 (the message names the hour and the share)"
        )
    )


class CreatedMessage(Message):
    warnings: list[MessageWarning] = Field(
        [],
        description=(
            "Accepted, but something stands in the way of its delivery (the answer to the"
            " create; a replay of the same Idempotency-Key repeats them)"
        ),
    )


# The channels a clinic's message can go out on; not `console` (medremind dev's terminal, which
# the API takes nowhere else either).
MessageChannel = Literal["telegram", "whatsapp", "sms", "email", "webpush", "websocket", "auto"]


class MessageFilter(RequestModel):
    status: MessageStatusName | None = None
    patient_id: uuid.UUID | None = None
    appointment_id: uuid.UUID | None = None
    kind: Kind | None = None
    channel: MessageChannel | None = Field(
        None,
        description=(
            "The channel it went out on; for a message not sent yet, the one asked for "
            "(auto: the patient's channel order)"
        ),
    )
    from_: IsoDateTime | None = Field(None, alias="from", description="Scheduled at or after")
    to: IsoDateTime | None = Field(None, description="Scheduled before")
    limit: QueryInt = Field(DEFAULT_LIMIT, ge=1, le=MAX_PAGE, description="Rows per page")
    cursor: str | None = Cursor


def message_json(row: Mapping[str, Any]) -> dict[str, Any]:
    """A message as the API shows it (``text`` is ``message_content``)."""
    data = row_dict(row, OUTPUT_FIELDS)
    data["text"] = row["message_content"]
    data["variables"] = row["payload"].get("variables", {}) if row["payload"] else {}
    return data


@router.post(
    "/messages",
    status_code=201,
    response_model=CreatedMessage,
    summary="Schedule a message for a patient",
    operation_id="createMessage",
    responses={**BODY_ERRORS, **CONFLICT},
)
async def create_message(
    body: MessageCreate,
    org_id: Org,
    state: State,
    once: Idempotent,
) -> Any:
    """Created (or, for a repeated `Idempotency-Key`, the first response again). A message that
    no channel of the patient reaches now (STOP on each, a blocked chat, no contact point) is a
    409 when due within 15 minutes (it would fail unsent at once); due later it is created, with
    a `patient_unreachable` warning (they may reply START meanwhile). Past your clinic's
    messages for the patient (MEDREMIND_CLINIC_MESSAGES_PER_PATIENT_HOUR, 5 in the last hour, and
    _DAY, 10 in the last 24 hours, by default): 429 with Retry-After, nothing created."""
    if (body.text is None) == (body.template is None):
        raise ValidationFailed("text", "give exactly one of text or template")
    if body.text is not None and body.variables:
        # They would be stored and shown back, and never used: say so rather than drop them.
        raise ValidationFailed(
            "variables",
            "a `text` is sent as it is and uses no variables: leave `variables` out, or give"
            " `template` (your own, PUT /api/v1/templates/{name}, or `free_text` with"
            " `variables.body`) instead of `text`",
        )
    now = state.clock()
    scheduled = not_past(body.scheduled_time, "scheduled_time", now) or now
    expires = not_past(body.expires_at, "expires_at", now)
    if expires is not None and expires <= scheduled:
        raise ValidationFailed("expires_at", "must be after scheduled_time")
    if body.text is not None and body.kind not in TEXT_KINDS:
        raise ValidationFailed(
            "kind",
            f"a `text` is sent as it is only as free_text or system; a {body.kind} message is"
            " written by its template: leave `kind` out, or give `template` (and `variables`)",
        )
    if body.category is not None and body.kind != "free_text":
        raise ValidationFailed("category", "only a free_text message can be clinic news")
    if body.platform == "auto" and body.allow_fallback is False:
        raise ValidationFailed(
            "allow_fallback",
            "`auto` always tries the patient's channels in order; give a platform to send on"
            " that channel only",
        )
    fallback = body.platform == "auto" or bool(body.allow_fallback)
    if body.text is not None and body.platform != "auto":
        # The adapter would refuse it at send time (the dashboard refuses it too): say so now.
        problem = channel_limit_problem(
            body.platform, body.text, sms_max_segments=state.settings.sms_max_segments
        )
        if problem is not None:
            raise ValidationFailed("text", f"too long for {body.platform}: {problem}")
    variables = body.variables or {}
    values = template_values(variables)
    # The worker reads a template's values from the payload's top level; "variables" keeps what
    # the client sent for the answers of this API.
    payload: dict[str, Any] = {**variables, "variables": variables} if variables else {}
    if body.category is not None:
        payload["category"] = body.category
    # Message bodies never reach a log line, whatever logs them later (driver errors included).
    mark_sensitive(body.text, *variables.values())
    renderer = t.renderer_for(state)

    async def work(conn: asyncpg.Connection) -> tuple[int, Any]:
        reach = await conn.fetchrow(
            query("web", "patient_channels"),
            body.patient_id,
            org_id,
            body.kind,
            payload,
            body.platform,
            fallback,
            scheduled,
            now,
        )
        if reach is None:
            raise ValidationFailed("patient_id", "no such patient in your organization")
        check_consent(body.kind, reach)
        warnings = check_reach(body.platform, fallback, reach)
        quiet = await quiet_hours_warning(
            conn,
            state.settings,
            patient_id=body.patient_id,
            org_id=org_id,
            kind=body.kind,
            urgent=body.urgent,
            due=scheduled,
        )
        goes_at = scheduled
        if quiet is not None:
            warnings.append(quiet[0])
            goes_at = quiet[1]
        if body.text is not None:
            check_length(
                body.text, reach["route"], sms_max_segments=state.settings.sms_max_segments
            )
        # The clinic's own template (valid for this kind) or a built-in one, with the values it
        # needs, else 422 now rather than a failed row at send time.
        if body.template is not None and not await t.check_message_template(
            conn, renderer, org_id, body.template, body.kind
        ):
            check_builtin_values(renderer, body.template, values, scheduled)
        priority, shared = await share_priority(
            conn,
            org_id,
            priority=body.priority,
            goes_at=goes_at,
            now=now,
            per_hour=state.settings.api_priority_zero_per_hour,
        )
        if shared is not None:
            warnings.append(shared)
        # Past the clinic's messages per patient (per hour, per day): a 429 with Retry-After.
        async with capped():
            row = await conn.fetchrow(
                query("web", "insert_message"),
                org_id,
                body.patient_id,
                body.text,
                body.template,
                body.kind,
                payload,
                body.platform,
                scheduled,
                expires,
                priority,
                body.urgent,
                None,
                fallback,
            )
        return 201, {**message_json(row), "warnings": warnings}

    async def current(conn: asyncpg.Connection, first: Any) -> Any | None:
        row = await conn.fetchrow(query("web", "get_message"), uuid.UUID(first["id"]), org_id)
        # The warnings are the first answer's: what was true when the message was accepted.
        return None if row is None else {**message_json(row), "warnings": first.get("warnings", [])}

    return await once.run(work, current)


@router.get(
    "/messages",
    response_model=Page[Message],
    summary="List messages, newest first, a page at a time",
    operation_id="listMessages",
)
async def list_messages(
    org_id: Org, state: State, params: Annotated[MessageFilter, Query()]
) -> Any:
    """Filtered by status, patient, appointment, kind, channel and a window of scheduled times."""
    at, after = decode_cursor(params.cursor, "messages")
    if params.from_ is not None and params.to is not None and params.from_ >= params.to:
        raise ValidationFailed("to", "must be after from")
    async with state.pool.acquire() as conn:
        rows = await conn.fetch(
            query("web", "list_messages"),
            org_id,
            at,
            after,
            params.status,
            params.patient_id,
            params.appointment_id,
            params.kind,
            params.channel,
            params.from_,
            params.to,
            params.limit + 1,
        )
    return page(rows, params.limit, "scheduled_time", message_json, listing="messages")


@router.get(
    "/messages/{message_id}",
    response_model=Message,
    summary="One message",
    operation_id="getMessage",
    responses=NOT_FOUND,
)
async def get_message(message_id: uuid.UUID, org_id: Org, state: State) -> Any:
    """The message."""
    async with state.pool.acquire() as conn:
        row = await conn.fetchrow(query("web", "get_message"), message_id, org_id)
    if row is None:
        raise NotFound("message")
    return message_json(row)


@router.post(
    "/messages/{message_id}/cancel",
    response_model=Message,
    summary="Cancel a pending message",
    operation_id="cancelMessage",
    responses={**NOT_FOUND, **CONFLICT},
)
async def cancel_message(message_id: uuid.UUID, org_id: Org, state: State) -> Any:
    """A message still pending can be cancelled, as can one a worker claimed ahead of its time
    (before a peak), until a second before that time; not one being sent."""
    async with acting(state.pool) as conn:
        row = await conn.fetchrow(query("web", "cancel_message"), message_id, org_id)
        if row is None:
            current = await conn.fetchrow(query("web", "get_message"), message_id, org_id)
            if current is None:
                raise NotFound("message")
            raise ApiError(409, not_pending(current, "cancel", "cancelled"))
    return message_json(row)


def not_pending(current: Mapping[str, Any], verb: str, done: str) -> str:
    """Why message ``current`` could not be cancelled or changed (``verb``, ``done``): being
    sent, or no longer pending (migrations 20260101018320, 20260101018500)."""
    if current["status"] == "processing":
        due = current["scheduled_time"].isoformat()
        return (
            f"too late to {verb}: the message is being sent (due at {due}); a message can be"
            f" {done} until a second before its time"
        )
    return f"only a pending message can be {done}; this one is {current['status']}"


_RESEND_REFUSALS = {
    ResendOutcome.NOT_FAILED: "only a failed message can be re-sent; this one is {status}",
    ResendOutcome.PATIENT_ERASED: "the patient's data was erased: nothing is sent to them any more",
    # A dose's reminder or follow-up goes only near its dose (migration 20260101016500): a copy
    # hours late reads "Time for your 8:00 AM dose" when the next dose is near, a double dose.
    ResendOutcome.DOSE_CLOSED: (
        "this reminder is about a dose that is {status} now: a copy would ask about it again"
        " (the worker cancels it). To tell the patient something, send a message"
        " (POST /messages with `text`)"
    ),
    ResendOutcome.TOO_LATE: (
        "this reminder is about a dose whose time has passed: it could be sent until {status},"
        " and a copy now would tell the patient to take a dose that late (close to the next"
        " one: a double dose). To tell the patient something, send a message"
        " (POST /messages with `text`)"
    ),
}


async def check_resend_reaches(
    conn: asyncpg.Connection, message_id: uuid.UUID, org_id: uuid.UUID, now: datetime
) -> None:
    """409 when a new copy of failed message ``message_id`` could not go out: the patient has not
    consented (unless a service notice), or none of the channels it may take has a contact point
    that may be written to now (each opted out by STOP, blocked or inactive). The copy is due at
    once, so the worker would cancel or fail it straight away. A message to a caregiver goes to
    the caregiver's address: only consent applies."""
    row = await conn.fetchrow(query("web", "message_to_resend"), message_id, org_id)
    if row is None:
        return  # none, not failed, or re-sent already: resend_message answers that
    fallback = row["platform"] == "auto" or bool(row["allow_fallback"])
    reach = await reach_of_message(conn, row, org_id, now, now)
    if reach is None:
        return  # the patient was erased: resend_message answers that
    check_consent(row["kind"], reach, what="the re-send")
    if row["caregiver_id"] is not None:
        return
    if not reach["route"]:
        have = ", ".join(reach["usable_channels"]) or "none"
        then = ", then the patient's others" if fallback else ""
        raise ApiError(
            409,
            f"a copy would fail again: no channel it may take ({row['platform']}{then}) has a"
            " contact point that may be"
            f" written to now (opted out by STOP, blocked or inactive); channels that may: {have}."
            " The patient opts back in by writing START; or send a new message on a channel"
            " they can be reached on (POST /messages)",
            field="message_id",
        )


@router.post(
    "/messages/{message_id}/resend",
    status_code=201,
    response_model=CreatedMessage,
    summary="Re-send a failed message",
    operation_id="resendMessage",
    responses={
        200: {"description": "Re-sent before: the copy made then", "model": Message},
        **NOT_FOUND,
        **CONFLICT,
    },
)
async def resend_failed_message(
    message_id: uuid.UUID, org_id: Org, state: State, response: Response
) -> Any:
    """A new pending copy of the failed message, due now (`resent_from` names the failed one,
    which keeps its status and delivery attempts); the worker sends it on the patient's channels
    afresh. At most one copy per failed message: asking again answers 200 with that copy. Only a
    failed message can be re-sent (409 otherwise). A dose's reminder or follow-up only while its
    dose is open and within its time (two hours for a reminder, one for a follow-up, or its
    `expires_at`), which the copy keeps; 409 otherwise. A copy of a priority-0 message takes one
    of the clinic's priority-0 messages for the hour it goes in, as a new one does; past the
    share it is made at priority 5 with a `priority_share` warning (a dose's reminder or
    follow-up keeps its priority). Audited as `message.resend`."""
    async with state.pool.acquire() as conn, conn.transaction():
        now = state.clock()
        failed = await conn.fetchrow(query("web", "get_message"), message_id, org_id)
        if failed is None:
            # None of the clinic's, or one it may not read yet (it holds a live sign-in or
            # caregiver link): 404 whatever its status, as GET answers.
            raise NotFound("message")
        await check_resend_reaches(conn, message_id, org_id, now)
        result = await resend_message(conn, message_id, org_id, actor="api", at=now)
        if result.outcome is ResendOutcome.NOT_FOUND:
            raise NotFound("message")
        refusal = _RESEND_REFUSALS.get(result.outcome)
        if refusal is not None:
            raise ApiError(409, refusal.format(status=result.status))
        row = await conn.fetchrow(query("web", "get_message"), result.message_id, org_id)
        if row is None:
            # A copy the clinic may not read (it holds a live link, migrations 20260101015400
            # and 20260101015570): the message is not the clinic's; the copy is rolled back.
            raise NotFound("message")
    if result.outcome is ResendOutcome.ALREADY_RESENT:
        response.status_code = 200
        return message_json(row)
    warnings = []
    if failed["priority"] == TIME_CRITICAL and row["priority"] != TIME_CRITICAL:
        warnings.append(resend_share_warning(state.settings.api_priority_zero_per_hour))
    return {**message_json(row), "warnings": warnings}
