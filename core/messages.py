"""What a message is, for every layer: its channel, its options and its rendered form.

Template rendering (``core``) builds :class:`OutboundMessage`; the channel adapters
(``platforms``, which re-export these names from ``platforms.base``) send it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Channel(enum.StrEnum):
    """A delivery channel. ``auto`` is only valid on a message: it means the patient's order."""

    TELEGRAM = "telegram"
    WHATSAPP = "whatsapp"
    SMS = "sms"
    EMAIL = "email"
    CONSOLE = "console"
    WEBPUSH = "webpush"  # a Web Push subscription per device of the patient app
    WEBSOCKET = "websocket"  # live delivery to the patient app while it is open


@dataclass(frozen=True, slots=True)
class Option:
    """A choice offered to the patient: a Telegram button, a WhatsApp button, a numbered SMS reply.

    ``data`` is compact (at most 64 bytes, Telegram's ``callback_data`` limit): e.g. ``t:ab12cd34``.
    """

    label: str
    data: str


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """A rendered message ready for one channel.

    ``text`` is plain text with the variables already substituted; ``html`` is the Telegram/e-mail
    rendering when the template has one. ``options`` are laid out one per row unless ``columns``.
    """

    text: str
    html: str | None = None
    subject: str | None = None
    options: tuple[Option, ...] = ()
    columns: int = 1
    kind: str = "free_text"
    # Template variables, for channels that must send an approved template (WhatsApp outside 24 h):
    # a built-in or clinician render fills them for WhatsApp only (empty on other channels).
    variables: dict[str, str] = field(default_factory=dict)
    # Attachments: (filename, content type, bytes); used for /stats charts and /export CSVs.
    attachments: tuple[tuple[str, str, bytes], ...] = ()
    # Our own id, sent as metadata where the provider allows (e-mail Message-ID, Twilio callback).
    message_id: str | None = None
    # The typed replies the text itself asks for, one per option ("1/C", "2/R", "3/X"): the options
    # are then not appended as numbered replies (the SMS appointment texts), yet stay known, so
    # the question the message asks is recorded with the answers it shows.
    reply_keys: tuple[str, ...] = ()

    @property
    def numbered_options(self) -> tuple[Option, ...]:
        """The options a text channel appends as numbered replies (none when the text asks)."""
        return () if self.reply_keys else self.options


__all__ = ["Channel", "Option", "OutboundMessage"]
