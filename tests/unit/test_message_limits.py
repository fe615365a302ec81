"""SMS segment counting by character classes gives what counting by sets gave (issue 20)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from core.message_limits import (
    GSM7,
    UCS2,
    _segments,
    count_segments,
    format_numbered_options,
)
from core.messages import Option
from core.template_language import GSM7_BASIC, GSM7_EXTENSION

_ALL = GSM7_BASIC | GSM7_EXTENSION


def _by_sets(text: str) -> tuple[str, int]:
    """count_segments as it was written before (a set per text, a count per character)."""
    if _ALL.issuperset(text):
        costs = [2 if ch in GSM7_EXTENSION else 1 for ch in text]
        return GSM7, _segments(costs, single=160, multi=153)
    costs = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    return UCS2, _segments(costs, single=70, multi=67)


# GSM-7 characters (the extension's often), a few that are not (é is, è is, ê is not; € is an
# extension character), an emoji outside the BMP, a lone surrogate, the regex's own specials.
_CHARACTERS = st.one_of(
    st.sampled_from(sorted(_ALL)),
    st.sampled_from(sorted(GSM7_EXTENSION)),
    st.sampled_from(["ê", "ç", "\u202f", "😀", "\ud800", "-", "^", "]", "\\", "\t"]),
    st.characters(),
)


@settings(max_examples=600, deadline=None)
@given(st.text(_CHARACTERS, max_size=400))
def test_segments_are_counted_as_by_sets(text: str) -> None:
    assert count_segments(text) == _by_sets(text)


def test_every_character_is_classed_as_the_sets_class_it() -> None:
    for code in range(0x3000):
        ch = chr(code)
        assert count_segments(ch) == _by_sets(ch), repr(ch)
    assert count_segments("") == (GSM7, 1)
    assert count_segments("€" * 80) == (GSM7, 1)  # 160 septets
    assert count_segments("€" * 80 + "a") == (GSM7, 2)


def test_numbered_options_are_written_one_per_line() -> None:
    options = (Option("Taken", "d:1:t"), Option("Skip", "d:1:k"))
    assert format_numbered_options(options) == "1 Taken\n2 Skip"
    assert format_numbered_options(()) == ""
