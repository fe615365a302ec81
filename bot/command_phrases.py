"""/pause and /resume said in words: "pause 3 days", "pausa por 3 días", "resume my reminders".

The bare word ran its command ("pause", "PAUSA": bot.engine), and "/pause 3d" paused, but "pause
for 3 days" without the slash was "Sorry, I didn't understand that" (or "Nothing is waiting for
an answer") and the reminders went on: a patient going into hospital types the sentence, not the
command. A phrase here is the command word (English, or the Spanish ones of
:data:`bot.keywords.COMMAND_WORDS_ES`), optionally the reminders it is about ("my reminders",
"los recordatorios"), and for /pause how long ("3 days", "for a week", "until 3/15", "hasta el
lunes"); nothing else. "pause metformin" is no phrase (pausing every reminder is not what it
asks; /meds pauses one medicine), nor is "pause 3" (3 of what?).

The caller (bot.engine) tries these only where nothing open takes the text, as for the bare word:
a reply to a question that happens to read like one still answers that question.
"""

from __future__ import annotations

import re

from bot.keywords import COMMAND_WORDS_ES
from bot.locale_format import fold_word

# Longer texts are sentences about something else, not a command said in words.
MAX_PHRASE_CHARS = 60

# "please", "por favor" before the command word or after the phrase: dropped first.
_POLITE_RE = re.compile(r"^(?:please|pls|por favor),?\s+|,?\s+(?:please|pls|por favor)$")
# What the command acts on, which adds nothing: "my reminders", "todos los recordatorios".
_OBJECT = (
    r"(?:\s+(?:(?:all|all of|all my|my|the|all the|todos los|todas las|todos mis|los|mis|las)\s+)?"
    r"(?:reminders?|notifications?|messages?|alerts?|everything|all|them|"
    r"recordatorios?|avisos?|notificaciones|mensajes|alertas|todo|todos))?"
)
# How long a pause is meant to last, as typed (its end is read by :func:`pause_days`).
_COUNT_WORDS = {
    "a": 1, "an": 1, "one": 1, "un": 1, "una": 1, "uno": 1,
    "two": 2, "dos": 2, "three": 3, "tres": 3, "four": 4, "cuatro": 4, "five": 5, "cinco": 5,
    "six": 6, "seis": 6, "seven": 7, "siete": 7, "ten": 10, "diez": 10, "fourteen": 14,
    "catorce": 14, "a couple of": 2, "couple of": 2, "un par de": 2,
}  # fmt: skip
_UNIT_DAYS = {"d": 1, "w": 7, "s": 7}  # days, dias; weeks, wks; semanas
_LEAD = r"^(?:(?:for|during|por|durante)\s+)?(?:(?:the\s+)?next\s+|(?:los|las)\s+proxim[oa]s\s+)?"
# "a week and a half", "1.5 weeks", "1,5 semanas", "una semana y media", "two and a half days",
# "half a week": not understood before (found as a patient: "pausa 1 semana y media").
_AND_A_HALF = r"(?:and\s+a\s+half|y\s+medi[oa])"
_SPAN_RE = re.compile(
    _LEAD + r"(?:(?P<half_of>half\s+an?|medi[oa])\s+|"
    r"(?P<count>\d{1,5}(?:[.,]\d{1,2})?|"
    + "|".join(sorted(_COUNT_WORDS, key=len, reverse=True))
    + r")\s*(?P<half_before>"
    + _AND_A_HALF
    + r"\s+)?)"
    r"(?P<unit>days?|d|weeks?|wks?|w|dias?|semanas?)(?P<half_after>\s+" + _AND_A_HALF + r")?$"
)
# "a few days", "unos días", "some weeks", "for a while": a pause meant to end, of no length
# said. It paused open ("This pause has no end date"), or was not understood without the slash;
# how many is asked (bot.dialogs.pause_count), nothing paused until then.
_VAGUE_RE = re.compile(
    r"^(?:(?:for|during|por|durante)\s+)?(?:(?:(?:a\s+)?few|some|several|"
    r"un(?:o|a)s(?:\s+(?:poc|cuant)[oa]s)?|algun[oa]s|vari[oa]s|poc[oa]s)\s+(?P<unit>days?|dias|"
    r"weeks?|semanas)|(?P<while>a\s+while|some\s+time|un\s+tiempo|una\s+temporada))$"
)
# "until 3/15", "till Monday", "hasta el 15/3": an end the patient names (bot.dialogs.account
# ends the pause then when it reads the date, and says it stays open when it does not).
_UNTIL_RE = re.compile(r"^(?:until|till|til|hasta)\s+\S")
# A break shorter than a day ("30 min", "for an hour", "media hora"): no pause, which is by days,
# but what to do instead is said (bot.dialogs.pause_short).
_SHORT_UNIT_MINUTES = {"m": 1, "h": 60}  # minutes, mins, minutos; hours, hrs, horas
_SHORT_RE = re.compile(
    _LEAD + r"(?:(?P<half>half an hour|half hour|media hora)|"
    r"(?P<half_day>half a day|half day|medio dia)|"
    r"(?P<count>\d{1,5}|" + "|".join(_COUNT_WORDS) + r")\s*"
    r"(?P<unit>minutes?|mins?|m|minutos?|hours?|hrs?|h|horas?))$"
)
_PAUSE_WORDS = frozenset({"pause"} | {w for w, c in COMMAND_WORDS_ES.items() if c == "pause"})
_RESUME_WORDS = frozenset(
    {"resume", "unpause", "reanuda", "reactivar", "reactiva"}
    | {w for w, c in COMMAND_WORDS_ES.items() if c == "resume"}
)
_PHRASE_RE = re.compile(r"^(?P<word>[a-z]+)" + _OBJECT + r"(?:\s+(?P<rest>.+))?$")
# A longest course of days a span is read as (a year): "pause 5000 days" sets no end.
MAX_SPAN_DAYS = 366


def command_phrase(text: str) -> tuple[str, str] | None:
    """The command ``text`` says in words and its argument: ("pause", "3 days") for "Pause my
    reminders for 3 days", ("resume", "") for "reanudar los recordatorios"; None for anything
    else (a bare command word too: bot.engine reads those)."""
    folded = fold_word(text)
    if len(folded) > MAX_PHRASE_CHARS:
        return None
    found = _PHRASE_RE.match(_POLITE_RE.sub("", folded))
    if found is None:
        return None
    rest = (found["rest"] or "").strip()
    if found["word"] in _PAUSE_WORDS and _is_pause_end(rest):
        return "pause", rest
    if found["word"] in _RESUME_WORDS and not rest:
        return "resume", ""
    return None


def _is_pause_end(rest: str) -> bool:
    """Whether what follows "pause" says how long (or nothing): never a medicine's name. A
    length past a year ("pause 5000 days") still pauses: only its end is not named."""
    return not rest or any(
        r.match(rest) is not None for r in (_SPAN_RE, _SHORT_RE, _UNTIL_RE, _VAGUE_RE)
    )


def pause_days(arg: str) -> float | None:
    """The days a pause's typed length names ("3 days", "for a week", "por 2 semanas", "3d",
    "reminders for 3 days", "a week and a half": 10.5, "1,5 semanas"), from one day to a year;
    None for anything else (a date, "until Monday", "a few days")."""
    span = _SPAN_RE.match(pause_end_text(arg))
    if span is None:
        return None
    count = span["count"]
    if count is None:  # "half a week", "media semana"
        number = 0.5
    else:
        number = float(count.replace(",", ".")) if count[0].isdigit() else _COUNT_WORDS[count]
        number += 0.5 if span["half_before"] or span["half_after"] else 0
    days = number * _UNIT_DAYS.get(span["unit"][0], 1)
    return days if 1 <= days <= MAX_SPAN_DAYS else None


def vague_pause_unit(arg: str) -> str | None:
    """ "days" or "weeks" for a length with no number ("a few days", "unos días", "some weeks";
    "days" for "a while", "un tiempo"), whose number is asked; None for anything else."""
    found = _VAGUE_RE.match(pause_end_text(arg))
    if found is None:
        return None
    return "weeks" if found["unit"] and found["unit"][0] in "ws" else "days"


def short_break_minutes(arg: str) -> int | None:
    """The minutes a pause's typed length names when it is counted in minutes or hours ("30
    min", "for an hour", "2h", "media hora", "por 2 horas"); None for anything else."""
    found = _SHORT_RE.match(pause_end_text(arg))
    if found is None:
        return None
    if found["half"]:
        return 30
    if found["half_day"]:
        return 12 * 60
    count = found["count"]
    number = int(count) if count.isdigit() else _COUNT_WORDS[count]
    return number * _SHORT_UNIT_MINUTES[found["unit"][0]] or None  # "0 min": no length


def pause_end_text(arg: str) -> str:
    """``arg`` without the reminders it names: "until 3/15" of "reminders until 3/15"."""
    found = _PHRASE_RE.match(f"pause {fold_word(arg)}")
    return (found["rest"] or "").strip() if found is not None else arg.strip()


def one_medicine_word(text: str) -> str | None:
    """ "pause" or "resume" for a text that starts with that command's word but is no phrase of
    it ("pause metformin", "reanudar el ibuprofeno"): most likely one medicine, which /meds
    pauses and resumes; None otherwise (a number in it is no medicine's name)."""
    folded = _POLITE_RE.sub("", fold_word(text))
    word, _, rest = folded.partition(" ")
    if not rest or len(folded) > MAX_PHRASE_CHARS or command_phrase(text) is not None:
        return None
    if any(ch.isdigit() for ch in rest):
        return None  # "pause 30 min" (a snooze, said wrong?) names no medicine: no hint
    if word in _PAUSE_WORDS:
        return "pause"
    return "resume" if word in _RESUME_WORDS else None


def bare_word(text: str) -> str | None:
    """ "pause" or "resume" for a text that is that command's word alone ("Pause", "pausa",
    "reanudar please"), which says nothing of what it is about; None otherwise."""
    folded = _POLITE_RE.sub("", fold_word(text)).rstrip(".!")
    if folded in _PAUSE_WORDS:
        return "pause"
    return "resume" if folded in _RESUME_WORDS else None
