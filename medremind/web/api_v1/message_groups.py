"""``POST /api/v1/messages/group``: one text to the clinic's patients matching a search, sent
only as counted.

The dashboard's Compose sends to a group the same way: the client says how many patients it
means to reach (``expected_count``) and nothing is sent when the group has another number now (a
search left empty is every patient of the clinic; a count made before patients joined or left is
no longer what the send would do). An urgent message, which quiet hours do not hold, also says how
many of them it reaches inside their quiet hours (``expected_at_night``). ``dry_run`` answers the
counts and sends nothing. Each member is treated as ``POST /messages`` treats one patient: a
patient who has not consented yet (invited) gets nothing, one no channel reaches gets nothing when
it is due within the refusal window and a message with a warning when later; all are named in
the answer by id. One transaction: all of the group's rows or none; ``Idempotency-Key`` makes a
retry after a lost answer send nobody twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated, Any, Literal

import asyncpg
from pydantic import BaseModel, Field, StrictBool, StrictInt

from core.logs import mark_sensitive
from core.message_limits import channel_limit_problem
from core.sql import query
from medremind.web.api_v1.common import Org, State
from medremind.web.api_v1.fields import (
    IsoDateTime,
    MessageText,
    Platform,
    Trimmed,
    name_pattern,
    not_past,
)
from medremind.web.api_v1.idempotency import Idempotent
from medremind.web.api_v1.message_reach import unreachable_fix, unreachable_reason
from medremind.web.api_v1.models import BODY_ERRORS, CONFLICT, RequestModel
from medremind.web.api_v1.patient_cap import CODE, capped, refusal_message
from medremind.web.api_v1.routing import router as new_router
from medremind.web.errors import ApiError, ValidationFailed

router = new_router("messages")

# A group's members are each named in the answer; a bigger one is sent in parts (narrow `q`).
MAX_GROUP = 1000
Count = Annotated[StrictInt, Field(ge=0, le=MAX_GROUP)]


class GroupMessageCreate(RequestModel):
    """A free_text message to every active patient matching `q`, as counted."""

    q: Annotated[str, Trimmed, Field(min_length=1, max_length=200)] | None = Field(
        description=(
            "Who: as GET /patients?q= (a part of the name, or an exact external id or address);"
            " null is every patient of your clinic, and must be given as null."
        ),
    )
    expected_count: Count | None = Field(
        None,
        description=(
            "Required to send: how many consented patients you mean to reach (invited ones are"
            " not counted: they get nothing). Another number now: 409, nothing sent. `dry_run`"
            " answers it."
        ),
    )
    expected_at_night: Count | None = Field(
        None,
        description=(
            "Required with `urgent`: how many of them are inside their quiet hours at"
            " `scheduled_time` (an urgent message is not held until their quiet hours end, so"
            " they get it at night). Another number now: 409, nothing sent."
        ),
    )
    text: MessageText
    platform: Platform = Field("auto", description="As POST /messages; `auto` by default.")
    allow_fallback: StrictBool | None = None
    scheduled_time: IsoDateTime | None = Field(None, description="Default now; not in the past.")
    urgent: StrictBool = False
    category: Literal["clinic_news"] | None = Field(
        None, description="`clinic_news`: a patient who opted out of clinic news gets nothing."
    )
    dry_run: StrictBool = Field(False, description="true: answer the counts, send nothing.")


class GroupMember(BaseModel):
    patient_id: uuid.UUID
    message_id: uuid.UUID | None = Field(None, description="The message created for them")
    outcome: Literal[
        "scheduled",
        "scheduled_unreachable",
        "not_consented",
        "unreachable",
        "too_long",
        "patient_message_cap",
    ] = Field(
        description=(
            "`scheduled`; `scheduled_unreachable`: no channel reaches them now, and the message"
            " fails unsent when due unless they can be reached by then; `not_consented`:"
            " invited, given nothing; `unreachable`: no channel reaches them now and the message"
            " is due within the refusal window, given nothing; `too_long`: over the limit of"
            " every channel it may take to them, given nothing; `patient_message_cap`: your"
            " clinic's messages to them in the last hour or 24 hours are as many as one patient"
            " may be given (your clinic's own caps, PATCH /clinic, else the service's),"
            " given nothing"
        )
    )
    at_night: bool = Field(
        description="Given a message, and inside their quiet hours at scheduled_time"
    )
    message: str | None = Field(None, description="Why, and what lets a message through")


class GroupMessageResult(BaseModel):
    dry_run: bool
    count: int = Field(description="Consented patients matching: compare expected_count")
    at_night: int = Field(description="Of those given a message, inside their quiet hours then")
    scheduled: int = Field(description="Messages created (0 for a dry run)")
    members: list[GroupMember]


def _member(row: asyncpg.Record, platform: str, text: str, sms_max: int) -> dict[str, Any]:
    """What the group message does for one member, as POST /messages would for them alone
    (its ``message_id`` is filled in once created)."""
    base = {"patient_id": str(row["id"]), "message_id": None, "at_night": False}
    if not row["consented"]:
        message = (
            "not consented yet (invited): send them an invite link (POST"
            " /patients/{id}/invites) and a message once they have joined"
        )
        return {**base, "outcome": "not_consented", "message": message}
    if not row["route"]:
        reason = f"{unreachable_reason(platform, row)} {unreachable_fix(row)}"
        if row["due_soon"]:
            return {**base, "outcome": "unreachable", "message": reason}
        return {
            **base,
            "at_night": row["at_night"],
            "outcome": "scheduled_unreachable",
            "message": reason,
        }
    problems = [channel_limit_problem(c, text, sms_max_segments=sms_max) for c in row["route"]]
    if all(problem is not None for problem in problems):
        # The worker would fail it on every channel it may take (POST /messages: a 422).
        detail = "; ".join(f"{c}: {p}" for c, p in zip(row["route"], problems, strict=True))
        return {**base, "outcome": "too_long", "message": f"too long for their channels ({detail})"}
    if row["cap_window"] is not None:
        return {**base, "outcome": CODE, "message": refusal_message(row)}
    return {**base, "at_night": row["at_night"], "outcome": "scheduled", "message": None}


def _check_counts(body: GroupMessageCreate, members: Sequence[dict[str, Any]]) -> None:
    """409 on the count the client gave when the group has another number now."""
    count = sum(1 for m in members if m["outcome"] != "not_consented")
    night = sum(1 for m in members if m["at_night"])
    if count != body.expected_count:
        raise ApiError(
            409,
            f"the group has {count} consented patients now, not {body.expected_count}: nothing"
            " was sent. Check who they are (GET /patients?q=..., or this request with"
            " `dry_run: true`) and send again with the number",
            field="expected_count",
            details={"count": count},
        )
    if body.urgent and body.expected_at_night != night:
        raise ApiError(
            409,
            f"urgent: {night} of them are inside their quiet hours at scheduled_time and would"
            f" get it at night, not {body.expected_at_night}: nothing was sent. Send it with"
            f" `expected_at_night: {night}`, or not urgent (held until their quiet hours end)",
            field="expected_at_night",
            details={"at_night": night},
        )


@router.post(
    "/messages/group",
    status_code=201,
    response_model=GroupMessageResult,
    summary="Send one text to the patients matching a search, as counted",
    operation_id="createGroupMessage",
    responses={
        200: {"model": GroupMessageResult, "description": "`dry_run`: the counts, nothing sent"},
        **BODY_ERRORS,
        **CONFLICT,
    },
)
async def create_group_message(
    body: GroupMessageCreate, org_id: Org, state: State, once: Idempotent
) -> Any:
    """Created for each member it may go to (201), or the counts only (`dry_run`, 200)."""
    now = state.clock()
    scheduled = not_past(body.scheduled_time, "scheduled_time", now) or now
    if body.platform == "auto" and body.allow_fallback is False:
        raise ValidationFailed(
            "allow_fallback", "`auto` always tries the patient's channels in order"
        )
    if body.expected_count is None and not body.dry_run:
        raise ValidationFailed(
            "expected_count",
            "give how many consented patients of the group you mean to reach (this request with"
            " `dry_run: true` answers `count`): nothing is sent uncounted",
        )
    if body.urgent and body.expected_at_night is None and not body.dry_run:
        raise ValidationFailed(
            "expected_at_night",
            "an urgent message is not held by quiet hours: give how many of the group are inside"
            " theirs at scheduled_time (this request with `dry_run: true` answers `at_night`)",
        )
    sms_max = state.settings.sms_max_segments
    if body.platform != "auto":
        problem = channel_limit_problem(body.platform, body.text, sms_max_segments=sms_max)
        if problem is not None:
            raise ValidationFailed("text", f"too long for {body.platform}: {problem}")
    fallback = body.platform == "auto" or bool(body.allow_fallback)
    payload: dict[str, Any] = {"category": body.category} if body.category else {}
    mark_sensitive(body.text)
    pattern = name_pattern(body.q)

    async def work(conn: asyncpg.Connection) -> tuple[int, Any]:
        rows = await conn.fetch(
            query("message_groups", "members"),
            org_id,
            body.q,
            pattern,
            payload,
            body.platform,
            fallback,
            scheduled,
            now,
            MAX_GROUP + 1,
        )
        if len(rows) > MAX_GROUP:
            raise ValidationFailed(
                "q", f"more than {MAX_GROUP} patients match: narrow it and send in parts"
            )
        members = [_member(r, body.platform, body.text, sms_max) for r in rows]
        counted = [m for m in members if m["outcome"].startswith("scheduled")]
        result = {
            "dry_run": body.dry_run,
            "count": sum(1 for m in members if m["outcome"] != "not_consented"),
            "at_night": sum(1 for m in counted if m["at_night"]),
            "scheduled": 0,
            "members": members,
        }
        if body.dry_run:
            return 200, result
        _check_counts(body, members)
        # In the patients' id order, as the dashboard's group insert: each insert locks its
        # patient's row (the cap's trigger), and one order for every writer deadlocks nobody.
        for member in sorted(counted, key=lambda m: str(m["patient_id"])):
            # A member whose cap another create took since the members were read: the whole
            # group is refused (429, nothing sent), never a member silently left out.
            async with capped():
                row = await conn.fetchrow(
                    query("web", "insert_message"),
                    org_id,
                    member["patient_id"],
                    body.text,
                    None,
                    "free_text",
                    payload,
                    body.platform,
                    scheduled,
                    None,
                    5,
                    body.urgent,
                    None,
                    fallback,
                )
            member["message_id"] = str(row["id"])
        return 201, {**result, "scheduled": len(counted)}

    return await once.run(work)
