"""Edits, claims and sends interleaved at random: a claim never sees a patient older than the
database at the claim, whatever the worker's cache (scheduler/claim_cache.py) holds.

Hypothesis drives one worker's claim session (its own connection, its cache listening, as
``medremind worker`` runs it) and a superuser connection making the edits a web process, the
dashboard or the bot makes: new phone numbers, STOP and START, language, consent, pause, category
preferences, a clinic's name and quiet defaults, a patient moved to another clinic. It also
delays every notification (in order) by up to 0.2 s and kills the cache's LISTEN connection.
After each claim, every claimed message's patient data must equal a fresh read of the database;
a send after an edit that withdrew consent or opted the address out never goes.

``MEDREMIND_STATEFUL_EXAMPLES`` / ``MEDREMIND_STATEFUL_STEPS`` run it bigger.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any, TypeVar
from uuid import UUID

import asyncpg
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from core.db import Database
from platforms.base import Channel
from scheduler.claim_session import ClaimSession
from scheduler.claims import Claim
from scheduler.dispatcher import Dispatcher, DispatcherConfig
from tests import factories
from tests.dispatch.recording import RecordingSender
from tests.stateful import stateful_settings
from tests.waiting import eventually

EXAMPLES = int(os.environ.get("MEDREMIND_STATEFUL_EXAMPLES", "8"))
STEPS = int(os.environ.get("MEDREMIND_STATEFUL_STEPS", "25"))
T = TypeVar("T")
# One claim in three first waits for the cache to listen; the others come as they come, most
# often just after a kill, while the cache is down or not yet aware of it.
SETTLED = st.sampled_from([False, False, True])
_numbers = itertools.count(1)


def _phone() -> str:
    return f"+1415556{next(_numbers) % 10000:04d}"


@dataclass
class World:
    """What the machine (in a thread) drives on the test's event loop."""

    loop: asyncio.AbstractEventLoop
    db: Database
    admin: asyncpg.Connection
    session: ClaimSession
    delay: float = 0.0
    late: collections.deque[str] = field(default_factory=collections.deque)
    stats: collections.Counter[str] = field(default_factory=collections.Counter)

    def run(self, make: Callable[[], Awaitable[T]]) -> T:
        async def call() -> T:
            return await make()

        return asyncio.run_coroutine_threadsafe(call(), self.loop).result(timeout=120)


TRUTH = """
select p.locale, p.consent_at is not null as consented, p.reminders_paused,
       p.reminders_paused_by, p.status,
       o.name as organization_name, o.default_quiet_start, o.default_quiet_end,
       p.organization_id, p.channel_order,
       array(select row(cp.channel, cp.address,
                        cp.active and cp.opted_out_at is null and cp.blocked_at is null)::text
               from contact_points cp where cp.patient_id = p.id order by 1) as contacts,
       coalesce((select public.preference_opted_out(pp.patient_choice, pp.clinic_choice)
                   from patient_preferences pp
                  where pp.patient_id = p.id and pp.category = 'clinic_news'), false)
         as news_opted_out
  from patients p left join organizations o on o.id = p.organization_id
 where p.id = $1
"""


def _as_seen(claim: Claim) -> dict[str, Any]:
    """A claim's patient data in the shape of TRUTH."""
    return {
        "locale": claim.locale,
        "consented": claim.consented,
        "reminders_paused": claim.reminders_paused,
        "reminders_paused_by": claim.reminders_paused_by,
        "status": claim.patient_status,
        "organization_name": claim.organization_name,
        "default_quiet_start": claim.default_quiet_start,
        "default_quiet_end": claim.default_quiet_end,
        "organization_id": claim.organization_id,
        "channel_order": list(claim.channel_order),
        "contacts": sorted(
            f"({c.channel},{c.address},{'t' if c.usable else 'f'})" for c in claim.contacts
        ),
        "news_opted_out": claim.category_opted_out,
    }


def machine_for(world: World) -> type[RuleBasedStateMachine]:
    """The state machine class over ``world``."""
    admin = world.admin

    class Edits(RuleBasedStateMachine):
        patients = Bundle("patients")

        def __init__(self) -> None:
            super().__init__()
            self.orgs: list[UUID] = []

        @initialize(target=patients)
        def three_patients(self) -> Any:
            async def make() -> list[UUID]:
                self.orgs = [(await factories.create_organization(admin))["id"] for _ in "ab"]
                made = []
                for n in range(3):
                    p = await factories.create_patient(
                        admin,
                        self.orgs[n % 2],
                        contacts={"sms": _phone(), "telegram": str(700_000_000 + next(_numbers))},
                    )
                    made.append(p["id"])
                return made

            return multiple(*world.run(make))

        # -- edits, as the web process, the dashboard or the bot make them ------------------

        @rule(
            patient=patients,
            kind=st.sampled_from(
                [
                    "phone",
                    "stop",
                    "start",
                    "language",
                    "consent",
                    "pause",
                    "news",
                    "order",
                    "clinic",
                    "move",
                ]
            ),
            flag=st.booleans(),
            which=st.integers(0, 1),
        )
        def edit(self, patient: UUID, kind: str, flag: bool, which: int) -> None:
            """One edit, committed before the next step."""
            channel = ("sms", "telegram")[which]
            edits: dict[str, tuple[str, tuple[Any, ...]]] = {
                "phone": (
                    "update contact_points set address = $2"
                    " where patient_id = $1 and channel = 'sms'",
                    (patient, _phone()),
                ),
                "stop": (
                    "update contact_points set opted_out_at = now()"
                    " where patient_id = $1 and channel = $2",
                    (patient, channel),
                ),
                "start": (
                    "update contact_points set opted_out_at = null"
                    " where patient_id = $1 and channel = $2",
                    (patient, channel),
                ),
                "language": (
                    "update patients set locale = $2 where id = $1",
                    (patient, "es" if flag else "en"),
                ),
                "consent": (
                    "update patients set consent_at = case when $2 then now() end where id = $1",
                    (patient, flag),
                ),
                # Who paused changes alone too (a clinic pausing a patient the patient paused):
                # it words the reason of what the pause holds back.
                "pause": (
                    "update patients set reminders_paused = $2,"
                    " reminders_paused_by = case when $2 then $3 end where id = $1",
                    (patient, flag, ("patient", "clinic")[which]),
                ),
                "news": (
                    "insert into patient_preferences (patient_id, category, patient_choice)"
                    " values ($1, 'clinic_news', $2) on conflict (patient_id, category)"
                    " do update set patient_choice = excluded.patient_choice",
                    (patient, ("in", "out")[which] if flag else None),
                ),
                "order": (
                    "update patients set channel_order = $2 where id = $1",
                    (patient, ["sms", "telegram"] if flag else ["telegram", "sms"]),
                ),
                "clinic": (
                    "update organizations set name = $2, default_quiet_start = $3,"
                    " default_quiet_end = '07:00' where id = $1",
                    (self.orgs[which], f"Clinic {which}{flag}", time(20 + which + flag)),
                ),
                "move": (
                    "update patients set organization_id = $2 where id = $1",
                    (patient, self.orgs[which]),
                ),
            }
            sql, args = edits[kind]
            world.stats["edits"] += 1
            world.run(lambda: admin.execute(sql, *args))

        # -- the worker's side --------------------------------------------------------------

        @rule(delay=st.sampled_from([0.0, 0.0, 0.05, 0.2]))
        def notifications_take(self, delay: float) -> None:
            world.delay = delay

        @rule(now=st.integers(0, 3))
        def listen_connection_killed(self, now: int) -> None:
            pid = world.session.cache.listener_pid
            if now == 0 and world.session.cache.live and pid is not None:
                world.stats["listen killed"] += 1
                world.run(lambda: admin.execute("select pg_terminate_backend($1)", pid))

        @rule(
            chosen=st.lists(patients, min_size=1, max_size=3, unique=True),
            news=st.booleans(),
            settled=SETTLED,
        )
        def claim(self, chosen: list[UUID], news: bool, settled: bool) -> None:
            """A claim, some once the cache listens again: on a loaded box its LISTEN may not be
            back from a kill (or up at all) by the next claims, which then all read afresh and
            the live cache went untested (once, at -n 2 on a loaded box: 27 claims, none live)."""

            async def claim_and_compare() -> None:
                if settled:
                    await eventually(lambda: world.session.cache.live, timeout=60)
                for patient in chosen:
                    await factories.create_message(
                        admin,
                        patient,
                        urgent=True,
                        payload={"category": "clinic_news"} if news else {},
                    )
                claims = await world.session.claim(
                    now=datetime.now(UTC), limit=10, worker="stateful", lease_seconds=60
                )
                assert sorted(str(c.patient_id) for c in claims) == sorted(map(str, chosen))
                for c in claims:
                    truth = dict(await admin.fetchrow(TRUTH, c.patient_id))
                    truth["contacts"] = sorted(truth["contacts"])
                    truth["channel_order"] = list(truth["channel_order"])
                    if not news:
                        truth["news_opted_out"] = False  # free text of no category
                    assert _as_seen(c) == truth, f"claimed {_as_seen(c)}, database {truth}"
                await admin.execute(
                    "update scheduled_messages set status = 'cancelled', lease_token = null,"
                    " locked_until = null where id = any($1::uuid[])",
                    [c.id for c in claims],
                )
                world.stats["claims"] += 1
                world.stats["claimed with a live cache"] += world.session.cache.live

            world.run(claim_and_compare)

        @rule(
            chosen=st.lists(patients, min_size=1, max_size=3, unique=True),
            news=st.booleans(),
            settled=SETTLED,
        )
        def claim_again(self, chosen: list[UUID], news: bool, settled: bool) -> None:
            """Claims weigh as much as edits: most find their patients cached."""
            self.claim(chosen, news, settled)

        @rule(patient=patients, edit=st.sampled_from(["stop", "consent", "none"]))
        def edit_between_claim_and_send(self, patient: UUID, edit: str) -> None:
            """A STOP or consent withdrawn after the claim, before the send: it never goes."""

            async def run() -> None:
                sms = RecordingSender(Channel.SMS)
                telegram = RecordingSender(Channel.TELEGRAM)
                config = DispatcherConfig(
                    worker_id="stateful", platform_rates={}, recipient_rates={}
                )
                assert world.db.pool is not None
                dispatcher = Dispatcher(
                    world.db.pool,
                    {Channel.SMS: sms, Channel.TELEGRAM: telegram},
                    None,
                    lambda: datetime.now(UTC),
                    config,
                )
                await factories.create_message(admin, patient, urgent=True)
                (claim,) = await world.session.claim(
                    now=datetime.now(UTC), limit=10, worker="stateful", lease_seconds=60
                )
                if edit == "stop":
                    await admin.execute(
                        "update contact_points set opted_out_at = now() where patient_id = $1",
                        patient,
                    )
                elif edit == "consent":
                    await admin.execute(
                        "update patients set consent_at = null where id = $1", patient
                    )
                # Claimed long ago as far as the send knows: it re-reads the patient first.
                result = await dispatcher._deliverer.deliver(claim, read_at=-1e9)
                truth = await admin.fetchrow(TRUTH, patient)
                sent = [a for s in (sms, telegram) for a, _ in s.sends]
                if not truth["consented"]:
                    assert not sent, f"sent after consent was withdrawn: {result.outcome}"
                usable = {a for a in truth["contacts"] if a.endswith(",t)")}
                for address in sent:
                    assert any(f",{address}," in u for u in usable), f"sent to {address}"
                world.stats[f"sent after {edit}" if sent else f"held after {edit}"] += 1
                await admin.execute(
                    "update scheduled_messages set status = 'cancelled', lease_token = null,"
                    " locked_until = null where id = $1",
                    claim.id,
                )

            world.run(run)

        @invariant()
        def nothing_left_claimed(self) -> None:
            left = world.run(
                lambda: admin.fetchval(
                    "select count(*) from scheduled_messages where status = 'processing'"
                )
            )
            assert left == 0

    return Edits


async def test_edits_claims_and_sends_interleaved(
    db: Database, admin_conn: asyncpg.Connection
) -> None:
    assert db.pool is not None
    session = ClaimSession(db.pool, db.connect)
    world = World(asyncio.get_running_loop(), db, admin_conn, session)
    cache = session.cache
    apply = cache.on_notification

    def deliver_one() -> None:
        apply(world.late.popleft())

    def on_notification(payload: str) -> None:
        # Late by the current delay, never out of order (each takes the oldest waiting).
        world.late.append(payload)
        if world.delay:
            world.loop.call_later(world.delay, deliver_one)
        else:
            deliver_one()

    cache.on_notification = on_notification  # type: ignore[method-assign]
    session.listen()
    run = stateful_settings(EXAMPLES, STEPS)
    try:
        await asyncio.to_thread(run_state_machine_as_test, machine_for(world), settings=run)
    finally:
        await session.aclose()
    print(f"claim cache stateful: {dict(world.stats)}, hits {cache.hits}, misses {cache.misses}")
    assert world.stats["claimed with a live cache"], "no claim ever read a live cache"
    assert cache.hits, "no claim was served from the cache"
