"""Locale-aware Jinja filters for message templates: times, dates and weekdays in the
recipient's timezone and language (Babel, parsed once and cached), and the clinician templates'
filter set with each date bounded to its format's longest spelling.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, format_skeleton, format_time
from jinja2 import Environment, pass_context

from core import template_language as lang

FALLBACK_LOCALE = "en"

# Characters CLDR puts in times and dates ("8:00\u202fPM") that would force UCS-2 on SMS.
_SPACE_LIKE = ("\u202f", "\u00a0", "\u2009")


def plain_spaces(text: str) -> str:
    """``text`` with CLDR's narrow and no-break spaces as plain spaces (a replace per character
    present: far cheaper than ``str.translate`` with a table, which looks up every character)."""
    for space in _SPACE_LIKE:
        if space in text:
            text = text.replace(space, " ")
    return text


def gsm7_letters(text: str) -> str:
    """``text`` with each letter GSM-7 lacks written without its accent where GSM-7 has the plain
    letter ("sáb" -> "sab"); é, ñ, ü and the other accented letters GSM-7 has stay. For a word
    the service writes itself on SMS, where one such letter makes the whole message UCS-2."""
    return "".join(_gsm7_letter(ch) for ch in text)


@lru_cache(maxsize=1024)
def _gsm7_letter(ch: str) -> str:
    if ch in lang.GSM7_BASIC or ch in lang.GSM7_EXTENSION:
        return ch
    base = unicodedata.normalize("NFD", ch)[0]
    return base if base != ch and base in lang.GSM7_BASIC else ch


# --------------------------------------------------------------------------------------------
# Locale-aware filters


class Values(Protocol):
    """Where a filter reads the recipient's ``timezone`` and ``locale``: Jinja's context, or the
    message's values themselves (core.render_compiled)."""

    def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key``, else ``default``."""


def _localized(ctx: Values, value: Any) -> Any:
    zone = ctx.get("timezone")
    if zone and isinstance(value, datetime) and value.tzinfo is not None:
        if getattr(value.tzinfo, "key", None) == str(zone):
            # Already on the recipient's clock: shown at its wall time, also a dose's set time
            # that the clocks sprang over (core.dose_times), which no conversion would keep.
            return value
        return value.astimezone(ZoneInfo(str(zone)))
    return value


def _locale(ctx: Values) -> str:
    return babel_locale(str(ctx.get("locale") or FALLBACK_LOCALE))


@lru_cache(maxsize=512)
def _babel_object(tag: str) -> Locale:
    """The parsed :class:`babel.Locale` of a :func:`babel_locale` tag, parsed once."""
    return Locale.parse(tag)


# Formatted dates and times, by value, format and locale: at 08:00 thousands of reminders show the
# same few instants in the same few zones and languages, and Babel's pattern formatting costs far
# more than a lookup. Cleared when full (a day's distinct instants fit many times over).
_FORMATTED: dict[tuple[Any, ...], str] = {}
_FORMATTED_MAX = 8192


def _babel_format(function: Any, value: Any, format: str, tag: str) -> str:
    """``function(value, format, locale=tag)`` (a Babel formatter), cached.

    Aware datetimes equal as instants compare equal across zones, so the key holds the wall
    clock, ``fold`` and the zone itself: "08:00 UTC" never answers for "09:00 Europe/Madrid".
    """
    if isinstance(value, datetime):
        key: tuple[Any, ...] = (function, value.replace(tzinfo=None), value.fold, value.tzinfo)
    else:
        key = (function, type(value), value)
    key += (format, tag)
    found = _FORMATTED.get(key)
    if found is None:
        found = function(value, format, locale=_babel_object(tag))
        if len(_FORMATTED) >= _FORMATTED_MAX:
            _FORMATTED.clear()
        _FORMATTED[key] = found
    return found


@lru_cache(maxsize=512)
def babel_locale(tag: str) -> str:
    """A locale Babel can format for: ``es-MX`` -> ``es_MX``; unknown -> its language -> English.

    Patients' locales are BCP 47 tags (hyphens); Babel parses underscores only, and a locale it
    does not know must not fail a reminder.
    """
    candidate = tag.strip().replace("-", "_")
    for option in (candidate, candidate.split("_")[0]):
        try:
            Locale.parse(option)
        except (ValueError, TypeError, UnknownLocaleError):
            continue
        return option
    return FALLBACK_LOCALE


# A datetime filter's text by the value, its own zone and fold, the recipient's zone and locale
# and the format: the conversion to the recipient's zone skipped too (twice per reminder, for its
# text and its HTML; issue 20). Cleared when full.
_ZONED: dict[tuple[Any, ...], str] = {}


def _zoned_format(function: Any, ctx: Values, value: Any, format: str) -> str:
    """``function`` (a Babel formatter) of ``value`` in the context's zone and locale, cached."""
    if not isinstance(value, datetime):
        return _babel_format(function, _localized(ctx, value), format, _locale(ctx))
    zone, tag = ctx.get("timezone"), ctx.get("locale")
    key = (function, value, value.tzinfo, value.fold, zone, tag, format)
    found = _ZONED.get(key)
    if found is None:
        found = _babel_format(function, _localized(ctx, value), format, _locale(ctx))
        if len(_ZONED) >= _FORMATTED_MAX:
            _ZONED.clear()
        _ZONED[key] = found
    return found


@pass_context
def _time_filter(ctx: Values, value: datetime, format: str = "short") -> str:
    return _zoned_format(format_time, ctx, value, format)


@pass_context
def _date_filter(ctx: Values, value: date, format: str = "medium") -> str:
    return _zoned_format(format_date, ctx, value, format)


@pass_context
def _datetime_filter(ctx: Values, value: datetime, format: str = "medium") -> str:
    value = _localized(ctx, value)
    if format in {"short", "medium"}:
        # Babel's medium datetime shows seconds; nobody wants "8:00:00 PM" in a reminder.
        day = _babel_format(format_date, value, format, _locale(ctx))
        return f"{day}, {_babel_format(format_time, value, 'short', _locale(ctx))}"
    return _babel_format(format_datetime, value, format, _locale(ctx))


@pass_context
def _weekday_filter(ctx: Values, value: date) -> str:
    return _babel_format(format_date, _localized(ctx, value), "EEEE", _locale(ctx))


# The first number of a time as shown: its hour, on a 24- or a 12-hour clock ("1:30 p. m.").
_FIRST_NUMBER = re.compile(r"\d+")


def hour_article(time_text: str) -> str:
    """Spanish's article for a time as shown: "la" before one o'clock ("a la 1:30", "de la 1:00
    p. m."), "las" before every other hour ("a las 9:00", "a las 13:30"). Read from the text the
    reader sees, so a 12-hour clock's 1 p.m. is "la" too. Every Spanish text that says "a las"
    or "de las" before a time takes its article from here: the bot's texts by ``{time:
    hour_article}`` (bot.texts) and a list of times by ``{times:a}``, each time its own ("a la
    1:00 y a las 11:00", bot.said_times), the message templates by the ``hour_article``
    filter."""
    found = _FIRST_NUMBER.search(time_text)
    return "la" if found is not None and int(found[0]) == 1 else "las"


@pass_context
def _hour_article_filter(ctx: Values, value: datetime, format: str = "short") -> str:
    """:func:`hour_article` of ``value`` as the ``time`` filter shows it."""
    return hour_article(_time_filter(ctx, value, format))


def fmt_day(value: date | datetime, locale: str, *, sms: bool = False) -> str:
    """A day by its weekday and date, no year ("Tue, December 1", "mar, 1 de diciembre"): the
    day of a dose named in a reminder sent on another day (scheduler.dose_day) and in the bot's
    answers about such a dose (bot.dialogs.answers). ``locale``: a patient's tag (``es-MX``).

    ``sms``: in GSM-7 letters (:func:`gsm7_letters`): Spanish "sáb, 7 de marzo" is "sab, 7 de
    marzo" on SMS, where "á" made an otherwise GSM-7 reminder UCS-2, two segments instead of
    one. Every other channel gets CLDR's spelling."""
    text = format_skeleton("MMMMEd", value, locale=babel_locale(locale))
    return gsm7_letters(text) if sms else text


# The message templates' filters (core.render_compiled calls them with the message's values in
# place of a Jinja context: they read it only through ``ctx.get("timezone"/"locale")``).
FILTERS = {
    "time": _time_filter,
    "date": _date_filter,
    "datetime": _datetime_filter,
    "weekday": _weekday_filter,
    "hour_article": _hour_article_filter,
}


def _add_filters(env: Environment) -> Environment:
    env.filters.update(FILTERS)
    return env


def _bounded(name: str, function: Any) -> Any:
    """A date filter for clinician templates: its text at most its format's bound (a rare
    locale's longer spelling is shortened, so the worst-case length check holds)."""
    formats = lang.DATE_FORMATS[name]
    default = lang.DEFAULT_DATE_FORMAT[name]

    @pass_context
    def bounded(ctx: Values, value: Any, *args: Any) -> str:
        chosen = args[0] if args else default
        text = plain_spaces(function(ctx, value, *args))
        return lang.clamp(text, formats.get(chosen, max(formats.values())))

    return bounded


def _clinician_filters(env: Environment) -> Environment:
    """Only the language's filters (:data:`core.template_language.FILTERS`), dates bounded."""
    allowed = {name: env.filters[name] for name in lang.FILTERS if name in env.filters}
    allowed.update({name: _bounded(name, FILTERS[name]) for name in lang.DATE_FORMATS})
    env.filters = allowed
    env.tests = {name: env.tests[name] for name in lang.TESTS}
    return env
