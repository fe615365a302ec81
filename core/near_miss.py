"""What a client probably meant by a name we do not know: the one place that words the hint.

A misspelt or guessed field, query parameter or value (``events`` for ``event_types``,
``medication`` for ``medication_reminder``) is answered with the closest known names
(:func:`difflib.get_close_matches`), and, when nothing is close, with the names that are known,
so the client can fix the request without reading the documentation first.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection

# difflib's ratio above which a known name counts as what was meant (0.6 is difflib's default;
# "events" -> "event_types" scores 0.71, "pateint_id" -> "patient_id" 0.9).
CUTOFF = 0.6
# Names listed when nothing is close: beyond this the list stops helping (the docs do).
LIST_AT_MOST = 16


def close_matches(name: str, known: Collection[str], *, at_most: int = 2) -> list[str]:
    """The known names closest to ``name``, best first; also a known name that differs only by
    case, separators or a prefix/suffix the client added (``eventTypes``, ``patient``)."""
    candidates = sorted(set(known))
    folded = {_fold(k): k for k in candidates}
    exact = folded.get(_fold(name))
    if exact is not None and exact != name:
        return [exact]
    found = difflib.get_close_matches(name.lower(), candidates, n=at_most, cutoff=CUTOFF)
    if not found:
        # "patient" for "patient_id", "type" for "event_types": a part of one known name only.
        key = _fold(name)
        parts = [k for k in candidates if len(key) >= 4 and key in _fold(k)]
        found = parts if len(parts) == 1 else []
    return found


def hint(name: str, known: Collection[str], *, what: str = "field") -> str:
    """``"; did you mean event_types?"`` or ``"; known fields: a, b, c"`` (empty without any)."""
    found = close_matches(name, known)
    if found:
        return "; did you mean " + " or ".join(found) + "?"
    names = sorted(set(known))
    if not names:
        return ""
    listed = ", ".join(names[:LIST_AT_MOST]) + (", ..." if len(names) > LIST_AT_MOST else "")
    return f"; known {what}s: {listed}"


def _fold(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())
