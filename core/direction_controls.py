"""Direction controls left open in a clinician's template.

An embedding, override or isolate (U+202A, U+202B, U+202D, U+202E; U+2066-U+2068) reorders the
text after it up to its closer (U+202C for the first four, U+2069 for isolates) or the end of
the paragraph. Closed on its line it is right-to-left writing doing its job; left open, the
rest of the line reads reversed in every message made from the template ("Your dose at 20:00"
shows "00:02 ta esod ruoY"), the "Trojan Source" trick. Values filled in lose these controls
(:func:`core.person_names.without_direction_scopes`); a template's own text is checked when it is
saved, never when it is sent, so a stored template keeps sending.
"""

from __future__ import annotations

import unicodedata
from typing import NamedTuple

_EMBEDDINGS = frozenset("\u202a\u202b\u202d\u202e")  # closed by U+202C (PDF)
_ISOLATES = frozenset("\u2066\u2067\u2068")  # closed by U+2069 (PDI)
_PDF, _PDI = "\u202c", "\u2069"


class OpenControl(NamedTuple):
    """A direction control left open: its line (from 1, as :meth:`str.splitlines` counts lines)
    and the character itself."""

    line: int
    char: str

    @property
    def code(self) -> str:
        """The character's code point, as ``U+202E``."""
        return f"U+{ord(self.char):04X}"

    @property
    def closer(self) -> str:
        """The code point that closes it: U+2069 for an isolate, U+202C otherwise."""
        return "U+2069" if self.char in _ISOLATES else "U+202C"


def first_open_control(source: str) -> OpenControl | None:
    """The first direction control ``source`` leaves open on its line, or None.

    The dashboard applies the same rule (dashboard/src/lib/direction-controls.ts); both are held
    to dashboard/test/direction-controls.json.
    """
    for number, line in enumerate(source.splitlines(), 1):
        opened: list[str] = []
        for char in line:
            if char in _EMBEDDINGS or char in _ISOLATES:
                opened.append(char)
            elif char == _PDF and opened and opened[-1] in _EMBEDDINGS:
                opened.pop()
            elif char == _PDI and any(c in _ISOLATES for c in opened):
                # A PDI closes its isolate and whatever was opened inside it.
                while opened.pop() not in _ISOLATES:
                    pass
        if opened:
            return OpenControl(number, opened[0])
    return None


def unclosed_direction_control(source: str) -> str | None:
    """The problem of the first direction control ``source`` leaves open on its line, or None."""
    found = first_open_control(source)
    if found is None:
        return None
    return (
        f"line {found.line}: {found.code} ({unicodedata.name(found.char)}) is not closed on its"
        " line: the rest of the line would read reordered or reversed in the message."
        f" Remove it, or close it with {found.closer}"
    )
