"""A recording :class:`ChannelSender` for dispatcher tests: remembers every send, can be scripted
to raise each class of delivery error, and can append one line per send to a shared file (so
sends by several worker processes can be counted after the fact, even across SIGKILL), and one
per send begun to another (so a test can act while sends are in flight, whatever the host's
speed).
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections import deque
from collections.abc import Iterable
from pathlib import Path

from platforms.base import Channel, OutboundMessage, Receipt


class RecordingSender:
    """Implements ``ChannelSender``; ``script`` is consumed one entry per send (None = succeed)."""

    def __init__(
        self,
        channel: Channel = Channel.TELEGRAM,
        *,
        name: str = "rec",
        script: Iterable[BaseException | None] = (),
        fail_addresses: dict[str, BaseException] | None = None,
        delay: float = 0.0,
        log_path: Path | None = None,
        new_address: str | None = None,
        started_path: Path | None = None,
    ) -> None:
        self.channel = channel
        self.name = name
        self.script: deque[BaseException | None] = deque(script)
        self.fail_addresses = dict(fail_addresses or {})
        self.delay = delay
        self.new_address = new_address
        self.sends: list[tuple[str, OutboundMessage]] = []
        self.calls = 0
        self._ids = itertools.count(1)
        self._fd = _append(log_path)
        self._started_fd = _append(started_path)

    async def send(self, address: str, message: OutboundMessage) -> Receipt:
        self.calls += 1
        if self._started_fd is not None:
            os.write(self._started_fd, f"{message.message_id} {self.name}\n".encode())
        if self.delay:
            await asyncio.sleep(self.delay)
        error = self.fail_addresses.get(address)
        if error is None and self.script:
            error = self.script.popleft()
        if error is not None:
            raise error
        self.sends.append((address, message))
        provider_id = f"{self.name}-{next(self._ids)}"
        if self._fd is not None:
            # One write(2) per line with O_APPEND: lines from several processes never interleave,
            # and a line written survives a SIGKILL of the writer.
            os.write(self._fd, f"{message.message_id} {self.name} {provider_id}\n".encode())
        return Receipt(provider_id, self.channel, new_address=self.new_address)

    async def aclose(self) -> None:
        for fd in (self._fd, self._started_fd):
            if fd is not None:
                os.close(fd)
        self._fd = self._started_fd = None


def _append(path: Path | None) -> int | None:
    """A file opened for appending lines (see ``send``), or None."""
    return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644) if path else None
