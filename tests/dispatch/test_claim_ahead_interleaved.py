"""A forecast peak claimed ahead, with what patients and the clinic do around its instant drawn at
random: a /pause (and its resume), a dose taken early, a chat's opt-out, a medicine paused, the
clinic's cancel and edit through the API, a worker stopped and replaced, one worker or two.
Whatever the order and the timing, no reminder goes early, none twice, none after what should
have stopped it, an edit the API accepted is the text that goes, and every row the clinic and the
patient left alone goes.

The worker's dispatcher runs as ``medremind worker`` runs it (claims ahead, texts rendered ahead,
the check of held rows just before the hand-over), on the real clock: the claim-ahead path's
timing is the database's and the worker's clock together, which a settable clock cannot hold.
The examples are drawn by hypothesis and derandomized (the same ones every run);
``MEDREMIND_STATEFUL_EXAMPLES`` asks for a bigger, random search.

The oracle, for each row:
- sent at most once, and never before its time;
- the API's cancel answered 200: never sent; a stop by the patient (pause, dose taken, opt-out)
  or the clinic (medicine paused) committed more than ``SLACK`` before the send and still in
  force at it (a pause not yet resumed): not sent (the check before a hand-over is at most a
  quarter of a second before it, scheduler/dispatcher.py);
- sent with the text of the last edit the API accepted (200), the original one if none;
- nothing stopped it: sent, and no row is left pending or leased once the peak is over.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import asyncpg
import httpx
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from core.db import Database
from core.settings import Settings
from medremind.api_keys import create_api_key
from platforms.base import Channel, OutboundMessage, Receipt
from tests import factories
from tests.dispatch.recording import RecordingSender
from tests.dispatch.test_claim_ahead import Worker
from tests.stateful import stateful_settings
from tests.waiting import eventually
from tests.web.conftest import make_app, make_client

EXAMPLES = int(os.environ.get("MEDREMIND_STATEFUL_EXAMPLES", "3"))
REMINDERS = 9  # medication reminders, one patient each
CLINIC_MESSAGES = 3  # the clinic's own texts (POST /messages), which the API may edit
DUE_IN_SECONDS = 8.0  # rendered ahead by the first pass, then claimed ahead
SLACK = timedelta(seconds=1)  # a stop committed this long before a send must have stopped it
T = TypeVar("T")
_chats = itertools.count(887_000)  # a chat id per patient, across examples

PATIENT_STOPS = ("pause", "resume", "taken", "opt_out", "medicine_paused")


@dataclass(frozen=True)
class Action:
    """Something done ``offset`` seconds from the peak's instant (negative: before it)."""

    kind: str  # one of PATIENT_STOPS (and the resume), "cancel", "edit", "restart"
    row: int
    offset: float


@dataclass
class Row:
    """A message of the peak and what the test did to it."""

    id: str
    reminder: bool
    text: str | None  # a clinic message's text as written
    patient: Any = None
    # Stops by the patient or clinic as committed: each pause with its resume (None: none yet),
    # and those for good (a dose taken, an opt-out, the medicine paused).
    pauses: list[tuple[datetime, datetime | None]] = field(default_factory=list)
    stops: list[datetime] = field(default_factory=list)

    def stopped_through(self, at: datetime) -> bool:
        """Whether a stop was in force from ``SLACK`` before ``at`` until ``at`` (the check
        before a hand-over, at most a quarter of a second before it, must have seen it)."""
        since = at - SLACK
        return any(stop < since for stop in self.stops) or any(
            start < since and (end is None or end > at) for start, end in self.pauses
        )

    cancelled: bool = False  # the API's cancel answered 200
    edits: list[str] = field(default_factory=list)  # texts the API accepted, in order


class TimedSender(RecordingSender):
    """A recording sender that also notes when each send reached it."""

    def __init__(self, name: str) -> None:
        super().__init__(Channel.TELEGRAM, name=name)
        self.at: list[tuple[str, datetime, str]] = []

    async def send(self, address: str, message: OutboundMessage) -> Receipt:
        self.at.append((str(message.message_id), datetime.now(UTC), message.text))
        return await super().send(address, message)


class Fleet:
    """The workers of one example (each a dispatcher as ``medremind worker`` runs it)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.running: list[Worker] = []
        self.senders: list[TimedSender] = []
        self.claimed_ahead = 0

    def start(self) -> None:
        sender = TimedSender(f"w{len(self.senders) + 1}")
        self.senders.append(sender)
        self.running.append(Worker(self.db, f"interleaved-{len(self.senders)}", sender))

    async def restart_first(self) -> None:
        """The first worker stops (what it holds goes back to pending) and a new one starts."""
        worker = self.running.pop(0)
        await worker.stop()
        self.claimed_ahead += worker.dispatcher.claimed_ahead
        self.start()

    async def stop(self) -> None:
        await asyncio.gather(*(worker.stop() for worker in self.running))
        self.claimed_ahead += sum(worker.dispatcher.claimed_ahead for worker in self.running)
        self.running.clear()

    def sends(self) -> dict[str, list[tuple[datetime, str]]]:
        by_id: dict[str, list[tuple[datetime, str]]] = {}
        for sender in self.senders:
            for message_id, at, text in sender.at:
                by_id.setdefault(message_id, []).append((at, text))
        return by_id


def _row_for(action: Action) -> int:
    """The row an action is about: a patient's stop is about a reminder, an edit about a
    clinic's text (the API edits only those), a cancel about any row."""
    if action.kind in PATIENT_STOPS:
        return action.row % REMINDERS
    if action.kind == "edit":
        return REMINDERS + action.row % CLINIC_MESSAGES
    return action.row


def _actions() -> st.SearchStrategy[list[Action]]:
    rows = REMINDERS + CLINIC_MESSAGES
    action = st.builds(
        Action,
        kind=st.sampled_from((*PATIENT_STOPS, "cancel", "cancel", "edit", "edit", "restart")),
        row=st.integers(0, rows - 1),
        # From before the claim ahead (at -CLAIM_AHEAD_SECONDS) to just after the instant, with
        # weight on the last second, where the hand-over and a clinic's change meet.
        offset=st.one_of(
            st.floats(-DUE_IN_SECONDS + 1.5, 0.8), st.floats(-1.2, 0.3), st.just(-0.5)
        ).map(lambda x: round(x, 2)),
    )
    return st.lists(action, min_size=1, max_size=6)


async def _peak(conn: asyncpg.Connection, due: datetime) -> tuple[Any, list[Row]]:
    org = await factories.create_organization(conn)
    rows: list[Row] = []
    for n in range(REMINDERS):
        person = await factories.create_patient(
            conn, org["id"], contacts={"telegram": str(next(_chats))}, display_name=f"P{n}"
        )
        _dose, message = await factories.create_due_reminder(conn, person["id"], due)
        rows.append(Row(str(message["id"]), True, None, person))
    for n in range(CLINIC_MESSAGES):
        person = await factories.create_patient(
            conn, org["id"], contacts={"telegram": str(next(_chats))}, display_name=f"C{n}"
        )
        text = f"Clinic note {n}"
        message = await factories.create_message(
            conn,
            person["id"],
            message_content=text,
            scheduled_time=due,
            urgent=True,  # not held by the clinic's default quiet hours, whatever the hour
            from_clinic=True,
        )
        rows.append(Row(str(message["id"]), False, text, person))
    return org, rows


class Example:
    """One drawn example: the peak, the fleet, the actions at their times, then the oracle."""

    def __init__(self, db: Database, admin: asyncpg.Connection, settings: Settings) -> None:
        self.db, self.admin, self.settings = db, admin, settings
        self.edits = 0
        self.stats: collections.Counter[str] = collections.Counter()

    async def run(self, actions: list[Action], two_workers: bool) -> None:
        due = datetime.now(UTC) + timedelta(seconds=DUE_IN_SECONDS)
        org, rows = await _peak(self.admin, due)
        assert self.db.pool is not None
        key = await create_api_key(self.db.pool, str(org["id"]), "tests")
        api = make_client(make_app(self.settings, self.db))
        auth = {"Authorization": f"Bearer {key}"}
        fleet = Fleet(self.db)
        fleet.start()
        if two_workers:
            fleet.start()
        try:
            for action in sorted(actions, key=lambda a: a.offset):
                wait = (due + timedelta(seconds=action.offset) - datetime.now(UTC)).total_seconds()
                await asyncio.sleep(max(0.0, wait))
                await self._do(action, rows[_row_for(action)], api, auth, fleet)
            await eventually(lambda: self._settled(rows), timeout=30)
            await eventually(
                lambda: all(w.dispatcher.in_flight == 0 for w in fleet.running), timeout=10
            )
        finally:
            await fleet.stop()
            await api.aclose()
        self.stats["claimed ahead"] += fleet.claimed_ahead
        self.stats["rows"] += len(rows)
        self._check(rows, due, fleet.sends())

    async def _do(
        self,
        action: Action,
        row: Row,
        api: httpx.AsyncClient,
        auth: dict[str, str],
        fleet: Fleet,
    ) -> None:
        admin = self.admin
        if action.kind == "restart":
            await fleet.restart_first()
            self.stats["worker restarted"] += 1
            return
        if action.kind == "cancel":
            answer = await api.post(f"/api/v1/messages/{row.id}/cancel", headers=auth)
            assert answer.status_code in (200, 409), answer.text
            self.stats[f"cancel {answer.status_code}"] += 1
            row.cancelled |= answer.status_code == 200
            return
        if action.kind == "edit":
            self.edits += 1
            text = f"Clinic note edited {self.edits}"
            answer = await api.patch(
                f"/api/v1/messages/{row.id}", json={"text": text}, headers=auth
            )
            # A clinic text's patient never opts out here (_row_for): no 422 for no reach.
            assert answer.status_code in (200, 409), answer.text
            self.stats[f"edit {answer.status_code}"] += 1
            if answer.status_code == 200:
                row.edits.append(text)
            return
        if action.kind == "resume":
            await admin.execute(
                "update patients set reminders_paused = false where id = $1", row.patient["id"]
            )
            now = datetime.now(UTC)
            row.pauses = [(start, now if end is None else end) for start, end in row.pauses]
            return
        statement = {
            "pause": "update patients set reminders_paused = true, reminders_paused_by = 'patient'"
            " where id = $1",
            "taken": "update dose_events set status = 'taken', answered_at = now()"
            " where patient_id = $1",
            "opt_out": "update contact_points set opted_out_at = now() where patient_id = $1",
            "medicine_paused": "update medications set status = 'paused' where patient_id = $1",
        }[action.kind]
        await admin.execute(statement, row.patient["id"])
        now = datetime.now(UTC)
        if action.kind == "pause":
            row.pauses.append((now, None))
        else:
            row.stops.append(now)

    async def _settled(self, rows: list[Row]) -> bool:
        left = await self.admin.fetchval(
            "select count(*) from scheduled_messages"
            " where id = any($1::uuid[]) and status in ('pending', 'processing')",
            [row.id for row in rows],
        )
        return left == 0

    def _check(
        self, rows: list[Row], due: datetime, sends: dict[str, list[tuple[datetime, str]]]
    ) -> None:
        for n, row in enumerate(rows):
            went = sends.get(row.id, [])
            self.stats["sent" if went else "not sent"] += 1
            self.stats["cancelled by the API"] += row.cancelled
            self.stats["edited by the API"] += bool(row.edits)
            self.stats["paused by the patient"] += bool(row.pauses)
            self.stats["stopped for good"] += bool(row.stops)
            assert len(went) <= 1, f"row {n} sent {len(went)} times"
            if row.cancelled:
                assert not went, f"row {n} sent though the API said it was cancelled"
            if went:
                at, text = went[0]
                assert at >= due, f"row {n} sent {(due - at).total_seconds():.3f} s early"
                assert not row.stopped_through(at), (
                    f"row {n} sent at {at} though stopped: {row.pauses} {row.stops}"
                )
                if not row.reminder:
                    expected = row.edits[-1] if row.edits else row.text
                    assert text == expected, f"row {n} sent as {text!r}, not {expected!r}"
            elif not (row.cancelled or row.pauses or row.stops):
                raise AssertionError(f"row {n} was never sent, and nothing stopped it")


def _run_on(loop: asyncio.AbstractEventLoop, make: Callable[[], Awaitable[T]]) -> T:
    async def call() -> T:
        return await make()

    return asyncio.run_coroutine_threadsafe(call(), loop).result(timeout=120)


async def test_a_peak_claimed_ahead_meets_patients_and_the_clinic_at_random(
    db: Database, admin_conn: asyncpg.Connection, settings: Settings
) -> None:
    loop = asyncio.get_running_loop()
    example = Example(db, admin_conn, settings)
    drawn = stateful_settings(EXAMPLES, 1)

    @hypothesis_settings(drawn)
    @given(actions=_actions(), two_workers=st.booleans())
    def peak(actions: list[Action], two_workers: bool) -> None:
        _run_on(loop, lambda: example.run(actions, two_workers))

    await asyncio.to_thread(peak)
    print(f"claim ahead interleaved: {dict(example.stats)}")
    assert example.stats["claimed ahead"], "no row was claimed ahead: the test missed its path"
