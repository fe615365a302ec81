"""Telegram and Twilio inbound updates become channel-agnostic events; statuses only advance."""

from __future__ import annotations

import pytest

from platforms.base import Channel, InboundKind
from platforms.telegram import parse_update
from platforms.twilio_inbound import (
    StatusUpdate,
    is_valid_signature,
    merge_status,
    parse_twilio_inbound,
    parse_twilio_status,
    status_rank,
)
from tests.fakes.fake_telegram import (
    callback_update,
    contact_update,
    location_update,
    text_update,
)
from tests.fakes.fake_twilio import inbound_form, status_form

# -- Telegram ---------------------------------------------------------------------------


def test_telegram_text() -> None:
    update = text_update(4242, "hello", first_name="Ana", language_code="es")
    event = parse_update(update)
    assert event is not None
    assert event.channel is Channel.TELEGRAM
    assert event.kind is InboundKind.TEXT
    assert event.provider_id == str(update["update_id"])
    assert event.chat_address == "4242"
    assert event.text == "hello"
    assert event.display_name == "Ana"
    assert event.language_code == "es"


def test_telegram_command_is_text() -> None:
    event = parse_update(text_update(4242, "/start abc"))
    assert event is not None and event.kind is InboundKind.TEXT and event.text == "/start abc"


def test_telegram_button_press() -> None:
    update = callback_update(4242, "t:ab12", message_id=1007)
    event = parse_update(update)
    assert event is not None
    assert event.kind is InboundKind.BUTTON
    assert event.button_data == "t:ab12"
    assert event.reply_to_message_id == "1007"
    assert event.callback_query_id == update["callback_query"]["id"]
    assert event.chat_address == "4242"


def test_telegram_own_contact_carries_the_number() -> None:
    event = parse_update(contact_update(4242, "34600111222"))
    assert event is not None
    assert event.kind is InboundKind.CONTACT
    assert event.phone_number == "+34600111222"


def test_telegram_someone_elses_contact_carries_no_number() -> None:
    event = parse_update(contact_update(4242, "+34600111222", own=False))
    assert event is not None
    assert event.kind is InboundKind.CONTACT
    assert event.phone_number is None


def test_telegram_location() -> None:
    event = parse_update(location_update(4242, 40.4168, -3.7038))
    assert event is not None
    assert event.kind is InboundKind.LOCATION
    assert (event.latitude, event.longitude) == (40.4168, -3.7038)


@pytest.mark.parametrize(
    "update",
    [
        {"update_id": 1, "edited_message": text_update(1, "x")["message"]},
        {
            "update_id": 2,
            "my_chat_member": {
                "chat": {"id": 1, "type": "private", "first_name": "A"},
                "from": {"id": 1, "is_bot": False, "first_name": "A"},
                "date": 1700000000,
                "old_chat_member": {
                    "status": "member",
                    "user": {"id": 9, "is_bot": True, "first_name": "B"},
                },
                "new_chat_member": {
                    "status": "kicked",
                    "until_date": 0,
                    "user": {"id": 9, "is_bot": True, "first_name": "B"},
                },
            },
        },
        {
            "update_id": 3,
            "message": {
                "message_id": 5,
                "date": 1700000000,
                "chat": {"id": 1, "type": "private", "first_name": "A"},
                "sticker": {
                    "file_id": "f",
                    "file_unique_id": "u",
                    "width": 1,
                    "height": 1,
                    "is_animated": False,
                    "is_video": False,
                    "type": "regular",
                },
            },
        },
    ],
    ids=["edited", "member-update", "sticker"],
)
def test_telegram_updates_we_ignore(update: dict) -> None:
    assert parse_update(update) is None


# -- Twilio inbound -------------------------------------------------------------------------


def test_sms_text() -> None:
    form = inbound_form("+14155552671", "1")
    event = parse_twilio_inbound(form)
    assert event.channel is Channel.SMS
    assert event.kind is InboundKind.TEXT
    assert event.chat_address == "+14155552671"
    assert event.text == "1"
    assert event.provider_id == form["MessageSid"]


def test_whatsapp_text_has_bare_address_and_profile_name() -> None:
    event = parse_twilio_inbound(inbound_form("whatsapp:+14155552671", "hola", profile_name="Ana"))
    assert event.channel is Channel.WHATSAPP
    assert event.chat_address == "+14155552671"
    assert event.display_name == "Ana"
    assert event.text == "hola"


def test_whatsapp_quick_reply_is_a_button() -> None:
    form = inbound_form(
        "whatsapp:+14155552671", "Taken", button_payload="t:ab12", button_text="Taken"
    )
    event = parse_twilio_inbound(form)
    assert event.kind is InboundKind.BUTTON
    assert event.button_data == "t:ab12"
    assert event.text == "Taken"


def test_whatsapp_location() -> None:
    form = inbound_form("whatsapp:+14155552671", latitude=19.43, longitude=-99.13)
    event = parse_twilio_inbound(form)
    assert event.kind is InboundKind.LOCATION
    assert (event.latitude, event.longitude) == (19.43, -99.13)


def test_a_file_without_text_is_media_and_with_a_caption_its_text() -> None:
    voice = parse_twilio_inbound(inbound_form("whatsapp:+14155552671", "", media="audio/ogg"))
    assert (voice.kind, voice.text) == (InboundKind.MEDIA, "")
    photo = parse_twilio_inbound(inbound_form("+14155552671", " ", media="image/jpeg"))
    assert photo.kind is InboundKind.MEDIA
    caption = parse_twilio_inbound(inbound_form("+14155552671", "taken", media="image/jpeg"))
    assert (caption.kind, caption.text) == (InboundKind.TEXT, "taken")


def test_inbound_without_from_is_rejected() -> None:
    with pytest.raises(ValueError, match="From"):
        parse_twilio_inbound({"Body": "hi"})


# -- Twilio status callbacks ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("twilio_status", "ours"),
    [
        ("queued", "sent"),
        ("accepted", "sent"),
        ("sending", "sent"),
        ("sent", "sent"),
        ("delivered", "delivered"),
        ("read", "delivered"),
        ("undelivered", "undelivered"),
        ("failed", "failed"),
        ("canceled", "failed"),
    ],
)
def test_status_mapping(twilio_status: str, ours: str) -> None:
    update = parse_twilio_status(status_form("SM1", twilio_status))
    assert update == StatusUpdate(
        provider_message_id="SM1", status=ours, channel=Channel.SMS, provider_status=twilio_status
    )


def test_status_error_code_and_whatsapp_channel() -> None:
    form = status_form("SM2", "undelivered", to="whatsapp:+14155552671", error_code=63016)
    update = parse_twilio_status(form)
    assert update.error_code == "63016"
    assert update.channel is Channel.WHATSAPP


def test_status_without_sid_is_rejected() -> None:
    with pytest.raises(ValueError, match="MessageSid"):
        parse_twilio_status({"MessageStatus": "sent"})


@pytest.mark.parametrize(
    ("current", "incoming", "result"),
    [
        (None, "sent", "sent"),
        ("processing", "sent", "sent"),
        ("sent", "delivered", "delivered"),
        ("delivered", "sent", "delivered"),  # a late "sent" never undoes "delivered"
        ("sent", "sent", "sent"),
        ("sent", "failed", "failed"),
        ("failed", "delivered", "failed"),
        ("undelivered", "sent", "undelivered"),
        ("delivered", "undelivered", "delivered"),
    ],
)
def test_status_never_moves_backwards(current: str | None, incoming: str, result: str) -> None:
    assert merge_status(current, incoming) == result


def test_status_rank_order() -> None:
    ranks = [status_rank(s) for s in ("pending", "sent", "delivered", "failed")]
    assert ranks == sorted(ranks)
    assert status_rank("undelivered") == status_rank("failed")


def test_signature_validation() -> None:
    from twilio.request_validator import RequestValidator

    url = "https://medremind.example.org/twilio/inbound"
    form = inbound_form("+14155552671", "hi")
    signature = RequestValidator("token").compute_signature(url, form)
    assert is_valid_signature("token", url, form, signature)
    assert not is_valid_signature("other", url, form, signature)
    assert not is_valid_signature("token", url, {**form, "Body": "bye"}, signature)
