"""A live worker whose record is late keeps its leases: what it sent is not sent again.

A claim leases its rows for ``lease_seconds``, and a send ends at the latest a margin
(``min(5, lease / 10)``) before the lease does. The record comes after the send: a flush that
fails waits for its retry, up to 5 s. A record later than the lease let another worker's reaper
return the rows, and that worker sent them again, though no worker had crashed. The dispatcher
now renews the leases of the rows it holds (scheduler/lease_keeper.py).

Real ``medremind worker`` processes (tests/dispatch/worker_entry.py) over real PostgreSQL. Worker
A's records fail for a while (a trigger refuses the attempt rows of its sends, as a deadlock or
a lock timeout would; every other statement of A's is answered), worker B runs beside it.
Before the renewal B reaped A's rows and sent every one of them again.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from tests.dispatch.test_processes import Workers, _insert_due, _wait_terminal

LEASE = 3.0  # seconds; a margin of 0.3 s, a reaper every 1.5 s
TOTAL = 30

# Refuses the attempt rows of worker A's sends (its provider ids are "A-n") while the switch is
# on: A's records fail as a whole and are retried with a backoff that reaches 5 s.
_FAULT = """
create table record_fault (on_ boolean not null);
insert into record_fault values (true);
create function refuse_records_of_a() returns trigger language plpgsql security definer as $$
begin
  if (select on_ from record_fault) then
    raise exception 'record refused by the test' using errcode = '40P01';
  end if;
  return new;
end
$$;
create trigger refuse_records_of_a before insert on message_delivery_attempts
  for each row when (new.provider_message_id like 'A-%')
  execute function refuse_records_of_a();
"""


@pytest.fixture
def fleet(database_url: str, tmp_path: Path) -> Iterator[Workers]:
    workers = Workers(database_url, tmp_path)
    try:
        yield workers
    finally:
        workers.kill_all()


async def test_a_worker_whose_records_fail_keeps_its_leases_and_sends_nothing_twice(
    admin_conn: asyncpg.Connection, fleet: Workers
) -> None:
    workers = fleet
    await admin_conn.execute(_FAULT)
    await _insert_due(admin_conn, TOTAL, patients=10)
    workers.start("A", lease=LEASE, batch=50, concurrency=64)
    deadline = time.monotonic() + 90
    # A alone: it claims and sends them all, and cannot record them.
    while len(workers.sends()) < TOTAL or "recording outcomes failed" not in workers.stderr("A"):
        assert time.monotonic() < deadline, workers.stderr("A")
        await asyncio.sleep(0.05)

    workers.start("B", lease=LEASE, batch=50, concurrency=64)
    await workers.wait_ready(admin_conn)
    # Three leases with B's reaper running while A's records fail.
    await asyncio.sleep(3 * LEASE)
    await admin_conn.execute("update record_fault set on_ = false")

    counts = await _wait_terminal(admin_conn, TOTAL, workers, timeout=90)
    workers.stop_all()
    sends = collections.Counter(message_id for message_id, _, _ in workers.sends())
    twice = sum(n - 1 for n in sends.values() if n > 1)
    print(f"\n{TOTAL} messages, A's records refused for {3 * LEASE:.0f} s: {twice} sent twice")
    assert counts == {"sent": TOTAL}
    assert len(sends) == TOTAL
    assert twice == 0, "the reaper returned rows a live worker had sent"
    assert "lease lost" not in workers.stderr("A")
    by = await admin_conn.fetch("select provider_message_id from scheduled_messages")
    assert all(r["provider_message_id"].startswith("A-") for r in by)
