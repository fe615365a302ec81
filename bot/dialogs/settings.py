"""``/settings``: timezone (home or follow), quiet hours, language, channel order, caregiver,
whether reminders may name the medicine, how often and how many times to nag, and (in
:mod:`bot.dialogs.preferences`) which messages on which channel and appointment reminder times."""

from __future__ import annotations

import re
from datetime import time
from typing import Any

from bot import texts
from bot.conversation import Turn
from bot.dialogs import caregiver_links, preferences, zone_moves
from bot.dialogs.onboarding import (
    channel_order_options,
    language_choice,
    load_patient,
    phone_example,
    typed_phone,
)
from bot.dialogs.replanning import replan_now
from bot.parsing import (
    MAX_NAME_LENGTH,
    fold,
    name_refusal,
    parse_free_field,
    parse_int,
    parse_name,
    parse_time,
    parse_timezone,
)
from bot.patient_region import patient_region, zone_region_of
from bot.spoken_times import FRACTION_AFTER_Y
from bot.steps import Options, command, finish, goto, reprompt, step
from core.logs import mark_sensitive
from core.quiet_windows import NO_QUIET_HOURS, has_no_length
from core.sql import query
from platforms.base import Channel

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_NONE_WORDS = frozenset({"none", "no", "off", "ninguna", "ninguno", "nada"})
# Back to the window that applies when the patient has none of their own (the clinic's, else the
# service's): stored as no window.
_DEFAULT_WORDS = frozenset({"default", "predeterminado", "predeterminadas", "por defecto"})


@command("settings")
async def settings(turn: Turn, arg: str) -> None:
    """Show the current settings with a button per setting."""
    turn.conv.state["data"] = {"settings": True}
    await goto(turn, "settings_menu")


async def menu_prompt(turn: Turn) -> tuple[str, Options]:
    await load_patient(turn)
    p = turn.patient
    assert p is not None
    caregiver = await turn.conn.fetchrow(query("bot", "get_caregiver"), p["id"])
    caregiver_text = turn.t("caregiver_none")
    if caregiver is not None:
        mark_sensitive(caregiver["name"], caregiver["address"])
        caregiver_text = turn.t(
            "caregiver_summary",
            name=caregiver["name"],
            zone=turn.zone(caregiver["timezone"])
            if caregiver["timezone"]
            else turn.t("caregiver_zone_same"),
        )
    quiet = await quiet_text(turn, p)
    body = turn.t(
        "settings_menu",
        zone=turn.zone(p["timezone"]),
        mode=mode_text(turn, p),
        quiet=quiet,
        language=turn.t(f"lang_{p['locale']}") if p["locale"] in texts.LOCALES else p["locale"],
        channels=", ".join(turn.t(f"ch_{c}") for c in p["channel_order"]),
        caregiver=caregiver_text,
        names=turn.t("btn_yes") if p["name_medicine_in_reminders"] else turn.t("btn_no"),
        followups=followups_text(turn, p["nag_interval_minutes"], p["nag_max"]),
    )
    body = f"{body}\n{await preferences.summary(turn, p)}"
    keys = [
        "timezone",
        "tz_mode",
        "quiet",
        "language",
        "channels",
        "messages",
        "appt_times",
        "caregiver",
        "names",
        "nag",
    ]
    if "appointments" not in preferences.categories_of(p):
        keys.remove("appt_times")  # no clinic, no appointments to time
    return body, [(turn.t(f"btn_set_{key}"), f"set:{key}") for key in keys]


def mode_text(turn: Turn, p: Any) -> str:
    """The zone mode as the menu says it; away from home, which home ("keep home times:
    Chicago"): the zone shown is where the patient is, not where reminders are timed."""
    home = p["home_timezone"]
    if p["timezone_mode"] == "home" and home and home != p["timezone"]:
        return turn.t("mode_home_away", home=turn.zone(home))
    return turn.t(f"mode_{p['timezone_mode']}")


def followups_text(turn: Turn, interval: int, count: int) -> str:
    """The follow-up setting as the menu says it: "none" for 0 ("every 15 min, up to 0 times"
    read as if some came), "once" for 1."""
    if count == 0:
        return turn.t("nag_none")
    if count == 1:
        return turn.t("nag_once", nag=interval)
    return turn.t("nag_many", nag=interval, nag_max=count)


async def quiet_window(turn: Turn, patient: Any) -> tuple[time, time, bool]:
    """The patient's quiet window, or the one that applies when they set none (the clinic's
    default, else the service's), as the dispatcher applies it; True when it is a default."""
    if patient["quiet_start"] is not None and patient["quiet_end"] is not None:
        return patient["quiet_start"], patient["quiet_end"], False
    clinic = await turn.conn.fetchrow(query("bot", "clinic_quiet_hours"), patient["id"])
    if clinic is not None and clinic["default_quiet_start"] is not None:
        return clinic["default_quiet_start"], clinic["default_quiet_end"], True
    return turn.ctx.settings.quiet_hours_start, turn.ctx.settings.quiet_hours_end, True


async def quiet_text(turn: Turn, patient: Any) -> str:
    """The patient's quiet window as /settings shows it (:func:`quiet_window`)."""
    start, end, default = await quiet_window(turn, patient)
    window = window_text(turn, start, end)
    return turn.t("quiet_default", window=window) if default else window


def window_text(turn: Turn, start: time, end: time) -> str:
    """``9:00 PM-8:00 AM``, or that there is none."""
    if start == end:
        return turn.t("quiet_none")  # an empty window: nothing is held back
    return f"{texts.fmt_time(start, turn.locale)}-{texts.fmt_time(end, turn.locale)}"


@step("settings_menu", menu_prompt)
async def settings_menu(turn: Turn) -> None:
    if not turn.choice or not turn.choice.startswith("set:"):
        await reprompt(turn, "bad_choice")
        return
    target = {
        "timezone": "timezone",
        "tz_mode": "set_tz_mode",
        "quiet": "set_quiet",
        "language": "set_language",
        "channels": "channels",
        "caregiver": "set_caregiver_name",
        "names": "set_names",
        "nag": "set_nag",
        "messages": "prefs_category",
        "appt_times": "set_appt_offsets",
    }.get(turn.choice[4:])
    if target is None:
        await reprompt(turn, "bad_choice")
        return
    if target == "channels" and not await channel_order_options(turn):
        finish(turn)
        turn.say(turn.t("channels_only", first=turn.t(f"ch_{turn.conv.channel.value}")))
        return
    await goto(turn, target)


def _saved(turn: Turn) -> None:
    finish(turn)
    turn.say(turn.t("saved"))


async def replanned(turn: Turn) -> None:
    """Re-plan the patient's reminders now (see :mod:`bot.dialogs.replanning`), say saved."""
    await replan_now(turn)
    _saved(turn)


async def tz_mode_prompt(turn: Turn) -> tuple[str, Options]:
    return turn.t("ask_tz_mode"), [
        (turn.t("btn_mode_home"), "mode:home"),
        (turn.t("btn_mode_follow"), "mode:follow"),
    ]


@step("set_tz_mode", tz_mode_prompt)
async def set_tz_mode(turn: Turn) -> None:
    if turn.choice not in ("mode:home", "mode:follow"):
        await reprompt(turn, "bad_choice")
        return
    await turn.conn.execute(
        query("bot", "set_patient_timezone_mode"), turn.conv.patient_id, turn.choice[5:]
    )
    await replan_now(turn)
    finish(turn)
    turn.say(await zone_moves.mode_said(turn))


async def quiet_prompt(turn: Turn) -> tuple[str, Options]:
    return turn.t("ask_quiet"), []


@step("set_quiet", quiet_prompt, typed=lambda t: parse_quiet(t.text) is not None)
async def set_quiet(turn: Turn) -> None:
    window = parse_quiet(turn.text)
    if window is None:
        await reprompt(turn, "same_quiet" if _same_times(turn.text) else "bad_quiet")
        return
    await turn.conn.execute(query("bot", "set_quiet_hours"), turn.conv.patient_id, *window)
    await replan_now(turn)
    finish(turn)
    # Said back as read ("de 23 a 7" is 23:00-7:00), so a misread window is seen at once.
    start, end = window
    saved = {"id": turn.conv.patient_id, "quiet_start": start, "quiet_end": end}
    turn.say(turn.t("quiet_saved", quiet=await quiet_text(turn, saved)))


def parse_quiet(text: str) -> tuple[time | None, time | None] | None:
    """Quiet hours as typed: two different times ("22:00-07:00"), an empty window for none (or
    "0:00-0:00", as the API and the app write it), ``(None, None)`` for the default."""
    word = texts.fold_label(text)
    if word in _NONE_WORDS:
        # An empty window of its own (stored as no window, "none" meant the default, which
        # holds messages back at night: not what "none" says).
        return NO_QUIET_HOURS
    if word in _DEFAULT_WORDS:
        return None, None
    times = _two_times(text)
    if times is None or has_no_length(*times):
        return None
    return times


# A window as people say it: "de 23 a 7", "from 11pm to 7am", "entre las 23 y las 7" (its first
# time was read as "de 23": "Escribe dos horas como 22:00-07:00").
_SPAN_START = re.compile(r"^(?:(?P<between>entre|between)|de|desde|from)\s+")
_SPAN_TO = r"\s*[-–]\s*|\s+(?:to|a|until|till|hasta)\s+"
# After "entre"/"between" the times are joined by "y"/"and", never the "y" of "10 y media".
_SPAN_AND = rf"|\s+(?:and|y{FRACTION_AFTER_Y})\s+"


def _two_times(text: str) -> tuple[time, time] | None:
    """The two times of a typed window ("22:00-07:00", "10pm to 6am", "de 23 a 7", "entre las
    23 y las 7"), equal or not."""
    text = fold(text)
    start = _SPAN_START.match(text)
    separators = _SPAN_TO + (_SPAN_AND if start is not None and start["between"] else "")
    parts = [p for p in re.split(separators, text[start.end() if start else 0 :]) if p]
    times = [parse_time(p) for p in parts] if len(parts) == 2 else []
    if len(times) != 2 or times[0] is None or times[1] is None:
        return None
    return times[0], times[1]


def _same_times(text: str) -> bool:
    """Whether ``text`` is a window from a time to the same time (no length: refused)."""
    times = _two_times(text)
    return times is not None and has_no_length(*times)


async def language_prompt(turn: Turn) -> tuple[str, Options]:
    return turn.t("ask_language"), [
        (texts.text("en", "lang_en"), "lang:en"),
        (texts.text("es", "lang_es"), "lang:es"),
    ]


@step("set_language", language_prompt, typed=lambda t: language_choice(t) is not None)
async def set_language(turn: Turn) -> None:
    chosen = language_choice(turn)
    if chosen not in texts.LOCALES:
        await reprompt(turn, "bad_choice")
        return
    turn.conv.locale = chosen
    await turn.conn.execute(query("bot", "set_patient_locale"), turn.conv.patient_id, chosen)
    _saved(turn)


async def names_prompt(turn: Turn) -> tuple[str, Options]:
    return turn.t("ask_names"), [
        (turn.t("btn_names_yes"), "names:yes"),
        (turn.t("btn_names_no"), "names:no"),
    ]


@step("set_names", names_prompt)
async def set_names(turn: Turn) -> None:
    if turn.choice not in ("names:yes", "names:no"):
        await reprompt(turn, "bad_choice")
        return
    await turn.conn.execute(
        query("bot", "set_name_medicine"), turn.conv.patient_id, turn.choice == "names:yes"
    )
    _saved(turn)


async def nag_prompt(turn: Turn) -> tuple[str, Options]:
    return turn.t("ask_nag"), []


@step("set_nag", nag_prompt, typed=lambda t: parse_nag(t.text) is not None)
async def set_nag(turn: Turn) -> None:
    nagging = parse_nag(turn.text)
    if nagging is None:
        await reprompt(turn, "bad_nag")
        return
    await turn.conn.execute(query("bot", "set_nagging"), turn.conv.patient_id, *nagging)
    await replanned(turn)


def parse_nag(text: str) -> tuple[int, int] | None:
    """Follow-ups as typed: minutes and times ("15 3"), or "0" for none."""
    numbers = text.replace(",", " ").split()
    if numbers == ["0"]:
        return 15, 0
    if len(numbers) != 2:
        return None
    interval = parse_int(numbers[0], low=1, high=720)
    count = parse_int(numbers[1], low=0, high=20)
    if interval is None or count is None:
        return None
    return interval, count


# -- caregiver ---------------------------------------------------------------------------------


async def caregiver_name_prompt(turn: Turn) -> tuple[str, Options]:
    if await turn.conn.fetchrow(query("bot", "get_caregiver"), turn.conv.patient_id) is None:
        return turn.t("ask_first_caregiver_name"), []  # nobody to remove yet
    return turn.t("ask_caregiver_name"), [(turn.t("btn_remove"), "cg:remove")]


@step(
    "set_caregiver_name",
    caregiver_name_prompt,
    typed=lambda t: parse_name(t.text) is not None,
)
async def set_caregiver_name(turn: Turn) -> None:
    if turn.choice == "cg:remove":
        await turn.conn.execute(query("bot", "remove_caregivers"), turn.conv.patient_id)
        await turn.conn.execute(query("bot", "drop_caregiver_links"), turn.conv.patient_id)
        finish(turn)
        turn.say(turn.t("caregiver_removed"))
        return
    name = parse_name(turn.text)
    if name is None:
        await reprompt(turn, name_refusal(turn.text), max=MAX_NAME_LENGTH)
        return
    mark_sensitive(name)
    turn.conv.data["cg_name"] = name
    await goto(turn, "set_caregiver_channel")


# A caregiver's number typed where their channel is asked (conversation data): kept for SMS or
# WhatsApp, the two channels a number reaches.
_TYPED_NUMBER = "cg_typed_number"
_NUMBER_CHANNELS = ("sms", "whatsapp")


async def caregiver_channel_prompt(turn: Turn) -> tuple[str, Options]:
    if turn.conv.data.get(_TYPED_NUMBER):
        return turn.t("ask_caregiver_number_channel"), [
            (turn.t(f"ch_{c}"), f"cgch:{c}") for c in _NUMBER_CHANNELS
        ]
    return turn.t("ask_caregiver_channel"), [
        (turn.t(f"ch_{c}"), f"cgch:{c}") for c in ("sms", "whatsapp", "telegram", "email")
    ]


def _typed_address(turn: Turn) -> tuple[str, str] | None:
    """What "How should I reach them?" answered with an address says: ("email", the address)
    or ("", a number, which SMS and WhatsApp both reach); None for anything else."""
    email = caregiver_address("email", turn.text)
    if email is not None:
        return "email", email
    number = caregiver_address("sms", turn.text, zone_region_of(turn))
    return ("", number) if number is not None else None


@step(
    "set_caregiver_channel",
    caregiver_channel_prompt,
    typed=lambda t: _typed_address(t) is not None,
)
async def set_caregiver_channel(turn: Turn) -> None:
    if not turn.choice or not turn.choice.startswith("cgch:"):
        # Their number or e-mail address, typed at once: "Please pick one of the options" lost
        # it (found as a patient). An e-mail address is the e-mail channel; a number is kept
        # while SMS or WhatsApp is asked, and not asked for again.
        typed = _typed_address(turn)
        if typed is None:
            await reprompt(turn, "bad_choice")
            return
        channel, address = typed
        mark_sensitive(address)
        if channel == "email":
            turn.conv.data.update(cg_channel="email", cg_address=address)
            await goto(turn, "set_caregiver_timezone")
            return
        turn.conv.data[_TYPED_NUMBER] = address
        await goto(turn, "set_caregiver_channel")
        return
    number = turn.conv.data.pop(_TYPED_NUMBER, None)
    if number is not None and turn.choice[5:] in _NUMBER_CHANNELS:
        mark_sensitive(number)
        turn.conv.data.update(cg_channel=turn.choice[5:], cg_address=number)
        await goto(turn, "set_caregiver_timezone")
        return
    if turn.choice == "cgch:telegram":
        # A chat id cannot be checked by typing it: Telegram delivers to any chat that started
        # the bot, so a wrong number sent the patient's missed-dose alerts, with their name, to
        # a stranger (the clinic's API refuses typed chat ids too, migration 20260101012700).
        # The caregiver's own chat links itself instead: the dialog ends with a link to forward.
        if Channel.TELEGRAM not in turn.ctx.senders:
            await reprompt(turn, "caregiver_telegram_unavailable")
            return
        turn.conv.data["cg_channel"] = "telegram"
        await goto(turn, "set_caregiver_timezone")
        return
    turn.conv.data["cg_channel"] = turn.choice[5:]
    await goto(turn, "set_caregiver_address")


# What the address question asks, and its reprompt, per caregiver channel (phone otherwise).
_ADDRESS_KEYS = {"email": ("ask_caregiver_email", "bad_email")}
_PHONE_KEYS = ("ask_caregiver_address", "bad_address")


async def caregiver_address_prompt(turn: Turn) -> tuple[str, Options]:
    ask, _ = _ADDRESS_KEYS.get(turn.conv.data.get("cg_channel", "sms"), _PHONE_KEYS)
    return turn.t(ask, example=await phone_example(turn)), []


def caregiver_address(channel: str, raw: str, region: str | None = None) -> str | None:
    """The caregiver's address for ``channel``: E.164 (a number as dialled in the patient's
    ``region`` too) or e-mail (never a typed Telegram chat id: nothing typed proves whose chat
    it is)."""
    value = raw.strip()
    if channel == "email":
        return value if _EMAIL_RE.match(value) and len(value) <= 254 else None
    if channel == "telegram":
        return None
    return typed_phone(value, region)


@step(
    "set_caregiver_address",
    caregiver_address_prompt,
    typed=lambda t: (
        t.conv.data.get("cg_channel") == "telegram"
        or caregiver_address(t.conv.data.get("cg_channel", "sms"), t.text, zone_region_of(t))
        is not None
    ),
)
async def set_caregiver_address(turn: Turn) -> None:
    if turn.conv.data.get("cg_channel") == "telegram":
        # A dialog begun before chat ids were refused: what was typed is not used.
        await goto(turn, "set_caregiver_timezone", prefix=turn.t("caregiver_chat_not_typed"))
        return
    channel = turn.conv.data.get("cg_channel", "sms")
    address = caregiver_address(channel, turn.text, await patient_region(turn))
    if address is None or parse_free_field(turn.text) is None:
        await reprompt(
            turn, _ADDRESS_KEYS.get(channel, _PHONE_KEYS)[1], example=await phone_example(turn)
        )
        return
    mark_sensitive(address)
    turn.conv.data["cg_address"] = address
    await goto(turn, "set_caregiver_timezone")


async def caregiver_timezone_prompt(turn: Turn) -> tuple[str, Options]:
    name = turn.conv.data.get("cg_name", "")
    return turn.t("ask_caregiver_timezone", name=name), [
        (turn.t("btn_caregiver_tz_same"), "cgtz:same")
    ]


@step(
    "set_caregiver_timezone",
    caregiver_timezone_prompt,
    typed=lambda t: parse_timezone(t.text) is not None,
)
async def set_caregiver_timezone(turn: Turn) -> None:
    """The caregiver's IANA zone for their quiet hours. "Same as mine" stores the patient's home
    zone as it is now: the caregiver stays at home when the patient travels, so a patient in
    'follow me' mode abroad must not move the caregiver's night with them (an alert at 1 a.m.
    where the caregiver sleeps). Null only when the patient's zone is one the database does not
    know (then the dispatcher reads the patient's)."""
    if turn.choice == "cgtz:same":
        home = await turn.conn.fetchval(query("bot", "patient_home_zone"), turn.conv.patient_id)
        turn.conv.data["cg_timezone"] = home
        turn.conv.data["cg_zone_same"] = home is not None
        await goto(turn, "set_caregiver_delay")
        return
    turn.conv.data.pop("cg_zone_same", None)
    zone = parse_timezone(turn.text)
    # The database has the last word (its check on caregivers.timezone): a name Python knows
    # but Postgres does not would otherwise fail the save at the next step.
    if zone is None or not await turn.conn.fetchval(query("bot", "caregiver_timezone_known"), zone):
        await reprompt(turn, "bad_caregiver_timezone")
        return
    turn.conv.data["cg_timezone"] = zone
    await goto(turn, "set_caregiver_delay")


async def caregiver_delay_prompt(turn: Turn) -> tuple[str, Options]:
    # The minutes are typed, so the presets are never numbered ("1 30 / 2 60 / 3 120" made a
    # typed "2" an hour): buttons on Telegram and WhatsApp, the question alone on SMS and the
    # console (typed_labels below).
    return turn.t("ask_caregiver_delay"), [("30", "cgd:30"), ("60", "cgd:60"), ("120", "cgd:120")]


@step(
    "set_caregiver_delay",
    caregiver_delay_prompt,
    typed=lambda t: parse_int(t.text, low=0, high=1440) is not None,
    typed_labels=True,
)
async def set_caregiver_delay(turn: Turn) -> None:
    raw = turn.choice[4:] if turn.choice and turn.choice.startswith("cgd:") else turn.text
    delay = parse_int(raw, low=0, high=1440)
    if delay is None:
        await reprompt(turn, "bad_delay")
        return
    data = turn.conv.data
    if data.get("cg_channel") == "telegram":
        # Whatever chat id a dialog begun before this release collected is not used.
        data["cg_delay"] = delay
        username = await caregiver_links.bot_username(turn)
        if username is None:
            turn.say(turn.t("caregiver_link_unavailable"))
        else:
            zone_note = same_zone_note(turn, data)
            if zone_note:
                # As the other channels' "Saved." says it; a message of its own, before the
                # link (which must stay one SMS, never cut).
                turn.say(zone_note.strip())
            await caregiver_links.offer_link(turn, username)
        finish(turn)
        return
    await turn.conn.execute(query("bot", "drop_caregiver_links"), turn.conv.patient_id)
    saved = await turn.conn.fetchrow(
        query("bot", "upsert_caregiver"),
        turn.conv.patient_id,
        data["cg_name"],
        data["cg_channel"],
        data["cg_address"],
        delay,
        data.get("cg_timezone"),
    )
    zone_note = same_zone_note(turn, data)
    finish(turn)
    if (
        data["cg_channel"] in ("sms", "whatsapp")
        and not saved["proven"]
        and turn.patient is not None
        and turn.patient["organization_id"] is None
    ):
        # planner.sql mark_missed holds alerts to a number nobody vouches for until it writes.
        settings = turn.ctx.settings
        sms = data["cg_channel"] == "sms"
        ours = (settings.twilio_sms_from if sms else settings.twilio_whatsapp_from) or ""
        ours = ours.removeprefix("whatsapp:")
        key = "caregiver_pending" if ours else "caregiver_pending_reply"
        turn.say(turn.t("saved") + zone_note)
        turn.say(turn.t(key, name=data["cg_name"], number=ours or ""))
        return
    after = (
        turn.t("caregiver_after_minutes", minutes=delay) if delay else turn.t("caregiver_after_now")
    )
    turn.say(
        turn.t(
            "caregiver_saved",
            name=data["cg_name"],
            channel=turn.t(f"ch_in_text_{data['cg_channel']}"),
            after=after,
        )
        + zone_note
    )


def same_zone_note(turn: Turn, data: dict[str, Any]) -> str:
    """After "Same as mine" (``data``: what the dialog collected), which zone the caregiver's
    nights are counted in from now on (the patient's home zone, kept when the patient travels),
    so a wrong one can be corrected."""
    if not data.get("cg_zone_same") or not data.get("cg_timezone"):
        return ""
    return " " + turn.t(
        "caregiver_zone_kept", name=data["cg_name"], zone=turn.zone(data["cg_timezone"])
    )
