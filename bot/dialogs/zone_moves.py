"""What a change of time zone or zone mode in /settings does to the patient's reminder times,
said back with their next reminder, and, for a patient keeping home times, whether the new zone
is a move or a trip.

A 'home'-mode patient who set a new zone heard "Saved." and kept their old home's times: moved
from Chicago to Madrid, their 8:00 reminder came at 15:00 for good, and nothing in the bot could
move it (the home zone moved only through the clinic's API). Now the bot asks: moved there (the
home zone moves, reminders at their times on the new clock) or travelling (they keep home times,
the next one said on both clocks).
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from bot import texts
from bot.conversation import Turn
from bot.dialogs.replanning import replan_now
from bot.steps import IDLE, Options, finish, goto, reprompt, step
from core.logs import mark_sensitive
from core.sql import query
from core.zone_names import zone_loads

__all__ = [
    "after_zone_saved",
    "ask_after_command",
    "kept_as_trip",
    "mode_said",
    "question_fits_after",
]


async def _reload(turn: Turn) -> None:
    turn.patient = await turn.conn.fetchrow(query("bot", "get_patient"), turn.conv.patient_id)


async def mode_said(turn: Turn) -> str:
    """What the patient's zone mode does to their reminder times, with their next reminder as
    it now falls: "Saved." alone left a traveller back on home times to find out at 10 p.m. that
    their morning reminder now comes in the evening where they are."""
    await _reload(turn)
    p = turn.patient
    assert p is not None
    zone, home = p["timezone"], p["home_timezone"] or p["timezone"]
    if p["timezone_mode"] == "follow":
        said = turn.t("tz_mode_follow_saved", zone=turn.zone(zone))
    else:
        said = turn.t("tz_mode_home_saved", home=turn.zone(home))
    due = await turn.conn.fetchval(query("bot", "next_reminder_at"), p["id"], turn.now)
    if due is None or not (zone_loads(zone) and zone_loads(home)):
        return said
    here = texts.fmt_time(due.astimezone(ZoneInfo(zone)), turn.locale)
    if p["timezone_mode"] == "follow" or home == zone:
        return f"{said} {turn.t('tz_next_reminder', time=here, zone=turn.zone(zone))}"
    there = texts.fmt_time(due.astimezone(ZoneInfo(home)), turn.locale)
    away = turn.t(
        "tz_next_reminder_away",
        time=there,
        home=turn.zone(home),
        here=here,
        zone=turn.zone(zone),
    )
    return f"{said} {away}"


def kept_as_trip(p: Any) -> bool:
    """Whether patient row ``p`` keeps the times of a home elsewhere than where they are, a home
    the zone database knows: the case "moved or travelling?" asks about."""
    home = p["home_timezone"]
    away = p["timezone_mode"] == "home" and home and home != p["timezone"]
    return bool(away and zone_loads(home))


async def after_zone_saved(turn: Turn) -> None:
    """After /settings saved a new zone (re-planned): a 'home'-mode patient whose home is
    elsewhere is asked whether they moved; everyone else is told where reminders fall."""
    await _reload(turn)
    p = turn.patient
    assert p is not None
    home = p["home_timezone"]
    if p["timezone_mode"] == "home" and home and home != p["timezone"]:
        if not zone_loads(home):
            # A home no zone database knows (Etc/Unknown) plans nothing: the new zone is home.
            await replan_now(turn, move_home=True)
        else:
            await goto(turn, "zone_moved")
            return
    finish(turn)
    turn.say(await mode_said(turn))


def question_fits_after(turn: Turn, command_name: str, at: int) -> bool:
    """Whether "moved or travelling?", skipped by a slash command, can follow the command's
    answer (its replies from ``at`` on) in the same message: not after /cancel, nor after a
    command that opened a dialog or offered options or a file of its own."""
    if command_name == "cancel" or turn.conv.step != IDLE or turn.patient is None:
        return False
    if len(turn.replies) <= at:
        return True  # nothing said: the note and the question alone
    answer = turn.replies[-1]
    return not (answer.options or answer.raw_options or answer.attachments or answer.edit)


async def ask_after_command(turn: Turn) -> None:
    """Ask "moved or travelling?" under the command's last answer, one message (one inbound, one
    reply: an SMS patient pays for each); :func:`question_fits_after` said it fits."""
    answer = turn.replies.pop()
    await goto(turn, "zone_moved", prefix=answer.text)


async def zone_moved_prompt(turn: Turn) -> tuple[str, Options]:
    p = turn.patient
    assert p is not None
    zone, home = p["timezone"], p["home_timezone"] or p["timezone"]
    return turn.t("ask_zone_moved", zone=turn.zone(zone), home=turn.zone(home)), [
        (turn.t("btn_zone_moved"), "zmv:moved"),
        (turn.t("btn_zone_trip"), "zmv:trip"),
    ]


@step("zone_moved", zone_moved_prompt)
async def zone_moved(turn: Turn) -> None:
    if turn.choice not in ("zmv:moved", "zmv:trip"):
        await reprompt(turn, "bad_choice")
        return
    left = turn.patient["home_timezone"] if turn.patient is not None else None
    if turn.choice == "zmv:moved":
        await replan_now(turn, move_home=True)
    finish(turn)
    said = await mode_said(turn)
    if turn.choice == "zmv:moved":
        said += await _caregiver_left_behind(turn, left)
    turn.say(said)


async def _caregiver_left_behind(turn: Turn, left: str | None) -> str:
    """After a move, a caregiver whose nights are the old home's (as "Same as mine" kept them)
    stays there: the patient is told, so one who moved with them can be changed in Caregiver."""
    caregiver = await turn.conn.fetchrow(query("bot", "get_caregiver"), turn.conv.patient_id)
    if caregiver is None or left is None or caregiver["timezone"] != left:
        return ""
    mark_sensitive(caregiver["name"])
    return " " + turn.t("caregiver_stays", name=caregiver["name"], zone=turn.zone(left))
