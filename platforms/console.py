"""The console channel for ``medremind dev``: messages are printed to the terminal.

This is the chat itself, not a log: the person at the terminal is the patient, so the text is
printed in full, with options as numbered replies they can type back.
"""

from __future__ import annotations

import itertools
import sys
from typing import TextIO

from core.templating import format_numbered_options
from platforms.base import Channel, OutboundMessage, Receipt


class ConsoleSender:
    """Prints each message to ``stream`` (standard output, looked up at send time, by default)."""

    channel = Channel.CONSOLE

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._ids = itertools.count(1)

    @property
    def stream(self) -> TextIO:
        """Where messages go; ``sys.stdout`` unless a stream was given."""
        return self._stream or sys.stdout

    async def send(self, address: str, message: OutboundMessage) -> Receipt:
        """Print the message; the receipt's id counts up from ``console-1``."""
        provider_id = f"console-{next(self._ids)}"
        lines = [f"--- MedRemind -> {address} [{message.kind}] ---"]
        if message.subject:
            lines.append(message.subject)
        lines.append(message.text)
        if message.numbered_options:
            lines += ["", format_numbered_options(message.numbered_options)]
        lines += [f"(attachment: {name}, {ctype})" for name, ctype, _ in message.attachments]
        self.stream.write("\n".join(lines) + "\n\n")
        self.stream.flush()
        return Receipt(provider_message_id=provider_id, channel=Channel.CONSOLE)

    async def aclose(self) -> None:
        """Nothing to release; the stream belongs to the caller."""
