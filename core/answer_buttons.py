"""Button data for reminders: built by the dispatcher (``scheduler``), parsed by the bot.

It lives in ``core`` because both sides depend on it and neither may import the other.

Reminder buttons must work from any dialog step and without conversation state, so their data
names the row directly (UUIDs as 32 hex digits keep it under Telegram's 64-byte limit):

* ``d:<dose event hex>:t`` taken, ``:s`` snooze (default minutes), ``:s10``/``:s30``/``:s60``,
  ``:k`` skip;
* ``a:<appointment hex>:c`` confirm, ``:r`` reschedule request, ``:x`` cancel;
* ``w:<slot offer recipient hex>:y`` accept a freed slot from the waitlist, ``:n`` decline it.

The dispatcher adds them with :func:`default_options` (pairs of template label key and data, as
``TemplateRenderer.render(options=...)`` takes them) unless the row's payload names its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal
from uuid import UUID

DEFAULT_SNOOZE_MINUTES = 15
# How long a reminder is answered as that reminder. A typed answer reaches its question this long
# after it was asked (bot.routing): a late "1" the next morning is about the new reminder, not
# yesterday's. A button names its dose and records Taken or Skip later too, but Snooze is refused
# once the dose's time is this far past (scheduler.dose_answers): the reminder it brings back
# ("Time for your 8:00 AM dose") reads as another day's dose, which could be taken twice.
QUESTION_TTL = timedelta(hours=12)
SNOOZE_CHOICES = (10, 30, 60)
# The snooze lengths a patient may ask for, by button data or typed ("snooze 90"): up to 12
# hours, the longest a reminder is still answered as itself (QUESTION_TTL).
SNOOZE_MINUTES_MIN = 1
SNOOZE_MINUTES_MAX = 720

# What a patient may answer to an appointment reminder (``appointments.record_appointment_reply``).
AppointmentAction = Literal["confirm", "reschedule", "cancel"]

_DOSE_RE = re.compile(r"^d:([0-9a-f]{32}):(t|k|s(\d{1,3})?)$")
_APPT_RE = re.compile(r"^a:([0-9a-f]{32}):([crx])$")
_OFFER_RE = re.compile(r"^w:([0-9a-f]{32}):([yn])$")


@dataclass(frozen=True, slots=True)
class DoseAnswer:
    """A patient's answer to a dose reminder."""

    dose_event_id: UUID
    answer: str  # "taken", "snoozed" or "skipped" (dose_events.status values)
    snooze_minutes: int | None = None


@dataclass(frozen=True, slots=True)
class AppointmentAnswer:
    """A patient's answer to an appointment reminder."""

    appointment_id: UUID
    action: AppointmentAction


def dose_data(dose_event_id: UUID, code: str) -> str:
    """``d:<hex>:<code>``."""
    return f"d:{dose_event_id.hex}:{code}"


def dose_answer_options(dose_event_id: UUID) -> list[tuple[str, str]]:
    """Taken / Snooze / Skip as ``(label key, data)`` for the reminder template."""
    hex_ = dose_event_id.hex  # once: UUID.hex formats the number anew on every read
    return [("taken", f"d:{hex_}:t"), ("snooze", f"d:{hex_}:s"), ("skip", f"d:{hex_}:k")]


def appointment_answer_options(appointment_id: UUID) -> list[tuple[str, str]]:
    """Confirm / Reschedule / Cancel as ``(label key, data)``."""
    hex_ = appointment_id.hex
    return [
        ("confirm", f"a:{hex_}:c"),
        ("reschedule", f"a:{hex_}:r"),
        ("cancel", f"a:{hex_}:x"),
    ]


def parse_dose_data(data: str) -> DoseAnswer | None:
    """A dose answer from button data, or ``None``."""
    match = _DOSE_RE.match(data)
    if not match:
        return None
    dose_id = UUID(hex=match[1])
    code = match[2]
    if code == "t":
        return DoseAnswer(dose_id, "taken")
    if code == "k":
        return DoseAnswer(dose_id, "skipped")
    minutes = int(match[3]) if match[3] else DEFAULT_SNOOZE_MINUTES
    if not SNOOZE_MINUTES_MIN <= minutes <= SNOOZE_MINUTES_MAX:
        return None  # no button offers it: forged, refused rather than clamped (snooze_refused)
    return DoseAnswer(dose_id, "snoozed", minutes)


def snooze_refused(data: str) -> bool:
    """Whether ``data`` is a dose's snooze of a length no button offers (``d:<hex>:s0``,
    ``:s999``): forged, since every button and typed length is checked against the range. The
    Telegram webhook refuses it saying the range, and nothing is recorded."""
    match = _DOSE_RE.match(data)
    if match is None or match[3] is None:
        return False
    return not SNOOZE_MINUTES_MIN <= int(match[3]) <= SNOOZE_MINUTES_MAX


def answers_dose_or_appointment(data: str) -> bool:
    """Whether button data answers a dose or an appointment (what the parsers accept, without
    building the answer: the dispatcher asks for every option of every reminder it sends)."""
    return _DOSE_RE.match(data) is not None or _APPT_RE.match(data) is not None


def parse_appointment_data(data: str) -> AppointmentAnswer | None:
    """An appointment answer from button data, or ``None``."""
    match = _APPT_RE.match(data)
    if not match:
        return None
    actions: dict[str, AppointmentAction] = {"c": "confirm", "r": "reschedule", "x": "cancel"}
    action = actions[match[2]]
    return AppointmentAnswer(UUID(hex=match[1]), action)


# Kinds whose reminder carries answer buttons, and which row id the buttons name.
_DOSE_KINDS = frozenset({"medication_reminder", "dose_followup"})
_APPOINTMENT_KINDS = frozenset(
    {"appointment_confirmation", "appointment_reminder", "appointment_rescheduled"}
)


def default_options(
    kind: str, dose_event_id: UUID | None, appointment_id: UUID | None
) -> list[tuple[str, str]]:
    """The answer buttons a message of ``kind`` offers: Taken/Snooze/Skip or Confirm/R/X."""
    if kind in _DOSE_KINDS and dose_event_id is not None:
        return dose_answer_options(dose_event_id)
    if kind in _APPOINTMENT_KINDS and appointment_id is not None:
        return appointment_answer_options(appointment_id)
    return []


def parse_offer_data(data: str) -> tuple[UUID, bool] | None:
    """``(slot offer recipient id, accepted)`` from ``w:<hex>:y|n``, else None."""
    match = _OFFER_RE.match(data)
    if match is None:
        return None
    return UUID(match.group(1)), match.group(2) == "y"
