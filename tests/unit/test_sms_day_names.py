"""On SMS, the day a reminder names is written in GSM-7 letters; every other channel keeps CLDR's
spelling byte for byte.

Spanish "sáb" (Saturday) has "á", which GSM-7 lacks: a Spanish reminder of a Saturday dose sent
after midnight ("Es la hora de tu dosis de las 23:30 del sáb, 7 de marzo.") was UCS-2, two
segments, where every other day's was GSM-7 and one. On SMS it reads "sab"; "mié" keeps its "é"
(GSM-7 has it). No database: claims rendered by the dispatcher's own functions.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.dialogs.answers import snoozed_text
from core.message_limits import count_segments, with_numbered_options
from core.template_filters import fmt_day, gsm7_letters
from platforms.base import Channel
from scheduler.rendering import render_claim
from tests.unit.test_dose_day import RENDERER, _claim

LA = ZoneInfo("America/Los_Angeles")
SATURDAY = datetime(2026, 3, 7, 23, 30, tzinfo=LA)
SUNDAY = SATURDAY + timedelta(minutes=40)  # 00:10, the snooze's reminder


def test_gsm7_letters_drop_only_the_accents_gsm7_lacks() -> None:
    assert gsm7_letters("sáb, 7 de marzo") == "sab, 7 de marzo"
    assert gsm7_letters("mié, 4 de marzo") == "mié, 4 de marzo"
    assert gsm7_letters("ÁÍÓÚáíóú éÉñÑüÜ àèìò ¿¡") == "AIOUaiou éÉñÑüÜ àèìò ¿¡"
    assert gsm7_letters("Tue, 🙂 ā") == "Tue, 🙂 a"  # what has no plain letter stays


@pytest.mark.parametrize("offset", range(7))
def test_every_spanish_day_is_gsm7_on_sms_and_cldrs_elsewhere(offset: int) -> None:
    day = date(2026, 3, 2) + timedelta(days=offset)
    assert count_segments(fmt_day(day, "es", sms=True))[0] == "GSM-7"
    assert count_segments(fmt_day(day, "es-MX", sms=True))[0] == "GSM-7"
    english = fmt_day(day, "en")
    assert fmt_day(day, "en", sms=True) == english
    assert fmt_day(day, "es", sms=True) == gsm7_letters(fmt_day(day, "es"))


def _reminder(channel: Channel, **claim: Any) -> tuple[str, str]:
    """A Spanish reminder of Saturday's 23:30 dose sent at 00:10 on Sunday: text and body as
    sent on ``channel`` (with its numbered replies)."""
    values: dict[str, Any] = {
        "scheduled_time": SUNDAY,
        "dose_due_at": SATURDAY,
        "locale": "es",
    } | claim
    message = render_claim(RENDERER, _claim(**values), channel, now=SUNDAY)
    return message.text, with_numbered_options(message.text, message.numbered_options)


def test_a_spanish_reminder_naming_saturday_is_one_gsm7_segment_on_sms() -> None:
    text, body = _reminder(Channel.SMS, display_name="Ana")
    assert text == "Hola, Ana. Es la hora de tu dosis de las 23:30 del sab, 7 de marzo."
    assert count_segments(body) == ("GSM-7", 1)
    # With the medicine named, as the patient may choose: still one.
    _, named = _reminder(
        Channel.SMS, display_name="Ana", medicine_name="Enalapril", medicine_dose="10 mg"
    )
    assert count_segments(named) == ("GSM-7", 1)


@pytest.mark.parametrize("channel", [Channel.TELEGRAM, Channel.WHATSAPP, Channel.EMAIL])
def test_other_channels_keep_cldrs_day_byte_for_byte(channel: Channel) -> None:
    text, _ = _reminder(channel, display_name="Ana")
    assert text == "Hola, Ana. Es la hora de tu dosis de las 23:30 del sáb, 7 de marzo."


def test_a_snooze_reply_naming_saturday_is_gsm7_on_sms_only() -> None:
    """The bot's answer to a snooze that comes back on Saturday (pressed late on Friday)."""
    friday = datetime(2026, 3, 6, 23, 55, tzinfo=LA)
    until = friday + timedelta(minutes=15)
    what = "tu dosis de las 23:50"
    sms = snoozed_text("es", friday, until, "America/Los_Angeles", what, sms=True)
    assert (
        sms
        == "De acuerdo, te recuerdo tu dosis de las 23:50 otra vez el sab, 7 de marzo a las 0:10."
    )
    assert count_segments(sms) == ("GSM-7", 1)
    chat = snoozed_text("es", friday, until, "America/Los_Angeles", what)
    assert chat == sms.replace("sab", "sáb")
