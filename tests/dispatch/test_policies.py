"""Pure policy functions: backoff, quiet hours, expiry, buckets, routing."""

from __future__ import annotations

import asyncio
import math
import random
import time as clock
import uuid
from datetime import UTC, datetime, time, timedelta

import pytest

from platforms.base import Channel
from scheduler.backoff import backoff_ceiling, backoff_delay
from scheduler.buckets import BucketSet
from scheduler.claims import Claim, ContactInfo
from scheduler.expiry import expiry_time
from scheduler.quiet_hours import is_deferrable, quiet_window_end
from scheduler.routing import plan_routes


@pytest.mark.parametrize(
    ("attempt", "ceiling"),
    [
        (1, 10),
        (2, 20),
        (3, 40),
        (4, 80),
        (5, 160),
        (9, 2560),
        (10, 3600),
        (50, 3600),
        (10_000, 3600),
    ],
)
def test_backoff_ceiling_doubles_then_caps(attempt: int, ceiling: float) -> None:
    assert backoff_ceiling(attempt, base=10, cap=3600) == ceiling


def test_backoff_delay_is_full_jitter_within_ceiling() -> None:
    rng = random.Random(7)
    delays = [backoff_delay(3, base=10, cap=3600, rng=rng).total_seconds() for _ in range(2000)]
    assert all(0 <= d <= 40 for d in delays)
    # Full jitter spreads over the whole range, not around the ceiling.
    assert min(delays) < 2 and max(delays) > 38
    assert 17 < sum(delays) / len(delays) < 23


def test_backoff_rejects_attempt_zero() -> None:
    with pytest.raises(ValueError):
        backoff_ceiling(0)


def _utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("at", "tz", "start", "end", "expected"),
    [
        # Berlin (UTC+1 in winter): 22:30 local is inside 21-08; ends 08:00 local next day.
        (_utc(2026, 1, 10, 21, 30), "Europe/Berlin", time(21), time(8), _utc(2026, 1, 11, 7, 0)),
        # Same instant in New York is 16:30: outside.
        (_utc(2026, 1, 10, 21, 30), "America/New_York", time(21), time(8), None),
        # Tokyo (UTC+9): 03:00 UTC is 12:00 local, outside; 15:00 UTC is 00:00 local, inside.
        (_utc(2026, 1, 10, 3, 0), "Asia/Tokyo", time(21), time(8), None),
        (_utc(2026, 1, 10, 15, 0), "Asia/Tokyo", time(21), time(8), _utc(2026, 1, 10, 23, 0)),
        # Morning part of a window crossing midnight: 06:00 local -> 08:00 the same day.
        (_utc(2026, 1, 10, 11, 0), "America/New_York", time(21), time(8), _utc(2026, 1, 10, 13, 0)),
        # End boundary is exclusive; start is inclusive.
        (_utc(2026, 1, 10, 8, 0), "UTC", time(21), time(8), None),
        (_utc(2026, 1, 10, 21, 0), "UTC", time(21), time(8), _utc(2026, 1, 11, 8, 0)),
        # A window within one day (13:00-15:00 siesta).
        (_utc(2026, 1, 10, 14, 0), "UTC", time(13), time(15), _utc(2026, 1, 10, 15, 0)),
        (_utc(2026, 1, 10, 16, 0), "UTC", time(13), time(15), None),
        # Start == end: quiet hours off.
        (_utc(2026, 1, 10, 23, 0), "UTC", time(8), time(8), None),
        # Across the spring DST change in New York (2026-03-08): 23:00 EST -> 08:00 EDT = 12:00 UTC.
        (_utc(2026, 3, 8, 4, 0), "America/New_York", time(21), time(8), _utc(2026, 3, 8, 12, 0)),
        # Kathmandu (UTC+5:45).
        (_utc(2026, 1, 10, 16, 0), "Asia/Kathmandu", time(21), time(8), _utc(2026, 1, 11, 2, 15)),
        # Madrid falls back at 01:00 UTC on 2027-10-31 (03:00 CEST -> 02:00 CET): 02:30 happens
        # twice. 02:10 CEST (00:10 UTC) ends at the first 02:30; 02:10 CET (01:10 UTC), in the
        # repeated hour, at the second (it was the first: a time already past).
        (
            _utc(2027, 10, 31, 0, 10),
            "Europe/Madrid",
            time(22),
            time(2, 30),
            _utc(2027, 10, 31, 0, 30),
        ),
        (
            _utc(2027, 10, 31, 1, 10),
            "Europe/Madrid",
            time(22),
            time(2, 30),
            _utc(2027, 10, 31, 1, 30),
        ),
        (
            _utc(2027, 10, 31, 1, 10),
            "Europe/Madrid",
            time(1),
            time(2, 30),
            _utc(2027, 10, 31, 1, 30),
        ),
        # Lord Howe falls back half an hour (02:00 +11:00 -> 01:30 +10:30) at 15:00 UTC on
        # 2027-04-03: 01:35 the second time ends at the second 01:45.
        (
            _utc(2027, 4, 3, 15, 5),
            "Australia/Lord_Howe",
            time(1),
            time(1, 45),
            _utc(2027, 4, 3, 15, 15),
        ),
        # Springing forward: 02:30 does not exist in Madrid on 2027-03-28; the window ends
        # forward of the gap, never before the message.
        (
            _utc(2027, 3, 28, 0, 50),
            "Europe/Madrid",
            time(22),
            time(2, 30),
            _utc(2027, 3, 28, 1, 30),
        ),
    ],
)
def test_quiet_window_end(
    at: datetime, tz: str, start: time, end: time, expected: datetime | None
) -> None:
    assert quiet_window_end(at, tz, start, end) == expected


def test_quiet_window_rejects_naive() -> None:
    with pytest.raises(ValueError):
        quiet_window_end(datetime(2026, 1, 1, 22), "UTC", time(21), time(8))


def test_deferrable_kinds() -> None:
    assert is_deferrable("free_text", urgent=False)
    assert is_deferrable("appointment_reminder", urgent=False)
    assert not is_deferrable("free_text", urgent=True)
    assert not is_deferrable("medication_reminder", urgent=False)
    assert not is_deferrable("dose_followup", urgent=False)


def test_expiry_defaults_per_kind() -> None:
    t = _utc(2026, 1, 10, 8, 0)
    assert expiry_time("medication_reminder", t, None) == t + timedelta(hours=2)
    assert expiry_time("dose_followup", t, None) == t + timedelta(hours=1)
    assert expiry_time("free_text", t, None) == t + timedelta(hours=24)
    visit = t + timedelta(hours=5)
    assert expiry_time("appointment_reminder", t, None, visit) == visit
    assert expiry_time("appointment_reminder", t, None) == t + timedelta(hours=24)
    assert expiry_time("medication_reminder", t, t + timedelta(minutes=5)) == t + timedelta(
        minutes=5
    )


def test_bucket_spaces_sends_on_a_grid_without_bursts_after_a_stall() -> None:
    buckets = BucketSet({Channel.SMS: 30.0}, {Channel.SMS: 1.0})
    assert buckets.try_take(Channel.SMS, "chat0", 100.0) == 0
    # The next send to anyone waits 1/30 s; to the same chat a whole second.
    assert buckets.try_take(Channel.SMS, "chat1", 100.0) == pytest.approx(1 / 30, abs=0.004)
    # A send that woke 5 ms late does not push the grid back: the next slot stays on time.
    assert buckets.try_take(Channel.SMS, "chat1", 100.0 + 1 / 30 + 0.005) == 0
    assert buckets.try_take(Channel.SMS, "chat4", 100.0 + 2 / 30) == 0
    assert buckets.try_take(Channel.SMS, "chat0", 100.2) == pytest.approx(0.8, abs=0.004)
    # After a stall the grid restarts from the real time: no burst of overdue sends.
    assert buckets.try_take(Channel.SMS, "chat2", 105.0) == 0
    assert buckets.try_take(Channel.SMS, "chat3", 105.0) == pytest.approx(1 / 30, abs=0.004)


async def test_guarded_bucket_counts_the_window_from_the_slowest_answer() -> None:
    """31 Telegram sends never fit in one second as the server sees them (its 429 rule)."""
    buckets = BucketSet({Channel.TELEGRAM: 1000.0}, {})  # a fast grid: only the guard holds
    window = math.ceil(1000.0)
    first = await buckets.acquire(Channel.TELEGRAM, "c0", 10.0)
    assert first is not None
    others = [await buckets.acquire(Channel.TELEGRAM, f"c{i}", 10.0) for i in range(1, window)]
    for ticket in others:
        assert ticket is not None
        ticket.release()
    # The first send is still in flight (a slow TLS handshake): the next one may not start.
    now = clock.monotonic()
    assert buckets.try_take(Channel.TELEGRAM, "late", now) == math.inf
    waiter = asyncio.create_task(buckets.acquire(Channel.TELEGRAM, "late", 10.0))
    await asyncio.sleep(0.05)
    assert not waiter.done()
    first.release()
    started = clock.monotonic()
    late = await waiter
    # It started a second after the slow send's answer, not a second after that send started.
    assert late is not None and clock.monotonic() - started >= 0.95
    late.release()


def test_bucket_pause_holds_the_platform() -> None:
    buckets = BucketSet({Channel.TELEGRAM: 30.0}, {})
    buckets.pause(Channel.TELEGRAM, 100.0, 7.0)
    assert buckets.wait_hint(Channel.TELEGRAM, "x", 100.0) == pytest.approx(7.0)
    assert buckets.try_take(Channel.TELEGRAM, "x", 100.0) == pytest.approx(7.0)
    assert buckets.try_take(Channel.TELEGRAM, "x", 107.0) == 0
    # Other platforms are not affected.
    assert buckets.try_take(Channel.SMS, "+1", 100.0) == 0


async def test_acquire_waits_its_turn_and_refuses_a_queue_longer_than_max_wait() -> None:
    buckets = BucketSet({Channel.SMS: 20.0}, {})
    tickets = await asyncio.gather(*(buckets.acquire(Channel.SMS, "+1", 1.0) for _ in range(5)))
    waits = [t.waited for t in tickets if t is not None]
    assert len(waits) == 5 and waits[0] < 0.01
    assert max(waits) >= 4 / 20 - 0.01  # spaced, not a burst
    buckets.pause(Channel.SMS, clock.monotonic(), 30)
    assert await buckets.acquire(Channel.SMS, "+1", 1.0) is None


async def test_acquire_serves_sends_in_the_order_they_asked() -> None:
    """No herd racing for each slot: under load no send is starved past its estimate."""
    buckets = BucketSet({Channel.SMS: 50.0}, {Channel.SMS: 1.0})
    order: list[str] = []

    async def send(address: str) -> None:
        ticket = await buckets.acquire(Channel.SMS, address, 5.0)
        assert ticket is not None
        order.append(address)
        ticket.release()

    addresses = [f"+1555000{i:04d}" for i in range(12)]
    await asyncio.gather(*(send(a) for a in addresses))
    assert order == addresses
    # A second send to a recipient waits for that recipient without holding up the others.
    order.clear()
    await asyncio.gather(send("+15550000000"), send("+15550000000"), send("+15559999999"))
    assert order[-1] == "+15550000000" and "+15559999999" in order[:2]


async def test_acquire_gives_up_when_the_window_stays_full_past_max_wait() -> None:
    buckets = BucketSet({Channel.TELEGRAM: 1000.0}, {})
    stuck = [await buckets.acquire(Channel.TELEGRAM, f"c{i}", 1.0) for i in range(1000)]
    assert all(ticket is not None for ticket in stuck)  # all in flight, none answered yet
    # The queue estimate cannot see the sends in flight; the wait is cut at max_wait + 1 s.
    assert await buckets.acquire(Channel.TELEGRAM, "late", 0.1) is None
    for ticket in stuck:
        assert ticket is not None
        ticket.release()


def _claim(**overrides: object) -> Claim:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "patient_id": uuid.uuid4(),
        "lease_token": uuid.uuid4(),
        "scheduled_time": _utc(2026, 1, 1),
        "platform": "auto",
        "kind": "free_text",
        "attempts": 1,
        "max_attempts": 5,
        "channel_order": ("telegram", "whatsapp", "sms"),
        "contacts": (
            ContactInfo(uuid.uuid4(), "telegram", "111", True),
            ContactInfo(uuid.uuid4(), "whatsapp", "+15550001", False),
            ContactInfo(uuid.uuid4(), "sms", "+15550002", True),
        ),
    } | overrides
    return Claim(**values)  # type: ignore[arg-type]


ALL = (Channel.TELEGRAM, Channel.WHATSAPP, Channel.SMS, Channel.EMAIL)


def test_routes_follow_order_and_skip_unusable() -> None:
    plan = plan_routes(_claim(), [], ALL)
    assert [r.channel for r in plan.routes] == ["telegram", "sms"]
    assert [r.channel for r in plan_routes(_claim(), ["telegram"], ALL).routes] == ["sms"]


def test_explicit_platform_first_then_fallback_only_when_allowed() -> None:
    plan = plan_routes(_claim(platform="sms"), [], ALL)
    assert [r.channel for r in plan.routes] == ["sms", "telegram"]
    plan = plan_routes(_claim(platform="sms", allow_fallback=False), [], ALL)
    assert [r.channel for r in plan.routes] == ["sms"]
    plan = plan_routes(_claim(platform="sms", allow_fallback=False), ["sms"], ALL)
    assert not plan.routes and "no usable sms" in plan.reason


def test_unconfigured_channel_is_a_configuration_problem() -> None:
    plan = plan_routes(_claim(platform="sms", allow_fallback=False), [], (Channel.TELEGRAM,))
    assert not plan.routes and plan.config and "sms is not configured" in plan.reason


def test_a_bot_reply_goes_to_its_chat_only() -> None:
    # The chat the reply answers, never the patient's channel order (issue 15, item 9).
    mine = _claim(platform="telegram", kind="system", allow_fallback=False, reply_address="111")
    [route] = plan_routes(mine, [], ALL).routes
    assert (route.channel, route.address) == ("telegram", "111")
    assert route.contact_id == mine.contacts[0].id  # a permanent error marks the chat's contact
    assert not plan_routes(mine, ["telegram"], ALL).routes
    assert plan_routes(mine, [], (Channel.SMS,)).config
    # A stranger's chat (no patient, no contact point), or a chat that opted out: the reply goes.
    stranger = _claim(
        patient_id=None, platform="whatsapp", kind="system", contacts=(), reply_address="+1555"
    )
    assert [
        (r.channel, r.address, r.contact_id) for r in plan_routes(stranger, [], ALL).routes
    ] == [("whatsapp", "+1555", None)]
    opted_out = _claim(platform="whatsapp", kind="system", reply_address="+15550001")
    assert [r.contact_id for r in plan_routes(opted_out, [], ALL).routes] == [None]
    # A reply through another bot than the contact point's (a clinic's bot the person also
    # wrote to): a refusal there marks nothing (attack run).
    through_bot = {
        "platform": "telegram",
        "kind": "system",
        "allow_fallback": False,
        "reply_address": "111",
        "payload": {"telegram_bot": "777888"},
    }
    other_bot = _claim(**through_bot)
    assert [r.contact_id for r in plan_routes(other_bot, [], ALL).routes] == [None]
    on_its_bot = _claim(
        **through_bot, contacts=(ContactInfo(uuid.uuid4(), "telegram", "111", True, "777888"),)
    )
    assert [r.contact_id for r in plan_routes(on_its_bot, [], ALL).routes] == [
        on_its_bot.contacts[0].id
    ]


def test_caregiver_messages_go_to_the_caregiver_only() -> None:
    claim = _claim(
        caregiver_id=uuid.uuid4(),
        caregiver_channel="sms",
        caregiver_address="+15559999",
        caregiver_active=True,
    )
    plan = plan_routes(claim, [], ALL)
    assert [(r.channel, r.address, r.contact_id) for r in plan.routes] == [
        ("sms", "+15559999", None)
    ]
    assert not plan_routes(claim, ["sms"], ALL).routes
