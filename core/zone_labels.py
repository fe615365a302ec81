"""A time zone as a patient reads it: its city ("Chicago", "Nueva York"), or its UTC offset.

The bot named zones by their IANA names: "Is your local time now 9:12 (Europe/Madrid)?",
"on America/Chicago's clock". Worse, a fixed-offset zone was named as the database spells it,
and its sign is the reverse of what it says: ``Etc/GMT+5`` is five hours *behind* UTC (UTC-5),
and CLDR's own name for it, "GMT+5", was shown to the patient. A patient reads a city in their
language (CLDR's exemplar city, as the appointment texts name the clinic's), or "UTC-5" with
the sign the clock has; names with no city (``EST5EDT``) are said by their offset at the
instant concerned.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import get_timezone_location

from core.template_filters import babel_locale

# Names of UTC itself (and of GMT, which for a patient is the same clock).
_UTC_NAMES = frozenset(
    {
        "UTC", "UCT", "Universal", "Zulu", "GMT", "GMT0", "GMT+0", "GMT-0", "Greenwich",
        "Etc/UTC", "Etc/UCT", "Etc/Universal", "Etc/Zulu", "Etc/GMT", "Etc/GMT0", "Etc/GMT+0",
        "Etc/GMT-0", "Etc/Greenwich",
    }
)  # fmt: skip
# POSIX-style "Etc/GMT+5": the sign is inverted (UTC-5).
_ETC_GMT = re.compile(r"^Etc/GMT([+-])(\d{1,2})$")
# What CLDR answers for a zone it has no city for.
_NO_CITY = frozenset({"Unknown Location", "Unknown City"})


def zone_label(zone: str, locale: str, at: datetime | None = None) -> str:
    """``zone`` as a patient reads it in ``locale``: "Chicago", "Nueva York", "UTC-5", "UTC".

    ``at``: the instant whose offset names a zone with no city (``EST5EDT``: "UTC-5" in winter,
    "UTC-4" in summer); now when not given. A zone no database knows is named by its last part.
    """
    if zone in _UTC_NAMES:
        return "UTC"
    fixed = _ETC_GMT.match(zone)
    if fixed is not None:
        sign = "-" if fixed.group(1) == "+" else "+"
        hours = int(fixed.group(2))
        return f"UTC{sign}{hours}" if hours else "UTC"
    city = _city(zone, locale)
    if city is not None:
        return city
    try:
        info = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return zone.rsplit("/", 1)[-1].replace("_", " ")
    offset = (at or datetime.now(UTC)).astimezone(info).utcoffset()
    return utc_offset_name(offset or timedelta(0))


def utc_offset_name(offset: timedelta) -> str:
    """ "UTC+1", "UTC-5", "UTC+5:30", "UTC" for an offset from UTC (an ASCII hyphen: GSM-7's)."""
    minutes = int(offset.total_seconds()) // 60
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def exemplar_city(zone: str, locale: str) -> str | None:
    """CLDR's city of ``zone`` in ``locale`` ("Tokio", "Nueva York" in Spanish), or None when it
    has none: the name :func:`zone_label` shows, which the bot reads back when typed."""
    return _city(zone, locale)


@lru_cache(maxsize=1024)
def _city(zone: str, locale: str) -> str | None:
    """CLDR's city of ``zone`` in ``locale``, or None when it has none (or knows no such zone).
    CLDR's apostrophe ("Dumont d\u2019Urville") is written plain: it is not GSM-7."""
    try:
        # Asked in English first: CLDR's "no city" is spelled per language ("Ciudad
        # desconocida"), and a rule name ("EST5EDT") or "localtime" comes back as itself.
        english = str(get_timezone_location(zone, locale="en", return_city=True))
        city = str(get_timezone_location(zone, locale=babel_locale(locale), return_city=True))
    except (LookupError, ValueError):
        return None
    if english in _NO_CITY or english == "localtime" or (english == zone and not zone.isalpha()):
        return None
    return city.replace("\u2019", "'")
