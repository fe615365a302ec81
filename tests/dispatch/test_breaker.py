"""The circuit breaker per provider account (scheduler/breaker.py): pure state, then a dispatcher
whose provider fails: after five transient failures the other messages wait, attempts unspent,
and a successful probe closes it."""

from __future__ import annotations

import asyncpg

from platforms.base import Channel, TransientError
from scheduler.breaker import Breakers
from tests import factories
from tests.dispatch.conftest import NOON, Clock
from tests.dispatch.recording import RecordingSender


class Ticks:
    """A settable monotonic clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_the_threshold_probes_after_the_cooldown_and_closes_on_success() -> None:
    ticks = Ticks()
    breakers = Breakers(threshold=3, cooldown=30, max_cooldown=100, clock=ticks)
    for _ in range(2):
        breakers.failure("sms:+1", "sms")
    assert breakers.wait("sms:+1") == 0.0  # two failures: still closed
    breakers.failure("sms:+1", "sms")
    assert breakers.wait("sms:+1") == 30.0  # open
    assert breakers.wait("telegram:1") == 0.0  # other accounts are not affected
    ticks.now += 30
    assert breakers.wait("sms:+1") == 0.0  # the probe goes
    assert breakers.wait("sms:+1") > 0.0  # ... alone
    breakers.failure("sms:+1", "sms")  # the probe failed: open for twice as long
    assert breakers.wait("sms:+1") == 60.0
    ticks.now += 60
    assert breakers.wait("sms:+1") == 0.0
    breakers.success("sms:+1", "sms")
    assert breakers.wait("sms:+1") == 0.0
    assert breakers.wait("sms:+1") == 0.0  # closed: every send goes


def test_a_send_that_started_before_it_opened_is_no_failed_probe() -> None:
    ticks = Ticks()
    breakers = Breakers(threshold=2, cooldown=10, clock=ticks)
    breakers.failure("a", "sms")
    breakers.failure("a", "sms")  # open for 10 s
    ticks.now += 1
    breakers.failure("a", "sms")  # a send that was already on its way fails too
    assert breakers.wait("a") == 9.0  # still the first cooldown, not doubled
    assert breakers.snapshot() == [
        {"account": "a", "channel": "sms", "state": "open", "failures": 3, "probe_in": 9.0}
    ]
    ticks.now += 9
    assert breakers.snapshot()[0]["state"] == "half_open"
    assert breakers.wait("a") == 0.0  # the probe
    breakers.success("a", "sms")
    assert breakers.snapshot() == []


def test_a_probe_that_never_reports_lets_another_through_after_a_cooldown() -> None:
    ticks = Ticks()
    breakers = Breakers(threshold=1, cooldown=10, clock=ticks)
    breakers.failure("a", "sms")
    ticks.now += 10
    assert breakers.wait("a") == 0.0  # the probe's claim goes back unsent, say
    ticks.now += 10
    assert breakers.wait("a") == 0.0


async def test_an_outage_stops_burning_attempts(
    admin_conn: asyncpg.Connection, make_dispatcher, clock: Clock
) -> None:
    failing = RecordingSender(
        Channel.TELEGRAM, script=[TransientError("502 Bad Gateway") for _ in range(5)]
    )
    dispatcher, _ = make_dispatcher({Channel.TELEGRAM: failing}, batch_size=20, concurrency=1)
    patient = await factories.create_patient(admin_conn)
    ids = [
        (await factories.create_message(admin_conn, patient["id"], scheduled_time=NOON))["id"]
        for _ in range(8)
    ]
    await dispatcher.run_once()
    rows = await admin_conn.fetch(
        "select attempts, last_error from scheduled_messages where id = any($1)", ids
    )
    # Five sends failed and count; the breaker opened and the other three waited unsent.
    assert failing.calls == 5
    assert sorted(r["attempts"] for r in rows) == [0, 0, 0, 1, 1, 1, 1, 1]
    waiting = [r for r in rows if r["attempts"] == 0]
    assert all("circuit open" in r["last_error"] for r in waiting)
