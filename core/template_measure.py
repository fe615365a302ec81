"""How long a template's text can get: UTF-16 units, GSM-7 septets, SMS segments, and the caps.

:class:`Bound` is the worst-case length the checker (:mod:`core.template_language`) computes for a
template; :func:`clamp` shortens a value to its bound and :func:`iter_capped` stops a render that
passes one. Counted in UTF-16 units (what UCS-2 SMS and Telegram count) and, for SMS, as GSM-7
septets while the text is only the template's own GSM-7 characters.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

GSM7 = "GSM-7"
UCS2 = "UCS-2"
ELLIPSIS = "…"


def utf16_units(text: str) -> int:
    """Length in UTF-16 code units (what UCS-2 SMS and Telegram count)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


# GSM 03.38: the basic set costs one septet, the extension set two (escape + char).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")


def gsm_septets(text: str) -> int | None:
    """GSM-7 septets ``text`` takes, or None when it has a character outside GSM-7."""
    total = 0
    for ch in text:
        if ch in GSM7_BASIC:
            total += 1
        elif ch in GSM7_EXTENSION:
            total += 2
        else:
            return None
    return total


@dataclass(frozen=True, slots=True)
class Bound:
    """The longest text a template (or part of one) can produce.

    ``units`` are UTF-16 units; ``septets`` the GSM-7 septets when the text is always GSM-7 (only
    the template's own text, no variable), else None: an SMS is then UCS-2.
    """

    units: int
    septets: int | None
    # Of ``units``, those from the template's own text: a case filter may triple these (Unicode's
    # longest case mapping, 'ΐ' -> 'Ϊ́'), while a variable's are counted once (see the docstring of
    # core.template_language).
    fixed: int = 0

    @staticmethod
    def of(text: str) -> Bound:
        """The bound of a constant text."""
        units = utf16_units(text)
        return Bound(units, gsm_septets(text), units)

    @staticmethod
    def variable(units: int) -> Bound:
        """Text from a variable: anything, ``units`` long at most."""
        return Bound(units, None)

    def __add__(self, other: Bound) -> Bound:
        septets = (
            None if self.septets is None or other.septets is None else self.septets + other.septets
        )
        return Bound(self.units + other.units, septets, self.fixed + other.fixed)

    def widest(self, other: Bound) -> Bound:
        """Either this or ``other``: the longer of each count."""
        septets = None
        if self.septets is not None and other.septets is not None:
            septets = max(self.septets, other.septets)
        return Bound(max(self.units, other.units), septets, max(self.fixed, other.fixed))

    def scaled(self, factor: float) -> Bound:
        """Text up to ``factor`` times as long, of any characters."""
        return Bound(math.ceil(self.units * factor), None, math.ceil(self.fixed * factor))

    def sms_segments(self) -> tuple[str, int]:
        """``(encoding, segments)`` at worst: 153 septets or 67 units a concatenated segment, one
        less where a two-septet character or a surrogate pair may not straddle two segments."""
        if self.septets is not None:
            # More septets than characters: some are two-septet ones (^{}[]~|€\\).
            per_segment = 152 if self.septets > self.units else 153
            return GSM7, 1 if self.septets <= 160 else math.ceil(self.septets / per_segment)
        return UCS2, 1 if self.units <= 70 else math.ceil(self.units / 66)


NOTHING = Bound(0, 0)


def clamp(text: str, max_units: int) -> str:
    """``text`` shortened to ``max_units`` UTF-16 units with an ellipsis (:func:`cut_units`);
    unchanged when it fits."""
    if utf16_units(text) <= max_units:
        return text
    return cut_units(text, max_units - 1) + ELLIPSIS  # the ellipsis is one unit


_ZWJ = "\u200d"  # joins the emoji either side of it into one: nothing alone at the end
_FLAGS = range(0x1F1E6, 0x1F200)  # regional indicators: a flag is two of them


def cut_units(text: str, max_units: int) -> str:
    """The beginning of ``text`` in at most ``max_units`` UTF-16 units, without the spaces, a
    joiner or half a flag it would end with (a surrogate pair is one character here, never
    split); ``text`` itself when it fits."""
    out: list[str] = []
    used = 0
    for ch in text:
        cost = 2 if ord(ch) > 0xFFFF else 1
        if used + cost > max_units:
            break
        out.append(ch)
        used += cost
    if len(out) == len(text):
        return text
    while out and (out[-1] == _ZWJ or out[-1].isspace()):
        out.pop()
    flags = 0
    while flags < len(out) and ord(out[len(out) - 1 - flags]) in _FLAGS:
        flags += 1
    if flags % 2:
        out.pop()
    return "".join(out)


class OutputCapExceeded(ValueError):
    """A render passed ``MAX_TEMPLATE_UNITS`` (:mod:`core.template_vocabulary`); stopped there."""


def iter_capped(chunks: Iterator[str], max_units: int) -> str:
    """Join rendered chunks, stopping once the text passes ``max_units``."""
    parts: list[str] = []
    used = 0
    for chunk in chunks:
        used += utf16_units(chunk)
        if used > max_units:
            raise OutputCapExceeded(f"the template rendered more than {max_units} characters")
        parts.append(chunk)
    return "".join(parts)
