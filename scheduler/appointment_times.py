"""An appointment's time for a patient who lives in another zone than the clinic's.

A clinic in Madrid books a 09:00 visit for a patient whose zone is New York. The visit happens at
09:00 in Madrid (the patient travels there, or joins a video call at the clinic's hours), but
every appointment message used to show the patient's own wall clock only: "Appointment booked:
Mar 29, 2027, 3:00 AM". So when the two zones show different wall clocks at the appointment's
instant, the texts name the clinic's time first, labelled with its city, and the patient's own
in brackets: "9:00 AM Madrid time (3:00 AM your time)"; with the patient's date when it is
another day there ("(7:00 PM Sun, March 28 your time)").

Zones differ by their offset at that instant, not by name: Madrid and Paris (or New York and
Toronto) show the same time, and one time is enough: then nothing is added and the text is the
one it always was, byte for byte, in the patient's zone. The same two zones may differ on one
date and not on another (the weeks of March and October when the US and the EU change their
clocks on different Sundays put New York 5 hours behind Madrid, not 6).

:func:`clinic_time_values` gives the variables the built-in appointment templates read
(``clinic_zone``, ``your_time``, ``your_day``) and ``timezone`` set to the clinic's, so that
``starts_at|date`` and ``starts_at|time`` show the clinic's wall clock. On SMS the city and the
day are written in GSM-7 letters ("Sao Paulo"): one letter outside GSM-7 makes the whole SMS UCS-2.

A clinic's own appointment template gets the same values, and the clinic's wall clock in
``starts_at``, when it names any of them (:data:`BOTH_TIMES_VARIABLES`): it was written for two
zones. One that names none shows the patient's wall clock, as it always did.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_time

from core.template_filters import babel_locale, fmt_day, gsm7_letters, plain_spaces
from core.zone_labels import zone_label

# The messages about one appointment: their texts show its start (``starts_at``).
APPOINTMENT_KINDS = frozenset(
    {
        "appointment_confirmation",
        "appointment_reminder",
        "appointment_rescheduled",
        "appointment_cancelled",
    }
)

# The variables that name the patient's time beside the clinic's (empty where the zones agree).
BOTH_TIMES_VARIABLES = ("clinic_zone", "your_time", "your_day")


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def zone_city(zone: str, locale: str, at: datetime | None = None) -> str:
    """The city a zone is named after, in the patient's language (CLDR's exemplar city: "Madrid",
    "Nueva York" in Spanish), or its UTC offset at ``at`` when it has none ("UTC-5" for
    Etc/GMT+5, not CLDR's "GMT+5", whose sign is the clock's reverse): core.zone_labels."""
    return zone_label(zone, locale, at)


def differs(starts_at: datetime, patient_zone: str, clinic_zone: str | None) -> bool:
    """Whether the patient's and the clinic's wall clocks differ at ``starts_at`` (a known
    clinic zone whose offset there is not the patient's)."""
    if not clinic_zone or clinic_zone == patient_zone:
        return False
    clinic, patient = _zone(clinic_zone), _zone(patient_zone)
    if clinic is None or patient is None:
        return False  # an unknown zone: the text as it always was, in the patient's zone
    return starts_at.astimezone(clinic).utcoffset() != starts_at.astimezone(patient).utcoffset()


def clinic_time_values(
    starts_at: datetime,
    patient_zone: str,
    clinic_zone: str | None,
    locale: str,
    *,
    sms: bool = False,
) -> dict[str, str] | None:
    """The template variables that show ``starts_at`` at the clinic and for the patient, or None
    when both zones show the same wall clock then (the text is unchanged).

    ``timezone`` becomes the clinic's (the filters' zone), ``clinic_zone`` its city, ``your_time``
    the patient's time and, only when the patient's date is not the clinic's, ``your_day``.
    """
    if clinic_zone is None or not differs(starts_at, patient_zone, clinic_zone):
        return None
    clinic = starts_at.astimezone(_zone(clinic_zone))
    mine = starts_at.astimezone(_zone(patient_zone))
    tag = babel_locale(locale)
    city = zone_city(clinic_zone, locale, starts_at)
    values = {
        "timezone": clinic_zone,
        # "Dumont d\u2019Urville": CLDR's apostrophe is not GSM-7 either.
        "clinic_zone": gsm7_letters(city.replace("\u2019", "'")) if sms else city,
        # CLDR's narrow space ("3:00\u202fAM") would force UCS-2 on SMS; plain everywhere, as
        # the built-in texts show every time.
        "your_time": plain_spaces(format_time(mine, "short", locale=tag)),
    }
    if mine.date() != clinic.date():
        values["your_day"] = fmt_day(mine, locale, sms=sms)
    return values


__all__ = [
    "APPOINTMENT_KINDS",
    "BOTH_TIMES_VARIABLES",
    "clinic_time_values",
    "differs",
    "zone_city",
]
