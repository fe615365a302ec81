"""The channel-agnostic engine: one inbound event plus the conversation state -> replies.

Order of precedence for each event:

1. SMS/WhatsApp carrier keywords (STOP, START, HELP and synonyms), before any dialog;
   nothing else is answered while the contact point is opted out.
2. Reminder and appointment buttons (``d:...``, ``a:...``), which work from any step.
3. Slash commands, which leave whatever dialog was under way.
4. Typed answers, through the answer router (:mod:`bot.routing`): the latest open question that
   accepts the text gets it, a reminder's or the dialog step's.
5. The current step's handler; unmatched input gets a reprompt that lists what can be answered.
"""

from __future__ import annotations

import dataclasses
import logging
import re

from bot import (
    dialogs,  # noqa: F401  (registers steps and commands)
    keywords,
    routing,
    texts,
)
from bot.command_phrases import command_phrase, one_medicine_word
from bot.conversation import NUMBERED_CHANNELS, PASSED_OVER, Reply, Turn, resolve_button
from bot.dialogs import answers, caregiver_links, medicine_pause
from bot.dialogs.account import clinic_contact, help_
from bot.dialogs.onboarding import (
    keep_chosen_zone,
    load_patient,
    start,
    zone_told_around_command,
)
from bot.dialogs.replanning import replan_now
from bot.keywords import Keyword
from bot.steps import COMMANDS, IDLE, STEPS, Step, finish, goto, reprompt
from bot.unsaved import say_unsaved, unsaved_draft
from core.answer_buttons import QUESTION_TTL, SNOOZE_MINUTES_MAX, SNOOZE_MINUTES_MIN
from core.sql import query
from core.template_filters import gsm7_letters
from core.zone_names import zone_loads
from platforms.base import Channel, InboundKind
from scheduler.planning_followups import catch_up_before_return

logger = logging.getLogger(__name__)

# Longer texts are not read at all: nothing we ask for needs more.
MAX_INPUT_CHARS = 1000
# Channels whose chat address is a phone number a caregiver may have been named by.
_PROVEN_BY_A_TEXT = frozenset({Channel.SMS, Channel.WHATSAPP})
# One phone number on the two phone channels: a patient's number on one is theirs on the other.
_OTHER_PHONE_CHANNEL = {Channel.SMS: Channel.WHATSAPP, Channel.WHATSAPP: Channel.SMS}


async def handle(turn: Turn) -> None:
    """Run one turn: fills ``turn.replies`` and moves ``turn.conv`` to its next state."""
    event, conv = turn.event, turn.conv
    turn.text = (event.text or "").strip()
    if not turn.patient_loaded:
        await load_patient(turn)
    if turn.patient is None and conv.patient_id is not None:
        conv.patient_id = None  # the patient was deleted elsewhere
    if turn.patient is None:
        await _bind_known_contact(turn)
    if turn.patient is not None and turn.patient["linked_at"] is None:
        # They wrote: something reached them (migration 20260101013800). Before the keywords,
        # so a STOP that is their first message finds them linked, and unreachable.
        await turn.conn.execute(query("bot", "link_patient"), turn.patient["id"], turn.now)
    if await _unblocks_an_unreachable_patient(turn):
        await _catch_up_while_unreachable(turn)
    if turn.patient is not None and turn.patient["locale"] in texts.LOCALES:
        conv.locale = turn.patient["locale"]  # changed in /settings on another channel

    if event.kind is InboundKind.TEXT and await _keyword(turn):
        return
    if conv.state.get("opted_out") or await _contact_opted_out(turn):
        if await caregiver_links.opens_a_link(turn):
            return  # a caregiver's link opened: consent again (caregiver_links.link_caregiver)
        if conv.channel in keywords.COMMAND_OPT_OUT_CHANNELS:
            # A chat the patient opened: say how to come back (SMS must stay silent).
            turn.say(turn.t("opted_out_hint"))
        return  # nothing may be sent to an opted-out number until it opts back in
    # The contact point's last inbound time is written with the turn's end (bot.intake), one
    # round trip fewer per update.
    turn.touch_contact = turn.patient is not None
    proven = []
    if conv.channel in _PROVEN_BY_A_TEXT:
        # The number wrote to us: alerts may go to it as someone's caregiver.
        proven = await turn.conn.fetch(
            query("bot", "prove_caregiver_address"), conv.channel.value, conv.chat_address
        )

    in_dialog = conv.step != IDLE and conv.step in STEPS  # registering, say
    if event.kind is InboundKind.MEDIA and (turn.patient is not None or in_dialog):
        # A photo or a voice note (SMS, WhatsApp): nothing is answered or changed by it, and
        # the patient is asked to type, as Telegram's are (medremind.web.telegram_unread). One
        # who has not started yet is told how to, as for any text.
        turn.say(turn.t("text_only_typed"))
        return

    if turn.patient is not None and await _ask_unknown_zone(turn):
        return

    if event.button_data and answers.is_answer_data(event.button_data):
        if turn.patient is None:
            turn.say(turn.t("need_start"))
            return
        await answers.handle_answer_button(turn, event.button_data)
        return

    if len(turn.text) > MAX_INPUT_CHARS:
        await _too_long(turn)
        return

    if turn.text.startswith("/") and event.kind is InboundKind.TEXT:
        await _command(turn)
        return

    turn.choice, turn.stale_button = resolve_button(conv, event)
    if turn.stale_button:
        await _stale(turn)
        return

    questions: list[routing.Question] = []
    if event.button_data is None and event.kind is InboundKind.TEXT and turn.text:
        questions = await routing.open_questions(turn)
        picked = routing.pick(turn, questions)
        if picked is not None:
            question, choice = picked
            if not question.is_dialog and choice is not None:
                await _answer_question(turn, question, choice, questions)
                return
            if choice is not None and routing.snooze_out_of_range(choice.snooze_minutes):
                # "snooze 900": the range, not a guess at another length; nothing recorded.
                _snooze_range(turn)
                return
            if question.is_dialog and choice is not None:
                current = STEPS.get(conv.step)
                old = turn.now - question.asked_at > QUESTION_TTL
                if (
                    current is not None
                    and _step_allowed(turn)
                    and (old or turn.conv.state.get(PASSED_OVER))
                ):
                    # A menu passed over by a question answered since: the patient last saw
                    # that answer's reply, not this menu, so a typed choice shows the menu again
                    # rather than act (a second "1" after a reminder's "1" paused a medicine:
                    # found by hand in medremind dev's console). So does a menu left open
                    # longer than a reminder stays answerable: a "1" meant for a reminder no
                    # longer open paused the first medicine of a /meds list of yesterday.
                    await goto(turn, conv.step, prefix=turn.t("menu_old" if old else "menu_again"))
                    return
            turn.choice = choice.value if choice is not None else None

    current = STEPS.get(conv.step)
    if conv.step != IDLE and current is not None and _step_allowed(turn):
        if await _pleasantry_at_a_step(turn):
            _mention_waiting(turn, questions)
            return
        if _dose_answer_at_a_menu(turn, current):
            return
        if await _command_at_a_menu(turn, current, questions):
            return
        await current.handle(turn)
        if turn.reprompted:
            _mention_waiting(turn, questions)
        return
    conv.step = IDLE
    if turn.patient is None:
        # "Hola" from a chat that is no patient's: the hint in Spanish.
        greeted = keywords.greeting_language(turn.text)
        agreed = caregiver_links.agreed_text(proven, turn.text)
        if greeted is not None:
            # And the registration the hint leads to: its consent question comes before the
            # language question, and was in English after "Hola". A caregiver's number that
            # just agreed too: the chat's language answers only this chat (their alerts are
            # rendered in the patient's), and their STOP after "Hola" was confirmed in English.
            conv.locale = greeted
        turn.say(agreed or texts.text(greeted or turn.locale, "need_start"))
        return
    await _unmatched(turn, questions)


async def _answer_question(
    turn: Turn,
    question: routing.Question,
    choice: routing.Choice,
    questions: list[routing.Question],
) -> None:
    """A typed answer to a reminder's or appointment's ``question`` (one of ``questions``, the
    open ones): recorded, and what else waits named."""
    if routing.snooze_out_of_range(choice.snooze_minutes):
        _snooze_range(turn)
        return
    # The dialog, if any, stays where it was, passed over: the patient's last word from us is
    # now this answer's reply.
    if turn.conv.state.get("asked_at") is not None:
        turn.conv.state[PASSED_OVER] = True
    # Two doses due at once, one typed "1": say the other still waits, or the patient believes
    # both were recorded.
    others = [q for q in questions if _subject(q) != _subject(question)]
    alone = not routing.waiting_questions(others)
    await answers.answer_data(turn, choice.value, snooze_options=alone)
    if _refused_while_paused(turn, choice):
        # Nothing was recorded and this question stays the newest: a "taken" typed next
        # answers it. Naming another dose here ("Also waiting ... Reply Taken or Skip") sent
        # that "taken" to the dose not named last (found by the stateful two-doses test).
        return
    # A reply asking its own question (a dose too late to snooze offers Taken) takes the typed
    # words first: the other is named without them.
    own = bool(turn.replies and turn.replies[-1].raw_options)
    named = _mention_waiting(turn, others, answers=not own)
    if named is not None and not (turn.replies[-1].options or turn.replies[-1].raw_options):
        # The patient's last word from us is about that reminder, which offers nothing else to
        # answer: it is asked again, so a "1" now answers it rather than a dialog's menu opened
        # before it (a /meds menu's "1" paused a medicine: found by hand in medremind dev's
        # console).
        await turn.conn.execute(query("bot", "ask_again"), named.row_id, turn.now, question.row_id)


def _refused_while_paused(turn: Turn, choice: routing.Choice) -> bool:
    """Whether ``choice`` is a dose's snooze, which a pause refuses (scheduler.dose_answers)."""
    paused = turn.patient is not None and bool(turn.patient["reminders_paused"])
    kind, _, rest = choice.value.partition(":")
    return paused and kind == "d" and rest.rpartition(":")[2].startswith("s")


def _snooze_range(turn: Turn) -> None:
    """ "snooze 900": the range, not a guess at another length; nothing recorded."""
    low, high = SNOOZE_MINUTES_MIN, SNOOZE_MINUTES_MAX
    turn.say(turn.t("snooze_minutes_range", low=low, high=high, hours=high // 60))


# Commands a patient in an unknown zone may still give before answering where they live: their
# data's erasure must never wait on a question (nor help, nor the app's sign-out).
_WITHOUT_A_ZONE = frozenset({"delete_me", "help", "app_signout"})


async def _ask_unknown_zone(turn: Turn) -> bool:
    """A patient whose zone no zone database knows (``Etc/Unknown``, stored for ``Factory``
    before the API refused it) is asked where they live, whatever they wrote: nothing is
    planned for them, and every step that tells a time failed on the zone (``/today`` answered
    nothing). Their answer goes to the time zone question, as from /settings: saved, re-planned.
    """
    assert turn.patient is not None
    if zone_loads(turn.patient["timezone"]):
        return False
    command = turn.text[1:].partition(" ")[0].split("@", 1)[0].lower()
    if turn.text.startswith("/") and command in _WITHOUT_A_ZONE:
        return False  # leaving, or asking what there is, needs no zone
    if turn.conv.step in ("timezone", "timezone_confirm") and turn.conv.data.get("zone_unknown"):
        return False  # the answer to the question below: its step takes it
    turn.conv.state["data"] = {"settings": True, "zone_unknown": True}
    await goto(turn, "timezone", prefix=turn.t("zone_unknown"))
    return True


async def _unmatched(turn: Turn, questions: list[routing.Question]) -> None:
    """Nothing open accepts the input: say what can be answered now (the newest question)."""
    said = _command_without_slash(turn.text)
    if said is not None:
        # "PAUSA" over SMS, where a slash is a chore to type and carriers' own words (STOP,
        # HELP) are bare: it was told "send /pause (with the slash)", in English, and nothing
        # paused. Nothing open took the word, so it is no answer: the command runs (those that
        # erase or change much ask first, as with the slash), then what else waits is named.
        # "pause for 3 days" too, with its length, as "/pause 3 days" (bot.command_phrases).
        turn.text = said
        await _command(turn)
        _mention_waiting(turn, questions, paused=await _paused_after_command(turn, said))
        return
    if keywords.is_greeting(turn.text):
        await _greet(turn)
        _mention_waiting(turn, questions)
        return
    if keywords.is_thanks(turn.text):
        turn.say(turn.t("welcome"))
        _mention_waiting(turn, questions)
        return
    one = one_medicine_word(turn.text)
    if one is not None:
        # "pause metformin": "Sorry, I didn't understand that" (found in medremind dev's
        # console) told nothing of where one medicine is paused. Naming one of the patient's
        # medicines, it is done; else where it is done is said.
        if not await medicine_pause.by_name(turn, one):
            turn.say(turn.t(f"{one}_one_hint"))
        _mention_waiting(turn, questions)
        return
    by_command = turn.conv.channel in keywords.COMMAND_OPT_OUT_CHANNELS
    if by_command and keywords.normalize(turn.text) in keywords.OPT_OUT_WORDS:
        # "Stop" in a chat whose opt-out is /stop: "Nothing is waiting for an answer" told a
        # patient who meant to stop every message nothing of how (found in medremind dev).
        turn.say(turn.t("stop_hint"))
        _mention_waiting(turn, questions)
        return
    waiting = routing.waiting_questions(questions)
    if not waiting:
        # Nothing open here: the patient's reminders on their other chats (reminded by SMS,
        # writing in Telegram), by their words.
        waiting = await routing.open_questions_elsewhere(turn)
        picked = routing.pick(turn, waiting)
        if picked is not None and picked[1] is not None:
            await _answer_question(turn, picked[0], picked[1], waiting)
            return
    if not waiting:
        turn.say(turn.t("nothing_waiting" if _looks_like_answer(turn.text) else "not_understood"))
        return
    waiting = _shown(turn, waiting) or waiting
    newest = waiting[0]
    numbered = turn.conv.channel in NUMBERED_CHANNELS
    lines = [
        turn.t("can_answer_now", what=routing.subject(turn, newest)),
        *routing.shown_answers(turn, newest, numbers=numbered),
    ]
    others = len({_subject(q) for q in waiting} - {_subject(newest)})
    if others:
        lines.append(turn.t("more_waiting", n=others))
    buttons = () if numbered else tuple((c.label, c.value) for c in newest.choices)
    turn.replies.append(Reply(text="\n".join(lines), raw_options=buttons))


# Answers to a reminder that are also natural replies to a dialog's own question ("Do you
# agree?", "Is it 9:00 AM there?"): at a menu they stay the menu's to misunderstand.
_DIALOG_REPLIES = frozenset({"yes", "si"})


# Lists a patient opens to look at: "thanks" there says they are done with it, and closes it.
_LOOKED_AT = frozenset({"meds_menu", "settings_menu"})


async def _pleasantry_at_a_step(turn: Turn) -> bool:
    """A "hi" or "thanks" typed at a dialog's question, which it does not answer: greeted (or
    "you're welcome"), then the question again; "thanks" at a list looked at closes it
    (:data:`_LOOKED_AT`). A menu answered "hi" with "Please pick one of the options", and the
    name question took "hi" as the patient's name ("All set, hi!"): found by hand in medremind
    dev's console."""
    if turn.choice is not None or turn.event.button_data or turn.event.kind is not InboundKind.TEXT:
        return False
    if turn.conv.step in _LOOKED_AT and keywords.is_thanks(turn.text):
        # Not "Please pick one of the options" with the whole list again (found by hand in
        # medremind dev's console after /meds).
        finish(turn)
        turn.say(turn.t("welcome"))
        return True
    if keywords.is_greeting(turn.text):
        if turn.patient is None:
            # "Hola" at the privacy question, before any language was chosen: asked in Spanish,
            # as an unregistered chat's "Hola" is answered.
            turn.conv.locale = keywords.greeting_language(turn.text) or turn.conv.locale
        name = (turn.patient["display_name"] or "").strip() if turn.patient is not None else ""
        said = turn.t("greeting", name=name) if name else turn.t("greeting_no_name")
    elif keywords.is_thanks(turn.text):
        said = turn.t("welcome")
    else:
        return False
    if turn.conv.channel == Channel.SMS:
        said = gsm7_letters(said)  # a name's "á" would make the whole SMS UCS-2 (as _greet)
    await goto(turn, turn.conv.step, prefix=said)
    return True


def _dose_answer_at_a_menu(turn: Turn, current: Step) -> bool:
    """A reminder's answer ("taken", "ya", "later") typed at a step that reads only its options,
    no open reminder taking it: the patient answers a dose, not the menu. They are told no dose
    waits, and the menu is left passed over, so that a "1" next shows it again rather than act.
    A /meds list opened before two reminders, both answered "1", then "ya" and "tomada" (the
    patient saying again that they took it) showed the list again, and the next "1" paused the
    first medicine (found by hand in medremind dev's console)."""
    if current.typed is not None or turn.choice is not None or turn.event.button_data:
        return False
    folded = texts.fold_label(turn.text).rstrip(".!")
    if folded in _DIALOG_REPLIES or not (
        routing.is_answer_phrase(turn.text) or routing.is_typed_snooze(turn.text)
    ):
        return False
    if turn.conv.state.get("asked_at") is not None:
        turn.conv.state[PASSED_OVER] = True
    turn.say(turn.t("no_open_dose"))
    return True


async def _command_at_a_menu(turn: Turn, current: Step, questions: list[routing.Question]) -> bool:
    """A command said without its slash ("pause", "pause for 3 days") at a step that reads no
    typed text, only its options, none of which it picked: the command runs, as with its slash
    (which leaves the dialog). The /meds menu answered "pause for 3 days" with "Sorry, I didn't
    understand that" and closed, nothing paused (found by hand in medremind dev's console); a
    step that reads typed text (a medicine's name) still takes the words as its answer, and a
    word its options start with stays the menu's."""
    if current.typed is not None or turn.choice is not None or turn.event.button_data:
        return False
    if current.words is not None and current.words(turn):
        return False  # the step's own word here ("pause" under /meds: which one is asked)
    if _as_command(texts.fold_label(turn.text)) in _first_words(
        turn.conv.state.get("options") or []
    ):
        # "pause" under a /meds list of two medicines: each option is "Pause <medicine>", so
        # the word is about the list (one medicine alone: the router picked its option); so is
        # "pausa" under "Pausar Metformin".
        return False
    said = _command_without_slash(turn.text) if turn.event.kind is InboundKind.TEXT else None
    if said is None:
        return False
    turn.text = said
    await _command(turn)
    _mention_waiting(turn, questions, paused=await _paused_after_command(turn, said))
    return True


async def _paused_after_command(turn: Turn, said: str) -> bool:
    """Whether the patient's reminders are paused after the command ``said`` ran, for the
    waiting questions named after it: "pause for 3 days" named the waiting dose with "Reply
    Taken, Snooze 15 min or Skip", and its Snooze was then refused. Read again after a pause:
    "pause for an hour" (a snooze's work, bot.dialogs.pause_short) or an end date not ahead
    pauses nothing, and the Snooze it points to was left out."""
    name = said[1:].partition(" ")[0]
    if turn.patient is None or name == "resume":
        return False
    if name == "pause":
        paused = await turn.conn.fetchval(query("bot", "reminders_paused"), turn.patient["id"])
        return paused is True
    return _paused(turn)


def _paused(turn: Turn) -> bool:
    """Whether the patient's reminders were paused when the turn began."""
    return turn.patient is not None and bool(turn.patient["reminders_paused"])


def _first_words(options: list[list[str]]) -> set[str]:
    """The first word of each option's label, folded, as the command it names if it names one
    ("pause" of "Pause Metformin" and of "Pausar Metformin")."""
    return {
        _as_command(words[0]) for label, _ in options if (words := texts.fold_label(label).split())
    }


def _as_command(word: str) -> str:
    """The command a Spanish word names ("pausar": "pause"), else the word itself."""
    return keywords.COMMAND_WORDS_ES.get(word, word)


async def _greet(turn: Turn) -> None:
    """A registered patient's "hi": greeted by name in their language, then what they can do
    (the channel's /help, in one message). It was "Nothing is waiting for an answer", which
    told a patient coming back nothing of the commands. On SMS the greeting's letters are
    GSM-7's, as the help's are, so that a name's "á" does not make the message UCS-2."""
    assert turn.patient is not None
    await help_(turn, "")
    name = (turn.patient["display_name"] or "").strip()
    hello = turn.t("greeting", name=name) if name else turn.t("greeting_no_name")
    if turn.conv.channel == Channel.SMS:
        hello = gsm7_letters(hello)
    last = turn.replies[-1]
    turn.replies[-1] = dataclasses.replace(last, text=f"{hello}\n{last.text}")


def _subject(question: routing.Question) -> str:
    """What ``question`` is about: its dose, appointment or slot offer (the prefix its buttons'
    data share, ``d:<hex>``), else the question itself. A dose's reminder and follow-ups, or an
    appointment's confirmation request and reminder, are one thing waiting, not several."""
    data = question.choices[0].value if question.choices else ""
    kind, _, rest = data.partition(":")
    entity = rest.partition(":")[0]
    return f"{kind}:{entity}" if len(kind) == 1 and len(entity) == 32 else str(question.row_id)


def _mention_waiting(
    turn: Turn,
    questions: list[routing.Question],
    *,
    answers: bool = True,
    paused: bool | None = None,
) -> routing.Question | None:
    """After a dialog's reprompt, or a typed answer to another question, name the reminder that
    also waits, with its typed answers (``answers`` False: without them, the reply asking a
    question of its own that takes the same words); the question named, if any. While the
    patient is ``paused`` (by default: as the turn began) without its Snooze, which a pause
    refuses: a typed "1" answered while paused named the other dose with "Reply Taken, Snooze 30
    min or Skip", and its Snooze was then refused (found over SMS)."""
    shown = _shown(turn, questions, paused=paused)
    waiting = routing.waiting_questions(shown)
    if not waiting or not turn.replies:
        return None
    newest = waiting[0]
    what = routing.subject(turn, newest)
    line = (
        turn.t("also_waiting", what=what, answers=routing.typed_words(turn, newest))
        if answers
        else turn.t("also_waiting_next", what=what)
    )
    last = turn.replies[-1]
    turn.replies[-1] = dataclasses.replace(last, text=f"{last.text}\n\n{line}")
    return newest


def _shown(
    turn: Turn, questions: list[routing.Question], *, paused: bool | None = None
) -> list[routing.Question]:
    """``questions`` as offered to the patient: without their Snooze while reminders are
    ``paused`` (by default: as the turn began). Only what is shown: a Snooze typed or pressed
    still reaches its dose, and is told why it is refused; each choice keeps its number."""
    return (
        routing.without_snooze(questions)
        if (_paused(turn) if paused is None else paused)
        else questions
    )


def _looks_like_answer(text: str) -> bool:
    """A bare number, one short word, a reminder's answer phrase ("la tomé": it was "I didn't
    understand that" once the dose was answered) or a snooze with minutes ("snooze 90"): an
    answer to something, when nothing is open."""
    folded = texts.fold_label(text)
    return (
        bool(re.fullmatch(r"#?\d{1,2}[.)]?|\w{1,10}", folded))
        or routing.is_answer_phrase(text)
        or routing.is_typed_snooze(text)
    )


def _command_without_slash(text: str) -> str | None:
    """The command a bare word names ("pause", "Today", "hoy"), or a phrase says ("pause for 3
    days", "reanudar los recordatorios"), as its slash command with its argument ("/pause for 3
    days"): on SMS people type it without the slash, and "Nothing is waiting for an answer" left
    them believing it was done, or not understood; "send /pause (with the slash)" left a Spanish
    patient's PAUSA undone."""
    word = texts.fold_label(text)
    name = word if word in COMMANDS else keywords.COMMAND_WORDS_ES.get(word)
    if name is None and keywords.is_history_word(text):
        name = "history"  # "My history", "mi historial"
    if name is not None:
        return f"/{name}"
    phrase = command_phrase(text)
    return None if phrase is None else f"/{phrase[0]} {phrase[1]}".rstrip()


def _step_allowed(turn: Turn) -> bool:
    """Steps after consent need a patient; a deleted patient's dialog starts over."""
    return turn.conv.step == "consent" or turn.patient is not None


async def _command(turn: Turn) -> None:
    head, _, arg = turn.text[1:].partition(" ")
    name = head.split("@", 1)[0].lower()
    if name not in COMMANDS:
        # A Spanish speaker's /hoy, /ayuda, /pausa is the command it names (as the bare word
        # is named back): it was "I don't know that command" (found by hand in medremind dev).
        name = keywords.COMMAND_WORDS_ES.get(texts.fold_label(name), name)
    found = COMMANDS.get(name)
    if found is None and keywords.is_history_word(name):
        found = COMMANDS["history"]  # "/my_history", "/mi_historial": what /history answers
    if found is None:
        near = keywords.nearest_command(name, COMMANDS)
        said = turn.t("unknown_command_near", name=near) if near else turn.t("unknown_command")
        turn.say(said)
        return
    if found.needs_patient and (turn.patient is None or turn.patient["consent_at"] is None):
        turn.say(turn.t("need_start"))
        return
    turn.choice = None
    # /cancel drops a draft on purpose and says so; any other command that drops one says what.
    draft = None if name == "cancel" else unsaved_draft(turn)
    first_reply = len(turn.replies)
    async with zone_told_around_command(turn, name):
        await found.run(turn, arg.strip())
    if draft is not None:
        say_unsaved(turn, draft, first_reply)


async def _stale(turn: Turn) -> None:
    if turn.conv.step == IDLE or turn.conv.step not in STEPS:
        turn.say(turn.t("stale_button_idle"))
        return
    await goto(turn, turn.conv.step, prefix=turn.t("stale_button"))


async def _too_long(turn: Turn) -> None:
    """One message that says the limit: the step's options again at a question, else /help."""
    if turn.conv.step != IDLE and turn.conv.step in STEPS:
        await reprompt(turn, "too_long", max=MAX_INPUT_CHARS)
        return
    turn.say(turn.t("too_long_idle", max=MAX_INPUT_CHARS))


async def _keyword(turn: Turn) -> bool:
    """Handle a carrier keyword; True when the event was one (and needs nothing more)."""
    conv = turn.conv
    found = keywords.classify(conv.channel, turn.text)
    if found is None:
        return False
    contact = await turn.conn.fetchrow(
        query("bot", "get_contact_point"), conv.channel.value, conv.chat_address
    )
    opted_out = bool(conv.state.get("opted_out")) or (
        contact is not None and contact["opted_out_at"] is not None
    )
    by_command = conv.channel in keywords.COMMAND_OPT_OUT_CHANNELS
    # PARAR is answered in Spanish, whatever language the chat had (a caregiver's chat, a number
    # that never registered, a patient who writes Spanish to an English chat).
    locale = keywords.language_of(turn.text) or turn.locale

    def say(key: str) -> None:
        turn.say(texts.text(locale, key))

    if found is Keyword.OPT_OUT:
        await keep_chosen_zone(turn)  # a zone chosen and awaiting "is it {time} there?"
        await turn.conn.execute(
            query("bot", "opt_out_contact"), conv.channel.value, conv.chat_address
        )
        conv.state["opted_out"] = True
        told = await _replan_reachability(turn)
        if not opted_out:  # confirm once; a repeated STOP is not answered
            confirmation = texts.text(locale, "opted_out_command" if by_command else "opted_out")
            if told:
                # The patient hears it from us first: their caregiver is about to be told.
                confirmation += " " + texts.text(locale, "opted_out_caregiver_told")
            turn.say(confirmation)
        elif by_command:
            say("opted_out_hint")
        return True
    if found is Keyword.OPT_IN:
        if opted_out:
            if turn.patient is not None and turn.patient["unreachable_since"] is not None:
                await _catch_up_while_unreachable(turn)
            await turn.conn.execute(
                query("bot", "opt_in_contact"), conv.channel.value, conv.chat_address
            )
            conv.state.pop("opted_out", None)
            await _replan_reachability(turn)
            say("opted_in_command" if by_command else "opted_in")
            return True
        if keywords.is_plain_start(conv.channel, turn.text):
            async with zone_told_around_command(turn, "start"):
                await start(turn, "")
            return True
        return False  # a plain YES is an ordinary answer
    if opted_out:
        return True  # no HELP answers to an opted-out number
    turn.say(await _help_text(turn, locale))
    return True


async def _replan_reachability(turn: Turn) -> bool:
    """After STOP or START of the chat's patient: re-plan at once (the last channel gone, the
    doses ahead are 'unreachable' and their reminders withdrawn before a worker claims them; one
    back, they are reminded again), and whether a caregiver's notice that reminders no longer
    reach the patient is now waiting (migration 20260101013300)."""
    patient_id = turn.conv.patient_id
    if patient_id is None:
        return False  # a caregiver's or a stranger's number: no reminders of its own
    await replan_now(turn)
    return bool(await turn.conn.fetchval(query("bot", "unreachable_notice_waiting"), patient_id))


async def _unblocks_an_unreachable_patient(turn: Turn) -> bool:
    """Whether this message comes from a blocked contact point of a patient no channel reaches:
    the turn's end lifts the block (bot.sql finish_turn), and may bring the patient back."""
    if turn.patient is None or turn.patient["unreachable_since"] is None:
        return False
    contact = await turn.conn.fetchrow(
        query("bot", "get_contact_point"), turn.conv.channel.value, turn.conv.chat_address
    )
    return contact is not None and contact["blocked_at"] is not None


async def _catch_up_while_unreachable(turn: Turn) -> None:
    """The planner's pass over the open doses of the turn's patient, no channel reaching them,
    at the turn's clock, before the turn brings them back (START, a message that lifts the
    block of the bot).

    A pass during the spell decides their open doses: one reminded before it whose missed mark
    passed is missed without a caregiver alert (the caregiver had the one notice), one whose
    reminder never went out is 'unreachable'. With no pass between (the STOP turn's own re-plan
    may be the last: the worker plans every minute, but a stopped worker or a quick return does
    not), the return's re-plan found a reachable patient and alerted the caregiver about a dose
    missed while reminders could not reach them."""
    if turn.conv.patient_id is None:
        return
    await catch_up_before_return(turn.conn, turn.conv.patient_id, turn.now, turn.ctx.settings)


async def _bind_known_contact(turn: Turn) -> None:
    """A chat that is a consented patient's contact point belongs to that patient, no /start.

    Patients created by a clinic (dashboard, API, FHIR import) answer their first reminder from
    a conversation that has never seen /start; its contact point says whose it is. A number
    that is a patient's on the other phone channel (SMS, WhatsApp) becomes theirs on this one.
    """
    conv = turn.conv
    row = await turn.conn.fetchrow(
        query("bot", "contact_patient"), conv.channel.value, conv.chat_address
    )
    other = _OTHER_PHONE_CHANNEL.get(conv.channel)
    if row is None and other is not None:
        # The clinic gave the number for SMS and the patient wrote on WhatsApp (or the other way
        # round): the same person, not a stranger to send to /start and a second record.
        row = await turn.conn.fetchrow(
            query("bot", "claim_other_phone_channel"),
            conv.channel.value,
            conv.chat_address,
            other.value,
        )
    if row is not None:
        conv.patient_id = row["id"]
        turn.patient = row


async def _contact_opted_out(turn: Turn) -> bool:
    """Whether the carrier, an earlier STOP or /stop opted this chat's contact point out."""
    if turn.conv.channel not in keywords.OPT_OUT_CHANNELS:
        return False
    contact = await turn.conn.fetchrow(
        query("bot", "get_contact_point"), turn.conv.channel.value, turn.conv.chat_address
    )
    return contact is not None and contact["opted_out_at"] is not None


async def _help_text(turn: Turn, locale: str) -> str:
    """The HELP answer in ``locale`` (AYUDA's is Spanish): the clinic's name and contact. A
    clinic without a phone or e-mail is still named: carriers want the HELP answer to say whose
    messages these are (it said only "MedRemind medication reminders")."""
    clinic = await clinic_contact(turn)
    if clinic is not None and clinic[1] is not None:
        return texts.text(locale, "keyword_help", clinic=clinic[0], contact=clinic[1])
    if clinic is not None:
        return texts.text(locale, "keyword_help_clinic", clinic=clinic[0])
    return texts.text(locale, "keyword_help_generic")


def channel_label(channel: Channel, locale: str) -> str:
    """A channel's name for the patient."""
    return texts.text(locale, f"ch_{channel.value}")
