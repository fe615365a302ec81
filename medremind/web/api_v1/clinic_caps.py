"""A clinic's own cap on its messages per patient, in ``/api/v1/clinic`` (docs/api.md, "A cap per
patient").

The cap itself is a trigger on ``scheduled_messages`` (migration 20260101018340). A clinic's admin
may set each window's cap to a whole number from 1 to :data:`MAXIMUM` (lower than the service's
``MEDREMIND_CLINIC_MESSAGES_PER_PATIENT_HOUR`` / ``_DAY`` or higher), or give null to follow the
service's again; never 0 (off) nor more: the cap is what keeps a retry loop from texting one
patient hundreds of times, and only the service's operator may lift it. The database holds the
same rule for the dashboard's writes (migration 20260101018360,
``public.clinic_message_cap_maximum``, whose numbers these are).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from medremind.web.errors import ValidationFailed

# The most a clinic may set its own cap to, per window (public.clinic_message_cap_maximum).
MAXIMUM = {"hour": 20, "day": 50}
FIELDS = {f"clinic_messages_per_patient_{w}": w for w in MAXIMUM}
_WINDOW_WORDS = {"hour": "a rolling hour", "day": "24 hours"}


def own_cap_description(window: str) -> str:
    """The OpenAPI description of the clinic's own cap for ``window``."""
    return (
        f"Your clinic's own cap on the messages it creates for one patient in"
        f" {_WINDOW_WORDS[window]}: 1 to {MAXIMUM[window]}; null: the service's"
        f" (MEDREMIND_CLINIC_MESSAGES_PER_PATIENT_{window.upper()})"
    )


class PatientCapsInEffect(BaseModel):
    hour: int = Field(description="Messages a patient may be given in a rolling hour; 0: no cap")
    day: int = Field(description="Messages a patient may be given in 24 hours; 0: no cap")


def caps_change(given: set[str], values: Mapping[str, Any]) -> dict[str, int | None]:
    """The caps keys a PATCH sets (a number) or removes (None), checked: 422 naming the field."""
    change: dict[str, int | None] = {}
    for name, window in FIELDS.items():
        if name not in given:
            continue
        value = values.get(name)
        if value is not None and not 1 <= value <= MAXIMUM[window]:
            raise ValidationFailed(
                name,
                f"{value} is not allowed: give a whole number from 1 to {MAXIMUM[window]}"
                f" (messages your clinic may create for one patient in {_WINDOW_WORDS[window]}),"
                f" or null to follow the service's MEDREMIND_CLINIC_MESSAGES_PER_PATIENT_"
                f"{window.upper()}. A clinic cannot turn the cap off or set it higher: ask the"
                " service's operator",
            )
        change[name] = value
    return change


def caps_json(row: Mapping[str, Any]) -> dict[str, Any]:
    """The clinic's own caps (null: none) and the caps in effect, as GET /clinic shows them."""
    caps = row["caps"] or {}
    data: dict[str, Any] = {}
    for name in FIELDS:
        value = caps.get(name)
        data[name] = int(value) if isinstance(value, int | float) else None
    data["patient_message_caps_in_effect"] = {
        "hour": row["patient_cap_hour"],
        "day": row["patient_cap_day"],
    }
    return data
