"""Several chats and one clinic invite, in any order: a stateful property test on the real bot and
Postgres (tests/bot/test_invite_used_once.py has the two cases that were broken).

Hypothesis's ``RuleBasedStateMachine`` gives one invited patient a link that two Telegram chats
open at once (``/start <token>``: it was forwarded), then open again, agree, decline, or wait
while the clock runs past the link's expiry, in any interleaving. The test's model says what
should happen: a chat that opens the link while it is unused and unexpired is asked for the
clinic; agreeing takes the link only if it still is (else the chat is told it is no longer
valid and asked again, for no clinic); a chat asked for no clinic registers as a person of its
own.

Invariants, after every step:

* the invited patient has at most one Telegram chat, and it is the chat the model says took the
  link (the first to agree while the link was open), or none;
* the link is marked used exactly when a chat took it;
* no chat that did not take the link is a contact point of the invited patient.

``MEDREMIND_STATEFUL_EXAMPLES`` and ``MEDREMIND_STATEFUL_STEPS`` make the run bigger.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import os
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

import asyncpg
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.bot.conftest import START, Bot
from tests.factories import create_organization, create_patient
from tests.stateful import stateful_settings

T = TypeVar("T")
EXAMPLES = int(os.environ.get("MEDREMIND_STATEFUL_EXAMPLES", "15"))
STEPS = int(os.environ.get("MEDREMIND_STATEFUL_STEPS", "10"))
LINK_HOURS = 24
CHATS = 2
_tokens = itertools.count(1)

# A chat's state in the model.
NEW, ASKED_FOR_CLINIC, ASKED_PLAIN, OWN_RECORD, TOOK_LINK = (
    "new",
    "asked for the clinic",
    "asked for no clinic",
    "registered by itself",
    "took the link",
)


def machine_for(bot: Bot, admin_conn: asyncpg.Connection) -> type[RuleBasedStateMachine]:
    loop = asyncio.get_running_loop()

    def run(work: Callable[[], Awaitable[T]]) -> T:
        return asyncio.run_coroutine_threadsafe(_call(work), loop).result(timeout=120)

    class OneInviteManyChats(RuleBasedStateMachine):
        @initialize()
        def invite(self) -> None:
            bot.clock.now = START
            self.token = f"inv-stateful-{next(_tokens):06d}"
            self.chats = [bot.new_chat() for _ in range(CHATS)]
            self.state = dict.fromkeys(self.chats, NEW)
            self.taken_by: int | None = None
            self.expires = START + timedelta(hours=LINK_HOURS)
            self.patient_id = run(self._invite)
            # The link is forwarded at once: every chat has it before anyone answers.
            for chat in self.chats:
                self._opens(chat)

        async def _invite(self) -> Any:
            org = await create_organization(admin_conn, name="Hillside Clinic")
            patient = await create_patient(
                admin_conn,
                org["id"],
                contacts={},
                consent_at=None,
                status="invited",
                display_name=None,
            )
            await admin_conn.execute(
                "insert into patient_invites (organization_id, patient_id, token_hash, expires_at)"
                " values ($1, $2, $3, $4)",
                org["id"],
                patient["id"],
                hashlib.sha256(self.token.encode()).hexdigest(),
                self.expires,
            )
            return patient["id"]

        def _link_open(self) -> bool:
            return self.taken_by is None and bot.clock.now < self.expires

        def _not_registered(self) -> list[int]:
            return [c for c in self.chats if self.state[c] not in (OWN_RECORD, TOOK_LINK)]

        def _asked(self) -> list[int]:
            return [c for c in self.chats if self.state[c] in (ASKED_FOR_CLINIC, ASKED_PLAIN)]

        @precondition(lambda self: bool(self._not_registered()))
        @rule(data=st.data())
        def chat_opens_the_link(self, data: st.DataObject) -> None:
            self._opens(data.draw(st.sampled_from(self._not_registered())))

        @precondition(lambda self: len(self._not_registered()) > 1)
        @rule()
        def the_link_goes_round(self) -> None:
            """Every chat not registered opens it in turn (a link forwarded, or read aloud)."""
            for chat in self._not_registered():
                self._opens(chat)

        def _opens(self, chat: int) -> None:
            calls = run(lambda: bot.send(chat, f"/start {self.token}"))
            said = " ".join(call.text or "" for call in calls)
            if self._link_open():
                assert "Hillside Clinic" in said, said
                self.state[chat] = ASKED_FOR_CLINIC
            else:
                assert "not valid any more" in said and "Hillside Clinic" not in said, said
                self.state[chat] = ASKED_PLAIN

        @precondition(lambda self: bool(self._asked()))
        @rule(data=st.data())
        def chat_agrees(self, data: st.DataObject) -> None:
            chat = data.draw(st.sampled_from(self._asked()))
            calls = run(lambda: bot.press(chat, "I agree"))
            said = " ".join(call.text or "" for call in calls)
            if self.state[chat] == ASKED_PLAIN:
                self.state[chat] = OWN_RECORD
            elif self._link_open():
                self.taken_by = chat
                self.state[chat] = TOOK_LINK
            else:
                assert "not valid any more" in said, said
                assert "Hillside Clinic" not in bot.last_text(chat)
                self.state[chat] = ASKED_PLAIN

        @precondition(lambda self: bool(self._asked()))
        @rule(data=st.data())
        def chat_declines(self, data: st.DataObject) -> None:
            chat = data.draw(st.sampled_from(self._asked()))
            run(lambda: bot.press(chat, "No thanks"))
            self.state[chat] = NEW

        @rule(hours=st.sampled_from([1, 12, LINK_HOURS]))
        def time_passes(self, hours: int) -> None:
            bot.clock.now += timedelta(hours=hours)

        @invariant()
        def one_chat_at_most_and_the_right_one(self) -> None:
            if not hasattr(self, "patient_id"):
                return
            chats, used = run(self._stored)
            assert chats == ([str(self.taken_by)] if self.taken_by is not None else []), (
                chats,
                self.state,
            )
            assert used == (self.taken_by is not None)

        async def _stored(self) -> tuple[list[str], bool]:
            rows = await admin_conn.fetch(
                "select address from contact_points"
                " where patient_id = $1 and channel = 'telegram' order by address",
                self.patient_id,
            )
            used = await admin_conn.fetchval(
                "select used_at is not null from patient_invites where patient_id = $1",
                self.patient_id,
            )
            return [r["address"] for r in rows], bool(used)

    return OneInviteManyChats


async def _call(work: Callable[[], Awaitable[T]]) -> T:
    return await work()


async def test_one_invite_many_chats_any_order(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    await asyncio.to_thread(
        run_state_machine_as_test,
        machine_for(bot, admin_conn),
        settings=stateful_settings(EXAMPLES, STEPS),
    )
