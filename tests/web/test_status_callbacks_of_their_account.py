"""Attack run: a clinic holds the auth token of its own Twilio account, which verifies the
webhooks naming its number. Status callbacks were applied by MessageSid alone, so the clinic
could sign one for another clinic's message (its SID seen in a log or a support mail) and mark it
delivered, or undelivered (failed: the worker moves on to the patient's next channel); and its
forged callback, kept first, made the genuine one a duplicate, dropped.

Now a callback changes only the messages of the clinic whose token signed it (migration
20260101015560); the service's own token speaks for any message (it signs those sent from the
service's numbers, whichever clinic's). Two clinics, each with its own Twilio account saved
through the API and checked against the loopback Twilio; the messages' sends recorded as the
worker records them (the message row and its attempt carry the SID).
"""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
from twilio.request_validator import RequestValidator

from tests.factories import create_message, create_patient
from tests.fakes.fake_twilio import DEFAULT_AUTH_TOKEN, FakeTwilio, status_form
from tests.web.conftest import PUBLIC_BASE_URL

CLINICS = {
    # name: (account SID, auth token, number, patient's number)
    "north": ("AC" + "4a" * 16, "north-clinic-own-token-4a4a", "+14155550311", "+14155550321"),
    "south": ("AC" + "5b" * 16, "south-clinic-own-token-5b5b", "+14155550312", "+14155550322"),
}
# The service's own account: TWILIO_SMS_FROM and TWILIO_AUTH_TOKEN of the tests' settings.
SIGNERS = CLINICS | {"service": ("AC" + "00" * 16, DEFAULT_AUTH_TOKEN, "+15005550006", "")}


async def _sent(conn: asyncpg.Connection, patient_id: Any, sid: str) -> Any:
    """A message recorded sent by SMS with ``sid``, as the dispatcher records a send."""
    message = await create_message(
        conn,
        patient_id,
        status="sent",
        platform="sms",
        channel_used="sms",
        provider_message_id=sid,
    )
    await conn.execute(
        "insert into message_delivery_attempts"
        " (message_id, status, channel, provider_message_id) values ($1, 'sent', 'sms', $2)",
        message["id"],
        sid,
    )
    return message["id"]


async def _recorded(conn: asyncpg.Connection, message_id: Any, sid: str) -> None:
    """The worker records the send of ``message_id`` (not recorded until now) with ``sid``: its
    attempt and the row, in one transaction (the early-callback trigger applies what waits)."""
    async with conn.transaction():
        await conn.execute(
            "insert into message_delivery_attempts"
            " (message_id, status, channel, provider_message_id) values ($1, 'sent', 'sms', $2)",
            message_id,
            sid,
        )
        await conn.execute(
            "update scheduled_messages set status = 'sent', channel_used = 'sms',"
            " provider_message_id = $2 where id = $1",
            message_id,
            sid,
        )


async def _status(conn: asyncpg.Connection, message_id: Any) -> str:
    return await conn.fetchval("select status from scheduled_messages where id = $1", message_id)


async def _call_back(client: httpx.AsyncClient, sid: str, status: str, signer: str) -> None:
    """A status callback as Twilio posts it for the account of ``signer`` (a clinic of
    :data:`CLINICS`, or "service"): from its number, signed with its token."""
    account, token, number, _ = SIGNERS[signer]
    form = status_form(sid, status, from_=number, account_sid=account)
    if status == "undelivered":
        form["ErrorCode"] = "30003"
    signature = RequestValidator(token).compute_signature(PUBLIC_BASE_URL + "/twilio/status", form)
    answer = await client.post(
        "/twilio/status", data=form, headers={"X-Twilio-Signature": signature}
    )
    assert answer.status_code == 204, answer.text


async def test_a_clinics_callback_changes_its_own_messages_only(
    client: httpx.AsyncClient,
    fake_twilio: FakeTwilio,
    admin_conn: asyncpg.Connection,
    org: asyncpg.Record,
    other_org: asyncpg.Record,
    auth: dict[str, str],
    other_auth: dict[str, str],
) -> None:
    for (sid, token, number, _), headers in zip(CLINICS.values(), (auth, other_auth), strict=True):
        fake_twilio.add_account(sid, token, numbers=[number])
        saved = await client.put(
            "/api/v1/provider-accounts/sms",
            json={"account_sid": sid, "auth_token": token, "from_number": number},
            headers=headers,
        )
        assert saved.status_code == 200, saved.text
    north_patient = await create_patient(
        admin_conn, org["id"], contacts={"sms": CLINICS["north"][3]}
    )
    south_patient = await create_patient(
        admin_conn, other_org["id"], contacts={"sms": CLINICS["south"][3]}
    )
    south_message = await _sent(admin_conn, south_patient["id"], "SM" + "b1" * 16)
    north_message = await _sent(admin_conn, north_patient["id"], "SM" + "a1" * 16)
    # South's patient sent a message from the service's number too (before south's account).
    south_by_service = await _sent(admin_conn, south_patient["id"], "SM" + "c1" * 16)

    # North signs callbacks for south's message with its own token: nothing changes.
    for status in ("undelivered", "delivered"):
        await _call_back(client, "SM" + "b1" * 16, status, "north")
    assert await _status(admin_conn, south_message) == "sent"
    assert (
        await admin_conn.fetchval(
            "select count(*) from message_delivery_attempts where message_id = $1",
            south_message,
        )
        == 1
    )
    # South's genuine callback is not taken for a duplicate of north's forged one.
    await _call_back(client, "SM" + "b1" * 16, "delivered", "south")
    assert await _status(admin_conn, south_message) == "delivered"
    # North's callback for its own message applies.
    await _call_back(client, "SM" + "a1" * 16, "undelivered", "north")
    assert await _status(admin_conn, north_message) == "failed"
    # The service's own token speaks for a message sent from the service's number.
    await _call_back(client, "SM" + "c1" * 16, "delivered", "service")
    assert await _status(admin_conn, south_by_service) == "delivered"
    # Callbacks that come before the send is recorded wait for it, and then only the signer's
    # own apply: north's forged 'undelivered' stays unapplied, south's 'delivered' applies.
    early = await create_message(admin_conn, south_patient["id"], status="pending", platform="sms")
    await _call_back(client, "SM" + "d1" * 16, "undelivered", "north")
    await _call_back(client, "SM" + "d1" * 16, "delivered", "south")
    assert await _status(admin_conn, early["id"]) == "pending"
    await _recorded(admin_conn, early["id"], "SM" + "d1" * 16)
    assert await _status(admin_conn, early["id"]) == "delivered"
    signers = await admin_conn.fetch(
        "select provider_message_id, status, organization_id, applied_at is not null as applied"
        "  from delivery_status_events order by id"
    )
    assert [(r["organization_id"], r["applied"]) for r in signers] == [
        (org["id"], False),
        (org["id"], False),
        (other_org["id"], True),
        (org["id"], True),
        (None, True),
        (org["id"], False),
        (other_org["id"], True),
    ]
