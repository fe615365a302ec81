"""A pause's end said as a day and a part of it, or a time of it: "until tomorrow afternoon",
"hasta mañana por la tarde", "until Friday at 5pm", "hasta el lunes por la mañana", "tonight".

"/pause until tomorrow afternoon" paused with "This pause has no end date": a day was read only
alone ("tomorrow"), and a patient who meant to be back the next afternoon had no reminders until
a /resume they did not know they needed. A part of the day ends the pause at the part's start,
so the first dose of it is reminded; a time said ends it then. Pure: the caller
(:mod:`bot.dialogs.account`) turns the day and time into an instant in the patient's zone.
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta

from bot.parsing import date_readings, fold, parse_time, weekday_ahead

__all__ = ["before_dawn", "day_and_time", "days_said", "says_tomorrow"]

# When each part of the day begins, as a pause's end: a patient back "in the afternoon" takes
# the afternoon's dose. The morning from 6:00 (earlier is the small hours), the afternoon and
# Spanish "tarde" (which runs into the evening) from noon, the evening from 17:00 and the night
# from 19:00 (its bedtime dose reminded). Earlier rather than later: a reminder too early costs
# a message, one too late a dose.
_PART_STARTS: dict[str, time] = {
    "morning": time(6, 0), "manana": time(6, 0),
    "noon": time(12, 0), "midday": time(12, 0), "lunchtime": time(12, 0), "mediodia": time(12, 0),
    "afternoon": time(12, 0), "tarde": time(12, 0),
    "evening": time(17, 0),
    "night": time(19, 0), "noche": time(19, 0), "tonight": time(19, 0),
}  # fmt: skip
# The words between a day and its part: "tomorrow in the afternoon", "mañana por la tarde",
# "el lunes a mediodía", "mañana en la noche".
_PART_RE = re.compile(
    r"^(?:(?:in|at|by|on|por|en|de|a|al|durante)\s+)?(?:(?:the|la|el)\s+)?(?P<part>\w+)$"
)
# Today named by its part alone: "tonight", "this afternoon", "esta tarde", "esta noche".
_TODAY_RE = re.compile(
    r"^(?:(?P<tonight>tonight)|this\s+(?P<en>morning|afternoon|evening)|"
    r"est[ae]\s+(?P<es>manana|tarde|noche|mediodia))$"
)
# "Tomorrow" with a part of the day or a time: "tomorrow morning", "mañana por la tarde".
_TOMORROW_RE = re.compile(r"^(?:tomorrow|manana)\s")
# The day after tomorrow, which no date word reads: "pasado mañana".
_DAY_AFTER_RE = re.compile(r"(?:the\s+)?day\s+after\s+tomorrow|pasado\s+manana")


def day_and_time(text: str, *, today: date, month_first: bool) -> tuple[list[date], time] | None:
    """The days ``text`` can name (the region's reading first, as :func:`bot.parsing.date_readings`
    gives them; ``[today]`` for "tonight") and the time of day it says with it, or None when it
    says no time of day (a day alone: "tomorrow", "3/15", "Monday" are read by the caller)."""
    folded = fold(text).rstrip(".!").replace(",", " ")
    said_today = _TODAY_RE.match(folded)
    if said_today is not None:
        part = said_today["en"] or said_today["es"] or "tonight"
        return [today], _PART_STARTS[part]
    words = folded.split()
    for cut in range(1, len(words)):
        at = _time_said(" ".join(words[cut:]))
        if at is None:
            continue
        days = days_said(" ".join(words[:cut]), today=today, month_first=month_first)
        if days:
            return days, at
    return None


def _time_said(text: str) -> time | None:
    """A part of the day's start ("afternoon", "por la tarde"), or a clock time ("at 5pm")."""
    found = _PART_RE.match(text)
    if found is not None and found["part"] in _PART_STARTS:
        return _PART_STARTS[found["part"]]
    return parse_time(text)


def days_said(text: str, *, today: date, month_first: bool) -> list[date]:
    """The days a day's words can be, the region's reading first: "tomorrow", "Monday", "el
    lunes", "3/15" (two for "4/3"), "pasado mañana"; none for words that are no day."""
    text = fold(text).rstrip(".!")
    if _DAY_AFTER_RE.fullmatch(text):
        return [today + timedelta(days=2)]
    weekday = weekday_ahead(text, today=today)
    if weekday is not None:
        return [weekday]
    return date_readings(text, today=today, month_first=month_first)


def says_tomorrow(text: str) -> bool:
    """Whether ``text`` names tomorrow with a time of it ("tomorrow morning", "mañana a las 9")."""
    return _TOMORROW_RE.match(fold(text)) is not None


def before_dawn(local: time) -> bool:
    """Whether ``local`` is in the small hours, before the morning's start: a patient still up
    at 2:15 AM who says "until tomorrow morning" may mean the morning after the night (today's,
    in four hours) as well as the next day's; a day's whole reminders hang on which."""
    return local < _PART_STARTS["morning"]
