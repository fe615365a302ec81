"""The outbox: channels without credentials write each message as a file instead of sending it.

Like Django's file e-mail backend, so ``medremind dev`` works end to end and nothing is silently
dropped. E-mail becomes an ``.eml`` file (open it in any mail client); other channels a ``.json``
file holding what would have been sent. Attachments are written next to it. Only the file's path
is logged, never the address or the text.

Nobody receives an outbox message, so it must never pass for a send: the receipt says
``outbox=True`` (the ``via="outbox"`` label of ``medremind_messages_sent_total``) and its id starts
with :data:`OUTBOX_ID_PREFIX`, from which the database marks the message and its attempt
(``via_outbox``, a generated column: migration 20260101009300) for the dashboard and the API.
Outside ``medremind dev`` there is no outbox unless ``MEDREMIND_OUTBOX_ENABLED`` is true
(``platforms.registry``).

What the provider would refuse, the outbox refuses too, with the provider adapter's error: an SMS
over ``MEDREMIND_SMS_MAX_SEGMENTS`` segments, a WhatsApp text over 1,600 characters (numbered
replies included). Otherwise ``medremind dev`` called "sent" a message that fails in production.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

from core.message_limits import (
    DEFAULT_SMS_MAX_SEGMENTS,
    channel_limit_problem,
    with_numbered_options,
)
from platforms.base import Channel, OutboundMessage, PermanentError, Receipt
from platforms.mime import build_email

log = logging.getLogger(__name__)

# The provider message id of every outbox delivery starts with this (the database reads it).
OUTBOX_ID_PREFIX = "outbox:"


class OutboxSender:
    """Writes messages for ``channel`` into ``directory`` (created on first use)."""

    def __init__(
        self,
        channel: Channel,
        directory: Path | str,
        *,
        from_address: str = "medremind@localhost",
        sms_max_segments: int = DEFAULT_SMS_MAX_SEGMENTS,
    ) -> None:
        self.channel = channel
        self.directory = Path(directory)
        self.from_address = from_address
        self.sms_max_segments = sms_max_segments

    @property
    def max_segments(self) -> int | None:
        """The SMS cap, as :class:`platforms.sms.SmsSender` has it: a bot reply longer than this
        is split into messages that fit (``bot.reply_rows.fit_segments``), as it is for Twilio,
        not written whole and refused. None for the other channels (nothing to split)."""
        return self.sms_max_segments if self.channel == Channel.SMS else None

    def compose(self, message: OutboundMessage) -> str:
        """The body as the SMS and WhatsApp adapters compose it: the text and numbered options."""
        return with_numbered_options(message.text, message.numbered_options)

    async def send(self, address: str, message: OutboundMessage) -> Receipt:
        """Write the message; the receipt's id is ``outbox:<file name>``. A message its channel's
        provider would refuse for its length is refused here as there (``PermanentError``)."""
        if self.channel in (Channel.SMS, Channel.WHATSAPP):
            # Telegram splits long texts itself.
            problem = channel_limit_problem(
                self.channel, self.compose(message), sms_max_segments=self.sms_max_segments
            )
            if problem is not None:
                raise PermanentError(f"text too long: {problem}", code="too_long")
        path = await asyncio.to_thread(self._write, address, message)
        log.info("outbox wrote %s", path)
        return Receipt(
            provider_message_id=f"{OUTBOX_ID_PREFIX}{path.name}",
            channel=self.channel,
            response={"path": str(path)},
            outbox=True,
        )

    def _write(self, address: str, message: OutboundMessage) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        stem = f"{stamp}-{self.channel.value}-{uuid.uuid4().hex[:8]}"
        if self.channel == Channel.EMAIL:
            email = build_email(message, to=address, from_address=self.from_address)
            path = self.directory / f"{stem}.eml"
            _write_atomically(path, bytes(email))
            return path
        for filename, _, data in message.attachments:
            _write_atomically(self.directory / f"{stem}.{Path(filename).name}", data)
        record = {
            "channel": self.channel.value,
            "address": address,
            "kind": message.kind,
            "subject": message.subject,
            "text": message.text,
            "html": message.html,
            "options": [{"label": o.label, "data": o.data} for o in message.options],
            "variables": message.variables,
            "attachments": [
                {"filename": name, "content_type": ctype, "size": len(data)}
                for name, ctype, data in message.attachments
            ],
            "message_id": message.message_id,
            "written_at": datetime.now(UTC).isoformat(),
        }
        path = self.directory / f"{stem}.json"
        _write_atomically(path, json.dumps(record, ensure_ascii=False, indent=2).encode())
        return path

    async def aclose(self) -> None:
        """Nothing to release."""


def _write_atomically(path: Path, data: bytes) -> None:
    # Readers (tests, a developer's editor) never see a half-written file.
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)
