"""What ``POST /api/v1/messages`` may fill into a template, checked when the message is created.

A message's ``variables`` are the template's values (``{{ starts_at }}``, ``{{ location }}``):
the worker reads them from the row's payload (``scheduler.rendering.variables_for``), over what
it joins itself (the patient's and the clinic's names, the due time). Only the names the texts
use are taken, so a client's value can never stand for one of the payload's own keys (a dose, a
reply's bot, a category); a ``*_at`` value must be a date-time with its offset, as the worker
reads it back. A built-in template is rendered once here with these values: a variable it needs
that nobody gives (an appointment text without ``starts_at``: an API message is linked to no
appointment) is a 422 now rather than a failed row when it is due.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from jinja2.exceptions import UndefinedError

from core import near_miss
from core.message_limits import MessageTooLong
from core.templating import TemplateRenderer
from medremind.web.errors import ValidationFailed

# The variables the built-in texts (templates/README.md) and the clinics' templates
# (core/template_vocabulary.py) read, which a message may carry.
MESSAGE_VARIABLES = frozenset(
    {
        "body",
        "sender_name",
        "patient_name",
        "clinic_name",
        "clinic_phone",
        "clinician_name",
        "caregiver_name",
        "location",
        "due_at",
        "starts_at",
        "previous_starts_at",
        "refill_by",
        "doses_left",
    }
)
# Kinds whose text is the message's own (`text`), sent as it is; any other kind is rendered from
# its template (scheduler.rendering: a `text` would be dropped).
TEXT_KINDS = frozenset({"free_text", "system"})
# Built-in texts that ask the patient to answer about their appointment ("Reply 1 or C"): an API
# message is linked to no appointment, so nothing would take the answer.
_ASK_ABOUT_APPOINTMENT = frozenset(
    {"appointment_confirmation", "appointment_reminder", "appointment_rescheduled"}
)
# Channels whose built-in texts differ (`<kind>.sms.j2`): each is rendered in the check.
_CHECKED_CHANNELS = ("console", "sms")
_UNDEFINED = re.compile(r"'(\w+)' is undefined")


def template_values(variables: Mapping[str, str]) -> dict[str, Any]:
    """``variables`` as the worker will read them (``*_at`` as aware date-times); 422 naming
    ``variables.<name>`` for a name no text reads or a time that is not one."""
    values: dict[str, Any] = {}
    for name, value in variables.items():
        if name not in MESSAGE_VARIABLES:
            raise ValidationFailed(
                f"variables.{name}",
                "is not a template variable" + near_miss.hint(name, MESSAGE_VARIABLES, what="name"),
            )
        if name.endswith("_at"):
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                parsed = None
            if parsed is None or parsed.tzinfo is None:
                raise ValidationFailed(
                    f"variables.{name}",
                    "must be an ISO 8601 date-time with its offset, e.g. 2026-03-01T08:00:00Z",
                )
            values[name] = parsed
        else:
            values[name] = value
    return values


def check_builtin_values(
    renderer: TemplateRenderer, template: str, values: Mapping[str, Any], due_at: datetime
) -> None:
    """422 on ``variables`` when built-in ``template`` needs a value that neither ``values`` nor
    the worker (clinic and patient names, the due time) gives; 422 on ``template`` for a text
    that asks about an appointment."""
    if template in _ASK_ABOUT_APPOINTMENT:
        raise ValidationFailed(
            "template",
            f"the built-in {template} text asks the patient to answer about an appointment, and a"
            " message from the API is linked to none: book it with POST /api/v1/appointments"
            " (its confirmation and reminders go out on their own), or use your own template",
        )
    given = {
        "due_at": due_at,
        "timezone": "UTC",
        "clinic_name": "clinic",
        "name_medicine": False,
        "share_details": False,
        **values,
    }
    for channel in _CHECKED_CHANNELS:
        try:
            renderer.render(template, "en", channel, given)
        except UndefinedError as exc:
            found = _UNDEFINED.search(str(exc))
            needed = found.group(1) if found else str(exc)
            raise ValidationFailed(
                "variables",
                f"the built-in template {template!r} needs `{needed}`: give it in variables (a"
                " message from the API is linked to no appointment or dose)",
            ) from None
        except MessageTooLong:
            return  # over a channel's limit: the channel decides when it is sent
