"""Locale-aware formatting of dates and times (Babel), locale picking and label folding."""

from __future__ import annotations

import functools
import unicodedata
from datetime import date, datetime, time

from babel.dates import format_date, format_time

from core.locales import DEFAULT_LOCALE as DEFAULT_LOCALE
from core.locales import LOCALES as LOCALES
from core.template_filters import fmt_day as fmt_day
from core.template_filters import plain_spaces


def pick_locale(language_code: str | None, default: str = DEFAULT_LOCALE) -> str:
    """Our locale for a Telegram ``language_code`` such as ``es-MX``; ``default`` (the
    service's, ``MEDREMIND_DEFAULT_LOCALE``) for none we speak and for channels that send none
    (SMS, WhatsApp)."""
    if language_code and language_code.split("-")[0].lower() in LOCALES:
        return language_code.split("-")[0].lower()
    return default if default in LOCALES else DEFAULT_LOCALE


def fold_label(label: str) -> str:
    """A label or typed text folded for matching: lower case, no accents, single spaces."""
    decomposed = unicodedata.normalize("NFKD", label.strip().lower())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def fold_word(text: str) -> str:
    """A typed answer word ("Done.", "Sí!", "SKIP") folded as :func:`fold_label` folds, its
    ending punctuation dropped, for a step's own word lists (done, skip, agree, clinic)."""
    return fold_label(text).rstrip(".!").strip()


def fmt_time(value: time | datetime, locale: str) -> str:
    """A time of day, short, per locale ("8:00 PM", "20:00").

    Times and dates come with plain spaces: CLDR's narrow no-break space ("8:00\u202fPM") is not
    in GSM-7, and one made a whole SMS reply UCS-2 (70 characters a segment, not 160)."""
    return _short_time(value.hour, value.minute, locale)


@functools.lru_cache(maxsize=4096)
def _short_time(hour: int, minute: int, locale: str) -> str:
    # CLDR's short time patterns hold hours, minutes and the day period only (no zone, no
    # seconds), so the text depends on these three values: Babel formats each once.
    return plain_spaces(format_time(time(hour, minute), format="short", locale=locale))


def fmt_date(value: date | datetime, locale: str, style: str = "medium") -> str:
    """A date per locale ("Mar 1, 2026", "1 mar 2026")."""
    return plain_spaces(format_date(value, format=style, locale=locale))


def fmt_times(values: list[time], locale: str) -> str:
    """Several times of day, comma separated."""
    return ", ".join(fmt_time(v, locale) for v in values)
