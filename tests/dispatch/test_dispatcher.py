"""The dispatcher in-process against real PostgreSQL, with recording senders and a set clock."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, time, timedelta

import asyncpg
from prometheus_client import REGISTRY

from core.db import Database
from platforms.base import (
    Channel,
    ConfigurationError,
    ContactEffect,
    PermanentError,
    RateLimitedError,
    TransientError,
)
from scheduler.dispatcher import Dispatcher, DispatcherConfig
from scheduler.listener import DueListener
from scheduler.reaper import reap_expired_leases
from tests import factories
from tests.dispatch.conftest import NOON, Clock
from tests.dispatch.recording import RecordingSender

MakeDispatcher = Callable[..., tuple[Dispatcher, dict[Channel, RecordingSender]]]


async def _row(conn: asyncpg.Connection, message_id: object) -> asyncpg.Record:
    row = await conn.fetchrow("select * from scheduled_messages where id = $1", message_id)
    assert row is not None
    return row


async def _attempts(conn: asyncpg.Connection, message_id: object) -> list[asyncpg.Record]:
    return await conn.fetch(
        "select * from message_delivery_attempts where message_id = $1 order by attempt_time, id",
        message_id,
    )


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 15.0) -> None:
    """Poll ``check`` until true; fail after ``timeout`` s (a hang guard, not a timing test)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.02)


async def test_sends_free_text_and_records_the_attempt(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher
) -> None:
    patient = await factories.create_patient(admin_conn, contacts={"telegram": "4242"})
    msg = await factories.create_message(
        admin_conn, patient["id"], scheduled_time=NOON, message_content="Bring your card"
    )
    later = await factories.create_message(
        admin_conn, patient["id"], scheduled_time=NOON + timedelta(minutes=1)
    )
    before = REGISTRY.get_sample_value(
        "medremind_messages_sent_total", {"channel": "telegram", "via": "provider"}
    )
    dispatcher, senders = make_dispatcher()

    assert await dispatcher.run_once() == 1  # the later one is not due yet

    row = await _row(admin_conn, msg["id"])
    assert row["status"] == "sent"
    assert row["channel_used"] == "telegram"
    assert row["provider_message_id"] == "rec-1"
    assert row["sent_at"] == NOON
    assert row["attempts"] == 1 and row["lease_token"] is None and row["locked_by"] is None
    assert row["message_content"] == "Bring your card"  # its own text is left as it was
    ((address, message),) = senders[Channel.TELEGRAM].sends
    assert address == "4242" and message.text == "Bring your card"
    assert message.message_id == str(msg["id"])
    (attempt,) = await _attempts(admin_conn, msg["id"])
    assert attempt["status"] == "sent" and attempt["channel"] == "telegram"
    assert attempt["provider_message_id"] == "rec-1" and attempt["duration_ms"] is not None
    assert (await _row(admin_conn, later["id"]))["status"] == "pending"
    after = REGISTRY.get_sample_value(
        "medremind_messages_sent_total", {"channel": "telegram", "via": "provider"}
    )
    assert after == (before or 0) + 1


async def test_claims_in_priority_order(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher
) -> None:
    patient = await factories.create_patient(admin_conn)
    low = await factories.create_message(
        admin_conn, patient["id"], scheduled_time=NOON - timedelta(minutes=5), priority=7
    )
    high = await factories.create_message(
        admin_conn, patient["id"], scheduled_time=NOON, priority=1
    )
    dispatcher, senders = make_dispatcher(batch_size=1)
    await dispatcher.run_once()
    assert senders[Channel.TELEGRAM].sends[0][1].message_id == str(high["id"])
    await dispatcher.run_once()
    assert senders[Channel.TELEGRAM].sends[1][1].message_id == str(low["id"])


async def test_transient_errors_back_off_with_jitter_then_fail(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher, clock: Clock
) -> None:
    patient = await factories.create_patient(admin_conn)
    msg = await factories.create_message(
        admin_conn, patient["id"], max_attempts=3, scheduled_time=NOON
    )
    sender = RecordingSender(script=[TransientError("HTTP 502 from provider")] * 3)
    dispatcher, _ = make_dispatcher(
        {Channel.TELEGRAM: sender}, backoff_base_seconds=10, backoff_cap_seconds=3600
    )

    ceilings = [10, 20]
    for attempt, ceiling in enumerate(ceilings, start=1):
        await dispatcher.run_once()
        row = await _row(admin_conn, msg["id"])
        assert row["status"] == "pending"
        assert row["attempts"] == attempt
        delay = (row["scheduled_time"] - clock.now).total_seconds()
        assert 0 <= delay <= ceiling
        assert "HTTP 502" in row["last_error"]
        clock.now = row["scheduled_time"]

    await dispatcher.run_once()
    row = await _row(admin_conn, msg["id"])
    assert row["status"] == "failed"
    assert row["attempts"] == 3
    assert row["last_error"].startswith("gave up after 3 attempts")
    attempts = await _attempts(admin_conn, msg["id"])
    assert [a["error_class"] for a in attempts] == ["transient"] * 3
    assert sender.calls == 3 and not sender.sends


async def test_permanent_errors_mark_contacts_and_fall_back_along_the_channel_order(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher
) -> None:
    patient = await factories.create_patient(
        admin_conn,
        contacts={"telegram": "777", "whatsapp": "+15550100", "sms": "+15550101"},
    )
    msg = await factories.create_message(admin_conn, patient["id"], scheduled_time=NOON)
    telegram = RecordingSender(
        Channel.TELEGRAM,
        script=[PermanentError("Forbidden: bot was blocked", effect=ContactEffect.DEACTIVATE)],
    )
    whatsapp = RecordingSender(
        Channel.WHATSAPP,
        script=[PermanentError("21610 unsubscribed", code="21610", effect=ContactEffect.OPT_OUT)],
    )
    sms = RecordingSender(Channel.SMS, name="sms")
    dispatcher, _ = make_dispatcher(
        {Channel.TELEGRAM: telegram, Channel.WHATSAPP: whatsapp, Channel.SMS: sms}
    )

    await dispatcher.run_once()

    row = await _row(admin_conn, msg["id"])
    assert row["status"] == "sent" and row["channel_used"] == "sms"
    assert row["channels_tried"] == ["telegram", "whatsapp", "sms"]
    assert row["attempts"] == 1
    attempts = await _attempts(admin_conn, msg["id"])
    # (All attempts share the set clock's time; the order is in channels_tried above.)
    assert sorted((a["channel"], a["error_class"] or "") for a in attempts) == [
        ("sms", ""),
        ("telegram", "permanent"),
        ("whatsapp", "permanent"),
    ]
    contacts = {
        r["channel"]: r
        for r in await admin_conn.fetch(
            "select * from contact_points where patient_id = $1", patient["id"]
        )
    }
    assert not contacts["telegram"]["active"] and contacts["telegram"]["blocked_at"] is not None
    assert contacts["whatsapp"]["opted_out_at"] is not None
    assert contacts["sms"]["active"] and contacts["sms"]["blocked_at"] is None

    # The next message skips the dead channels without trying them.
    nxt = await factories.create_message(admin_conn, patient["id"], scheduled_time=NOON)
    await dispatcher.run_once()
    assert (await _row(admin_conn, nxt["id"]))["channel_used"] == "sms"
    assert telegram.calls == 1 and whatsapp.calls == 1


async def test_no_fallback_when_the_message_forbids_it(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher
) -> None:
    patient = await factories.create_patient(
        admin_conn, contacts={"telegram": "778", "sms": "+15550102"}
    )
    msg = await factories.create_message(
        admin_conn, patient["id"], scheduled_time=NOON, platform="telegram", allow_fallback=False
    )
    telegram = RecordingSender(
        script=[PermanentError("Bad Request: chat not found", effect=ContactEffect.INVALID)]
    )
    sms = RecordingSender(Channel.SMS)
    dispatcher, _ = make_dispatcher({Channel.TELEGRAM: telegram, Channel.SMS: sms})
    await dispatcher.run_once()
    row = await _row(admin_conn, msg["id"])
    assert row["status"] == "failed"
    assert "chat not found" in row["last_error"]
    assert not sms.calls
    active = await admin_conn.fetchval(
        "select active from contact_points where patient_id = $1 and channel = 'telegram'",
        patient["id"],
    )
    assert active is False


async def test_every_channel_exhausted_fails_with_the_reason(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher
) -> None:
    patient = await factories.create_patient(admin_conn, contacts={"telegram": "779"})
    msg = await factories.create_message(admin_conn, patient["id"], scheduled_time=NOON)
    telegram = RecordingSender(script=[PermanentError("blocked", effect=ContactEffect.DEACTIVATE)])
    dispatcher, _ = make_dispatcher({Channel.TELEGRAM: telegram})
    await dispatcher.run_once()
    row = await _row(admin_conn, msg["id"])
    assert row["status"] == "failed"
    assert "no usable contact point" in row["last_error"] and "telegram" in row["last_error"]


async def test_configuration_errors_fail_without_retry(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher
) -> None:
    patient = await factories.create_patient(
        admin_conn, contacts={"telegram": "780", "email": "p@example.org"}
    )
    broken = await factories.create_message(admin_conn, patient["id"], scheduled_time=NOON)
    no_sender = await factories.create_message(
        admin_conn, patient["id"], scheduled_time=NOON, platform="email", allow_fallback=False
    )
    telegram = RecordingSender(script=[ConfigurationError("TELEGRAM_BOT_TOKEN rejected (401)")])
    dispatcher, _ = make_dispatcher({Channel.TELEGRAM: telegram})
    await dispatcher.run_once()
    row = await _row(admin_conn, broken["id"])
    assert row["status"] == "failed"
    assert row["last_error"].startswith("channel telegram is not configured")
    row = await _row(admin_conn, no_sender["id"])
    assert row["status"] == "failed" and "email is not configured" in row["last_error"]
    (attempt,) = await _attempts(admin_conn, no_sender["id"])
    assert attempt["error_class"] == "config"
    assert await dispatcher.run_once() == 0


async def test_quiet_hours_defer_non_urgent_messages_in_the_patients_timezone(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher, clock: Clock
) -> None:
    # 15:00 UTC is midnight in Tokyo, 10:00 in New York, 16:00 in Berlin.
    clock.now = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
    org = await factories.create_organization(
        admin_conn, default_quiet_start=time(15, 30), default_quiet_end=time(18, 0)
    )
    tokyo = await factories.create_patient(admin_conn, timezone="Asia/Tokyo")
    new_york = await factories.create_patient(admin_conn, timezone="America/New_York")
    berlin_clinic = await factories.create_patient(admin_conn, org["id"], timezone="Europe/Berlin")
    siesta = await factories.create_patient(
        admin_conn, timezone="Europe/Madrid", quiet_start=time(15, 0), quiet_end=time(17, 0)
    )
    now = clock.now
    deferred = await factories.create_message(admin_conn, tokyo["id"], scheduled_time=now)
    urgent = await factories.create_message(
        admin_conn, tokyo["id"], scheduled_time=now, urgent=True
    )
    reminder = await factories.create_message(
        admin_conn,
        tokyo["id"],
        scheduled_time=now,
        kind="medication_reminder",
        payload={"due_at": now.isoformat()},
    )
    daytime = await factories.create_message(admin_conn, new_york["id"], scheduled_time=now)
    clinic = await factories.create_message(admin_conn, berlin_clinic["id"], scheduled_time=now)
    own = await factories.create_message(admin_conn, siesta["id"], scheduled_time=now)
    dispatcher, senders = make_dispatcher()

    assert await dispatcher.run_once() == 6

    row = await _row(admin_conn, deferred["id"])
    assert row["status"] == "pending"
    assert row["scheduled_time"] == datetime(2026, 3, 4, 23, 0, tzinfo=UTC)  # 08:00 in Tokyo
    assert row["attempts"] == 0
    assert (await _row(admin_conn, urgent["id"]))["status"] == "sent"
    assert (await _row(admin_conn, reminder["id"]))["status"] == "sent"
    assert (await _row(admin_conn, daytime["id"]))["status"] == "sent"
    # Berlin 16:00 is inside the clinic's 15:30-18:00 default: until 18:00 CET = 17:00 UTC.
    assert (await _row(admin_conn, clinic["id"]))["scheduled_time"] == datetime(
        2026, 3, 4, 17, 0, tzinfo=UTC
    )
    # Madrid 16:00 is inside the patient's own 15:00-17:00: until 16:00 UTC.
    assert (await _row(admin_conn, own["id"]))["scheduled_time"] == datetime(
        2026, 3, 4, 16, 0, tzinfo=UTC
    )
    assert len(senders[Channel.TELEGRAM].sends) == 3

    clock.now = datetime(2026, 3, 4, 23, 0, tzinfo=UTC)
    await dispatcher.run_once()
    assert (await _row(admin_conn, deferred["id"]))["status"] == "sent"


async def test_expired_messages_are_never_sent(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher, clock: Clock
) -> None:
    patient = await factories.create_patient(admin_conn)
    late_reminder = await factories.create_message(
        admin_conn,
        patient["id"],
        kind="medication_reminder",
        scheduled_time=NOON - timedelta(hours=2, minutes=1),
        payload={"due_at": NOON.isoformat()},
    )
    past_explicit = await factories.create_message(
        admin_conn,
        patient["id"],
        scheduled_time=NOON - timedelta(minutes=10),
        expires_at=NOON - timedelta(minutes=1),
    )
    late_followup = await factories.create_message(
        admin_conn,
        patient["id"],
        kind="dose_followup",
        scheduled_time=NOON - timedelta(minutes=59),
        payload={"due_at": NOON.isoformat()},
    )
    dispatcher, senders = make_dispatcher()
    await dispatcher.run_once()
    for msg in (late_reminder, past_explicit):
        row = await _row(admin_conn, msg["id"])
        assert row["status"] == "expired" and row["attempts"] == 0 and row["sent_at"] is None
        assert not await _attempts(admin_conn, msg["id"])
    assert (await _row(admin_conn, late_followup["id"]))["status"] == "sent"
    assert len(senders[Channel.TELEGRAM].sends) == 1


async def test_rate_limit_pauses_the_platform_and_reschedules_without_burning_an_attempt(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher, clock: Clock
) -> None:
    patient = await factories.create_patient(admin_conn, contacts={"telegram": "781"})
    other = await factories.create_patient(admin_conn, contacts={"telegram": "782"})
    first = await factories.create_message(
        admin_conn, patient["id"], scheduled_time=NOON, priority=1
    )
    second = await factories.create_message(
        admin_conn, other["id"], scheduled_time=NOON, priority=2
    )
    sender = RecordingSender(script=[RateLimitedError("Too Many Requests", retry_after=30)])
    dispatcher, _ = make_dispatcher(
        {Channel.TELEGRAM: sender},
        concurrency=1,
        platform_rates={Channel.TELEGRAM: 30.0},
        recipient_rates={Channel.TELEGRAM: 1.0},
    )

    def retried(reason: str) -> float:
        value = REGISTRY.get_sample_value("medremind_messages_retried_total", {"reason": reason})
        return value or 0.0

    before = {reason: retried(reason) for reason in ("rate_limit", "pacing")}
    await dispatcher.run_once()

    # The provider's 429 and our own bucket holding a row back are counted apart (both were
    # "rate_limit": an operator could not tell Telegram refusing from our pacing).
    assert {reason: retried(reason) - before[reason] for reason in before} == {
        "rate_limit": 1.0,
        "pacing": 1.0,
    }
    row = await _row(admin_conn, first["id"])
    assert row["status"] == "pending" and row["attempts"] == 0
    assert row["scheduled_time"] == NOON + timedelta(seconds=30)
    (attempt,) = await _attempts(admin_conn, first["id"])
    assert attempt["status"] == "rate_limited" and attempt["error_class"] == "rate_limited"
    # The paused bucket held the second message back without a send.
    row2 = await _row(admin_conn, second["id"])
    assert row2["status"] == "pending" and row2["attempts"] == 0
    assert NOON < row2["scheduled_time"] <= NOON + timedelta(seconds=31)
    assert sender.calls == 1
    assert dispatcher.buckets.wait_hint(Channel.TELEGRAM, "x", _mono()) > 25


def _mono() -> float:
    import time as _time

    return _time.monotonic()


async def test_a_worker_that_lost_its_lease_cannot_overwrite_the_row(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher, db: Database
) -> None:
    patient = await factories.create_patient(admin_conn)
    msg = await factories.create_message(admin_conn, patient["id"], scheduled_time=NOON)
    slow = RecordingSender(name="slow", delay=0.5)
    # A lease of 2 s: the send (0.5 s) fits its timeout (a third of the lease) inside it.
    stale, _ = make_dispatcher({Channel.TELEGRAM: slow}, worker_id="stale", lease_seconds=2)
    fresh, _ = make_dispatcher({Channel.TELEGRAM: RecordingSender(name="fresh")}, worker_id="fresh")

    running = asyncio.create_task(stale.run_once())

    async def claimed() -> bool:
        return (await _row(admin_conn, msg["id"]))["locked_by"] == "stale"

    await eventually(claimed)
    assert db.pool is not None
    # The lease (NOON + 2 s) is over by NOON + 3 s: the reaper returns the row; "fresh" sends it.
    assert await reap_expired_leases(db.pool, NOON + timedelta(seconds=3)) == 1
    await fresh.run_once()
    await running

    row = await _row(admin_conn, msg["id"])
    assert row["status"] == "sent" and row["provider_message_id"] == "fresh-1"
    assert stale.lease_lost == 1
    # Both sends happened and both attempts are on record; only the lease holder wrote the row.
    attempts = await _attempts(admin_conn, msg["id"])
    assert sorted(a["provider_message_id"] for a in attempts) == ["fresh-1", "slow-1"]


async def test_shutdown_returns_unsent_claims_to_pending(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher
) -> None:
    patient = await factories.create_patient(admin_conn)
    msgs = [
        await factories.create_message(admin_conn, patient["id"], scheduled_time=NOON)
        for _ in range(3)
    ]
    dispatcher, _ = make_dispatcher(
        {Channel.TELEGRAM: RecordingSender(delay=30)}, shutdown_grace_seconds=0.2
    )
    running = asyncio.create_task(dispatcher.run())

    async def all_claimed() -> bool:
        return (
            await admin_conn.fetchval(
                "select count(*) from scheduled_messages where status = 'processing'"
            )
            == 3
        )

    await eventually(all_claimed)
    dispatcher.request_stop()
    await asyncio.wait_for(running, timeout=10)
    for msg in msgs:
        row = await _row(admin_conn, msg["id"])
        assert row["status"] == "pending" and row["attempts"] == 0 and row["lease_token"] is None


async def test_caregiver_messages_go_to_the_caregiver(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher
) -> None:
    patient = await factories.create_patient(admin_conn, contacts={"telegram": "783"})
    caregiver = await admin_conn.fetchrow(
        "insert into caregivers (patient_id, name, channel, address) "
        "values ($1, 'Sam', 'sms', '+15550199') returning *",
        patient["id"],
    )
    msg = await factories.create_message(
        admin_conn,
        patient["id"],
        scheduled_time=NOON,
        kind="missed_dose_caregiver",
        caregiver_id=caregiver["id"],
        payload={"due_at": NOON.isoformat()},
        message_content=None,
    )
    telegram, sms = RecordingSender(Channel.TELEGRAM), RecordingSender(Channel.SMS)
    dispatcher, _ = make_dispatcher({Channel.TELEGRAM: telegram, Channel.SMS: sms})
    await dispatcher.run_once()
    row = await _row(admin_conn, msg["id"])
    assert row["status"] == "sent", row["last_error"]
    assert row["channel_used"] == "sms"
    assert [a for a, _ in sms.sends] == ["+15550199"] and not telegram.sends


async def test_medicine_is_named_only_with_the_patients_opt_in(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher
) -> None:
    texts = {}
    dispatcher, senders = make_dispatcher()
    for opted_in in (False, True):
        patient = await factories.create_patient(
            admin_conn, name_medicine_in_reminders=opted_in, display_name="Ann"
        )
        _, schedule = await factories.create_medication(admin_conn, patient["id"])
        dose = await factories.create_dose_event(admin_conn, schedule, NOON)
        msg = await factories.create_message(
            admin_conn,
            patient["id"],
            scheduled_time=NOON,
            kind="medication_reminder",
            dose_event_id=dose["id"],
            message_content=None,
        )
        await dispatcher.run_once()
        row = await _row(admin_conn, msg["id"])
        assert row["status"] == "sent", row["last_error"]
        texts[opted_in] = senders[Channel.TELEGRAM].sends[-1][1].text
        # A rendered reminder keeps the text as sent (the row had none of its own).
        assert row["message_content"] == texts[opted_in]
    assert "Metformin" not in texts[False] and "dose" in texts[False]
    assert "Metformin" in texts[True]


async def test_a_moved_address_updates_the_contact_point(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher
) -> None:
    patient = await factories.create_patient(admin_conn, contacts={"telegram": "-100200"})
    await factories.create_message(admin_conn, patient["id"], scheduled_time=NOON)
    dispatcher, _ = make_dispatcher({Channel.TELEGRAM: RecordingSender(new_address="-100999")})
    await dispatcher.run_once()
    address = await admin_conn.fetchval(
        "select address from contact_points where patient_id = $1", patient["id"]
    )
    assert address == "-100999"


async def test_listen_notify_wakes_a_sleeping_dispatcher(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher, db: Database, clock: Clock
) -> None:
    # The trigger compares with the real now(); the dispatcher's clock runs a minute ahead.
    clock.now = datetime.now(UTC) + timedelta(minutes=1)
    dispatcher, senders = make_dispatcher(poll_seconds=120)
    listener = DueListener(db.connect, dispatcher.notify)
    listening = asyncio.create_task(listener.run())
    running = asyncio.create_task(dispatcher.run())
    try:
        await asyncio.sleep(0.3)  # let it claim nothing and go to sleep for the poll interval
        patient = await factories.create_patient(admin_conn)
        await factories.create_message(
            admin_conn, patient["id"], scheduled_time=datetime.now(UTC), urgent=True
        )

        async def sent() -> bool:
            return len(senders[Channel.TELEGRAM].sends) == 1

        await eventually(sent, timeout=20)  # far below the 120 s poll: LISTEN woke it
    finally:
        dispatcher.request_stop()
        listener.stop()
        await asyncio.gather(running, listening)


async def test_a_notifications_due_time_wakes_the_dispatcher_then(
    admin_conn: asyncpg.Connection, db: Database
) -> None:
    """A row written due in a moment is announced with its due time: the dispatcher sleeps until
    then on that (it no longer asks the table after every wake-up) and sends it on time, far
    below its poll interval."""
    sender = RecordingSender(Channel.TELEGRAM)
    config = DispatcherConfig(
        worker_id="test-worker", platform_rates={}, recipient_rates={}, poll_seconds=120
    )
    assert db.pool is not None
    dispatcher = Dispatcher(
        db.pool, {Channel.TELEGRAM: sender}, None, lambda: datetime.now(UTC), config
    )
    listener = DueListener(db.connect, dispatcher.notify)
    listening = asyncio.create_task(listener.run())
    running = asyncio.create_task(dispatcher.run())
    try:
        await asyncio.sleep(0.3)  # nothing pending: asleep for the poll interval
        patient = await factories.create_patient(admin_conn)
        due = datetime.now(UTC) + timedelta(seconds=1.5)
        await factories.create_message(
            admin_conn, patient["id"], message_content="Soon", scheduled_time=due, urgent=True
        )

        async def sent() -> bool:
            return len(sender.sends) == 1

        await eventually(sent, timeout=30)  # far below the 120 s poll
        assert datetime.now(UTC) >= due  # and not before it was due
    finally:
        dispatcher.request_stop()
        listener.stop()
        await asyncio.gather(running, listening)


async def test_claims_on_their_own_connection_outlive_its_loss(
    admin_conn: asyncpg.Connection, db: Database
) -> None:
    """``medremind worker`` claims on a connection of its own (scheduler/claim_session.py): one
    killed by the server (a failover, an administrator) is opened again for the next claim, and
    it is closed when the dispatcher stops."""
    sender = RecordingSender(Channel.TELEGRAM)
    config = DispatcherConfig(
        worker_id="test-worker", platform_rates={}, recipient_rates={}, poll_seconds=0.2
    )
    assert db.pool is not None
    dispatcher = Dispatcher(
        db.pool,
        {Channel.TELEGRAM: sender},
        None,
        lambda: datetime.now(UTC),
        config,
        connect=db.connect,
    )
    claiming = (
        # The claim's statement, or the one reading its patients (dispatch.sql claim_patients).
        "select pid from pg_stat_activity where query like '-- Claim%' and pid <> pg_backend_pid()"
        " and datname = current_database()"  # not another test's worker still closing
    )
    patient = await factories.create_patient(admin_conn)
    running = asyncio.create_task(dispatcher.run())
    try:
        for count in (1, 2):
            await factories.create_message(
                admin_conn, patient["id"], message_content=f"Message {count}", urgent=True
            )

            async def sent(count: int = count) -> bool:
                return len(sender.sends) == count

            await eventually(sent)
            first = await admin_conn.fetch(claiming)
            # The claims' own connections, not pooled ones: one, or two when a claim that came
            # back full let the next start beside it (scheduler/dispatcher.py _CLAIMS_IN_FLIGHT;
            # a claim of one row for one due row, on a loaded box).
            assert 1 <= len(first) <= 2
            for backend in first:
                await admin_conn.execute("select pg_terminate_backend($1)", backend["pid"])
    finally:
        dispatcher.request_stop()
        await running
    assert [m.text for _, m in sender.sends] == ["Message 1", "Message 2"]

    async def closed() -> bool:
        return not await admin_conn.fetch(claiming)

    await eventually(closed)


async def test_no_send_outlives_the_claims_lease(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher
) -> None:
    """A send is cut at the end of the lease (minus a margin): the reaper never hands a row that
    is still being sent to another worker. A claim whose lease ran short goes back unsent."""
    patient = await factories.create_patient(admin_conn)
    msg = await factories.create_message(admin_conn, patient["id"], scheduled_time=NOON)
    hung = RecordingSender(delay=30)  # a provider that never answers
    dispatcher, _ = make_dispatcher({Channel.TELEGRAM: hung}, lease_seconds=1)
    assert await dispatcher.run_once() == 1
    row = await _row(admin_conn, msg["id"])
    # Not the 30 s send timeout: the 1 s lease bounded the send, which counts as a timed-out try.
    assert row["status"] == "pending" and "timed out" in row["last_error"]
    assert [a["error_class"] for a in await _attempts(admin_conn, msg["id"])] == ["transient"]

    # A claim taken from the queue when its lease is nearly over is returned without a send.
    fresh = await factories.create_message(admin_conn, patient["id"], scheduled_time=NOON)
    sender = RecordingSender()
    dispatcher, _ = make_dispatcher({Channel.TELEGRAM: sender}, lease_seconds=1)
    claims = await dispatcher._claim(10)
    assert [c.id for c in claims] == [fresh["id"]]
    result = await dispatcher._deliverer.deliver(claims[0], lease_ends=_mono() + 0.05)
    assert sender.calls == 0 and not result.attempts
    assert result.outcome.status == "pending" and result.outcome.attempts_delta == -1
    assert "lease ran short" in (result.outcome.last_error or "")


async def test_claims_and_sends_go_on_while_flushes_wait_for_the_database(
    admin_conn: asyncpg.Connection, database_url: str, make_dispatcher: MakeDispatcher
) -> None:
    """Rows already sent do not hold back the next claim (issue 20: one flush at a time, and
    claims waiting for the room it freed, made the worker and Postgres take turns); while the
    records cannot be written, the rows held stay bounded, and once they can, every outcome and
    attempt is written once."""
    patient = await factories.create_patient(admin_conn, contacts={"telegram": "4242"})
    for _ in range(40):
        await factories.create_message(admin_conn, patient["id"], scheduled_time=NOON)
    # batch 5 + concurrency 2: 7 rows held before; now at most 7 + 3 x 5 with writes waiting.
    dispatcher, senders = make_dispatcher(batch_size=5, concurrency=2)
    sends = senders[Channel.TELEGRAM].sends
    blocker = await asyncpg.connect(database_url)
    try:
        # Every record inserts attempt rows: this holds each flush at its statement.
        blocker_tx = blocker.transaction()
        await blocker_tx.start()
        await blocker.execute("lock table message_delivery_attempts in exclusive mode")
        running = asyncio.create_task(dispatcher.run())

        async def many_sent() -> bool:
            return len(sends) >= 15

        await eventually(many_sent)
        assert len(sends) <= 22 and dispatcher.in_flight <= 22
        await blocker_tx.commit()

        async def all_recorded() -> bool:
            return (
                await admin_conn.fetchval(
                    "select count(*) from scheduled_messages where status = 'sent'"
                )
                == 40
            )

        await eventually(all_recorded)
    finally:
        await blocker.close()
    dispatcher.request_stop()
    await asyncio.wait_for(running, timeout=10)
    assert len(sends) == 40
    counts = await admin_conn.fetch(
        "select message_id, count(*) from message_delivery_attempts group by message_id"
    )
    assert len(counts) == 40 and {r["count"] for r in counts} == {1}
