"""Lists of times of day in a text, each time with its own article where the language needs one.

A Spanish text said "Te lo recordaré a {times:hour_article} {times}" with the times comma
separated: the article of the first time stood for all of them, "a la 1:00, 11:00". Spanish
takes an article per time, each after its preposition: "a la 1:00 y a las 11:00". A
:class:`SaidTimes` keeps the times apart until the text is written: ``{times}`` is them comma
separated, as before ("1:00 AM, 11:00 AM"); a preposition as the format spec, ``{times:a}`` or
``{times:de}``, writes each time after it with its article (core.template_filters.hour_article),
joined as the language joins a list ("a la 1:00 y a las 11:00", "de las 8:00, de las 14:00 y de
las 20:00"; Babel's list patterns).

A list is often said inside a longer phrase: "8:00, todos los días", or for a traveller "1:00
donde estás (9:00 en casa, Madrid)". :func:`said` writes such a phrase (a text key with
:class:`SaidTimes` among its values) as a :class:`SaidTimes` too, its words kept as written and
its lists still apart, so the text the phrase goes into decides how every list in it is said.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import time
from typing import Any

from babel.lists import format_list

from bot.locale_format import fmt_time
from core.template_filters import hour_article

# Stands for a list while a phrase around it is written: no text key or value contains it.
_MARK = "\x00"


@dataclass(frozen=True)
class SaidTimes:
    """Words and lists of times (each list a tuple of times as shown), in ``locale``."""

    parts: tuple[str | tuple[str, ...], ...]
    locale: str

    def __str__(self) -> str:
        return self.__format__("")

    def __format__(self, spec: str) -> str:
        """The phrase, each list comma separated; with ``spec`` (a preposition: "a", "de") each
        time after it with its article, the list joined by the language's "y"."""
        return "".join(
            part if isinstance(part, str) else self._list(part, spec) for part in self.parts
        )

    def _list(self, times: tuple[str, ...], preposition: str) -> str:
        if not preposition:
            return ", ".join(times)
        each = [f"{preposition} {hour_article(at)} {at}" for at in times]
        return format_list(each, locale=self.locale)


def times_said(values: Iterable[time], locale: str) -> SaidTimes:
    """Times of day, short, per locale (bot.locale_format.fmt_time), as one list."""
    return SaidTimes((tuple(fmt_time(v, locale) for v in values),), locale)


def said(write: Callable[..., str], key: str, locale: str, /, **values: Any) -> SaidTimes:
    """The text ``key`` written by ``write`` (``turn.t``) with ``values``, as a
    :class:`SaidTimes`: the lists among ``values`` stay lists in it, wherever the text puts
    them."""
    lists: list[SaidTimes] = []
    marked: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, SaidTimes):
            marked[name] = f"{_MARK}{len(lists)}{_MARK}"
            lists.append(value)
        else:
            marked[name] = value
    pieces = write(key, **marked).split(_MARK)
    parts: list[str | tuple[str, ...]] = []
    for n, piece in enumerate(pieces):
        if n % 2 == 0:
            parts.append(piece)  # words
        else:
            parts.extend(lists[int(piece)].parts)  # a list's own words and lists
    return SaidTimes(tuple(p for p in parts if p != ""), locale)


def joined(separator: str, phrases: Iterable[SaidTimes], locale: str) -> SaidTimes:
    """``phrases`` one after the other, ``separator`` between them."""
    parts: list[str | tuple[str, ...]] = []
    for n, phrase in enumerate(phrases):
        if n:
            parts.append(separator)
        parts.extend(phrase.parts)
    return SaidTimes(tuple(parts), locale)
