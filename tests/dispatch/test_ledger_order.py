"""The fleet ledger serves a worker's sends in the order they first asked, also after its
answer sent them away to come back later (issue 20: the claim hands time-critical doses over
first, and a bot's queue must keep them first). Real PostgreSQL."""

from __future__ import annotations

import asyncio

import asyncpg

from core.db import Database
from platforms.base import Channel
from scheduler.fleet_limits import ROUTINE_BOOKING_SECONDS, FleetLimiter, _Request, _routine_cap


async def _send(
    limiter: FleetLimiter, started: list[int], n: int, *, critical: bool = False
) -> None:
    """One send to chat ``n``: its slot, then (noted in ``started``) the provider's answer."""
    ticket = await limiter.acquire(Channel.TELEGRAM, f"chat{n}", max_wait=20.0, critical=critical)
    assert ticket is not None
    started.append(n)
    await asyncio.sleep(0.02)  # the provider's answer
    ticket.release()


async def test_sends_start_in_the_order_they_first_asked(db: Database) -> None:
    assert db.pool is not None
    rate = 10.0  # 40 sends: four seconds of slots, most of them refused once and asked again
    limiter = FleetLimiter(
        db.pool, {Channel.TELEGRAM: "telegram:4242"}, {Channel.TELEGRAM: rate}, {}
    )
    started: list[int] = []
    tasks = []
    for n in range(40):
        tasks.append(asyncio.create_task(_send(limiter, started, n)))
        await asyncio.sleep(0)  # each asks before the next one is created
    await asyncio.gather(*tasks)
    await limiter.aclose()
    assert limiter.denied > 0  # the case in question: sends that were refused and came back
    assert started == list(range(40))


async def _answer_the_first_statement_late(admin_conn: asyncpg.Connection) -> None:
    """The database answers the next statement that grants a slot 0.3 s after it chose its
    slots (longer than three slots' spacing at 10/s), and the ones after it at once: a busy
    database host here, a stalled loop or a descheduled worker on CI."""
    await admin_conn.execute(
        """
        create table slow_once (n int);
        insert into slow_once values (1);
        create function slow_once() returns trigger language plpgsql security definer as $$
        begin
          if exists (select from slow_once) then
            delete from slow_once;
            perform pg_sleep(0.3);
          end if;
          return new;
        end $$;
        create trigger slow_once before update on send_rate_ledger
          for each row execute function slow_once();
        """
    )


async def test_sends_start_in_slot_order_when_an_answer_comes_in_late(
    db: Database, admin_conn: asyncpg.Connection
) -> None:
    """A worker maps the ledger's slots onto its own clock from the moment each answer comes
    in: an answer that came in late (a busy database host here; a stalled loop or a
    descheduled process on CI) maps its slots that much late. The next statement's slot, one
    spacing later on the database's clock, was timed before it: the later send started first
    (the routine backlog's order broke on a loaded CI host). Sends start in slot order."""
    assert db.pool is not None
    await _answer_the_first_statement_late(admin_conn)
    limiter = FleetLimiter(
        db.pool, {Channel.TELEGRAM: "telegram:4444"}, {Channel.TELEGRAM: 10.0}, {}
    )
    started: list[int] = []
    # Five sends in the first statement: slots from now to 0.4 s on, mapped 0.3 s late.
    tasks = [asyncio.create_task(_send(limiter, started, n)) for n in range(5)]
    async with asyncio.timeout(10):
        while limiter.statements < 1:
            await asyncio.sleep(0.001)
    # The next send is granted the slot after them, 0.5 s on: on this host's clock before
    # the last of them as the late answer mapped it.
    tasks.append(asyncio.create_task(_send(limiter, started, 5)))
    await asyncio.gather(*tasks)
    await limiter.aclose()
    assert limiter.denied == 0  # every send was granted its slot at once
    assert started == list(range(6))


async def test_a_send_asking_after_a_refusal_waits_with_the_refused_one(
    db: Database, admin_conn: asyncpg.Connection
) -> None:
    """A statement refused the routine sends whose slot lay beyond the routine horizon; a send
    that asked in the next statement, once the grid's next slot had come within that horizon,
    was granted it and started before the sends refused. It now waits with them, and they ask
    again together, in their order."""
    assert db.pool is not None
    await _answer_the_first_statement_late(admin_conn)
    limiter = FleetLimiter(
        db.pool, {Channel.TELEGRAM: "telegram:4545"}, {Channel.TELEGRAM: 10.0}, {}
    )
    started: list[int] = []
    # One statement: five slots granted (now to 0.4 s on), two refused (0.5 s on, beyond the
    # routine horizon), its answer 0.3 s late.
    tasks = [asyncio.create_task(_send(limiter, started, n)) for n in range(7)]
    await asyncio.sleep(0.1)
    assert limiter.statements == 0  # the statement is in flight
    # A send asking meanwhile: in the next statement the refused slot is within its horizon.
    tasks.append(asyncio.create_task(_send(limiter, started, 7)))
    await asyncio.gather(*tasks)
    await limiter.aclose()
    assert started == list(range(8))


async def test_a_time_critical_send_goes_ahead_of_a_routine_backlog(db: Database) -> None:
    """A routine backlog booked the account's next seconds (every send that asked was granted a
    slot within its wait, up to 5 s ahead), so a time-critical dose that asked after it started
    after all of it. Routine sends now book at most ROUTINE_BOOKING_SECONDS ahead: the critical
    send starts after at most that much of the backlog, however long the backlog is."""
    assert db.pool is not None
    rate = 10.0  # 30 routine sends: three seconds of slots
    limiter = FleetLimiter(
        db.pool, {Channel.TELEGRAM: "telegram:4343"}, {Channel.TELEGRAM: rate}, {}
    )
    started: list[int] = []
    tasks = []
    for n in range(30):
        tasks.append(asyncio.create_task(_send(limiter, started, n)))
        await asyncio.sleep(0)
    while len(started) < 2:  # the backlog has asked and is being served
        await asyncio.sleep(0.01)
    before = len(started)
    tasks.append(asyncio.create_task(_send(limiter, started, 100, critical=True)))
    await asyncio.gather(*tasks)
    await limiter.aclose()
    ahead = started.index(100) - before  # routine sends that started after it asked
    # At most the routine slots booked (0.5 s: 5) and those a statement in flight as it asked
    # may still grant: a bound by the ledger's logic, not by how fast the machine is.
    assert ahead <= ROUTINE_BOOKING_SECONDS * rate + 5, started
    assert started.index(100) < 30 - 10  # not behind the backlog
    assert [n for n in started if n != 100] == list(range(30))  # the routine ones in order


def test_a_statement_asks_for_the_routine_slots_the_grid_may_grant_and_holds_the_rest() -> None:
    """A worker holding a backlog re-asked for every waiting send in each statement, to be
    refused but for a few; the rest wait for the answer of the first one refused."""
    loop = asyncio.new_event_loop()
    try:

        def request(account: str | None, order: int, critical: bool = False) -> _Request:
            return _Request(account, 10.0, None, 0.0, 0.5, loop.create_future(), order, critical)

        batch = [request("telegram:1", n) for n in range(20)]
        batch += [request("telegram:2", 100 + n) for n in range(3)]
        batch += [request("telegram:1", 200, critical=True), request(None, 300)]
        asked, held = _routine_cap(batch)
        cap = int(10.0 * ROUTINE_BOOKING_SECONDS) + 2  # 5 slots in half a second, and one more
        assert [r.order for r in asked] == [*range(cap), 100, 101, 102, 200, 300]
        assert [r.order for r in held] == list(range(cap, 20))
    finally:
        loop.close()
