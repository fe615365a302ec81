"""bot.parsing.weekday_ahead: "until Monday" in a /pause is the next Monday, never today."""

from __future__ import annotations

from datetime import date

import pytest

from bot.parsing import weekday_ahead

MONDAY = date(2026, 3, 2)


@pytest.mark.parametrize(
    ("text", "day"),
    [("Monday", date(2026, 3, 9)), ("tue", date(2026, 3, 3)), ("next Friday", date(2026, 3, 6)),
     ("el lunes", date(2026, 3, 9)), ("el próximo sábado", date(2026, 3, 7)),
     ("domingo que viene", date(2026, 3, 8)), ("sunday.", date(2026, 3, 8)),
     ("I feel better", None), ("3/4", None), ("", None)],
)  # fmt: skip
def test_the_next_day_of_that_weekday(text: str, day: date | None) -> None:
    assert weekday_ahead(text, today=MONDAY) == day
