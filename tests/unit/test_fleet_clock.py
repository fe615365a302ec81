"""scheduler.fleet_clock: the worker's clock is the database's, moved on by the monotonic clock."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from scheduler.fleet_clock import MAX_ROUND_TRIP_SECONDS, FleetClock

HOST = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)  # this host's wall clock (two minutes ahead)
DB = HOST - timedelta(minutes=2)


class FakeServer:
    """Answers ``select clock_timestamp()`` after a round trip of the monotonic clock."""

    def __init__(self) -> None:
        self.mono = 100.0
        self.db_now = DB
        self.round_trip = 0.002

    def monotonic(self) -> float:
        return self.mono

    async def fetchval(self, sql: str) -> datetime:
        assert sql == "select clock_timestamp()"
        self.mono += self.round_trip / 2
        answer = self.db_now
        self.mono += self.round_trip / 2
        return answer


def _clock(server: FakeServer) -> FleetClock:
    return FleetClock(
        wall=lambda: HOST + timedelta(seconds=server.mono - 100.0),
        monotonic=server.monotonic,
    )


async def test_before_a_sync_it_is_the_hosts_clock_and_after_the_databases() -> None:
    server = FakeServer()
    clock = _clock(server)
    assert clock.now() == HOST
    await clock.sync(server)
    assert abs((clock.now() - (DB + timedelta(seconds=0.001))).total_seconds()) < 1e-6
    server.mono += 30.0  # half a minute on the monotonic clock
    assert abs((clock.now() - (DB + timedelta(seconds=30.001))).total_seconds()) < 1e-6
    assert clock.offset_seconds == pytest.approx(-120.0, abs=0.01)


async def test_a_slow_reading_does_not_replace_a_good_one() -> None:
    server = FakeServer()
    clock = _clock(server)
    await clock.sync(server)
    good = clock.now()
    server.round_trip = MAX_ROUND_TRIP_SECONDS * 4
    server.db_now = DB + timedelta(seconds=50)  # what a stalled answer might say
    await clock.sync(server)
    # Only the monotonic clock moved it: by the slow round trip, not by the reading.
    assert abs((clock.now() - good).total_seconds() - MAX_ROUND_TRIP_SECONDS * 4) < 1e-6


async def test_a_host_far_off_is_logged_once_with_its_offset_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = FakeServer()
    clock = _clock(server)
    with caplog.at_level(logging.WARNING, logger="scheduler.fleet_clock"):
        await clock.sync(server)
        await clock.sync(server)
    records = [r for r in caplog.records if r.name == "scheduler.fleet_clock"]
    assert len(records) == 1
    assert records[0].offset_seconds == pytest.approx(-120.0, abs=0.01)  # type: ignore[attr-defined]
