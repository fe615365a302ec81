"""Opt-out, opt-in and help keywords, handled before any dialog.

SMS and WhatsApp: the carrier keywords. A keyword is the whole message: one word, any case,
surrounding and inner spaces ignored ("  s t o p " is STOP). Anything longer is not a keyword, so
"stop reminding me at 8" goes to the dialog instead of silently opting the patient out.

Telegram: the commands ``/stop`` (opt out) and ``/start`` (opt back in when opted out; otherwise the
ordinary ``/start``), so a Telegram patient can stop every message as an SMS patient can.
"""

from __future__ import annotations

import enum

from platforms.base import Channel


class Keyword(enum.StrEnum):
    """What a keyword asks for."""

    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


OPT_OUT_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
# YES only opts back in when the contact point is opted out (it is an ordinary answer otherwise).
OPT_IN_WORDS = frozenset({"START", "YES", "UNSTOP"})
# AYUDA: the bot speaks Spanish; a help request in the patient's language gets the same answer.
HELP_WORDS = frozenset({"HELP", "INFO", "AYUDA"})

KEYWORD_CHANNELS = frozenset({Channel.SMS, Channel.WHATSAPP})
# Channels whose patients opt out with the /stop command.
COMMAND_OPT_OUT_CHANNELS = frozenset({Channel.TELEGRAM})
# Every channel on which a patient can opt out: nothing but an opt-in is answered meanwhile.
OPT_OUT_CHANNELS = KEYWORD_CHANNELS | COMMAND_OPT_OUT_CHANNELS


def normalize(text: str) -> str:
    """Upper case with every whitespace character removed."""
    return "".join(text.split()).upper()


def classify(channel: Channel | str, text: str) -> Keyword | None:
    """The keyword ``text`` is on ``channel``; ``None`` for other texts and channels."""
    if len(text) > 40:
        return None
    if Channel(channel) in COMMAND_OPT_OUT_CHANNELS:
        return _command_keyword(text)
    if Channel(channel) not in KEYWORD_CHANNELS:
        return None
    word = normalize(text)
    if word in OPT_OUT_WORDS:
        return Keyword.OPT_OUT
    if word in OPT_IN_WORDS:
        return Keyword.OPT_IN
    if word in HELP_WORDS:
        return Keyword.HELP
    return None


def _command_keyword(text: str) -> Keyword | None:
    """``/stop`` and ``/start`` (with or without ``@botname``, no argument) on Telegram."""
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
    return normalize(text) == "START"
