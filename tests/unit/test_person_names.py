"""The rule for a person's name (core/person_names.py) and the bot's use of it (bot/parsing.py)."""

from __future__ import annotations

import unicodedata

import pytest

from bot.parsing import name_refusal, parse_name
from core.combining_marks import COMBINING_MARKS
from core.person_names import INVISIBLE, clean_name, is_visible


def test_every_control_format_and_space_character_counts_as_invisible() -> None:
    """The table is written out (the migration lists the same ranges); a Unicode that brings new
    ones fails here: add them to both."""
    listed = {cp for lo, hi in INVISIBLE for cp in range(lo, hi + 1)}
    missing = [
        f"U+{cp:04X}"
        for cp in range(0x110000)
        if unicodedata.category(chr(cp)) in ("Cc", "Cf", "Zs", "Zl", "Zp") and cp not in listed
    ]
    assert missing == []


def test_the_combining_marks_are_unicodes_category_m() -> None:
    """Written out (the migration lists the same ranges); a Unicode with new marks fails here."""
    listed = {cp for lo, hi in COMBINING_MARKS for cp in range(lo, hi + 1)}
    marks = {cp for cp in range(0x110000) if unicodedata.category(chr(cp)).startswith("M")}
    assert listed == marks


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("\u0301\u0301", "combining accents with no letter"),
        (" \u0489\u093f ", "an enclosing mark and a vowel sign"),
        ("\u200b\u200b", "zero-width spaces"),
        ("\u200d\u200c\u2060", "joiners and a word joiner"),
        ("\u202e", "a right-to-left override alone"),
        ("\u2067\u2069", "an isolate alone"),
        ("\u200f\u200e", "direction marks"),
        ("\u3164", "a Hangul filler (a letter drawn blank)"),
        ("\u3164 \u115f\u1160 \uffa0", "fillers and spaces"),
        ("\u2800", "Braille blank"),
        ("\ufeff\u00ad", "a BOM and a soft hyphen"),
        ("\U000e0041\U000e0042", "tag characters"),
        ("\ufe0f", "a variation selector"),
    ],
)
def test_a_name_that_shows_nothing_is_refused_saying_so(typed: str, why: str) -> None:
    assert parse_name(typed) is None, why
    assert name_refusal(typed) == "invisible_name", why


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("\u202eAna", "Ana"),
        ("Ana\u202e", "Ana"),  # unterminated: it reversed what followed the name
        ("\u2067\u0639\u0644\u064a\u2069 Smith", "\u0639\u0644\u064a Smith"),
        ("\u202aJo\u202c  Lee", "Jo Lee"),
        ("\u0641\u0627\u0637\u0645\u0647\u200c\u0632\u0647\u0631\u0627", None),  # ZWNJ kept
        ("Ana\u200f", None),  # a mark without a scope stays
        ("\u3164Ana", None),  # something shows: not refused (nothing to strip either)
        ("  Ana   María ", "Ana María"),
    ],
)
def test_direction_scopes_are_removed_from_a_visible_name(typed: str, stored: str | None) -> None:
    assert parse_name(typed) == (stored if stored is not None else typed.strip())


def test_the_other_refusals_keep_their_text() -> None:
    assert name_refusal("123") == "bad_name"  # shows, but no letter
    assert name_refusal("") == "bad_name"
    assert name_refusal("/add") == "bad_name"


def test_clean_and_visible() -> None:
    assert clean_name("\u2066 \u2069") == ""
    assert not is_visible("\u200b \u3000")
    assert is_visible("\u200bA")
