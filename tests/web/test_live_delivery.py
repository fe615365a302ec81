"""Online first, push when offline: a reminder reaches the open patient app over the web process's
WebSocket (the worker's dispatcher offers it through Postgres, the web pushes it to the socket and
records the browser's acknowledgement); with the app closed, or not answering, it goes to Web Push
on the loopback push service, decrypted there with the device's keys."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
import websockets

from core.db import Database
from core.templating import TemplateRenderer
from platforms.base import Channel, ChannelSender
from platforms.push_actions import ActionSigner
from platforms.webpush import VapidKey, WebPushSender
from platforms.webpush_store import PostgresSubscriptionStore
from platforms.websocket import WebSocketSender
from scheduler.dispatcher import Dispatcher, DispatcherConfig
from tests import factories
from tests.fakes.fake_push import Device, FakePushService
from tests.web.processes import StartWeb, stop

NOON = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
PHONE = "+14155550142"
KEY = VapidKey.generate()


@pytest.fixture
async def push_service() -> AsyncIterator[FakePushService]:
    async with FakePushService() as service:
        yield service


async def _signed_in_cookie(base: str, admin_conn: asyncpg.Connection) -> str:
    """Sign in as the patient with the link the web queued for their SMS; the session cookie."""
    async with httpx.AsyncClient(base_url=base) as http:
        assert (
            await http.post("/app/api/sign-in/request", json={"address": PHONE})
        ).status_code == 202
        content = await admin_conn.fetchval(
            "select message_content from scheduled_messages where kind = 'system'"
        )
        token = re.search(r"#sign-in=([\w-]+)", content)[1]  # type: ignore[index]
        signed = await http.post("/app/api/sign-in", json={"token": token})
        assert signed.status_code == 200
    return signed.headers["set-cookie"].split(";", 1)[0]


async def _patient_with_app_and_phone(
    web_process: StartWeb, admin_conn: asyncpg.Connection, push_service: FakePushService
) -> tuple[asyncpg.Record, Any, str, str, Device]:
    """A patient signed in to the app on a web process, whose phone has push turned on (its
    push service is the loopback fake): the patient, the process, its URL, the cookie, the phone.
    """
    patient = await factories.create_patient(admin_conn, contacts={"sms": PHONE})
    process, base = await web_process(
        VAPID_PRIVATE_KEY=KEY.private_text(), VAPID_SUBJECT="mailto:ops@clinic.test"
    )
    cookie = await _signed_in_cookie(base, admin_conn)
    device, subscription = push_service.subscribe(KEY.application_server_key)
    contact = await admin_conn.fetchval(
        "insert into contact_points (patient_id, channel, address, verified)"
        " values ($1, 'webpush', 'app-phone', true) returning id",
        patient["id"],
    )
    await admin_conn.execute(
        "insert into push_subscriptions (contact_point_id, endpoint, p256dh, auth)"
        " values ($1, $2, $3, $4)",
        contact,
        subscription["endpoint"],
        subscription["keys"]["p256dh"],
        subscription["keys"]["auth"],
    )
    return patient, process, base, cookie, device


async def _reminder(conn: asyncpg.Connection, patient_id: uuid.UUID) -> asyncpg.Record:
    _, schedule = await factories.create_medication(conn, patient_id)
    dose = await factories.create_dose_event(conn, schedule, NOON)
    return await factories.create_message(
        conn,
        patient_id,
        kind="medication_reminder",
        message_content=None,
        dose_event_id=dose["id"],
        scheduled_time=NOON,
        priority=1,
    )


def _dispatcher(db: Database, ack_seconds: float = 5.0) -> tuple[Dispatcher, list[ChannelSender]]:
    assert db.pool is not None
    senders: dict[Channel, ChannelSender] = {
        Channel.WEBSOCKET: WebSocketSender(db, ack_seconds=ack_seconds),
        Channel.WEBPUSH: WebPushSender(
            KEY,
            "mailto:ops@clinic.test",
            PostgresSubscriptionStore(db),
            signer=ActionSigner(KEY.secret_bytes()),
        ),
    }
    config = DispatcherConfig(worker_id="live-test", platform_rates={}, recipient_rates={})
    return Dispatcher(db.pool, senders, TemplateRenderer(), lambda: NOON, config), list(
        senders.values()
    )


async def _until(check: Any, what: str, timeout: float = 20.0) -> None:
    """Wait until ``await check()`` is true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_open_app_gets_the_reminder_live_closed_app_gets_a_push(
    web_process: StartWeb,
    admin_conn: asyncpg.Connection,
    db: Database,
    push_service: FakePushService,
) -> None:
    patient, process, base, cookie, device = await _patient_with_app_and_phone(
        web_process, admin_conn, push_service
    )
    await admin_conn.execute(
        "update patients set channel_order = '{webpush,sms}' where id = $1", patient["id"]
    )
    dispatcher, senders = _dispatcher(db)
    ws_url = base.replace("http://", "ws://") + "/app/ws"
    try:
        async with websockets.connect(ws_url, additional_headers={"Cookie": cookie}) as app:
            # Opening the app put the live channel first.
            async def live_first() -> bool:
                order = await admin_conn.fetchval(
                    "select channel_order from patients where id = $1", patient["id"]
                )
                return list(order) == ["websocket", "webpush", "sms"]

            await _until(live_first, "websocket first in the channel order")
            message = await _reminder(admin_conn, patient["id"])
            dispatching = asyncio.create_task(dispatcher.run_once())
            frame = json.loads(await asyncio.wait_for(app.recv(), timeout=20))
            assert frame["type"] == "reminder"
            assert frame["text"] == "Hi Test Patient. Time for your 12:00 PM dose."
            assert [o["label"] for o in frame["options"]] == ["Taken", "Snooze 15 min", "Skip"]
            # Hostile frames (too deep, NaN, not JSON) are ignored; the socket stays open.
            for junk in ("[" * 2000 + "]" * 2000, '{"type": "ack", "id": NaN}', "{"):
                await app.send(junk)
            await app.send(json.dumps({"type": "ack", "id": frame["id"]}))
            assert await asyncio.wait_for(dispatching, timeout=20) == 1

        row = await admin_conn.fetchrow(
            "select status, channel_used, delivered_at from scheduled_messages where id = $1",
            message["id"],
        )
        assert row["status"] == "sent" and row["channel_used"] == "websocket"
        assert row["delivered_at"] is not None
        attempts = await admin_conn.fetch(
            "select channel, status from message_delivery_attempts where message_id = $1"
            " order by status",
            message["id"],
        )
        assert [tuple(a) for a in attempts] == [("websocket", "delivered"), ("websocket", "sent")]
        assert device.received == []

        # The app is closed: the web forgets the connection, the next reminder is pushed.
        async def offline() -> bool:
            return not await admin_conn.fetchval(
                "select count(*) from patient_app_connections where patient_id = $1",
                patient["id"],
            )

        await _until(offline, "the connection row removed")
        second = await _reminder(admin_conn, patient["id"])
        assert await dispatcher.run_once() == 1
        (push,) = device.received
        assert push["payload"]["body"] == "Hi Test Patient. Time for your 12:00 PM dose."
        row = await admin_conn.fetchrow(
            "select channel_used, channels_tried from scheduled_messages where id = $1",
            second["id"],
        )
        assert row["channel_used"] == "webpush"
        assert row["channels_tried"] == ["websocket", "webpush"]
        assert await admin_conn.fetchval("select count(*) from websocket_deliveries") == 0
    finally:
        for sender in senders:
            await sender.aclose()
        await stop(process, timeout=30)


async def test_an_open_app_that_does_not_acknowledge_falls_through_to_push(
    web_process: StartWeb,
    admin_conn: asyncpg.Connection,
    db: Database,
    push_service: FakePushService,
) -> None:
    patient, process, base, cookie, device = await _patient_with_app_and_phone(
        web_process, admin_conn, push_service
    )
    dispatcher, senders = _dispatcher(db, ack_seconds=1.0)
    ws_url = base.replace("http://", "ws://") + "/app/ws"
    try:
        async with websockets.connect(ws_url, additional_headers={"Cookie": cookie}) as app:

            async def online() -> bool:
                return bool(
                    await admin_conn.fetchval(
                        "select count(*) from patient_app_connections where patient_id = $1",
                        patient["id"],
                    )
                )

            await _until(online, "connection recorded")
            await admin_conn.execute(
                "update patients set channel_order = '{websocket,webpush,sms}' where id = $1",
                patient["id"],
            )
            message = await _reminder(admin_conn, patient["id"])
            assert await dispatcher.run_once() == 1  # the app never acknowledges
            await asyncio.wait_for(app.recv(), timeout=5)  # it was offered, though
        assert len(device.received) == 1
        row = await admin_conn.fetchrow(
            "select channel_used, last_error from scheduled_messages where id = $1", message["id"]
        )
        assert row["channel_used"] == "webpush"
        failed = await admin_conn.fetchval(
            "select error_message from message_delivery_attempts where message_id = $1"
            " and channel = 'websocket'",
            message["id"],
        )
        assert "did not acknowledge" in failed
    finally:
        for sender in senders:
            await sender.aclose()
        await stop(process, timeout=30)


async def test_a_socket_without_a_session_is_closed_for_sign_in(
    web_process: StartWeb, admin_conn: asyncpg.Connection
) -> None:
    process, base = await web_process()
    try:
        ws_url = base.replace("http://", "ws://") + "/app/ws"
        async with websockets.connect(
            ws_url, additional_headers={"Cookie": "medremind_session=forged-token-value"}
        ) as app:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(app.recv(), timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
        assert await admin_conn.fetchval("select count(*) from patient_app_connections") == 0
    finally:
        await stop(process, timeout=30)
