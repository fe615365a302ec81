"""`/help`, `/cancel`, `/pause`, `/resume` and `/delete_me` (erasure after confirmation)."""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from babel.lists import format_list

from bot import texts
from bot.command_phrases import (
    pause_days,
    pause_end_text,
    short_break_minutes,
    vague_pause_unit,
)
from bot.conversation import Turn
from bot.date_order import month_first_region
from bot.dialogs.pause_count import ask_pause_count
from bot.dialogs.pause_dates import ask_other_day, ask_pause_day
from bot.dialogs.pause_far import ask_far_pause
from bot.dialogs.pause_short import minutes_until, short_break_text
from bot.dialogs.pause_words import caregiver_line, day_words, ends_at, example_day
from bot.dialogs.reports import NO_FILES
from bot.keywords import COMMAND_OPT_OUT_CHANNELS, KEYWORD_CHANNELS
from bot.parsing import parse_time
from bot.patient_region import patient_region
from bot.pause_end import end_after_days, end_at, end_on_day, is_far, local_today, pause_zone
from bot.pause_moment import before_dawn, day_and_time, days_said, says_tomorrow
from bot.steps import Options, command, finish, goto, reprompt, step
from core.logs import mark_sensitive
from core.sql import query
from core.template_filters import gsm7_letters
from platforms.base import Channel
from scheduler.holds import pause_reminders, resume_reminders
from scheduler.planning_peaks import PeakCapacity


@command("help", needs_patient=False)
async def help_(turn: Turn, arg: str) -> None:
    """What the bot can do, how to stop every message, and the patient's clinic's contact.

    On SMS a shorter text, in GSM-7 letters, naming the commands that work there: the whole
    help was 4 segments (UCS-2 in Spanish: more), sent as two or more messages. The clinic's
    contact follows in GSM-7 letters too ("Clinica Sol"), as Twilio's Smart Encoding would
    write it: one "í" made the whole help UCS-2, and with a phone and an e-mail two messages.
    Elsewhere the full help, less the commands that do not work on the channel: /export sends a
    file, which WhatsApp (through Twilio) cannot carry either (``reports.NO_FILES``)."""
    clinic = await clinic_contact(turn)
    if turn.conv.channel == Channel.SMS:
        lines = [turn.t("help_sms")]
        if clinic is not None and clinic[1] is not None:
            contact = turn.t("help_clinic_sms", clinic=clinic[0], contact=clinic[1])
            lines.append(gsm7_letters(contact))
        elif clinic is not None:  # a clinic that gave no phone or e-mail: whose messages these are
            lines.append(gsm7_letters(turn.t("help_clinic_name", clinic=clinic[0])))
        turn.say("\n".join(lines))
        return
    # Only the commands that work here: /export's file cannot reach WhatsApp (nor SMS, above).
    files = "" if turn.conv.channel in NO_FILES else turn.t("help_export")
    lines = [turn.t("help", files=files)]
    if turn.conv.channel in KEYWORD_CHANNELS:
        lines.append(turn.t("help_keywords"))
    elif turn.conv.channel in COMMAND_OPT_OUT_CHANNELS:
        lines.append(turn.t("help_commands_stop"))
    if clinic is not None and clinic[1] is not None:
        lines.append(turn.t("help_clinic", clinic=clinic[0], contact=clinic[1]))
    elif clinic is not None:
        lines.append(turn.t("help_clinic_name", clinic=clinic[0]))
    turn.say("\n".join(lines))


async def clinic_contact(turn: Turn) -> tuple[str, str | None] | None:
    """The patient's clinic's name and how to reach it (phone and/or e-mail; None when the clinic
    gave neither), or None for a patient of no clinic."""
    if turn.patient is None:
        return None
    org = await turn.conn.fetchrow(query("bot", "organization_contact"), turn.patient["id"])
    if org is None:
        return None
    ways = [w for w in (org["contact_phone"], org["contact_email"]) if w]
    if not ways:
        return org["name"], None
    contact = turn.t("or_join", first=ways[0], second=ways[1]) if len(ways) > 1 else ways[0]
    return org["name"], contact


@command("cancel", needs_patient=False)
async def cancel(turn: Turn, arg: str) -> None:
    """Leave the current dialog (Telegram; on SMS, CANCEL is a carrier opt-out keyword)."""
    finish(turn)
    turn.say(turn.t("cancelled"))


@command("pause")
async def pause(turn: Turn, arg: str) -> None:
    """Pause every reminder: what is pending (snoozes, nags, refill notices) is withdrawn. A
    length or an end date ("/pause 3 days", "/pause until 3/15") ends the pause by itself
    (:mod:`scheduler.pause_ends`); a plain /pause, or an end not read, lasts until /resume."""
    if arg.strip() and (unit := vague_pause_unit(arg)) is not None:
        # "a few days", "unos días": how many is asked; it paused open, "no end date".
        await ask_pause_count(turn, unit)
        return
    end, note, either, at = await _pause_end(turn, arg) if arg.strip() else (None, "", [], None)
    typed = _UNTIL.sub("", pause_end_text(arg))
    if end is _OTHER_DAY:
        # "until 4/3" read as today, the other way round ahead: nothing paused until it is picked.
        await ask_other_day(turn, typed, either, example=note, at=at)
        return
    if either:
        # "until 4/3", both days ahead: nothing paused until one is picked (it paused at once,
        # open, and a patient who never answered had no reminders until a /resume).
        await ask_pause_day(turn, typed, either, example=note, at=at)
        return
    if end is _NO_DAY_AHEAD:
        # An end date typed that is no day ahead ("until 3/4/2026" for 2027, today's date, a
        # date not read, "3/45"): nothing is paused, and what to type is said. It was paused
        # open, "This pause has no end date" saying nothing of why, and a patient whose typo
        # they did not see missed every dose until a /resume (found using the bot as a patient).
        finish(turn)
        turn.say(note)
        return
    if end is not None and await _asked_first(turn, end, note):
        return
    await pause_reminders(turn.conn, _patient_id(turn), turn.now, until=end)
    finish(turn)
    # The note names /resume itself: "Send /resume" twice in one SMS (found over SMS in dev).
    text = f"{turn.t('paused_all_noted')}\n{note}" if note else turn.t("paused_all")
    turn.say(text + await caregiver_line(turn))


async def _asked_first(turn: Turn, end: datetime, note: str) -> bool:
    """Whether a pause until ``end`` is far enough ahead to ask Yes or No before anything is
    paused (:mod:`bot.dialogs.pause_far`), and it was asked."""
    zone = pause_zone(turn.patient["timezone"] if turn.patient is not None else None)
    today, end_day = local_today(turn.now, zone), end.astimezone(zone).date()
    if not is_far(today, end_day):
        return False
    order = month_first_region(await patient_region(turn))
    example = example_day(today, month_first=order)
    await ask_far_pause(turn, end, today=today, end_day=end_day, note=note, example=example)
    return True


# The end :func:`_pause_end` gives an end date typed that is no day ahead: refused, not paused.
_NO_DAY_AHEAD = datetime.min.replace(tzinfo=UTC)
# The end it gives a date read as today whose other reading is ahead: that day is offered.
_OTHER_DAY = datetime.min.replace(tzinfo=UTC) + timedelta(days=1)

# The words before a date in "/pause until 3/15", "/pausa hasta el 15/3".
_UNTIL = re.compile(r"^(?:until|till|to|hasta(?:\s+el)?)\s+", re.IGNORECASE)


async def _pause_end(turn: Turn, arg: str) -> tuple[datetime | None, str, list[date], time | None]:
    """When "/pause 3 days" or "/pause until 3/15" ends, in the patient's zone, the line that
    says so, the two days a date either way round ahead could be ("until 4/3": asked back,
    :mod:`bot.dialogs.pause_dates`, with a nearer day to type as the line; nothing is paused
    until one is picked), and the time of that day it ends at when one was said ("until 4/3 at
    noon"). A length ends at the same wall-clock time that many days on (across a DST change
    too: 3 days from 10:00 is 10:00); a date at the start of that day (its first instant, "until
    3/15": the 15th is reminded), or at the time or part of the day said with it ("until
    tomorrow afternoon": noon, :mod:`bot.pause_moment`). Before, the words after /pause were
    ignored (then only answered "a pause has no end date") and a patient who forgot /resume
    missed every dose. An end not read ("until I feel better") leaves the pause open; a date
    that is no day ahead (passed, today, "3/45") is :data:`_NO_DAY_AHEAD`, with the line that
    says why and what to type."""
    zone = pause_zone(turn.patient["timezone"] if turn.patient is not None else None)
    today = local_today(turn.now, zone)
    minutes = short_break_minutes(arg)
    if minutes is not None:
        return _NO_DAY_AHEAD, short_break_text(turn, minutes), [], None
    days = pause_days(arg)
    if days is not None:
        end, local_end = end_after_days(turn.now, zone, days)
        return end, ends_at(turn, local_end), [], None
    order = month_first_region(await patient_region(turn))
    until = _UNTIL.sub("", pause_end_text(arg))
    # "until Monday", "hasta el lunes": the next such day (it paused with "no end date"); with
    # a part of the day or a time ("tomorrow afternoon", "el lunes a las 9"): then.
    moment = day_and_time(until, today=today, month_first=order)
    if moment is None:
        readings, at = days_said(until, today=today, month_first=order), None
    else:
        readings, at = moment
    if at is not None and _today_or_tomorrow(turn, zone, until, at):
        # "until tomorrow morning" at 2:15 AM: this morning, after the night, or the next one.
        return None, example_day(today, month_first=order), [today, readings[0]], at
    if at is not None and readings[0] == today:
        # "until tonight", "until this afternoon": hours away, which a snooze gives.
        return _NO_DAY_AHEAD, _today_at(turn, zone, at, month_first=order), [], None
    if len(readings) == 2 and all(day > today for day in readings):
        return None, example_day(today, month_first=order), readings, at
    if readings and readings[0] > today:
        # One reading, or the region's reading ahead and the other passed ("2/4/2026" in Spain
        # on 2 March: 4 February cannot end a pause). The other way round is refused (below):
        # the region's reading is named, and a guess about the region never sets the day.
        day = readings[0]
        if at is not None:
            end = end_at(day, at, zone)
            return end, ends_at(turn, end.astimezone(zone)), [], None
        return end_on_day(day, zone), turn.t("pause_ends_on", date=day_words(turn, day)), [], None
    if len(readings) == 2 and readings[0] == today and readings[1] > today:
        # "4/3" on 4 March in Spain: today cannot end a pause, 3 April can; it was refused as
        # "today" and the patient who writes month first was not offered the day they meant.
        return _OTHER_DAY, example_day(today, month_first=order), readings, at
    said = parse_time(until) if not readings and until != pause_end_text(arg) else None
    if said is not None:
        # "until 5pm": a break of hours, which a snooze gives (a pause is by days).
        minutes = minutes_until(turn.now, zone, said, until)
        return _NO_DAY_AHEAD, short_break_text(turn, minutes), [], None
    if readings or any(ch.isdigit() for ch in until):
        no_day = _no_day_ahead(turn, until, readings, today, month_first=order)
        return _NO_DAY_AHEAD, no_day, [], None
    return None, turn.t("pause_no_end"), [], None


def _today_or_tomorrow(turn: Turn, zone: ZoneInfo, until: str, at: time) -> bool:
    """Whether "tomorrow" with ``at`` ("tomorrow morning") is said in the small hours, when
    today's ``at`` is still ahead: either day is meant, and asked."""
    local = turn.now.astimezone(zone)
    ahead = end_at(local.date(), at, zone) > turn.now
    return ahead and says_tomorrow(until) and before_dawn(local.time())


def _today_at(turn: Turn, zone: ZoneInfo, at: time, *, month_first: bool) -> str:
    """A pause "until tonight" (today at ``at``): the snooze that covers the hours until then,
    or, that time gone, that it has passed and what to type instead."""
    end = end_at(local_today(turn.now, zone), at, zone)
    if end > turn.now:
        return short_break_text(turn, max(1, math.ceil((end - turn.now).total_seconds() / 60)))
    gone = turn.t("pause_time_passed", time=texts.fmt_time(at, turn.locale))
    example = example_day(local_today(turn.now, zone), month_first=month_first)
    return f"{gone} {turn.t('pause_day_ahead', example=example)}"


def _no_day_ahead(
    turn: Turn, typed: str, readings: list[date], today: date, *, month_first: bool
) -> str:
    """Why an end date typed is none (it has passed, it is today, it is no date) and how to give
    one ahead, with an example written the patient's way round, as a pause is never begun on it."""
    shown = example_day(today, month_first=month_first)
    if not readings:
        why = turn.t("pause_day_unread", typed=typed)
    elif readings[0] == today:  # the region's reading first (bot.parsing.date_readings)
        why = turn.t("pause_day_today", date=day_words(turn, today))
    else:
        why = turn.t("pause_day_passed", date=day_words(turn, readings[0]))
    return f"{why} {turn.t('pause_day_ahead', example=shown)}"


@command("resume")
async def resume(turn: Turn, arg: str) -> None:
    """Resume reminders, planned from now on."""
    settings = turn.ctx.settings
    # "Reminders are back on" to a patient who never paused read as if something had been off
    # (found in medremind dev's console: "reanudar" twice). The resume runs all the same.
    was_paused = turn.patient is None or bool(turn.patient["reminders_paused"])
    await resume_reminders(
        turn.conn,
        _patient_id(turn),
        turn.now,
        default_quiet=(settings.quiet_hours_start, settings.quiet_hours_end),
        capacity=PeakCapacity.from_settings(settings),
    )
    finish(turn)
    said = turn.t("resumed_all" if was_paused else "resumed_not_paused")
    turn.say(said + await _still_paused_note(turn))


async def _still_paused_note(turn: Turn) -> str:
    """The medicines /resume leaves paused, named: each was paused on its own in /meds, and
    "Reminders are back on" alone read as if it came back too (found in medremind dev)."""
    rows = await turn.conn.fetch(query("bot", "list_medications"), _patient_id(turn))
    names = [row["name"] for row in rows if row["status"] == "paused"]
    if not names:
        return ""
    mark_sensitive(*names)
    return " " + turn.t(
        texts.counted("resumed_meds_paused", len(names)),
        names=format_list(names, locale=turn.locale),
    )


# The tombstone's reason, as the clinic reads it.
ERASED_BY_PATIENT = "deleted at the patient's request"


def _patient_id(turn: Turn) -> UUID:
    """The chat's patient (commands registered with ``needs_patient`` run only with one)."""
    if turn.conv.patient_id is None:
        raise LookupError("this command needs the chat's patient")
    return turn.conv.patient_id


@command("delete_me")
async def delete_me(turn: Turn, arg: str) -> None:
    """Ask before erasing everything."""
    turn.conv.state["data"] = {}
    await goto(turn, "delete_confirm")


async def delete_prompt(turn: Turn) -> tuple[str, Options]:
    return turn.t("confirm_delete_me"), [
        (turn.t("btn_delete_yes"), "delete:yes"),
        (turn.t("btn_no"), "delete:no"),
    ]


@step("delete_confirm", delete_prompt)
async def delete_confirm(turn: Turn) -> None:
    if turn.choice == "delete:no":
        finish(turn)
        turn.say(turn.t("delete_kept"))
        return
    if turn.choice != "delete:yes":
        await reprompt(turn, "bad_choice")
        return
    patient_id = turn.conv.patient_id
    organization_id = turn.patient["organization_id"] if turn.patient is not None else None
    # Stored inbound texts of this patient's chats go too; the current row is emptied on commit.
    await turn.conn.execute(query("bot", "forget_inbound"), patient_id, turn.inbound_id)
    await turn.conn.execute(
        "update inbound_messages set payload = '{}'::jsonb where id = $1", turn.inbound_id
    )
    # A clinic's record stays as a tombstone its clinic sees; every row about the person goes.
    await turn.conn.execute(query("bot", "erase_patient"), patient_id, ERASED_BY_PATIENT, turn.now)
    if organization_id is not None:
        await turn.conn.execute(
            query("bot", "audit"), organization_id, "patient.erased", "patient", str(patient_id)
        )
    turn.conv.patient_id = None
    turn.patient = None
    turn.conv.state = {}
    finish(turn)
    turn.say(turn.t("deleted_me"))
