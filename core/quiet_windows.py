"""Quiet hours as a person or a clinic's system gives them: two different times, or none.

Stored, a window whose start equals its end is off: the dispatcher holds nothing back
(``scheduler/quiet_hours.py``). "No quiet hours" is written 00:00 to 00:00 (the bot's "none"
stores it, the API and the patient app show it so). Any other window of no length ("22:00 to
22:00") is refused where it is given: taken as "off", a patient who meant a night, or a whole
quiet day, got reminders at any hour without being told.
"""

from __future__ import annotations

from datetime import time

MIDNIGHT = time(0, 0)
NO_QUIET_HOURS = (MIDNIGHT, MIDNIGHT)


def has_no_length(start: time, end: time) -> bool:
    """Whether ``start``-``end`` is a window of no length other than :data:`NO_QUIET_HOURS`: to
    be refused, naming both fixes (two different times, or 00:00 to 00:00 for none)."""
    return start == end and start != MIDNIGHT
