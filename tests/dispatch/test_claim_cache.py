"""The worker's cache of claimed messages' patients (scheduler/claim_cache.py) never serves a
stale patient: an edit is honoured by the next claim, even when its notification comes late,
even when it lands while a fill is reading, and the whole cache goes when LISTEN is lost.

Real PostgreSQL, the real triggers (migration 20260101012000) and the claims' own connection, as
``medremind worker`` runs them (scheduler/claim_session.py).
"""

from __future__ import annotations

import asyncio
import collections
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import asyncpg
import pytest

from core.db import Database
from core.sql import query
from scheduler import claims as claims_module
from scheduler.claim_cache import ClaimCache
from scheduler.claim_prefetch import Prefetch
from scheduler.claim_session import ClaimSession
from scheduler.claims import Claim
from tests import factories
from tests.waiting import eventually

PHONE_A = "+14155550101"
PHONE_B = "+14155550102"


@pytest.fixture
async def session(db: Database) -> AsyncIterator[ClaimSession]:
    """A claim session with its cache listening, as the worker's dispatcher has it."""
    assert db.pool is not None
    claims = ClaimSession(db.pool, db.connect)
    claims.listen()
    await eventually(lambda: claims.cache.live)
    try:
        yield claims
    finally:
        await claims.aclose()


async def _claim(session: ClaimSession) -> list[Claim]:
    return await session.claim(
        now=datetime.now(UTC), limit=10, worker="test-worker", lease_seconds=60
    )


async def _claim_one(conn: asyncpg.Connection, session: ClaimSession, patient: Any) -> Claim:
    await factories.create_message(conn, patient["id"], urgent=True)
    (claim,) = await _claim(session)
    assert claim.patient_id == patient["id"]
    return claim


async def _patient(conn: asyncpg.Connection, phone: str = PHONE_A) -> Any:
    org = await factories.create_organization(conn)
    return await factories.create_patient(conn, org["id"], contacts={"sms": phone})


async def test_an_edit_is_honoured_by_the_next_claim(
    admin_conn: asyncpg.Connection, session: ClaimSession
) -> None:
    patient = await _patient(admin_conn)
    first = await _claim_one(admin_conn, session, patient)
    assert [c.address for c in first.contacts] == [PHONE_A]
    assert patient["id"] in session.cache
    # The same patient again: from the cache.
    hits = session.cache.hits
    again = await _claim_one(admin_conn, session, patient)
    assert session.cache.hits == hits + 1
    assert again.contacts == first.contacts and again.locale == "en"

    # A new phone number, language, quiet hours, an opt-out of a category, the clinic's
    # defaults: each honoured by the very next claim.
    await admin_conn.execute(
        "update contact_points set address = $2 where patient_id = $1", patient["id"], PHONE_B
    )
    claim = await _claim_one(admin_conn, session, patient)
    assert [c.address for c in claim.contacts] == [PHONE_B]

    await admin_conn.execute(
        "update patients set locale = 'es', quiet_start = '22:00', quiet_end = '07:00'"
        " where id = $1",
        patient["id"],
    )
    claim = await _claim_one(admin_conn, session, patient)
    assert (claim.locale, str(claim.quiet_start), str(claim.quiet_end)) == (
        "es",
        "22:00:00",
        "07:00:00",
    )

    await admin_conn.execute(
        "insert into patient_preferences (patient_id, category, patient_choice)"
        " values ($1, 'clinic_news', 'out')",
        patient["id"],
    )
    await factories.create_message(
        admin_conn, patient["id"], urgent=True, payload={"category": "clinic_news"}
    )
    (claim,) = await _claim(session)
    assert claim.category_opted_out

    await admin_conn.execute(
        "update organizations set name = 'Renamed clinic', default_quiet_start = '20:00',"
        " default_quiet_end = '06:00' where id = $1",
        patient["organization_id"],
    )
    claim = await _claim_one(admin_conn, session, patient)
    assert claim.organization_name == "Renamed clinic"
    assert str(claim.default_quiet_start) == "20:00:00"
    # The clinic's zone alone (its appointments' times, scheduler.appointment_times).
    await admin_conn.execute(
        "update organizations set timezone = 'America/New_York' where id = $1",
        patient["organization_id"],
    )
    claim = await _claim_one(admin_conn, session, patient)
    assert claim.organization_timezone == "America/New_York"

    # STOP, consent withdrawn, erasure's status: never served from a stale entry.
    await admin_conn.execute(
        "update contact_points set opted_out_at = now() where patient_id = $1", patient["id"]
    )
    claim = await _claim_one(admin_conn, session, patient)
    assert [c.usable for c in claim.contacts] == [False]
    await admin_conn.execute("update patients set consent_at = null where id = $1", patient["id"])
    claim = await _claim_one(admin_conn, session, patient)
    assert not claim.consented


async def test_a_late_notification_is_waited_for(
    admin_conn: asyncpg.Connection, session: ClaimSession
) -> None:
    """The edit's notification is still on its way when the claim returns: the claim's own
    barrier comes after it (commit order), and the claim reads nothing cached before it."""
    patient = await _patient(admin_conn)
    await _claim_one(admin_conn, session, patient)
    assert patient["id"] in session.cache

    # Every notification reaches the cache 0.3 s late, in order.
    cache = session.cache
    apply = cache.on_notification
    late: collections.deque[str] = collections.deque()
    loop = asyncio.get_running_loop()

    def deliver_one() -> None:
        apply(late.popleft())

    def on_notification(payload: str) -> None:
        late.append(payload)
        loop.call_later(0.3, deliver_one)

    cache.on_notification = on_notification  # type: ignore[method-assign]
    # The message first: none may be written for a deleted patient (migration 20260101018950).
    await factories.create_message(admin_conn, patient["id"], urgent=True)
    await admin_conn.execute(
        "update contact_points set opted_out_at = now() where patient_id = $1", patient["id"]
    )
    await admin_conn.execute(
        "update patients set status = 'deleted', consent_at = null where id = $1", patient["id"]
    )
    (claim,) = await _claim(session)
    assert [c.usable for c in claim.contacts] == [False]
    assert claim.patient_status == "deleted" and not claim.consented
    assert not late  # the claim waited for its barrier, behind both invalidations


async def test_a_fill_raced_by_an_edit_is_used_once_not_kept(
    admin_conn: asyncpg.Connection, session: ClaimSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A patient read, then edited, the edit's notification arriving before the read's answer:
    that batch goes on what it read (newer than its claim), the cache does not keep it."""
    patient = await _patient(admin_conn)
    cache = session.cache
    read = claims_module.read_patients

    async def read_then_edit(conn: asyncpg.Connection, ids: Any) -> Any:
        found = await read(conn, ids)
        seen = cache.invalidations
        await admin_conn.execute(
            "update contact_points set address = $2 where patient_id = $1",
            patient["id"],
            PHONE_B,
        )
        await eventually(lambda: cache.invalidations > seen)
        return found

    monkeypatch.setattr(claims_module, "read_patients", read_then_edit)
    claim = await _claim_one(admin_conn, session, patient)
    assert [c.address for c in claim.contacts] == [PHONE_A]
    assert patient["id"] not in cache
    monkeypatch.setattr(claims_module, "read_patients", read)
    claim = await _claim_one(admin_conn, session, patient)
    assert [c.address for c in claim.contacts] == [PHONE_B]


async def test_the_cache_is_dropped_when_listen_is_lost(
    admin_conn: asyncpg.Connection, db: Database
) -> None:
    """The LISTEN connection killed (a failover, an administrator): everything cached goes at
    once, claims read afresh meanwhile (an edit made while nobody listened is honoured), and the
    cache fills again once LISTEN is back."""
    gate = asyncio.Event()
    gate.set()

    async def connect() -> asyncpg.Connection:
        await gate.wait()
        return await db.connect()

    assert db.pool is not None
    session = ClaimSession(db.pool, db.connect)
    session.cache._connect = connect  # the cache's own connection, held back below
    session.listen()
    try:
        await eventually(lambda: session.cache.live)
        patient = await _patient(admin_conn)
        await _claim_one(admin_conn, session, patient)
        assert len(session.cache) == 1
        drops = session.cache.drops

        gate.clear()  # it will not come back until the gate opens
        killed = await admin_conn.fetchval(
            "select pg_terminate_backend($1)", session.cache.listener_pid
        )
        assert killed
        await eventually(lambda: not session.cache.live)
        assert len(session.cache) == 0 and session.cache.drops == drops + 1

        await admin_conn.execute(
            "update contact_points set address = $2 where patient_id = $1",
            patient["id"],
            PHONE_B,
        )
        claim = await _claim_one(admin_conn, session, patient)
        assert [c.address for c in claim.contacts] == [PHONE_B]
        assert len(session.cache) == 0  # nothing kept while nobody listens

        gate.set()
        await eventually(lambda: session.cache.live)
        await _claim_one(admin_conn, session, patient)
        assert patient["id"] in session.cache
    finally:
        gate.set()
        await session.aclose()


async def test_claims_without_a_listening_cache_read_every_patient(
    admin_conn: asyncpg.Connection, db: Database
) -> None:
    """A dispatcher on a pool alone (no connection of its own): no cache, one read of the
    batch's patients in the claim's transaction."""
    assert db.pool is not None
    session = ClaimSession(db.pool)
    phones = {f"+1415555020{n}" for n in range(3)}
    patients = {(await _patient(admin_conn, phone))["id"]: phone for phone in phones}
    for patient_id in patients:
        await factories.create_message(admin_conn, patient_id, urgent=True)
    claims = await _claim(session)
    assert len(claims) == 3
    for claim in claims:
        assert claim.patient_id is not None
        assert [c.address for c in claim.contacts] == [patients[claim.patient_id]]
        assert claim.consented and claim.organization_name
    assert len(session.cache) == 0 and not session.cache.live


async def test_patients_of_messages_due_soon_are_read_ahead(
    admin_conn: asyncpg.Connection, db: Database
) -> None:
    """The patients of what falls due within a minute are cached before it is due
    (scheduler/claim_prefetch.py); an edit after that still reaches the claim.

    The messages are written before the worker's session starts, as the planner writes them
    hours ahead: a pass looks at each row of its window once, so one written into a window a
    pass already covered (the session started first, a slow box) is left to its claim."""
    due = datetime.now(UTC) + timedelta(seconds=30)
    first, second = await _patient(admin_conn), await _patient(admin_conn, PHONE_B)
    for patient in (first, second):
        await factories.create_message(admin_conn, patient["id"], urgent=True, scheduled_time=due)
    assert db.pool is not None
    session = ClaimSession(db.pool, db.connect)
    session.listen()
    try:
        await eventually(lambda: first["id"] in session.cache and second["id"] in session.cache)

        await admin_conn.execute(
            "update contact_points set address = '+14155550109' where patient_id = $1",
            first["id"],
        )
        hits, misses = session.cache.hits, session.cache.misses
        claims = await session.claim(
            now=due + timedelta(seconds=1), limit=10, worker="test-worker", lease_seconds=60
        )
        counted = (session.cache.hits, session.cache.misses)
    finally:
        await session.aclose()  # its cache goes with it
    addresses = {c.patient_id: [p.address for p in c.contacts] for c in claims}
    assert addresses == {first["id"]: ["+14155550109"], second["id"]: [PHONE_B]}
    assert counted == (hits + 1, misses + 1)


async def test_a_window_of_more_patients_than_a_pass_reads_is_read_over_several_passes(
    admin_conn: asyncpg.Connection, db: Database
) -> None:
    """Reminders due at one instant share one due time: a pass that may read only some of their
    patients leaves the rest to the next passes, in patient order, each read once (a pass read
    the first ones and slid its window past the others, whose claims then read them at 08:00)."""
    assert db.pool is not None
    cache = ClaimCache(db.connect, max_entries=20)  # a pass reads at most half: 10
    listening = asyncio.create_task(cache.run())
    try:
        await eventually(lambda: cache.live)
        org = await factories.create_organization(admin_conn)
        due = datetime.now(UTC) + timedelta(seconds=30)
        patients = set()
        for n in range(25):
            patient = await factories.create_patient(
                admin_conn, org["id"], contacts={"sms": f"+1415555{n:04d}"}
            )
            patients.add(patient["id"])
            await factories.create_message(admin_conn, patient["id"], scheduled_time=due)
        prefetch = Prefetch(db.pool, cache, horizon=60.0)
        assert [await prefetch.once() for _ in range(4)] == [10, 10, 5, 0]
        assert prefetch.read == 25
        # The last pass's patients are cached (the cache keeps 20: the first read leave first).
        assert len(cache) == 20 and sum(p in cache for p in patients) == 20
    finally:
        cache.stop()
        await listening


async def test_a_claim_waits_for_its_own_barrier_not_a_newer_one(session: ClaimSession) -> None:
    """Two claims in flight (the dispatcher's backlog): their barriers arrive in the order they
    committed. The newer claim's arriving first says nothing of the older one's, which may still
    come behind an invalidation that the older claim could see."""
    cache = session.cache
    older, newer = cache.token(), cache.token()
    assert older is not None and newer is not None
    cache.on_notification(newer)  # the newer claim committed first
    assert await cache.caught_up(newer)
    waiting = asyncio.create_task(cache.caught_up(older))
    await asyncio.sleep(0.1)
    assert not waiting.done()  # the older one waits for its own
    cache.on_notification(older)
    assert await waiting


async def test_two_claims_at_once_take_different_rows(
    admin_conn: asyncpg.Connection, db: Database
) -> None:
    """A session of two connections runs two claims at once; they skip each other's rows."""
    assert db.pool is not None
    session = ClaimSession(db.pool, db.connect, connections=2)
    session.listen()
    await eventually(lambda: session.cache.live)
    try:
        patient = await _patient(admin_conn)
        for _ in range(6):
            await factories.create_message(admin_conn, patient["id"], urgent=True)
        first, second = await asyncio.gather(
            session.claim(now=datetime.now(UTC), limit=3, worker="w", lease_seconds=60),
            session.claim(now=datetime.now(UTC), limit=3, worker="w", lease_seconds=60),
        )
        ids = [c.id for c in first + second]
        assert len(ids) == 6 and len(set(ids)) == 6
    finally:
        await session.aclose()


async def test_a_multi_row_update_notifies_the_patients_whose_cached_columns_changed(
    admin_conn: asyncpg.Connection, database_url: str
) -> None:
    """One statement over several patients notifies those whose cached columns changed, once.

    The trigger's first firing in the session is a one-row update, then a batch: the batch's
    plan must hold for many rows too (migration 20260101015240).
    """
    org = await factories.create_organization(admin_conn)
    patients = [(await factories.create_patient(admin_conn, org["id"]))["id"] for _ in range(6)]
    listener = await asyncpg.connect(database_url)
    received: list[str] = []
    await listener.add_listener("medremind_cache", lambda *args: received.append(args[3]))

    async def notified_after(barrier: Any) -> set[Any]:
        """The ids notified before ``barrier``'s notice (notices arrive in commit order)."""
        await admin_conn.execute(
            "update patients set display_name = display_name || '.' where id = $1", barrier
        )
        await eventually(lambda: f"p:{barrier}" in received)
        before = received[: received.index(f"p:{barrier}")]
        received.clear()
        return {part for payload in before for part in payload.removeprefix("p:").split(",")}

    try:
        assert await notified_after(patients[5]) == set()
        await admin_conn.execute(
            """
            update patients p
               set locale = case when p.id = $1 then 'fr' else p.locale end,
                   display_name = case when p.id = $2 then 'Renamed' else p.display_name end,
                   channel_order = case when p.id = $3 then '{sms,telegram}'
                                        else p.channel_order end,
                   reminders_paused = p.reminders_paused,
                   home_timezone = 'Europe/Berlin'
             where p.id = any($4::uuid[])
            """,
            patients[0],
            patients[1],
            patients[2],
            patients[:5],
        )
        # Patients 3 and 4 changed a column no cache holds (their home zone) or none at all.
        assert await notified_after(patients[5]) == {str(p) for p in patients[:3]}
        await admin_conn.execute(
            "update patients set consent_at = consent_at where id = any($1::uuid[])", patients
        )
        assert await notified_after(patients[0]) == set()
        # Who paused, changed alone (a clinic pausing a patient who had paused): it words the
        # reason of a row the pause holds back (migration 20260101018750).
        await admin_conn.execute(
            "update patients set reminders_paused = true, reminders_paused_by = 'patient'"
            " where id = $1",
            patients[3],
        )
        assert await notified_after(patients[0]) == {str(patients[3])}
        await admin_conn.execute(
            "update patients set reminders_paused_by = 'clinic' where id = $1", patients[3]
        )
        assert await notified_after(patients[0]) == {str(patients[3])}
    finally:
        await listener.close()


async def test_a_window_whose_instant_passed_is_not_paged_on(
    admin_conn: asyncpg.Connection, db: Database
) -> None:
    """The read-ahead pages through a window of more patients than a pass reads; once the
    window's rows fall due they are the claims' (which read a missing patient themselves), and
    paging on read them all again each second while they were claimed (issue 20's burst)."""
    assert db.pool is not None
    cache = ClaimCache(db.connect, max_entries=4)  # a pass reads two patients at most
    listening = asyncio.create_task(cache.run())
    try:
        await eventually(lambda: cache.live)
        prefetch = Prefetch(db.pool, cache, horizon=3.0)
        assert await prefetch.once() == 0  # an empty window: the next starts where it ends
        window_start = prefetch._upper
        assert window_start is not None
        due = window_start + timedelta(seconds=1)
        org = await factories.create_organization(admin_conn)
        for n in range(5):
            patient = await factories.create_patient(
                admin_conn, org["id"], contacts={"sms": f"+1415555030{n}"}
            )
            await factories.create_message(admin_conn, patient["id"], scheduled_time=due)
        # Within the horizon of the due time, before it: the first page of its window.
        await _sleep_until(due - timedelta(seconds=2.5))
        assert await prefetch.once() == 2
        await _sleep_until(due + timedelta(seconds=0.2))
        assert await prefetch.once() == 0  # due now: left to the claims, the window done
        assert await prefetch.once() == 0
    finally:
        cache.stop()
        await asyncio.gather(listening, return_exceptions=True)


@pytest.mark.parametrize("plan_cache_mode", ["force_custom_plan", "force_generic_plan"])
async def test_the_read_ahead_reads_its_window_by_the_time_index(
    admin_conn: asyncpg.Connection, plan_cache_mode: str
) -> None:
    """Each pass of the read-ahead (once a second, all day) reads only the rows of its window.
    Its bounds came from a CTE joined to the table, unknown to the planner: it scanned the whole
    table each pass (0.25-0.4 s a second among 1,000,000 rows; ~8 us of PostgreSQL CPU a message
    of issue 20's burst, spent while the burst was claimed)."""
    org = await factories.create_organization(admin_conn)
    patient = await factories.create_patient(admin_conn, org["id"], contacts={"sms": PHONE_A})
    await admin_conn.execute(
        "insert into scheduled_messages (patient_id, message_content, scheduled_time, status,"
        " platform, kind, sent_at)"
        " select $1, 'Sent ' || i, now() - i * interval '1 second', 'sent', 'sms', 'free_text',"
        " now() from generate_series(1, 20000) i",
        patient["id"],
    )
    # And what the planner has inserted for the hours ahead, beyond the window.
    await admin_conn.execute(
        "insert into scheduled_messages (patient_id, message_content, scheduled_time, platform,"
        " kind) select $1, 'Later ' || i, now() + interval '1 hour' + i * interval '1 second',"
        " 'sms', 'free_text' from generate_series(1, 5000) i",
        patient["id"],
    )
    await admin_conn.execute("analyze scheduled_messages")
    await admin_conn.execute(f"set plan_cache_mode = {plan_cache_mode}")
    try:
        statement = await admin_conn.prepare(
            "explain (format json) " + query("dispatch", "prefetch_patients")
        )
        for arguments in (
            (None, None, 60.0, 25_000, None, None, None),
            (None, None, 60.0, 25_000, uuid4(), None, None),
            (None, None, 60.0, 25_000, uuid4(), 1, 2),  # a worker's share of a fleet of two
        ):
            answer = await statement.fetchval(*arguments)
            (plan,) = json.loads(answer) if isinstance(answer, str) else answer
            scans = list(_plan_nodes(plan["Plan"]))
            assert scans, plan
            # Each scan of the table is bounded by the window (not a whole-table walk, by the
            # patients' index or sequentially, filtered afterwards).
            for scan in scans:
                assert "scheduled_time >" in scan.get("Index Cond", ""), json.dumps(plan)
    finally:
        await admin_conn.execute("reset plan_cache_mode")


def _plan_nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The scans of scheduled_messages in a JSON plan."""
    if node.get("Relation Name") == "scheduled_messages":
        yield node
    for child in node.get("Plans", ()):
        yield from _plan_nodes(child)


async def _sleep_until(when: datetime) -> None:
    await asyncio.sleep(max(0.0, (when - datetime.now(UTC)).total_seconds()))
