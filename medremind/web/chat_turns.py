"""One chat's inbound turns queue for their chat before they take a processing slot.

A turn holds its chat's conversation row lock (:mod:`bot.intake`), so the turns of one chat run
one after another whatever happens here. They used to wait for that lock inside a processing
slot, each holding a pool connection: a chat sending many updates at once (a script, a client
resending in a loop) filled every slot with its own turns, and every other chat's (another
clinic's patient pressing Taken) waited behind that chat's whole backlog. Measured on one
``medremind web``: 4,000 updates of one chat at 100 a second held another chat's /help for over
a minute. Here a chat's turns wait on an asyncio lock of their own, holding no slot and no
connection, so one chat takes one slot at a time.

And a chat may have at most ``max_waiting`` turns in this process: past that, a new update of
that chat is not processed now. It is stored and acknowledged like any other, and the sweep
(:func:`medremind.web.inbound.resume`) answers it once it is a minute old: a flooding chat can
neither pile up tasks nor, once the process is past its detached limit, hold the provider's
connections (whose other updates would wait) with acknowledgements queued behind its own turns.
Its updates past the limit are answered later than the ones after them, an order only a flood
loses: no person types 64 messages faster than their turns run.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

# Turns of one chat waiting or running in one process, past which its updates go to the sweep.
MAX_WAITING_PER_CHAT = 64

ChatKey = tuple[str, str]  # (channel, chat address)


@dataclass(slots=True)
class _Chat:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    turns: int = 0


class ChatTurns:
    """The chats with turns in this process: a place for each turn, then the chat's lock.

    :meth:`reserve` counts a turn at once (before its task first runs, so a burst cannot pass
    the limit); :meth:`release` must follow it, whatever became of the turn (a task cancelled
    before it ran too). A chat with no turn left is forgotten, so memory follows the turns.
    """

    def __init__(self, max_waiting: int = MAX_WAITING_PER_CHAT) -> None:
        self._max_waiting = max_waiting
        self._chats: dict[ChatKey, _Chat] = {}

    @property
    def waiting(self) -> int:
        """Turns reserved and not yet released, over every chat."""
        return sum(chat.turns for chat in self._chats.values())

    def reserve(self, key: ChatKey) -> bool:
        """Count a turn of chat ``key``; False (nothing counted) when it has ``max_waiting``."""
        chat = self._chats.get(key)
        if chat is None:
            chat = self._chats[key] = _Chat()
        elif chat.turns >= self._max_waiting:
            return False
        chat.turns += 1
        return True

    def lock(self, key: ChatKey) -> asyncio.Lock:
        """The lock a reserved turn of chat ``key`` runs under (FIFO: in the order they came)."""
        return self._chats[key].lock

    def release(self, key: ChatKey) -> None:
        """The end of a reserved turn of chat ``key``."""
        chat = self._chats[key]
        chat.turns -= 1
        if chat.turns == 0:
            del self._chats[key]
