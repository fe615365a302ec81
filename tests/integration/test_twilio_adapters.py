"""SMS and WhatsApp adapters against the loopback Twilio REST API (real HTTP, real twilio SDK)."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from twilio.base.exceptions import TwilioRestException

from core.templating import count_segments
from platforms.base import (
    ConfigurationError,
    ContactEffect,
    CredentialsRefusedError,
    DeliveryError,
    Option,
    OutboundMessage,
    PermanentError,
    RateLimitedError,
    TransientError,
)
from platforms.sms import SmsSender, match_numbered_reply
from platforms.twilio_client import BaseUrlHttpClient
from platforms.twilio_common import classify_twilio_error, parse_retry_after
from platforms.whatsapp import WhatsAppSender
from tests.fakes.fake_twilio import FakeTwilio
from tests.fakes.fixtures import fake_twilio  # noqa: F401

PATIENT = "+14155552671"
OUR_NUMBER = "+15017122661"
NOW = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
REMINDER = OutboundMessage(
    text="Time for your 8:00 PM dose.",
    options=(Option("Taken", "t:ab12"), Option("Snooze 15 min", "s:ab12"), Option("Skip", "k:1")),
    kind="medication_reminder",
    variables={"due_at": "Mar 4, 2025, 8:00 PM"},
)


@pytest.fixture
async def sms(fake_twilio: FakeTwilio) -> AsyncIterator[SmsSender]:  # noqa: F811
    sender = SmsSender(
        fake_twilio.account_sid,
        fake_twilio.auth_token,
        from_number=OUR_NUMBER,
        api_base_url=fake_twilio.base_url,
        status_callback="https://medremind.example.org/twilio/status",
        timeout=2,
    )
    yield sender
    await sender.aclose()


def whatsapp_sender(
    server: FakeTwilio,
    *,
    last_inbound: datetime | None = None,
    content_sids: dict[str, str] | None = None,
    use_lookup: bool = True,
) -> WhatsAppSender:
    async def lookup(number: str) -> datetime | None:
        assert number == PATIENT  # the bare E.164 form, as inbound parsing reports it
        return last_inbound

    return WhatsAppSender(
        server.account_sid,
        server.auth_token,
        from_number=f"whatsapp:{OUR_NUMBER}",
        content_sids=content_sids if content_sids is not None else {"medication_reminder": "HX1"},
        last_inbound_at=lookup if use_lookup else None,
        clock=lambda: NOW,
        api_base_url=server.base_url,
        timeout=2,
    )


# -- SMS --------------------------------------------------------------------------------


async def test_sms_carries_numbered_replies_and_status_callback(
    sms: SmsSender,
    fake_twilio: FakeTwilio,  # noqa: F811
) -> None:
    receipt = await sms.send(PATIENT, REMINDER)

    [call] = fake_twilio.messages
    assert call.to == PATIENT
    assert call.from_ == OUR_NUMBER
    assert call.body == "Time for your 8:00 PM dose.\n\n1 Taken\n2 Snooze 15 min\n3 Skip"
    assert call.status_callback == "https://medremind.example.org/twilio/status"
    assert receipt.provider_message_id == call.sid
    assert receipt.provider_message_id is not None
    assert receipt.provider_message_id.startswith("SM")
    assert receipt.response["segments"] == 1
    assert receipt.response["encoding"] == "GSM-7"


async def test_a_successful_send_logs_at_debug_only(
    sms: SmsSender,
    fake_twilio: FakeTwilio,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A JSON line per send at INFO cost as much CPU as the rest of the send (issue 20): the
    # attempt row and the sent counter record it; DEBUG still shows it.
    with caplog.at_level(logging.DEBUG, logger="platforms"):
        receipt = await sms.send(PATIENT, REMINDER)
        assert await whatsapp_sender(fake_twilio, last_inbound=NOW).send(
            f"whatsapp:{PATIENT}", REMINDER
        )
    sent = [r for r in caplog.records if " sent sid=" in r.getMessage()]
    assert len(sent) == 2 and {r.levelno for r in sent} == {logging.DEBUG}
    assert f"sid={receipt.provider_message_id} " in sent[0].getMessage()


async def test_sms_prefers_messaging_service(fake_twilio: FakeTwilio) -> None:  # noqa: F811
    sender = SmsSender(
        fake_twilio.account_sid,
        fake_twilio.auth_token,
        from_number=OUR_NUMBER,
        messaging_service_sid="MG" + "0" * 32,
        api_base_url=fake_twilio.base_url,
    )
    try:
        await sender.send("+1 (415) 555-2671", OutboundMessage(text="Hi"))
    finally:
        await sender.aclose()
    [call] = fake_twilio.messages
    assert call.messaging_service_sid == "MG" + "0" * 32
    assert call.from_ is None
    assert call.to == PATIENT  # normalised to E.164


@pytest.mark.parametrize("address", ["12345", "+1415555", "not a number", "+999123456789"])
async def test_invalid_number_fails_before_any_request(
    sms: SmsSender,
    fake_twilio: FakeTwilio,  # noqa: F811
    address: str,
) -> None:
    with pytest.raises(PermanentError) as caught:
        await sms.send(address, REMINDER)
    assert caught.value.effect is ContactEffect.INVALID
    assert fake_twilio.calls == []


async def test_a_number_of_a_range_our_copy_of_the_plans_lacks_goes_to_twilio(
    sms: SmsSender,
    fake_twilio: FakeTwilio,  # noqa: F811
) -> None:
    """+56 9 1234 5678 has a Chilean mobile's length, in a range libphonenumber's copy of the
    plans does not list: a patient who wrote from it is real, so the reply goes; Twilio, which
    knows the live plans, refuses a number that is not (21211: the same INVALID effect)."""
    await sms.send("+56912345678", REMINDER)
    [call] = fake_twilio.messages
    assert call.to == "+56912345678"


async def test_too_many_segments_is_refused_before_any_request(
    sms: SmsSender,
    fake_twilio: FakeTwilio,  # noqa: F811
) -> None:
    with pytest.raises(PermanentError) as caught:
        await sms.send(PATIENT, OutboundMessage(text="x" * (153 * 3 + 1)))
    assert caught.value.code == "too_many_segments"
    assert fake_twilio.calls == []


def test_sms_needs_a_sender() -> None:
    with pytest.raises(ConfigurationError):
        SmsSender("AC1", "token")


# -- the Twilio error table: one test per row ---------------------------------------------


@pytest.mark.parametrize(
    ("code", "effect"),
    [
        (21610, ContactEffect.OPT_OUT),
        (21211, ContactEffect.INVALID),
        (21614, ContactEffect.INVALID),
        (63014, ContactEffect.DEACTIVATE),
        (63016, ContactEffect.NONE),
    ],
)
async def test_permanent_codes(
    sms: SmsSender,
    fake_twilio: FakeTwilio,  # noqa: F811
    code: int,
    effect: ContactEffect,
) -> None:
    fake_twilio.fail_next(code)
    with pytest.raises(PermanentError) as caught:
        await sms.send(PATIENT, REMINDER)
    assert caught.value.effect is effect
    assert caught.value.code == str(code)
    assert PATIENT not in str(caught.value)  # no phone numbers in what gets logged or stored


async def test_template_required_says_so(
    sms: SmsSender,
    fake_twilio: FakeTwilio,  # noqa: F811
) -> None:
    fake_twilio.fail_next_template_required()
    with pytest.raises(PermanentError, match="template required"):
        await sms.send(PATIENT, REMINDER)


async def test_opted_out_recipient_stays_opted_out(
    sms: SmsSender,
    fake_twilio: FakeTwilio,  # noqa: F811
) -> None:
    fake_twilio.opt_out(PATIENT)
    for _ in range(2):
        with pytest.raises(PermanentError) as caught:
            await sms.send(PATIENT, REMINDER)
        assert caught.value.effect is ContactEffect.OPT_OUT


async def test_20429_uses_retry_after_header(
    sms: SmsSender,
    fake_twilio: FakeTwilio,  # noqa: F811
) -> None:
    fake_twilio.fail_next_rate_limited(retry_after=3)
    with pytest.raises(RateLimitedError) as caught:
        await sms.send(PATIENT, REMINDER)
    assert caught.value.retry_after == 3
    assert caught.value.code == "20429"


async def test_20429_without_header_waits_one_second(
    sms: SmsSender,
    fake_twilio: FakeTwilio,  # noqa: F811
) -> None:
    fake_twilio.fail_next_rate_limited()
    with pytest.raises(RateLimitedError) as caught:
        await sms.send(PATIENT, REMINDER)
    assert caught.value.retry_after == 1


async def test_http_429_with_another_code_is_rate_limited(
    sms: SmsSender,
    fake_twilio: FakeTwilio,  # noqa: F811
) -> None:
    fake_twilio.fail_next(14107, 429, "Message rate limit exceeded", retry_after=2.5)
    with pytest.raises(RateLimitedError) as caught:
        await sms.send(PATIENT, REMINDER)
    assert caught.value.retry_after == 2.5


async def test_per_second_limit(sms: SmsSender, fake_twilio: FakeTwilio) -> None:  # noqa: F811
    fake_twilio.rate_limit_per_second = 1
    await sms.send(PATIENT, REMINDER)
    with pytest.raises(RateLimitedError):
        await sms.send(PATIENT, REMINDER)


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_transient(
    sms: SmsSender,
    fake_twilio: FakeTwilio,  # noqa: F811
    status: int,
) -> None:
    fake_twilio.fail_next_server_error(status)
    with pytest.raises(TransientError):
        await sms.send(PATIENT, REMINDER)


async def test_network_error_is_transient() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sender = SmsSender(
        "AC1", "token", from_number=OUR_NUMBER, api_base_url=f"http://127.0.0.1:{port}"
    )
    try:
        with pytest.raises(TransientError):
            await sender.send(PATIENT, REMINDER)
    finally:
        await sender.aclose()


async def test_timeout_is_transient(fake_twilio: FakeTwilio) -> None:  # noqa: F811
    fake_twilio.latency = 0.5
    sender = SmsSender(
        fake_twilio.account_sid,
        fake_twilio.auth_token,
        from_number=OUR_NUMBER,
        api_base_url=fake_twilio.base_url,
        timeout=0.1,
    )
    try:
        with pytest.raises(TransientError):
            await sender.send(PATIENT, REMINDER)
    finally:
        await sender.aclose()


async def test_wrong_credentials_are_refused_credentials(
    fake_twilio: FakeTwilio,  # noqa: F811
) -> None:
    """A rotated auth token: the dispatcher holds the account's messages (not failed)."""
    sender = SmsSender(
        fake_twilio.account_sid,
        "wrong-token",
        from_number=OUR_NUMBER,
        api_base_url=fake_twilio.base_url,
    )
    try:
        with pytest.raises(CredentialsRefusedError) as caught:
            await sender.send(PATIENT, REMINDER)
    finally:
        await sender.aclose()
    assert caught.value.code == "20003"


def test_sdk_urls_are_rewritten_to_the_base_url() -> None:
    client = BaseUrlHttpClient("http://127.0.0.1:9999/")
    url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json"
    assert client.rewrite(url) == "http://127.0.0.1:9999/2010-04-01/Accounts/AC1/Messages.json"
    assert BaseUrlHttpClient().rewrite(url) == url


def test_retry_after_parsing() -> None:
    assert parse_retry_after("4") == 4
    assert parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0  # in the past
    assert parse_retry_after("soon") is None


# -- segments and numbered replies ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ("GSM-7", 1)),
        ("a" * 160, ("GSM-7", 1)),
        ("a" * 161, ("GSM-7", 2)),
        ("a" * 306, ("GSM-7", 2)),
        ("a" * 307, ("GSM-7", 3)),
        ("€" * 80, ("GSM-7", 1)),  # extension characters count twice
        ("€" * 81, ("GSM-7", 2)),
        ("a" * 152 + "€", ("GSM-7", 1)),
        ("a" * 158 + "€" + "a", ("GSM-7", 2)),  # the escape pair is not split
        ("Confirmación", ("UCS-2", 1)),
        ("á" * 70, ("UCS-2", 1)),
        ("á" * 71, ("UCS-2", 2)),
        ("á" * 134, ("UCS-2", 2)),
        ("á" * 135, ("UCS-2", 3)),
        ("😀" * 35, ("UCS-2", 1)),  # surrogate pairs count as two units
        ("😀" * 36, ("UCS-2", 2)),
        ("Ñandú", ("UCS-2", 1)),  # ú is not GSM-7
        ("Ñandu è ü", ("GSM-7", 1)),
    ],
)
def test_count_segments(text: str, expected: tuple[str, int]) -> None:
    assert count_segments(text) == expected


def test_numbered_reply_maps_back_to_option() -> None:
    options = REMINDER.options
    assert match_numbered_reply("2", options) == options[1]
    assert match_numbered_reply(" 1. ", options) == options[0]
    assert match_numbered_reply("#3", options) == options[2]
    assert match_numbered_reply("4", options) is None
    assert match_numbered_reply("0", options) is None
    assert match_numbered_reply("taken", options) is None


# -- WhatsApp -------------------------------------------------------------------------------


async def test_whatsapp_inside_window_sends_text_with_numbered_replies(
    fake_twilio: FakeTwilio,  # noqa: F811
) -> None:
    sender = whatsapp_sender(fake_twilio, last_inbound=NOW - timedelta(hours=23))
    try:
        receipt = await sender.send(PATIENT, REMINDER)
    finally:
        await sender.aclose()
    [call] = fake_twilio.messages
    assert call.to == f"whatsapp:{PATIENT}"
    assert call.from_ == f"whatsapp:{OUR_NUMBER}"
    assert call.body == "Time for your 8:00 PM dose.\n\n1 Taken\n2 Snooze 15 min\n3 Skip"
    assert call.content_sid is None
    assert receipt.response["mode"] == "freeform"


async def test_whatsapp_outside_window_sends_the_approved_template(
    fake_twilio: FakeTwilio,  # noqa: F811
) -> None:
    sender = whatsapp_sender(fake_twilio, last_inbound=NOW - timedelta(hours=25))
    try:
        receipt = await sender.send(f"whatsapp:{PATIENT}", REMINDER)
    finally:
        await sender.aclose()
    [call] = fake_twilio.messages
    assert call.content_sid == "HX1"
    assert call.content_variables == {"due_at": "Mar 4, 2025, 8:00 PM"}
    assert call.body is None
    assert receipt.response["mode"] == "template"


async def test_whatsapp_never_heard_from_and_no_lookup_use_templates(
    fake_twilio: FakeTwilio,  # noqa: F811
) -> None:
    for sender in (
        whatsapp_sender(fake_twilio, last_inbound=None),
        whatsapp_sender(fake_twilio, use_lookup=False),
    ):
        try:
            await sender.send(PATIENT, REMINDER)
        finally:
            await sender.aclose()
    assert [c.content_sid for c in fake_twilio.messages] == ["HX1", "HX1"]


async def test_whatsapp_outside_window_without_template_fails_before_any_request(
    fake_twilio: FakeTwilio,  # noqa: F811
) -> None:
    sender = whatsapp_sender(fake_twilio, last_inbound=NOW - timedelta(days=3), content_sids={})
    try:
        with pytest.raises(PermanentError, match="template required") as caught:
            await sender.send(PATIENT, REMINDER)
    finally:
        await sender.aclose()
    assert caught.value.code == "template_required"
    assert caught.value.effect is ContactEffect.NONE
    assert fake_twilio.calls == []


async def test_whatsapp_sync_lookup_and_naive_timestamps(
    fake_twilio: FakeTwilio,  # noqa: F811
) -> None:
    sender = WhatsAppSender(
        fake_twilio.account_sid,
        fake_twilio.auth_token,
        from_number=OUR_NUMBER,
        last_inbound_at=lambda number: datetime(2025, 3, 4, 1, 0),  # naive = UTC, 11 h ago
        clock=lambda: NOW,
        api_base_url=fake_twilio.base_url,
    )
    try:
        await sender.send(PATIENT, REMINDER)
    finally:
        await sender.aclose()
    assert fake_twilio.messages[0].body is not None


@pytest.mark.parametrize(
    ("code", "effect"), [(63016, ContactEffect.NONE), (63014, ContactEffect.DEACTIVATE)]
)
async def test_whatsapp_error_codes(
    fake_twilio: FakeTwilio,  # noqa: F811
    code: int,
    effect: ContactEffect,
) -> None:
    sender = whatsapp_sender(fake_twilio, last_inbound=NOW - timedelta(hours=1))
    fake_twilio.fail_next(code)
    try:
        with pytest.raises(DeliveryError) as caught:
            await sender.send(PATIENT, REMINDER)
    finally:
        await sender.aclose()
    assert isinstance(caught.value, PermanentError)
    assert caught.value.effect is effect


def test_http_401_is_refused_credentials_and_403_a_plain_configuration_error() -> None:
    """A 401 without a code (a rotated token) holds the account's messages; a 403 (the account
    may not do this) fails them with the reason, as before."""
    refused = classify_twilio_error(TwilioRestException(401, "/Messages.json", "Unauthorized"))
    forbidden = classify_twilio_error(TwilioRestException(403, "/Messages.json", "Forbidden"))
    assert isinstance(refused, CredentialsRefusedError) and refused.code == "401"
    assert isinstance(forbidden, ConfigurationError)
    assert not isinstance(forbidden, CredentialsRefusedError)
