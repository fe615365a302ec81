"""``/add`` and ``/meds``: a medicine, its dose, times, days, dates and pill count; pause, resume,
edit times and delete.

Saving writes ``medications`` and ``reminder_schedules`` and asks the planner to plan the schedule
at once (``scheduler.planner.replan_schedule``, imported lazily: the planner's periodic tick plans
it anyway if the planner is not installed or fails).
"""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal

from bot import texts
from bot.conversation import NUMBERED_CHANNELS, Turn
from bot.dialogs.medicine_pause import (
    ask_which,
    said_word,
    set_medicine_status,
    short_names,
    typed_a_word,
)
from bot.dialogs.onboarding import now_local
from bot.dialogs.replanning import replan_schedules
from bot.dialogs.settings import quiet_window, window_text
from bot.dose_amount import read_dose
from bot.dose_frequency import suggested_times
from bot.parsing import (
    MAX_DOSE,
    MAX_MEDICINE_NAME,
    QUICK_TIMES,
    has_control_character,
    parse_free_field,
    parse_int,
    parse_times,
    parse_weekdays,
)
from bot.routing import SKIP_WORDS
from bot.said_times import SaidTimes, joined, said, times_said
from bot.skipped_times import skipped_time_notes
from bot.steps import Options, command, finish, goto, reprompt, step
from core.dose_shown import dose_shown
from core.logs import mark_sensitive
from core.sql import query
from scheduler.planning_rules import in_quiet_hours, plan_nags, resolve_timezone
from scheduler.recurrence import Recurrence, next_occurrence

MAX_TIMES = 12
# A patient of no clinic (anyone who wrote to the bot) keeps at most this many medicines (not
# deleted): each plans up to MAX_TIMES reminders a day, and without a bound one chat could have
# the service plan and send without end. A clinic's patients are the clinic's to bound.
MAX_OWN_MEDICINES = 30
# The most pills a count may say (the refill reminder's stock; more is a typo).
MAX_PILLS = 100_000
_DONE_WORDS = ("done", "listo")
# "Every day" as people type it, in one word or another's: "everyday" was "Please pick one of
# the options" (found by hand in medremind dev's console).
_EVERY_DAY_WORDS = frozenset(
    {"everyday", "daily", "each day", "diario", "a diario", "diariamente", "cada dia"}
    | {"todos los dias"}
)
_WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _times(data: dict[str, Any]) -> list[time]:
    return [time.fromisoformat(v) for v in data.get("times", [])]


def days_text(turn: Turn, days: list[int] | None, every_n: int | None) -> str:
    """ "every day", "on weekdays", "on Mon, Wed", "every 2 days"."""
    if every_n and every_n > 1:
        return turn.t("days_every_n", n=every_n)
    if not days or len(days) == 7:
        return turn.t("days_every")
    if days == [1, 2, 3, 4, 5]:
        return turn.t("days_weekdays")
    from babel.dates import get_day_names

    names = get_day_names("abbreviated", locale=turn.locale)
    return turn.t("days_list", days=", ".join(names[d - 1] for d in days))


# -- /add -------------------------------------------------------------------------------------


def _typed_times(text: str) -> bool:
    return _typed_done(text) or parse_times(text) is not None


def _typed_done(text: str) -> bool:
    """Whether ``text`` is the word that ends the list of times ("done", "Listo.")."""
    return texts.fold_word(text) in _DONE_WORDS


def _every_n(text: str) -> int | None:
    return parse_int(text, low=2, high=90)


def _pills(text: str) -> int | None:
    return parse_int(text, low=0, high=MAX_PILLS)


@command("add")
async def add(turn: Turn, arg: str) -> None:
    """Start adding a medicine; ``/add Metformin`` skips the name question."""
    if await _at_the_limit(turn):
        return
    turn.conv.state["data"] = {"mode": "add"}
    name = parse_free_field(arg, max_length=MAX_MEDICINE_NAME) if arg else None
    if name:
        mark_sensitive(name)
        turn.conv.data["name"] = name
        await goto(turn, "add_dose")
        return
    if arg and has_control_character(arg):
        await goto(turn, "add_name", prefix=turn.t("control_med_name"))
        return
    await goto(turn, "add_name")


async def name_prompt(turn: Turn) -> tuple[str, Options]:
    return turn.t("ask_med_name"), []


@step(
    "add_name",
    name_prompt,
    typed=lambda t: parse_free_field(t.text, max_length=MAX_MEDICINE_NAME) is not None,
)
async def add_name(turn: Turn) -> None:
    name = parse_free_field(turn.text, max_length=MAX_MEDICINE_NAME)
    if name is None or turn.choice:
        if not turn.choice and has_control_character(turn.text):
            await reprompt(turn, "control_med_name")
        else:
            await reprompt(turn, "bad_med_name", max=MAX_MEDICINE_NAME)
        return
    mark_sensitive(name)
    turn.conv.data["name"] = name
    await goto(turn, "add_dose")


def _numbered(turn: Turn) -> bool:
    """Whether the chat's menus are numbered replies (SMS, WhatsApp, console, e-mail)."""
    return turn.conv.channel in NUMBERED_CHANNELS


def _typed_skip(turn: Turn) -> bool:
    """Whether the patient typed a skip word ("skip", "omitir") at a step that asks for it: the
    words a reminder's Skip takes (bot.routing.SKIP_WORDS), which hold the Skip button's label
    too (tests/bot/test_sms_flow.py)."""
    return texts.fold_word(turn.text) in SKIP_WORDS


async def dose_prompt(turn: Turn) -> tuple[str, Options]:
    if _numbered(turn):
        # A bare number here is a dose ("1" tablet), not a menu's first choice: the text asks
        # for the skip word, and no Skip is numbered. As "1 Skip" a typed "1" skipped the dose.
        return turn.t("ask_dose_numbered"), []
    return turn.t("ask_dose"), [(turn.t("btn_skip"), "dose:skip")]


@step(
    "add_dose",
    dose_prompt,
    typed=lambda t: parse_free_field(t.text, max_length=MAX_DOSE) is not None,
)
async def add_dose(turn: Turn) -> None:
    if turn.choice == "dose:skip" or _typed_skip(turn):
        turn.conv.data["dose"] = None
    else:
        dose = parse_free_field(turn.text, max_length=MAX_DOSE)
        if dose is None:
            key = "control_dose" if has_control_character(turn.text) else "bad_dose"
            await reprompt(turn, key, max=MAX_DOSE)
            return
        mark_sensitive(dose)
        turn.conv.data["dose"] = dose
    # Pills a dose, for the pill count ("2 pastillas": 2); None: not counted in pills (10 ml).
    per_dose = read_dose(turn.conv.data["dose"]).pills
    turn.conv.data["per_dose"] = None if per_dose is None else str(per_dose)
    turn.conv.data["times"] = []
    await goto(turn, "add_times")


def time_options(turn: Turn) -> Options:
    return [
        (turn.t("btn_morning"), "time:morning"),
        (turn.t("btn_noon"), "time:noon"),
        (turn.t("btn_evening"), "time:evening"),
        (turn.t("btn_bedtime"), "time:bedtime"),
        (turn.t("btn_done"), "time:done"),
    ]


async def times_prompt(turn: Turn) -> tuple[str, Options]:
    # On numbered channels a bare number is an hour ("8" is 08:00, "2" is 02:00), never a menu's
    # choice: as "1 Morning 08:00 ... 5 Done", a typed "2" was noon and "5" ended the list. There
    # the text names the words instead (morning, noon, evening, bedtime, done) and numbers nothing.
    suffix = "_numbered" if _numbered(turn) else ""
    chosen = _times(turn.conv.data)
    suggested = turn.conv.data.get("suggested")
    if chosen and suggested:
        times = texts.fmt_times(chosen, turn.locale)
        per_day, every_hours = suggested
        how = (
            turn.t("freq_per_day", n=per_day)
            if per_day
            else turn.t("freq_every_hours", n=every_hours)
        )
        question = turn.t("times_suggested" + suffix, how=how, times=times)
    elif chosen:
        times = texts.fmt_times(chosen, turn.locale)
        question = turn.t("times_so_far" + suffix, times=times)
    else:
        if turn.conv.data.get("mode") == "edit":
            question = turn.t("ask_edit_times" + suffix, name=turn.conv.data.get("name", ""))
        else:
            question = turn.t("ask_times" + suffix)
        question += _home_clock_note(turn)
    return question, [] if suffix else time_options(turn)


def _home_clock_note(turn: Turn) -> str:
    """For a traveller keeping home times, which clock the times typed are on: their home's
    (the planner reads a schedule there). In Tokyo for London's times, '15:20' typed for the
    afternoon where they are was London's 15:20, a reminder at 12:20 AM in Tokyo (found in
    medremind dev); only the confirmation said so. Empty for everyone else."""
    patient = turn.patient
    if patient is None:
        return ""
    zone = _schedule_zone(patient)
    if zone == patient["timezone"]:
        return ""
    now = texts.fmt_time(turn.now.astimezone(ZoneInfo(zone)), turn.locale)
    return "\n" + turn.t("times_on_home_clock", zone=turn.zone(zone), now=now)


@step(
    "add_times",
    times_prompt,
    typed=lambda t: _typed_times(t.text) or suggested_times(t.text) is not None,
)
async def add_times(turn: Turn) -> None:
    data = turn.conv.data
    if turn.choice == "time:done" or _typed_done(turn.text):
        if not data.get("times"):
            await reprompt(turn, "need_a_time")
            return
        if data.get("mode") == "edit":
            await save_edited_times(turn)
            return
        await goto(turn, "add_days")
        return
    frequency = None if turn.choice else suggested_times(turn.text)
    if frequency is not None:
        # "3 times a day": its usual times, for the patient to keep or replace (bot.dose_frequency).
        data["times"] = [t.strftime("%H:%M") for t in frequency.times]
        data["suggested"] = [frequency.per_day, frequency.every_hours]
        await goto(turn, "add_times")
        return
    if turn.choice and turn.choice.startswith("time:"):
        picked: list[time] | None = [QUICK_TIMES[turn.choice[5:]]]
    else:
        picked = parse_times(turn.text) if turn.text else None
    if not picked:
        await reprompt(turn, "bad_time")
        return
    # Times given after a suggestion replace it ("or type the times you want instead").
    kept = [] if data.pop("suggested", None) else _times(data)
    merged = sorted(set(kept) | set(picked))[:MAX_TIMES]
    data["times"] = [t.strftime("%H:%M") for t in merged]
    await goto(turn, "add_times")


async def days_prompt(turn: Turn) -> tuple[str, Options]:
    return turn.t("ask_days"), [
        (turn.t("btn_every_day"), "days:every"),
        (turn.t("btn_weekdays"), "days:weekdays"),
        (turn.t("btn_chosen_days"), "days:chosen"),
        (turn.t("btn_every_n"), "days:every_n"),
    ]


def _typed_days(text: str) -> bool:
    return parse_weekdays(text) is not None or texts.fold_word(text) in _EVERY_DAY_WORDS


@step("add_days", days_prompt, typed=lambda t: _typed_days(t.text))
async def add_days(turn: Turn) -> None:
    data = turn.conv.data
    if turn.choice == "days:every" or texts.fold_word(turn.text) in _EVERY_DAY_WORDS:
        data["days"], data["every_n"] = None, None
    elif turn.choice == "days:weekdays":
        data["days"], data["every_n"] = [1, 2, 3, 4, 5], None
    elif turn.choice == "days:chosen":
        await goto(turn, "add_weekdays")
        return
    elif turn.choice == "days:every_n":
        await goto(turn, "add_every_n")
        return
    else:
        days = parse_weekdays(turn.text) if turn.text else None
        if days is None:
            await reprompt(turn, "bad_choice")
            return
        data["days"], data["every_n"] = days, None
    await goto(turn, "add_start")


async def weekdays_prompt(turn: Turn) -> tuple[str, Options]:
    return turn.t("ask_weekdays"), []


@step("add_weekdays", weekdays_prompt, typed=lambda t: parse_weekdays(t.text) is not None)
async def add_weekdays(turn: Turn) -> None:
    days = parse_weekdays(turn.text) if turn.text else None
    if days is None:
        await reprompt(turn, "bad_weekdays")
        return
    turn.conv.data["days"], turn.conv.data["every_n"] = days, None
    await goto(turn, "add_start")


async def every_n_prompt(turn: Turn) -> tuple[str, Options]:
    return turn.t("ask_every_n"), []


@step("add_every_n", every_n_prompt, typed=lambda t: _every_n(t.text) is not None)
async def add_every_n(turn: Turn) -> None:
    n = _every_n(turn.text)
    if n is None:
        await reprompt(turn, "bad_every_n")
        return
    turn.conv.data["days"], turn.conv.data["every_n"] = None, n
    await goto(turn, "add_start")


async def pills_prompt(turn: Turn) -> tuple[str, Options]:
    if _numbered(turn):
        # "1" is one pill, not the first choice (as for the dose above).
        return turn.t("ask_pills_numbered"), []
    return turn.t("ask_pills"), [(turn.t("btn_skip"), "pills:skip")]


@step("add_pills", pills_prompt, typed=lambda t: _pills(t.text) is not None or _typed_skip(t))
async def add_pills(turn: Turn) -> None:
    if turn.choice == "pills:skip" or _typed_skip(turn):
        turn.conv.data["pills"] = None
    else:
        count = _pills(turn.text)
        if count is None:
            await reprompt(turn, "bad_pills", most=format_decimal(MAX_PILLS, locale=turn.locale))
            return
        turn.conv.data["pills"] = count
    await goto(turn, "add_confirm")


def _per_dose(data: dict[str, Any]) -> Decimal:
    """Pills a dose of the medicine being added (1 when the dose says no number of pills)."""
    return Decimal(data.get("per_dose") or 1)


def _stock_line(turn: Turn, pills: int | None) -> str:
    """The summary's pill count, said as the pills the patient has (not a dose: "20 pastillas"
    under "1 comprimido" was read as the dose), with the doses they make when a dose is
    more or less than one pill ("2 pastillas": 20 pills, 10 doses). The refill reminder
    counts whole pills a dose (core/sql/planner.sql), so for half a pill it comes early."""
    if pills is None:
        return ""
    per_dose = _per_dose(turn.conv.data)
    if per_dose == 1:
        return turn.t("confirm_med_pills", count=pills)
    return turn.t(
        "confirm_med_pills_doses",
        count=pills,
        doses=math.floor(pills / per_dose),
        per_dose=format_decimal(per_dose, locale=turn.locale),
    )


def _dose_shown(turn: Turn, dose: str | None) -> str:
    """A dose as the summary and /meds show it: as typed, but a number alone with its pills
    ("1 pill", "2 pastillas"), as the reminders say it (core.dose_shown): "Ibuprofeno (1)" read
    as the medicine's number, not its dose."""
    if not dose:
        return turn.t("dose_none")
    return dose_shown(dose, turn.locale)


async def confirm_prompt(turn: Turn) -> tuple[str, Options]:
    data = turn.conv.data
    end = data.get("end")
    summary = turn.t(
        "confirm_med",
        name=data.get("name", ""),
        dose=_dose_shown(turn, data.get("dose")),
        when=when_reminded(turn, _times(data), data.get("days"), data.get("every_n")),
        start=texts.fmt_date(date.fromisoformat(data["start"]), turn.locale),
        end=turn.t("confirm_med_end", end=texts.fmt_date(date.fromisoformat(end), turn.locale))
        if end
        else "",
        pills=_stock_line(turn, data.get("pills")),
    )
    return summary, [(turn.t("btn_save"), "save:yes"), (turn.t("btn_cancel"), "save:no")]


async def _at_the_limit(turn: Turn) -> bool:
    """Whether a patient of no clinic has MAX_OWN_MEDICINES already; if so, says so."""
    if turn.patient is None or turn.patient["organization_id"] is not None:
        return False
    count = await turn.conn.fetchval(query("bot", "count_medicines"), turn.conv.patient_id)
    if count < MAX_OWN_MEDICINES:
        return False
    finish(turn)
    turn.say(turn.t("too_many_medicines", max=MAX_OWN_MEDICINES))
    return True


@step("add_confirm", confirm_prompt)
async def add_confirm(turn: Turn) -> None:
    if turn.choice == "save:no":
        finish(turn)
        turn.say(turn.t("cancelled"))
        return
    if turn.choice != "save:yes":
        await reprompt(turn, "bad_choice")
        return
    if await _at_the_limit(turn):  # another chat of the patient may have added meanwhile
        return
    data = turn.conv.data
    medication_id = await turn.conn.fetchval(
        query("bot", "insert_medication"),
        turn.conv.patient_id,
        data["name"],
        data.get("dose"),
        data.get("pills"),
        _per_dose(data),
    )
    schedule_id = await turn.conn.fetchval(
        query("bot", "insert_schedule"),
        medication_id,
        turn.conv.patient_id,
        _times(data),
        data.get("days"),
        data.get("every_n"),
        date.fromisoformat(data["start"]),
        date.fromisoformat(data["end"]) if data.get("end") else None,
    )
    await replan_schedules(turn, [schedule_id])
    times = times_reminded(turn, _times(data))
    finish(turn)
    start = max(date.fromisoformat(data["start"]), _first_day_if_not_tonight(turn, _times(data)))
    # A later start is said: "I'll remind you at 6:00 PM" alone read as from today, and the
    # first reminder came weeks later (a typed date read another way than meant goes unseen).
    saved = (
        turn.t("med_saved_from", times=times, start=texts.fmt_date(start, turn.locale))
        if start > now_local(turn).date()
        else turn.t("med_saved", times=times)
    )
    turn.say(await _promise(turn, saved, _times(data)))


def _first_day_if_not_tonight(turn: Turn, times: list[time]) -> date:
    """The day of the first reminder when a time still ahead on today's clock gets none today,
    else today. In the hour clocks fall back, a wall time happens twice and fires at its first
    (scheduler/recurrence.py): at 23:50 of the second 23:00 in Santiago, a 23:55 saved "starting
    today" had its first reminder tomorrow, and "I'll remind you at 11:55 PM" read as tonight
    (found with medremind dev at 2027-04-03 23:50 America/Santiago)."""
    today = now_local(turn).date()
    patient = turn.patient
    if patient is None:
        return today
    clock = now_local(turn).time().replace(tzinfo=None)
    here = ZoneInfo(patient["timezone"])
    days = [due.astimezone(here).date() for at, due in _reminders(turn, patient, times)]
    ahead = [at for at in times if at > clock]
    return min(days) if ahead and days and min(days) > today else today


# -- /meds ------------------------------------------------------------------------------------


@command("meds")
async def meds(turn: Turn, arg: str) -> None:
    """List medicines with pause/resume, edit times and delete buttons."""
    finish(turn)
    listed = await _meds_list(turn)
    if listed is None:
        turn.say(turn.t("no_meds"))
        return
    turn.conv.step = "meds_menu"
    turn.say(*listed)


async def _meds_list(turn: Turn) -> tuple[str, Options] | None:
    """The /meds list and its buttons, as the medicines are now (None: there are none)."""
    rows = await turn.conn.fetch(query("bot", "list_medications"), turn.conv.patient_id)
    if not rows:
        return None
    lines = [turn.t("meds_header")]
    options: Options = []
    shorts = short_names(rows)
    for n, row in enumerate(rows, 1):
        mark_sensitive(row["name"], row["dose"])
        times = list(row["times_of_day"] or [])
        lines.append(
            turn.t(
                "med_line",
                n=n,
                name=row["name"],
                dose=_dose_shown(turn, row["dose"]),
                when=when_reminded(
                    turn, times, row["days_of_week"], row["every_n_days"], row["timezone"]
                ),
                period=_period(turn, row["start_date"], row["end_date"]),
                paused=turn.t("med_paused") if row["status"] == "paused" else "",
            )
        )
        short = shorts[n - 1]  # two of one name: "Aspirin (2)", by its number in the list
        if row["status"] == "paused":
            options.append((turn.t("btn_resume_med", name=short), f"med:resume:{row['id']}"))
        else:
            options.append((turn.t("btn_pause_med", name=short), f"med:pause:{row['id']}"))
        options.append((turn.t("btn_edit_med", name=short), f"med:edit:{row['id']}"))
        options.append((turn.t("btn_delete_med", name=short), f"med:delete:{row['id']}"))
    return "\n".join(lines), options


def _period(turn: Turn, start: date | None, end: date | None) -> str:
    """What /meds says of a schedule's dates: a start still ahead (no reminder comes before
    it: "at 6:00 PM, every day" alone read as from today), and an end date."""
    said = ""
    if start is not None and start > now_local(turn).date():
        said += turn.t("med_line_from", start=texts.fmt_date(start, turn.locale))
    if end is not None:
        said += turn.t("med_line_until", end=texts.fmt_date(end, turn.locale))
    return said


async def meds_prompt(turn: Turn) -> tuple[str, Options]:
    """The list again, as it is now (shown again after a stale button or a passed-over menu:
    "Your medicines:" alone named none of them)."""
    listed = await _meds_list(turn)
    return listed if listed is not None else (turn.t("no_meds"), [])


@step("meds_menu", meds_prompt, words=typed_a_word)
async def meds_menu(turn: Turn) -> None:
    """An option of the /meds list. Anything else is answered with the options again, the list
    staying open: a mistyped "3" or "pasue" closed it with "Sorry, I didn't understand that",
    and the patient's next "3" was "Nothing is waiting for an answer" (as other menus do).
    "Thanks" closes it (bot.engine, a list looked at)."""
    word = said_word(turn)
    if word is not None:
        await ask_which(turn, word)  # "pause": one medicine, or every reminder?
        return
    if not turn.choice or not turn.choice.startswith("med:"):
        await reprompt(turn, "bad_choice")
        return
    _, action, raw_id = turn.choice.split(":", 2)
    medication_id = UUID(raw_id)
    row = await turn.conn.fetchrow(
        query("bot", "get_medication"), medication_id, turn.conv.patient_id
    )
    if row is None:
        finish(turn)
        turn.say(turn.t("med_gone"))
        return
    mark_sensitive(row["name"])
    if action in ("pause", "resume"):
        await set_medicine_status(turn, row, action)
    elif action == "delete":
        turn.conv.state["data"] = {"medication_id": raw_id, "name": row["name"]}
        await goto(turn, "delete_med")
    elif action == "edit":
        turn.conv.state["data"] = {
            "mode": "edit",
            "medication_id": raw_id,
            "name": row["name"],
            "times": [],
        }
        await goto(turn, "add_times")
    else:
        await reprompt(turn, "bad_choice")


async def delete_med_prompt(turn: Turn) -> tuple[str, Options]:
    return turn.t("confirm_delete_med", name=turn.conv.data.get("name", "")), [
        (turn.t("btn_yes"), "delmed:yes"),
        (turn.t("btn_no"), "delmed:no"),
    ]


@step("delete_med", delete_med_prompt, words=typed_a_word)
async def delete_med(turn: Turn) -> None:
    word = said_word(turn)
    if word is not None:
        # "pause" when asked to delete a medicine: that one rather than deleted, or everything?
        await ask_which(turn, word, only=UUID(turn.conv.data["medication_id"]))
        return
    if turn.choice == "delmed:no":
        finish(turn)
        turn.say(turn.t("cancelled"))
        return
    if turn.choice != "delmed:yes":
        await reprompt(turn, "bad_choice")
        return
    medication_id = UUID(turn.conv.data["medication_id"])
    name = turn.conv.data.get("name", "")
    patient_id = turn.conv.patient_id
    await turn.conn.execute(
        query("bot", "set_medication_status"), medication_id, patient_id, "deleted"
    )
    ids = await turn.conn.fetch(
        query("bot", "set_schedules_status"), medication_id, patient_id, "ended"
    )
    # Every open dose, not only the future ones: a snoozed or unanswered reminder of a deleted
    # medicine must not come back.
    await turn.conn.execute(query("medicines", "cancel_open_doses"), medication_id)
    await replan_schedules(turn, [r["id"] for r in ids])
    finish(turn)
    turn.say(turn.t("med_deleted_done", name=name))


async def save_edited_times(turn: Turn) -> None:
    data = turn.conv.data
    medication_id = UUID(data["medication_id"])
    times = _times(data)
    ids = await turn.conn.fetch(
        query("bot", "set_schedule_times"), medication_id, turn.conv.patient_id, times
    )
    await turn.conn.execute(query("bot", "cancel_future_doses"), medication_id, turn.now)
    await replan_schedules(turn, [r["id"] for r in ids])
    name = data.get("name", "")
    finish(turn)
    done = turn.t("med_times_done", name=name, times=times_reminded(turn, times))
    skipped, kept = await _today_after_the_move(turn, medication_id, times)
    if skipped and not kept:
        done = turn.t("med_times_done_tomorrow", name=name, times=times_reminded(turn, times))
    elif skipped:
        done += " " + turn.t("med_times_today_only", times=times_said(kept, turn.locale))
    turn.say(await _promise(turn, done, times))


async def _today_after_the_move(
    turn: Turn, medication_id: UUID, times: list[time]
) -> tuple[list[time], list[time]]:
    """Of the new ``times`` still ahead today, those the re-plan gave no reminder today and
    those it did. A day keeps no more doses than its rule has (scheduler/planning_day_quota.py):
    moved after today's dose was reminded or answered, a once-a-day medicine's new 11:59 PM
    comes from tomorrow, and "will now be reminded at 11:59 PM" alone promised it tonight.
    Read from the plan itself, within the planner's horizon; nothing is said while reminders
    are paused or nothing of the medicine is planned (a paused medicine)."""
    patient = turn.patient
    if patient is None or patient["reminders_paused"]:
        return [], []
    zone = ZoneInfo(patient["timezone"])
    horizon = turn.now + timedelta(hours=turn.ctx.settings.planner_horizon_hours)
    today = turn.now.astimezone(zone).date()
    ahead = [
        (at, due)
        for at, due in _reminders(turn, patient, times)
        if due.astimezone(zone).date() == today and due < horizon
    ]
    planned = {
        r["due_at"]
        for r in await turn.conn.fetch(
            query("bot", "planned_doses_between"), medication_id, turn.now, horizon
        )
    }
    if not ahead or not planned:
        return [], []
    return [at for at, due in ahead if due not in planned], [
        at for at, due in ahead if due in planned
    ]


async def _promise(turn: Turn, promise: str, times: list[time]) -> str:
    """``promise`` of reminders at ``times``, with what the patient's quiet hours do to them
    (:func:`_quiet_note`), when one the clocks skip comes (:mod:`bot.skipped_times`) and that
    none come while their reminders are paused."""
    if turn.patient is None:
        return promise
    # A time the clocks skip on its next day (2:30 AM the night they go forward): when it comes,
    # next to the promise of that time (a traveller's times shown where they are exist there).
    patient = turn.patient
    mine = [(at, due) for at, due in _reminders(turn, patient, times) if at in times]
    notes = [promise, *skipped_time_notes(turn.t, turn.locale, patient["timezone"], mine)]
    notes += await _quiet_note(turn, patient, times)
    if turn.patient["reminders_paused"]:
        notes.append(turn.t("med_saved_paused"))
    return " ".join(notes)


async def _quiet_note(turn: Turn, patient: Any, times: list[time]) -> list[str]:
    """What quiet hours do to reminders at ``times`` (scheduler.planning_rules.plan_nags): a time
    chosen inside them keeps its reminder and follow-ups; a time before them loses the
    follow-ups that would fall inside (said, so nobody waits for a nag that never comes).

    Each time is judged at its next reminder, in the patient's zone on that date, by the
    planner's own rule: follow-ups are minutes after the reminder's instant, so on the day clocks
    change they land an hour off the wall clock (00:30 in London on 2027-03-28, follow-ups every
    15 minutes: 00:45, 02:00 and 02:15), and a note worked out on wall times was wrong then."""
    start, end, _ = await quiet_window(turn, patient)
    zone = patient["timezone"]
    inside: list[time] = []
    cut: list[time] = []
    for at, due in _reminders(turn, patient, times):
        if in_quiet_hours(due, zone, start, end):
            inside.append(at)
            continue
        nags = plan_nags(
            due_at=due,
            snoozed_until=None,
            reminder_status="sent",
            reminder_sent_at=due,
            interval_minutes=patient["nag_interval_minutes"],
            nag_max=patient["nag_max"],
            timezone=zone,
            quiet_start=start,
            quiet_end=end,
        )
        if len(nags.followups) < patient["nag_max"]:
            cut.append(at)
    notes = []
    if inside:
        window = window_text(turn, start, end)
        notes.append(
            turn.t(
                texts.counted("med_quiet_chosen", len(inside)),
                times=times_said(inside, turn.locale),
                window=window,
            )
        )
    if cut:
        notes.append(
            turn.t(
                "med_quiet_cut",
                times=times_said(cut, turn.locale),
                start=texts.fmt_time(start, turn.locale),
            )
        )
    return notes


def times_reminded(
    turn: Turn, times: list[time], schedule_timezone: str | None = None
) -> SaidTimes:
    """``times`` of a schedule (a new one, or one with ``schedule_timezone``, its own zone) as
    the reminders will say them: the clock where the patient is. A traveller who keeps home
    times (scheduler.planning_rules.resolve_timezone) chose home times, which the reminders say
    in the patient's zone now: both are said, 'local where you are (home at home, zone)', so
    neither a confirmation nor /meds names a time no reminder will say. The times stay lists
    (bot.said_times): a Spanish text gives each its article, "a la 1:00 y a las 11:00"."""
    home = times_said(times, turn.locale)
    patient = turn.patient
    if patient is None:
        return home
    zone = _schedule_zone(patient, schedule_timezone)
    if zone == patient["timezone"]:
        return home
    local = [at for at, _ in _reminders(turn, patient, times, zone)]
    return said(
        turn.t,
        "times_where_you_are",
        turn.locale,
        local=times_said(local, turn.locale),
        home=home,
        zone=turn.zone(zone),
    )


def when_reminded(
    turn: Turn,
    times: list[time],
    days: list[int] | None,
    every_n: int | None,
    schedule_timezone: str | None = None,
) -> SaidTimes:
    """A schedule's times and days as the reminders will fall where the patient is: '8:00 AM,
    on Mon' (:func:`times_reminded`, :func:`days_text`). A traveller keeping home times chose
    weekdays at home, and a time late or early there falls on another day where they are now
    (Berlin's 23:00 on Mondays is Tokyo's 7:00 AM on Tuesdays): each local time is said with the
    days it falls on there, and the home times with the home days, so no label names a day on
    which that time never comes."""
    plain = said(
        turn.t,
        "times_and_days",
        turn.locale,
        times=times_reminded(turn, times, schedule_timezone),
        days=days_text(turn, days, every_n),
    )
    patient = turn.patient
    if patient is None or not days or len(days) == 7 or (every_n or 0) > 1:
        return plain  # every day (or every n days) is every day wherever the patient is
    zone = _schedule_zone(patient, schedule_timezone)
    if zone == patient["timezone"]:
        return plain
    here, home = ZoneInfo(patient["timezone"]), ZoneInfo(zone)
    shifted: dict[int, list[time]] = {}  # days later where the patient is -> local times
    for at in times:
        due = _next_reminder(turn, zone, at)
        if due is None:
            continue
        local = due.astimezone(here)
        later = (local.date() - due.astimezone(home).date()).days
        shifted.setdefault(later, []).append(local.time().replace(tzinfo=None))
    if set(shifted) <= {0}:
        return plain
    groups = [
        said(
            turn.t,
            "times_on_days",
            turn.locale,
            times=times_said(sorted(local), turn.locale),
            days=days_text(turn, sorted({(d - 1 + later) % 7 + 1 for d in days}), None),
        )
        for later, local in sorted(shifted.items())
    ]
    at_home = said(
        turn.t,
        "times_on_days",
        turn.locale,
        times=times_said(times, turn.locale),
        days=days_text(turn, days, every_n),
    )
    return said(
        turn.t,
        "times_where_you_are",
        turn.locale,
        local=joined("; ", groups, turn.locale),
        home=at_home,
        zone=turn.zone(zone),
    )


def _schedule_zone(patient: Any, schedule_timezone: str | None = None) -> str:
    """The zone a schedule of the patient's is read in, as the planner reads it (a new one:
    ``schedule_timezone`` None)."""
    return resolve_timezone(
        schedule_timezone, patient["timezone"], patient["timezone_mode"], patient["home_timezone"]
    )


def _reminders(
    turn: Turn, patient: Any, times: list[time], zone: str | None = None
) -> list[tuple[time, datetime]]:
    """Each of the schedule's ``times``: its next reminder's wall time where the patient is, and
    its instant. The schedule is read in ``zone``, by default a new schedule's (the home one for
    a traveller keeping home times). Read where the patient is, a time is named as chosen: on
    the day clocks go forward, a 2:30 AM reminder comes at 3:00 AM (the gap's end), and "I'll
    remind you at 2:30 AM. 3:00 AM is inside your quiet hours" named a time nobody chose."""
    here = ZoneInfo(patient["timezone"])
    read_in = zone or _schedule_zone(patient)
    found = []
    for at in times:
        due = _next_reminder(turn, read_in, at)
        if due is not None:
            local = due.astimezone(here).time().replace(tzinfo=None)
            found.append((at if read_in == patient["timezone"] else local, due))
    return found


def _next_reminder(turn: Turn, zone: str, at: time) -> datetime | None:
    """The instant of the next reminder at wall time ``at`` in ``zone`` after the turn's clock
    (today's, or tomorrow's once today's has passed), as the planner places it: a time in the
    spring-forward gap fires when the gap ends (scheduler/recurrence.py)."""
    today = turn.now.astimezone(ZoneInfo(zone)).date()
    occurrence = next_occurrence(Recurrence((at,), zone, today - timedelta(days=1)), turn.now)
    return occurrence.utc if occurrence is not None else None


def local_datetime(turn: Turn) -> datetime:
    """Now in the patient's zone (re-exported for dialogs that need it)."""
    return now_local(turn)
