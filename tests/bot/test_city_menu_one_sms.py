"""The time zone question reaches an SMS patient as one message.

The accent in "Bogotá" makes the whole SMS UCS-2 (70 UTF-16 units a segment, 67 when
concatenated): the Spanish question with its eight cities came to 4 segments, over
``MEDREMIND_SMS_MAX_SEGMENTS`` (3), and was split in two messages, the question first and the
menu alone after it; so were the reprompts for a place the bot does not know and for a zone
abbreviation, in both languages (reported by H1 registering over SMS). The texts are shorter now,
and the city is "Bogota" on SMS (tests/web/test_zone_names_patients_read.py). Over the loopback
Twilio SMS.
"""

from __future__ import annotations

import pytest

from core.message_limits import DEFAULT_SMS_MAX_SEGMENTS
from platforms.sms import count_segments
from tests.bot.conftest import Bot

NUMBER = "+15005550189"


@pytest.mark.parametrize(
    ("language", "question"), [("1", "Which time zone"), ("2", "zona horaria")]
)
async def test_the_city_menu_and_its_reprompts_are_one_sms_each(
    bot: Bot, language: str, question: str
) -> None:
    await bot.sms(NUMBER, "/start")
    await bot.sms(NUMBER, "1")  # I agree
    await bot.sms(NUMBER, "Ana")
    for typed, asked in ((language, question), ("Atlantis", ""), ("EST", "EST")):
        replies = [c.body or "" for c in await bot.sms(NUMBER, typed)]
        assert len(replies) == 1, (typed, replies)
        [sms] = replies
        assert asked in sms and "5 Bogota\n" in sms and sms.endswith("8 Berlin"), sms
        assert count_segments(sms)[1] <= DEFAULT_SMS_MAX_SEGMENTS, sms
