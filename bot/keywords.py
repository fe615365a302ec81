"""Carrier keywords for SMS and WhatsApp, handled before any dialog.

A keyword is the whole message: one word, any case, surrounding and inner spaces ignored
("  s t o p " is STOP). Anything longer is not a keyword, so "stop reminding me at 8" goes to the
dialog instead of silently opting the patient out.
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
HELP_WORDS = frozenset({"HELP", "INFO"})

KEYWORD_CHANNELS = frozenset({Channel.SMS, Channel.WHATSAPP})


def normalize(text: str) -> str:
    """Upper case with every whitespace character removed."""
    return "".join(text.split()).upper()


def classify(channel: Channel | str, text: str) -> Keyword | None:
    """The keyword ``text`` is on ``channel``; ``None`` for other texts and channels."""
    if Channel(channel) not in KEYWORD_CHANNELS or len(text) > 40:
        return None
    word = normalize(text)
    if word in OPT_OUT_WORDS:
        return Keyword.OPT_OUT
    if word in OPT_IN_WORDS:
        return Keyword.OPT_IN
    if word in HELP_WORDS:
        return Keyword.HELP
    return None
