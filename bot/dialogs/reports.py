"""``/today``, ``/stats`` (adherence over 7 and 30 days, streak, chart) and ``/export`` (CSV)."""

from __future__ import annotations

import asyncio
import csv
import io
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from bot import texts
from bot.charts import adherence_png
from bot.conversation import NUMBERED_CHANNELS, Reply, Turn
from bot.dialogs.onboarding import now_local
from bot.dialogs.pause_words import day_words
from bot.steps import command, finish
from core.answer_buttons import QUESTION_TTL, dose_data
from core.dose_times import named_local
from core.logs import mark_sensitive
from core.reply_files import MAX_FILE_BYTES, fits
from core.spreadsheet_cells import inert_cell
from core.sql import query
from platforms.base import Channel

# Answered or past due: these count towards adherence. A dose still due later today does not.
COUNTED = frozenset({"taken", "skipped", "missed"})
# May still be answered from /today: missed, and not reminded while no channel reached the
# patient ('unreachable', migration 20260101013300; not counted: nobody knows).
OPEN = frozenset({"due", "snoozed", "missed", "unreachable"})
# SMS and WhatsApp (through Twilio) cannot carry our attachments.
NO_FILES = frozenset({Channel.SMS, Channel.WHATSAPP})
EXPORT_COLUMNS = (
    "dose_event_id",
    "due_at_utc",
    "local_date",
    "local_time",
    "medication",
    "dose",
    "status",
    "answered_at_utc",
    "answered_channel",
)


@command("today")
async def today(turn: Turn, arg: str) -> None:
    """Today's doses where the patient is now, at the times their clock shows (as the reminders
    say them), and what became of each; first, under their day, the doses of an earlier day
    still waiting for an answer (the 23:30 dose snoozed to 00:15, asked about at 00:20)."""
    finish(turn)
    now = now_local(turn)
    zone = now.tzinfo or UTC
    local_today = now.date()
    rows = await turn.conn.fetch(
        query("bot", "today_doses"),
        turn.conv.patient_id,
        datetime.combine(local_today, time(0), tzinfo=zone),
        datetime.combine(local_today + timedelta(days=1), time(0), tzinfo=zone),
        # As long as a typed answer to its reminder is taken (bot.routing), as the app's day.
        turn.now - QUESTION_TTL,
    )
    paused = _paused_note(turn, zone)
    if not rows:
        turn.say("\n\n".join(filter(None, (turn.t("today_none"), paused))))
        return
    sms = turn.conv.channel is Channel.SMS
    lines: list[str] = []
    buttons: list[tuple[str, str]] = []
    day_shown: date | None = None
    for row in rows:
        mark_sensitive(row["medication_name"])
        # As its reminder names it: the set time where the clocks sprang over it (2:30, sent
        # at 3:00), else the time the patient's clock shows now.
        local = named_local(row["due_at"], zone, row["local_date"], row["local_time"])
        day = row["due_at"].astimezone(zone).date()
        if day != day_shown:
            day_shown = day
            if day == local_today:
                header = turn.t("today_header", date=texts.fmt_date(local_today, turn.locale))
            else:
                header = turn.t(
                    "today_earlier_header", day=texts.fmt_day(day, turn.locale, sms=sms)
                )
            lines.extend([""] if lines else [])
            lines.append(header)
        at = texts.fmt_time(local, turn.locale)
        status = row["status"]
        if status == "due" and row["due_at"] > turn.now:
            # Not yet its time: "due" read as late, or as something to answer now.
            status = "upcoming"
        lines.append(
            turn.t(
                "today_line",
                time=at,
                name=row["medication_name"],
                status=turn.t(f"status_{status}"),
            )
        )
        if row["status"] in OPEN and row["due_at"] <= turn.now:
            # Another day's names its day: "Taken 11:30 PM" alone reads as tonight's.
            when = texts.on_its_day(turn.locale, at, local, local_today, sms=sms)
            buttons.append((f"{turn.t('btn_taken')} {when}", dose_data(row["id"], "t")))
    if day_shown != local_today:
        lines.extend(["", turn.t("today_none")])
    if paused:
        lines.extend(["", paused])
    if turn.conv.channel in NUMBERED_CHANNELS:
        buttons = []  # on SMS, "1"/"taken" answers the latest reminder instead
    turn.replies.append(Reply(text="\n".join(lines), raw_options=tuple(buttons[:8])))


def _paused_note(turn: Turn, zone: tzinfo) -> str:
    """That every reminder is paused, and until when (or ""): the doses the pause cancelled
    left /today with no word of why (found in medremind dev)."""
    patient = turn.patient
    if patient is None or not patient["reminders_paused"]:
        return ""
    until = patient["reminders_paused_until"]
    if until is None:
        return turn.t("today_paused")
    local = until.astimezone(zone)
    return turn.t(
        "today_paused_until",
        date=day_words(turn, local.date()),
        time=texts.fmt_time(local.time(), turn.locale),
    )


def daily_adherence(
    rows: list[tuple[date, str]], days: list[date], now_date: date
) -> dict[date, float | None]:
    """Per local day: the percentage of counted doses taken (``None`` without counted doses)."""
    counted: dict[date, int] = defaultdict(int)
    taken: dict[date, int] = defaultdict(int)
    for local_date, status in rows:
        if status in COUNTED or (status in ("due", "snoozed") and local_date < now_date):
            counted[local_date] += 1
            taken[local_date] += status == "taken"
    return {d: (100.0 * taken[d] / counted[d] if counted[d] else None) for d in days}


def percent(rows: list[tuple[date, str]], since: date, now_date: date) -> int | None:
    """Whole-percent adherence over the days from ``since``."""
    total = hit = 0
    for local_date, status in rows:
        if local_date < since:
            continue
        if status in COUNTED or (status in ("due", "snoozed") and local_date < now_date):
            total += 1
            hit += status == "taken"
    return round(100 * hit / total) if total else None


def streak(daily: dict[date, float | None], today_: date) -> int:
    """Consecutive days, back from yesterday (today too when complete), with every dose taken."""
    count = 0
    if daily.get(today_) == 100.0:
        count += 1
    day = today_ - timedelta(days=1)
    while daily.get(day) == 100.0:
        count += 1
        day -= timedelta(days=1)
    return count


@command("history")
async def history(turn: Turn, arg: str) -> None:
    """Where a patient's history is: /today, /stats and, where files reach them, /export. No
    command is called history, and "/history" (or "historial" over SMS) answered "I don't know
    that command" (found using the bot as a patient). Not in /help: it lists those three. Like
    /help, it leaves an open dialog where it was."""
    turn.say(turn.t("history_where" if turn.conv.channel in NO_FILES else "history_where_files"))


@command("stats")
async def stats(turn: Turn, arg: str) -> None:
    """Adherence over 7 and 30 days and the current streak, as text and a chart image. Days
    are the patient's where they are now, as /today's: a dose counts on the date its due time
    falls on there (not its schedule's date, the home zone's while a 'home' patient travels)."""
    finish(turn)
    zone = now_local(turn).tzinfo
    local_today = turn.now.astimezone(zone).date()
    days = [local_today - timedelta(days=offset) for offset in range(29, -1, -1)]
    rows = await turn.conn.fetch(
        query("bot", "dose_history"),
        turn.conv.patient_id,
        turn.now - timedelta(days=31),
        turn.now,
    )
    pairs = [(r["due_at"].astimezone(zone).date(), r["status"]) for r in rows]
    daily = daily_adherence(pairs, days, local_today)
    lines = []
    for period in (7, 30):
        share = percent(pairs, local_today - timedelta(days=period - 1), local_today)
        if share is None:
            lines.append(turn.t("stats_period_none", days=period))
        else:
            lines.append(turn.t("stats_period", days=period, percent=share))
    days_in_a_row = streak(daily, local_today)
    lines.append(turn.t(texts.counted("stats_streak", days_in_a_row), streak=days_in_a_row))
    body = "\n".join(lines)
    if turn.conv.channel in NO_FILES:
        turn.say(body)
        return
    # Drawing takes a CPU-bound moment: off the event loop, so other chats carry on.
    png = await asyncio.to_thread(
        adherence_png, days, [daily[d] for d in days], turn.t("stats_chart_title"), turn.locale
    )
    chart = ("adherence.png", "image/png", png)
    # A chart is some tens of kB; one past the stored files' limit goes as text alone.
    turn.say(body, attachments=(chart,) if fits(chart) else ())


def export_csv(rows: list, locale: str) -> bytes:
    """The patient's dose events as CSV (UTF-8 with BOM so spreadsheet apps read accents)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                str(row["id"]),
                row["due_at"].isoformat(),
                row["local_date"].isoformat(),
                row["local_time"].strftime("%H:%M"),
                # Typed by the patient or imported from the clinic's EHR: kept inert.
                inert_cell(row["medication_name"]),
                inert_cell(row["medication_dose"] or ""),
                row["status"],
                row["answered_at"].isoformat() if row["answered_at"] else "",
                row["answered_channel"] or "",
            ]
        )
    return buffer.getvalue().encode("utf-8-sig")


@command("export")
async def export(turn: Turn, arg: str) -> None:
    """Every dose event of the patient as a CSV document."""
    finish(turn)
    if turn.conv.channel in NO_FILES:
        turn.say(turn.t("files_unavailable"))
        return
    # History only: doses planned for later are not part of it yet.
    rows = await turn.conn.fetch(query("bot", "export_doses"), turn.conv.patient_id, turn.now)
    for row in rows:
        mark_sensitive(row["medication_name"])
    data = export_csv(list(rows), turn.locale)
    document = ("medremind-doses.csv", "text/csv", data)
    if not fits(document):
        # Replies and their files are stored until sent (core.reply_files): a bounded size.
        turn.say(
            turn.t(
                "export_too_large",
                count=len(rows),
                megabytes=round(len(data) / (1024 * 1024), 1),
                limit=MAX_FILE_BYTES // (1024 * 1024),
            )
        )
        return
    turn.say(
        turn.t(texts.counted("export_ready", len(rows)), count=len(rows)), attachments=(document,)
    )
