"""Immutable domain records and status enums matching the schema (``supabase/migrations``).

Records are frozen; ``from_row`` builds one from an asyncpg ``Record`` (or any mapping) and
``evolve`` returns a changed copy.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any, Self
from uuid import UUID


class MessageStatus(enum.StrEnum):
    """``scheduled_messages.status``."""

    PENDING = "pending"
    PROCESSING = "processing"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class Platform(enum.StrEnum):
    """``scheduled_messages.platform``: a channel, or ``auto`` for the patient's channel order."""

    TELEGRAM = "telegram"
    WHATSAPP = "whatsapp"
    SMS = "sms"
    EMAIL = "email"
    CONSOLE = "console"
    AUTO = "auto"


class MessageKind(enum.StrEnum):
    """``scheduled_messages.kind``; each has a template per locale and channel."""

    MEDICATION_REMINDER = "medication_reminder"
    DOSE_FOLLOWUP = "dose_followup"
    MISSED_DOSE_CAREGIVER = "missed_dose_caregiver"
    # Sent after that alert when the patient then answers Taken (migration 20260101018180).
    CAREGIVER_DOSE_UPDATE = "caregiver_dose_update"
    APPOINTMENT_CONFIRMATION = "appointment_confirmation"
    APPOINTMENT_REMINDER = "appointment_reminder"
    APPOINTMENT_CANCELLED = "appointment_cancelled"
    APPOINTMENT_RESCHEDULED = "appointment_rescheduled"
    REFILL_REMINDER = "refill_reminder"
    FREE_TEXT = "free_text"
    SYSTEM = "system"


class AttemptStatus(enum.StrEnum):
    """``message_delivery_attempts.status``."""

    SENT = "sent"
    FAILED = "failed"
    RATE_LIMITED = "rate_limited"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"


class DoseStatus(enum.StrEnum):
    """``dose_events.status``."""

    DUE = "due"
    TAKEN = "taken"
    SNOOZED = "snoozed"
    SKIPPED = "skipped"
    MISSED = "missed"
    CANCELLED = "cancelled"
    # No channel could take the patient's reminder (STOP on their only channel, the bot
    # blocked): never reminded, so not missed (migration 20260101013300).
    UNREACHABLE = "unreachable"


class AppointmentStatus(enum.StrEnum):
    """``appointments.status``."""

    SCHEDULED = "scheduled"
    CONFIRMED = "confirmed"
    RESCHEDULE_REQUESTED = "reschedule_requested"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"


# An appointment that is over: nothing more is planned or sent about it but its cancellation
# notice (scheduler.appointments, scheduler.delivery_gate).
FINAL_APPOINTMENT_STATUSES = frozenset(
    {AppointmentStatus.CANCELLED, AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW}
)


class ScheduleStatus(enum.StrEnum):
    """``reminder_schedules.status``."""

    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


class _Record:
    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Self:
        """Build from a database row, ignoring columns the record does not carry."""
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        # asyncpg's Record iterates over values, not keys, hence .keys().
        values = {k: row[k] for k in row.keys() if k in names}  # noqa: SIM118
        return cls(**values)

    def evolve(self, **changes: Any) -> Self:
        """A copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]


@dataclasses.dataclass(frozen=True, slots=True)
class Patient(_Record):
    """A person who receives reminders."""

    id: UUID
    organization_id: UUID | None
    display_name: str | None
    locale: str
    timezone: str
    timezone_mode: str = "home"
    quiet_start: time | None = None
    quiet_end: time | None = None
    channel_order: list[str] = dataclasses.field(default_factory=list)
    consent_at: datetime | None = None
    name_medicine_in_reminders: bool = False
    nag_interval_minutes: int = 15
    nag_max: int = 3
    reminders_paused: bool = False
    status: str = "active"


@dataclasses.dataclass(frozen=True, slots=True)
class ContactPoint(_Record):
    """One address of a patient on one channel."""

    id: UUID
    patient_id: UUID
    channel: str
    address: str
    verified: bool = False
    active: bool = True
    opted_out_at: datetime | None = None
    blocked_at: datetime | None = None
    last_inbound_at: datetime | None = None

    @property
    def usable(self) -> bool:
        """Whether messages may be sent here now."""
        return self.active and self.opted_out_at is None and self.blocked_at is None


@dataclasses.dataclass(frozen=True, slots=True)
class Medication(_Record):
    """A medicine a patient takes."""

    id: UUID
    patient_id: UUID
    name: str
    dose: str | None = None
    pill_count: int | None = None
    status: str = "active"


@dataclasses.dataclass(frozen=True, slots=True)
class ReminderSchedule(_Record):
    """When a medication is due: times of day on chosen days in a timezone."""

    id: UUID
    medication_id: UUID
    patient_id: UUID
    times_of_day: list[time]
    start_date: date
    days_of_week: list[int] | None = None
    every_n_days: int | None = None
    end_date: date | None = None
    max_count: int | None = None
    timezone: str | None = None
    status: str = "active"
    version: int = 1


@dataclasses.dataclass(frozen=True, slots=True)
class DoseEvent(_Record):
    """One due dose and what became of it."""

    id: UUID
    schedule_id: UUID
    medication_id: UUID
    patient_id: UUID
    due_at: datetime
    local_date: date
    local_time: time
    status: str = DoseStatus.DUE
    answered_at: datetime | None = None
    answered_channel: str | None = None
    snoozed_until: datetime | None = None
    nag_count: int = 0


@dataclasses.dataclass(frozen=True, slots=True)
class Appointment(_Record):
    """A visit at a clinic."""

    id: UUID
    organization_id: UUID
    patient_id: UUID
    starts_at: datetime
    status: str = AppointmentStatus.SCHEDULED
    location: str | None = None
    clinician_name: str | None = None
    reminder_offsets: list[int] | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class ScheduledMessage(_Record):
    """A row of ``scheduled_messages`` as the dispatcher sees it after a claim."""

    id: UUID
    patient_id: UUID
    scheduled_time: datetime
    status: str
    platform: str
    kind: str
    attempts: int = 0
    max_attempts: int = 5
    priority: int = 5
    message_content: str | None = None
    template: str | None = None
    payload: dict[str, Any] = dataclasses.field(default_factory=dict)
    expires_at: datetime | None = None
    urgent: bool = False
    allow_fallback: bool = True
    lease_token: UUID | None = None
    locked_until: datetime | None = None
    dose_event_id: UUID | None = None
    appointment_id: UUID | None = None
    caregiver_id: UUID | None = None
    organization_id: UUID | None = None
    channels_tried: list[str] = dataclasses.field(default_factory=list)
