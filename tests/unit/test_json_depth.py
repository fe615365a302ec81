"""json_input's depth check from the bytes agrees with the walk over the decoded document.

The byte count (medremind/web/json_input.py ``_deeper_than``) decides whether a body of many
brackets is walked at all; a string holding brackets or escaped quotes must not hide depth
from it, nor add depth that is not there.
"""

from __future__ import annotations

import json

import pytest

from medremind.web import json_input

DEPTH = 8


def _nested(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


BODIES = {
    "as deep as allowed": _nested(DEPTH),
    "one deeper": _nested(DEPTH + 1),
    "wide, shallow": json.dumps([{"a": [1]}] * 50),
    "closing brackets in a string": _nested(DEPTH + 1, '"]]]]]]]]]]"'),
    "opening brackets in a string": _nested(DEPTH - 2, '"[[[[[[[[[[[[[[[["'),
    "escaped quote then brackets": _nested(DEPTH + 1, '"\\\\\\"]]]]]]]]]]\\\\"'),
    "backslash at a string's end": json.dumps({"a": "\\", "b": json.loads(_nested(DEPTH))}),
    "in an object": json.dumps({"x": {"y": json.loads(_nested(DEPTH - 1))}}),
}


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_the_bytes_say_what_the_walk_says(body: str) -> None:
    value = json.loads(body)
    try:
        json_input._walk(value, DEPTH, True, strings=False)
        walked = False
    except json_input.UnsafeJson:
        walked = True
    assert json_input._deeper_than(body.encode(), DEPTH) is walked
    utf16 = body.encode("utf-16")
    assert json_input._deeper_than(utf16, DEPTH) is True  # not UTF-8: always walked
