"""Telegram's reminder buttons through the web app's webhook, pressed at any time by anyone.

The other machines press a chat's newest buttons as its own patient. This one presses every
button a chat ever got, as Telegram would post it (the secret, a fresh ``update_id``, the message
the button is on): fresh, twice, on an old reminder after the dose was answered, after its
medicine was paused or deleted or the patient's zone changed (the doses after it are planned
again), after /pause, the next day; the same button pressed from the neighbour's chat (forged
data, naming a dose that is not theirs) or in a group chat; the same update posted again (a
redelivery); a button's data with a snooze length no button offers (refused with the range); an
edited text (never an answer); and answers typed. Two Telegram patients per sequence, each in a
zone of their own, the clock starting at a night hour somewhere; the worker's planner and
dispatcher send the reminders to the loopback Bot API at each step of the one injected clock.

After each press:

* nothing changes but the dose the button names, and only when the press comes from that dose's
  patient's private chat, once (a redelivery of the update changes nothing and sends nothing);
* what changes has the button's meaning (Taken: taken, Skip: skipped, Snooze: snoozed until the
  time it names), and the chat is told so; when nothing changes the chat is told why, never
  that something was recorded (a Taken, Skip or Snooze text is a success's only);
* a Taken or Skip press on a dose waiting for its answer (due, snoozed, missed) of a medicine not
  deleted is recorded; a Snooze also unless the patient paused, the medicine is not active, or
  the dose's time is 12 hours past;
* every update the webhook took is stored and processed (nothing left ``received``).

A typed answer changes at most one dose, and only one of the chat's own patient.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import os
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import httpx
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test

from core.answer_buttons import QUESTION_TTL, parse_dose_data
from scheduler.planner import replan_patient
from tests import factories
from tests.bot.test_answer_router_stateful import settings_for_run
from tests.fakes.fake_telegram import (
    FakeTelegram,
    TelegramCall,
    callback_update,
    edited_update,
    text_update,
)
from tests.integration.clinician import as_clinician
from tests.web.chat import TELEGRAM_SECRET, telegram_text
from tests.web.conftest import Clock
from tests.web.worker_day import Day, worker_passes

T = TypeVar("T")
M = TypeVar("M")
ZONES = ("America/New_York", "Europe/Madrid", "Asia/Kolkata", "Pacific/Auckland", "UTC")
# Night hours somewhere, and a clock change: New York falls back at 06:00 UTC on 1 November 2026.
STARTS = (
    datetime(2026, 12, 6, 3, 0, tzinfo=UTC),
    datetime(2026, 11, 1, 5, 20, tzinfo=UTC),
    datetime(2026, 12, 5, 23, 40, tzinfo=UTC),
    datetime(2027, 1, 1, 11, 5, tzinfo=UTC),
)
WAITING = frozenset({"due", "snoozed", "missed"})
# What a reply says only when it recorded the press (bot/text_tables/answers.py, English).
SUCCESS = ("Taken at ", "Skipped: ", "OK, I'll remind you again")
_chats = itertools.count(761_000_001)


@dataclass
class World:
    """What every sequence shares: the loop, the app's client, the fakes, the one clock."""

    loop: asyncio.AbstractEventLoop
    day: Day  # the worker's passes on the web app's database, senders and clock
    web: httpx.AsyncClient
    admin: asyncpg.Connection
    telegram: FakeTelegram
    auth: dict[str, str]
    org_id: UUID
    clinician_id: UUID
    stats: Counter[str] = field(default_factory=Counter)

    @property
    def clock(self) -> Clock:
        """The one clock of the web app and the worker."""
        return self.day.clock

    def run(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run a coroutine on the test's loop from the state machine's thread."""

        async def call() -> T:
            return await work()

        return asyncio.run_coroutine_threadsafe(call(), self.loop).result(timeout=180)


@dataclass(frozen=True)
class Button:
    """A reminder button as a chat shows it: on message ``message_id`` of ``chat``."""

    chat: int
    message_id: int
    label: str
    data: str


@dataclass
class Chat:
    """One patient's private chat."""

    chat: int
    patient_id: UUID
    medicines: list[UUID]
    paused: bool = False


def _replies(calls: list[TelegramCall], chat: int) -> list[str]:
    """The texts sent to ``chat``, or edited there, by ``calls``."""
    methods = ("sendMessage", "editMessageText")
    return [c.text or "" for c in calls if c.method in methods and str(c.chat_id) == str(chat)]


def machine_for(world: World) -> type[RuleBasedStateMachine]:
    """The state machine class over ``world``."""

    class Buttons(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.chats: list[Chat] = []
            self.buttons: list[Button] = []
            self.posted: list[dict[str, Any]] = []  # press updates posted, for redeliveries
            self.seen = len(world.telegram.calls)
            world.stats["sequences"] += 1

        @initialize(
            start=st.sampled_from(STARTS),
            zones=st.lists(st.sampled_from(ZONES), min_size=2, max_size=2),
        )
        def two_patients(self, start: datetime, zones: list[str]) -> None:
            world.clock.now = start
            world.run(lambda: self._create(zones))

        async def _create(self, zones: list[str]) -> None:
            await self._stop_earlier()
            for zone in zones:
                chat = next(_chats)
                patient = await factories.create_patient(
                    world.admin,
                    world.org_id,
                    contacts={"telegram": str(chat)},
                    timezone=zone,
                    quiet_start=time(0, 0),
                    quiet_end=time(0, 0),
                )
                await world.admin.execute(
                    "insert into conversations (channel, chat_address, patient_id, locale)"
                    " values ('telegram', $1, $2, 'en')",
                    str(chat),
                    patient["id"],
                )
                # Two medicines: one due a few minutes from now, one a few hours later, local.
                local = world.clock.now.astimezone(ZoneInfo(zone))
                medicines = []
                for ahead in (timedelta(minutes=4), timedelta(hours=3, minutes=10)):
                    at = (local + ahead).time().replace(second=0, microsecond=0)
                    medicine, _ = await factories.create_medication(
                        world.admin, patient["id"], times=(at,)
                    )
                    medicines.append(medicine["id"])
                await replan_patient(world.admin, patient["id"], world.clock.now)
                self.chats.append(Chat(chat, patient["id"], medicines))

        async def _stop_earlier(self) -> None:
            """The earlier sequences' patients' medicines are stopped, so that their reminders do
            not go out as this sequence's clock passes their times again."""
            await world.admin.execute(
                "update medications set status = 'deleted' where status <> 'deleted'"
            )
            await world.admin.execute(
                "update scheduled_messages set status = 'cancelled' where status = 'pending'"
            )

        # -- time ------------------------------------------------------------------------------

        @rule(minutes=st.sampled_from([2, 10, 45, 200]))
        def minutes_pass(self, minutes: int) -> None:
            world.run(lambda: self._advance(timedelta(minutes=minutes)))

        @rule(hours=st.sampled_from([13, 25]))
        def worker_down_for_hours(self, hours: int) -> None:
            """No worker for hours (the next day comes): then two passes."""

            async def down() -> None:
                world.clock.now += timedelta(hours=hours)
                await self._pass()
                world.clock.now += timedelta(minutes=1)
                await self._pass()

            world.run(down)

        async def _advance(self, span: timedelta) -> None:
            await worker_passes(world.day, span)
            self._read()

        async def _pass(self) -> None:
            await world.day.at(world.clock.now)
            self._read()

        def _read(self) -> None:
            """The buttons of every message the chats got or saw edited since the last look."""
            calls = world.telegram.calls[self.seen :]
            self.seen += len(calls)
            ours = {c.chat for c in self.chats}
            for call in calls:
                if call.status != 200 or call.method not in ("sendMessage", "editMessageText"):
                    continue
                chat = int(call.chat_id)
                if chat not in ours:
                    continue
                if call.method == "sendMessage":
                    message_id = int(call.result["message_id"])
                else:
                    message_id = int(call.params["message_id"])
                for row in call.buttons():
                    for label, data in row:
                        if data.startswith("d:"):
                            self.buttons.append(Button(chat, message_id, label, data))
                            world.stats[f"buttons {data.split(':')[2][:1]}"] += 1

        # -- the patients ------------------------------------------------------------------------

        @rule(data=st.data(), by=st.sampled_from(["own", "own", "own", "neighbour", "group"]))
        def press_any_button_ever_shown(self, data: st.DataObject, by: str) -> None:
            if not self.buttons:
                return
            button = _pick(self.buttons, data)
            if by == "own":
                world.run(lambda: self._press(button, button.chat))
            elif by == "neighbour":
                other = next(c.chat for c in self.chats if c.chat != button.chat)
                world.run(lambda: self._press(button, other))
            else:
                world.run(lambda: self._press_in_group(button))

        @rule(data=st.data(), label=st.sampled_from(["Taken", "Skip", "Snooze"]))
        def press_the_newest_reminder(self, data: st.DataObject, label: str) -> None:
            """A chat's newest button of that label, as a patient answers a reminder."""
            chat = data.draw(st.sampled_from(self.chats))
            shown = [b for b in self.buttons if b.chat == chat.chat and b.label.startswith(label)]
            if shown:
                world.run(lambda: self._press(shown[-1], chat.chat))

        @rule(data=st.data(), length=st.sampled_from(["s0", "s721", "s999"]))
        def press_a_forged_snooze_length(self, data: st.DataObject, length: str) -> None:
            """A button's data with a snooze length no button offers, from its own chat."""
            if self.buttons:
                button = _pick(self.buttons, data)
                world.run(lambda: self._forged_length(button, length))

        @rule(data=st.data(), text=st.sampled_from(["taken", "skip", "snooze", "1"]))
        def patient_edits_a_message(self, data: st.DataObject, text: str) -> None:
            """An edited text: never an answer, whatever it says now."""
            chat = data.draw(st.sampled_from(self.chats))
            world.run(lambda: self._edited(chat.chat, text))

        @rule(data=st.data())
        def the_same_update_comes_again(self, data: st.DataObject) -> None:
            if not self.posted:
                return
            update = _pick(self.posted, data)
            world.run(lambda: self._redelivered(update))

        @rule(data=st.data(), text=st.sampled_from(["taken", "skip", "snooze", "1", "2", "3"]))
        def patient_types_an_answer(self, data: st.DataObject, text: str) -> None:
            chat = data.draw(st.sampled_from(self.chats))

            async def typed() -> None:
                before = await self._doses()
                await telegram_text(world.web, chat.chat, text)
                self._read()
                changed = _changed(before, await self._doses())
                assert len(changed) <= 1, f"{text!r} changed {changed}"
                own = await self._doses_of(chat.patient_id)
                assert changed <= own, f"{text!r} from one chat changed another's dose"
                world.stats["typed answers that changed a dose"] += len(changed)
                await self._all_processed()

            world.run(typed)

        @rule(data=st.data(), command=st.sampled_from(["/pause", "/resume"]))
        def patient_pauses_or_resumes(self, data: st.DataObject, command: str) -> None:
            chat = data.draw(st.sampled_from(self.chats))

            async def send() -> None:
                await telegram_text(world.web, chat.chat, command)
                self._read()
                chat.paused = await world.admin.fetchval(
                    "select reminders_paused from patients where id = $1", chat.patient_id
                )

            world.run(send)

        @rule(data=st.data(), status=st.sampled_from(["paused", "active", "deleted"]))
        def clinic_changes_a_medicine(self, data: st.DataObject, status: str) -> None:
            """As the dashboard writes it: the status only, as a signed-in clinician."""
            chat = data.draw(st.sampled_from(self.chats))
            medicine = data.draw(st.sampled_from(chat.medicines))

            async def change() -> None:
                async with as_clinician(world.admin, world.clinician_id) as conn:
                    await conn.execute(
                        "update medications set status = $2 where id = $1 and status <> 'deleted'",
                        medicine,
                        status,
                    )

            world.run(change)

        @rule(data=st.data(), zone=st.sampled_from(ZONES))
        def clinic_moves_the_patient(self, data: st.DataObject, zone: str) -> None:
            chat = data.draw(st.sampled_from(self.chats))

            async def move() -> None:
                moved = await world.web.patch(
                    f"/api/v1/patients/{chat.patient_id}",
                    json={"timezone": zone},
                    headers=world.auth,
                )
                assert moved.status_code == 200, moved.text
                self._read()

            world.run(move)

        # -- presses -------------------------------------------------------------------------

        async def _post(self, update: dict[str, Any]) -> dict[str, Any]:
            response = await world.web.post(
                "/telegram/webhook", json=update, headers=TELEGRAM_SECRET
            )
            assert response.status_code == 200, response.text
            answer: dict[str, Any] = response.json()
            return answer

        async def _press(self, button: Button, chat: int) -> None:
            answer = parse_dose_data(button.data)
            assert answer is not None
            named = answer.dose_event_id
            before = await self._doses()
            context = await self._context(named)
            calls = len(world.telegram.calls)
            update = callback_update(chat, button.data, message_id=button.message_id)
            reply = await self._post(update)
            assert reply.get("callback_query_id") == update["callback_query"]["id"]
            self.posted.append(update)
            after = await self._doses()
            told = _replies(world.telegram.calls[calls:], chat)
            self._read()
            changed = _changed(before, after)
            own = chat == button.chat
            world.stats[f"press {'own' if own else 'forged'}"] += 1
            assert changed <= ({named} if own else set()), (
                f"{button.label} ({button.data}) pressed in {'its' if own else 'another'} chat"
                f" changed {changed}"
            )
            assert told, f"{button.label} pressed: the chat was told nothing"
            # Told it was recorded; a snooze pressed again at the same instant changes nothing
            # that it had not already (the same time), and is recorded all the same.
            recorded = any(t.startswith(SUCCESS) for t in told)
            assert recorded or not changed, (button.label, told, changed)
            if recorded:
                assert own, f"{button.label} pressed in another chat was recorded: {told}"
                status, snoozed_until = after[named]
                assert status == answer.answer, (button.label, before[named], status)
                if status == "snoozed":
                    minutes = answer.snooze_minutes or 15
                    assert snoozed_until == world.clock.now + timedelta(minutes=minutes)
                world.stats[f"press recorded {status}"] += 1
            else:
                if own:
                    self._refused_for_a_reason(button, answer.answer, before[named][0], context)
                world.stats[f"press refused: {told[0][:28]}"] += 1
            await self._all_processed()

        def _refused_for_a_reason(
            self, button: Button, meaning: str, status: str, context: asyncpg.Record
        ) -> None:
            """A press of the dose's own chat changed nothing: it was not the dose's to take."""
            if status not in WAITING or context["medicine"] == "deleted":
                return
            if meaning == "snoozed" and (
                context["paused"]
                or context["medicine"] != "active"
                or world.clock.now - context["due_at"] > QUESTION_TTL
            ):
                return
            raise AssertionError(
                f"{button.label} on a dose {status} (medicine {context['medicine']},"
                f" paused {context['paused']}, due {world.clock.now - context['due_at']} ago)"
                " recorded nothing"
            )

        async def _press_in_group(self, button: Button) -> None:
            before = await self._doses()
            calls = len(world.telegram.calls)
            update = callback_update(button.chat, button.data, message_id=button.message_id)
            update["callback_query"]["message"]["chat"] = {
                "id": -1001000000000 - button.chat,
                "type": "supergroup",
                "title": "Family",
            }
            reply = await self._post(update)
            assert reply["method"] == "answerCallbackQuery" and reply["show_alert"] is True
            assert _changed(before, await self._doses()) == set(), "a group's press counted"
            assert world.telegram.calls[calls:] == [], "a group's press was answered by the bot"
            world.stats["press in a group"] += 1

        async def _forged_length(self, button: Button, length: str) -> None:
            before = await self._doses()
            calls = len(world.telegram.calls)
            data = button.data.rsplit(":", 1)[0] + ":" + length
            update = callback_update(button.chat, data, message_id=button.message_id)
            reply = await self._post(update)
            assert reply["method"] == "answerCallbackQuery" and reply["show_alert"] is True
            assert "720 minutes" in reply["text"], reply
            assert _changed(before, await self._doses()) == set(), "a forged snooze counted"
            assert world.telegram.calls[calls:] == [], "a forged snooze was answered by the bot"
            world.stats["forged snooze lengths"] += 1

        async def _edited(self, chat: int, text: str) -> None:
            before = await self._doses()
            calls = len(world.telegram.calls)
            reply = await self._post(edited_update(text_update(chat, "x"), text=text))
            assert reply["method"] == "sendMessage" and reply["chat_id"] == chat, reply
            assert _changed(before, await self._doses()) == set(), f"an edit {text!r} counted"
            assert world.telegram.calls[calls:] == [], "an edit was answered through the Bot API"
            world.stats["edits"] += 1

        async def _redelivered(self, update: dict[str, Any]) -> None:
            before = await self._doses()
            calls = len(world.telegram.calls)
            await self._post(copy.deepcopy(update))
            assert _changed(before, await self._doses()) == set(), "a redelivery counted again"
            sent = [c.method for c in world.telegram.calls[calls:]]
            assert sent == [], f"a redelivery was answered again: {sent}"
            world.stats["redeliveries"] += 1

        # -- the database ------------------------------------------------------------------------

        async def _doses(self) -> dict[UUID, tuple[str, datetime | None]]:
            rows = await world.admin.fetch(
                "select id, status, snoozed_until from dose_events where patient_id = any($1)",
                [c.patient_id for c in self.chats],
            )
            return {r["id"]: (r["status"], r["snoozed_until"]) for r in rows}

        async def _doses_of(self, patient_id: UUID) -> set[UUID]:
            rows = await world.admin.fetch(
                "select id from dose_events where patient_id = $1", patient_id
            )
            return {r["id"] for r in rows}

        async def _context(self, dose: UUID) -> asyncpg.Record:
            row = await world.admin.fetchrow(
                "select d.due_at, m.status as medicine, p.reminders_paused as paused"
                " from dose_events d join medications m on m.id = d.medication_id"
                " join patients p on p.id = d.patient_id where d.id = $1",
                dose,
            )
            assert row is not None
            return row

        async def _all_processed(self) -> None:
            left = await world.admin.fetchval(
                "select count(*) from inbound_messages where status <> 'processed'"
            )
            assert left == 0, f"{left} stored updates not processed"

    return Buttons


def _pick(items: list[M], data: st.DataObject) -> M:
    """One of ``items``, the newest the simplest: drawn by a bounded index, so that a sequence
    replayed with another number of items (the worker's passes may send them in other batches)
    draws alike."""
    return items[-1 - data.draw(st.integers(min_value=0, max_value=63)) % len(items)]


def _changed(
    before: dict[UUID, tuple[str, datetime | None]], after: dict[UUID, tuple[str, datetime | None]]
) -> set[UUID]:
    """The doses whose status or snooze changed (a dose planned meanwhile is not a change)."""
    return {dose for dose, state in before.items() if after.get(dose) != state}


async def test_telegram_buttons_pressed_by_anyone_at_any_time(
    web: httpx.AsyncClient,
    day: Day,
    admin_conn: asyncpg.Connection,
    org: asyncpg.Record,
    auth: dict[str, str],
    fake_telegram: FakeTelegram,
) -> None:
    """The web app of ``web`` and the worker's passes of ``day`` share one clock."""
    clinician = await factories.create_clinician(admin_conn, org["id"])
    world = World(
        asyncio.get_running_loop(),
        day,
        web,
        admin_conn,
        fake_telegram,
        auth,
        org["id"],
        clinician["id"],
    )
    run = settings_for_run()
    if "MEDREMIND_STATEFUL_EXAMPLES" not in os.environ:
        run = hypothesis_settings(run, max_examples=10, stateful_step_count=30)
    await asyncio.to_thread(run_state_machine_as_test, machine_for(world), settings=run)
    print(f"telegram buttons: {dict(sorted(world.stats.items()))}")
    assert world.stats["press own"], "no sequence pressed a button"
    recorded = sum(n for key, n in world.stats.items() if key.startswith("press recorded "))
    assert recorded, "no press recorded an answer"
