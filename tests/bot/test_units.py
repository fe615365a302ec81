"""Pure parts of the bot: parsers, keywords, callback data, texts in both languages, stats."""

from __future__ import annotations

import string
from datetime import date, time
from uuid import uuid4

import pytest

from bot import date_order, keywords, parsing, texts
from bot.dialogs.reports import daily_adherence, percent, streak
from bot.pause_end import is_far, pause_length
from core import answer_buttons as callbacks
from core.answer_buttons import SNOOZE_MINUTES_MAX
from core.template_measure import gsm_septets
from platforms.base import Channel


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("8:00", time(8, 0)),
        ("20:30", time(20, 30)),
        ("8pm", time(20, 0)),
        ("8 PM", time(20, 0)),
        ("8.30", time(8, 30)),
        ("8:30 a.m.", time(8, 30)),
        ("12am", time(0, 0)),
        ("12pm", time(12, 0)),
        ("morning", time(8, 0)),
        ("noche", time(22, 0)),
        ("25:00", None),
        ("8:61", None),
        ("13pm", None),
        ("", None),
        ("😀", None),
        ("eight", None),
        # As Spanish and English speakers say them without a 24-hour clock (each was "I couldn't
        # read that time"): an hour sign, "a las", the part of the day.
        ("20h", time(20, 0)),
        ("20:30h", time(20, 30)),
        ("21 hrs", time(21, 0)),
        ("a las 9", time(9, 0)),
        ("at 7", time(7, 0)),
        ("8 de la mañana", time(8, 0)),
        ("8 de la tarde", time(20, 0)),
        ("4:30 de la tarde", time(16, 30)),
        ("9 de la noche", time(21, 0)),
        ("12 de la noche", time(0, 0)),
        ("2 de la madrugada", time(2, 0)),
        ("7 in the morning", time(7, 0)),
        ("9 in the evening", time(21, 0)),
        ("10 at night", time(22, 0)),
        # An hour the part of the day does not take is not guessed.
        ("3 de la noche", None),
        ("13 de la tarde", None),
        ("8 de la semana", None),
        # An hour said with a fraction, or midnight by name (bot.spoken_times).
        ("8 y media", time(8, 30)),
        ("9 y cuarto", time(9, 15)),
        ("9 menos cuarto", time(8, 45)),
        ("la una menos cuarto", time(0, 45)),
        ("a las 9 menos cuarto de la noche", time(20, 45)),
        ("12 menos cuarto de la noche", time(23, 45)),
        ("8 y media de la tarde", time(20, 30)),
        ("las 8 en punto", time(8, 0)),
        ("a la una", time(1, 0)),
        ("half past 8", time(8, 30)),
        ("quarter to 9 pm", time(20, 45)),
        ("quarter past eleven pm", time(23, 15)),
        ("Medianoche", time(0, 0)),
        ("midnight", time(0, 0)),
        ("8:30 y media", None),
        ("half to 9", None),
        ("once", None),  # English "once", not 11:00
    ],
)
def test_parse_time(typed: str, expected: time | None) -> None:
    assert parsing.parse_time(typed) == expected


def test_parse_times_and_days() -> None:
    assert parsing.parse_times("8:00, 20:30") == [time(8, 0), time(20, 30)]
    assert parsing.parse_times("8am and 8pm") == [time(8, 0), time(20, 0)]
    assert parsing.parse_times("9 21") == [time(9, 0), time(21, 0)]
    assert parsing.parse_times("8:00, 25:00") is None
    assert parsing.parse_times("8 de la mañana y 8 de la tarde") == [time(8, 0), time(20, 0)]
    assert parsing.parse_times("a las 8 y a las 20h") == [time(8, 0), time(20, 0)]
    assert parsing.parse_times("8 y media y 9") == [time(8, 30), time(9, 0)]
    assert parsing.parse_weekdays("mon wed fri") == [1, 3, 5]
    assert parsing.parse_weekdays("Lunes, miércoles") == [1, 3]
    assert parsing.parse_weekdays("someday") is None


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("today", date(2026, 3, 2)),
        ("mañana", date(2026, 3, 3)),
        ("2026-04-01", date(2026, 4, 1)),
        ("1/4/2026", date(2026, 4, 1)),
        ("1/2", date(2027, 2, 1)),  # passed this year: next year's
        ("31/2/2026", None),
        ("soon", None),
    ],
)
def test_parse_date(typed: str, expected: date | None) -> None:
    assert parsing.parse_date(typed, today=date(2026, 3, 2)) == expected


@pytest.mark.parametrize(
    ("typed", "month_first", "expected"),
    [
        ("3/1", True, [date(2027, 3, 1), date(2027, 1, 3)]),  # the region's reading first
        ("3/1", False, [date(2027, 1, 3), date(2027, 3, 1)]),
        ("3/4/26", True, [date(2026, 3, 4), date(2026, 4, 3)]),
        ("13/1", True, [date(2027, 1, 13)]),  # one way round only
        ("1/13/2027", False, [date(2027, 1, 13)]),
        ("4.4", False, [date(2026, 4, 4)]),  # the same both ways
        ("2026-03-04", True, [date(2026, 3, 4)]),
        ("1/3/202", True, []),  # a year of three digits
        ("13/13", True, []),
    ],
)
def test_date_readings(typed: str, month_first: bool, expected: list[date]) -> None:
    today = date(2026, 3, 2)
    assert parsing.date_readings(typed, today=today, month_first=month_first) == expected


@pytest.mark.parametrize(
    ("today", "expected"),
    [(date(2027, 12, 7), [date(2028, 2, 29)]),  # next year's: it read as no date
     (date(2028, 1, 5), [date(2028, 2, 29)]), (date(2028, 2, 29), [date(2028, 2, 29)]),
     (date(2026, 12, 7), [])],  # no 29 February before 2028
)  # fmt: skip
def test_29_february_without_a_year_is_the_next_one(today: date, expected: list[date]) -> None:
    assert parsing.date_readings("29/2", today=today, month_first=False) == expected


@pytest.mark.parametrize(
    ("region", "month_first"),
    [("US", True), ("PH", True), ("PR", True), ("ES", False), ("GB", False), ("MX", False),
     ("CO", False), ("XX", False), (None, False)],
)  # fmt: skip
def test_month_first_regions(region: str | None, month_first: bool) -> None:
    assert date_order.month_first_region(region) is month_first


def test_regions_of_numbers_and_zones() -> None:
    assert date_order.phone_region("+14155550123") == "US"
    assert date_order.phone_region("whatsapp:+34600111222") == "ES"
    assert date_order.phone_region("not a number") is None
    assert date_order.zone_region("America/New_York") == "US"
    assert date_order.zone_region("Europe/Madrid") == "ES"
    assert date_order.zone_region("UTC") is None


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Madrid", "Europe/Madrid"),
        ("europe/berlin", "Europe/Berlin"),
        ("new york", "America/New_York"),
        ("Ciudad de México", "America/Mexico_City"),
        ("Bogota", "America/Bogota"),
        ("Atlantis", None),
        ("x" * 500, None),
        # Abbreviations do not say when clocks change (EST, MST are fixed offsets in tzdata).
        ("EST", None),
        ("mst", None),
        ("GMT", None),
        ("CET", None),
        ("UTC", "UTC"),
        ("EST5EDT", "America/New_York"),  # its current name (core.zone_names), as stored
        # Zone files that name no place: PostgreSQL knows no "localtime" (attack run 2026-12-05).
        ("localtime", None),
        ("posixrules", None),
        ("Factory", None),
    ],
)
def test_parse_timezone(typed: str, expected: str | None) -> None:
    assert parsing.parse_timezone(typed) == expected


def test_timezone_from_location() -> None:
    assert parsing.timezone_at(40.4168, -3.7038) == "Europe/Madrid"
    assert parsing.timezone_at(41.88, -87.63) == "America/Chicago"


def test_parse_name_and_phone() -> None:
    assert parsing.parse_name("  Ana   María ") == "Ana María"
    assert parsing.parse_name("") is None
    assert parsing.parse_name("😀") is None
    assert parsing.parse_name("/start") is None
    assert parsing.parse_name("a" * 61) is None
    assert parsing.parse_phone("+1 415 555 2671") == "+14155552671"
    assert parsing.parse_phone("12") is None


@pytest.mark.parametrize(
    ("channel", "typed", "expected"),
    [
        (Channel.SMS, "STOP", keywords.Keyword.OPT_OUT),
        (Channel.SMS, " s t o p ", keywords.Keyword.OPT_OUT),
        (Channel.WHATSAPP, "Unsubscribe", keywords.Keyword.OPT_OUT),
        (Channel.SMS, "cancel", keywords.Keyword.OPT_OUT),
        (Channel.SMS, "optout", keywords.Keyword.OPT_OUT),
        (Channel.SMS, "Start", keywords.Keyword.OPT_IN),
        (Channel.SMS, "unstop", keywords.Keyword.OPT_IN),
        (Channel.SMS, "info", keywords.Keyword.HELP),
        (Channel.SMS, "stop it please", None),
        # Punctuation is no part of a keyword (was: "Sorry, I didn't understand that").
        (Channel.SMS, "Stop.", keywords.Keyword.OPT_OUT),
        (Channel.WHATSAPP, "STOP!!", keywords.Keyword.OPT_OUT),
        (Channel.SMS, "opt-out", keywords.Keyword.OPT_OUT),
        (Channel.SMS, "¡Parar!", keywords.Keyword.OPT_OUT),
        (Channel.SMS, '"unsubscribe"', keywords.Keyword.OPT_OUT),
        (Channel.SMS, "Start.", keywords.Keyword.OPT_IN),
        (Channel.SMS, "help?", keywords.Keyword.HELP),
        (Channel.SMS, "¿Ayuda?", keywords.Keyword.HELP),
        (Channel.SMS, "stop, thanks", None),
        (Channel.SMS, "1.", None),
        (Channel.TELEGRAM, "STOP", None),
        # medremind dev's console opts out as Telegram does (before: "I don't know that command").
        (Channel.CONSOLE, "/stop", keywords.Keyword.OPT_OUT),
        (Channel.CONSOLE, "/start", keywords.Keyword.OPT_IN),
        (Channel.CONSOLE, "STOP", None),
    ],
)
def test_keywords(channel: Channel, typed: str, expected: keywords.Keyword | None) -> None:
    assert keywords.classify(channel, typed) == expected


def test_callback_data_round_trip_and_size() -> None:
    dose, appt = uuid4(), uuid4()
    for _, data in callbacks.dose_answer_options(dose) + callbacks.appointment_answer_options(appt):
        assert len(data.encode()) <= 64
    assert callbacks.parse_dose_data(callbacks.dose_data(dose, "s60")) == callbacks.DoseAnswer(
        dose, "snoozed", 60
    )
    skipped = callbacks.parse_dose_data(callbacks.dose_data(dose, "k"))
    assert skipped is not None and skipped.answer == "skipped"
    cancelled = callbacks.parse_appointment_data(f"a:{appt.hex}:x")
    assert cancelled is not None and cancelled.action == "cancel"
    assert callbacks.parse_dose_data("d:nothex:t") is None


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_text_exists_in_both_languages_with_the_same_placeholders() -> None:
    assert texts.keys("en") == texts.keys("es")
    for key in texts.keys("en"):
        assert _fields(texts.raw("en", key)) == _fields(texts.raw("es", key)), key


def test_sms_texts_never_ask_to_reply_cancel() -> None:
    for locale in texts.LOCALES:
        for key in texts.keys(locale):
            assert "reply CANCEL" not in texts.raw(locale, key).replace("Reply", "reply"), key


@pytest.mark.parametrize("key", ["pause_short_break", "pause_long_break", "pause_long_break_one"])
def test_a_short_break_s_sms_reply_is_one_segment(key: str) -> None:
    """What "/pause 30 min" is told instead of a pause fits one GSM-7 segment, whatever the
    snooze's minutes or the days (bot.dialogs.pause_short): it was two."""
    for locale in texts.LOCALES:
        said = texts.sms_text(locale, key, minutes=SNOOZE_MINUTES_MAX, n=30, hours=12)
        septets = gsm_septets(said)
        assert septets is not None and septets <= 160, (locale, septets, said)


@pytest.mark.parametrize(
    ("today", "end_day", "asked", "length"),
    [
        (date(2026, 3, 2), date(2026, 4, 2), False, ("pause_far_days", 31)),
        (date(2026, 3, 2), date(2026, 4, 3), True, ("pause_far_days", 32)),
        (date(2026, 3, 2), date(2026, 5, 1), True, ("pause_far_days", 60)),
        (date(2026, 1, 31), date(2026, 4, 2), True, ("pause_far_months", 2)),
        (date(2026, 3, 2), date(2027, 2, 3), True, ("pause_far_months", 11)),
        (date(2026, 3, 2), date(2027, 2, 28), True, ("pause_far_months", 12)),
        (date(2026, 12, 7), date(2030, 4, 3), True, ("pause_far_years", 3)),
    ],
)
def test_a_pause_far_ahead_is_asked_and_its_length_said(
    today: date, end_day: date, asked: bool, length: tuple[str, int]
) -> None:
    """More than 31 days ahead is asked first (bot.dialogs.pause_far); its length in days
    under two months, else months to the nearest, from two years years."""
    assert is_far(today, end_day) is asked
    assert pause_length(today, end_day) == length


def test_adherence_maths() -> None:
    today = date(2026, 3, 10)
    rows = [
        (date(2026, 3, 9), "taken"),
        (date(2026, 3, 9), "taken"),
        (date(2026, 3, 8), "taken"),
        (date(2026, 3, 7), "missed"),
        (date(2026, 3, 10), "due"),  # later today: not counted yet
    ]
    days = [date(2026, 3, d) for d in range(1, 11)]
    daily = daily_adherence(rows, days, today)
    assert daily[date(2026, 3, 9)] == 100.0 and daily[date(2026, 3, 7)] == 0.0
    assert daily[today] is None
    assert percent(rows, date(2026, 3, 4), today) == 75
    assert streak(daily, today) == 2
