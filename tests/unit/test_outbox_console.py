"""Console and outbox senders, and the registry that picks a sender per channel."""

from __future__ import annotations

import asyncio
import email
import email.policy
import io
import json
import logging
from pathlib import Path

import pytest

from core.settings import load_settings
from platforms.base import Channel, ChannelSender, Option, OutboundMessage
from platforms.console import ConsoleSender
from platforms.email import EmailSender
from platforms.outbox import OUTBOX_ID_PREFIX, OutboxSender
from platforms.registry import build_senders, channel_status
from platforms.sms import SmsSender
from platforms.telegram import TelegramSender
from platforms.telegram_bots import TelegramBots
from platforms.webpush import VapidKey
from platforms.whatsapp import WhatsAppSender

SECRET_TEXT = "Time for your 8:00 PM dose of Metformin."
MESSAGE = OutboundMessage(
    text=SECRET_TEXT,
    html="<p>Time for your <b>8:00 PM</b> dose of Metformin.</p>",
    subject="Medication reminder",
    options=(Option("Taken", "t:1"), Option("Snooze", "s:1")),
    kind="medication_reminder",
    message_id="m-1",
)


async def test_console_prints_text_and_numbered_replies() -> None:
    stream = io.StringIO()
    sender = ConsoleSender(stream)
    first = await sender.send("local", MESSAGE)
    second = await sender.send("local", OutboundMessage(text="Hi"))

    output = stream.getvalue()
    assert SECRET_TEXT in output
    assert "1 Taken\n2 Snooze" in output
    assert (first.provider_message_id, second.provider_message_id) == ("console-1", "console-2")
    assert isinstance(sender, ChannelSender)


async def test_console_saves_attachments_and_prints_their_paths(tmp_path: Path) -> None:
    stream = io.StringIO()
    sender = ConsoleSender(stream, files_dir=tmp_path / "console")
    chart = b"\x89PNG fake chart"
    await sender.send(
        "local", OutboundMessage(text="Stats", attachments=(("adherence.png", "image/png", chart),))
    )
    [path] = (tmp_path / "console").glob("*adherence.png")
    assert path.read_bytes() == chart
    assert f"(attachment: adherence.png, image/png, saved to {path.resolve()})" in stream.getvalue()


async def test_outbox_writes_eml_for_email(tmp_path: Path) -> None:
    receipt = await OutboxSender(Channel.EMAIL, tmp_path).send("ana@example.org", MESSAGE)

    [path] = tmp_path.glob("*.eml")
    assert receipt.response["path"] == str(path)
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert parsed["Subject"] == "Medication reminder"
    assert parsed["To"] == "ana@example.org"
    assert parsed.get_body(("html",)) is not None


async def test_outbox_writes_json_for_other_channels(tmp_path: Path) -> None:
    message = OutboundMessage(
        text="Your week", attachments=(("chart.png", "image/png", b"\x89PNG"),)
    )
    await OutboxSender(Channel.SMS, tmp_path).send("+14155552671", message)

    [path] = tmp_path.glob("*.json")
    record = json.loads(path.read_text())
    assert record["channel"] == "sms"
    assert record["address"] == "+14155552671"
    assert record["text"] == "Your week"
    assert record["attachments"] == [
        {"filename": "chart.png", "content_type": "image/png", "size": 4}
    ]
    assert (tmp_path / f"{path.stem}.chart.png").read_bytes() == b"\x89PNG"
    assert not list(tmp_path.glob(".*.tmp"))


async def test_outbox_logs_only_the_path(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    await OutboxSender(Channel.WHATSAPP, tmp_path).send("+14155552671", MESSAGE)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert str(tmp_path) in logged
    assert "Metformin" not in logged
    assert "4155552671" not in logged


def test_registry_without_credentials_uses_outbox_and_console_when_enabled(
    tmp_path: Path,
) -> None:
    settings = load_settings(
        {"MEDREMIND_OUTBOX_DIR": str(tmp_path), "MEDREMIND_OUTBOX_ENABLED": "true"}
    )
    stream = io.StringIO()
    senders = build_senders(settings, console_stream=stream)

    for channel in (Channel.TELEGRAM, Channel.SMS, Channel.WHATSAPP, Channel.EMAIL):
        assert isinstance(senders[channel], OutboxSender)
        assert senders[channel].channel is channel
    assert isinstance(senders[Channel.CONSOLE], ConsoleSender)

    status = channel_status(settings)
    assert status[Channel.CONSOLE][0] is True
    assert status[Channel.TELEGRAM] == (
        False,
        f"TELEGRAM_BOT_TOKEN not set: OUTBOX: messages are written as files to {tmp_path},"
        " never sent to patients (MEDREMIND_OUTBOX_ENABLED)",
    )
    assert "TWILIO_MESSAGING_SERVICE_SID or TWILIO_SMS_FROM" in status[Channel.SMS][1]
    assert "TWILIO_WHATSAPP_FROM" in status[Channel.WHATSAPP][1]
    assert "SMTP_HOST and SMTP_FROM" in status[Channel.EMAIL][1]


@pytest.mark.parametrize("enabled", [None, "false"])
def test_registry_without_credentials_has_no_outbox_unless_enabled(
    tmp_path: Path, enabled: str | None
) -> None:
    """Issue 16: outside `medremind dev` (which turns it on) the outbox is off by default, so no
    file ever passes for a send; the console stays (it is a channel of its own)."""
    env = {"MEDREMIND_OUTBOX_DIR": str(tmp_path)}
    if enabled is not None:
        env["MEDREMIND_OUTBOX_ENABLED"] = enabled
    settings = load_settings(env)
    senders = build_senders(settings, console_stream=io.StringIO())
    assert set(senders) == {Channel.CONSOLE}
    why = channel_status(settings)[Channel.SMS][1]
    assert why.startswith("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN and ")
    assert "no sender: its messages go to the patient's next channel or fail" in why
    assert "MEDREMIND_OUTBOX_ENABLED=true" in why


def test_an_outbox_receipt_says_so(tmp_path: Path) -> None:
    receipt = asyncio.run(OutboxSender(Channel.SMS, tmp_path).send("+14155552671", MESSAGE))
    assert receipt.outbox is True
    assert receipt.provider_message_id is not None
    assert receipt.provider_message_id.startswith(OUTBOX_ID_PREFIX)


async def test_registry_with_credentials_uses_real_adapters(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "TELEGRAM_BOT_TOKEN": "123:secret-token",
            "TWILIO_ACCOUNT_SID": "AC123",
            "TWILIO_AUTH_TOKEN": "twilio-secret",
            "TWILIO_SMS_FROM": "+15017122661",
            "TWILIO_WHATSAPP_FROM": "whatsapp:+15017122661",
            "TWILIO_WHATSAPP_CONTENT_SIDS": '{"medication_reminder": "HX1"}',
            "SMTP_HOST": "smtp.example.org",
            "SMTP_FROM": "MedRemind <reminders@clinic.example>",
            "PUBLIC_BASE_URL": "https://medremind.example.org",
            "VAPID_PRIVATE_KEY": VapidKey.generate().private_text(),
            "VAPID_SUBJECT": "mailto:ops@clinic.example",
        }
    )
    senders = build_senders(settings, last_inbound_lookup=lambda number: None)
    try:
        telegram = senders[Channel.TELEGRAM]
        assert isinstance(telegram, TelegramBots) and isinstance(telegram.default, TelegramSender)
        assert isinstance(senders[Channel.SMS], SmsSender)
        assert isinstance(senders[Channel.WHATSAPP], WhatsAppSender)
        assert isinstance(senders[Channel.EMAIL], EmailSender)
        sms = senders[Channel.SMS]
        assert isinstance(sms, SmsSender)
        assert sms.status_callback == "https://medremind.example.org/twilio/status"
        email_sender = senders[Channel.EMAIL]
        assert isinstance(email_sender, EmailSender)
        assert email_sender.unsubscribe_mailto == "reminders@clinic.example"
    finally:
        for sender in senders.values():
            await sender.aclose()

    status = channel_status(settings)
    assert all(ok for ok, _ in status.values())
    words = " ".join(reason for _, reason in status.values())
    assert "secret" not in words
    assert "1 approved template(s)" in status[Channel.WHATSAPP][1]
