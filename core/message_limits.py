"""Channel limits on a message's length, and options written as numbered replies.

SMS counts GSM-7 or UCS-2 segments (160/153 septets, 70/67 UTF-16 code units), WhatsApp 1,600 and
Telegram 4,096 characters; :func:`channel_limit_problem` says how a text exceeds its channel's.
Numbered replies ("1 Taken") are how SMS, WhatsApp without buttons and the console show options.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from core.messages import Channel, Option
from core.template_language import GSM7_BASIC, GSM7_EXTENSION

TELEGRAM_MAX_CHARS = 4096  # Bot API sendMessage limit
WHATSAPP_MAX_CHARS = 1600  # Twilio's body limit for WhatsApp
EMAIL_SUBJECT_MAX_CHARS = 120  # long subjects are cut by most clients anyway
DEFAULT_SMS_MAX_SEGMENTS = 3

_GSM7_BASIC = GSM7_BASIC  # GSM 03.38, kept with the template language
_GSM7_EXTENSION = GSM7_EXTENSION
_GSM7_ALL = _GSM7_BASIC | _GSM7_EXTENSION
GSM7 = "GSM-7"
UCS2 = "UCS-2"
# The same sets as character classes: one pass of the regular expression engine over a text
# rather than a set built from its characters and a count per extension character (count_segments
# ran for every SMS and WhatsApp render and again in the SMS adapter; issue 20).
_NOT_GSM7 = re.compile("[^" + "".join(re.escape(ch) for ch in sorted(_GSM7_ALL)) + "]")
_TWO_SEPTETS = re.compile("[" + "".join(re.escape(ch) for ch in sorted(_GSM7_EXTENSION)) + "]")
# Channels as plain strings (an Enum member's lookup costs more than the comparison).
_SMS, _WHATSAPP, _TELEGRAM = Channel.SMS.value, Channel.WHATSAPP.value, Channel.TELEGRAM.value


class MessageTooLong(ValueError):
    """A rendered message exceeds its channel's limit; the text says by how much."""

    def __init__(self, channel: str, detail: str) -> None:
        super().__init__(f"message too long for {channel}: {detail}")
        self.channel = channel


# --------------------------------------------------------------------------------------------
# SMS segments


def count_segments(text: str) -> tuple[str, int]:
    """Return ``(encoding, segments)`` for an SMS body: ``"GSM-7"`` or ``"UCS-2"``.

    GSM-7 fits 160 septets in one segment, 153 per segment when concatenated; extension characters
    (``^{}\\[~]|€``) take two septets and are never split across segments. UCS-2 fits 70 UTF-16
    code units, 67 when concatenated; surrogate pairs are never split. An empty body is 1 segment.
    """
    if _NOT_GSM7.search(text) is None:
        # A reminder fits one segment: counted without a cost per character (issue 20).
        if len(text) + len(_TWO_SEPTETS.findall(text)) <= 160:
            return GSM7, 1
        costs = [2 if ch in _GSM7_EXTENSION else 1 for ch in text]
        return GSM7, _segments(costs, single=160, multi=153)
    costs = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    return UCS2, _segments(costs, single=70, multi=67)


def _segments(costs: list[int], *, single: int, multi: int) -> int:
    total = sum(costs)
    if total <= single:
        return 1
    # Greedy fill, so a two-septet character or a surrogate pair never straddles two segments.
    segments, used = 1, 0
    for cost in costs:
        if used + cost > multi:
            segments += 1
            used = 0
        used += cost
    return segments


# --------------------------------------------------------------------------------------------
# Options as numbered replies (SMS, WhatsApp, console)


def format_numbered_options(options: Sequence[Option]) -> str:
    """Render options as numbered replies: ``"1 Taken\\n2 Snooze"``."""
    return "\n".join([f"{number} {option.label}" for number, option in enumerate(options, 1)])


def with_numbered_options(text: str, options: Sequence[Option]) -> str:
    """``text`` followed by a blank line and the numbered replies, if there are options; the
    replies alone when there is no text (the last part of a reply split to fit the SMS cap began
    with two empty lines)."""
    if not options:
        return text
    if not text:
        return format_numbered_options(options)
    return f"{text}\n\n{format_numbered_options(options)}"


def match_numbered_reply(reply: str, options: Sequence[Option]) -> Option | None:
    """The option a numeric reply picks ("2", " 2. ", "#2"), or ``None`` when it picks none."""
    match = re.fullmatch(r"\s*#?\s*(\d{1,2})\s*[.)]?\s*", reply)
    if not match:
        return None
    number = int(match.group(1))
    return options[number - 1] if 1 <= number <= len(options) else None


def channel_limit_problem(
    channel: str, text: str, *, sms_max_segments: int = DEFAULT_SMS_MAX_SEGMENTS
) -> str | None:
    """Describe how ``text`` exceeds ``channel``'s limit, or return ``None`` when it fits."""
    channel = str(channel)
    if channel == _SMS:
        encoding, segments = count_segments(text)
        if segments > sms_max_segments:
            return (
                f"{segments} {encoding} segments ({len(text)} characters), "
                f"at most {sms_max_segments} allowed"
            )
    elif channel == _WHATSAPP and len(text) > WHATSAPP_MAX_CHARS:
        return f"{len(text)} characters, at most {WHATSAPP_MAX_CHARS} allowed"
    elif channel == _TELEGRAM and len(text) > TELEGRAM_MAX_CHARS:
        return f"{len(text)} characters, at most {TELEGRAM_MAX_CHARS} allowed"
    return None
