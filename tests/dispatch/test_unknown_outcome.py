"""Issue 16: a send whose outcome is unknown (a client-side timeout after the request may have
reached Twilio) is looked up in Twilio's Messages list before it is sent again, and sent again
only when Twilio does not have it. A real dispatcher and PostgreSQL, the SMS sender over HTTP to
the loopback Twilio (its Messages list in Twilio's wire format)."""

from __future__ import annotations

from datetime import timedelta

import asyncpg

from platforms.base import Channel, OutboundMessage
from platforms.sms import SmsSender
from scheduler.backoff import DEFAULT_CAP_SECONDS
from tests import factories
from tests.dispatch.conftest import NOON, Clock
from tests.fakes.fake_twilio import FakeTwilio
from tests.waiting import eventually

FROM = "+15005550006"
PATIENT = "+14155550142"


def _sender(twilio: FakeTwilio, from_number: str = FROM) -> SmsSender:
    return SmsSender(
        twilio.account_sid,
        twilio.auth_token,
        from_number=from_number,
        api_base_url=twilio.base_url,
    )


async def _due_sms(conn: asyncpg.Connection) -> object:
    patient = await factories.create_patient(conn, contacts={"sms": PATIENT})
    row = await factories.create_message(conn, patient["id"], scheduled_time=NOON)
    return row["id"]


async def _attempts(conn: asyncpg.Connection, message_id: object) -> list[str]:
    rows = await conn.fetch(
        "select status from message_delivery_attempts where message_id = $1"
        " order by attempt_time, status",
        message_id,
    )
    return [r["status"] for r in rows]


async def test_a_timed_out_sms_that_twilio_has_is_not_sent_again(
    admin_conn: asyncpg.Connection, make_dispatcher
) -> None:
    # Twilio creates the message at once; its answer comes after our 3 s timeout (generous: on a
    # loaded machine the request itself may take a second to arrive).
    async with FakeTwilio(answer_latency=8.0) as twilio:
        sender = _sender(twilio)
        message_id = await _due_sms(admin_conn)
        dispatcher, _ = make_dispatcher({Channel.SMS: sender}, send_timeout_seconds=3.0)
        try:
            assert await dispatcher.run_once() == 1
        finally:
            await sender.aclose()
        created = twilio.messages
    row = await admin_conn.fetchrow(
        "select status, provider_message_id, last_error from scheduled_messages where id = $1",
        message_id,
    )
    assert len(created) == 1
    assert twilio.list_calls == 1
    assert row["status"] == "sent"
    assert row["provider_message_id"] == created[0].sid
    assert "a lookup found it at the provider; not sent again" in row["last_error"]
    assert await _attempts(admin_conn, message_id) == ["sent"]


async def test_a_timed_out_sms_that_twilio_does_not_have_is_sent_again(
    admin_conn: asyncpg.Connection, make_dispatcher, clock: Clock
) -> None:
    # Twilio answers 503 after our 3 s timeout, having created nothing. Held until the test
    # releases it, after the timeout and the lookup: a fixed 8 s latency had to outlast both on
    # whatever host, and the test then slept out the rest of it.
    async with FakeTwilio() as twilio:
        twilio.fail_next_server_error(503)
        twilio.hold_creates()
        sender = _sender(twilio)
        message_id = await _due_sms(admin_conn)
        dispatcher, _ = make_dispatcher({Channel.SMS: sender}, send_timeout_seconds=3.0)
        try:
            assert await dispatcher.run_once() == 1
            first = await admin_conn.fetchrow(
                "select status, last_error from scheduled_messages where id = $1", message_id
            )
            assert twilio.list_calls == 1  # looked up: not there
            # Twilio answers the first request (503) after we gave up on it; then it is back.
            await eventually(lambda: twilio.creates_held == 1)  # it reached Twilio
            twilio.release_creates()
            await eventually(lambda: any(c.status == 503 for c in twilio.calls))
            clock.now += timedelta(seconds=DEFAULT_CAP_SECONDS)  # past the retry's backoff
            assert await dispatcher.run_once() == 1
        finally:
            await sender.aclose()
        created = twilio.messages
    assert first["status"] == "pending"
    assert "timed out" in first["last_error"]
    row = await admin_conn.fetchrow(
        "select status, provider_message_id from scheduled_messages where id = $1", message_id
    )
    assert row["status"] == "sent"
    assert [m.sid for m in created] == [row["provider_message_id"]]  # once, by the retry
    assert await _attempts(admin_conn, message_id) == ["unknown", "sent"]


async def test_the_lookup_matches_only_our_text_to_this_number_from_this_sender() -> None:
    async with FakeTwilio() as twilio:
        ours, other = _sender(twilio), _sender(twilio, "+15005550009")
        try:
            text = OutboundMessage(text="Time for your evening dose")
            since = NOON.replace(year=2000)
            assert await ours.find_sent(PATIENT, text, since) is None  # nothing sent yet
            await other.send(PATIENT, text)  # the same text from another sender
            await ours.send(PATIENT, OutboundMessage(text="Another text"))
            await ours.send("+14155550199", text)  # another number
            assert await ours.find_sent(PATIENT, text, since) is None
            receipt = await ours.send(PATIENT, text)
            found = await ours.find_sent(PATIENT, text, since)
            assert found is not None
            assert found.provider_message_id == receipt.provider_message_id
            later = NOON.replace(year=2100)  # created before the send we look for: not ours
            assert await ours.find_sent(PATIENT, text, later) is None
        finally:
            await ours.aclose()
            await other.aclose()
