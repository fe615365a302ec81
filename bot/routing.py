"""One answer router: an inbound answer goes to the latest open question it can answer.

A chat can have several questions open at once: the dialog's current step (its options are kept
in the conversation's state, :mod:`bot.conversation`) and the reminders, appointment messages and
waitlist slot offers sent to it (``conversation_questions``, recorded by the dispatcher with the
options each showed, :mod:`scheduler.questions`, and by the bot's own lists). A typed answer is
matched against them newest first (by ``asked_at``, then by ``seq``, the order they were recorded
in, which the dialog's question takes a place in when its turn is saved: of two questions asked at
one instant, the one asked last); the first that accepts it gets it:

* a choice accepts the typed replies the message showed for it (its number on a numbered channel,
  its letter where the text asked for letters), its label in any case and without accents, and
  the first word of its label when no other choice of the question starts with that word
  ("snooze" for "Snooze 15 min");
* a reminder's Taken, Snooze and Skip also accept their usual words in either language the bot
  speaks, whatever the labels said ("posponer" is Snooze on an English reminder and on a
  Spanish one whose button reads "Recordar en 15 min"): :data:`ANSWER_WORDS`; so does an
  appointment message's confirm, whose SMS text says "Reply 1 or C to confirm" over an option
  that may read "I'll be there" (:data:`APPOINTMENT_WORDS`);
* a reminder's Snooze also accepts one of its words with a number of minutes ("snooze 90",
  "posponer 90 min") or hours ("snooze an hour", "posponer 2 horas", "for half an hour"), or
  minutes or hours with their unit ("en 20 minutos", "in 20 minutes", "en una hora"): that
  snooze length, within :data:`SNOOZE_MINUTES_MIN` and
  :data:`SNOOZE_MINUTES_MAX` as for buttons; a number outside them picks the Snooze still
  (``Choice.snooze_minutes``) so the patient is told the range instead of being misunderstood;
  where several lengths of one dose's Snooze are offered (a snooze's reply), a bare snooze word
  is the reminder's own Snooze, its default length;
* a dialog step also accepts the typed input it parses (a time, a date, a name: ``Step.typed``).

So the options shown are the answers accepted, on every channel, and a reminder that arrives in
the middle of /settings is answered with "1" or "Taken" while the dialog stays where it was (a
choice typed for its menu next shows the menu again first: the patient last read the answer's
reply, not the menu; bot.engine). A
reminder the bot names again after recording an answer ("Also waiting for your answer") is asked
again then (bot.engine): the newest question, above a dialog menu opened before it.
Buttons carry their own target (``t:`` dialog tokens, ``d:``/``a:`` answer data) and are not
routed here.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from bot import texts
from bot.conversation import Turn
from bot.steps import IDLE, STEPS
from core.answer_buttons import QUESTION_TTL, SNOOZE_MINUTES_MAX, SNOOZE_MINUTES_MIN
from core.dose_times import named_local
from core.logs import mark_sensitive
from core.sql import query
from platforms.base import Channel

# A late message's time is the provider's (Telegram's, in whole seconds, on its clock): a question
# asked up to this long after it still counts as open when it was written.
WRITTEN_SLACK = timedelta(minutes=1)

_WORD_RE = re.compile(r"\w+")
# A dialog question asked in the turn that reads it (its seq is drawn when the turn is saved):
# after every question recorded so far. Above any bigint seq.
_ASKED_THIS_TURN = 2**63

# Typed words for a dose reminder's answers, by the answer's code in its data (``d:<hex>:t``,
# ``:s``/``:s15``, ``:k``), folded as :func:`bot.texts.fold_label` folds (lower case, no
# accents). The whole message only, and only while a reminder asks: never an opt-out word
# (bot.keywords), so a patient who means STOP is never read as answering a dose.
_TAKEN = (
    "taken", "took", "took it", "i took it",
    "tomada", "tomado", "tome", "la tome", "lo tome",
    # "Already": "ya la tomé" was "Perdona, no lo he entendido" (found by hand over WhatsApp).
    "ya la tome", "ya lo tome", "ya me la tome", "ya me lo tome",
    # Yes to the follow-up's "¿Tomaste tu dosis?" ("Did you take ...?"), "ya"/"ya está" and
    # "hecho" (already, done): all were "no lo he entendido" (found as a patient over SMS). Not
    # DONE/LISTO: they end /add's list of times, which a reminder may arrive in the middle of;
    # YES/SI opt an opted-out number back in first (bot.keywords).
    "yes", "si", "ya", "ya esta", "hecho",
)  # fmt: skip
_SNOOZE_EN = ("snooze", "later", "remind me later")
_SNOOZE_ES = ("posponer", "pospon", "aplazar", "luego", "mas tarde", "despues", "recuerdame")
# Skip: also the word a dialog step that numbers nothing asks for ("Or reply SKIP.", "O responde
# OMITIR.": bot.dialogs.medicines), one list for both.
SKIP_WORDS = frozenset(("skip", "skipped", "omitir", "omitida", "saltar"))
ANSWER_WORDS: dict[str, frozenset[str]] = {
    "t": frozenset(_TAKEN),
    "s": frozenset(_SNOOZE_EN + _SNOOZE_ES),
    "k": SKIP_WORDS,
}
# Typed words for an appointment message's confirm (``a:<hex>:c``): the SMS texts ask "Reply 1 or
# C to confirm" ("para confirmar") whatever the option's label, and a reminder's reads "I'll be
# there" ("Allí estaré"). Without them "confirm" went on to an older question that took it:
# another appointment's booking message. Reschedule and cancel need none (their labels start
# with the word the text says; the texts avoid CANCEL, a carrier's opt-out word).
# "I'll be there" as people say it ("sí, ahí estaré", "voy") was "no lo he entendido" too (found
# over SMS): the label's own words, and the usual others, alone or after yes. Never yes alone,
# which is a dose's Taken (a follow-up asks "Did you take ...?").
_THERE = (
    "i'll be there", "i\u2019ll be there", "ill be there", "i will be there", "will be there",
    "see you there", "alli estare", "ahi estare", "alli estaremos", "ahi estaremos", "voy", "ire",
    "asistire",
)  # fmt: skip
_THERE_AFTER_YES = tuple(
    f"{yes}{comma} {there}" for yes in ("yes", "si") for comma in ("", ",") for there in _THERE
)
APPOINTMENT_WORDS: dict[str, frozenset[str]] = {
    "c": frozenset(
        {"confirm", "confirmed", "confirmar", "confirmo", "confirmada", "confirmado"}
        | set(_THERE)
        | set(_THERE_AFTER_YES)
    ),
}
_WORDS_BY_KIND = {"d": ANSWER_WORDS, "a": APPOINTMENT_WORDS}
# A snooze word, then a number of minutes ("snooze 90", "posponer 90 min", "snooze for 2 mins"),
# on folded text. Five digits at most: longer is no length anyone means, and not read as one.
_SNOOZE_FOR_RE = re.compile(
    r"^(?P<word>[a-z ]+?) (?:(?:for|por) )?(?P<n>\d{1,5}) ?"
    r"(?:m|min|mins|minute|minutes|minuto|minutos)?\.?$"
)
# Minutes said alone, their unit named ("en 20 minutos", "in 20 minutes", "20 min"): a snooze
# too ("Perdona, no lo he entendido" before). The unit is needed: a bare number is an option's.
_SNOOZE_IN_RE = re.compile(
    r"^(?:(?:in|en|dentro de) )?(?P<n>\d{1,5}) ?(?:min|mins|minute|minutes|minuto|minutos)\.?$"
)
# The same in hours ("snooze an hour", "posponer 2 horas", "in half an hour", "en una hora"):
# "Sorry, I didn't understand that" before (found over SMS), though a snooze goes up to 12 hours.
_HOURS = (
    r"(?:(?P<half>half an|half|media)|(?P<h>\d{1,3}|an|a|one|un|una))"
    r" ?(?:h|hr|hrs|hour|hours|hora|horas)"
)
_SNOOZE_HOURS_FOR_RE = re.compile(r"^(?P<word>[a-z ]+?) (?:(?:for|por) )?" + _HOURS + r"\.?$")
_SNOOZE_HOURS_IN_RE = re.compile(r"^(?:in|en|dentro de) " + _HOURS + r"\.?$")


@dataclass(frozen=True, slots=True)
class Choice:
    """One option of a question: its label, what it means, and the typed replies it showed."""

    label: str
    value: str  # a dialog option's value, or a reminder's answer data (``d:``/``a:``)
    keys: tuple[str, ...] = ()
    # The minutes of a typed "snooze 90"; outside the allowed range ``value`` is the Snooze
    # shown, and the caller tells the range (:func:`snooze_out_of_range`) rather than record it.
    snooze_minutes: int | None = None


@dataclass(frozen=True, slots=True)
class Question:
    """An open question of the chat: the dialog's (``row_id`` None) or a reminder's."""

    asked_at: datetime
    choices: tuple[Choice, ...]
    row_id: UUID | None = None
    # Its place among questions asked at one instant: ``conversation_questions.seq``, or the one
    # the dialog's question drew when it was asked (bot.sql finish_turn).
    seq: int = 0
    dose_due_at: datetime | None = None
    # The dose's set date and time (its schedule's), which name it where the clocks sprang over
    # it (core.dose_times).
    dose_local_date: date | None = None
    dose_local_time: time | None = None
    appointment_starts_at: datetime | None = None
    offer_starts_at: datetime | None = None  # a waitlist slot offer's appointment time
    # The dose's medicine as its reminder named it (the name only where the patient opted in).
    medicine_name: str | None = None
    medicine_number: int | None = None

    @property
    def is_dialog(self) -> bool:
        """Whether this is the dialog step's question."""
        return self.row_id is None


def match_choice(choices: tuple[Choice, ...], text: str) -> Choice | None:
    """The choice ``text`` picks: a shown key, the label, or the label's distinct first word."""
    folded = texts.fold_label(text)
    if not folded:
        return None
    bare = folded.lstrip("#").rstrip(".)").strip()
    for choice in choices:
        if bare in choice.keys or folded in choice.keys:
            return choice
    for choice in choices:
        if texts.fold_label(choice.label) == folded:
            return choice
    firsts = [_first_word(choice.label) for choice in choices]
    if len(folded) >= 2 and firsts.count(folded) == 1:
        return choices[firsts.index(folded)]
    return _answer_word(choices, folded) or _snooze_for(choices, folded)


def _snooze_for(choices: tuple[Choice, ...], folded: str) -> Choice | None:
    """A dose's Snooze with the minutes ``folded`` names after a snooze word ("snooze 90")."""
    found = _typed_snooze(folded)
    if found is None:
        return None
    snoozes = [c for c in choices if _answer_words(c.value) == ANSWER_WORDS["s"]]
    if not snoozes:
        return None
    shown = snoozes[0]
    minutes = found
    if snooze_out_of_range(minutes):
        return Choice(shown.label, shown.value, shown.keys, snooze_minutes=minutes)
    dose = shown.value.rpartition(":")[0]  # d:<hex>
    return Choice(shown.label, f"{dose}:s{minutes}", shown.keys, snooze_minutes=minutes)


def _typed_snooze(folded: str) -> int | None:
    """The minutes of ``folded`` as a snooze word and a length ("snooze 90", "posponer 2
    horas"), or a length alone with its unit ("20 min", "in an hour"); or None."""
    found = _SNOOZE_FOR_RE.match(folded) or _SNOOZE_HOURS_FOR_RE.match(folded)
    if found is None or found["word"] not in ANSWER_WORDS["s"]:
        found = _SNOOZE_IN_RE.match(folded) or _SNOOZE_HOURS_IN_RE.match(folded)
    if found is None:
        return None
    groups = found.groupdict()
    if groups.get("n") is not None:
        return int(groups["n"])
    if groups.get("half") is not None:
        return 30
    hours = groups["h"]
    return 60 * (int(hours) if hours.isdigit() else 1)


def is_answer_phrase(text: str) -> bool:
    """Whether ``text`` is one of the words or phrases a reminder or appointment answer takes
    ("la tomé", "remind me later", "confirm"), open question or not."""
    words = " ".join(texts.fold_label(text).rstrip(".!").split())
    return any(words in kind for table in _WORDS_BY_KIND.values() for kind in table.values())


def is_typed_snooze(text: str) -> bool:
    """Whether ``text`` is a snooze with minutes ("snooze 90"), open reminder or not."""
    return _typed_snooze(texts.fold_label(text)) is not None


def snooze_out_of_range(minutes: int | None) -> bool:
    """Whether a typed snooze length is one no button could carry (None: none was typed)."""
    return minutes is not None and not SNOOZE_MINUTES_MIN <= minutes <= SNOOZE_MINUTES_MAX


def _answer_word(choices: tuple[Choice, ...], folded: str) -> Choice | None:
    """The dose or appointment answer ``folded`` names in :data:`ANSWER_WORDS` or
    :data:`APPOINTMENT_WORDS`, if exactly one choice is it."""
    words = " ".join(folded.rstrip(".!").split())
    found = [c for c in choices if words in _answer_words(c.value)]
    if len(found) == 1:
        return found[0]
    return _default_snooze(found)


def _default_snooze(found: list[Choice]) -> Choice | None:
    """A bare "snooze" where several lengths of one dose's Snooze are offered (a snooze's reply:
    "Snooze 10 min", "Snooze 30 min", ...): the reminder's own Snooze, its default length, as
    the word meant on the reminder; anything else ambiguous stays unanswered (None)."""
    doses = {c.value.rpartition(":")[0] for c in found}
    if (
        len(found) < 2
        or len(doses) != 1
        or any(_answer_words(c.value) != ANSWER_WORDS["s"] for c in found)
    ):
        return None
    shown = found[0]
    return Choice(shown.label, f"{doses.pop()}:s", shown.keys)


def _answer_words(data: str) -> frozenset[str]:
    """The usual words of a dose answer's data (``d:<hex>:s15`` is Snooze's) or an appointment
    answer's (``a:<hex>:c``); none for anything else."""
    kind, _, rest = data.partition(":")
    code = rest.partition(":")[2][:1]
    return _WORDS_BY_KIND.get(kind, {}).get(code, frozenset())


def _first_word(label: str) -> str:
    found = _WORD_RE.search(texts.fold_label(label))
    return found.group(0) if found else ""


def dialog_question(turn: Turn) -> Question | None:
    """The dialog step's open question, from the conversation's state."""
    conv = turn.conv
    asked = conv.state.get("asked_at")
    if conv.step == IDLE or conv.step not in STEPS or not asked:
        return None
    numbered = bool(conv.state.get("numbered"))
    choices = tuple(
        Choice(label, value, (str(n),) if numbered else ())
        for n, (label, value) in enumerate(conv.state.get("options") or [], 1)
    )
    return Question(
        asked_at=datetime.fromisoformat(asked), choices=choices, seq=_dialog_seq(conv.state)
    )


def _dialog_seq(state: dict[str, Any]) -> int:
    """The dialog question's place among questions asked at its instant: the seq its turn drew
    (bot.sql finish_turn); newest when asked in this very turn (not saved yet: None); before
    every recorded question when asked before the seq was kept (a state saved by an older
    version: as those were ordered)."""
    seq = state.get("asked_seq")
    if isinstance(seq, int):
        return seq
    return _ASKED_THIS_TURN if "asked_seq" in state else 0


async def open_questions(turn: Turn) -> list[Question]:
    """Every open question of the chat, newest first (the dialog's among them)."""
    found = await _recorded_questions(turn, "open_questions")
    dialog = dialog_question(turn)
    if dialog is not None:
        found.append(dialog)
        # Questions asked at one instant (a frozen clock, two clocks agreeing to the
        # microsecond) go by seq, the order they were recorded in: the dialog's too.
        found.sort(key=_newest_first, reverse=True)
    return found


async def open_questions_elsewhere(turn: Turn) -> list[Question]:
    """The patient's open reminder and appointment questions asked on their other chats, newest
    first, for an answer typed here that no question of this chat takes: one person answers on
    whichever of their chats is at hand ("taken" in Telegram after an SMS reminder was "Nothing
    is waiting"). Their words only: the numbers and letters they showed are the other chat's,
    and a "1" here answered nothing it showed."""
    return [
        dataclasses.replace(
            question, choices=tuple(dataclasses.replace(c, keys=()) for c in question.choices)
        )
        for question in await _recorded_questions(turn, "open_questions_elsewhere")
    ]


async def _recorded_questions(turn: Turn, name: str) -> list[Question]:
    """The open questions the query ``name`` (bot.sql) reads for the chat's patient, newest
    first, as open when the turn's message was written."""
    conv = turn.conv
    if conv.patient_id is None:
        return []
    # A message delivered late answers what was open when it was written: "taken" typed after
    # the evening's reminder and delivered the next morning must not take the morning's dose
    # (platforms.base.InboundEvent.written_at).
    written = turn.event.written_at
    when = turn.now if written is None else datetime.fromtimestamp(written, turn.now.tzinfo)
    rows = await turn.conn.fetch(
        query("bot", name),
        conv.channel.value,
        conv.chat_address,
        conv.patient_id,
        turn.now,
        min(when, turn.now) - QUESTION_TTL,
    )
    return [
        question
        for question in map(_from_row, rows)
        if written is None or question.asked_at <= when + WRITTEN_SLACK
    ]


def _newest_first(question: Question) -> tuple[datetime, int]:
    return question.asked_at, question.seq


def _from_row(row: Any) -> Question:
    mark_sensitive(row["medicine_name"])
    options = row["options"] if isinstance(row["options"], list) else []
    choices = tuple(
        Choice(
            str(o.get("label", "")),
            str(o.get("data", "")),
            tuple(texts.fold_label(str(k)) for k in o.get("keys") or ()),
        )
        for o in options
        if isinstance(o, dict)
    )
    return Question(
        asked_at=row["asked_at"],
        choices=choices,
        row_id=row["id"],
        seq=row["seq"],
        dose_due_at=row["due_at"],
        dose_local_date=row["local_date"],
        dose_local_time=row["local_time"],
        appointment_starts_at=row["starts_at"],
        offer_starts_at=row["offer_starts_at"],
        medicine_name=row["medicine_name"],
        medicine_number=row["medicine_number"],
    )


def pick(turn: Turn, questions: list[Question]) -> tuple[Question, Choice | None] | None:
    """The latest question that accepts the turn's input, with the choice it picks.

    A dialog question may accept typed input without a choice (``Step.typed``): then the choice
    is None and the step reads the text.
    """
    for question in questions:
        choice = match_choice(question.choices, turn.text)
        if choice is not None:
            return question, choice
        if question.is_dialog and _step_takes(turn):
            return question, None
    return None


def _step_takes(turn: Turn) -> bool:
    step = STEPS.get(turn.conv.step)
    return step is not None and step.typed is not None and step.typed(turn)


# -- what the patient is told when nothing matched --------------------------------------------


def subject(turn: Turn, question: Question) -> str:
    """What a reminder's question is about, for the patient ("your 8:00 AM dose")."""
    zone = ZoneInfo(turn.patient["timezone"] if turn.patient is not None else "UTC")
    starts_at = question.appointment_starts_at or question.offer_starts_at
    if starts_at is not None:
        local = starts_at.astimezone(zone)
        return turn.t(
            "about_appointment" if question.appointment_starts_at else "about_offer",
            date=texts.fmt_date(local, turn.locale),
            time=texts.fmt_time(local, turn.locale),
        )
    if question.dose_due_at is not None:
        local = named_local(
            question.dose_due_at, zone, question.dose_local_date, question.dose_local_time
        )
    else:
        local = question.asked_at.astimezone(zone)
    words = texts.dose_words(
        turn.locale, local, name=question.medicine_name, number=question.medicine_number
    )
    # Its day, as an answer's confirmation says it (bot.dialogs.answers.dose_subject).
    today = turn.now.astimezone(zone).date()
    return texts.on_its_day(turn.locale, words, local, today, sms=turn.conv.channel is Channel.SMS)


def shown_answers(turn: Turn, question: Question, *, numbers: bool) -> list[str]:
    """One line per choice as the patient can type it: "1 Taken", "C Confirm" or "Taken"."""
    lines = []
    for choice in question.choices:
        keys = [k for k in choice.keys if numbers or not k.isdigit()]
        lines.append(f"{keys[0].upper()} {choice.label}" if keys else choice.label)
    return lines


def typed_words(turn: Turn, question: Question) -> str:
    """The choices as words (or letters) joined for a sentence: "Taken, Snooze 15 min or Skip"."""
    words = []
    for choice in question.choices:
        letters = [k.upper() for k in choice.keys if not k.isdigit()]
        words.append(letters[0] if letters else choice.label)
    if len(words) == 1:
        return words[0]
    return turn.t("or_join", first=", ".join(words[:-1]), second=words[-1])


def without_snooze(questions: list[Question]) -> list[Question]:
    """``questions`` without their dose Snooze choices (refused while reminders are paused);
    a question left with no choice is left out."""
    found = []
    for question in questions:
        choices = tuple(c for c in question.choices if _answer_words(c.value) != ANSWER_WORDS["s"])
        if choices:
            found.append(dataclasses.replace(question, choices=choices))
    return found


def waiting_questions(questions: list[Question]) -> list[Question]:
    """The reminders' questions among ``questions`` (newest first)."""
    return [q for q in questions if not q.is_dialog and q.choices]
