"""Whether a message the API is asked to create can reach its patient, decided at creation.

The worker routes a message as :mod:`scheduler.routing` says: an explicit ``platform`` only on
that channel (unless the message allows fallback), ``auto`` on the patient's channel for the
message's category and then their channel order, skipping channels without a contact point that
may be written to, and a channel whose limit the text exceeds. An integrator learns at creation,
with a 422 naming the patient's channels or the text's size, what would otherwise only show as a
failed row (or, before, as a message silently sent on another channel).

``reach`` is a row of ``public.message_reach`` (migration 20260101015200, the definition the
dashboard's Compose uses too): its ``route`` is the channels the worker would try, and a message
whose route is empty is refused when ``due_soon`` (within ``refusal_minutes``: it would fail
unsent at once) and accepted later with a warning (the patient may opt back in meanwhile).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from core.message_limits import channel_limit_problem
from core.sql import query
from medremind.web.errors import ApiError, ValidationFailed
from scheduler.holds import CONSENT_FREE_KINDS


async def reach_of_message(
    conn: asyncpg.Connection,
    message: Mapping[str, Any],
    org_id: uuid.UUID,
    due: datetime,
    now: datetime,
) -> asyncpg.Record | None:
    """``public.message_reach`` of an existing message (its patient, kind, payload, platform and
    fallback) if due at ``due``; None when its patient is not (or no longer) the clinic's."""
    fallback = message["platform"] == "auto" or bool(message["allow_fallback"])
    return await conn.fetchrow(
        query("web", "patient_channels"),
        message["patient_id"],
        org_id,
        message["kind"],
        message["payload"],
        message["platform"],
        fallback,
        due,
        now,
    )


def check_consent(kind: str, reach: Mapping[str, Any], *, what: str = "the message") -> None:
    """409 on ``patient_id`` when the patient has not consented yet (invited) and ``kind`` is
    not one the worker sends without consent (``scheduler.holds.CONSENT_FREE_KINDS``: the
    service's own notices): the worker would cancel it with "no consent recorded". ``what``
    names what to create once they have joined."""
    if reach["consented"] or kind in CONSENT_FREE_KINDS:
        return
    raise no_consent(what)


def no_consent(what: str) -> ApiError:
    """The 409 for a patient who has not consented yet; ``what`` to create once they join."""
    free = ", ".join(sorted(CONSENT_FREE_KINDS))
    return ApiError(
        409,
        "this patient has not consented yet (invited): nothing but a service notice"
        f" (kind {free}) goes to them before they join. Send them an invite link"
        f" (POST /patients/{{patient_id}}/invites) and create {what} once they have joined",
        field="patient_id",
    )


def check_reach(platform: str, fallback: bool, reach: Mapping[str, Any]) -> list[dict[str, str]]:
    """The warnings of a message that may be created (empty when it reaches the patient now);
    raises when it may not.

    - An explicit platform without fallback the patient cannot be reached on, while another
      channel can: 422 on ``platform`` naming their channels (a request the client can fix now).
    - No channel it may take reaches the patient, and it is due within ``refusal_minutes``: 409
      on ``patient_id`` (the patient's state is in the way) saying what lets a message through.
    - The same, due later: accepted, with a warning saying it fails unless they are back by then.
    """
    if reach["route"]:
        return []
    usable = reach["usable_channels"]
    if platform != "auto" and not fallback and usable:
        channels = [c for c in reach["channel_order"] if c in usable] or sorted(usable)
        raise ValidationFailed(
            "platform",
            f"this patient cannot be reached on {platform} (no {platform} contact point, or it is"
            f" opted out or blocked); their channels: {', '.join(channels)}. Give one of them,"
            " `auto` for their channel order, or `allow_fallback: true` to try theirs when it"
            " fails",
        )
    minutes = reach["refusal_minutes"]
    if reach["due_soon"]:
        raise ApiError(
            409,
            f"{unreachable_reason(platform, reach)} A message due within {minutes}"
            f" minutes would fail unsent. {unreachable_fix(reach)}; or give a `scheduled_time`"
            f" {minutes} minutes or more ahead: it is then accepted with a warning, and goes out"
            " if they can be reached by then",
            field="patient_id",
        )
    return [unreachable_warning(platform, reach, "The message is scheduled")]


def check_edit_reach(
    platform: str, reach: Mapping[str, Any] | None, *, moved: bool
) -> list[dict[str, str]]:
    """The warnings of a change to a message (``PATCH /messages/{id}``) that may be made; raises
    when it may not. The rule of :func:`check_reach` at the message's time after the change: the
    patient may have sent STOP since it was created. No channel of the message reaches them and
    it is due within ``refusal_minutes``: 422 on ``scheduled_time`` (a later time is what the
    change can give; ``moved``: the request gave this one). Due later: a warning. ``reach`` None
    (the patient erased meanwhile): nothing here, the change itself answers."""
    if reach is None or reach["route"]:
        return []
    minutes = reach["refusal_minutes"]
    if reach["due_soon"]:
        when = "at the `scheduled_time` given" if moved else "at its time"
        raise ValidationFailed(
            "scheduled_time",
            f"{unreachable_reason(platform, reach)} The message, due {when} within {minutes}"
            f" minutes, would fail unsent. {unreachable_fix(reach, platform_fixed=True)}; or give"
            f" a `scheduled_time` {minutes} minutes or more ahead: it is then changed with a"
            " warning, and goes out if they can be reached by then",
        )
    return [unreachable_warning(platform, reach, "The message is changed", platform_fixed=True)]


def unreachable_warning(
    platform: str, reach: Mapping[str, Any], done: str, *, platform_fixed: bool = False
) -> dict[str, str]:
    """The ``patient_unreachable`` warning of a message accepted (``done``) although no channel
    of it reaches the patient now: it fails unless they can be reached by its time."""
    return {
        "code": "patient_unreachable",
        "field": "patient_id",
        "message": f"{unreachable_reason(platform, reach)} {done}, but"
        " fails unsent when due unless they can be reached by then."
        f" {unreachable_fix(reach, platform_fixed=platform_fixed)}",
    }


def unreachable_reason(platform: str, reach: Mapping[str, Any]) -> str:
    """Why no channel the message may take reaches the patient (its route is empty)."""
    usable = reach["usable_channels"]
    if not usable:
        return (
            "No channel reaches this patient now: each of their contact points is opted out"
            " (STOP), blocked or inactive, or they have none."
        )
    # Some channel reaches them, but neither the message's platform nor their order has it
    # (an explicit platform without fallback is refused before, naming their channels).
    order = f"channel of this patient's channel order ({_listed(reach['channel_order'])})"
    nothing = f"Neither {platform} nor any {order}" if platform != "auto" else f"No {order}"
    return f"{nothing} can be written to now; they can be reached on {', '.join(usable)}."


def unreachable_fix(reach: Mapping[str, Any], *, platform_fixed: bool = False) -> str:
    """What lets a message through to a patient no channel of the message reaches;
    ``platform_fixed``: the message exists, and a change cannot give it another platform."""
    if reach["usable_channels"]:
        other = (
            "cancel it and create one with one of those as the `platform`"
            if platform_fixed
            else "give it as the `platform`"
        )
        return (
            "Add one of those to their channel_order (PATCH /api/v1/patients/{patient_id}), or"
            f" {other}"
        )
    return (
        "A patient who sent STOP receives messages again once they reply START, a blocked"
        " Telegram chat once they write to the bot, and a patient without a contact point once"
        " they open an invite link (POST /api/v1/patients/{patient_id}/invites)"
    )


def check_length(text: str, channels: Sequence[str], *, sms_max_segments: int) -> None:
    """422 on ``text`` when it is over the limit of every channel the message may go out on
    (none known: nothing to check; the row fails with the reason at send time)."""
    problems = [
        (channel, channel_limit_problem(channel, text, sms_max_segments=sms_max_segments))
        for channel in channels
    ]
    if not problems or any(problem is None for _, problem in problems):
        return
    if len(problems) == 1:
        channel, problem = problems[0]
        raise ValidationFailed(
            "text", f"too long for {channel}, the only channel it can go out on: {problem}"
        )
    detail = "; ".join(f"{channel}: {problem}" for channel, problem in problems)
    raise ValidationFailed("text", f"too long for every channel of this patient ({detail})")


def _listed(channels: Sequence[str]) -> str:
    return ", ".join(channels) if channels else "none"
