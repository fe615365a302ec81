"""The country a patient's chat is in, for what depends on the region rather than the language:
which way round a date is written (bot.date_order) and what a phone number looks like there.

A Spanish speaker in the United States writes "3/1" for March 1 and has a +1 number; the language
says neither. The region is that of the number the chat is (SMS, WhatsApp), else of a number the
patient gave, else the country of their (home) time zone.
"""

from __future__ import annotations

from functools import cache

import phonenumbers

from bot.conversation import Turn
from bot.date_order import phone_region, zone_region
from core.sql import query
from platforms.base import Channel

__all__ = ["example_phone", "patient_region", "zone_region_of"]

_PHONE_CHANNELS = frozenset({Channel.SMS, Channel.WHATSAPP})
# The example each language showed before the region decided it, kept where it fits (the
# United States' is a 555 number, which reaches nobody): also the fallback with no region.
_EXAMPLES = {"US": "+1 202 555 0143", "ES": "+34 600 123 456"}
_LANGUAGE_REGION = {"en": "US", "es": "ES"}


async def patient_region(turn: Turn) -> str | None:
    """The turn's chat's region, ISO 3166 ("US"), or ``None`` when nothing says it."""
    region = None
    if turn.conv.channel in _PHONE_CHANNELS:
        region = phone_region(turn.conv.chat_address)
    if region is None and turn.conv.patient_id is not None:
        phone = await turn.conn.fetchval(query("bot", "patient_phone"), turn.conv.patient_id)
        region = phone_region(phone)
    return region or zone_region_of(turn)


def zone_region_of(turn: Turn) -> str | None:
    """The region of the turn's patient's (home) time zone: what the answer router's cheap,
    synchronous checks of a typed number can read without the database."""
    patient = turn.patient
    return zone_region(patient["home_timezone"] or patient["timezone"]) if patient else None


@cache
def example_phone(region: str | None, locale: str) -> str:
    """A phone number as people of ``region`` would give it, international form ("+1 202 555
    0143" in the US, libphonenumber's example mobile elsewhere); by ``locale`` with no region or
    none known."""
    if region in _EXAMPLES:
        return _EXAMPLES[region]
    if region:
        number = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
        if number is not None:
            international = phonenumbers.PhoneNumberFormat.INTERNATIONAL
            return phonenumbers.format_number(number, international).replace("-", " ")
    return _EXAMPLES[_LANGUAGE_REGION.get(locale, "US")]
