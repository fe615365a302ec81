"""A stateful property test of the nag loop at any hour: reminders, follow-ups, the missed mark
and caregiver alerts, for a clinic's patient and caregiver in their own time zones and quiet
windows, on the real planner, dispatcher and bot engine over real Postgres, at a clock the test
moves.

``tests/bot/test_medicine_lifecycle_stateful.py`` lets the product make its reminders for a
patient in UTC with no quiet window. Here the sequence starts at any hour of a day, the patient
lives in one of several zones with a window of their own or their clinic's (crossing midnight
or not, 14 hours long or off), their medicines are due near the window's edges, and a caregiver
on SMS (their zone, or none: the patient's) waits out the clinic's window. Time passes in steps
of up to 40 minutes (the worker's planner and dispatcher run at each), or the worker wakes for
the next message due, as it sleeps until then (every 15 minutes at least while a dose is open:
the missed mark is no message), up to twelve times in a row; the patient answers what they
were sent by button (Taken, Snooze, Skip) or pauses and resumes everything.

Invariants, checked at every send and after every step:

* a follow-up due inside the patient's quiet window follows a reminder that was itself due
  inside it (the patient chose that time; docs/delivery.md, "Quiet hours");
* no caregiver alert is sent inside the caregiver's quiet window (the clinic's, in the
  caregiver's zone, else the patient's);
* a caregiver is alerted at most once a dose, only about a dose that is missed when the alert
  goes (a late Taken calls a waiting alert off), and never about one the patient answered;
* no reminder or follow-up goes about a dose already taken or skipped, nor to a paused patient;
* a dose whose reminder reached the patient and who never answered or paused is missed within
  an hour and a step of that reminder (follow-ups every 15 minutes, three of them), and then its
  caregiver is alerted exactly once within the alert's delay, the caregiver's night and a step.

``MEDREMIND_STATEFUL_EXAMPLES`` and ``MEDREMIND_STATEFUL_STEPS`` make the search bigger (the
run settings are the router machine's).
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

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
from bot.intake import process_inbound, store_inbound
from core.db import Database
from core.settings import Settings
from core.templating import TemplateRenderer
from platforms.base import Channel, InboundEvent, InboundKind
from scheduler.dispatcher import Dispatcher, DispatcherConfig
from scheduler.planner import run_planner_tick
from tests import factories
from tests.bot.test_answer_router_stateful import _call, settings_for_run
from tests.dispatch.recording import RecordingSender

T = TypeVar("T")
DAY = datetime(2026, 3, 4, tzinfo=UTC)  # no clock change near it in any zone below
ZONES = ["UTC", "America/New_York", "Asia/Kolkata", "Australia/Sydney", "America/Los_Angeles"]
WINDOWS: list[tuple[time, time] | None] = [
    (time(21, 0), time(8, 0)),
    (time(22, 30), time(6, 0)),
    (time(19, 0), time(9, 0)),  # 14 hours: longer than a caregiver alert lives (12 h)
    (time(1, 0), time(5, 0)),  # not across midnight
    (time(0, 0), time(0, 0)),  # off
]
# Near the windows' edges; 18:30 is missed at 19:30, inside a 19:00-09:00 night for 13.5 hours.
TIMES = [time(h, m) for h, m in ((7, 50), (8, 0), (12, 0), (18, 30), (20, 45), (21, 10), (23, 30))]
MEDICATION_KINDS = ("medication_reminder", "dose_followup")
STEP_LIMIT = timedelta(minutes=40)  # the longest step between two worker runs
MISSED_AFTER = timedelta(minutes=60)  # three follow-ups 15 minutes apart, then the mark
_chats = itertools.count(820_000_001)
_phones = itertools.count(1)


def inside(at: datetime, zone: str, window: tuple[time, time]) -> bool:
    """Whether ``at`` falls in ``window`` on the wall clock of ``zone`` (start == end: off)."""
    start, end = window
    local = at.astimezone(ZoneInfo(zone)).time()
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


@dataclass
class World:
    """What every sequence shares: the test's loop, the pool, the senders, the clock."""

    loop: asyncio.AbstractEventLoop
    db: Database
    settings: Settings
    patients: RecordingSender
    caregivers: RecordingSender
    now: datetime = DAY
    stats: Counter[str] = field(default_factory=Counter)

    @property
    def pool(self) -> asyncpg.Pool:
        assert self.db.pool is not None
        return self.db.pool

    def run(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run a coroutine on the test's loop from the state machine's thread."""
        return asyncio.run_coroutine_threadsafe(_call(work), self.loop).result(timeout=120)


@dataclass
class Dose:
    """What the patient saw of one dose."""

    reminded_at: datetime | None = None  # the latest reminder (or snoozed one) that reached them
    answered: str | None = None  # "taken" or "skipped", as recorded
    alerts: int = 0


def machine_for(world: World) -> type[RuleBasedStateMachine]:
    """The state machine class over ``world``."""

    class NagLoop(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.chat = str(next(_chats))
            self.caregiver_phone = f"+1415666{next(_phones):04d}"
            self.patient_id: UUID | None = None
            self.zone = "UTC"
            self.caregiver_zone = "UTC"
            self.window = (time(0, 0), time(0, 0))  # the patient's (own or the clinic's)
            self.clinic_window = (time(0, 0), time(0, 0))
            self.alert_delay = timedelta(0)
            self.doses: dict[UUID, Dose] = {}
            self.buttons: list[tuple[UUID, str]] = []  # (dose, button data), newest last
            self.paused_ever = False

        @initialize(
            hour=st.integers(0, 23),
            zone=st.sampled_from(ZONES),
            own=st.sampled_from([*WINDOWS, None]),
            clinic=st.sampled_from(WINDOWS),
            caregiver_zone=st.sampled_from([None, *ZONES]),
            delay=st.sampled_from([0, 30]),
            times=st.lists(st.sampled_from(TIMES), min_size=1, max_size=2, unique=True),
        )
        def set_up(
            self,
            hour: int,
            zone: str,
            own: tuple[time, time] | None,
            clinic: tuple[time, time],
            caregiver_zone: str | None,
            delay: int,
            times: list[time],
        ) -> None:
            world.now = DAY + timedelta(hours=hour)
            self.zone, self.clinic_window = zone, clinic
            self.window = own or clinic
            self.caregiver_zone = caregiver_zone or zone
            self.alert_delay = timedelta(minutes=delay)
            world.stats["sequences"] += 1

            async def create() -> UUID:
                async with world.pool.acquire() as conn:
                    org = await factories.create_organization(
                        conn,
                        name="Night Clinic",
                        default_quiet_start=clinic[0],
                        default_quiet_end=clinic[1],
                    )
                    patient = await factories.create_patient(
                        conn,
                        org["id"],
                        contacts={"telegram": self.chat},
                        timezone=zone,
                        quiet_start=own[0] if own else None,
                        quiet_end=own[1] if own else None,
                    )
                    await conn.execute(
                        "insert into caregivers (patient_id, name, channel, address, timezone,"
                        " alert_delay_minutes) values ($1, 'Sam', 'sms', $2, $3, $4)",
                        patient["id"],
                        self.caregiver_phone,
                        caregiver_zone,
                        delay,
                    )
                    await factories.create_medication(
                        conn, patient["id"], times=tuple(times), name="Metformin"
                    )
                return patient["id"]

            self.patient_id = world.run(create)
            world.run(self._worker_runs)

        # -- what happens ------------------------------------------------------------------------

        @rule(minutes=st.sampled_from([1, 5, 15, 40]))
        def time_passes(self, minutes: int) -> None:
            world.now += timedelta(minutes=minutes)
            world.run(self._worker_runs)

        @rule(wakes=st.sampled_from([1, 4, 12]))
        def the_worker_wakes_for_what_is_next(self, wakes: int) -> None:
            """The clock moves to the next message due (as the worker sleeps until it), a day
            at most, ``wakes`` times: nights, missed marks and alerts come round."""

            async def wake() -> None:
                for _ in range(wakes):
                    async with world.pool.acquire() as conn:
                        due = await conn.fetchval(
                            "select min(scheduled_time) from scheduled_messages"
                            " where patient_id = $1 and status = 'pending'",
                            self.patient_id,
                        )
                        # The planner's own times (a missed mark) are no message: while a dose
                        # is open the worker's pass comes every 15 minutes at least.
                        open_ = await conn.fetchval(
                            "select exists (select from dose_events where patient_id = $1"
                            " and status in ('due', 'snoozed') and due_at <= $2)",
                            self.patient_id,
                            world.now,
                        )
                    later = world.now + timedelta(seconds=1)
                    longest = timedelta(minutes=15) if open_ else timedelta(days=1)
                    world.now = min(max(due or later, later), world.now + longest)
                    await self._worker_runs()

            world.stats["wakes"] += wakes
            world.run(wake)

        @precondition(lambda self: bool(self.buttons))
        @rule(data=st.data())
        def presses_a_reminder_button(self, data: st.DataObject) -> None:
            dose, button = data.draw(st.sampled_from(self.buttons[-6:]))
            world.run(lambda: self._press(dose, button))

        @rule(command=st.sampled_from(["/pause", "/resume"]))
        def pauses_or_resumes(self, command: str) -> None:
            self.paused_ever = self.paused_ever or command == "/pause"
            world.run(lambda: self._inbound(command))

        # -- how it is done ----------------------------------------------------------------------

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
                senders={Channel.TELEGRAM: world.patients, Channel.SMS: world.caregivers},
                settings=world.settings,
                clock=lambda: world.now,
            )
            await process_inbound(ctx, inbound_id, event)

        async def _press(self, dose: UUID, button: str) -> None:
            before = await self._statuses()
            await self._inbound("", button)
            after = await self._statuses()
            changed = {d for d in after if before.get(d) != after[d]}
            assert changed <= {dose}, f"the button of dose {dose} changed {changed}"
            if after[dose] == "snoozed" and button.rsplit(":", 1)[1].startswith("s"):
                # Its next reminder is the snoozed one, not sent yet: the nag clock waits for it.
                self.doses.setdefault(dose, Dose()).reminded_at = None
                world.stats["snoozed"] += 1
            if after[dose] in ("taken", "skipped") and before[dose] != after[dose]:
                self.doses.setdefault(dose, Dose()).answered = after[dose]
                world.stats[f"answered {after[dose]}"] += 1
                if before[dose] == "missed":
                    world.stats["late answers"] += 1

        async def _statuses(self) -> dict[UUID, str]:
            async with world.pool.acquire() as conn:
                rows = await conn.fetch(
                    "select id, status from dose_events where patient_id = $1", self.patient_id
                )
            return {r["id"]: r["status"] for r in rows}

        async def _paused(self) -> bool:
            async with world.pool.acquire() as conn:
                return bool(
                    await conn.fetchval(
                        "select reminders_paused from patients where id = $1", self.patient_id
                    )
                )

        async def _worker_runs(self) -> None:
            """One planner tick and the dispatcher until nothing is due, at ``world.now``."""
            before = await self._statuses()
            paused = await self._paused()
            await run_planner_tick(world.pool, world.now, world.settings)
            sent_before = (len(world.patients.sends), len(world.caregivers.sends))
            config = DispatcherConfig(worker_id="nag", platform_rates={}, recipient_rates={})
            senders = {Channel.TELEGRAM: world.patients, Channel.SMS: world.caregivers}
            dispatcher = Dispatcher(
                world.pool, senders, TemplateRenderer(), lambda: world.now, config
            )
            while await dispatcher.run_once() == config.batch_size:
                pass
            after = await self._statuses()
            mine = [m for a, m in world.patients.sends[sent_before[0] :] if a == self.chat]
            theirs = [
                m for a, m in world.caregivers.sends[sent_before[1] :] if a == self.caregiver_phone
            ]
            async with world.pool.acquire() as conn:
                for message in mine:
                    row = await self._row(conn, message.message_id)
                    if row["kind"] in MEDICATION_KINDS:
                        self._patient_was_sent(row, before, paused)
                        self.buttons += [(row["dose_event_id"], o.data) for o in message.options]
                for message in theirs:
                    row = await self._row(conn, message.message_id)
                    assert row["kind"] == "missed_dose_caregiver", row["kind"]
                    self._caregiver_was_sent(row, after)
            self.buttons = self.buttons[-12:]
            self._missed_in_time(after)

        async def _row(self, conn: asyncpg.Connection, message_id: str | None) -> asyncpg.Record:
            return await conn.fetchrow(
                "select m.kind, m.dose_event_id, m.scheduled_time, d.due_at, d.snoozed_until"
                "  from scheduled_messages m left join dose_events d on d.id = m.dose_event_id"
                " where m.id = $1",
                UUID(message_id or ""),
            )

        def _patient_was_sent(
            self, row: asyncpg.Record, before: dict[UUID, str], paused: bool
        ) -> None:
            kind, dose = row["kind"], row["dose_event_id"]
            assert not paused, f"{kind} to a paused patient"
            assert before[dose] in ("due", "snoozed"), f"{kind} about a dose already {before[dose]}"
            world.stats[kind] += 1
            seen = self.doses.setdefault(dose, Dose())
            assert seen.answered is None, f"{kind} about a dose answered {seen.answered}"
            if kind == "medication_reminder":
                seen.reminded_at = world.now
                return
            due = row["scheduled_time"]
            if inside(due, self.zone, self.window):
                # The reminder it follows: the dose's time, or the snooze's.
                followed = row["snoozed_until"] or row["due_at"]
                world.stats["follow-ups inside the window"] += 1
                assert inside(followed, self.zone, self.window), (
                    f"a follow-up due at {due.astimezone(ZoneInfo(self.zone)):%H:%M} in the"
                    f" quiet window {self.window} after a reminder due outside it"
                    f" ({followed.astimezone(ZoneInfo(self.zone)):%H:%M})"
                )

        def _caregiver_was_sent(self, row: asyncpg.Record, after: dict[UUID, str]) -> None:
            dose = row["dose_event_id"]
            world.stats["caregiver alerts"] += 1
            local = world.now.astimezone(ZoneInfo(self.caregiver_zone))
            assert not inside(world.now, self.caregiver_zone, self.clinic_window), (
                f"a caregiver alert at {local:%H:%M} in their quiet window {self.clinic_window}"
            )
            seen = self.doses.setdefault(dose, Dose())
            seen.alerts += 1
            assert seen.alerts == 1, "the caregiver was alerted twice about one dose"
            assert seen.answered is None, f"an alert about a dose the patient {seen.answered}"
            assert after[dose] == "missed", f"an alert about a dose {after[dose]}"

        def _missed_in_time(self, statuses: dict[UUID, str]) -> None:
            """A reminded dose nobody answered is missed in time, then alerted about."""
            if self.paused_ever:
                return
            night = timedelta(hours=14)  # the longest window above
            for dose, seen in self.doses.items():
                if seen.reminded_at is None or seen.answered is not None:
                    continue
                late = world.now - seen.reminded_at
                if statuses[dose] in ("due", "snoozed"):
                    assert late <= MISSED_AFTER + STEP_LIMIT, (
                        f"dose {dose} still {statuses[dose]} {late} after its reminder"
                    )
                if late > MISSED_AFTER + self.alert_delay + night + 2 * STEP_LIMIT:
                    assert statuses[dose] == "missed", statuses[dose]
                    assert seen.alerts == 1, f"missed {late} ago, alerts: {seen.alerts}"

        @invariant()
        def the_clock_only_moves_forward(self) -> None:
            assert world.now >= DAY

    return NagLoop


async def test_nags_missed_doses_and_caregiver_alerts_at_any_hour(
    db: Database, settings: Settings
) -> None:
    patients = RecordingSender(Channel.TELEGRAM, name="telegram")
    caregivers = RecordingSender(Channel.SMS, name="sms")
    world = World(asyncio.get_running_loop(), db, settings, patients, caregivers)
    run_settings = settings_for_run()
    await asyncio.to_thread(run_state_machine_as_test, machine_for(world), settings=run_settings)
    print(f"nag loop: {dict(world.stats)}")
    assert world.stats["medication_reminder"], "no sequence got as far as a reminder"
