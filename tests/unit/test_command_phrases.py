"""bot.command_phrases: which sentences are /pause and /resume said in words, and which are not."""

from __future__ import annotations

import pytest

from bot.command_phrases import (
    command_phrase,
    one_medicine_word,
    pause_days,
    short_break_minutes,
    vague_pause_unit,
)

SAID = [
    ("pause for 3 days", ("pause", "for 3 days")),
    ("Pause 3 days.", ("pause", "3 days")),
    ("pause 3d", ("pause", "3d")),
    ("Pause my reminders for a week, please", ("pause", "for a week")),
    ("please pause all reminders", ("pause", "")),
    ("pause until 3/15", ("pause", "until 3/15")),
    ("pausa 3 días", ("pause", "3 dias")),
    ("Pausar los recordatorios por una semana", ("pause", "por una semana")),
    ("pausa hasta el lunes", ("pause", "hasta el lunes")),
    ("pausa por favor", ("pause", "")),
    ("pause 5000 days", ("pause", "5000 days")),  # pauses; only its end is not named
    # A short break: /pause says what to do instead (bot.dialogs.pause_short).
    ("pause 30 min", ("pause", "30 min")),
    ("pause for an hour", ("pause", "for an hour")),
    ("pausa media hora", ("pause", "media hora")),
    ("Pausar los recordatorios por 2 horas", ("pause", "por 2 horas")),
    # A length with a half, and one of no number (how many is asked: bot.dialogs.pause_count).
    ("pausa 1 semana y media", ("pause", "1 semana y media")),
    ("pause for a week and a half", ("pause", "for a week and a half")),
    ("pausa unos días", ("pause", "unos dias")),
    ("pause my reminders for a few days", ("pause", "for a few days")),
    ("pause for a while", ("pause", "for a while")),
    ("resume my reminders", ("resume", "")),
    ("Reanudar los recordatorios", ("resume", "")),
    ("reanuda", ("resume", "")),
    ("unpause", ("resume", "")),
]
# A medicine's name, a number of nothing, an answer, or a sentence about something else.
NOT_SAID = [
    "pause metformin",
    "pause 3",
    "resume 3 days",
    "I want to pause",
    "snooze 30",
    "3",
    "hold",
]


@pytest.mark.parametrize(("text", "expected"), SAID)
def test_phrases_name_their_command(text: str, expected: tuple[str, str]) -> None:
    assert command_phrase(text) == expected


@pytest.mark.parametrize("text", NOT_SAID)
def test_other_texts_are_no_phrase(text: str) -> None:
    assert command_phrase(text) is None


@pytest.mark.parametrize(
    ("arg", "days"),
    [("3 days", 3), ("for a week", 7), ("por 2 semanas", 14), ("reminders for 3 days", 3),
     ("the next 10 days", 10), ("until 3/15", None), ("5000 days", None), ("", None),
     ("a week and a half", 10.5), ("1.5 weeks", 10.5), ("1,5 semanas", 10.5),
     ("una semana y media", 10.5), ("1 semana y media", 10.5), ("two and a half days", 2.5),
     ("dos semanas y media", 17.5), ("half a week", 3.5), ("media semana", 3.5),
     ("a couple of days", 2), ("un par de semanas", 14), ("half a day", None),
     ("a few days", None)],
)  # fmt: skip
def test_pause_days(arg: str, days: float | None) -> None:
    assert pause_days(arg) == days


@pytest.mark.parametrize(
    ("arg", "minutes"),
    [("30 min", 30), ("for an hour", 60), ("2h", 120), ("media hora", 30), ("half an hour", 30),
     ("por 2 horas", 120), ("reminders for 90 minutes", 90), ("the next 3 hrs", 180),
     ("36 hours", 2160), ("half a day", 720), ("medio día", 720), ("0 min", None),
     ("3 days", None), ("until 5pm", None), ("3", None)],
)  # fmt: skip
def test_short_break_minutes(arg: str, minutes: int | None) -> None:
    assert short_break_minutes(arg) == minutes


@pytest.mark.parametrize(
    ("text", "word"),
    [("pause metformin", "pause"), ("Reanudar el ibuprofeno", "resume"), ("pause 30 min", None),
     ("pause for an hour", None),
     ("pause for 3 days", None), ("pause", None), ("snooze 30", None), ("I want to pause", None),
     ("hold on", None)],
)  # fmt: skip
def test_one_medicine_word(text: str, word: str | None) -> None:
    assert one_medicine_word(text) == word


@pytest.mark.parametrize(
    ("arg", "unit"),
    [("a few days", "days"), ("unos días", "days"), ("unos pocos días", "days"),
     ("algunas semanas", "weeks"), ("for some weeks", "weeks"), ("a while", "days"),
     ("un tiempo", "days"), ("3 days", None), ("until Monday", None), ("", None)],
)  # fmt: skip
def test_vague_pause_unit(arg: str, unit: str | None) -> None:
    assert vague_pause_unit(arg) == unit
