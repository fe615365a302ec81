"""Whether a message the API is asked to create can reach its patient, decided at creation.

The worker routes a message as :mod:`scheduler.routing` says: an explicit ``platform`` only on
that channel (unless the message allows fallback), ``auto`` on the patient's channel for the
message's category and then their channel order, skipping channels without a contact point that
may be written to, and a channel whose limit the text exceeds. An integrator learns at creation,
with a 422 naming the patient's channels or the text's size, what would otherwise only show as a
failed row (or, before, as a message silently sent on another channel).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from core.message_limits import channel_limit_problem
from medremind.web.errors import ApiError, ValidationFailed
from scheduler.holds import CONSENT_FREE_KINDS


def route_channels(platform: str, fallback: bool, reach: Mapping[str, Any]) -> list[str]:
    """The channels the worker would try, in order (those with a contact point that may be
    written to); ``reach`` is a ``patient_channels`` row."""
    first = platform if platform != "auto" else reach["category_channel"]
    order = [first] if first else []
    if fallback:
        order += [c for c in reach["channel_order"] if c not in order]
    usable = set(reach["usable_channels"])
    return [c for c in order if c in usable]


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


def check_platform(platform: str, fallback: bool, reach: Mapping[str, Any]) -> None:
    """422 on ``platform`` when an explicit platform without fallback cannot reach the patient:
    the message would never go out, and no other channel may stand in for it."""
    if platform == "auto" or fallback or platform in reach["usable_channels"]:
        return
    channels = [c for c in reach["channel_order"] if c in reach["usable_channels"]] or sorted(
        reach["usable_channels"]
    )
    cannot = (
        f"this patient cannot be reached on {platform} (no {platform} contact point, or it is"
        f" opted out or blocked); their channels: {_listed(channels)}."
    )
    if not channels:
        # `auto` or a fallback would fail as well: say what lets a message through instead.
        raise ValidationFailed(
            "platform",
            f"{cannot} No channel can reach them now: a patient who sent STOP receives messages"
            " again once they reply START, a blocked chat once they write to the bot",
        )
    raise ValidationFailed(
        "platform",
        f"{cannot} Give one of them, `auto` for their channel order, or"
        " `allow_fallback: true` to try theirs when it fails",
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
    return ", ".join(channels) if channels else "none (no contact point may be written to)"
