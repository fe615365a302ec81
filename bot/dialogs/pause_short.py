"""A pause asked for in minutes or hours ("/pause 30 min", "pause for an hour", "/pausa hasta
las 5"): nothing is paused, and what to do instead is said.

A pause is by whole days (:mod:`bot.pause_end`). "/pause 30 min" was refused with "I couldn't
read 30 min as a date", "pause 30 min" without the slash was not understood, and "pause for an
hour" was told how to pause one medicine (found as a patient in medremind dev's console): a
patient who wants a short break was told nothing they could use. A break a snooze can cover is
told to snooze the reminder that long ("snooze 30", typed on every channel, or its button); a
longer one is told the whole days of /pause that cover it.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot import texts
from bot.conversation import Turn
from core.answer_buttons import SNOOZE_MINUTES_MAX, SNOOZE_MINUTES_MIN

__all__ = ["minutes_until", "short_break_text"]

_DAY_MINUTES = 24 * 60
# Words that say which half of the day an hour is in ("5pm", "5 de la tarde", "morning").
_HALF_SAID = re.compile(r"[ap]\.?m\b|de la|madrugada|manana|tarde|noche|morning|evening|night")


def minutes_until(now: datetime, zone: ZoneInfo, at: time, typed: str) -> int:
    """Whole minutes from ``now`` to the next ``at`` on the patient's clock (today's, or
    tomorrow's once it has passed), rounded up: "until 5pm" said at 2:45 PM is 135. An hour
    under 12 that ``typed`` says no half of the day for ("hasta las 5") is the next time the
    clock shows it, 5:00 or 17:00, as people mean it."""
    local_now = now.astimezone(zone)
    candidates = [at]
    if at.hour < 12 and _HALF_SAID.search(typed.lower()) is None:
        candidates.append(at.replace(hour=at.hour + 12))
    return min(_minutes_to(local_now, zone, each) for each in candidates)


def _minutes_to(local_now: datetime, zone: ZoneInfo, at: time) -> int:
    target = datetime.combine(local_now.date(), at, tzinfo=zone)
    if target <= local_now:
        target = datetime.combine(local_now.date() + timedelta(days=1), at, tzinfo=zone)
    # In UTC: one zone's two wall-clock times subtract as if no clock changed between them.
    elapsed = target.astimezone(UTC) - local_now.astimezone(UTC)
    return max(math.ceil(elapsed.total_seconds() / 60), SNOOZE_MINUTES_MIN)


def short_break_text(turn: Turn, minutes: int) -> str:
    """Why ``minutes`` pause nothing, and what does what the patient wants: a snooze of that
    length, or (past a snooze's longest) the days of /pause that cover it. A patient already
    paused is told so: no reminder comes to snooze, and the pause is left as it was."""
    if turn.patient is not None and turn.patient["reminders_paused"]:
        return turn.t("pause_short_while_paused")
    if minutes <= SNOOZE_MINUTES_MAX:
        return turn.t("pause_short_break", minutes=max(minutes, SNOOZE_MINUTES_MIN))
    days = math.ceil(minutes / _DAY_MINUTES)
    return turn.t(
        texts.counted("pause_long_break", days),
        n=days,
        minutes=SNOOZE_MINUTES_MAX,
        hours=SNOOZE_MINUTES_MAX // 60,
    )
