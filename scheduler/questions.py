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


def asked_question(
    channel: Channel, address: str, message: OutboundMessage, receipt: Receipt
) -> str | None:
    """The recorded question of a sent message as JSON, or None when it asks nothing answerable.

    Only options that answer a dose, an appointment or a slot offer (``d:``/``a:``/``w:`` data)
    make a question. An offer's question names the offered recipient row (``slot_offer``): the
    offer message has no dose or appointment of its own to hang it on.
    """
    options = message.options
    if channel in APP_CHANNELS or not options:
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
    numbers = not message.reply_keys and shows_numbers(channel, receipt)
    # The JSON json.dumps writes (its separators, ASCII escapes), spelled out: json.dumps of this
    # dict took ~4 us of the ~8 us this function cost every reminder (issue 20); the strings are
    # escaped by the function json.dumps itself uses. tests/unit/test_asked_question.py holds it
    # to json.dumps byte for byte.
    shown = []
    for index, option in enumerate(options):
        # A reply key may name alternatives: "1/C" (the text says "reply 1 or C").
        keys = message.reply_keys[index].split("/") if message.reply_keys else []
        if numbers:
            keys.append(str(index + 1))
        shown.append(
            f'{{"label": {_quoted(option.label)}, "data": {_quoted(option.data)}, '
            f'"keys": [{", ".join(map(_quoted, keys))}]}}'
        )
    question = (
        f'{{"channel": {_quoted(str(channel))}, "address": {_quoted(address)}, '
        f'"options": [{", ".join(shown)}]'
    )
    if offers:
        question += f', "slot_offer": {_quoted(str(next(iter(offers))))}'
    return question + "}"


# A JSON string literal, as json.dumps (ensure_ascii) writes it.
_quoted = json.encoder.encode_basestring_ascii
