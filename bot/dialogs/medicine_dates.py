"""The start and end dates of ``/add``: typed dates read the patient's way round, and a date that
could be either way round asked back in words before it is kept.

"3/1" was read day first for everyone: a patient in the United States who meant 1 March started
their reminders on 3 January (or, for an end date, stopped them two months early). The region's
order (bot.date_order) now says which reading comes first, and when both readings are dates the
step could take, the patient picks one of the two, written out ("Mon, Mar 1, 2027" or "Sun, Jan
3, 2027"): a guess about a region is never what starts or stops a medicine.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from babel.dates import format_skeleton

from bot import texts
from bot.conversation import Turn
from bot.date_order import month_first_region
from bot.dialogs.onboarding import now_local
from bot.locale_format import plain_spaces
from bot.parsing import date_readings
from bot.patient_region import patient_region
from bot.routing import SKIP_WORDS
from bot.steps import Options, goto, reprompt, step
from core.template_filters import gsm7_letters
from platforms.base import Channel

# The example dates the start and end questions give, from today and the chosen start: a fixed
# example ("2026-04-01") was in the past a year on, and the end question's own example was then
# refused as before the start (found by hand in medremind dev's console, clock moved to 2027).
EXAMPLE_START_DAYS, EXAMPLE_END_DAYS = 7, 30
# What patients type for "no end date", which the end question names: "sin fecha" was "I could
# not read that date" (found by hand in medremind dev's console, in Spanish).
_NO_END_WORDS = frozenset(
    {
        "no", "none", "never", "no end", "no end date", "no date", "no end day",
        "sin fecha", "sin fecha de fin", "sin fin", "nunca", "ninguna",
    }
)  # fmt: skip


def _typed_no_end(turn: Turn) -> bool:
    """No end date, in words, or the skip word the other optional steps of /add take."""
    word = texts.fold_word(turn.text)
    return word in _NO_END_WORDS or word in SKIP_WORDS


# "for 10 days", "2 weeks", "por 7 días": how long a course lasts, at the end question. Typed
# for an antibiotic's course, it was "I couldn't read that date" (found by hand in medremind
# dev's console). Days and weeks only: a month is no fixed number of days.
_COURSE_RE = re.compile(
    r"^(?:for|during|por|durante)?\s*(\d{1,3})\s*"
    r"(days?|d|weeks?|wks?|w|dias?|semanas?)\.?$"
)
_COURSE_DAYS_MAX = 366


def course_days(text: str) -> int | None:
    """The days a typed course length names ("for 10 days": 10, "2 weeks": 14), or None."""
    match = _COURSE_RE.match(texts.fold_word(text))
    if match is None:
        return None
    count, unit = int(match[1]), match[2]
    days = count * (7 if unit[0] in "ws" else 1)
    return days if 1 <= days <= _COURSE_DAYS_MAX else None


async def month_first(turn: Turn) -> bool:
    """Whether this patient writes the month first: by their region (bot.patient_region)."""
    return month_first_region(await patient_region(turn))


def _typed_date(turn: Turn) -> bool:
    """Whether the text is a date either way round (which one: the step asks)."""
    return bool(date_readings(turn.text, today=now_local(turn).date(), month_first=False))


def _start_example(turn: Turn) -> date:
    return _one_way_round(now_local(turn).date() + timedelta(days=EXAMPLE_START_DAYS))


def _end_example(turn: Turn) -> date:
    start = date.fromisoformat(turn.conv.data["start"])
    return _one_way_round(start + timedelta(days=EXAMPLE_END_DAYS))


def _one_way_round(day: date) -> date:
    """``day``, or the first day after it past the 12th: an example such as "6/12/2026" could
    be either way round, and typed back as shown it was asked about again (which of the two)."""
    while day.day <= 12:
        day += timedelta(days=1)
    return day


async def _example(turn: Turn, day: date) -> str:
    """``day`` as the patient writes dates, in numbers ("13/12/2026" in Spain or Britain,
    "12/13/2026" in the United States): the questions showed ISO ("2026-12-13"), which no
    patient writes, and day-first patients read its order as foreign."""
    return f"{day:%-m/%-d/%Y}" if await month_first(turn) else f"{day:%-d/%-m/%Y}"


async def _bad_date(turn: Turn, example: date) -> None:
    """Ask again for a date, with ``example`` written both ways the step reads: ISO, and numbers
    in the patient's order, named ("6/17/2027 (month first)")."""
    if await month_first(turn):
        typed, order = f"{example:%-m/%-d/%Y}", turn.t("date_month_first")
    else:
        typed, order = f"{example:%-d/%-m/%Y}", turn.t("date_day_first")
    await reprompt(turn, "bad_date", example=example.isoformat(), typed=typed, order=order)


def after_the_dates(turn: Turn) -> str:
    """The step after the end date: the pill count, unless the dose is not counted in pills
    ("10 ml", "2 puffs": bot.dose_amount), whose patient was asked how many pills they had."""
    data = turn.conv.data
    if "per_dose" in data and data["per_dose"] is None:
        data["pills"] = None
        return "add_confirm"
    return "add_pills"


async def _take(turn: Turn, which: str, value: date) -> None:
    """Keep ``value`` as the start or end date and go on to the next question."""
    turn.conv.data[which] = value.isoformat()
    turn.conv.data.pop("date_pick", None)
    await goto(turn, "add_end" if which == "start" else after_the_dates(turn))


async def _typed_for(turn: Turn, which: str) -> None:
    """Read the typed start or end date: keep it when it can mean one date only, ask which one
    when it can mean two, ask again when it is no date (or, for an end, none after the start)."""
    data = turn.conv.data
    start = date.fromisoformat(data["start"]) if which == "end" else None
    today = start or now_local(turn).date()
    readings = date_readings(turn.text, today=today, month_first=await month_first(turn))
    if start is not None:
        later = [reading for reading in readings if reading >= start]
        if readings and not later:
            await reprompt(turn, "bad_end", start=texts.fmt_date(start, turn.locale))
            return
        readings = later
    if not readings:
        await _bad_date(turn, _end_example(turn) if start else _start_example(turn))
        return
    if len(readings) == 1:
        await _take(turn, which, readings[0])
        return
    data["date_pick"] = {
        "for": which,
        "typed": turn.text.strip(),
        "dates": [reading.isoformat() for reading in readings],
    }
    await goto(turn, "add_date_pick")


async def start_prompt(turn: Turn) -> tuple[str, Options]:
    return turn.t("ask_start", example=await _example(turn, _start_example(turn))), [
        (turn.t("btn_today"), "start:today"),
        (turn.t("btn_tomorrow"), "start:tomorrow"),
    ]


@step("add_start", start_prompt, typed=_typed_date)
async def add_start(turn: Turn) -> None:
    today = now_local(turn).date()
    if turn.choice in {"start:today", "start:tomorrow"}:
        days = 1 if turn.choice == "start:tomorrow" else 0
        await _take(turn, "start", today + timedelta(days=days))
        return
    await _typed_for(turn, "start")


async def end_prompt(turn: Turn) -> tuple[str, Options]:
    example = await _example(turn, _end_example(turn))
    return turn.t("ask_end", example=example), [(turn.t("btn_no_end"), "end:none")]


@step(
    "add_end",
    end_prompt,
    typed=lambda t: _typed_date(t) or _typed_no_end(t) or course_days(t.text) is not None,
)
async def add_end(turn: Turn) -> None:
    # The skip word the other optional steps of /add take is no end too ("omitir" was "I could
    # not read that date": found by hand in medremind dev's console).
    if turn.choice == "end:none" or _typed_no_end(turn):
        turn.conv.data["end"] = None
        await goto(turn, after_the_dates(turn))
        return
    days = course_days(turn.text)
    if days is not None:
        # Its first day is the start: "for 10 days" from Dec 10 takes the last dose on Dec 19.
        start = date.fromisoformat(turn.conv.data["start"])
        await _take(turn, "end", start + timedelta(days=days - 1))
        return
    await _typed_for(turn, "end")


def date_pick_label(value: date, locale: str, *, sms: bool) -> str:
    """A date to pick, its weekday first ("Sun, Jan 3, 2027", "dom, 3 ene 2027"): a numbered
    reply never puts its number beside the day ("1 3 de enero de 2027" read as the 1st), and it
    fits a WhatsApp button whole (17 characters at most, 20 allowed; "6 de diciembre de 2026"
    lost its year to the ellipsis). On SMS in GSM-7 letters ("sab"), as the day names there."""
    label = plain_spaces(format_skeleton("yMMMEd", value, locale=locale))
    return gsm7_letters(label) if sms else label


async def date_pick_prompt(turn: Turn) -> tuple[str, Options]:
    pick = turn.conv.data.get("date_pick") or {}
    dates = [date.fromisoformat(value) for value in pick.get("dates", [])]
    key = "ask_date_pick_start" if pick.get("for") == "start" else "ask_date_pick_end"
    sms = turn.conv.channel is Channel.SMS
    return turn.t(key, typed=pick.get("typed", "")), [
        (date_pick_label(value, turn.locale, sms=sms), f"date:{value.isoformat()}")
        for value in dates
    ]


@step("add_date_pick", date_pick_prompt, typed=_typed_date)
async def add_date_pick(turn: Turn) -> None:
    """Which of the two dates a typed "3/1" meant; another date typed is read afresh."""
    pick = turn.conv.data.get("date_pick") or {}
    which = "start" if pick.get("for") == "start" else "end"
    chosen = turn.choice.removeprefix("date:") if turn.choice else None
    if chosen is not None and chosen in pick.get("dates", []):
        await _take(turn, which, date.fromisoformat(chosen))
    elif turn.text and _typed_date(turn):
        await _typed_for(turn, which)
    else:
        await reprompt(turn, "bad_choice")
