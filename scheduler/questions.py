"""The question a sent reminder asks, as the conversation engine's answer router reads it.

A reminder, follow-up, appointment message or waitlist slot offer that offers answers is recorded
on its chat
(``conversation_questions``, written with the send's outcome) with the options it showed and, for
each, the typed replies the patient saw: its number where the channel appended the options as
numbered replies, its letter where the text asks for letters (the SMS appointment texts). The bot
then accepts exactly those, plus the option's words (``bot.routing``).
"""

from __future__ import annotations

import json
from typing import NamedTuple
from uuid import UUID

from core.answer_buttons import answers_dose_or_appointment, parse_offer_data
from platforms.base import Channel, OutboundMessage, Receipt

# Channels that append options to the text as numbered replies ("1 Taken").
NUMBERED_CHANNELS = frozenset({Channel.SMS, Channel.CONSOLE, Channel.EMAIL})
# The patient app's channels are no chat: their buttons answer through the app's own endpoints,
# naming the dose or appointment, so nothing typed needs routing there.
APP_CHANNELS = frozenset({Channel.WEBPUSH, Channel.WEBSOCKET})


def shows_numbers(channel: Channel, receipt: Receipt) -> bool:
    """Whether the options went out as numbered replies (WhatsApp: unless sent as buttons)."""
    if channel == Channel.WHATSAPP:
        return receipt.response.get("mode") != "quick_reply"
    return channel in NUMBERED_CHANNELS


class QuestionParts(NamedTuple):
    """The parts of a message's recorded question that do not depend on where it went: its
    options as JSON with numbered replies and without, and the slot offer it names (a JSON
    member, or ""). Computed before the send for a text rendered ahead
    (scheduler.render_ahead): ~4 us of every reminder at 08:00 otherwise (issue 20)."""

    numbered: str
    plain: str
    offer: str


def question_parts(message: OutboundMessage) -> QuestionParts | None:
    """The channel-free parts of the question ``message`` asks, or None when it asks nothing
    answerable.

    Only options that answer a dose, an appointment or a slot offer (``d:``/``a:``/``w:`` data)
    make a question. An offer's question names the offered recipient row (``slot_offer``): the
    offer message has no dose or appointment of its own to hang it on.
    """
    options = message.options
    if not options:
        return None
    offers: set[UUID] = set()
    answers = True  # a loop, not all() over a generator: ~0.3 us less per reminder
    for option in options:
        if not answers_dose_or_appointment(option.data):
            answers = False
            break
    if not answers:  # a reminder's options answer its dose or appointment: no offer
        parsed = [parse_offer_data(o.data) for o in options]
        # All options answer one offer (Accept / No thanks), or this is no question we route.
        offers = {p[0] for p in parsed if p}
        if len(offers) != 1 or not all(parsed):
            return None
    # The JSON json.dumps writes (its separators, ASCII escapes), spelled out: json.dumps of this
    # dict took ~4 us of the ~8 us this function cost every reminder (issue 20); the strings are
    # escaped by the function json.dumps itself uses. tests/unit/test_asked_question.py holds it
    # to json.dumps byte for byte.
    numbered, plain = [], []
    for index, option in enumerate(options):
        head = f'{{"label": {_quoted(option.label)}, "data": {_quoted(option.data)}, "keys": ['
        if message.reply_keys:
            # A reply key may name alternatives: "1/C" (the text says "reply 1 or C"); the
            # options are then never numbered.
            keys = ", ".join(map(_quoted, message.reply_keys[index].split("/")))
            numbered.append(f"{head}{keys}]}}")
            plain.append(numbered[-1])
        else:
            numbered.append(f'{head}"{index + 1}"]}}')
            plain.append(f"{head}]}}")
    offer = f', "slot_offer": {_quoted(str(next(iter(offers))))}' if offers else ""
    return QuestionParts(", ".join(numbered), ", ".join(plain), offer)


def asked_question(
    channel: Channel,
    address: str,
    message: OutboundMessage,
    receipt: Receipt,
    parts: QuestionParts | None = None,
) -> str | None:
    """The recorded question of a sent message as JSON, or None when it asks nothing answerable
    (see :func:`question_parts`; ``parts``: those of ``message``, computed before the send)."""
    if channel in APP_CHANNELS or not message.options:
        return None
    if parts is None:
        parts = question_parts(message)
        if parts is None:
            return None
    numbers = not message.reply_keys and shows_numbers(channel, receipt)
    return (
        f'{{"channel": {_quoted(str(channel))}, "address": {_quoted(address)}, '
        f'"options": [{parts.numbered if numbers else parts.plain}]{parts.offer}}}'
    )


# A JSON string literal, as json.dumps (ensure_ascii) writes it.
_quoted = json.encoder.encode_basestring_ascii
