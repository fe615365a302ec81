"""The IANA name a time zone is stored under, whichever of its names was typed.

IANA keeps old and alternative names as links ("US/Eastern" for "America/New_York", "Asia/Calcutta"
for "Asia/Kolkata", "Canada/Eastern" for "America/Toronto"). The dashboard stored the zone a clinic
typed as the browser's ICU names it (ICU follows those links) while the API stored it as typed:
one patient's "US/Eastern" read "America/New_York" and the next one's "US/Eastern", and a clinic's
lists and filters by zone did not agree. Both now store the zone's current IANA name: this
module's for the API, the dashboard's ``canonicalTimezone`` (dashboard/src/lib/time.ts) there,
held to the same answers for every zone by one table, ``dashboard/test/zone-names.json``
(tests/unit/test_zone_names.py and dashboard/test/zone-names.test.mjs).

The names come from CLDR's zone aliases, the data ICU follows, as Babel ships them with IANA's
current names ("Asia/Kolkata", "Europe/Kyiv"); not from tzdata's links, which since 2022 also join
places whose clocks agree since 1970 ("Europe/Amsterdam" to "Europe/Brussels", "Iceland" to
"Africa/Abidjan"): a clinic in Amsterdam stays in Amsterdam. UTC's names ("Etc/UTC", "Zulu",
"GMT") are ``UTC``, and the US rule names of tzdata ("EST5EDT") their city, as ICU gives them.
"""

from __future__ import annotations

import functools

from babel.core import get_global

UTC = "UTC"
_UTC_NAMES = frozenset({"Etc/UTC", "Etc/GMT"})
# tzdata 2024b made these links to the cities whose rules they are; CLDR still lists them apart.
_RULE_NAMES = {
    "EST5EDT": "America/New_York",
    "CST6CDT": "America/Chicago",
    "MST7MDT": "America/Denver",
    "PST8PDT": "America/Los_Angeles",
}


@functools.cache
def _aliases() -> dict[str, str]:
    """CLDR's alias -> zone (as Babel ships it)."""
    return dict(get_global("zone_aliases"))


def canonical_zone(name: str) -> str:
    """The name to store for the IANA zone ``name`` (a valid zone name, checked by the caller):
    its current IANA name ("US/Eastern" -> "America/New_York", "Asia/Calcutta" ->
    "Asia/Kolkata"), ``UTC`` for UTC's names, else ``name`` itself."""
    aliases = _aliases()
    zone = name
    for _ in range(4):  # an alias names a zone, or one more alias at most
        if zone not in aliases:
            break
        zone = aliases[zone]
    zone = _RULE_NAMES.get(zone, zone)
    return UTC if zone in _UTC_NAMES else zone


@functools.lru_cache(maxsize=256)
def zone_loads(name: str) -> bool:
    """Whether ``name`` is a zone the planner can load (``zoneinfo``): ``Etc/Unknown``, stored
    for ``Factory`` before the API refused it, is not, and its patient is planned nothing."""
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(name)
    except (KeyError, ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError
        return False
    return True
