"""Web Push through the dispatcher, against a loopback push service that checks the VAPID token
and decrypts the payload with the device's keys (tests/fakes/fake_push.py)."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import pytest

from core.db import Database
from platforms.base import Channel, ChannelSender
from platforms.push_actions import ActionSigner
from platforms.webpush import PUSH_TTL_SECONDS, VapidKey, WebPushSender
from platforms.webpush_store import PostgresSubscriptionStore
from scheduler.dispatcher import Dispatcher
from tests import factories
from tests.dispatch.conftest import NOON
from tests.dispatch.recording import RecordingSender
from tests.fakes.fake_push import Device, FakePushService

MakeDispatcher = Callable[..., tuple[Dispatcher, dict[Channel, Any]]]
KEY = VapidKey.generate()
SIGNER = ActionSigner(KEY.secret_bytes())


@pytest.fixture
async def push_service() -> AsyncIterator[FakePushService]:
    async with FakePushService() as service:
        yield service


async def _subscribe(
    conn: asyncpg.Connection, service: FakePushService, contact_id: uuid.UUID
) -> Device:
    device, subscription = service.subscribe(KEY.application_server_key)
    await conn.execute(
        "insert into push_subscriptions (contact_point_id, endpoint, p256dh, auth)"
        " values ($1, $2, $3, $4)",
        contact_id,
        subscription["endpoint"],
        subscription["keys"]["p256dh"],
        subscription["keys"]["auth"],
    )
    return device


async def _patient_with_reminder(
    conn: asyncpg.Connection, **patient: Any
) -> tuple[asyncpg.Record, asyncpg.Record, uuid.UUID]:
    """A patient reached by webpush first, then SMS, with a due reminder; the webpush contact."""
    row = await factories.create_patient(
        conn, contacts={"webpush": f"w{uuid.uuid4().hex}", "sms": "+14155550199"}, **patient
    )
    _, schedule = await factories.create_medication(conn, row["id"])
    dose = await factories.create_dose_event(conn, schedule, NOON)
    message = await factories.create_message(
        conn,
        row["id"],
        kind="medication_reminder",
        message_content=None,
        dose_event_id=dose["id"],
        scheduled_time=NOON,
        priority=1,
    )
    contact = await conn.fetchval(
        "select id from contact_points where patient_id = $1 and channel = 'webpush'", row["id"]
    )
    return dose, message, contact


async def _dispatch_once(make_dispatcher: MakeDispatcher, db: Database) -> dict[Channel, Any]:
    """One dispatcher pass with Web Push (on the fake) and a recording SMS sender: one row."""
    store = PostgresSubscriptionStore(db)
    senders: dict[Channel, ChannelSender] = {
        Channel.WEBPUSH: WebPushSender(KEY, "mailto:ops@clinic.test", store, signer=SIGNER),
        Channel.SMS: RecordingSender(Channel.SMS),
    }
    dispatcher, _ = make_dispatcher(senders)
    try:
        assert await dispatcher.run_once() == 1
    finally:
        await senders[Channel.WEBPUSH].aclose()
    return senders


async def test_reminder_arrives_encrypted_with_the_generic_text_and_signed_buttons(
    admin_conn: asyncpg.Connection,
    db: Database,
    make_dispatcher: MakeDispatcher,
    push_service: FakePushService,
) -> None:
    dose, message, contact = await _patient_with_reminder(admin_conn)
    device = await _subscribe(admin_conn, push_service, contact)
    senders = await _dispatch_once(make_dispatcher, db)

    assert push_service.rejected == []
    (push,) = device.received
    payload = push["payload"]
    assert payload["title"] == "MedRemind"
    assert payload["body"] == "Hi Test Patient. Time for your 12:00 PM dose."
    assert "Metformin" not in str(payload)  # generic: the patient did not opt in
    assert push["ttl"] == PUSH_TTL_SECONDS
    hex_id = dose["id"].hex
    assert [(a["action"], a["title"]) for a in payload["actions"]] == [
        (f"d:{hex_id}:t", "Taken"),
        (f"d:{hex_id}:s", "Snooze 15 min"),
        (f"d:{hex_id}:k", "Skip"),
    ]
    for action in payload["actions"]:
        assert SIGNER.verify(action["action"], action["token"], time.time())
        assert not SIGNER.verify(f"d:{uuid.uuid4().hex}:t", action["token"], time.time())
    assert senders[Channel.SMS].sends == []
    row = await admin_conn.fetchrow(
        "select status, channel_used, provider_message_id from scheduled_messages where id = $1",
        message["id"],
    )
    assert row["status"] == "sent" and row["channel_used"] == "webpush"
    assert row["provider_message_id"].startswith(push_service.base_url + "/message/")
    assert await admin_conn.fetchval(
        "select last_success_at is not null from push_subscriptions where contact_point_id = $1",
        contact,
    )


async def test_medicine_name_only_with_the_patients_opt_in(
    admin_conn: asyncpg.Connection,
    db: Database,
    make_dispatcher: MakeDispatcher,
    push_service: FakePushService,
) -> None:
    _, _, contact = await _patient_with_reminder(admin_conn, name_medicine_in_reminders=True)
    device = await _subscribe(admin_conn, push_service, contact)
    await _dispatch_once(make_dispatcher, db)
    (push,) = device.received
    assert push["payload"]["body"].endswith("Time for your 12:00 PM dose: Metformin, 500 mg.")


async def test_gone_subscription_is_retired_and_the_next_channel_is_used(
    admin_conn: asyncpg.Connection,
    db: Database,
    make_dispatcher: MakeDispatcher,
    push_service: FakePushService,
) -> None:
    _, message, contact = await _patient_with_reminder(admin_conn)
    device = await _subscribe(admin_conn, push_service, contact)
    device.script = [410]
    senders = await _dispatch_once(make_dispatcher, db)

    assert device.received == []
    ((address, sent),) = senders[Channel.SMS].sends
    assert address == "+14155550199" and "Time for your" in sent.text
    subscription = await admin_conn.fetchrow(
        "select retired_at, retire_reason from push_subscriptions where contact_point_id = $1",
        contact,
    )
    assert subscription["retired_at"] is not None and "410" in subscription["retire_reason"]
    point = await admin_conn.fetchrow(
        "select active, blocked_at from contact_points where id = $1", contact
    )
    assert point["active"] is False and point["blocked_at"] is not None
    row = await admin_conn.fetchrow(
        "select status, channel_used, channels_tried from scheduled_messages where id = $1",
        message["id"],
    )
    assert (row["status"], row["channel_used"]) == ("sent", "sms")
    assert row["channels_tried"] == ["webpush", "sms"]
    attempts = await admin_conn.fetch(
        "select channel, status, error_class from message_delivery_attempts"
        " where message_id = $1 order by attempt_time, channel desc",
        message["id"],
    )
    assert [tuple(a) for a in attempts] == [
        ("webpush", "failed", "permanent"),
        ("sms", "sent", None),
    ]


async def test_one_device_gone_another_receives(
    admin_conn: asyncpg.Connection,
    db: Database,
    make_dispatcher: MakeDispatcher,
    push_service: FakePushService,
) -> None:
    _, message, contact = await _patient_with_reminder(admin_conn)
    old = await _subscribe(admin_conn, push_service, contact)
    old.script = [404]
    new = await _subscribe(admin_conn, push_service, contact)
    senders = await _dispatch_once(make_dispatcher, db)
    assert len(new.received) == 1 and old.received == []
    assert senders[Channel.SMS].sends == []
    retired = await admin_conn.fetchval(
        "select count(*) from push_subscriptions where contact_point_id = $1"
        " and retired_at is not null",
        contact,
    )
    assert retired == 1
    assert (
        await admin_conn.fetchval(
            "select channel_used from scheduled_messages where id = $1", message["id"]
        )
        == "webpush"
    )


async def test_rate_limited_push_waits_and_keeps_the_subscription(
    admin_conn: asyncpg.Connection,
    db: Database,
    make_dispatcher: MakeDispatcher,
    push_service: FakePushService,
) -> None:
    _, message, contact = await _patient_with_reminder(admin_conn)
    device = await _subscribe(admin_conn, push_service, contact)
    device.script = [429]
    senders = await _dispatch_once(make_dispatcher, db)
    row = await admin_conn.fetchrow(
        "select status, scheduled_time from scheduled_messages where id = $1", message["id"]
    )
    assert row["status"] == "pending" and (row["scheduled_time"] - NOON).total_seconds() == 7
    assert senders[Channel.SMS].sends == []
    assert await admin_conn.fetchval(
        "select retired_at is null from push_subscriptions where contact_point_id = $1", contact
    )


def test_vapid_key_round_trips_and_bad_keys_are_named() -> None:
    again = VapidKey.parse(KEY.private_text())
    assert again.application_server_key == KEY.application_server_key
    pem = KEY.vapid.private_pem().decode()
    assert VapidKey.parse(pem).application_server_key == KEY.application_server_key
    with pytest.raises(ValueError, match="VAPID_PRIVATE_KEY") as info:
        VapidKey.parse("not-a-key")
    assert "not-a-key" not in str(info.value)
