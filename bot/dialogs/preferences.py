"""Preferences in ``/settings``: which categories of messages the patient gets (medication,
appointments, clinic news), on which channel first, and the standing appointment reminder
offsets.

The patient's choice is stored in ``patient_preferences.patient_choice``, which only this dialog
writes and which wins over the clinic's (``docs/preferences.md``). A change re-plans at once: a
medication opt-out withdraws the planned reminders like a pause, an appointment opt-out or new
offsets re-plan the reminders of every appointment still ahead.
"""

from __future__ import annotations

import re
from typing import Any

from bot import texts
from bot.conversation import NUMBERED_CHANNELS, Turn
from bot.parsing import parse_int
from bot.steps import Options, finish, goto, reprompt, step
from core.sql import query
from scheduler.appointments import replan_patient_appointments
from scheduler.planner import replan_patient
from scheduler.planning_peaks import PeakCapacity

CATEGORIES = ("medication", "appointments", "clinic_news")
# Offsets, in minutes, a patient may choose: 5 minutes to 14 days (the table's check).
MIN_OFFSET, MAX_OFFSET, MAX_OFFSETS = 5, 20160, 6
_PRESETS = {"24_2": [1440, 120], "24": [1440], "2": [120]}
# Typed for "The clinic's times" where no menu is numbered (ask_appt_offsets_numbered).
_CLINIC_WORDS = ("clinic", "clinica")


def categories_of(patient: Any) -> tuple[str, ...]:
    """The categories that apply to ``patient``: appointments and clinic news come only from a
    clinic, so a patient of none is shown medication reminders alone (not "the clinic's")."""
    if patient is not None and patient["organization_id"] is None:
        return CATEGORIES[:1]
    return CATEGORIES


async def preferences(turn: Turn) -> dict[str, Any]:
    """The patient's stored preferences by category (categories never set are absent)."""
    rows = await turn.conn.fetch(query("bot", "patient_preferences"), turn.conv.patient_id)
    return {r["category"]: r for r in rows}


def _state(turn: Turn, row: Any) -> str:
    state = turn.t("pref_off" if row is not None and row["opted_out"] else "pref_on")
    if row is not None and row["channel"] and not row["opted_out"]:
        return turn.t("pref_via", state=state, channel=turn.t(f"ch_in_text_{row['channel']}"))
    return state


async def summary(turn: Turn, patient: Any) -> str:
    """The lines /settings shows about messages and appointment reminder times."""
    prefs = await preferences(turn)
    clinic_offsets = await turn.conn.fetchval(
        query("bot", "clinic_reminder_offsets"), patient["id"]
    )
    categories = ", ".join(
        f"{turn.t(f'cat_{c}')}: {_state(turn, prefs.get(c))}" for c in categories_of(patient)
    )
    if "appointments" not in categories_of(patient):
        return turn.t("prefs_summary_own", categories=categories)
    return turn.t(
        "prefs_summary",
        categories=categories,
        offsets=offsets_text(turn, patient["appointment_reminder_offsets"], clinic_offsets),
    )


def offsets_text(turn: Turn, mine: list[int] | None, clinic: list[int] | None) -> str:
    """ "24 h, 2 h before", or the clinic's offsets when the patient has none of their own."""
    if mine:
        return turn.t("offsets_mine", times=_times(turn, mine))
    return turn.t("offsets_clinic", times=_times(turn, clinic or [1440, 120]))


def _times(turn: Turn, minutes: list[int]) -> str:
    return ", ".join(
        turn.t("hours_short", n=m // 60) if m % 60 == 0 else turn.t("minutes_short", n=m)
        for m in sorted(minutes, reverse=True)
    )


# -- which messages ----------------------------------------------------------------------------


async def category_prompt(turn: Turn) -> tuple[str, Options]:
    prefs = await preferences(turn)
    shown = categories_of(turn.patient)
    lines = "\n".join(f"{turn.t(f'cat_{c}')}: {_state(turn, prefs.get(c))}" for c in shown)
    return turn.t("ask_category", lines=lines), [(turn.t(f"cat_{c}"), f"pc:{c}") for c in shown]


@step("prefs_category", category_prompt)
async def prefs_category(turn: Turn) -> None:
    chosen = turn.choice[3:] if turn.choice and turn.choice.startswith("pc:") else None
    if chosen not in CATEGORIES:
        await reprompt(turn, "bad_choice")
        return
    turn.conv.data["pref_category"] = chosen
    await goto(turn, "prefs_choice")


async def choice_prompt(turn: Turn) -> tuple[str, Options]:
    category = turn.conv.data.get("pref_category", "medication")
    prefs = await preferences(turn)
    channels = [
        r["channel"]
        for r in await turn.conn.fetch(query("bot", "patient_channels"), turn.conv.patient_id)
    ]
    options: Options = [
        (turn.t("btn_pref_in"), "pv:in"),
        (turn.t("btn_pref_out"), "pv:out"),
    ]
    if len(set(channels)) > 1:
        options += [
            (turn.t("btn_pref_channel", channel=turn.t(f"ch_in_text_{c}")), f"pv:ch:{c}")
            for c in dict.fromkeys(channels)
        ]
        options.append((turn.t("btn_pref_any_channel"), "pv:ch:any"))
    body = turn.t(
        "ask_category_choice",
        category=turn.t(f"cat_{category}"),
        state=_state(turn, prefs.get(category)),
    )
    return body, options


@step("prefs_choice", choice_prompt)
async def prefs_choice(turn: Turn) -> None:
    category = turn.conv.data.get("pref_category")
    _, options = await choice_prompt(turn)
    if category not in CATEGORIES or turn.choice not in {data for _, data in options}:
        await reprompt(turn, "bad_choice")
        return
    assert turn.choice is not None and turn.conv.patient_id is not None
    label = turn.t(f"cat_{category}")
    if turn.choice.startswith("pv:ch:"):
        channel = turn.choice[6:]
        await turn.conn.execute(
            query("bot", "set_preference_channel"),
            turn.conv.patient_id,
            category,
            None if channel == "any" else channel,
        )
        finish(turn)
        turn.say(turn.t("saved"))
        return
    choice = turn.choice[3:]
    await turn.conn.execute(
        query("bot", "set_patient_choice"), turn.conv.patient_id, category, choice, turn.now
    )
    # Re-plan now: an opt-out withdraws what is planned, an opt-in plans from now on.
    if category == "medication":
        await replan_patient(
            turn.conn,
            turn.conv.patient_id,
            turn.now,
            capacity=PeakCapacity.from_settings(turn.ctx.settings),
        )
    elif category == "appointments":
        await replan_patient_appointments(turn.conn, turn.conv.patient_id, turn.now)
    finish(turn)
    turn.say(turn.t("pref_saved_out" if choice == "out" else "pref_saved_in", category=label))


# -- appointment reminder times ----------------------------------------------------------------


async def offsets_prompt(turn: Turn) -> tuple[str, Options]:
    patient = await turn.conn.fetchrow(query("bot", "get_patient"), turn.conv.patient_id)
    clinic = await turn.conn.fetchval(query("bot", "clinic_reminder_offsets"), turn.conv.patient_id)
    current = offsets_text(turn, patient["appointment_reminder_offsets"], clinic)
    if turn.conv.channel in NUMBERED_CHANNELS:
        # Typed hours are the answer here: numbered presets made "2" (hours) the menu's second
        # choice, "A day before". The text names the presets as the hours to type, and CLINIC.
        return turn.t("ask_appt_offsets_numbered", current=current), []
    return turn.t("ask_appt_offsets", current=current), [
        (turn.t(f"btn_offsets_{key}"), f"ao:{key}") for key in _PRESETS
    ] + [(turn.t("btn_offsets_clinic"), "ao:clinic")]


def _typed_clinic(text: str) -> bool:
    """Whether ``text`` asks for the clinic's times ("clinic", "clínica")."""
    return texts.fold_word(text) in _CLINIC_WORDS


def parse_offsets(text: str) -> list[int] | None:
    """Offsets as typed: hours ("24 2", "24h 2h") or minutes ("30m"), in minutes; None if bad."""
    found: list[int] = []
    for token in re.split(r"[\s,;]+", text.strip().lower()):
        if not token:
            continue
        match = re.fullmatch(r"(\d{1,5})\s*(h|m|min)?", token)
        if match is None:
            return None
        number = parse_int(match.group(1), low=1, high=MAX_OFFSET)
        if number is None:
            return None
        minutes = number if match.group(2) in ("m", "min") else number * 60
        if not MIN_OFFSET <= minutes <= MAX_OFFSET:
            return None
        found.append(minutes)
    unique = sorted(set(found), reverse=True)
    return unique if 0 < len(unique) <= MAX_OFFSETS else None


@step(
    "set_appt_offsets",
    offsets_prompt,
    typed=lambda t: parse_offsets(t.text) is not None or _typed_clinic(t.text),
)
async def set_appt_offsets(turn: Turn) -> None:
    offsets: list[int] | None
    if turn.choice and turn.choice.startswith("ao:") and turn.choice[3:] in (*_PRESETS, "clinic"):
        offsets = _PRESETS.get(turn.choice[3:])
    elif _typed_clinic(turn.text):
        offsets = None  # the clinic's times
    else:
        offsets = parse_offsets(turn.text)
        if offsets is None:
            await reprompt(turn, "bad_offsets")
            return
    assert turn.conv.patient_id is not None
    await turn.conn.execute(query("bot", "set_standing_offsets"), turn.conv.patient_id, offsets)
    await replan_patient_appointments(turn.conn, turn.conv.patient_id, turn.now)
    finish(turn)
    turn.say(turn.t("saved"))
