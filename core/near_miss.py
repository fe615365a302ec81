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
# Other APIs' words for ours, which no spelling distance finds ("language" is not close to
# "locale", nor "send_at" to "scheduled_time"): each is offered only where that name is known.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "language": ("locale",),
    "lang": ("locale",),
    "tz": ("timezone",),
    "time_zone": ("timezone",),
    "send_at": ("scheduled_time",),
    "send_time": ("scheduled_time",),
    "scheduled_at": ("scheduled_time",),
    "deliver_at": ("scheduled_time",),
    "channel": ("platform",),
    "message": ("text",),
    "body": ("text",),
    "content": ("text", "body"),
}


def close_matches(
    name: str, known: Collection[str], *, at_most: int = 2, cutoff: float = CUTOFF
) -> list[str]:
    """The known names closest to ``name``, best first; also a known name that differs only by
    case, separators or a prefix/suffix the client added (``eventTypes``, ``patient``).
    ``cutoff``: difflib's ratio a name must reach (a higher one where a guess costs more)."""
    candidates = sorted(set(known))
    folded = {_fold(k): k for k in candidates}
    exact = folded.get(_fold(name))
    if exact is not None and exact != name:
        return [exact]
    meant = [k for k in SYNONYMS.get(_fold_words(name), ()) if k in candidates]
    if meant:
        return meant[:at_most]
    found = difflib.get_close_matches(name.lower(), candidates, n=at_most, cutoff=cutoff)
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


def _fold_words(name: str) -> str:
    """``sendAt``, ``send-at`` and ``Send_At`` as ``send_at`` (the keys of :data:`SYNONYMS`)."""
    snake = "".join(f"_{ch}" if ch.isupper() else ch for ch in name.strip())
    return "_".join(w for w in snake.lower().replace("-", "_").split("_") if w)
