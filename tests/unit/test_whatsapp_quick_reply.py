"""Fitting options into a WhatsApp quick reply: limits, shortened titles, body parts, layouts."""

from __future__ import annotations

import pytest

from platforms.base import Option
from platforms.whatsapp_quick_reply import (
    BODY_TOO_LONG,
    DATA_TOO_LONG,
    EMPTY_BODY,
    EMPTY_LABEL,
    LABEL_TOO_LONG,
    MAX_TITLE_CHARS,
    MAX_VARIABLE_CHARS,
    TITLES_NOT_UNIQUE,
    TOO_MANY_OPTIONS,
    Layout,
    QuickReplyPlan,
    fit_title,
    plan_quick_reply,
    split_body,
)

REMINDER_OPTIONS = (
    Option("Taken", "d:0123456789abcdef0123456789abcdef:t"),
    Option("Snooze 15 min", "d:0123456789abcdef0123456789abcdef:s"),
    Option("Skip", "d:0123456789abcdef0123456789abcdef:k"),
)


def test_reminder_fits_three_buttons_with_data_as_ids() -> None:
    plan = plan_quick_reply("Time for your 8:00 PM dose.", REMINDER_OPTIONS)
    assert isinstance(plan, QuickReplyPlan)
    assert plan.layout == Layout(buttons=3, body_parts=1)
    assert plan.variables == {
        "1": "Time for your 8:00 PM dose.",
        "2": "Taken",
        "3": REMINDER_OPTIONS[0].data,
        "4": "Snooze 15 min",
        "5": REMINDER_OPTIONS[1].data,
        "6": "Skip",
        "7": REMINDER_OPTIONS[2].data,
    }


def test_create_request_is_the_documented_shape() -> None:
    request = Layout(buttons=2, body_parts=2).create_request()
    assert set(request) == {"friendly_name", "language", "variables", "types"}
    assert request["language"] == "en"
    assert request["types"] == {
        "twilio/quick-reply": {
            "body": "{{1}}{{2}}",
            "actions": [{"title": "{{3}}", "id": "{{4}}"}, {"title": "{{5}}", "id": "{{6}}"}],
        }
    }
    # A sample for every variable, within the documented key and value limits.
    assert sorted(request["variables"], key=int) == ["1", "2", "3", "4", "5", "6"]
    assert all(len(k) <= 16 and len(v) <= 255 for k, v in request["variables"].items())


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ((*REMINDER_OPTIONS, Option("Later", "x:1")), TOO_MANY_OPTIONS),
        ((Option("x" * 41, "a"),), LABEL_TOO_LONG),
        ((Option("  \n ", "a"),), EMPTY_LABEL),
        ((Option("Taken", "d" * 201),), DATA_TOO_LONG),
        ((Option("Taken", ""),), DATA_TOO_LONG),
        # Both shorten to "Remind me in fifteen…": the patient could not tell them apart.
        (
            (
                Option("Remind me in fifteen minutes", "a"),
                Option("Remind me in fifteen hours", "b"),
            ),
            TITLES_NOT_UNIQUE,
        ),
        ((Option("Yes", "a"), Option("YES", "b")), TITLES_NOT_UNIQUE),
    ],
)
def test_options_that_do_not_fit_say_why(options: tuple[Option, ...], reason: str) -> None:
    assert plan_quick_reply("Pick one", options) == reason


def test_body_limits() -> None:
    assert plan_quick_reply("   ", REMINDER_OPTIONS) == EMPTY_BODY
    assert plan_quick_reply("x" * 1025, REMINDER_OPTIONS) == BODY_TOO_LONG
    plan = plan_quick_reply("x" * 1024, REMINDER_OPTIONS)
    assert isinstance(plan, QuickReplyPlan) and plan.layout.body_parts == 5


@pytest.mark.parametrize(
    ("label", "title"),
    [
        ("Taken", "Taken"),
        ("Exactly twenty chars", "Exactly twenty chars"),
        ("Snooze  for\n15 min", "Snooze for 15 min"),
        ("Remind me again in one hour", "Remind me again in\u2026"),
        ("Averyveryverylongwordonly", "Averyveryverylongwo\u2026"),
        # Never split an accent from its letter (e + combining acute at the cut).
        ("Abcdefghijklmnopqre\u0301sumé", "Abcdefghijklmnopqr\u2026"),
    ],
)
def test_titles_are_shortened_safely(label: str, title: str) -> None:
    fitted = fit_title(label)
    assert not isinstance(fitted, str)
    assert fitted.text == title
    assert len(fitted.text) <= MAX_TITLE_CHARS


@pytest.mark.parametrize(
    "text",
    [
        "short",
        "word " * 120,
        "x" * 600,
        ("Take your medicine with water. " * 30).strip(),
        "a" * 254 + " " + "b" * 300,
    ],
)
def test_body_parts_join_back_exactly(text: str) -> None:
    parts = split_body(text)
    assert "".join(parts) == text
    assert all(0 < len(p) <= MAX_VARIABLE_CHARS for p in parts)
    # No part begins or ends with whitespace a provider might trim, where a clean cut was near.
    for part in parts[:-1]:
        assert not part[-1].isspace()
    for part in parts[1:]:
        assert not part[0].isspace()
