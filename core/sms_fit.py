"""Names and medicines shortened so that an SMS keeps to its segment budget, whatever they hold.

One emoji or one letter outside GSM-7 in a name makes the whole SMS UCS-2: 70 UTF-16 units a
segment (67 when concatenated) instead of 160 septets, and an emoji is two units. The built-in
texts fit three segments with ordinary values, but with every value at the longest the tables
allow (names 50 units, a medicine 60, a dose 40: core.template_vocabulary) and in UCS-2, a
reminder naming its medicine came to 4 segments and a Spanish caregiver alert to 4, over
``MEDREMIND_SMS_MAX_SEGMENTS``: the render was refused and a patient on SMS got no reminder.

:func:`shorter_values` gives what :meth:`core.templating.TemplateRenderer.render` tries, in order,
before it refuses an SMS: each person by their first name, then the medicine, dose, clinic,
place and the clinic's city cut with an ellipsis, then the clinic and its city cut further.
:func:`short_name` is also how the caregiver link messages name the caregiver
(bot.dialogs.caregiver_links). Cuts count UTF-16 units (what UCS-2 segments count) and
never leave half of an emoji sequence at the end (core.template_measure.cut_units).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from core.template_measure import clamp, cut_units, utf16_units

# A first name in at most this many UTF-16 units ("Guadalupe", "Ben 👨‍👩‍👧").
NAME_UNITS = 12
# The variables that name a person, given by their first name when the SMS is too long.
PEOPLE = ("patient_name", "caregiver_name", "clinician_name")
# Then these, cut to so many units with an ellipsis.
CLAMPED = {
    "medicine_name": 24,
    "dose_text": 16,
    "clinic_name": 24,
    "location": 32,
    "clinic_zone": 16,  # the clinic's city beside its time (scheduler.appointment_times)
}
# Last, the clinic and its city cut further: an appointment SMS naming both zones and the
# patient's day, in UCS-2, with every name at its longest, was 217 units (4 segments) after the
# cuts above.
TIGHT = {"clinic_name": 12, "clinic_zone": 12}


def short_name(name: str, max_units: int = NAME_UNITS) -> str:
    """``name`` when it fits ``max_units`` UTF-16 units, else its first word cut to them."""
    if utf16_units(name) <= max_units:
        return name
    words = name.split()
    return cut_units(words[0] if words else name, max_units)


def shorter_values(values: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """``values`` shorter and shorter: the people by their first names, then the medicine, dose,
    clinic, place and the clinic's city cut too, then the clinic and its city cut further. Each
    is tried only if it changes something."""
    people = dict(values)
    for key in PEOPLE:
        value = values.get(key)
        if isinstance(value, str):
            people[key] = short_name(value)
    if people != values:
        yield people
    shorter = people
    for limits in (CLAMPED, TIGHT):
        cut = _clamped(shorter, limits)
        if cut != shorter:
            yield cut
        shorter = cut


def _clamped(values: dict[str, Any], limits: Mapping[str, int]) -> dict[str, Any]:
    """``values`` with each text of ``limits`` cut to its number of units."""
    out = dict(values)
    for key, units in limits.items():
        value = values.get(key)
        if isinstance(value, str):
            out[key] = clamp(value, units)
    return out
