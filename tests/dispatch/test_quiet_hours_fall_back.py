"""Quiet hours whose end happens twice: the night clocks fall back.

Madrid falls back at 01:00 UTC on 2027-10-31 (03:00 CEST -> 02:00 CET), so 02:30 comes twice.
A message due at 02:10 CET (01:10 UTC, the repeated hour) with quiet hours 22:00-02:30 was
deferred to the first 02:30 (00:30 UTC), a time already past: due again at once, claimed again,
deferred again, a claim and a record per message in a loop until the wall clock passed 02:30
again twenty minutes later. It now waits for the second 02:30 (01:30 UTC).

Real PostgreSQL, the real claim and dispatcher, a recording sender, the injected clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

import asyncpg

from tests import factories
from tests.dispatch.conftest import Clock
from tests.dispatch.test_dispatcher import MakeDispatcher

REPEATED_HOUR = datetime(2027, 10, 31, 1, 10, tzinfo=UTC)  # 02:10 CET, the second time
SECOND_END = datetime(2027, 10, 31, 1, 30, tzinfo=UTC)  # 02:30 CET


async def test_a_message_in_the_repeated_hour_waits_for_the_second_end(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher, clock: Clock
) -> None:
    patient = await factories.create_patient(
        admin_conn,
        None,
        timezone="Europe/Madrid",
        quiet_start=time(22, 0),
        quiet_end=time(2, 30),
    )
    message = await factories.create_message(
        admin_conn, patient["id"], scheduled_time=REPEATED_HOUR
    )
    clock.now = REPEATED_HOUR
    dispatcher, senders = make_dispatcher()

    assert await dispatcher.run_once() == 1
    row = await admin_conn.fetchrow(
        "select status, scheduled_time, attempts from scheduled_messages where id = $1",
        message["id"],
    )
    assert (row["status"], row["scheduled_time"]) == ("pending", SECOND_END)
    assert await dispatcher.run_once() == 0  # not due again: no loop
    assert senders[next(iter(senders))].sends == []

    clock.now = SECOND_END
    assert await dispatcher.run_once() == 1
    assert len(senders[next(iter(senders))].sends) == 1
