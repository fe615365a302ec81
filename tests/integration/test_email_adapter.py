"""The e-mail adapter against a real aiosmtpd SMTP server."""

from __future__ import annotations

import socket

import pytest

from platforms.base import (
    ConfigurationError,
    ContactEffect,
    CredentialsRefusedError,
    OutboundMessage,
    PermanentError,
    TransientError,
)
from platforms.email import EmailSender
from platforms.provider_accounts import AccountProblem, parse_account
from tests.fakes.fixtures import smtp_sink  # noqa: F401
from tests.fakes.smtp import SmtpSink

PATIENT = "ana@example.org"
MESSAGE = OutboundMessage(
    text="Time for your 8:00 PM dose.",
    html="<!doctype html><html><body><p>Time for your <b>8:00 PM</b> dose.</p></body></html>",
    subject="Medication reminder",
    kind="medication_reminder",
    message_id="3f2a9c1e-0000-4000-8000-000000000001",
)


def plain_sender(sink: SmtpSink, **kwargs: object) -> EmailSender:
    return EmailSender(
        "127.0.0.1",
        sink.port,
        from_address="MedRemind <reminders@clinic.example>",
        starttls=False,
        unsubscribe_url="https://medremind.example.org/unsubscribe/{message_id}",
        unsubscribe_mailto="reminders@clinic.example",
        timeout=5,
        **kwargs,  # type: ignore[arg-type]
    )


async def test_multipart_message_with_headers(smtp_sink: SmtpSink) -> None:  # noqa: F811
    receipt = await plain_sender(smtp_sink).send(PATIENT, MESSAGE)

    [received] = smtp_sink.messages
    assert smtp_sink.envelopes[0]["rcpt_tos"] == [PATIENT]
    assert received["Subject"] == "Medication reminder"
    assert received["To"] == PATIENT
    assert received["Message-ID"] == "<3f2a9c1e-0000-4000-8000-000000000001@clinic.example>"
    assert receipt.provider_message_id == received["Message-ID"]
    assert " ".join(received["List-Unsubscribe"].split()) == (
        "<mailto:reminders@clinic.example?subject=unsubscribe>, "
        "<https://medremind.example.org/unsubscribe/3f2a9c1e-0000-4000-8000-000000000001>"
    )
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert received.get_content_type() == "multipart/alternative"
    text = received.get_body(("plain",))
    html = received.get_body(("html",))
    assert text is not None and text.get_content().strip() == MESSAGE.text
    assert html is not None and "<b>8:00 PM</b>" in html.get_content()


async def test_attachments_make_a_mixed_message(smtp_sink: SmtpSink) -> None:  # noqa: F811
    message = OutboundMessage(
        text="Your doses", subject="Export", attachments=(("doses.csv", "text/csv", b"a,b\n"),)
    )
    await plain_sender(smtp_sink).send(PATIENT, message)
    [received] = smtp_sink.messages
    assert received.get_content_type() == "multipart/mixed"
    [attachment] = list(received.iter_attachments())
    assert attachment.get_filename() == "doses.csv"


async def test_starttls_with_auth() -> None:
    with SmtpSink(username="mailer", password="s3cret", starttls=True) as sink:
        sender = EmailSender(
            "127.0.0.1",
            sink.port,
            from_address="reminders@clinic.example",
            username="mailer",
            password="s3cret",
            starttls=True,
            tls_context=sink.client_tls_context(),
        )
        await sender.send(PATIENT, MESSAGE)
        assert len(sink.messages) == 1


# -- the SMTP error table: one test per row ------------------------------------------------


async def test_wrong_password_is_refused_credentials() -> None:
    with SmtpSink(username="mailer", password="s3cret") as sink:
        sender = plain_sender(sink, username="mailer", password="wrong")
        with pytest.raises(CredentialsRefusedError):
            await sender.send(PATIENT, MESSAGE)
        assert sink.messages == []


async def test_starttls_unsupported_is_a_configuration_error(
    smtp_sink: SmtpSink,  # noqa: F811
) -> None:
    sender = EmailSender(
        "127.0.0.1", smtp_sink.port, from_address="r@clinic.example", starttls=True, timeout=5
    )
    with pytest.raises(ConfigurationError):
        await sender.send(PATIENT, MESSAGE)


async def test_recipient_refused_5xx_is_permanent_invalid(smtp_sink: SmtpSink) -> None:  # noqa: F811
    smtp_sink.fail_next_rcpt("550 5.1.1 User unknown")
    with pytest.raises(PermanentError) as caught:
        await plain_sender(smtp_sink).send(PATIENT, MESSAGE)
    assert caught.value.effect is ContactEffect.INVALID
    assert caught.value.code == "550"
    assert PATIENT not in str(caught.value)


async def test_data_refused_5xx_is_permanent(smtp_sink: SmtpSink) -> None:  # noqa: F811
    smtp_sink.fail_next_data("554 5.7.1 Message rejected as spam")
    with pytest.raises(PermanentError) as caught:
        await plain_sender(smtp_sink).send(PATIENT, MESSAGE)
    assert caught.value.effect is ContactEffect.NONE


async def test_recipient_deferred_4xx_is_transient(smtp_sink: SmtpSink) -> None:  # noqa: F811
    smtp_sink.fail_next_rcpt("450 4.2.1 Mailbox busy")
    with pytest.raises(TransientError):
        await plain_sender(smtp_sink).send(PATIENT, MESSAGE)


async def test_data_deferred_4xx_is_transient(smtp_sink: SmtpSink) -> None:  # noqa: F811
    smtp_sink.fail_next_data("451 4.3.0 Try again later")
    with pytest.raises(TransientError):
        await plain_sender(smtp_sink).send(PATIENT, MESSAGE)


async def test_connection_refused_is_transient() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sender = EmailSender(
        "127.0.0.1", port, from_address="r@clinic.example", starttls=False, timeout=2
    )
    with pytest.raises(TransientError):
        await sender.send(PATIENT, MESSAGE)


def test_missing_host_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        EmailSender("", from_address="r@clinic.example")


async def test_an_ipv6_address_in_brackets_is_connected_to() -> None:
    """A clinic's SMTP host given as ``[2001:db8::1]`` passed the account's format check, then
    every send failed ("cannot resolve [..]"): the brackets went to the resolver. The sender
    connects to the bare address; a clinic's server (``public_only``) is checked as that address
    (here refused as loopback, not unresolvable); brackets around anything but an IP address are
    refused when the account is saved."""
    with SmtpSink(host="::1") as sink:
        await EmailSender(
            "[::1]", sink.port, from_address="reminders@clinic.example", starttls=False, timeout=5
        ).send(PATIENT, MESSAGE)
        clinics = EmailSender(
            "[::1]",
            sink.port,
            from_address="reminders@clinic.example",
            starttls=False,
            timeout=5,
            public_only=True,
        )
        with pytest.raises(ConfigurationError, match="loopback"):
            await clinics.send(PATIENT, MESSAGE)
    assert len(sink.messages) == 1
    fields = {"host": "[::1]", "port": 25, "security": "none", "from_address": "a@clinic.example"}
    assert parse_account("email", fields).config["host"] == "[::1]"
    with pytest.raises(AccountProblem) as problem:
        parse_account("email", {**fields, "host": "[smtp.example.org]"})
    assert problem.value.field == "host"
