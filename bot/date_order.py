"""Which way round a patient writes a date: "3/1" is 1 March (day first) or 3 January (month first).

Every typed date was read day first, so a patient in the United States who typed "3/1" for the day
they start a medicine got 3 January. The order now comes from the patient's region, as CLDR writes
a short date there (Babel: "M/d/yy" in the US and the Philippines, "d/M/yy" in Spain, Mexico,
Britain): the region of the phone number the patient writes from or gave us, else the country of
their time zone, else day first (most of the world). A date both ways round could be (both numbers
12 or less) is never taken on this guess alone: the dialog asks which of the two dates, in words
(bot.dialogs.medicines).

Pure functions: no clock, no database. The readings themselves: bot.parsing.date_readings.
"""

from __future__ import annotations

from functools import cache

import phonenumbers
from babel import Locale, UnknownLocaleError
from babel.core import get_global


@cache
def month_first_region(region: str | None) -> bool:
    """Whether people of ``region`` (ISO 3166 code, "US") write the month before the day: the
    order of CLDR's short date pattern for the region's main language ("und_US" is en_US,
    "M/d/yy"). Unknown or no region: day first."""
    if not region:
        return False
    try:
        pattern = Locale.parse(f"und_{region}").date_formats["short"].pattern
    except (UnknownLocaleError, ValueError, KeyError):
        return False
    month, day = pattern.find("M"), pattern.find("d")
    return 0 <= month < day


def phone_region(address: str | None) -> str | None:
    """The ISO region of an E.164 number ("+14155550123" -> "US"), or ``None``."""
    if not address:
        return None
    try:
        number = phonenumbers.parse(address.removeprefix("whatsapp:"), None)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.region_code_for_number(number)


def zone_region(zone: str | None) -> str | None:
    """The country of an IANA time zone ("America/New_York" -> "US"), or ``None`` (UTC)."""
    if not zone:
        return None
    territory = get_global("zone_territories").get(zone)
    return str(territory) if territory and territory != "001" else None
