"""The fleet's breakers in provider_breakers (scheduler/fleet_breakers.py) on real PostgreSQL:
several processes' :class:`Breakers`, each exchanging with the table as the worker does once a
second (here: when the test says). One opening holds all; after the cooldown the table grants
the probe to one of the processes asking; its answer closes or reopens the breaker for all."""

from __future__ import annotations

import asyncio

import pytest

from core.db import Database
from scheduler.breaker import Breakers
from scheduler.fleet_breakers import FleetBreakers

ACCOUNT = "telegram:123456"
COOLDOWN = 0.3


def _fleet(names: str) -> list[FleetBreakers]:
    """A process per letter of ``names``, each with its breakers (threshold 1) on the table."""
    return [
        FleetBreakers(Breakers(threshold=1, cooldown=COOLDOWN, max_cooldown=10), name)
        for name in names
    ]


async def _exchange(db: Database, fleet: list[FleetBreakers]) -> None:
    """Each process's exchange with the table, in turn."""
    for process in fleet:
        await process.sync(db.pool)


async def test_one_opening_holds_the_fleet_and_one_probe_goes(db: Database) -> None:
    """a opens; b and c hold from their next exchange; one probe per cooldown for the three;
    a failed probe doubles the cooldown for all, a successful one closes it for all."""
    assert db.pool is not None
    fleet = _fleet("abc")
    a, b, c = (p.breakers for p in fleet)
    await _exchange(db, fleet)
    a.failure(ACCOUNT, "telegram")  # a's provider fails: open (threshold 1)
    assert b.wait(ACCOUNT) == 0.0  # b has not read the table yet
    await _exchange(db, fleet)
    assert all(x.wait(ACCOUNT) > 0.0 for x in (a, b, c))  # held everywhere

    await asyncio.sleep(COOLDOWN + 0.05)
    # Each has a send waiting: each asks for the probe, the table grants it to one.
    assert all(x.wait(ACCOUNT) > 0.0 for x in (a, b, c))
    await _exchange(db, fleet)
    goes = [x for x in (a, b, c) if x.wait(ACCOUNT) == 0.0]
    assert len(goes) == 1
    prober = goes[0]
    assert prober.wait(ACCOUNT) > 0.0  # its one probe only

    # The probe failed: open again for twice as long, for all; nobody else probed meanwhile.
    prober.failure(ACCOUNT, "telegram")
    await _exchange(db, fleet)
    row = await db.pool.fetchrow("select cooldown_seconds, probe_by from provider_breakers")
    assert (row["cooldown_seconds"], row["probe_by"]) == (COOLDOWN * 2, None)
    await asyncio.sleep(COOLDOWN + 0.05)
    assert all(x.wait(ACCOUNT) > 0.0 for x in (a, b, c))  # half the doubled cooldown: held

    await asyncio.sleep(COOLDOWN)
    for x in (a, b, c):
        x.wait(ACCOUNT)
    await _exchange(db, fleet)
    goes = [x for x in (a, b, c) if x.wait(ACCOUNT) == 0.0]
    assert len(goes) == 1
    goes[0].success(ACCOUNT, "telegram")  # the provider answers: closed for all
    await _exchange(db, fleet)
    assert await db.pool.fetchval("select count(*) from provider_breakers") == 0
    assert all(x.wait(ACCOUNT) == 0.0 for x in (a, b, c))
    assert all(x.snapshot() == [] for x in (a, b, c))


async def test_a_process_that_starts_ends_a_refusals_cooldown(db: Database) -> None:
    """A token refused, then replaced by restarting the processes with the new one: the first
    exchange of a started process lets one probe try it at once, not after the cooldown."""
    (old,) = _fleet("o")
    old.breakers.cooldown = 300.0
    old.breakers.refused(ACCOUNT, "telegram", "Telegram rejected the bot token")
    await old.sync(db.pool)
    assert old.breakers.wait(ACCOUNT) > 200

    started = _fleet("nm")
    await _exchange(db, started)
    for process in started:
        assert process.breakers.refusal(ACCOUNT) == "Telegram rejected the bot token"
        process.breakers.wait(ACCOUNT)  # a send waits: asks for the probe
    await _exchange(db, started)
    assert [p.breakers.wait(ACCOUNT) == 0.0 for p in started].count(True) == 1


async def test_unsent_changes_go_with_the_next_exchange(db: Database) -> None:
    """The database away during an exchange: the opening it carried is written by the next."""
    (a,) = _fleet("a")
    a.breakers.failure(ACCOUNT, "telegram")
    pool = db.pool
    assert pool is not None

    class Away:
        async def fetch(self, *args: object) -> None:
            raise ConnectionError("the database is away")

    with pytest.raises(ConnectionError):
        await a.sync(Away())
    assert await pool.fetchval("select count(*) from provider_breakers") == 0
    await a.sync(pool)
    assert await pool.fetchval("select account from provider_breakers") == ACCOUNT
