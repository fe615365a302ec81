"""Reminder times suggested for how often a medicine is taken ("3 times a day", "every 8 hours").

Asked "At what times?", patients answer as their prescription reads: "3 times a day" was "I
couldn't read that time" (found by hand in medremind dev's console). The usual clock times of
those prescriptions are suggested instead, for the patient to keep or replace:
twice a day 8:00 and 20:00, three times 8:00, 14:00 and 20:00, four times 8:00, 12:00, 16:00 and
20:00 (waking hours); every 12 hours 8:00 and 20:00, every 8 hours 6:00, 14:00 and 22:00, every 6
hours 6:00, 12:00, 18:00 and 0:00 (the interval kept, one dose at night where it must be). Once a
day is not guessed: which time matters (a statin at night), so the patient is asked for it.

Pure: no clock, no database. English and Spanish, as :func:`bot.locale_format.fold_word` folds
them (lower case, no accents).
"""

from __future__ import annotations

import re
from datetime import time
from typing import NamedTuple

from bot.locale_format import fold_word

_PER_DAY_TIMES = {
    2: (time(8), time(20)),
    3: (time(8), time(14), time(20)),
    4: (time(8), time(12), time(16), time(20)),
}
_EVERY_HOURS_TIMES = {
    12: (time(8), time(20)),
    8: (time(6), time(14), time(22)),
    6: (time(0), time(6), time(12), time(18)),
}
_COUNT_WORDS = {
    "twice": 2, "two": 2, "dos": 2, "2": 2,
    "three": 3, "thrice": 3, "tres": 3, "3": 3,
    "four": 4, "cuatro": 4, "4": 4,
}  # fmt: skip
_PER_DAY_RE = re.compile(
    rf"^(?P<count>{'|'.join(_COUNT_WORDS)})\s*"
    r"(?:x|times?|veces)?\s*(?:a|per|each|al|por)?\s*(?:day|daily|dia|diarias?)$"
)
_ABBREVIATIONS = {"bid": 2, "tid": 3, "qid": 4}
_EVERY_RE = re.compile(r"^(?:every|each|cada|q)\s*(?P<hours>\d{1,2})\s*(?:hours?|hrs?|h|horas?)$")


class Frequency(NamedTuple):
    """How often, as the patient said it: ``per_day`` doses a day or one ``every_hours``."""

    per_day: int | None
    every_hours: int | None
    times: tuple[time, ...]


def suggested_times(text: str) -> Frequency | None:
    """The frequency ``text`` names and its suggested times, or None (not a frequency we
    suggest times for: once a day, every 5 hours, a time)."""
    folded = fold_word(text)
    match = _PER_DAY_RE.match(folded)
    count = _ABBREVIATIONS.get(folded) or (_COUNT_WORDS.get(match["count"]) if match else None)
    if count is not None:
        times = _PER_DAY_TIMES.get(count)
        return None if times is None else Frequency(count, None, times)
    match = _EVERY_RE.match(folded)
    if match is not None and int(match["hours"]) in _EVERY_HOURS_TIMES:
        hours = int(match["hours"])
        return Frequency(None, hours, _EVERY_HOURS_TIMES[hours])
    return None
