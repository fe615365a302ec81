"""One worker cut off from the database while another, with its reaper, still reaches it.

Worker A reaches PostgreSQL through a loopback TCP proxy the test cuts while A's sends are in
flight; worker B, started once A holds every row, reaches it directly and runs the product's
reap job (``scheduler/reaper.py: ReapJob``) throughout. What the database sees of A is what it
would see of a dead A: its leases are no longer renewed, and its heartbeats (written through the
same pool) stop at the same moment. No signal in the database tells the two apart, so the lease
renewal is the liveness signal the reaper respects, for ``expired_for`` after a lease ends:

* A back within that time: its keeper renews (or takes back) its rows within a quarter second,
  and nothing goes twice.
* A away longer: B's reaper returns A's rows and B sends them. What A sent in the partition (the
  sends in flight at the cut, which A records too late) goes twice: the bounded duplicate of
  at-least-once, the same as a worker killed after its sends and before its record. Nothing that
  A had claimed and not yet started goes twice: a send more than a quarter second after its
  claim's read re-checks the patient first (scheduler/send_checks.py), which fails without the
  database and puts the row back unsent.
"""

from __future__ import annotations

import asyncio
import collections
import time

import asyncpg

from medremind.worker_process import reaper_interval
from scheduler.lease_keeper import RETRY_SECONDS
from tests.dispatch.test_outage_mid_send import (  # noqa: F401 (fixtures)
    CutProxy,
    _sent_again,
    _stop,
    fleet,
    proxy,
)
from tests.dispatch.test_processes import Workers, _counts, _insert_due

LEASE = 6.0  # a reaper every 3 s that spares leases expired less than 4.7 s ago
TOTAL = 40
SEND_SECONDS = 1.0
CONCURRENCY = 8  # at the cut: up to 8 sends in flight, the rest of A's claims waiting
A_OPTIONS = {"lease": LEASE, "delay": SEND_SECONDS, "batch": 50, "concurrency": CONCURRENCY}
B_OPTIONS = {"lease": LEASE, "delay": SEND_SECONDS, "batch": 2, "concurrency": 2}


# How long after its end the fleet's reap job returns a lease (ReapJob.expired_for: 4.7 s).
EXPIRED_FOR = reaper_interval(LEASE) + 2 * (RETRY_SECONDS + LEASE / 10)


async def _cut_a_mid_send(
    admin_conn: asyncpg.Connection, workers: Workers, cut: CutProxy, database_url: str
) -> int:
    """A (through the proxy) and B (directly; claiming two rows at a time, so that A takes most)
    run, B's reaper in step; TOTAL rows fall due, all claimed; the proxy is cut while A's first
    sends are in flight. Returns A's sends logged before the cut."""
    workers.start("A", **A_OPTIONS)
    through_proxy, workers.database_url = workers.database_url, database_url
    workers.start("B", **B_OPTIONS)
    workers.database_url = through_proxy
    await workers.wait_ready(admin_conn)
    # B's reap job: its first pass only looks; from the second on it reaps.
    await asyncio.sleep(2 * reaper_interval(LEASE) + 0.5)
    await _insert_due(admin_conn, TOTAL, patients=10)
    deadline = time.monotonic() + 120
    while (
        await admin_conn.fetchval(
            "select count(*) from scheduled_messages where status in ('processing', 'sent')"
        )
        < TOTAL
    ):
        assert time.monotonic() < deadline, ("not claimed", workers.stderr("A"))
        await asyncio.sleep(0.02)
    await asyncio.sleep(SEND_SECONDS / 3)  # A's first sends under way, their checks done
    before = len([s for s in workers.sends() if s[1] == "A"])
    await cut.cut()
    return before


async def test_a_worker_back_before_the_reaper_may_reap_keeps_its_rows(
    admin_conn: asyncpg.Connection,
    fleet: Workers,  # noqa: F811 (the fixture)
    proxy: CutProxy,  # noqa: F811 (the fixture)
    database_url: str,
) -> None:
    await _cut_a_mid_send(admin_conn, fleet, proxy, database_url)
    # A's leases were taken just before the cut: every one runs out in the outage, and B's
    # reaper would return them EXPIRED_FOR after that.
    await asyncio.sleep(LEASE + 1.0)
    await proxy.open()

    twice = await _sent_again(admin_conn, fleet)
    print(f"\nA cut off for {LEASE + 1.0:.1f} s: {twice} sent again")
    assert twice == 0, ("sent again", fleet.stderr("A"), fleet.stderr("B"))
    await _stop(fleet)


async def test_a_worker_away_longer_loses_its_rows_and_only_its_sends_in_flight_go_twice(
    admin_conn: asyncpg.Connection,
    fleet: Workers,  # noqa: F811 (the fixture)
    proxy: CutProxy,  # noqa: F811 (the fixture)
    database_url: str,
) -> None:
    before = await _cut_a_mid_send(admin_conn, fleet, proxy, database_url)
    # Away until B's reaper has returned A's rows and B has sent every one of them.
    deadline = time.monotonic() + 120
    while (await _counts(admin_conn)).get("sent", 0) < TOTAL:
        assert time.monotonic() < deadline, ("not reaped", fleet.stderr("B"))
        await asyncio.sleep(0.2)
    await proxy.open()
    # A's late records are refused (B's claim drew another lease token) and change nothing.
    await asyncio.sleep(2 * 0.25 + 1)

    sends = fleet.sends()
    by_a = [message_id for message_id, worker, _ in sends if worker == "A"]
    by_b = collections.Counter(message_id for message_id, worker, _ in sends if worker == "B")
    recorded_by_a = await admin_conn.fetchval(
        "select count(*) from scheduled_messages where provider_message_id like 'A-%'"
    )
    twice = sorted(message_id for message_id in by_a if by_b[message_id])
    print(
        f"\nA sent {before} before the cut and {len(by_a) - before} in the partition,"
        f" recorded {recorded_by_a}; {len(twice)} sent again by B"
    )
    assert await _counts(admin_conn) == {"sent": TOTAL}
    assert max(by_b.values()) == 1, "B sent a row twice"
    assert len(set(by_a)) == len(by_a), "A sent a row twice"
    # A started no send once the database was away but those it had begun (in flight at the
    # cut); each of them that A could not record went again, and nothing else did.
    assert len(by_a) <= before + CONCURRENCY, (fleet.stderr("A"), fleet.stderr("B"))
    assert len(twice) == len(by_a) - recorded_by_a, (fleet.stderr("A"), fleet.stderr("B"))
    await _stop(fleet)
