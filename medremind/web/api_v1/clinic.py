"""``/api/v1/clinic``: the caller's clinic settings, read by any key, changed by an admin's.

The same settings the dashboard's settings page changes: name, timezone, language, contact
phone and e-mail, the default appointment reminder offsets and the default quiet window; and the
08:00 capacity settings (issue 20): Telegram paid broadcasts, with the clinic's monthly allowance
of Stars for them and what this month used, and the per-kind early window; and the clinic's own
cap on its messages per patient (clinic_caps.py). The
change is audited by the organizations' audit trigger (migration 20260101009140) as the API key.
Appointments already planned keep their reminders; what is planned from now on follows.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, Field, StrictInt

from core.quiet_windows import has_no_length
from core.sql import query
from core.zone_names import zone_loads
from medremind.web.api_v1.clinic_caps import FIELDS as CAP_FIELDS
from medremind.web.api_v1.clinic_caps import (
    PatientCapsInEffect,
    caps_change,
    caps_json,
    own_cap_description,
)
from medremind.web.api_v1.common import AdminOrg, Org, State, acting, row_dict
from medremind.web.api_v1.fields import (
    ClinicName,
    ClockTime,
    Email,
    Locale,
    Phone,
    Timezone,
    clock_text,
)
from medremind.web.api_v1.models import ADMIN_ONLY, BODY_ERRORS, RequestModel, patch_fields
from medremind.web.api_v1.routing import router as new_router
from medremind.web.errors import ValidationFailed
from scheduler.quiet_release import release_quiet_deferrals

router = new_router("clinic")

MAX_OFFSET_MINUTES = 30 * 24 * 60
_FIELDS = (
    "id",
    "name",
    "timezone",
    "locale",
    "contact_phone",
    "contact_email",
    "appointment_reminder_offsets",
    "telegram_paid_broadcast_after_seconds",
    "telegram_paid_stars_monthly",
    "telegram_paid_stars_used",
    "early_send_seconds",
    "updated_at",
)
# Settings a PATCH may set to null; the others need a value once given.
_NULLABLE = frozenset(
    {
        "contact_phone",
        "contact_email",
        "telegram_paid_broadcast_after_seconds",
        "telegram_paid_stars_monthly",
        *CAP_FIELDS,
    }
)
# Message kinds the planner may send early in a forecast peak (scheduler/planning_peaks.py).
EARLY_KINDS = ("medication_reminder",)
EarlyWindows = Annotated[
    dict[str, Annotated[StrictInt, Field(ge=0, le=3600)]],
    Field(
        max_length=len(EARLY_KINDS),
        description="Seconds a routine reminder of each kind may be sent early when a peak is"
        ' forecast, e.g. {"medication_reminder": 300}; never a time-critical dose, never into'
        " the patient's quiet hours",
    ),
]
Offsets = Annotated[
    list[Annotated[StrictInt, Field(ge=1, le=MAX_OFFSET_MINUTES)]],
    Field(max_length=10, description="Minutes before an appointment; [] sends no reminders"),
]


class ClinicSettings(BaseModel):
    id: uuid.UUID
    name: str
    timezone: str
    locale: str
    contact_phone: str | None = None
    contact_email: str | None = None
    appointment_reminder_offsets: list[int]
    default_quiet_start: str = Field(description="HH:MM in the patient's timezone")
    default_quiet_end: str = Field(description="HH:MM in the patient's timezone")
    telegram_paid_broadcast_after_seconds: int | None = Field(
        None,
        description="Telegram allow_paid_broadcast (0.1 Stars a message, up to 1,000/s a bot)"
        " for messages at least this late; 0: all; null: never",
    )
    telegram_paid_stars_monthly: float | None = Field(
        None,
        description="Telegram Stars the clinic allows for paid broadcasts per calendar month"
        " (UTC); once used up, its messages go unpaid at the free rate; null: none",
    )
    telegram_paid_stars_used: float = Field(
        0.0, description="Stars charged to the allowance this month (UTC), 0.1 a message"
    )
    early_send_seconds: dict[str, int] = Field(default_factory=dict)
    clinic_messages_per_patient_hour: int | None = Field(
        None, description=own_cap_description("hour")
    )
    clinic_messages_per_patient_day: int | None = Field(
        None, description=own_cap_description("day")
    )
    patient_message_caps_in_effect: PatientCapsInEffect = Field(
        description="The caps your clinic's messages per patient are held to now: your own,"
        " else the service's (docs/api.md, 'A cap per patient')"
    )
    timezone_problem: str | None = Field(
        None,
        description="Why the clinic's `timezone` cannot be used, when it is no zone the planner"
        " can load (`Etc/Unknown`, stored for `Factory` before the API refused it): a patient"
        " added without a timezone is refused. Set `timezone` to fix it. Null: it is fine",
    )
    updated_at: datetime


class ClinicSettingsUpdate(RequestModel):
    """Only the settings given change; `default_quiet_start`/`_end` together."""

    name: ClinicName | None = None
    timezone: Timezone | None = None
    locale: Locale | None = None
    contact_phone: Phone | None = Field(None, description="E.164; null removes it")
    contact_email: Email | None = Field(None, description="null removes it")
    appointment_reminder_offsets: Offsets | None = None
    default_quiet_start: ClockTime | None = None
    default_quiet_end: ClockTime | None = None
    telegram_paid_broadcast_after_seconds: Annotated[StrictInt, Field(ge=0, le=86400)] | None = (
        Field(None, description="null turns paid broadcasts off")
    )
    telegram_paid_stars_monthly: (
        Annotated[Decimal, Field(ge=0, le=1_000_000, max_digits=8, decimal_places=1)] | None
    ) = Field(None, description="Stars a month for paid broadcasts (0.1 a message); null: none")
    early_send_seconds: EarlyWindows | None = None
    clinic_messages_per_patient_hour: StrictInt | None = Field(
        None, description=own_cap_description("hour")
    )
    clinic_messages_per_patient_day: StrictInt | None = Field(
        None, description=own_cap_description("day")
    )


def settings_json(row: Mapping[str, Any]) -> dict[str, Any]:
    """The settings as the API shows them."""
    data = row_dict(row, _FIELDS)
    data["default_quiet_start"] = clock_text(row["default_quiet_start"])
    data["default_quiet_end"] = clock_text(row["default_quiet_end"])
    for name in ("telegram_paid_stars_monthly", "telegram_paid_stars_used"):
        value = data.get(name)
        data[name] = None if value is None else float(value)
    data["timezone_problem"] = _timezone_problem(row["timezone"])
    return {**data, **caps_json(row)}


def _timezone_problem(zone: str) -> str | None:
    """Why the clinic's ``zone`` cannot be used, or None when it loads."""
    if zone_loads(zone):
        return None
    return (
        f"your clinic's timezone {zone!r} is no place's time zone (stored before such names"
        " were refused), so a patient added without a timezone is refused (POST /patients):"
        " set timezone (PATCH /clinic) to the IANA zone your clinic is in"
    )


@router.get(
    "/clinic",
    response_model=ClinicSettings,
    summary="Your clinic's settings",
    operation_id="getClinicSettings",
)
async def get_clinic(org_id: Org, state: State) -> Any:
    """Readable with any of the clinic's keys."""
    async with state.pool.acquire() as conn:
        row = await conn.fetchrow(query("clinic_ops", "clinic_settings"), org_id)
    return settings_json(row)


@router.patch(
    "/clinic",
    response_model=ClinicSettings,
    summary="Change your clinic's settings (an admin key)",
    operation_id="updateClinicSettings",
    responses={**BODY_ERRORS, **ADMIN_ONLY},
)
async def update_clinic(body: ClinicSettingsUpdate, org_id: AdminOrg, state: State) -> Any:
    """The settings as changed; audited with the names of the changed settings."""
    given = patch_fields(body, _NULLABLE)
    if ("default_quiet_start" in given) != ("default_quiet_end" in given):
        raise ValidationFailed("default_quiet_end", "give default_quiet_start and _end together")
    start, end = body.default_quiet_start, body.default_quiet_end
    if start is not None and end is not None and has_no_length(start, end):
        # Stored, it is off: every patient on the clinic's window would get messages at any hour.
        raise ValidationFailed(
            "default_quiet_end",
            f"default_quiet_start and default_quiet_end are both {clock_text(end)}, a window of"
            " no length: give two different times (such as 21:00 and 08:00), or 00:00 and 00:00"
            " for no default quiet hours",
        )
    unknown = sorted(set(body.early_send_seconds or {}) - set(EARLY_KINDS))
    if unknown:
        raise ValidationFailed("early_send_seconds", f"{unknown[0]}: one of {list(EARLY_KINDS)}")
    caps = caps_change(given, body.model_dump(include=set(CAP_FIELDS)))
    async with acting(state.pool) as conn:
        row = await conn.fetchrow(
            query("clinic_ops", "update_clinic_settings"),
            org_id,
            sorted(given),
            body.name,
            body.timezone,
            body.locale,
            body.contact_phone,
            body.contact_email,
            body.appointment_reminder_offsets,
            body.default_quiet_start,
            body.default_quiet_end,
            body.telegram_paid_broadcast_after_seconds,
            body.early_send_seconds,
            body.telegram_paid_stars_monthly,
            caps,
        )
        if "default_quiet_start" in given:
            # Messages waiting out the old default window are judged again by the new one.
            await release_quiet_deferrals(
                conn,
                state.clock(),
                (state.settings.quiet_hours_start, state.settings.quiet_hours_end),
                organization_id=org_id,
            )
    return settings_json(row)
