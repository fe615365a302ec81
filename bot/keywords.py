"""Opt-out, opt-in and help keywords, handled before any dialog.

SMS and WhatsApp: the carrier keywords, in English and in Spanish. A keyword is the whole
message: one word, any case, accents, spaces and punctuation ignored ("  s t o p " is STOP,
"sí" is SI, "Stop." and "STOP!" are STOP, "opt-out" is OPTOUT, "¡Parar!" is PARAR). Anything
longer is not a keyword, so "stop reminding me at 8" or "parar a las 8" goes to the dialog
instead of silently opting the patient out. Punctuation used to count: a patient's "Stop." was
answered "Sorry, I didn't understand that" and their reminders went on, though a reply of STOP
is the plainest way there is to withdraw consent (the FCC's 2024 revocation rule names it).

Spanish: Twilio's own opt-out handling knows the English words only (STOP, STOPALL, UNSUBSCRIBE,
CANCEL, END, QUIT, REVOKE, OPTOUT; others only where a Messaging Service's Advanced Opt-Out adds
them), so a Spanish-speaking patient's PARAR reached us as an ordinary text and was not an
opt-out. We honour the Spanish words carriers and messaging providers configure for Spanish
(PARAR, ALTO, CANCELAR, BAJA, DETENER; COMENZAR, INICIAR, REANUDAR, SI to come back; AYUDA) and
confirm in Spanish (:func:`language_of`).

Telegram (and the dev console): the commands ``/stop`` (opt out) and ``/start`` (opt back in when
opted out; otherwise the ordinary ``/start``), so a Telegram patient can stop every message as an
SMS patient can.

SMS and WhatsApp also take ``/stop`` and ``/start`` as STOP and START: our own texts say "Send
/help", so patients type the slash there too, and "/stop" answered "I don't know that command"
left a patient who meant to stop still receiving reminders. Twilio's opt-out handling matches the
bare words only, so we are the ones who must honour it (and confirm once, as for STOP). ``/help``
stays the /help command there: its answer already holds what HELP's does (STOP, the clinic's
contact) and nothing is answered to an opted-out number either way.
"""

from __future__ import annotations

import difflib
import enum
import unicodedata
from collections.abc import Iterable

from bot.locale_format import fold_label
from platforms.base import Channel


class Keyword(enum.StrEnum):
    """What a keyword asks for."""

    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


# Twilio's default opt-out words.
_OPT_OUT_EN = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
# Spanish: whole-message words only; none of them is an answer the bot offers (the medicine
# dialog's "Cancel" button says "Descartar"/"Discard" for that reason).
_OPT_OUT_ES = frozenset({"PARAR", "ALTO", "CANCELAR", "BAJA", "DETENER"})
OPT_OUT_WORDS = _OPT_OUT_EN | _OPT_OUT_ES
# YES and SI only opt back in when the contact point is opted out (an ordinary answer otherwise);
# so do the Spanish words, which are never the ordinary START.
_OPT_IN_EN = frozenset({"START", "YES", "UNSTOP"})
_OPT_IN_ES = frozenset({"COMENZAR", "INICIAR", "REANUDAR", "SI"})
OPT_IN_WORDS = _OPT_IN_EN | _OPT_IN_ES
# AYUDA: the bot speaks Spanish; a help request in the patient's language gets the same answer.
HELP_WORDS = frozenset({"HELP", "INFO", "AYUDA"})
# Words only Spanish uses: the confirmation is in Spanish whatever the chat's language was.
_SPANISH_WORDS = _OPT_OUT_ES | _OPT_IN_ES | {"AYUDA"}

KEYWORD_CHANNELS = frozenset({Channel.SMS, Channel.WHATSAPP})
# Channels whose patients opt out with the /stop command. The console of ``medremind dev`` stands
# for a chat: /stop and /start work there as on Telegram, so the opt-out (and what follows it for
# the patient's doses and caregiver) can be tried locally.
COMMAND_OPT_OUT_CHANNELS = frozenset({Channel.TELEGRAM, Channel.CONSOLE})
# Every channel on which a patient can opt out: nothing but an opt-in is answered meanwhile.
OPT_OUT_CHANNELS = KEYWORD_CHANNELS | COMMAND_OPT_OUT_CHANNELS

# The bot's commands as Spanish speakers type them without the slash, folded as
# :func:`bot.texts.fold_label` folds (lower case, no accents). The English words are the command
# names themselves ("today", "pause"); bot.engine runs the command a bare word names when nothing
# open takes the word, as it does for those. A carrier keyword never reaches them on SMS
# (CANCELAR is an opt-out there, AYUDA is HELP, REANUDAR an opt-in only while opted out).
COMMAND_WORDS_ES: dict[str, str] = {
    "hoy": "today",
    "medicinas": "meds", "medicamentos": "meds",
    "anadir": "add", "agregar": "add",
    "estadisticas": "stats",
    "historial": "history", "historia": "history",
    "exportar": "export",
    "citas": "appointments",
    "ajustes": "settings", "configuracion": "settings",
    "pausa": "pause", "pausar": "pause",
    "reanudar": "resume",
    "cancelar": "cancel",
    "ayuda": "help",
    "comenzar": "start", "iniciar": "start",
}  # fmt: skip


# What patients call their history, as :func:`normalize` writes it: no command has that name,
# and "/history" was answered "I don't know that command" (found using the bot as a patient);
# :func:`is_history_word` points them to /today, /stats and /export instead (bot.dialogs.reports).
_HISTORY_WORDS = frozenset(
    {"HISTORY", "MYHISTORY", "DOSEHISTORY", "HISTORIAL", "MIHISTORIAL", "HISTORIA", "MIHISTORIA"}
)


def is_history_word(text: str) -> bool:
    """Whether ``text`` (a command's name, or a whole message) asks for the patient's history:
    "/history", "history", "My history", "historial"."""
    return len(text) <= 40 and normalize(text.lstrip("/")) in _HISTORY_WORDS


# Commands a typo is never pointed to: their own words must be meant ("/delet" is not a
# nudge towards erasing everything), and the hidden ones are not in /help.
_NOT_SUGGESTED = frozenset({"delete_me", "stop", "app", "app_signout"})


def nearest_command(typed: str, commands: Iterable[str]) -> str | None:
    """The command (or Spanish command word) ``typed`` is a typo of ("ad" -> "add", "ayda" ->
    "ayuda"), for "Did you mean /add?"; None when none is close (difflib's ratio 0.75, so a
    word two letters off a short command is not taken for it)."""
    folded = fold_label(typed)
    names = [c for c in commands if c not in _NOT_SUGGESTED] + list(COMMAND_WORDS_ES)
    found = difflib.get_close_matches(folded, names, n=1, cutoff=0.75)
    return found[0] if found else None


def normalize(text: str) -> str:
    """Upper case without accents, with every whitespace and punctuation character removed."""
    decomposed = unicodedata.normalize("NFKD", "".join(text.split()).upper())
    return "".join(
        ch
        for ch in decomposed
        if not unicodedata.combining(ch) and not unicodedata.category(ch).startswith("P")
    )


# Greetings only Spanish uses, as :func:`normalize` writes them: a number that never registered
# and says "Hola" is told how to start in Spanish (found by hand over WhatsApp in medremind dev:
# it was answered in English).
_GREETINGS_ES = frozenset(
    {"HOLA", "BUENAS", "BUENOSDIAS", "BUENASTARDES", "BUENASNOCHES", "HOLAQUETAL", "QUETAL"}
    | {"HOLABUENAS", "HOLABUENOSDIAS", "HOLABUENASTARDES", "HOLABUENASNOCHES"}
)


# Greetings in English, as :func:`normalize` writes them: a registered patient who says only
# that is greeted and shown what they can do (it was "Nothing is waiting for an answer").
_GREETINGS_EN = frozenset(
    {"HI", "HELLO", "HEY", "HIYA", "HITHERE", "HELLOTHERE", "HEYTHERE", "MORNING"}
    | {"GOODMORNING", "GOODAFTERNOON", "GOODEVENING"}
)


def greeting_language(text: str) -> str | None:
    """``"es"`` for a greeting only Spanish uses ("Hola", "¡Buenos días!"), else None."""
    return "es" if len(text) <= 40 and normalize(text) in _GREETINGS_ES else None


def is_greeting(text: str) -> bool:
    """Whether ``text`` is only a greeting ("hi", "Hello!", "¡Hola!", "buenos días")."""
    return len(text) <= 40 and normalize(text) in _GREETINGS_ES | _GREETINGS_EN


# Thanks, as :func:`normalize` writes them: answered "you're welcome", not "Nothing is waiting
# for an answer right now" (found by hand in medremind dev's console after a saved medicine).
_THANKS = frozenset(
    {"THANKS", "THANKYOU", "THANKSALOT", "THANKYOUVERYMUCH", "THX", "TY", "CHEERS"}
    | {"GRACIAS", "MUCHASGRACIAS", "MILGRACIAS", "GRACIASMIL"}
)


def is_thanks(text: str) -> bool:
    """Whether ``text`` is only a thank-you ("Thanks!", "muchas gracias")."""
    return len(text) <= 40 and normalize(text) in _THANKS


def language_of(text: str) -> str | None:
    """``"es"`` for a keyword only Spanish uses (the reply's language), else None."""
    return "es" if len(text) <= 40 and normalize(text) in _SPANISH_WORDS else None


def classify(channel: Channel | str, text: str) -> Keyword | None:
    """The keyword ``text`` is on ``channel``; ``None`` for other texts and channels."""
    if len(text) > 40:
        return None
    if Channel(channel) in COMMAND_OPT_OUT_CHANNELS:
        return _command_keyword(text)
    if Channel(channel) not in KEYWORD_CHANNELS:
        return None
    if text.lstrip().startswith("/"):
        return _command_keyword(text)
    word = normalize(text)
    if word in OPT_OUT_WORDS:
        return Keyword.OPT_OUT
    if word in OPT_IN_WORDS:
        return Keyword.OPT_IN
    if word in HELP_WORDS:
        return Keyword.HELP
    return None


def _command_keyword(text: str) -> Keyword | None:
    """``/stop`` and ``/start`` (with or without ``@botname``, no argument): on Telegram and the
    console, and on SMS and WhatsApp as their STOP and START."""
    head, _, arg = text.strip().partition(" ")
    name = head.split("@", 1)[0].lower()
    if name == "/stop" and not arg.strip():
        return Keyword.OPT_OUT
    if name == "/start" and not arg.strip():
        return Keyword.OPT_IN
    return None


def is_plain_start(channel: Channel | str, text: str) -> bool:
    """Whether an opt-in keyword that finds nothing opted out is the ordinary START / /start."""
    if Channel(channel) in COMMAND_OPT_OUT_CHANNELS:
        return True
    return normalize(text) in {"START", "/START"}
