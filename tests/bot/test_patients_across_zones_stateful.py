"""A stateful property test of several patients at once, in zones whose clocks jump.

``tests/bot/test_medicine_lifecycle_stateful.py`` follows one UTC patient over time. Here each
sequence has two patients, each on Telegram or SMS, in one of Europe/Berlin, America/New_York,
Australia/Sydney, Australia/Lord_Howe (whose clocks change by half an hour), America/St_Johns
and Asia/Kolkata (half-hour offsets), with quiet hours spanning midnight or none (typed in
/settings), and it starts shortly before a clock change in one of the zones (spring forward,
fall back) or a midnight: adding a medicine at a wall time a few minutes ahead, at 02:30 or 02:10
(which may not exist, or happen twice, that night), at both 02:00 and 02:30 (two times in one
gap), at 01:45, or around midnight; time passing
in steps of minutes to hours, each with the worker's planner tick and dispatcher; answers by
button, number and word; changing quiet hours through /settings mid-day; new times for a
medicine through /meds (a re-plan while its doses are reminded, nagged, snoozed or at their
missed mark); and the patient answering while the worker has a reminder claimed and is sending
it (the answer is processed inside the channel's send, between the claim and the record).

The real bot engine, planner and dispatcher on real Postgres; recording senders; one fixed clock
the test moves (the machine's clock and timezone play no part).

Invariants, checked at every send and after every step:

* a medication message goes to its own patient's address, about an active dose of theirs;
* no follow-up is sent inside the patient's quiet hours (in the patient's zone, at send time);
* a reminder names the dose's local time, and is not sent before the dose is due;
* a dose's due instant, read in the patient's zone, is its wall time (when the clocks skip that
  wall time, the first instant after the gap), and no schedule has two doses for one local date
  and time, or two at one instant;
* an answer changes only the answering patient's doses: a button only its dose, a typed answer
  at most one dose, one that was reminded on that channel;
* no dose is reminded twice, except once more after each snooze;
* a pass at or after a dose's missed mark leaves it answered, missed or cancelled, never waiting;
* no dose is missed without its reminder having been sent (a patient who never paused).

``MEDREMIND_STATEFUL_EXAMPLES`` and ``MEDREMIND_STATEFUL_STEPS`` make the search bigger (as for
the router's machine, whose run settings this one shares); by default it runs fewer sequences
than that machine, each being longer. It found that "none" typed as quiet hours kept the
default window (tests/bot/test_settings_and_account.py::test_quiet_hours_none_means_none...).
"""

from __future__ import annotations

import asyncio
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
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from bot.context import BotContext
from bot.conversation import TOKEN_PREFIX
from bot.intake import process_inbound, store_inbound
from core.db import Database
from core.messages import OutboundMessage
from core.settings import Settings
from core.templating import TemplateRenderer
from platforms.base import Channel, Receipt
from scheduler.dispatcher import Dispatcher, DispatcherConfig
from scheduler.planner import run_planner_tick
from tests import factories
from tests.bot.helpers import inbound_event
from tests.bot.test_answer_router_stateful import settings_for_run
from tests.bot.test_medicine_lifecycle_stateful import World as LifecycleWorld
from tests.dispatch.recording import RecordingSender

T = TypeVar("T")
MEDICATION_KINDS = ("medication_reminder", "dose_followup")
# Southern-hemisphere clocks change in April and October; Lord Howe's by half an hour, St John's
# keeps a half-hour offset across its change, Kolkata's (+05:30) never changes.
ZONES = (
    "Europe/Berlin",
    "America/New_York",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "America/St_Johns",
    "Asia/Kolkata",
)
# Instants a few minutes before a wall clock jumps somewhere: Berlin springs forward at 01:00 UTC
# on 28 March 2027 and falls back at 01:00 UTC on 25 October 2026; New York springs forward at
# 07:00 UTC on 14 March 2027 and falls back at 06:00 UTC on 1 November 2026; New Year's Eve.
STARTS = (
    datetime(2027, 3, 28, 0, 20, tzinfo=UTC),
    datetime(2026, 10, 25, 0, 20, tzinfo=UTC),
    datetime(2027, 3, 14, 6, 20, tzinfo=UTC),
    datetime(2026, 11, 1, 5, 20, tzinfo=UTC),
    datetime(2026, 12, 31, 22, 45, tzinfo=UTC),
    # Sydney springs forward at 16:00 UTC on 3 October 2026 (Lord Howe, 30 minutes, at 15:30)
    # and falls back at 16:00 UTC on 3 April 2027 (Lord Howe at 15:00); St John's springs
    # forward at 05:30 UTC on 14 March 2027 and falls back at 04:30 UTC on 1 November 2026;
    # Kolkata's midnight is 18:30 UTC.
    datetime(2026, 10, 3, 15, 10, tzinfo=UTC),
    datetime(2027, 4, 3, 14, 40, tzinfo=UTC),
    datetime(2027, 3, 14, 5, 10, tzinfo=UTC),
    datetime(2026, 11, 1, 4, 10, tzinfo=UTC),
    datetime(2026, 12, 5, 18, 20, tzinfo=UTC),
)
QUIET = (None, (time(23, 0), time(6, 0)), (time(22, 30), time(1, 30)))
# A wall time a few minutes ahead of the patient's clock, or these fixed ones (02:10 is skipped
# by Lord Howe's half-hour change too, 02:30 is not). Two times in one gap fire once, as the
# first (scheduler.recurrence): two doses at one instant failed the planner's whole batch.
FIXED_TIMES = ("02:30", "02:10", "00:10", "23:40", "01:45", "02:00, 02:30")
_names = itertools.count(1)
_addresses = itertools.count(1)


def _sprung_over(day: Any, at: Any, zone: ZoneInfo) -> bool:
    """Whether wall time ``at`` on ``day`` does not exist in ``zone`` (the clocks skip it)."""
    if day is None or at is None:
        return False
    wall = datetime.combine(day, at, tzinfo=zone)
    return wall.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall.replace(tzinfo=None)


@dataclass
class Person:
    """One patient of the sequence and what the test saw them sent."""

    patient_id: UUID
    channel: Channel
    address: str
    zone: str
    quiet: tuple[time, time] | None
    reminded: Counter[UUID] = field(default_factory=Counter)
    snoozes: Counter[UUID] = field(default_factory=Counter)
    buttons: list[tuple[UUID, str]] = field(default_factory=list)  # (dose, data), newest last
    paused_once: bool = False  # sent /pause in this sequence (a dose may then go unreminded)


@dataclass
class World(LifecycleWorld):
    """The lifecycle machine's world with a sender per channel (``sender`` is Telegram's)."""

    senders: dict[Channel, RacingSender] = field(default_factory=dict)


class RacingSender(RecordingSender):
    """A recording sender that, when told, lets a patient answer while it sends: the worker
    holds the claimed row (``processing``) and has not recorded the send yet."""

    def __init__(self, channel: Channel) -> None:
        super().__init__(channel, name=channel.value)
        self.before_send: dict[str, Callable[[OutboundMessage], Awaitable[None]]] = {}

    async def send(self, address: str, message: OutboundMessage) -> Receipt:
        hook = self.before_send.pop(address, None)
        if hook is not None:
            await hook(message)
        return await super().send(address, message)


def in_quiet_hours(local: time, quiet: tuple[time, time] | None) -> bool:
    """Whether wall time ``local`` is inside ``quiet`` (start inclusive, end exclusive)."""
    if quiet is None or quiet[0] == quiet[1]:
        return False
    start, end = quiet
    return start <= local < end if start < end else local >= start or local < end


def wall_time_exists(day: Any, at: time, zone: ZoneInfo) -> bool:
    """Whether ``at`` on ``day`` is a wall time the zone's clocks show (not skipped by DST)."""
    local = datetime.combine(day, at, tzinfo=zone)
    return local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None)


async def _forget_everyone(world: World) -> None:
    async with world.pool.acquire() as conn:
        await conn.execute("delete from patients")


def machine_for(world: World) -> type[RuleBasedStateMachine]:
    """The state machine class over ``world``."""

    class Patients(RuleBasedStateMachine):
        people = Bundle("people")

        def __init__(self) -> None:
            super().__init__()
            self.everyone: list[Person] = []

        @initialize(
            target=people,
            start=st.sampled_from(STARTS),
            kinds=st.lists(
                st.tuples(
                    st.sampled_from([Channel.TELEGRAM, Channel.SMS]),
                    st.sampled_from(ZONES),
                    st.sampled_from(QUIET),
                ),
                min_size=2,
                max_size=2,
            ),
        )
        def two_patients(self, start: datetime, kinds: list[tuple[Channel, str, Any]]) -> Any:
            world.now = start  # every sequence starts at its instant: replays are faithful
            # Nor does anything of an earlier sequence remain (its reminders would fall due).
            world.run(lambda: _forget_everyone(world))
            people = [self._register(*kind) for kind in kinds]
            for person in people:  # a medicine each, due in two minutes, so reminders come
                self.adds_a_medicine(person, minutes_ahead=2, fixed=None)
            return multiple(*people)

        def _register(self, channel: Channel, zone: str, quiet: Any) -> Person:
            person = world.run(lambda: self._new_person(channel, zone, quiet))
            self.everyone.append(person)
            world.stats[f"{channel.value} {zone}"] += 1
            return person

        async def _new_person(self, channel: Channel, zone: str, quiet: Any) -> Person:
            if channel == Channel.TELEGRAM:
                address = str(820_000_000 + next(_addresses))
                city = zone.split("/")[1].replace("_", " ")
                for text in ("/start", "I agree", "Ana", "English", city, "Yes", "Skip"):
                    await self._inbound_for(channel, address, text)
                async with world.pool.acquire() as conn:
                    patient_id = await conn.fetchval(
                        "select patient_id from conversations"
                        " where channel = 'telegram' and chat_address = $1",
                        address,
                    )
                    assert patient_id is not None, "registration did not make a patient"
                    assert (
                        await conn.fetchval("select timezone from patients where id=$1", patient_id)
                        == zone
                    )
            else:
                address = f"+1415555{next(_addresses) % 10_000:04d}"
                async with world.pool.acquire() as conn:
                    patient = await factories.create_patient(
                        conn, None, contacts={"sms": address}, timezone=zone, display_name="Bo"
                    )
                patient_id = patient["id"]
            person = Person(patient_id, channel, address, zone, None)
            await self._set_quiet(person, quiet)
            return person

        async def _set_quiet(self, person: Person, quiet: Any) -> None:
            """Quiet hours through /settings, as the patient types them."""
            text = "none" if quiet is None else f"{quiet[0]:%H:%M}-{quiet[1]:%H:%M}"
            await self._dialog(person, "/settings", "Quiet hours", text)
            async with world.pool.acquire() as conn:
                row = await conn.fetchrow(
                    "select quiet_start, quiet_end from patients where id = $1", person.patient_id
                )
            stored = None if row["quiet_start"] is None else (row["quiet_start"], row["quiet_end"])
            # "none" is an empty window of the patient's own (start = end): nothing held back.
            wanted = (time(0, 0), time(0, 0)) if quiet is None else quiet
            assert stored == wanted, (quiet, stored)
            person.quiet = stored

        # -- what the patients do -------------------------------------------------------------

        @rule(
            person=people,
            minutes_ahead=st.sampled_from([1, 3, 12, 50]),
            fixed=st.sampled_from((None, *FIXED_TIMES)),
        )
        def adds_a_medicine(self, person: Person, minutes_ahead: int, fixed: str | None) -> None:
            local = world.now.astimezone(ZoneInfo(person.zone))
            at = fixed or (local + timedelta(minutes=minutes_ahead)).strftime("%H:%M")
            name = f"Med{next(_names)}"
            world.run(lambda: self._dialog(person, "/add", name, "Skip", at, "Done",
                                           "Every day", "Today", "No end date", "Skip",
                                           "Save"))  # fmt: skip
            world.stats["medicines"] += 1

        @rule(
            person=people,
            minutes_ahead=st.sampled_from([1, 20, 70]),
            fixed=st.sampled_from((None, *FIXED_TIMES)),
        )
        def edits_a_medicine_s_times(
            self, person: Person, minutes_ahead: int, fixed: str | None
        ) -> None:
            """New times for one of the patient's medicines through /meds (Telegram's buttons):
            a re-plan while doses may be reminded, nagged, snoozed or at their missed mark."""
            if person.channel != Channel.TELEGRAM:
                return
            local = world.now.astimezone(ZoneInfo(person.zone))
            at = fixed or (local + timedelta(minutes=minutes_ahead)).strftime("%H:%M")
            world.stats["times edited"] += world.run(lambda: self._edit_times(person, at))

        async def _edit_times(self, person: Person, at: str) -> int:
            async with world.pool.acquire() as conn:
                medicine = await conn.fetchval(
                    "select id from medications where patient_id = $1 and status = 'active'"
                    " order by created_at desc limit 1",
                    person.patient_id,
                )
            if medicine is None:
                return 0
            await self._dialog(person, "/meds")
            await self._press(person, f"med:edit:{medicine}")
            await self._dialog(person, at, "Done")
            return 1

        async def _press(self, person: Person, value: str) -> None:
            """Press the button of the dialog's last message that means ``value``."""
            async with world.pool.acquire() as conn:
                tokens = await conn.fetchval(
                    "select state -> 'tokens' from conversations"
                    " where channel = 'telegram' and chat_address = $1",
                    person.address,
                )
            token = next((t for t, v in (tokens or {}).items() if v == value), None)
            assert token is not None, f"no button {value!r} shown"
            await self._inbound_for(person.channel, person.address, "", f"{TOKEN_PREFIX}{token}")

        @rule(person=people, quiet=st.sampled_from(QUIET))
        def changes_quiet_hours(self, person: Person, quiet: Any) -> None:
            world.run(lambda: self._set_quiet(person, quiet))

        @rule(person=people, command=st.sampled_from(["/pause", "/resume"]))
        def pauses_or_resumes(self, person: Person, command: str) -> None:
            person.paused_once = person.paused_once or command == "/pause"
            world.run(lambda: self._dialog(person, command))

        @precondition(lambda self: any(p.buttons for p in self.everyone))
        @rule(data=st.data())
        def answers_a_reminder(self, data: st.DataObject) -> None:
            person = data.draw(st.sampled_from([p for p in self.everyone if p.buttons]))
            dose, button = data.draw(st.sampled_from(person.buttons))
            world.run(lambda: self._answer(person, dose, button))

        @rule(person=people, text=st.sampled_from(["1", "2", "3", "Taken", "skip", "snooze"]))
        def types_an_answer(self, person: Person, text: str) -> None:
            world.run(lambda: self._type(person, text))

        @rule(person=people, text=st.sampled_from(["1", "Taken", "press"]))
        def answers_while_the_worker_sends(self, person: Person, text: str) -> None:
            """The patient's answer reaches the web while the worker sends them a reminder."""

            async def answer(message: OutboundMessage) -> None:
                world.stats["raced answers"] += 1
                if text == "press" and message.options:
                    data = message.options[0].data  # the reminder's own "Taken"
                    dose = UUID(hex=data.split(":")[1]) if data.startswith("d:") else None
                    if dose is not None:
                        await self._answer(person, dose, data)
                        return
                await self._type(person, "1" if text == "press" else text)

            world.senders[person.channel].before_send[person.address] = answer
            # Time passes until the patient's next medication message (at most three hours).
            due = world.run(lambda: self._next_medication_message(person))
            if due is not None and due <= world.now + timedelta(hours=3):
                world.now = max(due, world.now)
            else:
                world.now += timedelta(minutes=1)
            world.run(self._worker_runs)
            world.senders[person.channel].before_send.pop(person.address, None)

        async def _next_medication_message(self, person: Person) -> datetime | None:
            async with world.pool.acquire() as conn:
                return await conn.fetchval(
                    "select min(scheduled_time) from scheduled_messages"
                    " where patient_id = $1 and status = 'pending' and kind = any($2)",
                    person.patient_id,
                    list(MEDICATION_KINDS),
                )

        @rule(minutes=st.sampled_from([2, 7, 16, 40, 95]))
        def time_passes(self, minutes: int) -> None:
            world.stats["time passes"] += 1
            world.now += timedelta(minutes=minutes)
            world.run(self._worker_runs)

        # -- how it is done ---------------------------------------------------------------------

        async def _inbound_for(
            self, channel: Channel, address: str, text: str, button: str | None = None
        ) -> None:
            event = inbound_event(channel, address, text, button)
            # Received by the test's clock, as the web process stores it (its own clock): by the
            # database's, an instant after today's date read the answer as written before the
            # questions it answers, and it answered nothing.
            inbound_id = await store_inbound(world.pool, event, {}, received_at=world.now)
            assert inbound_id is not None
            ctx = BotContext(
                pool=world.pool,
                senders=dict(world.senders),
                settings=world.settings,
                clock=lambda: world.now,
            )
            await process_inbound(ctx, inbound_id, event)

        async def _dialog(self, person: Person, *texts: str) -> None:
            for text in texts:
                await self._inbound_for(person.channel, person.address, text)

        async def _doses(self) -> dict[UUID, tuple[UUID, str, datetime | None]]:
            """Every dose: its patient, status and snooze time (a snooze of a snoozed dose
            changes only the latter)."""
            async with world.pool.acquire() as conn:
                rows = await conn.fetch(
                    "select id, patient_id, status, snoozed_until from dose_events"
                )
            return {r["id"]: (r["patient_id"], r["status"], r["snoozed_until"]) for r in rows}

        def _changed(self, before: dict, after: dict) -> set[UUID]:
            return {d for d in after if before.get(d, (None, None, None))[1:] != after[d][1:]}

        async def _answer(self, person: Person, dose: UUID, button: str) -> None:
            before = await self._doses()
            await self._inbound_for(person.channel, person.address, "", button)
            changed = self._changed(before, await self._doses())
            assert changed <= {dose}, f"the button of dose {dose} changed {changed}"
            if ":s" in button and changed:
                person.snoozes[dose] += 1

        async def _type(self, person: Person, text: str) -> None:
            before = await self._doses()
            await self._inbound_for(person.channel, person.address, text)
            after = await self._doses()
            changed = self._changed(before, after)
            assert len(changed) <= 1, f"{text!r} changed {changed}"
            world.stats["typed answers recorded"] += len(changed)
            for dose in changed:
                assert after[dose][0] == person.patient_id, f"{text!r} answered another's dose"
                assert person.reminded[dose], f"{text!r} answered dose {dose} nobody asked about"
                if after[dose][1] == "snoozed":
                    person.snoozes[dose] += 1

        async def _worker_runs(self) -> None:
            """One planner tick and the dispatcher, as the worker runs them at ``world.now``."""
            await run_planner_tick(world.pool, world.now, world.settings)
            state = await self._state()
            before = {c: len(s.sends) for c, s in world.senders.items()}
            config = DispatcherConfig(worker_id="zones", platform_rates={}, recipient_rates={})
            dispatcher = Dispatcher(
                world.pool,
                dict(world.senders),
                TemplateRenderer(),
                lambda: world.now,
                config,
            )
            await dispatcher.run_once()
            by_address = {(p.channel, p.address): p for p in self.everyone}
            async with world.pool.acquire() as conn:
                for channel, sender in world.senders.items():
                    for address, message in sender.sends[before[channel] :]:
                        if (message.message_id or "").count("-") != 4:
                            continue  # a reply to an answer given during the send
                        row = await conn.fetchrow(
                            "select kind, dose_event_id, patient_id from scheduled_messages"
                            " where id = $1",
                            UUID(message.message_id or ""),
                        )
                        if row is None or row["kind"] not in MEDICATION_KINDS:
                            continue
                        self._check_send(by_address[(channel, address)], row, message, state)
            await self._check_doses()

        def _check_send(
            self, person: Person, row: asyncpg.Record, message: OutboundMessage, state: dict
        ) -> None:
            kind, dose = row["kind"], row["dose_event_id"]
            assert row["patient_id"] == person.patient_id, f"{kind} sent to another patient"
            patient_id, status, due_at = state["doses"][dose]
            assert patient_id == person.patient_id, f"{kind} about another patient's dose"
            assert not state["paused"][person.patient_id], f"{kind} to a paused patient"
            assert status in ("due", "snoozed"), f"{kind} about a dose already {status}"
            zone = ZoneInfo(person.zone)
            local_now = world.now.astimezone(zone)
            if kind == "dose_followup":
                # Unless the patient chose the reminder's own time inside them (docs/delivery.md).
                chosen = state["anchors"][dose].astimezone(zone).time()
                assert in_quiet_hours(chosen, person.quiet) or not in_quiet_hours(
                    local_now.time(), person.quiet
                ), f"follow-up at {local_now:%H:%M} {person.zone}, quiet {person.quiet}"
            else:
                assert world.now >= due_at, f"reminder at {world.now} for a dose due {due_at}"
                person.reminded[dose] += 1
                assert person.reminded[dose] <= 1 + person.snoozes[dose], (
                    f"dose {dose} reminded {person.reminded[dose]} times after"
                    f" {person.snoozes[dose]} snooze(s)"
                )
                if status == "due":
                    shown = due_at.astimezone(zone)
                    said = f"{shown:%I}".lstrip("0") + f":{shown:%M}"
                    # A set time the clocks sprang over (2:30 on the night 2:00 becomes 3:00)
                    # is named as set: "your 2:30 AM dose", sent at 3:00 (core/dose_times.py).
                    day, set_time = state["set"][dose]
                    if _sprung_over(day, set_time, zone):
                        said = f"{set_time:%I}".lstrip("0") + f":{set_time:%M}"
                    assert said in message.text, (said, message.text)
            world.stats[kind] += 1
            person.buttons = (
                person.buttons
                + [(dose, o.data) for o in message.options if o.data.startswith("d:")]
            )[-9:]

        async def _state(self) -> dict[str, Any]:
            async with world.pool.acquire() as conn:
                paused = await conn.fetch("select id, reminders_paused from patients")
                doses = await conn.fetch(
                    "select id, patient_id, status, due_at, snoozed_until, local_date,"
                    " local_time from dose_events"
                )
            return {
                "paused": {r["id"]: r["reminders_paused"] for r in paused},
                "doses": {r["id"]: (r["patient_id"], r["status"], r["due_at"]) for r in doses},
                # The wall time each dose was set for, on its day.
                "set": {r["id"]: (r["local_date"], r["local_time"]) for r in doses},
                # The current reminder's time (the dose's, or its snooze's), local to the planner.
                "anchors": {
                    r["id"]: r["snoozed_until"] if r["status"] == "snoozed" else r["due_at"]
                    for r in doses
                },
            }

        async def _check_missed_were_reminded(self) -> None:
            """No dose is missed without the patient having been sent its reminder, unless that
            reminder died unsent (expired: the worker away longer than its two hours to live,
            as answers_while_the_worker_sends may jump three hours), and then nobody is alerted
            about it (planner.sql mark_missed_unreminded). A patient who paused is left out (a
            reminder withheld by the pause may never come)."""
            async with world.pool.acquire() as conn:
                missed = await conn.fetch(
                    """select d.id, d.patient_id, d.due_at,
                              (select m.status = any('{expired,failed}')
                                      or (m.status = 'pending' and m.expires_at <= $1)
                                 from scheduled_messages m
                                where m.dose_event_id = d.id and m.kind = 'medication_reminder'
                                order by m.scheduled_time desc, m.created_at desc
                                limit 1) as died_unsent,
                              exists (select from scheduled_messages m
                                       where m.dose_event_id = d.id
                                         and m.kind = 'missed_dose_caregiver'
                                         and m.status <> 'cancelled') as alerted
                         from dose_events d where d.status = 'missed'""",
                    world.now,
                )
            for person in self.everyone:
                if person.paused_once:
                    continue
                for dose in missed:
                    if dose["patient_id"] != person.patient_id:
                        continue
                    world.stats["missed doses checked"] += 1
                    if person.reminded[dose["id"]]:
                        continue
                    world.stats["missed doses whose reminder died unsent"] += 1
                    assert dose["died_unsent"] and not dose["alerted"], (
                        f"dose due {dose['due_at']} ({person.zone}) missed, never reminded"
                        f" (its reminder died unsent: {dose['died_unsent']};"
                        f" caregiver alerted: {dose['alerted']})"
                    )

        async def _check_missed_marks(self) -> None:
            """A pass at or after a dose's missed mark (its reminder's time, or when that left
            late, plus the follow-ups' span) left it answered, missed or cancelled: never still
            waiting, whatever answers, snoozes and re-plans came between."""
            async with world.pool.acquire() as conn:
                doses = await conn.fetch(
                    """select d.id, d.status, d.due_at, d.snoozed_until,
                              p.nag_interval_minutes, p.nag_max,
                              (select max(m.sent_at) from scheduled_messages m
                                where m.dose_event_id = d.id and m.kind = 'medication_reminder'
                              ) as reminded_at
                         from dose_events d join patients p on p.id = d.patient_id
                        where d.status in ('due', 'snoozed')"""
                )
            for dose in doses:
                anchor = dose["snoozed_until"] or dose["due_at"]
                if dose["reminded_at"] is not None:
                    anchor = max(anchor, dose["reminded_at"])
                span = (dose["nag_max"] + 1) * timedelta(minutes=dose["nag_interval_minutes"])
                assert world.now < anchor + span, (
                    f"dose due {dose['due_at']} still {dose['status']} at {world.now}"
                    f" (mark {anchor + span})"
                )
                world.stats["open doses checked"] += 1

        async def _check_doses(self) -> None:
            await self._check_missed_marks()
            await self._check_missed_were_reminded()
            async with world.pool.acquire() as conn:
                rows = await conn.fetch(
                    "select d.schedule_id, d.due_at, d.local_date, d.local_time, p.timezone"
                    "  from dose_events d join patients p on p.id = d.patient_id"
                    " where d.status <> 'cancelled'"
                )
            slots = Counter((r["schedule_id"], r["local_date"], r["local_time"]) for r in rows)
            instants = Counter((r["schedule_id"], r["due_at"]) for r in rows)
            assert max(slots.values(), default=1) == 1, "two doses for one local date and time"
            assert max(instants.values(), default=1) == 1, "two doses at one instant"
            for r in rows:
                zone = ZoneInfo(r["timezone"])
                wall = r["due_at"].astimezone(zone)
                wanted = datetime.combine(r["local_date"], r["local_time"])
                if wall_time_exists(r["local_date"], r["local_time"], zone):
                    assert wall.replace(tzinfo=None) == wanted, (
                        f"dose {wanted} {r['timezone']} due {wall}"
                    )
                else:
                    # A wall time the clocks skip: the first instant after the gap.
                    world.stats["doses in a DST gap"] += 1
                    just_before = (r["due_at"] - timedelta(seconds=1)).astimezone(zone)
                    assert just_before.replace(tzinfo=None) < wanted < wall.replace(tzinfo=None), (
                        f"dose at skipped {wanted} {r['timezone']} due {wall}"
                    )

    return Patients


async def test_patients_in_zones_whose_clocks_jump(db: Database, settings: Settings) -> None:
    senders = {c: RacingSender(c) for c in (Channel.TELEGRAM, Channel.SMS)}
    world = World(
        asyncio.get_running_loop(), db, settings, senders[Channel.TELEGRAM], senders=senders
    )
    run = settings_for_run()
    if "MEDREMIND_STATEFUL_EXAMPLES" not in os.environ:
        # Each sequence registers two patients and a medicine each through the dialogs: fewer
        # sequences than the router's machine keep CI's run under a minute on a loaded machine.
        run = hypothesis_settings(run, max_examples=6, stateful_step_count=20)
    await asyncio.to_thread(run_state_machine_as_test, machine_for(world), settings=run)
    print(f"patients across zones: {dict(world.stats)}")
    assert world.stats["medication_reminder"], "no sequence got as far as a reminder"
