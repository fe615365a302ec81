"""Opt-out and opt-in words in English and Spanish, interleaved with reminders, answers and missed
doses: a stateful property test on the real engine, dispatcher and Postgres.

Hypothesis's ``RuleBasedStateMachine`` drives one clinic patient on SMS (English or Spanish) with
two medicines, and their caregiver on SMS. Reminders are sent by the worker's dispatcher (which
records the question each asks); a dose may be missed (``planner.sql mark_missed``, which plans the
caregiver's alert, sent by the dispatcher); the patient types answers ("1", "taken", "tomada",
"posponer", "omitir"...), stop and start words in both languages, sentences that merely contain a
stop word, and the caregiver texts stop and start words. Inbound updates go through
``store_inbound`` and ``process_inbound`` as the web process hands them on; the channel is a
recording sender. Quiet hours are off explicitly (00:00-00:00), so the hour never matters.

Invariants:

* nothing is sent to an opted-out person (patient or caregiver), but the confirmation of the
  opt-out itself; an opt-out is confirmed once, in the language of the word (Spanish for PARAR);
* a stop word inside a sentence opts nobody out;
* every answer lands on the right dose: the newest open question that accepts it (its number,
  its label, or the answer's usual word in either language), with the answer's meaning; an
  answer nothing accepts changes nothing;
* a missed dose alerts the caregiver exactly when the caregiver is not opted out and the patient
  can be reached (their only channel not opted out: migration 20260101013300), and the alert
  says which medicine by its number;
* the patient's STOP or START, which re-plans them at once, answers no dose: it may only settle
  open ones as a planner pass does (missed at their mark, 'unreachable' if never reminded).

``MEDREMIND_STATEFUL_EXAMPLES`` and ``MEDREMIND_STATEFUL_STEPS`` make the run bigger.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import unicodedata
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any, TypeVar
from uuid import UUID

import asyncpg
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test

from bot.context import BotContext
from bot.intake import process_inbound, store_inbound
from core.answer_buttons import parse_dose_data
from core.db import Database
from core.settings import Settings
from core.sql import query
from core.templating import TemplateRenderer
from platforms.base import Channel, InboundEvent, InboundKind
from scheduler.dispatcher import Dispatcher, DispatcherConfig
from scheduler.planning_rules import CAREGIVER_ALERT_TTL, CAREGIVER_PRIORITY
from tests import factories
from tests.dispatch.recording import RecordingSender
from tests.stateful import stateful_settings

T = TypeVar("T")
EXAMPLES = int(os.environ.get("MEDREMIND_STATEFUL_EXAMPLES", "8"))
STEPS = int(os.environ.get("MEDREMIND_STATEFUL_STEPS", "25"))
START = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
QUESTION_TTL = timedelta(hours=12)  # core.answer_buttons.QUESTION_TTL
_numbers = itertools.count(1)

OPT_OUT = ["STOP", "stop", "PARAR", "Parar", "alto", "CANCELAR", "baja", "detener", "Quit"]
OPT_IN = ["START", "start", "COMENZAR", "comenzar", "sí", "SI", "yes", "reanudar"]
SENTENCES = ["no quiero parar", "stop reminding me at 8", "alto ahí", "dar de baja?", "hola"]
ANSWERS = ["1", "2", "3", "taken", "Tomada", "tomé", "posponer", "Snooze", "más tarde",
           "skip", "omitir", "banana"]  # fmt: skip
SPANISH = {"PARAR", "ALTO", "CANCELAR", "BAJA", "DETENER", "COMENZAR", "SI", "REANUDAR"}
# The answer's usual words (bot.routing.ANSWER_WORDS), folded, by the answer's code.
WORDS = {
    "t": {"taken", "tomada", "tome"},
    "s": {"posponer", "snooze", "mas tarde"},
    "k": {"skip", "omitir"},
}
EFFECT = {"t": "taken", "s": "snoozed", "k": "skipped"}


def _about(message: Any, dose: UUID) -> bool:
    """Whether ``message`` asks about ``dose`` (its options' answer data name it)."""
    return any(
        (answer := parse_dose_data(o.data)) is not None and answer.dose_event_id == dose
        for o in message.options
    )


def fold(text: str) -> str:
    """Lower case, no accents, single spaces (the test's own)."""
    plain = unicodedata.normalize("NFKD", text.strip().lower())
    return " ".join("".join(c for c in plain if not unicodedata.combining(c)).split())


def word(text: str) -> str:
    return fold(text).replace(" ", "").upper()


@dataclass
class Question:
    """A question sent to the patient: its dose and its options (label, data, typed keys)."""

    dose: UUID
    options: Sequence[tuple[str, str, tuple[str, ...]]]
    asked_at: datetime
    open: bool = True

    def accepts(self, text: str) -> str | None:
        """The data of the option ``text`` picks, by this test's reading of what was shown."""
        typed = fold(text)
        for label, data, keys in self.options:
            if typed in keys or fold(label) == typed:
                return data
        firsts = [fold(label).split(" ")[0] for label, _, _ in self.options]
        if len(typed) >= 2 and firsts.count(typed) == 1:
            return self.options[firsts.index(typed)][1]
        found = [d for _, d, _ in self.options if typed in WORDS[d.rsplit(":", 1)[1][0]]]
        if len(found) == 1:
            return found[0]
        # Several lengths of one dose's Snooze (a snooze's reply): a bare snooze word is the
        # reminder's own Snooze (bot.routing._default_snooze).
        doses = {d.rsplit(":", 1)[0] for d in found}
        if len(found) > 1 and len(doses) == 1 and all(d.rsplit(":", 1)[1][0] == "s" for d in found):
            return f"{doses.pop()}:s"
        return None


@dataclass
class World:
    loop: asyncio.AbstractEventLoop
    db: Database
    settings: Settings
    sender: RecordingSender
    org_id: UUID
    now: datetime = START
    stats: dict[str, int] = field(default_factory=lambda: dict.fromkeys(("steps", "alerts"), 0))

    @property
    def pool(self) -> asyncpg.Pool:
        assert self.db.pool is not None
        return self.db.pool

    def run(self, work: Callable[[], Awaitable[T]]) -> T:
        return asyncio.run_coroutine_threadsafe(_call(work), self.loop).result(timeout=120)


async def _call(work: Callable[[], Awaitable[T]]) -> T:
    return await work()


def machine_for(world: World) -> type[RuleBasedStateMachine]:
    class Words(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            n = next(_numbers)
            self.patient_number, self.caregiver_number = f"+1415556{n:04d}", f"+1415557{n:04d}"
            self.patient_id: UUID | None = None
            self.schedules: list[Any] = []
            self.questions: list[Question] = []
            self.alerted: set[UUID] = set()  # doses whose caregiver alert was planned
            self.doses: list[UUID] = []  # the doses this machine made
            # Doses made while the patient's only channel was opted out: never reminded, so the
            # re-plan of a STOP or START turn may record them 'unreachable' (migration
            # 20260101013300).
            self.unreminded: set[UUID] = set()
            self.opted_out = {self.patient_number: False, self.caregiver_number: False}
            # Numbers of no patient whose chat a Spanish greeting ("hola") made Spanish: the
            # registration it invites, and its keywords' confirmations, are in Spanish.
            self.spanish_chats: set[str] = set()
            world.now = START

        @initialize(locale=st.sampled_from(["en", "es"]))
        def people(self, locale: str) -> None:
            self.locale = locale
            world.run(self._people)

        async def _people(self) -> None:
            async with world.pool.acquire() as conn:
                patient = await factories.create_patient(
                    conn,
                    world.org_id,
                    contacts={"sms": self.patient_number},
                    locale=self.locale,
                    quiet_start=time(0, 0),
                    quiet_end=time(0, 0),
                )
                self.patient_id = patient["id"]
                for name in ("Metformin", "Lisinopril"):
                    _, schedule = await factories.create_medication(conn, patient["id"], name=name)
                    self.schedules.append(schedule)
                await conn.execute(
                    "insert into caregivers (patient_id, name, channel, address,"
                    " alert_delay_minutes) values ($1, 'Luz', 'sms', $2, 0)",
                    patient["id"],
                    self.caregiver_number,
                )

        # -- what happens -------------------------------------------------------------------------

        @rule(medicine=st.sampled_from([0, 1]))
        def reminder_arrives(self, medicine: int) -> None:
            world.run(lambda: self._reminder(medicine))

        async def _reminder(self, medicine: int) -> None:
            world.now += timedelta(seconds=1)
            assert self.patient_id is not None
            async with world.pool.acquire() as conn:
                dose = await factories.create_dose_event(conn, self.schedules[medicine], world.now)
                self.doses.append(dose["id"])
                await factories.create_message(
                    conn,
                    self.patient_id,
                    kind="medication_reminder",
                    message_content=None,
                    dose_event_id=dose["id"],
                    scheduled_time=world.now,
                    priority=1,
                )
            sent = await self._dispatch()
            # A follow-up of an earlier reminder may fall due in the same second and go with it.
            others = [m for m in sent.get(self.patient_number, []) if not _about(m, dose["id"])]
            self._asked(others)
            reminders = [m for m in sent.get(self.patient_number, []) if _about(m, dose["id"])]
            if self.opted_out[self.patient_number]:
                self.unreminded.add(dose["id"])
                return  # _dispatch checked that nothing went
            assert len(reminders) == 1, reminders
            message = reminders[0]
            options = [(o.label, o.data, (str(i),)) for i, o in enumerate(message.options, start=1)]
            assert {parse_dose_data(d).dose_event_id for _, d, _ in options} == {dose["id"]}  # type: ignore[union-attr]
            self.questions.append(Question(dose["id"], options, world.now))

        @rule()
        def a_dose_is_missed(self) -> None:
            world.run(self._missed)

        async def _missed(self) -> None:
            assert self.patient_id is not None
            async with world.pool.acquire() as conn:
                dose = await conn.fetchrow(
                    "select d.id, m.name from dose_events d"
                    " join medications m on m.id = d.medication_id"
                    " where d.id = any($1::uuid[]) and d.status in ('due', 'snoozed')"
                    " order by d.due_at limit 1",
                    self.doses,
                )
                if dose is None:
                    return
                await conn.fetchrow(
                    query("planner", "mark_missed"),
                    [dose["id"]],
                    [world.now],
                    CAREGIVER_PRIORITY,
                    CAREGIVER_ALERT_TTL,
                )
            # Its questions stay open: a late Taken still counts.
            sent = await self._dispatch()
            alerts = await self._dose_alerts(dose["id"], sent.get(self.caregiver_number, []))
            if (
                self.opted_out[self.caregiver_number]
                or self.opted_out[self.patient_number]
                or dose["id"] in self.alerted
            ):
                # Nothing went (_dispatch checked), the patient's only channel is opted out (no
                # reminder reaches them: their caregiver had one notice instead of an alert a
                # dose, migration 20260101013300), or the dose had its one alert already (missed,
                # snoozed, missed again: planner.sql mark_missed's key).
                assert not alerts, alerts
                return
            self.alerted.add(dose["id"])
            world.stats["alerts"] += 1
            number = 1 if dose["name"] == "Metformin" else 2
            assert len(alerts) == 1, alerts
            said = alerts[0].text.replace("\u202f", " ")
            # "... medicine 2." or, a dose of another day, "... medicine 2 on Wed, March 4."
            assert re.search(rf"\b(medicine|medicamento) {number}\b", said), said
            assert dose["name"] not in said

        @rule(minutes=st.sampled_from([5, 20, 60]))
        def time_passes(self, minutes: int) -> None:
            world.now += timedelta(minutes=minutes)
            world.run(self._snoozes_come_back)

        async def _snoozes_come_back(self) -> None:
            sent = await self._dispatch()
            self._asked(sent.get(self.patient_number, []))

        def _asked(self, messages: list[Any]) -> None:
            """The questions ``messages`` to the patient asked about doses. A reminder the
            planner made (a STOP or START re-plans the patient) is followed from then on, as
            the patient may answer it."""
            for message in messages:
                options = [
                    (o.label, o.data, (str(i),)) for i, o in enumerate(message.options, start=1)
                ]
                dose = parse_dose_data(options[0][1]) if options else None
                if dose is not None:
                    self.questions.append(Question(dose.dose_event_id, options, world.now))
                    if dose.dose_event_id not in self.doses:
                        self.doses.append(dose.dose_event_id)

        @rule(text=st.sampled_from(OPT_OUT + OPT_IN + SENTENCES + ANSWERS))
        def patient_says(self, text: str) -> None:
            world.run(lambda: self._says(self.patient_number, text))

        @rule(text=st.sampled_from(OPT_OUT + OPT_IN + SENTENCES))
        def caregiver_says(self, text: str) -> None:
            world.run(lambda: self._says(self.caregiver_number, text))

        # -- the checks ---------------------------------------------------------------------------

        async def _says(self, number: str, text: str) -> None:
            world.stats["steps"] += 1
            was_out = self.opted_out[number]
            before_doses = await self._doses()
            expected = self._expected_answer(text) if number == self.patient_number else None
            replies = await self._inbound(number, text)
            key = word(text)
            if key in {word(w) for w in OPT_OUT}:
                self.opted_out[number] = True
                if was_out:
                    assert replies == [], "an opt-out was confirmed twice"
                else:
                    assert len(replies) == 1
                    spanish = (
                        key in SPANISH
                        or (number == self.patient_number and self.locale == "es")
                        or number in self.spanish_chats
                    )
                    wanted = "No recibirás más" if spanish else "You will not get any more"
                    assert replies[0].text.startswith(wanted), replies[0].text
            elif key in {word(w) for w in OPT_IN} and was_out:
                self.opted_out[number] = False
                assert len(replies) == 1, replies
                said = replies[0].text
                assert "subscribed again" in said or "vuelto a suscribir" in said, said
            elif was_out:
                assert replies == [], f"{text!r} was answered on an opted-out number"
            elif number != self.patient_number and key == "HOLA":
                self.spanish_chats.add(number)
            await self._check_opt_outs()
            after_doses = await self._doses()
            if number == self.patient_number and key in {word(w) for w in OPT_OUT + OPT_IN}:
                await self._settled_by_replan(text, before_doses, after_doses)
                return
            if number != self.patient_number or was_out:
                assert after_doses == before_doses, f"{text!r} changed a dose"
                return
            if expected is None:
                if key not in {word(w) for w in OPT_IN}:
                    assert after_doses == before_doses, f"{text!r} changed a dose"
                return
            question, data = expected
            code = data.rsplit(":", 1)[1][0]
            changed = {d for d in after_doses if after_doses[d] != before_doses.get(d)}
            assert changed <= {question.dose}, (text, changed)
            if before_doses[question.dose] not in ("taken", "skipped"):
                assert after_doses[question.dose] == EFFECT[code], (text, after_doses)
            for other in self.questions:
                if other.dose == question.dose:
                    other.open = False
            if code == "s" and after_doses[question.dose] == "snoozed":
                # The snooze's reply asks about the dose again: Taken and two more snooze
                # lengths (1, 2, 3), as it shows them.
                self._asked(replies)

        def _expected_answer(self, text: str) -> tuple[Question, str] | None:
            if self.opted_out[self.patient_number] or word(text) in {word(w) for w in OPT_OUT}:
                return None
            oldest = world.now - QUESTION_TTL
            for question in reversed(self.questions):
                answerable = question.open and question.asked_at >= oldest
                data = question.accepts(text) if answerable else None
                if data is not None:
                    return question, data
            return None

        async def _inbound(self, number: str, text: str) -> list[Any]:
            before = len(world.sender.sends)
            event = InboundEvent(
                channel=Channel.SMS,
                provider_id=uuid.uuid4().hex,
                chat_address=number,
                kind=InboundKind.TEXT,
                text=text,
            )
            inbound_id = await store_inbound(world.pool, event, {})
            assert inbound_id is not None
            ctx = BotContext(
                pool=world.pool,
                senders={Channel.SMS: world.sender},
                settings=world.settings,
                clock=lambda: world.now,
            )
            await process_inbound(ctx, inbound_id, event)
            return [m for a, m in world.sender.sends[before:] if a == number]

        async def _dispatch(self) -> dict[str, list[Any]]:
            before = len(world.sender.sends)
            config = DispatcherConfig(worker_id="words", platform_rates={}, recipient_rates={})
            dispatcher = Dispatcher(
                world.pool,
                {Channel.SMS: world.sender},
                TemplateRenderer(),
                lambda: world.now,
                config,
            )
            await dispatcher.run_once()
            sent: dict[str, list[Any]] = {}
            for address, message in world.sender.sends[before:]:
                assert not self.opted_out.get(address, False), f"sent to opted-out {address}"
                sent.setdefault(address, []).append(message)
            return sent

        async def _check_opt_outs(self) -> None:
            async with world.pool.acquire() as conn:
                patient = await conn.fetchval(
                    "select opted_out_at is not null from contact_points where address = $1",
                    self.patient_number,
                )
                caregiver = await conn.fetchval(
                    "select opted_out_at is not null from caregivers where address = $1",
                    self.caregiver_number,
                )
            assert patient == self.opted_out[self.patient_number]
            assert caregiver == self.opted_out[self.caregiver_number]

        async def _dose_alerts(self, dose: UUID, messages: list[Any]) -> list[Any]:
            """The alerts about ``dose`` among the caregiver's ``messages`` (not the one notice
            that reminders no longer reach the patient, which a STOP plans, nor an alert the
            re-plan of a STOP or START turn planned for another dose)."""
            async with world.pool.acquire() as conn:
                about = await conn.fetch(
                    "select id::text from scheduled_messages where id = any($1::uuid[])"
                    " and dose_event_id = $2",
                    [UUID(m.message_id) for m in messages],
                    dose,
                )
            return [m for m in messages if m.message_id in {r["id"] for r in about}]

        async def _settled_by_replan(
            self, text: str, before: dict[UUID, str], after: dict[UUID, str]
        ) -> None:
            """The patient's STOP or START re-plans them at once (migration 20260101013300),
            which may settle open doses as any planner pass does: missed at their mark (and the
            caregiver alerted, as mark_missed decides), or 'unreachable' if never reminded or
            snoozed with the snooze's reminder still to come. It answers none."""
            for dose, status in after.items():
                if status == before[dose]:
                    continue
                assert before[dose] in ("due", "snoozed"), (text, before[dose], status)
                assert status == "missed" or (
                    status == "unreachable"
                    and (dose in self.unreminded or before[dose] == "snoozed")
                ), (text, before[dose], status)
                async with world.pool.acquire() as conn:
                    if await conn.fetchval(
                        "select exists (select 1 from scheduled_messages where dose_event_id = $1"
                        " and kind = 'missed_dose_caregiver' and status <> 'cancelled')",
                        dose,
                    ):
                        self.alerted.add(dose)

        async def _doses(self) -> dict[UUID, str]:
            """The doses this machine made (the planner's own doses ahead are left out: a STOP
            on the only channel records them 'unreachable', tests/planner/test_unreachable.py)."""
            async with world.pool.acquire() as conn:
                rows = await conn.fetch(
                    "select id, status from dose_events where id = any($1::uuid[])", self.doses
                )
            return {r["id"]: r["status"] for r in rows}

    return Words


async def test_opt_outs_and_answers_in_both_languages(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection
) -> None:
    org = await factories.create_organization(
        admin_conn,
        name="Words Clinic",
        contact_phone="+15005550100",
        default_quiet_start=time(0, 0),
        default_quiet_end=time(0, 0),
    )
    world = World(asyncio.get_running_loop(), db, settings, RecordingSender(Channel.SMS), org["id"])
    run_settings = settings_for_run()
    await asyncio.to_thread(run_state_machine_as_test, machine_for(world), settings=run_settings)
    print(f"opt-out words: {world.stats['steps']} inbound texts, {world.stats['alerts']} alerts")


def settings_for_run() -> settings:
    """Small by default (CI); bigger with MEDREMIND_STATEFUL_EXAMPLES / _STEPS."""
    return stateful_settings(EXAMPLES, STEPS)
