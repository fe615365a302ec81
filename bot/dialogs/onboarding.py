"""``/start``: invite token, consent, name, language, timezone, phone and channel order.

Nothing but the conversation row (the chat id) exists before consent: the patient and the contact
point are created when the patient agrees, and an invite token waits in the conversation state.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from bot import texts
from bot.conversation import Turn
from bot.dialogs import caregiver_links, zone_moves
from bot.dialogs.joining import offer_join
from bot.dialogs.replanning import replan_now
from bot.parsing import (
    CITY_ZONES,
    MAX_NAME_LENGTH,
    name_refusal,
    near_timezone,
    parse_name,
    parse_phone,
    parse_timezone,
    timezone_at,
    zone_abbreviation,
)
from bot.patient_region import example_phone, patient_region, zone_region_of
from bot.steps import Options, command, finish, goto, reprompt, step
from core.logs import mark_sensitive
from core.sql import query
from platforms.base import Channel, InboundKind


def hash_token(token: str) -> str:
    """``patient_invites.token_hash`` for a token: hex SHA-256."""
    return hashlib.sha256(token.strip().encode()).hexdigest()


async def load_patient(turn: Turn) -> None:
    """Refresh ``turn.patient`` from the conversation's patient id."""
    turn.patient = None
    if turn.conv.patient_id is not None:
        turn.patient = await turn.conn.fetchrow(query("bot", "get_patient"), turn.conv.patient_id)


@command("start", needs_patient=False)
async def start(turn: Turn, arg: str) -> None:
    """Begin (or resume) onboarding; ``arg`` is an optional invite token from a deep link (or a
    caregiver's link: :mod:`bot.dialogs.caregiver_links`)."""
    if arg.startswith(caregiver_links.PREFIX) and await caregiver_links.link_caregiver(turn, arg):
        return
    if turn.patient is None:
        # A clinic may already have this chat as a contact point of a consented patient.
        contact = await turn.conn.fetchrow(
            query("bot", "get_contact_point"), turn.conv.channel.value, turn.conv.chat_address
        )
        if contact is not None:
            turn.conv.patient_id = contact["patient_id"]
            await load_patient(turn)
            if turn.patient is not None and turn.patient["consent_at"] is None:
                # The clinic registered this very chat: consent binds it to that record.
                pending = str(turn.patient["id"])
                turn.conv.patient_id, turn.patient = None, None
                turn.conv.state["data"] = {"existing_patient_id": pending}
            elif turn.patient is None:
                turn.conv.patient_id = None
    if turn.patient is not None and turn.patient["consent_at"] is not None and arg:
        # Someone already registered opens an invite: join (merge), never a second record.
        mark_sensitive(arg)
        await offer_join(turn, hash_token(arg[:200]))
        return
    if turn.patient is not None and turn.patient["consent_at"] is not None and not arg:
        if not turn.patient["display_name"]:
            turn.conv.state["data"] = {}
            await goto(turn, "name")  # consented but left before finishing: carry on
            return
        finish(turn)
        turn.say(turn.t("welcome_back", name=turn.patient["display_name"] or ""))
        return
    turn.conv.state["data"] = {
        k: v for k, v in turn.conv.data.items() if k == "existing_patient_id"
    }
    if arg:
        mark_sensitive(arg)
        invite = await turn.conn.fetchrow(
            query("bot", "find_invite"), hash_token(arg[:200]), turn.now
        )
        if invite is None:
            turn.say(turn.t("invite_invalid"))
        else:
            turn.conv.data["invite_id"] = str(invite["id"])
            turn.conv.data["invite_patient_id"] = str(invite["patient_id"])
            if invite["organization_id"] is not None:
                name = await turn.conn.fetchval(
                    "select name from organizations where id = $1", invite["organization_id"]
                )
                turn.conv.data["clinic"] = name
    await goto(turn, "consent")


async def consent_prompt(turn: Turn) -> tuple[str, Options]:
    clinic = turn.conv.data.get("clinic")
    part = turn.t("consent_clinic_part", clinic=clinic) if clinic else ""
    return turn.t("consent", clinic_part=part), [
        (turn.t("btn_agree"), "consent:yes"),
        (turn.t("btn_decline"), "consent:no"),
    ]


# Agreement typed in the patient's words, as the button's: over SMS a patient answers "Do you
# agree?" with YES, and was asked again ("no" already declined: the first word of "No thanks").
# Folded as bot.texts.fold_word folds (lower case, no accents, no ending punctuation).
AGREE_WORDS = frozenset(
    {"yes", "y", "yeah", "yep", "ok", "okay", "agree", "i do", "si", "de acuerdo", "vale"}
)


def _typed_agreement(turn: Turn) -> bool:
    """Whether the text typed at the privacy question says yes."""
    return texts.fold_word(turn.text or "") in AGREE_WORDS


@step("consent", consent_prompt, typed=_typed_agreement)
async def consent(turn: Turn) -> None:
    if turn.choice == "consent:no":
        finish(turn)
        turn.say(turn.t("consent_declined"))
        return
    if turn.choice != "consent:yes" and not _typed_agreement(turn):
        await reprompt(turn, "consent_reprompt")
        return
    if not await invite_still_open(turn):
        # Another chat agreed first (or the link expired while this one was asked): the clinic's
        # patient is not this chat's to claim. Asked again, for no clinic, as at /start with a
        # link that is no longer valid.
        turn.say(turn.t("invite_invalid"))
        turn.conv.state["data"] = {}
        await goto(turn, "consent")
        return
    await register_patient(turn)
    await onward(turn, "name")


async def invite_still_open(turn: Turn) -> bool:
    """Whether the invite this chat opened (if any) is still unused and unexpired, locked to the
    end of the turn: of two chats that opened one link, only the first to agree takes it."""
    raw_id = turn.conv.data.get("invite_id")
    if not raw_id:
        return True
    invite = await turn.conn.fetchrow(query("bot", "lock_invite"), UUID(raw_id), turn.now)
    return invite is not None


async def register_patient(turn: Turn) -> None:
    """Create (or, with an invite, claim) the patient and this chat's contact point."""
    conv = turn.conv
    invite_patient = conv.data.get("invite_patient_id") or conv.data.get("existing_patient_id")
    if invite_patient:
        patient_id = UUID(invite_patient)
        # The clinic's record: its language stays (the chat follows it), as does what it entered.
        await turn.conn.execute(query("bot", "consent_invited_patient"), patient_id, turn.now)
        conv.data["clinic_record"] = True
        if conv.data.get("invite_id"):
            await turn.conn.execute(
                query("bot", "use_invite"), UUID(conv.data["invite_id"]), turn.now
            )
    else:
        patient_id = await turn.conn.fetchval(
            query("bot", "create_patient"),
            conv.locale,
            turn.ctx.settings.default_timezone,
            turn.now,
            [conv.channel.value],
        )
    await turn.conn.execute(
        query("bot", "upsert_contact_point"),
        patient_id,
        conv.channel.value,
        conv.chat_address,
        True,
        # The bot this person started: a chat cannot move to another bot.
        turn.event.to_address if conv.channel is Channel.TELEGRAM else None,
    )
    # Registered from this chat: it reached them (migration 20260101013800).
    await turn.conn.execute(query("bot", "link_patient"), patient_id, turn.now)
    conv.patient_id = patient_id
    await load_patient(turn)
    clinic_locale = turn.patient["locale"] if turn.patient is not None else None
    if conv.data.get("clinic_record") and clinic_locale in texts.LOCALES:
        conv.locale = clinic_locale


async def name_prompt(turn: Turn) -> tuple[str, Options]:
    raw = turn.event.display_name if turn.conv.channel is Channel.TELEGRAM else None
    suggestion = parse_name(raw) if raw else None  # as it would be stored (direction controls out)
    options = [(suggestion, f"name:{suggestion}")] if suggestion else []
    return turn.t("ask_name"), options[:1] if len(f"name:{suggestion}") < 200 else []


@step("name", name_prompt, typed=lambda t: parse_name(t.text) is not None)
async def name(turn: Turn) -> None:
    value = turn.choice[5:] if turn.choice and turn.choice.startswith("name:") else turn.text
    display = parse_name(value) if turn.event.kind is InboundKind.TEXT or turn.choice else None
    if display is None:
        await reprompt(turn, name_refusal(value or ""), max=MAX_NAME_LENGTH)
        return
    mark_sensitive(display)
    await turn.conn.execute(query("bot", "set_patient_name"), turn.conv.patient_id, display)
    await onward(turn, "language")


async def language_prompt(turn: Turn) -> tuple[str, Options]:
    return turn.t("ask_language"), [
        (texts.text("en", "lang_en"), "lang:en"),
        (texts.text("es", "lang_es"), "lang:es"),
    ]


def language_choice(turn: Turn) -> str | None:
    """``en``/``es`` from a button or a typed language name."""
    if turn.choice and turn.choice.startswith("lang:"):
        return turn.choice[5:]
    typed = texts.fold_label(turn.text)
    return {
        "en": "en",
        "english": "en",
        "ingles": "en",
        "es": "es",
        "spanish": "es",
        "espanol": "es",
    }.get(typed)


@step("language", language_prompt, typed=lambda t: language_choice(t) is not None)
async def language(turn: Turn) -> None:
    chosen = language_choice(turn)
    if chosen not in texts.LOCALES:
        await reprompt(turn, "bad_choice")
        return
    turn.conv.locale = chosen
    await turn.conn.execute(query("bot", "set_patient_locale"), turn.conv.patient_id, chosen)
    await onward(turn, "timezone")


# Where a patient can share a location (Telegram's button, WhatsApp's attachment); an SMS, the
# console or an e-mail cannot, so the question does not ask them to.
LOCATION_CHANNELS = frozenset({Channel.TELEGRAM, Channel.WHATSAPP})
# conv.data key: the zone to confirm is a guess at a misspelt place (bot.parsing.near_timezone).
NEAR_ZONE = "timezone_guessed"


async def timezone_prompt(turn: Turn) -> tuple[str, Options]:
    key = "ask_timezone" if turn.conv.channel in LOCATION_CHANNELS else "ask_timezone_typed"
    # Named as the patient reads them ("Nueva York"; "Bogota" on SMS, where "á" made the whole
    # question UCS-2): a typed name still answers, as each option's label does.
    return turn.t(key), [(turn.zone(zone), f"tz:{zone}") for zone in CITY_ZONES]


def timezone_from_turn(turn: Turn) -> str | None:
    """A timezone from a city button, a shared location or typed text."""
    if turn.choice and turn.choice.startswith("tz:"):
        return turn.choice[3:]
    event = turn.event
    if event.kind is InboundKind.LOCATION and event.latitude is not None:
        return timezone_at(event.latitude, event.longitude or 0.0)
    if event.kind is InboundKind.TEXT:
        return parse_timezone(turn.text)
    return None


@step("timezone", timezone_prompt, typed=lambda t: parse_timezone(t.text) is not None)
async def timezone(turn: Turn) -> None:
    zone = timezone_from_turn(turn)
    if zone is None:
        guess = near_timezone(turn.text) if turn.event.kind is InboundKind.TEXT else None
        if guess is None:
            await reprompt_timezone(turn, "bad_timezone")
            return
        # "madird": offered as "Did you mean Madrid?", Yes taking it (timezone_confirm).
        turn.conv.data[NEAR_ZONE] = True
        zone = guess
    turn.conv.data["timezone"] = zone
    await goto(turn, "timezone_confirm")


async def reprompt_timezone(turn: Turn, key: str) -> None:
    """Ask again for a zone the text did not give: ``key``'s text, or, for an abbreviation such
    as EST, why it is not enough (it does not say when the clocks change)."""
    abbreviation = zone_abbreviation(turn.text) if turn.event.kind is InboundKind.TEXT else None
    if abbreviation is not None:
        await reprompt(turn, "abbreviated_timezone", abbreviation=abbreviation)
    else:
        await reprompt(turn, key)


def local_time_text(turn: Turn, zone: str) -> str:
    """The time now in ``zone``, formatted for the patient."""
    return texts.fmt_time(turn.now.astimezone(ZoneInfo(zone)), turn.locale)


async def timezone_confirm_prompt(turn: Turn) -> tuple[str, Options]:
    zone = turn.conv.data.get("timezone", "UTC")
    guessed = bool(turn.conv.data.get(NEAR_ZONE))
    key = "near_timezone" if guessed else "confirm_timezone"
    return turn.t(key, time=local_time_text(turn, zone), zone=turn.zone(zone)), [
        (turn.t("btn_yes"), "tzok:yes"),
        (turn.t("btn_tz_not_it" if guessed else "btn_tz_other"), "tzok:no"),
    ]


# Yes and no typed at "Is your local time now ...?" in the patient's words, read before any
# guess at a misspelt place: "vale" was offered Madrid, "nope" Nome, "claro" Cairo and "bueno"
# Buenos Aires (bot.parsing.near_timezone). "bueno" says neither: it is asked again.
CONFIRM_YES_WORDS = AGREE_WORDS | {
    "sure", "correct", "right", "yes it is", "claro", "correcto", "exacto", "eso es", "asi es",
    "si es",
}  # fmt: skip
CONFIRM_NO_WORDS = frozenset(
    {"n", "nope", "nah", "wrong", "not really", "incorrecto", "no es", "para nada"}
)
_NEITHER_WORDS = frozenset({"bueno", "pues", "hmm"})


def _confirm_word(turn: Turn) -> str | None:
    """``tzok:yes``/``tzok:no`` for a yes or no typed in words, else None."""
    word = texts.fold_word(turn.text or "")
    if word in CONFIRM_YES_WORDS:
        return "tzok:yes"
    return "tzok:no" if word in CONFIRM_NO_WORDS else None


@step(
    "timezone_confirm",
    timezone_confirm_prompt,
    typed=lambda t: parse_timezone(t.text) is not None or _confirm_word(t) is not None,
)
async def timezone_confirm(turn: Turn) -> None:
    guessed = turn.conv.data.pop(NEAR_ZONE, False)
    if turn.choice is None and turn.event.kind is InboundKind.TEXT:
        turn.choice = _confirm_word(turn)
    if turn.choice == "tzok:no":
        await goto(turn, "timezone")
        return
    if turn.choice != "tzok:yes":
        # A typed city here is a correction, not a wrong answer; so is a misspelt one, guessed
        # as at the question ("berln" after "Did you mean Madrid?" was "Please pick one of the
        # options", the guess never made).
        zone = timezone_from_turn(turn)
        guess = None
        if zone is None and turn.event.kind is InboundKind.TEXT:
            word = texts.fold_word(turn.text)
            guess = None if word in _NEITHER_WORDS else near_timezone(turn.text)
        if zone is not None or guess is not None:
            turn.conv.data["timezone"] = zone or guess
            if guess is not None:
                turn.conv.data[NEAR_ZONE] = True
            await goto(turn, "timezone_confirm")
            return
        turn.conv.data[NEAR_ZONE] = guessed  # asked again, as it was
        await reprompt_timezone(turn, "bad_choice")
        return
    await save_timezone(turn, turn.conv.data.pop("timezone", "UTC"))
    if turn.conv.data.get("settings"):
        await zone_moves.after_zone_saved(turn)
        return
    await onward(turn, "phone")


async def save_timezone(turn: Turn, zone: str) -> None:
    """Make ``zone`` the patient's; from /settings a 'follow me' patient's reminders move to it
    now (a 'home' one's stay)."""
    from_settings = bool(turn.conv.data.get("settings"))
    name = "set_patient_timezone_from_settings" if from_settings else "set_patient_timezone"
    await turn.conn.execute(query("bot", name), turn.conv.patient_id, zone)
    if from_settings:
        await replan_now(turn)
    await load_patient(turn)


@asynccontextmanager
async def zone_told_around_command(turn: Turn, command_name: str) -> AsyncIterator[None]:
    """Run a slash command (the ``with`` body) so that it never leaves the patient on a time
    zone they did not hear of. Commands leave the dialog under way (bot.engine); one typed
    before onboarding's time zone was settled left the patient on the default zone (UTC)
    without a word, every reminder an hour or more off what the bot said.

    - At the confirmation ("Is your local time now ...?") the patient chose the zone (a city, a
      location, a name): any command but /cancel keeps it, /cancel keeps the zone in effect.
    - Before it (the name, language and time zone questions of onboarding) no zone was chosen:
      the patient hears which one reminders follow and that /settings changes it. Not for
      /settings (its menu names the zone and offers to change it), nor for a /start that asks
      onboarding's question again.

    - From /settings, for a patient keeping home times elsewhere (and at "moved or
      travelling?" itself), the zone is kept as a trip, and said so: "reminders follow it" was
      untrue, and the question was never asked. It follows the command's answer when the
      command left nothing of its own to answer (/today, /pause); else the note says how to
      tell a move (bot.dialogs.zone_moves).

    Either way the note opens the command's answer, in the same message: one inbound, one reply
    (an SMS patient pays for each; the stateful answer router test holds every turn to one).
    /settings at the confirmation keeps the zone without it: its menu names the zone.
    """
    at = len(turn.replies)
    settled = await _settle_pending_zone(turn, command_name)
    if settled is not None:
        note, away = settled
        yield
        if command_name == "settings":
            return
        # Kept as a trip: the question the command skipped follows its answer where it can,
        # else the note says how to say they moved.
        ask = away is not None and zone_moves.question_fits_after(turn, command_name, at)
        if away is not None and not ask:
            note += " " + turn.t("timezone_moved_hint", zone=turn.zone(away))
        _open_answer_with(turn, at, note)
        if ask:
            await zone_moves.ask_after_command(turn)
        return
    unchosen = _zone_unchosen(turn) and command_name != "settings"
    yield
    if not unchosen or turn.patient is None:
        return  # nothing to say, or the patient is gone (/delete_me)
    if command_name == "start" and turn.conv.step in _BEFORE_ZONE:
        return  # onboarding's question asked again: the zone is still to come
    zone = turn.patient["timezone"]
    note = turn.t("timezone_not_chosen", zone=turn.zone(zone), time=local_time_text(turn, zone))
    _open_answer_with(turn, at, note)


def _open_answer_with(turn: Turn, at: int, note: str) -> None:
    """Put ``note`` at the top of the first reply from ``at`` on (the command's answer), or say
    it alone when the command said nothing."""
    if len(turn.replies) > at and not turn.replies[at].edit:
        answer = turn.replies[at]
        turn.replies[at] = dataclasses.replace(answer, text=f"{note}\n\n{answer.text}")
        return
    turn.say(note)
    turn.replies.insert(at, turn.replies.pop())


async def _settle_pending_zone(turn: Turn, command_name: str) -> tuple[str, str | None] | None:
    """At the confirmation step: keep the chosen zone (the zone in effect for /cancel); at
    "moved or travelling?" (bot.dialogs.zone_moves) the zone is kept already. The note that says
    which zone reminders follow, and, when they keep home times elsewhere (a trip, until the
    patient says they moved), that zone; None at any other step."""
    step_name = turn.conv.step
    pending = turn.conv.data.get("timezone")
    at_confirmation = step_name == "timezone_confirm" and pending
    if not (at_confirmation or step_name == "zone_moved") or turn.conv.patient_id is None:
        return None
    key = "timezone_unchanged"
    if command_name != "cancel" or not at_confirmation:
        await keep_chosen_zone(turn)
        key = "timezone_kept"
    p = turn.patient
    zone = p["timezone"] if p is not None else str(pending or "UTC")
    time_now = local_time_text(turn, zone)
    if key == "timezone_kept" and p is not None and zone_moves.kept_as_trip(p):
        # "Reminders follow it" was untrue: a 'home' patient's keep their home's times.
        note = turn.t(
            "timezone_kept_away",
            zone=turn.zone(zone),
            time=time_now,
            home=turn.zone(p["home_timezone"]),
        )
        return note, zone
    return turn.t(key, zone=turn.zone(zone), time=time_now), None


async def keep_chosen_zone(turn: Turn) -> None:
    """Save the zone chosen at the confirmation step, if one waits there. A command does
    (above), and so does an opt-out (/stop, STOP: bot.engine): the patient told us where they
    live, and only "is it {time} there?" was pending; stopping messages is not taking it back.
    The step stays, so the confirmation still takes its answer after they opt back in."""
    pending = turn.conv.data.get("timezone")
    if turn.conv.step == "timezone_confirm" and pending and turn.conv.patient_id is not None:
        await save_timezone(turn, pending)


def _zone_unchosen(turn: Turn) -> bool:
    """Whether onboarding (not /settings) is at a question before the patient's time zone, with
    no zone from a clinic's record: the patient is on the default zone and never heard it."""
    data = turn.conv.data
    return (
        turn.conv.step in _BEFORE_ZONE
        and turn.patient is not None
        and not data.get("settings")
        and not data.get("clinic_record")
    )


# Onboarding's questions, in order; a clinic's record skips what the clinic entered.
_ONBOARDING = ("name", "language", "timezone", "phone")
# Onboarding's questions asked before the patient has chosen a time zone.
_BEFORE_ZONE = frozenset(_ONBOARDING[: _ONBOARDING.index("timezone") + 1])


async def onward(turn: Turn, step_name: str) -> None:
    """Ask the first onboarding question from ``step_name`` on that still needs an answer.

    A patient the clinic created (invited, or the clinic registered this chat) is not asked again
    for what the clinic entered: the name it gave, the language and time zone on the record, a
    phone number it has. The phone step is asked only where the chat is not a phone already.
    """
    for name in _ONBOARDING[_ONBOARDING.index(step_name) :]:
        if await _known(turn, name):
            continue
        if name == "phone":
            break
        await goto(turn, name)
        return
    else:
        await after_phone(turn)
        return
    if turn.conv.channel in (Channel.TELEGRAM, Channel.CONSOLE):
        await goto(turn, "phone")
    else:
        await after_phone(turn)


async def _known(turn: Turn, name: str) -> bool:
    """Whether the clinic's record already answers onboarding question ``name``."""
    patient = turn.patient
    if not turn.conv.data.get("clinic_record") or patient is None:
        return False
    if name == "name":
        return bool(patient["display_name"])
    if name in ("language", "timezone"):
        return True  # the clinic's record names both (its own, or the clinic's defaults)
    rows = await turn.conn.fetch(query("bot", "patient_channels"), patient["id"])
    return any(r["channel"] in ("sms", "whatsapp") for r in rows)


async def phone_example(turn: Turn) -> str:
    """The example number the phone question gives: of the patient's region (the time zone just
    chosen), not their language's (a Spanish speaker in the US was shown a +34 number)."""
    return example_phone(await patient_region(turn), turn.locale)


async def phone_prompt(turn: Turn) -> tuple[str, Options]:
    # "if Telegram does not work" only where the chat is Telegram (not the dev console).
    key = "ask_phone" if turn.conv.channel is Channel.TELEGRAM else "ask_phone_chat"
    return turn.t(key, example=await phone_example(turn)), [(turn.t("btn_skip"), "phone:skip")]


@step("phone", phone_prompt, typed=lambda t: typed_phone(t.text, zone_region_of(t)) is not None)
async def phone(turn: Turn) -> None:
    if turn.choice == "phone:skip":
        await after_phone(turn)
        return
    raw = turn.event.phone_number if turn.event.kind is InboundKind.CONTACT else turn.text
    number = typed_phone(raw or "", await patient_region(turn))
    if number is None:
        await reprompt(turn, "bad_phone", example=await phone_example(turn))
        return
    mark_sensitive(number, raw)
    added = await turn.conn.fetchrow(
        query("bot", "add_contact_point"),
        turn.conv.patient_id,
        Channel.SMS.value,
        number,
        turn.event.kind is InboundKind.CONTACT,
    )
    if added is None:
        # Someone else's number (another patient's, maybe another clinic's): never moved here.
        await reprompt(turn, "phone_taken")
        return
    if not added["active"]:
        # Typed by a patient of no clinic: texts start once the number has written to us.
        turn.say(_phone_pending_text(turn))
    await after_phone(turn)


def _phone_pending_text(turn: Turn) -> str:
    """How to prove a typed number one's own: a message from it to the service's number."""
    ours = turn.ctx.settings.twilio_sms_from
    if ours:
        return turn.t("phone_pending", number=ours)
    return turn.t("phone_pending_reply")


def typed_phone(raw: str, region: str | None = None) -> str | None:
    """A phone number in E.164 from what the patient typed (spaces, dashes; ``+`` optional):
    written as it is dialled in ``region`` first ("(415) 555-0143" in the US), else as an
    international number without its ``+``. Read international first, a US number typed without
    its country code became a number of whatever country its first digits are the code of."""
    if not raw.strip():
        return None
    number = parse_phone(raw, default_region=region) if region else parse_phone(raw)
    if number is None and not raw.strip().startswith("+"):
        number = parse_phone("+" + raw.strip())
    return number


async def channel_order_options(turn: Turn) -> Options:
    """One option per sensible order of the patient's channels."""
    rows = await turn.conn.fetch(query("bot", "patient_channels"), turn.conv.patient_id)
    channels = list(dict.fromkeys(r["channel"] for r in rows))
    if len(channels) < 2:
        return []
    first, second = channels[0], channels[1]
    label = {c: turn.t(f"ch_{c}") for c in channels}
    return [
        (
            turn.t("channels_first", first=label[first], second=label[second]),
            f"ch:{first},{second}",
        ),
        (
            turn.t("channels_first", first=label[second], second=label[first]),
            f"ch:{second},{first}",
        ),
        (turn.t("channels_only", first=label[first]), f"ch:{first}"),
    ]


async def channels_prompt(turn: Turn) -> tuple[str, Options]:
    return turn.t("ask_channels"), await channel_order_options(turn)


async def after_phone(turn: Turn) -> None:
    if await channel_order_options(turn):
        await goto(turn, "channels")
    else:
        await complete(turn)


@step("channels", channels_prompt)
async def channels(turn: Turn) -> None:
    if not turn.choice or not turn.choice.startswith("ch:"):
        await reprompt(turn, "bad_choice")
        return
    order = turn.choice[3:].split(",")
    await turn.conn.execute(query("bot", "set_channel_order"), turn.conv.patient_id, order)
    if turn.conv.data.get("settings"):
        finish(turn)
        turn.say(turn.t("saved"))
        return
    await complete(turn)


async def complete(turn: Turn) -> None:
    await load_patient(turn)
    finish(turn)
    display = turn.patient["display_name"] if turn.patient else ""
    turn.say(turn.t("onboarded", name=display or ""))


def now_local(turn: Turn) -> datetime:
    """Now in the patient's timezone (UTC before one is chosen)."""
    zone = turn.patient["timezone"] if turn.patient is not None else "UTC"
    return turn.now.astimezone(ZoneInfo(zone))
