"""Clinic messages, provider faults, STOP, consent and the clock interleaved at random: the delivery
engine sends each message once, to a usable address, outside the patient's night, records every
provider call, and leaves nothing behind.

Hypothesis drives one worker's dispatcher (the real Telegram and SMS adapters over HTTP to the
loopback Bot API and Twilio, which answer in their wire format, errors included) on a settable
clock, and a superuser connection making what the dashboard, the API and the webhooks make: a
clinic's message (now or later; urgent or not; one channel or the patient's order; with a
deadline or not), STOP and START on a channel, consent withdrawn and given again, a patient's
quiet window. The providers' next answer may be scripted: Telegram's 429 with ``retry_after``,
a 5xx, "bot was blocked", "chat not found"; Twilio's 429, a 5xx, 21610 (the number opted out),
21211 (invalid number). Twilio's status callback for an SMS it took (delivered, or undelivered
and failed: the message then goes to the patient's next channel) reaches ``medremind web``'s app,
signed, sometimes twice. The clinic cancels a message through the API (``POST
/api/v1/messages/{id}/cancel``: only a pending one; 409 once a worker holds it). Time moves by
seconds to hours; one worker, or two at once, drain what is due; a third claims rows and dies.

After every step:
- no message reaches a provider twice (a duplicate at 3 a.m. is the harm): again only on another
  channel, after the carrier said the last one never arrived;
- a message is ``sent`` (or ``delivered``) exactly when its last provider call took it and no
  carrier said otherwise, on that call's channel and with its provider id; every provider call,
  taken or failed, and every carrier report has its attempt row;
- nothing non-urgent is taken inside the patient's quiet window (at the worker's clock, in the
  patient's zone), nothing after its deadline, nothing without consent or to an address that
  said STOP, blocked the bot or was refused as opted out or invalid before;
- no row is left leased, no row used more attempts than it may;
- a message the API said it cancelled stays cancelled and reaches no provider after that.
A quiet day at the end (no more faults) leaves no message pending: each was sent, or ended with
its reason.

``MEDREMIND_STATEFUL_EXAMPLES`` / ``MEDREMIND_STATEFUL_STEPS`` run it bigger.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import os
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import httpx
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from core.db import Database
from core.settings import Settings, load_settings
from core.templating import TemplateRenderer
from medremind.api_keys import create_api_key
from platforms.base import Channel
from platforms.registry import build_senders
from scheduler.buckets import BucketSet
from scheduler.claims import claim
from scheduler.dispatcher import Dispatcher, DispatcherConfig
from scheduler.reaper import reap_expired_leases
from tests import factories
from tests.fakes.fake_telegram import DEFAULT_TOKEN, FakeTelegram
from tests.fakes.fake_twilio import FakeTwilio, status_form
from tests.stateful import stateful_settings
from tests.web.conftest import PUBLIC_BASE_URL, make_app, make_client, twilio_signature, web_env

EXAMPLES = int(os.environ.get("MEDREMIND_STATEFUL_EXAMPLES", "12"))
STEPS = int(os.environ.get("MEDREMIND_STATEFUL_STEPS", "30"))
T = TypeVar("T")
FROM = "+15005550006"
# Each example starts 1-47 hours after yesterday's midnight (UTC), at an hour of its own: near the
# database's clock, which the carrier's "undelivered" goes by (the fallback it triggers is due at
# the server's now()). The invariants hold on any date; the hours cover every hour of the day.
START = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
ZONES = ("UTC", "America/New_York", "Asia/Kolkata", "Pacific/Auckland")
# A patient's own window (start == end: none, the patient chose to get messages at any hour).
WINDOWS = (
    (time(22, 0), time(7, 0)),
    (time(21, 0), time(8, 0)),
    (time(0), time(0)),
    (time(13, 0), time(14, 30)),
)
MARK = re.compile(r"Note (\d+)\.")
_numbers = itertools.count(1)

TELEGRAM_FAULTS = ("429", "500", "502", "blocked", "chat_not_found")
SMS_FAULTS = ("429", "500", "503", "opted_out", "invalid")
# Answers after which the address is never tried again (the product marks the contact point).
TELEGRAM_FINAL = {403, 400}
OPTED_OUT = 21610
SMS_FINAL = {OPTED_OUT, 21211}


@dataclass
class Patient:
    id: UUID
    zone: str
    window: tuple[time, time]
    chat: str
    phone: str
    order: tuple[str, str]


@dataclass
class Sent:
    """A clinic message as the test made it."""

    n: int
    id: UUID
    patient: Patient
    urgent: bool
    platform: str
    allow_fallback: bool
    deadline: datetime | None


@dataclass
class Call:
    """A provider call the worker made for a message, with the worker's clock at the drain."""

    n: int
    channel: str
    address: str
    ok: bool
    provider_id: str | None
    code: int | None
    at: datetime
    drain: int  # which drain made it
    night: bool  # inside the patient's quiet window then
    consented: bool  # the patient's consent then
    report: str | None = None  # the carrier's final status (Twilio's status callback)


@dataclass
class World:
    """What the machine (in a thread) drives on the test's event loop."""

    loop: asyncio.AbstractEventLoop
    db: Database
    admin: asyncpg.Connection
    telegram: FakeTelegram
    twilio: FakeTwilio
    web: httpx.AsyncClient  # ``medremind web``'s app: Twilio's status callbacks
    settings: Settings  # the processes' settings: the fakes' addresses and credentials
    now: datetime = START
    stats: collections.Counter[str] = field(default_factory=collections.Counter)

    def run(self, make: Callable[[], Awaitable[T]]) -> T:
        async def call() -> T:
            return await make()

        return asyncio.run_coroutine_threadsafe(call(), self.loop).result(timeout=300)


def _in_window(at: datetime, zone: str, window: tuple[time, time]) -> bool:
    """Whether ``at`` falls in the daily window [start, end) at the wall clock of ``zone``."""
    start, end = window
    if start == end:
        return False
    local = at.astimezone(ZoneInfo(zone)).time().replace(tzinfo=None)
    return start <= local < end if start < end else local >= start or local < end


def machine_for(world: World) -> type[RuleBasedStateMachine]:
    """The state machine class over ``world``."""
    admin = world.admin

    class Delivery(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.patients: list[Patient] = []
            self.messages: dict[int, Sent] = {}
            self.calls: list[Call] = []
            self.seen_telegram = 0
            self.seen_twilio = 0
            # Addresses said STOP to (by the patient), and those a provider refused for good,
            # with the drain that learned it.
            self.stopped: set[tuple[str, str]] = set()
            self.refused: dict[tuple[str, str], tuple[int, int]] = {}
            self.drains = 0
            self.consent: dict[UUID, bool] = {}
            self.dispatcher: Dispatcher | None = None
            self.workers: list[Dispatcher] = []
            self.senders: list[Any] = []
            self.api: dict[str, str] = {}  # the clinic's API key header
            # Messages the API cancelled, with the number of drains made before.
            self.cancelled: dict[int, int] = {}

        # -- set-up -----------------------------------------------------------------------

        @initialize(
            hours=st.integers(1, 47),
            zones=st.lists(st.sampled_from(ZONES), min_size=2, max_size=2),
            windows=st.lists(st.sampled_from(WINDOWS), min_size=2, max_size=2),
            sms_first=st.lists(st.booleans(), min_size=2, max_size=2),
        )
        def clinic_with_two_patients(
            self,
            hours: int,
            zones: list[str],
            windows: list[tuple[time, time]],
            sms_first: list[bool],
        ) -> None:
            # Each example at its own hour (the rows of earlier ones are all finished or
            # withdrawn): a replay of a failing example runs at the same instants.
            world.now = START + timedelta(hours=hours)
            world.telegram.reset()
            world.twilio.reset()

            async def make() -> None:
                org = await factories.create_organization(admin)
                assert world.db.pool is not None
                key = await create_api_key(world.db.pool, str(org["id"]), "clinic system")
                self.api = {"Authorization": f"Bearer {key}"}
                for zone, window, sms in zip(zones, windows, sms_first, strict=True):
                    k = next(_numbers)
                    chat, phone = str(810_000_000 + k), f"+1415557{k % 10000:04d}"
                    order = ("sms", "telegram") if sms else ("telegram", "sms")
                    row = await factories.create_patient(
                        admin,
                        org["id"],
                        contacts={
                            order[0]: chat if order[0] == "telegram" else phone,
                            order[1]: chat if order[1] == "telegram" else phone,
                        },
                        timezone=zone,
                        quiet_start=window[0],
                        quiet_end=window[1],
                    )
                    self.patients.append(Patient(row["id"], zone, window, chat, phone, order))
                    self.consent[row["id"]] = True
                self.workers = [self._worker(name) for name in ("worker-1", "worker-2")]
                self.dispatcher = self.workers[0]

            world.run(make)

        def _worker(self, name: str) -> Dispatcher:
            """A worker as ``medremind worker`` runs one: its own adapters and connections."""
            # As medremind/worker_process.py builds them: Telegram through the service's bots
            # (platforms/telegram_bots.py), SMS through Twilio, on the loopback fakes.
            senders = build_senders(world.settings)
            assert set(senders) >= {Channel.TELEGRAM, Channel.SMS}, senders
            self.senders += list(senders.values())
            assert world.db.pool is not None
            return Dispatcher(
                world.db.pool,
                senders,
                TemplateRenderer(),
                lambda: world.now,
                DispatcherConfig(
                    worker_id=name,
                    platform_rates={},
                    recipient_rates={},
                    # The breaker's cooldown is in real seconds; the test's time is the clock's:
                    # a probe may go at once.
                    breaker_cooldown_seconds=0.0,
                    read_ahead=0,
                ),
            )

        def _a_quiet_day_passes(self) -> None:
            """No more faults; the worker wakes every half hour for 50 hours (past the server's
            now): nothing is left pending (sent, or ended with a reason)."""
            world.telegram._failures.clear()
            world.twilio._failures.clear()
            for _ in range(50 * 2):
                world.now += timedelta(minutes=30)
                self._drain()
            left = world.run(
                lambda: admin.fetch(
                    "select id, status, scheduled_time, last_error from scheduled_messages"
                    " where id = any($1::uuid[]) and status in ('pending', 'processing')",
                    [s.id for s in self.messages.values()],
                )
            )
            assert not left, f"left unfinished after a quiet day: {[dict(r) for r in left]}"
            ended = world.run(
                lambda: admin.fetch(
                    "select status, last_error from scheduled_messages where id = any($1::uuid[])"
                    " and status not in ('sent', 'delivered')",
                    # The clinic's cancel is its own reason (the API answered it).
                    [s.id for s in self.messages.values() if s.n not in self.cancelled],
                )
            )
            for row in ended:
                assert row["last_error"], f"{row['status']} with no reason"
                world.stats[f"ended {row['status']}"] += 1
            world.stats["quiet days"] += 1

        def teardown(self) -> None:
            try:
                if self.dispatcher is not None and self.messages:
                    self._a_quiet_day_passes()
            finally:
                world.run(self._close)

        async def _close(self) -> None:
            # What is left of this example is withdrawn: the next one starts clean.
            await admin.execute(
                "update scheduled_messages set status = 'cancelled', lease_token = null,"
                " locked_until = null, locked_by = null"
                " where status in ('pending', 'processing')"
            )
            for sender in self.senders:
                await sender.aclose()

        # -- the clinic, the API, the webhooks ----------------------------------------------

        @rule(
            who=st.integers(0, 1),
            minutes_ahead=st.sampled_from([0, 0, 5, 90, 600]),
            urgent=st.sampled_from([False, False, True]),
            platform=st.sampled_from(["auto", "auto", "telegram", "sms"]),
            allow_fallback=st.sampled_from([True, True, False]),
            deadline_minutes=st.sampled_from([None, None, 30, 240]),
        )
        def clinic_schedules_a_message(
            self,
            who: int,
            minutes_ahead: int,
            urgent: bool,
            platform: str,
            allow_fallback: bool,
            deadline_minutes: int | None,
        ) -> None:
            patient = self.patients[who]
            n = next(_numbers)
            at = world.now + timedelta(minutes=minutes_ahead)
            deadline = (
                None if deadline_minutes is None else at + timedelta(minutes=deadline_minutes)
            )
            row = world.run(
                lambda: factories.create_message(
                    admin,
                    patient.id,
                    message_content=f"Note {n}. Your clinic wrote to you.",
                    scheduled_time=at,
                    urgent=urgent,
                    platform=platform,
                    allow_fallback=allow_fallback,
                    expires_at=deadline,
                    max_attempts=4,
                )
            )
            self.messages[n] = Sent(
                n, row["id"], patient, urgent, platform, allow_fallback, deadline
            )
            world.stats["messages"] += 1

        @rule(
            who=st.integers(0, 1), channel=st.sampled_from(["telegram", "sms"]), stop=st.booleans()
        )
        def patient_stops_or_starts(self, who: int, channel: str, stop: bool) -> None:
            """STOP (Twilio's opt-out webhook, the bot's /stop) or START on one channel."""
            patient = self.patients[who]
            address = patient.chat if channel == "telegram" else patient.phone
            world.run(
                lambda: admin.execute(
                    "update contact_points set opted_out_at = case when $3 then $4::timestamptz"
                    " end where patient_id = $1 and channel = $2",
                    patient.id,
                    channel,
                    stop,
                    world.now,
                )
            )
            key = (channel, address)
            if stop:
                self.stopped.add(key)
                if channel == "sms":  # the carrier blocks the number too
                    world.twilio.opt_out(patient.phone)
            else:
                self.stopped.discard(key)
                if channel == "sms":
                    world.twilio.opt_in(patient.phone)
                if self.refused.get(key, (0, 0))[1] == OPTED_OUT:
                    # Twilio's 21610 is the carrier's STOP: START lifts it too.
                    del self.refused[key]
            # A block or an invalid number the provider reported stays.
            world.stats["stop" if stop else "start"] += 1

        @rule(who=st.integers(0, 1), given=st.sampled_from([True, True, False]))
        def consent_changes(self, who: int, given: bool) -> None:
            patient = self.patients[who]
            world.run(
                lambda: admin.execute(
                    "update patients set consent_at = case when $2 then $3::timestamptz end"
                    " where id = $1",
                    patient.id,
                    given,
                    world.now,
                )
            )
            self.consent[patient.id] = given

        @rule(who=st.integers(0, 1), window=st.sampled_from(WINDOWS))
        def patient_changes_quiet_hours(self, who: int, window: tuple[time, time]) -> None:
            patient = self.patients[who]
            world.run(
                lambda: admin.execute(
                    "update patients set quiet_start = $2, quiet_end = $3 where id = $1",
                    patient.id,
                    *window,
                )
            )
            patient.window = window

        # -- the providers ------------------------------------------------------------------

        @rule(fault=st.sampled_from(TELEGRAM_FAULTS), times=st.sampled_from([1, 1, 3]))
        def telegram_will_fail(self, fault: str, times: int) -> None:
            fake = world.telegram
            if fault == "429":
                fake.fail_next(
                    429,
                    "Too Many Requests: retry after 7",
                    parameters={"retry_after": 7},
                    method="sendMessage",
                    times=times,
                )
            elif fault in ("500", "502"):
                fake.fail_next(
                    int(fault), "Internal Server Error", method="sendMessage", times=times
                )
            elif fault == "blocked":
                fake.fail_next(403, "Forbidden: bot was blocked by the user", method="sendMessage")
            else:
                fake.fail_next(400, "Bad Request: chat not found", method="sendMessage")
            world.stats[f"scripted telegram {fault}"] += 1

        @rule(fault=st.sampled_from(SMS_FAULTS), times=st.sampled_from([1, 1, 3]))
        def twilio_will_fail(self, fault: str, times: int) -> None:
            fake = world.twilio
            if fault == "429":
                fake.fail_next(20429, 429, times=times)
            elif fault in ("500", "503"):
                fake.fail_next(20500, int(fault), "Internal Server Error", times=times)
            elif fault == "opted_out":
                fake.fail_next(21610)
            else:
                fake.fail_next(21211)
            world.stats[f"scripted sms {fault}"] += 1

        @rule(
            which=st.integers(0, 50),
            status=st.sampled_from(["delivered", "delivered", "undelivered", "failed"]),
            twice=st.sampled_from([False, False, True]),
        )
        def carrier_reports_an_sms(self, which: int, status: str, twice: bool) -> None:
            """Twilio's status callback for an SMS it took, through the web process (signed): a
            handset reached, or not (30003 unreachable, 30008 unknown): the message then goes to
            the patient's next channel. Twilio may post the same status again."""
            unreported = [c for c in self.calls if c.channel == "sms" and c.ok and not c.report]
            if not unreported:
                return
            call = unreported[which % len(unreported)]
            assert call.provider_id is not None
            error = {"undelivered": 30003, "failed": 30008}.get(status)
            form = status_form(
                call.provider_id, status, to=call.address, from_=FROM, error_code=error
            )

            async def post() -> None:
                for _ in range(2 if twice else 1):
                    response = await world.web.post(
                        "/twilio/status",
                        data=form,
                        headers={"X-Twilio-Signature": twilio_signature("/twilio/status", form)},
                    )
                    assert response.status_code == 204, response.text

            world.run(post)
            call.report = status
            world.stats[f"reported {status}"] += 1

        @rule(which=st.integers(0, 50))
        def clinic_cancels_a_message(self, which: int) -> None:
            """The clinic's system cancels one of its messages, whatever state it is in."""
            if not self.messages:
                return
            sent = list(self.messages.values())[which % len(self.messages)]
            answer = world.run(
                lambda: world.web.post(f"/api/v1/messages/{sent.id}/cancel", headers=self.api)
            )
            assert answer.status_code in (200, 409), answer.text
            if answer.status_code == 200:
                assert answer.json()["status"] == "cancelled", answer.text
                self.cancelled.setdefault(sent.n, self.drains)
            world.stats[f"cancel {answer.status_code}"] += 1

        # -- time and the worker ------------------------------------------------------------

        @rule(seconds=st.sampled_from([1, 8, 45, 300, 1800, 3 * 3600, 9 * 3600]))
        def time_passes_and_the_worker_drains(self, seconds: int) -> None:
            world.now += timedelta(seconds=seconds)
            self._drain()

        @rule()
        def the_worker_drains_now(self) -> None:
            self._drain()

        @rule(seconds=st.sampled_from([0, 10, 120]))
        def two_workers_drain_together(self, seconds: int) -> None:
            """The fleet: both workers claim and send at once (SKIP LOCKED shares the rows)."""
            world.now += timedelta(seconds=seconds)
            self._drain(together=True)

        @rule(limit=st.integers(1, 3))
        def a_worker_dies_holding_claims(self, limit: int) -> None:
            """A worker claims due rows and dies before sending: their leases run out and the
            reaper hands them back (``medremind worker`` reaps once a minute)."""
            assert world.db.pool is not None
            claimed = world.run(
                lambda: claim(
                    world.db.pool, now=world.now, limit=limit, worker="dead", lease_seconds=60
                )
            )
            world.stats["claimed by a dead worker"] += len(claimed)

        def _drain(self, *, together: bool = False) -> None:
            workers = self.workers if together else self.workers[:1]
            assert workers
            self.drains += 1

            async def drain() -> None:
                assert world.db.pool is not None
                await reap_expired_leases(world.db.pool, world.now)
                for _ in range(50):
                    # A provider's retry_after pauses the process's bucket in real seconds; the
                    # row waits for the clock (its scheduled_time), which is what the test moves.
                    for worker in workers:
                        worker.buckets = BucketSet({}, {})
                    handled = await asyncio.gather(*(w.run_once() for w in workers))
                    full = any(
                        h >= w.config.batch_size for h, w in zip(handled, workers, strict=True)
                    )
                    if not full and not await self._due():
                        return
                raise AssertionError("the workers never caught up")

            world.run(drain)
            self._collect()

        async def _due(self) -> bool:
            return bool(
                await admin.fetchval(
                    "select exists (select from scheduled_messages where status = 'pending'"
                    " and scheduled_time <= $1 and id = any($2::uuid[]))",
                    world.now,
                    [s.id for s in self.messages.values()],
                )
            )

        def _collect(self) -> None:
            """The provider calls of the drain just made, in the order the fakes got them."""
            telegram = [c for c in world.telegram.calls if c.method.lower() == "sendmessage"]
            for call in telegram[self.seen_telegram :]:
                found = MARK.search(call.text or "")
                assert found, f"a Telegram message no test message made: {call.text!r}"
                ok = call.status == 200
                self._add(
                    int(found.group(1)),
                    "telegram",
                    str(call.chat_id),
                    ok,
                    None,
                    None if ok else call.status,
                )
            self.seen_telegram = len(telegram)
            twilio = [
                c
                for c in world.twilio.calls
                if c.method == "POST" and c.path.endswith("/Messages.json")
            ]
            for sms in twilio[self.seen_twilio :]:
                found = MARK.search(sms.params.get("Body") or "")
                assert found, "an SMS no test message made"
                ok = sms.status == 201
                self._add(
                    int(found.group(1)),
                    "sms",
                    str(sms.params.get("To")),
                    ok,
                    sms.response.get("sid") if ok else None,
                    None if ok else sms.response.get("code"),
                )
            self.seen_twilio = len(twilio)

        def _add(
            self,
            n: int,
            channel: str,
            address: str,
            ok: bool,
            provider_id: str | None,
            code: int | None,
        ) -> None:
            patient = self.messages[n].patient
            call = Call(
                n,
                channel,
                address,
                ok,
                provider_id,
                code,
                world.now,
                self.drains,
                _in_window(world.now, patient.zone, patient.window),
                self.consent[patient.id],
            )
            key = (channel, address)
            assert key not in self.stopped, f"message {n} tried {channel} after its STOP"
            refused = self.refused.get(key)
            assert refused is None or refused[0] == self.drains, (
                f"message {n} tried {channel} after the provider refused it for good"
            )
            final = TELEGRAM_FINAL if channel == "telegram" else SMS_FINAL
            if not ok and code in final:
                self.refused.setdefault(key, (self.drains, code))
            self.calls.append(call)
            world.stats[f"{channel} {'taken' if ok else code}"] += 1

        # -- what must hold ---------------------------------------------------------------

        @invariant()
        def each_message_reaches_a_provider_once_and_its_row_says_so(self) -> None:
            if not self.messages:
                return
            rows = {
                r["id"]: r
                for r in world.run(
                    lambda: admin.fetch(
                        "select id, status, channel_used, provider_message_id, attempts,"
                        " max_attempts, locked_by, locked_until from scheduled_messages"
                        " where id = any($1::uuid[])",
                        [s.id for s in self.messages.values()],
                    )
                )
            }
            attempt_rows = world.run(
                lambda: admin.fetch(
                    "select message_id, status, channel, error_class, error_message"
                    " from message_delivery_attempts where message_id = any($1::uuid[])",
                    [s.id for s in self.messages.values()],
                )
            )
            attempts = collections.Counter(r["message_id"] for r in attempt_rows)
            for n, sent in self.messages.items():
                row = rows[sent.id]
                mine = [c for c in self.calls if c.n == n]
                taken = [c for c in mine if c.ok]
                lost = [c for c in taken if c.report in ("undelivered", "failed")]
                # Once per channel; again only after the carrier said the last one never arrived.
                assert len({c.channel for c in taken}) == len(taken), (n, mine)
                assert len(taken) <= 1 + len(lost), f"message {n} reached providers: {mine}"
                assert row["status"] != "processing" or (
                    row["locked_by"] == "dead" and row["locked_until"] >= world.now
                ), f"message {n} left leased: {dict(row)}"
                assert row["attempts"] <= row["max_attempts"], f"message {n}: {dict(row)}"
                last = taken[-1] if taken else None
                if last is not None and last.report not in ("undelivered", "failed"):
                    want = ("delivered",) if last.report == "delivered" else ("sent", "delivered")
                    assert row["status"] in want, (n, dict(row), mine)
                    assert row["channel_used"] == last.channel, (n, dict(row), mine)
                    if last.provider_id is not None:
                        assert row["provider_message_id"] == last.provider_id
                else:
                    assert row["status"] not in ("sent", "delivered"), (n, dict(row), mine)
                # Every provider call has its attempt row; a message that failed for want of
                # a usable channel records that failure as one more (no provider call).
                extra = attempts[sent.id] - len(mine) - len([c for c in mine if c.report])
                assert extra == 0 or (extra == 1 and row["status"] == "failed"), (
                    f"message {n}: {len(mine)} provider calls, {attempts[sent.id]} attempt rows",
                    [dict(r) for r in attempt_rows if r["message_id"] == sent.id],
                    mine,
                    dict(row),
                )

        @invariant()
        def a_cancelled_message_stays_cancelled_and_unsent(self) -> None:
            if not self.cancelled:
                return
            for c in self.calls:
                before = self.cancelled.get(c.n)
                assert before is None or c.drain <= before, (
                    f"message {c.n} reached a provider after the API cancelled it: {c}"
                )
            ids = [self.messages[n].id for n in self.cancelled]
            statuses = world.run(
                lambda: admin.fetch(
                    "select id, status from scheduled_messages where id = any($1::uuid[])", ids
                )
            )
            assert all(r["status"] == "cancelled" for r in statuses), [dict(r) for r in statuses]

        @invariant()
        def nothing_taken_that_should_not_have_gone(self) -> None:
            for c in self.calls:
                sent = self.messages[c.n]
                if not c.ok:
                    continue
                assert sent.urgent or not c.night, (
                    f"message {c.n} sent at {c.at} in {sent.patient.zone}'s quiet window"
                )
                assert c.consented, f"message {c.n} sent without consent"
                if sent.deadline is not None:
                    assert c.at < sent.deadline, f"message {c.n} sent past its deadline"
                if sent.platform != "auto" and not sent.allow_fallback:
                    assert c.channel == sent.platform, f"message {c.n} sent on {c.channel}"

        # -- a quiet day at the end ---------------------------------------------------------

    return Delivery


async def test_clinic_messages_provider_faults_and_the_clock_interleaved(
    db: Database, admin_conn: asyncpg.Connection, database_url: str, tmp_path: Path
) -> None:
    async with FakeTelegram(DEFAULT_TOKEN) as telegram, FakeTwilio() as twilio:
        web_settings = load_settings(
            web_env(
                database_url,
                tmp_path,
                PUBLIC_BASE_URL=PUBLIC_BASE_URL,
                TWILIO_ACCOUNT_SID=twilio.account_sid,
                TWILIO_AUTH_TOKEN=twilio.auth_token,
                TWILIO_SMS_FROM=FROM,
                TWILIO_API_BASE_URL=twilio.base_url,
                TELEGRAM_BOT_TOKEN=DEFAULT_TOKEN,
                TELEGRAM_API_BASE_URL=telegram.base_url,
                # Only the channels the patients have: nothing goes to the outbox folder.
                MEDREMIND_OUTBOX_ENABLED="false",
            )
        )
        web = make_client(make_app(web_settings, db))
        world = World(
            asyncio.get_running_loop(), db, admin_conn, telegram, twilio, web, web_settings
        )
        run = stateful_settings(EXAMPLES, STEPS)
        try:
            await asyncio.to_thread(run_state_machine_as_test, machine_for(world), settings=run)
        finally:
            await web.aclose()
    print(f"delivery faults stateful: {dict(world.stats)}")
    assert world.stats["messages"], "no message was made"
