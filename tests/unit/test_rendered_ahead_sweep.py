"""The texts rendered ahead (scheduler/render_ahead.py ``RenderedAhead``) are bounded: a text
held past its due time by ``STALE_SECONDS`` (claimed by another worker, held back, cancelled) is
dropped, and a full store sweeps on every pass. A sweep that can find nothing stale does not walk
the texts: full at 07:59 with 08:00's 100,000 texts, that walk ran every second (issue 20)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from core.messages import Channel, OutboundMessage
from scheduler.claims import Claim
from scheduler.render_ahead import STALE_SECONDS, SWEEP_SECONDS, RenderedAhead

EIGHT = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)


def _claim(due: datetime) -> Claim:
    return Claim(
        id=uuid.uuid4(),
        patient_id=uuid.uuid4(),
        lease_token=uuid.uuid4(),
        scheduled_time=due,
        platform="telegram",
        kind="free_text",
        attempts=0,
        max_attempts=3,
        message_content="Hello",
        timezone="UTC",
    )


def _hold(held: RenderedAhead, due: datetime) -> Claim:
    c = _claim(due)
    held.put(c, Channel.TELEGRAM, None, OutboundMessage(text="Hello"), None)
    return c


class CountedWalks(dict[uuid.UUID, Any]):
    """The held texts, counting the walks over all of them."""

    walks = 0

    def items(self) -> Any:
        CountedWalks.walks += 1
        return super().items()

    def values(self) -> Any:
        CountedWalks.walks += 1
        return super().values()


def test_a_text_held_past_its_due_time_is_dropped_at_the_next_sweep() -> None:
    held = RenderedAhead(max_held=10)
    late = _hold(held, EIGHT)
    fresh = _hold(held, EIGHT + timedelta(seconds=STALE_SECONDS))
    stale_by = EIGHT + timedelta(seconds=STALE_SECONDS + 1)

    assert held.drop_stale(stale_by) == 1
    assert late.id not in held
    assert fresh.id in held
    # The other one goes stale in its turn, at a sweep SWEEP_SECONDS later (not sooner).
    later = stale_by + timedelta(seconds=STALE_SECONDS)
    assert held.drop_stale(stale_by + timedelta(seconds=1)) == 0
    assert held.drop_stale(later) == 1
    assert len(held) == 0


def test_a_full_store_sweeps_on_every_pass() -> None:
    held = RenderedAhead(max_held=2)
    _hold(held, EIGHT)
    just_swept = EIGHT + timedelta(seconds=1)
    assert held.drop_stale(just_swept) == 0
    _hold(held, EIGHT + timedelta(seconds=STALE_SECONDS))
    assert held.full
    # Within SWEEP_SECONDS of the last sweep, but with no room left: swept.
    assert held.drop_stale(just_swept + timedelta(seconds=STALE_SECONDS)) == 1
    assert not held.full


def test_a_full_store_with_nothing_stale_is_not_walked() -> None:
    held = RenderedAhead(max_held=1000)
    held._held = CountedWalks()
    ids = [_hold(held, EIGHT).id for _ in range(1000)]
    assert held.full
    CountedWalks.walks = 0
    for second in range(120):  # 07:58 to 08:00, a pass a second
        assert held.drop_stale(EIGHT - timedelta(seconds=120 - second)) == 0
    assert CountedWalks.walks == 0
    # Taken (or not) at 08:00, none is stale until STALE_SECONDS after it.
    assert held.drop_stale(EIGHT + timedelta(seconds=STALE_SECONDS)) == 0
    assert all(i in held for i in ids)
    assert held.drop_stale(EIGHT + timedelta(seconds=STALE_SECONDS + SWEEP_SECONDS)) == 1000
    assert len(held) == 0


def test_emptied_and_refilled_the_store_sweeps_by_its_new_texts() -> None:
    held = RenderedAhead(max_held=10)
    _hold(held, EIGHT)
    held.clear()
    newer = _hold(held, EIGHT + timedelta(hours=1))
    assert held.drop_stale(EIGHT + timedelta(seconds=STALE_SECONDS + 1)) == 0
    assert newer.id in held
    assert held.drop_stale(EIGHT + timedelta(hours=1, seconds=STALE_SECONDS + 1)) == 1
