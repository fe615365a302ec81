"""What a clinician template may use: variables and their longest values, filters, tests, limits.

The definitions the checker (:mod:`core.template_language`) enforces and the renderer
(:mod:`core.templating`) applies: :data:`VARIABLES` with the longest value each takes (longer
values are shortened by :func:`clamped_values`), the date formats and the longest text each gives,
the text filters and their literal arguments, and the size limits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from core.template_measure import clamp, utf16_units

TEXT = "text"
DATETIME = "datetime"


@dataclass(frozen=True, slots=True)
class Variable:
    """What a template variable holds: text of at most ``max_units`` UTF-16 units, or a datetime."""

    kind: str
    max_units: int = 0


# The longest value each variable takes in a clinician template. Longer stored values (a patient
# who typed a 60-character name) are shortened to this with an ellipsis when filled in, so a
# template that fits with these fits with every patient.
VARIABLES: dict[str, Variable] = {
    "patient_name": Variable(TEXT, 50),
    "caregiver_name": Variable(TEXT, 50),
    "clinic_name": Variable(TEXT, 60),
    "clinician_name": Variable(TEXT, 50),
    "medicine_name": Variable(TEXT, 60),
    "dose_text": Variable(TEXT, 40),
    # A number in the patient's /meds list ("2"); empty where the patient has one medicine.
    "medicine_number": Variable(TEXT, 3),
    # The dose's day ("Wed, March 4", "niedz., 25 października": 23 units at most over the date
    # formats' locales) when a reminder goes out on another day than its dose; empty otherwise.
    "due_day": Variable(TEXT, 24),
    # An appointment's time for a patient in another zone than the clinic's (empty where the two
    # show the same wall clock; scheduler.appointment_times): the clinic zone's city (CLDR's
    # exemplar city, "Republika Zielonego Przylądka": 29 units at most over the common locales of
    # tests/unit/test_template_language.py),
    # the patient's time ("11:30 PM", as ``time``) and their day when it is another ("Wed,
    # March 17", as ``due_day``).
    "clinic_zone": Variable(TEXT, 30),
    "your_time": Variable(TEXT, 12),
    "your_day": Variable(TEXT, 24),
    "location": Variable(TEXT, 80),
    "locale": Variable(TEXT, 35),
    "timezone": Variable(TEXT, 40),
    "due_at": Variable(DATETIME),
    "starts_at": Variable(DATETIME),
    # caregiver_dose_update: when the patient answered Taken, after the caregiver's alert.
    "answered_at": Variable(DATETIME),
}
# Where each text variable's value is stored (table, column). Every write path is held to the
# variable's maximum: the tables' CHECK constraints (migration 20260101009110, counted in UTF-16
# units by public.utf16_units), the API's and the bot's validation (:func:`length_problem`), so
# the worst case the length check assumes is the worst case that can be stored.
STORED_AT: dict[str, tuple[tuple[str, str], ...]] = {
    "patient_name": (("patients", "display_name"),),
    "caregiver_name": (("caregivers", "name"),),
    "clinic_name": (("organizations", "name"),),
    "clinician_name": (("appointments", "clinician_name"),),
    "medicine_name": (("medications", "name"),),
    "dose_text": (("medications", "dose"),),
    "location": (("appointments", "location"),),
}


def max_units(variable: str) -> int:
    """The longest value ``variable`` may hold, in UTF-16 units (what a character count shows)."""
    return VARIABLES[variable].max_units


def length_problem(variable: str, value: str) -> str | None:
    """Why ``value`` cannot be stored as ``variable`` ("must be at most 50 characters") or None."""
    limit = max_units(variable)
    if utf16_units(value) > limit:
        return f"must be at most {limit} characters (it is filled into reminders)"
    return None


# A variable a caller allows that is not listed above (tests, future kinds).
DEFAULT_VARIABLE = Variable(TEXT, 100)
# ``{{ due_at }}`` without a filter prints ``2025-01-15 20:00:00.123456+00:00``.
RAW_DATETIME_UNITS = 32

# Date filters: the formats allowed and the longest text each gives, in UTF-16 units, over the
# common locales (en, es, fr, de, pt, it, nl, pl, ru, uk, ar, zh, ja, ko, hi, tr, vi, el, ca, eu,
# th...; measured with Babel, tests/unit/test_template_language.py keeps it true). A rarer
# locale's longer spelling is shortened to the bound.
DATE_FORMATS: dict[str, dict[str, int]] = {
    "time": {"short": 12, "medium": 18},
    "date": {"short": 16, "medium": 24, "long": 32, "full": 48},
    "datetime": {"short": 32, "medium": 38},
    "weekday": {"": 16},
    # Spanish's article for the time as ``time`` shows it in the same format: "la" before one
    # o'clock, "las" before any other hour (core.template_filters.hour_article), so a clinic's
    # Spanish text reads "a la 1:30" as the built-in ones do. Nothing else: 3 units.
    "hour_article": {"short": 3, "medium": 3},
}
DEFAULT_DATE_FORMAT = {
    "time": "short",
    "date": "medium",
    "datetime": "medium",
    "weekday": "",
    "hour_article": "short",
}

# Text filters, with what their arguments must be (literal types, in order).
TEXT_FILTERS: dict[str, tuple[type, ...]] = {
    "upper": (),
    "lower": (),
    "capitalize": (),
    "title": (),
    "trim": (),
    "default": (str, bool),
    "d": (str, bool),
    "truncate": (int, bool, str, int),
    "replace": (str, str, int),
}
FILTERS = frozenset(TEXT_FILTERS) | frozenset(DATE_FORMATS)
TESTS = frozenset({"defined", "undefined", "none"})
MAX_LITERAL_INT = 10_000
MAX_TEMPLATE_UNITS = 20_000  # nothing a clinician template renders may be longer than this
# Parts inside parts (an {% if %} in an {% if %}, 'x if c else y' in another, brackets, 'and',
# 'not', a filter of a filter). Jinja's compiler and Python's recurse once per level and cost more
# than linearly: 100 nested conditionals took 0.6 s to compile in each process, 150 broke
# Python's limit of nested brackets, 120 {% if %} its limit of indentation, and 300 Jinja's
# recursion; the check passed them all, so validate answered 500 and every send compiled again.
MAX_NESTING = 30


def clamped_values(values: Mapping[str, Any], allowed: Iterable[str]) -> dict[str, Any]:
    """The values a clinician template sees: only ``allowed`` names, text at its maximum."""
    out: dict[str, Any] = {}
    for name in allowed:
        if name not in values:
            continue
        value = values[name]
        variable = VARIABLES.get(name, DEFAULT_VARIABLE)
        if value is None or (variable.kind == DATETIME and not isinstance(value, str)):
            out[name] = value
        else:
            out[name] = clamp(str(value), variable.max_units)
    return out
