"""bot.pause_moment: a pause's end said as a day and a part of it, or a time of it."""

from __future__ import annotations

from datetime import date, time

import pytest

from bot.pause_moment import before_dawn, day_and_time, days_said, says_tomorrow

TODAY = date(2026, 3, 2)  # a Monday


@pytest.mark.parametrize(
    ("text", "days", "at"),
    [("tomorrow afternoon", [date(2026, 3, 3)], time(12, 0)),
     ("tomorrow in the afternoon", [date(2026, 3, 3)], time(12, 0)),
     ("mañana por la tarde", [date(2026, 3, 3)], time(12, 0)),
     ("mañana por la mañana", [date(2026, 3, 3)], time(6, 0)),
     ("Monday morning", [date(2026, 3, 9)], time(6, 0)),
     ("el lunes por la noche", [date(2026, 3, 9)], time(19, 0)),
     ("Friday at 9pm", [date(2026, 3, 6)], time(21, 0)),
     ("pasado mañana a mediodía", [date(2026, 3, 4)], time(12, 0)),
     ("4/3 at noon", [date(2026, 4, 3), date(2026, 3, 4)], time(12, 0)),
     ("tonight", [TODAY], time(19, 0)),
     ("esta tarde", [TODAY], time(12, 0))],
)  # fmt: skip
def test_a_day_with_a_time(text: str, days: list[date], at: time) -> None:
    assert day_and_time(text, today=TODAY, month_first=True) == (days, at)


@pytest.mark.parametrize("text", ["tomorrow", "3/15", "Monday", "I feel better", "5pm", ""])
def test_no_time_said_with_a_day(text: str) -> None:
    assert day_and_time(text, today=TODAY, month_first=True) is None


def test_days_said() -> None:
    assert days_said("pasado mañana", today=TODAY, month_first=False) == [date(2026, 3, 4)]
    assert days_said("the day after tomorrow", today=TODAY, month_first=False) == [date(2026, 3, 4)]
    assert days_said("el próximo lunes", today=TODAY, month_first=False) == [date(2026, 3, 9)]
    assert days_said("4/3", today=TODAY, month_first=False) == [date(2026, 3, 4), date(2026, 4, 3)]
    assert days_said("soon", today=TODAY, month_first=False) == []


def test_tomorrow_said_before_dawn() -> None:
    assert says_tomorrow("tomorrow morning") and says_tomorrow("mañana por la tarde")
    assert not says_tomorrow("tomorrow") and not says_tomorrow("Monday morning")
    assert before_dawn(time(2, 15)) and not before_dawn(time(6, 0))
