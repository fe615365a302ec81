"""A chat's turns in one process (medremind/web/chat_turns.py): counted when reserved, forgotten
when released, whatever became of the turn; no database (the web test floods a real app:
tests/web/test_inbound_lifecycle.py::test_a_flooding_chat_holds_up_no_other_chat)."""

from __future__ import annotations

import asyncio
import uuid

from core.db import Database
from core.settings import load_settings
from medremind.web import inbound
from medremind.web.chat_turns import ChatTurns
from medremind.web.state import WebState
from platforms.base import Channel, InboundEvent, InboundKind


def test_a_chat_past_its_limit_is_refused_and_others_are_not() -> None:
    turns = ChatTurns(max_waiting=2)
    flood, other = ("telegram", "1"), ("sms", "+14155550100")
    assert [turns.reserve(flood) for _ in range(3)] == [True, True, False]
    assert turns.reserve(other)
    assert turns.lock(flood) is turns.lock(flood)
    assert turns.lock(flood) is not turns.lock(other)
    turns.release(flood)
    assert turns.reserve(flood)  # a place freed is taken again
    for chat in (flood, flood, other):
        turns.release(chat)
    # Nothing is kept of a chat with no turn: memory follows the turns, not the chats seen.
    assert turns.waiting == 0 and not turns._chats


async def test_a_turn_cancelled_before_it_ran_gives_its_place_back() -> None:
    """A shutdown's drain cancels the detached turns; one cancelled before its task first ran
    never entered its coroutine, so only the task's done callback can give its place back."""
    settings = load_settings({})
    state = WebState(settings=settings, database=Database(settings))  # never started
    event = InboundEvent(
        channel=Channel.TELEGRAM, provider_id="1", chat_address="42", kind=InboundKind.TEXT
    )
    for _ in range(3):
        await inbound.after_response(state, uuid.uuid4(), event)
    assert state.chat_turns.waiting == 3 and len(state.processing) == 3
    for task in list(state.processing):
        task.cancel()
    await asyncio.gather(*state.processing, return_exceptions=True)
    await asyncio.sleep(0)  # done callbacks run on the loop's next pass
    assert state.chat_turns.waiting == 0 and not state.processing
