"""The question a sent message asks (scheduler.questions.asked_question), and the cheap check
that button data answers a dose or an appointment (core.answer_buttons)."""

from __future__ import annotations

import json
import uuid

import pytest

from core.answer_buttons import (
    answers_dose_or_appointment,
    default_options,
    parse_appointment_data,
    parse_dose_data,
)
from platforms.base import Channel, Option, OutboundMessage, Receipt
from scheduler.questions import asked_question, question_parts, shows_numbers

DOSE = uuid.uuid4()
HEX = DOSE.hex


def test_the_check_accepts_exactly_what_the_parsers_accept() -> None:
    samples = [
        f"d:{HEX}:t",
        f"d:{HEX}:k",
        f"d:{HEX}:s",
        f"d:{HEX}:s30",
        f"d:{HEX}:s1234",
        f"a:{HEX}:c",
        f"a:{HEX}:q",
        f"w:{HEX}:y",
        f"d:{HEX[:-1]}:t",
        f"d:{HEX.upper()}:t",
        "taken",
        "",
    ]
    for data in samples:
        parsed = parse_dose_data(data) or parse_appointment_data(data)
        assert answers_dose_or_appointment(data) == (parsed is not None), data


def _message(options: tuple[Option, ...]) -> OutboundMessage:
    return OutboundMessage(text="Time for your dose", options=options, kind="medication_reminder")


def test_a_reminder_offer_or_mixture_makes_its_question_or_none() -> None:
    reminder = tuple(
        Option(label=k.title(), data=d)
        for k, d in default_options("medication_reminder", DOSE, None)
    )
    sms = Receipt("SM1", Channel.SMS)
    recorded = asked_question(Channel.SMS, "+15550001", _message(reminder), sms)
    assert recorded is not None
    question = json.loads(recorded)
    assert [o["keys"] for o in question["options"]] == [["1"], ["2"], ["3"]]
    assert "slot_offer" not in question

    offer = uuid.uuid4()
    accept = (Option("Accept", f"w:{offer.hex}:y"), Option("No thanks", f"w:{offer.hex}:n"))
    recorded = asked_question(Channel.SMS, "+15550001", _message(accept), sms)
    assert recorded is not None and json.loads(recorded)["slot_offer"] == str(offer)

    two_offers = (accept[0], Option("Other", f"w:{uuid.uuid4().hex}:y"))
    mixed = (reminder[0], accept[0])
    unknown = (Option("Hi", "hello"),)
    for options in (two_offers, mixed, unknown):
        assert asked_question(Channel.SMS, "+15550001", _message(options), sms) is None


def _as_json_dumps_writes_it(
    channel: Channel, address: str, message: OutboundMessage, numbers: bool, offer: str | None
) -> str:
    """The question as the dict json.dumps used to write (before issue 20 spelled it out)."""
    shown = []
    for index, option in enumerate(message.options):
        keys = message.reply_keys[index].split("/") if message.reply_keys else []
        if numbers:
            keys.append(str(index + 1))
        shown.append({"label": option.label, "data": option.data, "keys": keys})
    question: dict[str, object] = {"channel": str(channel), "address": address, "options": shown}
    if offer is not None:
        question["slot_offer"] = offer
    return json.dumps(question)


@pytest.mark.parametrize(
    "channel", [Channel.TELEGRAM, Channel.SMS, Channel.WHATSAPP, Channel.EMAIL, Channel.CONSOLE]
)
def test_the_question_is_the_json_that_json_dumps_writes_byte_for_byte(channel: Channel) -> None:
    appointment = uuid.uuid4()
    labels = ["Tomé", 'Say "yes"', "back\\slash", "tab\there", "日本語", "emoji 💊", "\ud800 lone"]
    offer = uuid.uuid4()
    cases: list[tuple[OutboundMessage, str | None]] = []
    for label in labels:
        dose = tuple(
            Option(label=f"{label} {k}", data=d)
            for k, d in default_options("medication_reminder", DOSE, None)
        )
        appt = tuple(
            Option(label=label, data=d)
            for _, d in default_options("appointment_reminder", None, appointment)
        )
        accept = (
            Option(label=label, data=f"w:{offer.hex}:y"),
            Option(label="No", data=f"w:{offer.hex}:n"),
        )
        cases += [
            (_message(dose), None),
            (OutboundMessage(text="x", options=appt, reply_keys=("1/C", "2/R", "3/X")), None),
            (_message(accept), str(offer)),
        ]
    for receipt in (Receipt("id", channel), Receipt("id", channel, {"mode": "quick_reply"})):
        for address in ("+15550001", "500000001", 'p"1"@example.org', "\u00e9\n"):
            for message, slot_offer in cases:
                numbers = not message.reply_keys and shows_numbers(channel, receipt)
                expected = _as_json_dumps_writes_it(channel, address, message, numbers, slot_offer)
                assert asked_question(channel, address, message, receipt) == expected
                # The same from the parts the render-ahead works out before the send.
                parts = question_parts(message)
                assert asked_question(channel, address, message, receipt, parts) == expected
