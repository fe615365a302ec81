"""The console channel for ``medremind dev``: messages are printed to the terminal.

This is the chat itself, not a log: the person at the terminal is the patient, so the text is
printed in full, with options as numbered replies they can type back. Attachments (the /stats
chart, the /export CSV) are saved as files in the outbox folder and their paths printed, so the
person can open them.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from core.templating import format_numbered_options
from platforms.base import Channel, OutboundMessage, Receipt


class ConsoleSender:
    """Prints each message to ``stream`` (standard output, looked up at send time, by default)."""

    channel = Channel.CONSOLE

    def __init__(self, stream: TextIO | None = None, *, files_dir: Path | None = None) -> None:
        """``files_dir``: where attachments are saved (without one, they are only named)."""
        self._stream = stream
        self._ids = itertools.count(1)
        self.files_dir = files_dir

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
        for name, ctype, data in message.attachments:
            path = await asyncio.to_thread(self._save, provider_id, name, data)
            where = f"saved to {path}" if path is not None else "not saved"
            lines.append(f"(attachment: {name}, {ctype}, {where})")
        self.stream.write("\n".join(lines) + "\n\n")
        self.stream.flush()
        return Receipt(provider_message_id=provider_id, channel=Channel.CONSOLE)

    def _save(self, provider_id: str, name: str, data: bytes) -> Path | None:
        """Write one attachment under ``files_dir`` (a fresh name each time); its path."""
        if self.files_dir is None:
            return None
        self.files_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        path = self.files_dir / f"{stamp}-{provider_id}-{Path(name).name}"
        path.write_bytes(data)
        return path.resolve()

    async def aclose(self) -> None:
        """Nothing to release; the stream belongs to the caller."""
