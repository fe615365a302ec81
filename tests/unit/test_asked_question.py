"""The question a sent message asks (scheduler.questions.asked_question), and the cheap check
that button data answers a dose or an appointment (core.answer_buttons)."""

from __future__ import annotations

import json
import uuid

from core.answer_buttons import (
    answers_dose_or_appointment,
    default_options,
    parse_appointment_data,
    parse_dose_data,
)
from platforms.base import Channel, Option, OutboundMessage, Receipt
from scheduler.questions import asked_question

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
