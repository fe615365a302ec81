"""A worker's send queue puts time-critical claims (priority 0: time-critical doses, bot replies)
ahead of the routine ones still waiting, and ``urgent`` alone is not time-critical."""

from __future__ import annotations

import uuid
from collections import deque
from datetime import UTC, datetime

from scheduler.claims import Claim
from scheduler.delivery import time_critical
from scheduler.dispatcher import enqueue

DUE = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def _claim(name: str, priority: int, urgent: bool = False) -> Claim:
    return Claim(
        id=uuid.uuid5(uuid.NAMESPACE_OID, name),
        patient_id=None,
        lease_token=uuid.uuid4(),
        scheduled_time=DUE,
        platform="telegram",
        kind="free_text",
        attempts=1,
        max_attempts=5,
        priority=priority,
        urgent=urgent,
        message_content=name,
    )


def _names(queue: deque[tuple[Claim, float]]) -> list[str | None]:
    return [c.message_content for c, _ in queue]


def test_priority_zero_is_time_critical_and_urgent_alone_is_not() -> None:
    assert time_critical(_claim("dose", 0))
    assert time_critical(_claim("reply", 0, urgent=True))
    # An urgent broadcast only skips quiet hours: as a critical send it would book the ledger
    # seconds ahead and put the time-critical doses behind it again.
    assert not time_critical(_claim("announcement", 5, urgent=True))
    assert not time_critical(_claim("reminder", 1))


def test_time_critical_claims_go_ahead_of_routine_ones_waiting() -> None:
    queue: deque[tuple[Claim, float]] = deque()
    enqueue(queue, [_claim("r1", 1), _claim("r2", 1)], 1.0)
    assert _names(queue) == ["r1", "r2"]
    # A later claim: its critical rows before the routine ones waiting, its routine ones last.
    enqueue(queue, [_claim("c1", 0), _claim("c2", 0), _claim("r3", 1)], 2.0)
    assert _names(queue) == ["c1", "c2", "r1", "r2", "r3"]
    # Critical rows claimed later stay behind the critical ones waiting (first come first served).
    enqueue(queue, [_claim("c3", 0), _claim("u1", 5, urgent=True)], 3.0)
    assert _names(queue) == ["c1", "c2", "c3", "r1", "r2", "r3", "u1"]
    # Each row keeps the time of its own claim (its lease is counted from it).
    assert [t for _, t in queue] == [2.0, 2.0, 3.0, 1.0, 1.0, 2.0, 3.0]


def test_a_queue_of_critical_rows_only_takes_the_next_ones_at_its_end() -> None:
    queue: deque[tuple[Claim, float]] = deque()
    enqueue(queue, [_claim("c1", 0)], 1.0)
    enqueue(queue, [_claim("c2", 0), _claim("r1", 1)], 2.0)
    enqueue(queue, [_claim("r2", 1)], 3.0)
    enqueue(queue, [_claim("c3", 0)], 4.0)
    assert _names(queue) == ["c1", "c2", "c3", "r1", "r2"]
