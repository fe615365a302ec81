"""A stateful property test of a patient's medicines over time: the real bot engine, the real
planner and dispatcher, real Postgres, a fixed clock the test moves.

``tests/bot/test_answer_router_stateful.py`` interleaves answers with reminders the test inserts
itself. This machine lets the product make its own reminders: a patient registered through the
bot's /start dialog adds medicines with /add (times a few minutes to hours ahead of the clock),
edits their times, pauses and deletes them through /meds, pauses and resumes everything with
/pause and /resume (or either said in words, "pause for 3 days", at no question or under the
/meds list: the patient's pause is then as the command leaves it; "/pause 30 min" pauses nothing
and says to type a snooze), and answers reminders by button (Taken, Snooze, Skip) or by typing
"1" or a snooze ("snooze 30", "posponer 90"); time passes in steps, and at each step the
worker's planner tick and dispatcher run as the worker runs them. Inbound updates go through
``store_inbound`` and ``process_inbound`` as the web process hands them on; the channel is a
recording sender.

Invariants, checked at every send and after every step:

* an answer by button lands on the dose its button names, and on no other dose;
* a typed "1" changes at most one dose, to taken, and only one the patient was reminded of;
  a typed snooze at most one, to snoozed, of an active medicine, while the patient is not paused;
* a paused patient, a paused medicine and a deleted medicine get no medication message;
* no dose is reminded twice, except once more after each snooze;
* no reminder is sent for a dose already answered (taken or skipped);
* a deleted or paused medicine leaves no pending message about any of its doses;
* the reminder /add or a time edit promised comes by its time, unless the patient or the
  medicine was paused over it, it was deleted, or the day already has a dose of it (a time
  moved after the day's dose gives the day no other);
* a button on a deleted medicine's open dose records nothing, whatever the answer.

Patients live in UTC with no quiet window, so the run does not depend on the hour.
``MEDREMIND_STATEFUL_EXAMPLES`` and ``MEDREMIND_STATEFUL_STEPS`` make the search bigger (as for
the router's machine, whose run settings this one shares).
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

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

from bot.context import BotContext
from bot.conversation import TOKEN_PREFIX
from bot.intake import process_inbound, store_inbound
from core.db import Database
from core.settings import Settings
from core.templating import TemplateRenderer
from platforms.base import Channel, InboundEvent, InboundKind
from scheduler.dispatcher import Dispatcher, DispatcherConfig
from scheduler.planner import run_planner_tick
from tests.bot.test_answer_router_stateful import _call, settings_for_run
from tests.dispatch.recording import RecordingSender

T = TypeVar("T")
START = datetime(2026, 3, 4, 11, 58, tzinfo=UTC)
MEDICATION_KINDS = ("medication_reminder", "dose_followup")
_OPEN = ("due", "snoozed", "missed")  # a dose an answer can still change
FINAL = ("taken", "skipped")  # a dose's answer that stands
_chats = itertools.count(810_000_001)
_names = itertools.count(1)


@dataclass
class World:
    """What every sequence shares: the test's loop, the pool, the sender, the clock."""

    loop: asyncio.AbstractEventLoop
    db: Database
    settings: Settings
    sender: RecordingSender
    now: datetime = START
    stats: Counter[str] = field(default_factory=Counter)

    @property
    def pool(self) -> asyncpg.Pool:
        assert self.db.pool is not None
        return self.db.pool

    def run(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run a coroutine on the test's loop from the state machine's thread."""
        return asyncio.run_coroutine_threadsafe(_call(work), self.loop).result(timeout=120)


def _refused_snooze_says(status: str, *, paused: bool) -> str:
    """What the reply to a refused snooze of a dose in ``status`` says."""
    if status in FINAL:
        return "already recorded"
    if paused and status != "cancelled":
        return "Your reminders are paused"  # and how to resume them
    return "no longer"


# The patient's pause and resume, with the slash and said in words, and what each one is. A
# break of minutes or hours is neither: nothing is paused, the patient is told to snooze
# (bot.dialogs.pause_short), and the paused state stays as it was.
PAUSE_OR_RESUME = {
    "/pause": "pause", "/resume": "resume", "pause for 3 days": "pause", "pausa 3 días": "pause",
    "Resume my reminders": "resume", "reanudar los recordatorios": "resume",
    "/pause until Monday": "pause", "/pause 30 min": "neither", "pause for an hour": "neither",
    "pausa 2 horas": "neither",
}  # fmt: skip


def machine_for(world: World) -> type[RuleBasedStateMachine]:
    """The state machine class over ``world``."""

    class Medicines(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            world.now = START  # every sequence starts at the same instant: replays are faithful
            self.chat = str(next(_chats))
            self.patient_id: UUID | None = None
            self.reminded: Counter[UUID] = Counter()  # medication_reminder sends per dose
            self.snoozes: Counter[UUID] = Counter()  # snooze answers recorded per dose
            self.buttons: list[tuple[UUID, str]] = []  # (dose, button data) shown, newest last
            self.medicines = 0  # not deleted
            # The reminder each medicine's last /add or time edit promised: its instant.
            self.promised: dict[UUID, datetime] = {}

        @initialize()
        def register(self) -> None:
            self.patient_id = world.run(self._register)

        async def _register(self) -> UUID:
            for text in ("/start", "I agree", "Ana", "English", "UTC", "Yes", "Skip"):
                await self._inbound(text)
            async with world.pool.acquire() as conn:
                patient_id = await conn.fetchval(
                    "select patient_id from conversations"
                    " where channel = 'telegram' and chat_address = $1",
                    self.chat,
                )
                assert patient_id is not None, "registration did not make a patient"
                await conn.execute(
                    "update patients set quiet_start = '00:00', quiet_end = '00:00' where id = $1",
                    patient_id,
                )
            return patient_id

        # -- what the patient does ------------------------------------------------------------

        @rule(minutes_ahead=st.sampled_from([1, 2, 10, 130]))
        def adds_a_medicine(self, minutes_ahead: int) -> None:
            at = (world.now + timedelta(minutes=minutes_ahead)).strftime("%H:%M")
            name = f"Med{next(_names)}"
            before = set(world.run(self._medicines))
            world.run(lambda: self._dialog("/add", name, "Skip", at, "Done", "Every day",
                                           "Today", "No end date", "Skip", "Save"))  # fmt: skip
            for medicine in set(world.run(self._medicines)) - before:
                self.promised[medicine] = world.now + timedelta(minutes=minutes_ahead)

        @precondition(lambda self: self.medicines > 0)
        @rule(data=st.data(), minutes_ahead=st.sampled_from([2, 20, 90]))
        def edits_a_medicine_s_time(self, data: st.DataObject, minutes_ahead: int) -> None:
            medicine = self._draw_medicine(data)
            if medicine is None:
                return
            at = (world.now + timedelta(minutes=minutes_ahead)).strftime("%H:%M")
            world.run(lambda: self._meds_button(f"med:edit:{medicine}", at, "Done"))
            self.promised[medicine] = world.now + timedelta(minutes=minutes_ahead)

        @precondition(lambda self: self.medicines > 1)  # keep one, so reminders come
        @rule(data=st.data())
        def deletes_a_medicine(self, data: st.DataObject) -> None:
            medicine = self._draw_medicine(data)
            if medicine is not None:
                world.stats["deletes"] += 1
                world.run(lambda: self._meds_button(f"med:delete:{medicine}", confirm="delmed:yes"))

        @precondition(lambda self: self.medicines > 0)
        @rule(data=st.data())
        def pauses_or_resumes_a_medicine(self, data: st.DataObject) -> None:
            medicine = self._draw_medicine(data)
            if medicine is not None:
                status = world.run(self._state)["medicines"][medicine]
                action = "resume" if status == "paused" else "pause"
                world.run(lambda: self._meds_button(f"med:{action}:{medicine}"))

        def _draw_medicine(self, data: st.DataObject) -> UUID | None:
            medicines: list[UUID | None] = [*world.run(self._medicines)]
            return data.draw(st.sampled_from(medicines or [None]))

        @rule(command=st.sampled_from(sorted(PAUSE_OR_RESUME)), under_the_list=st.booleans())
        def pauses_or_resumes_everything(self, command: str, under_the_list: bool = False) -> None:
            """/pause or /resume, or either said in words (bot.command_phrases), at no question
            or under the /meds list (a menu of buttons, which reads no typed text): all the same
            to the patient's pause."""
            texts = ("/meds", command) if under_the_list else (command,)
            was = world.run(self._state)["paused"]
            world.run(lambda: self._dialog(*texts))
            paused = world.run(self._state)["paused"]
            kind = PAUSE_OR_RESUME[command]
            assert paused is (was if kind == "neither" else kind == "pause"), (texts, paused)

        @precondition(lambda self: bool(self.buttons))
        @rule(data=st.data())
        def presses_a_reminder_button(self, data: st.DataObject) -> None:
            dose, button = data.draw(st.sampled_from(self.buttons))
            world.run(lambda: self._press(dose, button))

        @rule()
        def types_1(self) -> None:
            world.run(self._type_1)

        @rule(text=st.sampled_from(["snooze 30", "posponer 90"]))
        def types_a_snooze(self, text: str) -> None:
            """The snooze a short break's reply tells the patient to type."""
            world.run(lambda: self._type_snooze(text))

        @rule(minutes=st.sampled_from([1, 2, 16, 40]))
        def time_passes(self, minutes: int) -> None:
            world.now += timedelta(minutes=minutes)
            world.stats["time passes"] += 1
            world.run(self._worker_runs)

        # -- how it is done ---------------------------------------------------------------------

        async def _inbound(self, text: str, button: str | None = None) -> None:
            event = InboundEvent(
                channel=Channel.TELEGRAM,
                provider_id=uuid.uuid4().hex,
                chat_address=self.chat,
                kind=InboundKind.BUTTON if button else InboundKind.TEXT,
                text=text,
                button_data=button,
                callback_query_id=uuid.uuid4().hex if button else None,
            )
            inbound_id = await store_inbound(world.pool, event, {})
            assert inbound_id is not None
            ctx = BotContext(
                pool=world.pool,
                senders={Channel.TELEGRAM: world.sender},
                settings=world.settings,
                clock=lambda: world.now,
            )
            await process_inbound(ctx, inbound_id, event)

        async def _dialog(self, *texts: str) -> None:
            for text in texts:
                await self._inbound(text)
            await self._check_nothing_pending_for_stopped_medicines()

        async def _meds_button(self, button: str, *texts: str, confirm: str | None = None) -> None:
            """A button under the /meds list, then ``confirm``'s button and ``texts``."""
            await self._inbound("/meds")
            await self._press_dialog(button)
            if confirm is not None:
                await self._press_dialog(confirm)
            for text in texts:
                await self._inbound(text)
            await self._check_nothing_pending_for_stopped_medicines()

        async def _press_dialog(self, value: str) -> None:
            """Press the button of the dialog's last message that means ``value`` (a dialog's
            buttons carry a token the conversation maps to their meaning)."""
            async with world.pool.acquire() as conn:
                tokens = await conn.fetchval(
                    "select state -> 'tokens' from conversations"
                    " where channel = 'telegram' and chat_address = $1",
                    self.chat,
                )
            token = next((t for t, v in (tokens or {}).items() if v == value), None)
            assert token is not None, f"no button {value!r} shown"
            await self._inbound("", f"{TOKEN_PREFIX}{token}")

        async def _medicines(self) -> list[UUID]:
            async with world.pool.acquire() as conn:
                rows = await conn.fetch(
                    "select id from medications where patient_id = $1 and status <> 'deleted'"
                    " order by created_at",
                    self.patient_id,
                )
            return [r["id"] for r in rows]

        async def _doses(self) -> dict[UUID, str]:
            async with world.pool.acquire() as conn:
                rows = await conn.fetch(
                    "select id, status from dose_events where patient_id = $1", self.patient_id
                )
            return {r["id"]: r["status"] for r in rows}

        async def _snoozes(self) -> dict[UUID, tuple[str, datetime | None]]:
            async with world.pool.acquire() as conn:
                rows = await conn.fetch(
                    "select id, status, snoozed_until from dose_events where patient_id = $1",
                    self.patient_id,
                )
            return {r["id"]: (r["status"], r["snoozed_until"]) for r in rows}

        async def _press(self, dose: UUID, button: str) -> None:
            state = await self._state()
            medicine, _ = state["doses"][dose]
            stopped = state["medicines"][medicine] != "active"
            before = await self._doses()
            sent = len(world.sender.sends)
            await self._inbound("", button)
            after = await self._doses()
            changed = {d for d in after if before.get(d) != after[d]}
            assert changed <= {dose}, f"the button of dose {dose} changed {changed}"
            code = button.rsplit(":", 1)[1][0]
            said = [m.text for a, m in world.sender.sends[sent:] if a == self.chat]
            if state["medicines"][medicine] == "deleted" and before[dose] not in FINAL:
                # Nothing is recorded against a deleted medicine, whatever the answer and however
                # late (migration 20260101012220): the patient is told it is no longer listed.
                assert not changed, f"answered a dose of a deleted medicine ({button})"
                assert len(said) == 1 and "no longer in your list" in said[0], said
            elif code == "s" and (stopped or state["paused"]):
                # A paused or deleted medicine's dose is reminded of no more, nor is a paused
                # patient's; none is promised.
                assert not changed, f"snoozed a dose (paused: {state['paused']})"
                (reply,) = said
                told = _refused_snooze_says(before[dose], paused=state["paused"])
                assert told in reply, reply
            elif before[dose] in _OPEN:
                wanted = {"t": "taken", "s": "snoozed", "k": "skipped"}[code]
                assert after[dose] == wanted, (button, before[dose], after[dose])
                if code == "s":
                    self.snoozes[dose] += 1
                    world.stats["snoozes"] += 1

        async def _type_1(self) -> None:
            before = await self._doses()
            await self._inbound("1")
            after = await self._doses()
            changed = {d for d in after if before.get(d) != after[d]}
            assert len(changed) <= 1, f"'1' changed {changed}"
            for dose in changed:
                assert self.reminded[dose], f"'1' answered dose {dose} nobody asked about"
                assert after[dose] == "taken", (before[dose], after[dose])

        async def _type_snooze(self, text: str) -> None:
            """A typed snooze changes at most one dose, to snoozed: one the patient was
            reminded of, of an active medicine, while their reminders are on."""
            state = await self._state()
            before = await self._snoozes()
            await self._inbound(text)
            after = await self._snoozes()
            # A dose snoozed again keeps its status: its new time says it was.
            changed = {d for d in after if before.get(d) != after[d]}
            assert len(changed) <= 1, f"{text!r} changed {changed}"
            for dose in changed:
                medicine, _ = state["doses"][dose]
                assert self.reminded[dose], f"{text!r} answered dose {dose} nobody asked about"
                assert after[dose][0] == "snoozed", (state["doses"][dose], after[dose])
                assert not state["paused"], f"{text!r} snoozed a dose while paused"
                assert state["medicines"][medicine] == "active", state["medicines"][medicine]
                self.snoozes[dose] += 1
                world.stats["typed snoozes"] += 1

        async def _worker_runs(self) -> None:
            """One planner tick and the dispatcher, as the worker runs them at ``world.now``."""
            state = await self._state()
            await run_planner_tick(world.pool, world.now, world.settings)
            before = len(world.sender.sends)
            config = DispatcherConfig(worker_id="lifecycle", platform_rates={}, recipient_rates={})
            dispatcher = Dispatcher(
                world.pool,
                {Channel.TELEGRAM: world.sender},
                TemplateRenderer(),
                lambda: world.now,
                config,
            )
            await dispatcher.run_once()
            sent = [m for a, m in world.sender.sends[before:] if a == self.chat]
            async with world.pool.acquire() as conn:
                for message in sent:
                    row = await conn.fetchrow(
                        "select kind, dose_event_id from scheduled_messages where id = $1",
                        UUID(message.message_id or ""),
                    )
                    if row["kind"] not in MEDICATION_KINDS:
                        continue
                    dose = row["dose_event_id"]
                    assert not state["paused"], f"{row['kind']} to a paused patient"
                    medicine, dose_status = state["doses"][dose]
                    assert state["medicines"][medicine] == "active", (
                        f"{row['kind']} about a {state['medicines'][medicine]} medicine"
                    )
                    assert dose_status in ("due", "snoozed"), (
                        f"{row['kind']} about a dose already {dose_status}"
                    )
                    world.stats[row["kind"]] += 1
                    if row["kind"] == "medication_reminder":
                        self.reminded[dose] += 1
                        assert self.reminded[dose] <= 1 + self.snoozes[dose], (
                            f"dose {dose} reminded {self.reminded[dose]} times after"
                            f" {self.snoozes[dose]} snooze(s)"
                        )
                    self.buttons += [(dose, o.data) for o in message.options]
            self.buttons = self.buttons[-12:]
            await self._check_nothing_pending_for_stopped_medicines()
            await self._check_promised_reminders_came(state)

        async def _check_promised_reminders_came(self, state: dict[str, Any]) -> None:
            """A reminder /add or a time edit promised comes by its time, unless the patient or
            the medicine was paused (``state``, as it was since the last pass) or deleted, or
            the day (UTC, the patient's) has another dose of the medicine: a time moved after
            the day's dose, or while it waits, gives the day no other dose
            (scheduler/planning_day_quota.py: any dose but a cancelled one counts)."""
            for medicine, due in list(self.promised.items()):
                if due > world.now:
                    continue
                del self.promised[medicine]
                if state["paused"] or state["medicines"].get(medicine) != "active":
                    continue
                async with world.pool.acquire() as conn:
                    day = await conn.fetch(
                        "select id, status, due_at from dose_events where medication_id = $1"
                        " and (due_at at time zone 'UTC')::date = $2 and status <> 'cancelled'",
                        medicine,
                        due.date(),
                    )
                if any(d["due_at"] != due for d in day):
                    continue
                doses = [d for d in day if d["due_at"] == due]
                assert len(doses) == 1, f"{len(doses)} doses at the promised {due:%H:%M}"
                (dose,) = doses
                world.stats["promised reminders checked"] += 1
                assert self.reminded[dose["id"]] or dose["status"] in ("taken", "skipped"), (
                    f"no reminder for the dose promised at {due:%H:%M} ({dose['status']})"
                )

        async def _state(self) -> dict[str, Any]:
            async with world.pool.acquire() as conn:
                paused = await conn.fetchval(
                    "select reminders_paused from patients where id = $1", self.patient_id
                )
                medicines = await conn.fetch(
                    "select id, status from medications where patient_id = $1", self.patient_id
                )
                doses = await conn.fetch(
                    "select id, medication_id, status from dose_events where patient_id = $1",
                    self.patient_id,
                )
            return {
                "paused": paused,
                "medicines": {r["id"]: r["status"] for r in medicines},
                "doses": {r["id"]: (r["medication_id"], r["status"]) for r in doses},
            }

        async def _check_nothing_pending_for_stopped_medicines(self) -> None:
            self.medicines = len(await self._medicines())
            async with world.pool.acquire() as conn:
                left = await conn.fetch(
                    "select s.kind, m.status as medicine, d.status as dose, s.scheduled_time"
                    "  from scheduled_messages s"
                    "  join dose_events d on d.id = s.dose_event_id"
                    "  join medications m on m.id = d.medication_id"
                    " where m.patient_id = $1 and m.status in ('deleted', 'paused')"
                    "   and s.status in ('pending', 'processing')",
                    self.patient_id,
                )
            assert not left, f"messages left pending for stopped medicines: {list(map(dict, left))}"

        @invariant()
        def the_clock_only_moves_forward(self) -> None:
            world.stats["steps"] += 1
            assert world.now >= START

    return Medicines


async def test_medicines_reminders_and_answers_over_time(db: Database, settings: Settings) -> None:
    sender = RecordingSender(Channel.TELEGRAM, name="telegram")
    world = World(asyncio.get_running_loop(), db, settings, sender)
    run_settings = settings_for_run()
    await asyncio.to_thread(run_state_machine_as_test, machine_for(world), settings=run_settings)
    print(f"medicine lifecycle: {dict(world.stats)}")
    assert world.stats["medication_reminder"], "no sequence got as far as a reminder"


# Sequences the machine found, replayed step by step (each failed before its fix).


async def _replay(db: Database, settings: Settings, steps: Callable[[Any, World], None]) -> None:
    world = World(asyncio.get_running_loop(), db, settings, RecordingSender(Channel.TELEGRAM))
    await asyncio.to_thread(lambda: steps(machine_for(world)(), world))


def _snooze_button(machine: Any) -> tuple[UUID, str]:
    return next(b for b in machine.buttons if b[1].endswith(":s"))


async def test_a_deleted_medicine_s_snoozed_reminder_does_not_come_back(
    db: Database, settings: Settings
) -> None:
    """Deleting a medicine cancelled only its doses due later: a dose reminded and snoozed
    kept its snoozed reminder (and an unanswered one its nags), sent for a deleted medicine."""

    def steps(machine: Any, world: World) -> None:
        machine.register()
        machine.adds_a_medicine(minutes_ahead=1)
        machine.time_passes(minutes=1)
        dose, snooze = _snooze_button(machine)
        world.run(lambda: machine._press(dose, snooze))
        (medicine,) = world.run(machine._medicines)
        world.run(lambda: machine._meds_button(f"med:delete:{medicine}", confirm="delmed:yes"))
        assert world.run(machine._doses)[dose] == "cancelled"
        machine.time_passes(minutes=16)  # the snoozed reminder's time: nothing is sent

    await _replay(db, settings, steps)


async def test_a_paused_medicine_s_missed_dose_cannot_be_snoozed(
    db: Database, settings: Settings
) -> None:
    """Snooze on the old reminder of a missed dose of a paused medicine scheduled a new reminder
    for it (and the bot promised it)."""

    def steps(machine: Any, world: World) -> None:
        machine.register()
        machine.adds_a_medicine(minutes_ahead=1)
        machine.time_passes(minutes=1)
        dose, snooze = _snooze_button(machine)
        for _ in range(5):
            machine.time_passes(minutes=40)
        assert world.run(machine._doses)[dose] == "missed"
        (medicine,) = world.run(machine._medicines)
        world.run(lambda: machine._meds_button(f"med:pause:{medicine}"))
        world.run(lambda: machine._press(dose, snooze))
        world.run(machine._check_nothing_pending_for_stopped_medicines)

    await _replay(db, settings, steps)


async def test_a_medicine_saved_while_paused_says_no_reminder_comes_yet(
    db: Database, settings: Settings
) -> None:
    """/add while every reminder is paused answered "Saved. I'll remind you at ..." and then no
    reminder came: the answer now says they are paused and how to resume."""

    def steps(machine: Any, world: World) -> None:
        machine.register()
        machine.pauses_or_resumes_everything(command="/pause")
        sent = len(world.sender.sends)
        machine.adds_a_medicine(minutes_ahead=10)
        replies = [m.text for a, m in world.sender.sends[sent:] if a == machine.chat]
        assert replies[-1].startswith("Saved. I'll remind you at 12:08"), replies[-1]
        assert "Your reminders are paused: send /resume" in replies[-1]
        machine.time_passes(minutes=16)
        machine.pauses_or_resumes_everything(command="/resume")
        machine.adds_a_medicine(minutes_ahead=10)
        assert "paused" not in world.sender.sends[-1][1].text

    await _replay(db, settings, steps)
