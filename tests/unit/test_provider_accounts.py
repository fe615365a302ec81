"""What an admin may enter for a clinic's provider account, and the key that seals its secret."""

from __future__ import annotations

import pytest

from core.credentials import SecretBox, SecretUnreadable, hint, looks_encrypted, new_key
from core.settings import SettingsError, load_settings
from platforms.base import Channel
from platforms.provider_accounts import AccountProblem, parse_account

SID = "AC" + "12" * 16
SERVICE = "MG" + "34" * 16


@pytest.mark.parametrize(
    ("channel", "fields", "field"),
    [
        ("fax", {}, "channel"),
        ("telegram", {}, "token"),
        ("telegram", {"token": "123:short"}, "token"),
        ("telegram", {"token": "123456:CLINIC-bot-token-abcdefghijklmn", "chat": 1}, "chat"),
        ("sms", {"auth_token": "t", "from_number": "+14155550100"}, "account_sid"),
        ("sms", {"account_sid": "AC12", "auth_token": "t", "from_number": "+1"}, "account_sid"),
        ("sms", {"account_sid": SID, "from_number": "+14155550100"}, "auth_token"),
        ("sms", {"account_sid": SID, "auth_token": "t"}, "from_number"),
        ("sms", {"account_sid": SID, "auth_token": "t", "from_number": "12"}, "from_number"),
        ("sms", {"account_sid": SID, "auth_token": "t", "messaging_service_sid": "MG1"},
         "messaging_service_sid"),
        ("sms", {"account_sid": SID, "auth_token": 5, "from_number": "+14155550100"},
         "auth_token"),
        ("sms", {"account_sid": SID, "auth_token": "t", "from_number": "+14155550100", "x": 1},
         "x"),
        ("whatsapp", {"account_sid": SID, "auth_token": "t"}, "from_number"),
        ("whatsapp", {"account_sid": SID, "auth_token": "t", "from_number": "+14155550100",
                      "content_sids": {"appointment_reminder": "HX1"}}, "content_sids"),
        ("email", {"port": 587, "from_address": "a@b.test"}, "host"),
        ("email", {"host": "smtp.test", "port": 0, "from_address": "a@b.test"}, "port"),
        ("email", {"host": "smtp.test", "port": True, "from_address": "a@b.test"}, "port"),
        ("email", {"host": "smtp.test", "security": "ssl", "from_address": "a@b.test"},
         "security"),
        ("email", {"host": "smtp.test", "from_address": "nobody"}, "from_address"),
        ("email", {"host": "smtp.test", "from_address": "a@b.test", "password": "p"},
         "username"),
        ("email", {"host": "smtp.test", "from_address": "a@b.test", "username": "u"},
         "password"),
        ("email", {"host": "smtp test", "from_address": "a@b.test"}, "host"),
        ("sms", {"account_sid": SID, "auth_token": "t" * 501, "from_number": "+14155550100"},
         "auth_token"),
    ],
)  # fmt: skip
def test_a_bad_field_is_named(channel: str, fields: dict, field: str) -> None:
    with pytest.raises(AccountProblem) as problem:
        parse_account(channel, fields)
    assert problem.value.field == field
    assert problem.value.reason


def test_secrets_are_kept_apart_from_the_rest() -> None:
    sms = parse_account(
        "sms",
        {"account_sid": SID, "auth_token": " tok ", "messaging_service_sid": SERVICE},
    )
    assert sms.config == {"account_sid": SID, "messaging_service_sid": SERVICE}
    assert sms.secrets == {"auth_token": "tok"}
    assert "tok" not in repr(sms)
    wa = parse_account(
        "whatsapp",
        {"account_sid": SID, "auth_token": "t", "from_number": "whatsapp:+1 415 555 0100"},
    )
    assert (wa.channel, wa.inbound_number) == (Channel.WHATSAPP, "+14155550100")
    mail = parse_account(
        "email", {"host": "smtp.test", "port": "465", "from_address": "Clinic <c@clinic.test>"}
    )
    assert mail.config["security"] == "tls"  # 465 is implicit TLS unless told otherwise
    assert mail.secrets == {}


def test_rotation_keeps_old_tokens_readable() -> None:
    old, new = new_key(), new_key()
    sealed = SecretBox(old).seal({"auth_token": "abc"})
    assert looks_encrypted(sealed) and "abc" not in sealed
    both = SecretBox(f"{new}, {old}")
    assert both.open(sealed) == {"auth_token": "abc"}
    rotated = both.rotate(sealed)
    assert SecretBox(new).open(rotated) == {"auth_token": "abc"}
    with pytest.raises(SecretUnreadable):
        SecretBox(new).open(sealed)
    with pytest.raises(SecretUnreadable):
        SecretBox(old).open("not a token")


def test_a_bad_key_is_refused_without_echoing_it() -> None:
    good = new_key()
    with pytest.raises(SettingsError) as refused:
        load_settings({"MEDREMIND_CREDENTIALS_KEY": f"{good},not-a-key-xyz"})
    message = str(refused.value)
    assert "MEDREMIND_CREDENTIALS_KEY" in message and "key 2 of 2" in message
    assert "not-a-key-xyz" not in message and good not in message


def test_hint_shows_only_a_tail() -> None:
    assert hint("0123456789abcdef") == "****cdef"
    assert hint("short") == "****"


def test_an_inbound_message_names_the_number_and_service_it_reached() -> None:
    from platforms.twilio_inbound import parse_twilio_inbound
    from tests.fakes.fake_twilio import inbound_form

    form = inbound_form("whatsapp:+14155550142", "hi", to="+14155550199")
    event = parse_twilio_inbound(form | {"MessagingServiceSid": SERVICE})
    assert (event.to_address, event.to_service) == ("+14155550199", SERVICE)


@pytest.mark.parametrize(
    ("channel", "field", "reason"),
    [
        ("sms", "from", "unknown field for sms; did you mean from_number?"),
        ("email", "passwd", "unknown field for email; did you mean password?"),
        ("telegram", "bot_token", "unknown field for telegram; did you mean token?"),
        (
            "email",
            "colour",
            "unknown field for email; known fields: from_address, host, password, port,"
            " security, username",
        ),
    ],
)
def test_an_unknown_field_names_what_was_meant(channel: str, field: str, reason: str) -> None:
    with pytest.raises(AccountProblem) as problem:
        parse_account(channel, {field: "x"})
    assert (problem.value.field, problem.value.reason) == (field, reason)
