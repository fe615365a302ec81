"""Every text the bot says, in English and Spanish: the public entry to the text catalogue.

Texts are ``str.format`` templates keyed by name, kept one module per dialog in
:mod:`bot.text_tables` and merged here; :func:`text` picks the locale (falling back to English) and
fills in the values. Locale-aware date and time formatting lives in :mod:`bot.locale_format` and is
re-exported here, so callers keep using ``texts.fmt_time`` and friends. A test checks that both
locales define exactly the same keys and placeholders.
"""

from __future__ import annotations

import string
from datetime import date, datetime
from typing import Any

from bot.locale_format import (
    DEFAULT_LOCALE,
    LOCALES,
    fmt_date,
    fmt_day,
    fmt_time,
    fmt_times,
    fold_label,
    fold_word,
    pick_locale,
)
from bot.said_times import SaidTimes
from bot.text_tables import (
    account,
    answers,
    appointments,
    common,
    medicines,
    onboarding,
    preferences,
    reports,
    settings,
)
from core.template_filters import gsm7_letters, hour_article

__all__ = [
    "DEFAULT_LOCALE",
    "LOCALES",
    "counted",
    "dose_words",
    "fmt_date",
    "fmt_day",
    "fmt_time",
    "fmt_times",
    "fold_label",
    "fold_word",
    "keys",
    "pick_locale",
    "raw",
    "text",
]

_TABLES = (
    common,
    onboarding,
    medicines,
    answers,
    reports,
    appointments,
    account,
    settings,
    preferences,
)
_TEXTS: dict[str, dict[str, str]] = {
    "en": {key: value for table in _TABLES for key, value in table.EN.items()},
    "es": {key: value for table in _TABLES for key, value in table.ES.items()},
}


def _template(locale: str, key: str) -> str:
    """The text ``key`` in ``locale`` (English when missing), its values not filled in."""
    table = _TEXTS.get(locale) or _TEXTS[DEFAULT_LOCALE]
    return table.get(key) or _TEXTS[DEFAULT_LOCALE][key]


# The format spec that writes a time's article, not the time: "a {time:hour_article} {time}" is
# "a la 1:30" and "a las 9:00" (core.template_filters.hour_article).
_HOUR_ARTICLE = "hour_article"
# The specs that write a time after a preposition with its article: "{times:a}" is "a la 1:00 y
# a las 11:00" for a list of times (bot.said_times), "a la 1:30" for one time given as text.
_PREPOSITIONS = ("a", "de")
# The spec that writes "it is" with a time, the verb agreeing with the hour as Spanish's does:
# "{now:son}" is "son las 9:00" and "es la 1:20" ("son las 1:20" before).
_IT_IS = "son"
_SPECS = tuple(f":{spec}}}" for spec in (_HOUR_ARTICLE, _IT_IS, *_PREPOSITIONS))


class _TextFormatter(string.Formatter):
    """``str.format`` plus ``{name:hour_article}``, the article of the time in ``name``,
    ``{name:son}``, the time after "son las"/"es la", and ``{name:a}``/``{name:de}``, the times
    in ``name`` each after the preposition with its article."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec == _HOUR_ARTICLE:
            return hour_article(str(value))
        if format_spec == _IT_IS:
            article = hour_article(str(value))
            return f"{'es' if article == 'la' else 'son'} {article} {value}"
        if format_spec in _PREPOSITIONS and not isinstance(value, SaidTimes):
            return f"{format_spec} {hour_article(str(value))} {value}"
        return str(super().format_field(value, format_spec))


_FORMATTER = _TextFormatter()


def _filled(template: str, values: dict[str, Any]) -> str:
    """``template`` with ``values`` filled in (the plain ``str.format`` unless it names an
    article: the custom formatter is slower)."""
    if not values:
        return template
    if any(spec in template for spec in _SPECS):
        return _FORMATTER.vformat(template, (), values)
    return template.format(**values)


def text(locale: str, key: str, **values: Any) -> str:
    """The text ``key`` in ``locale`` (English when missing), with ``values`` filled in."""
    return _filled(_template(locale, key), values)


def sms_text(locale: str, key: str, **values: Any) -> str:
    """:func:`text` as an SMS carries it: our wording in GSM-7's letters ("día" -> "dia"; ñ, é,
    ü, ¿ and ¡ are GSM-7's and stay), the ``values`` (a name, a medicine, a clinic) as given.

    One "í" made a whole SMS UCS-2: 67 characters a part instead of 153, so a Spanish reply of
    140 characters went as 3 parts where the same words without accents go as 1 (the bot's
    Spanish texts: 453 parts against 356). A clinic pays per part, and unaccented Spanish reads
    as people write their own SMS; the letters GSM-7 keeps (ñ: "año") leave no word changed into
    another. A name or medicine keeps its letters: when one needs UCS-2 the message is counted
    and split as such (bot.reply_rows.fit_segments, MEDREMIND_SMS_MAX_SEGMENTS)."""
    return _filled(gsm7_letters(_template(locale, key)), values)


def counted(key: str, count: int) -> str:
    """``key`` for a count: ``<key>_one`` for exactly one ("1 day", "1 día"), else ``key``
    (English and Spanish both use the singular for one only)."""
    return f"{key}_one" if count == 1 else key


def keys(locale: str) -> set[str]:
    """Every key defined for ``locale`` (for the completeness test)."""
    return set(_TEXTS[locale])


def raw(locale: str, key: str) -> str:
    """The unformatted template (for the placeholder test)."""
    return _TEXTS[locale][key]


def dose_words(
    locale: str, due: datetime | str, *, name: str | None = None, number: int | str | None = None
) -> str:
    """A dose as its reminder named it: "your 8:00 AM dose", "... of medicine 2" (the patient has
    several medicines: its number in /meds) or "... of Metformin" (only where the patient chose to
    see names in reminders). ``due``: the local due time, or its text already formatted."""
    time = due if isinstance(due, str) else fmt_time(due, locale)
    if name is not None:
        return text(locale, "about_dose_named", time=time, name=name)
    if number is not None:
        return text(locale, "about_dose_numbered", time=time, n=number)
    return text(locale, "about_dose", time=time)


def on_its_day(locale: str, words: str, local: datetime, today: date | None, *, sms: bool) -> str:
    """``words`` naming a dose due at ``local`` (the patient's clock), with its day when that is
    not ``today`` there (None: always): "your 11:50 PM dose" alone, said after midnight, reads as
    tonight's (which may be due too). ``sms``: the day in GSM-7 letters ("sab", not "sáb")."""
    if local.date() == today:
        return words
    return text(locale, "dose_on_day", what=words, day=fmt_day(local, locale, sms=sms))
