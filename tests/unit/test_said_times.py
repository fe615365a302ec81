"""bot.said_times: lists of times in a text, each with its article where Spanish needs one
(a table, no clock, no database)."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest

from bot import texts
from bot.said_times import joined, said, times_said


def _t(locale: str) -> Any:
    return lambda key, **values: texts.text(locale, key, **values)


@pytest.mark.parametrize(
    ("times", "spec", "shown"),
    [
        ([time(1)], "a", "a la 1:00"),
        ([time(1), time(11)], "a", "a la 1:00 y a las 11:00"),
        ([time(11), time(13, 30)], "a", "a las 11:00 y a las 13:30"),
        ([time(8), time(14), time(1)], "de", "de las 8:00, de las 14:00 y de la 1:00"),
        ([time(1), time(11)], "", "1:00, 11:00"),
    ],
)
def test_a_spanish_list_gives_each_time_its_article(
    times: list[time], spec: str, shown: str
) -> None:
    assert format(times_said(times, "es"), spec) == shown


def test_a_phrase_around_lists_keeps_them_lists() -> None:
    """A traveller's times: the phrase's words kept, each list said as the text asks."""
    here = said(
        _t("es"),
        "times_on_days",
        "es",
        times=times_said([time(1), time(7)], "es"),
        days="los mar",
    )
    home = said(_t("es"), "times_and_days", "es", times=times_said([time(9)], "es"), days="x")
    phrase = said(
        _t("es"),
        "times_where_you_are",
        "es",
        local=joined("; ", [here, here], "es"),
        home=home,
        zone="Madrid",
    )
    assert format(phrase, "a") == (
        "a la 1:00 y a las 7:00 los mar; a la 1:00 y a las 7:00 los mar donde estás"
        " (a las 9:00, x en casa, Madrid)"
    )
    assert (
        str(phrase)
        == "1:00, 7:00 los mar; 1:00, 7:00 los mar donde estás (9:00, x en casa, Madrid)"
    )


def test_english_lists_read_as_before() -> None:
    assert texts.text("en", "med_saved", times=times_said([time(8), time(20)], "en")) == (
        "Saved. I'll remind you at 8:00 AM, 8:00 PM."
    )
