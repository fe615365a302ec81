"""Which direction controls a clinician's template leaves open (core/direction_controls.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.direction_controls import first_open_control, unclosed_direction_control


@pytest.mark.parametrize(
    ("source", "open_char", "line"),
    [
        ("dose at \u202e{{ due_at }}", "U+202E", 1),
        ("a\u202bb", "U+202B", 1),
        ("ok\n\u2066x", "U+2066", 2),
        ("\u2067x\u202c", "U+2067", 1),  # a PDF does not close an isolate
        ("\u202ex\u2069", "U+202E", 1),  # a PDI closes no embedding outside an isolate
        ("\u202ax\n\u202c", "U+202A", 1),  # the closer must be on the line
        ("\u2068x\u2069\u202d", "U+202D", 1),
    ],
)
def test_an_open_control_is_named_with_its_line(source: str, open_char: str, line: int) -> None:
    problem = unclosed_direction_control(source)
    assert problem is not None
    assert problem.startswith(f"line {line}: {open_char} (")


@pytest.mark.parametrize(
    "source",
    [
        "Time for your dose",
        "\u202ex\u202c",
        "\u2067x\u2069",
        "\u2066a\u202eb\u2069",  # the PDI closes the override opened inside its isolate
        "\u200f\u200e\u061c marks without a scope",
        "",
    ],
)
def test_closed_or_scopeless_controls_pass(source: str) -> None:
    assert unclosed_direction_control(source) is None


VECTORS = Path(__file__).resolve().parents[2] / "dashboard" / "test" / "direction-controls.json"


def test_the_shared_vectors_hold_for_the_api() -> None:
    """The vectors the dashboard's copy of the rule is held to too
    (dashboard/test/direction-controls.test.mjs): a divergence fails one side."""
    vectors = json.loads(VECTORS.read_text("utf-8"))["vectors"]
    differ = []
    for vector in vectors:
        found = first_open_control(vector["text"])
        ours = (
            None
            if found is None
            else {"line": found.line, "char": found.code, "closer": found.closer}
        )
        if ours != vector["open"]:
            differ.append(f"{vector['text']!r}: API {ours}, vectors {vector['open']}")
    assert differ == []
    assert len(vectors) > 30
