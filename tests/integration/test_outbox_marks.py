"""The outbox mark in the database (issue 16): a message and an attempt whose provider id is an
outbox file's are ``via_outbox``, whoever wrote them, and a clinic's ``message.status`` webhook
event says so too, as it names the failed message a re-send copies."""

from __future__ import annotations

import asyncpg

from tests import factories


async def _status_events(conn: asyncpg.Connection, message_id: object) -> list[dict]:
    rows = await conn.fetch(
        "select payload from webhook_events where event_type = 'message.status'"
        " and payload -> 'data' ->> 'message_id' = $1::text order by created_at",
        str(message_id),
    )
    return [r["payload"]["data"] for r in rows]


async def test_outbox_deliveries_are_marked_on_the_row_the_attempt_and_the_webhook(
    admin_conn: asyncpg.Connection,
) -> None:
    org = await factories.create_organization(admin_conn)
    await admin_conn.execute(
        "insert into webhook_subscriptions (organization_id, url, event_types, secret)"
        " values ($1, 'https://clinic.example/hook', '{message.status}', 'whsec_x')",
        org["id"],
    )
    patient = await factories.create_patient(
        admin_conn, org["id"], contacts={"email": "marks@example.org"}
    )
    filed = await factories.create_message(admin_conn, patient["id"])
    real = await factories.create_message(admin_conn, patient["id"])
    outbox_id = "outbox:20261203T101500000000Z-email-0123abcd.eml"
    for message, provider_id in ((filed, outbox_id), (real, "<a1@mail.clinic.example>")):
        await admin_conn.execute(
            "update scheduled_messages set status = 'sent', sent_at = now(),"
            " channel_used = 'email', provider_message_id = $2 where id = $1",
            message["id"],
            provider_id,
        )
        await admin_conn.execute(
            "insert into message_delivery_attempts (message_id, status, channel,"
            " provider_message_id) values ($1, 'sent', 'email', $2)",
            message["id"],
            provider_id,
        )
    marks = await admin_conn.fetch(
        "select m.id, m.via_outbox as message, a.via_outbox as attempt"
        " from scheduled_messages m join message_delivery_attempts a on a.message_id = m.id"
    )
    assert {(r["id"], r["message"], r["attempt"]) for r in marks} == {
        (filed["id"], True, True),
        (real["id"], False, False),
    }
    (event,) = await _status_events(admin_conn, filed["id"])
    assert (event["status"], event["channel"], event["via_outbox"]) == ("sent", "email", True)
    assert event["resent_from"] is None
    (event,) = await _status_events(admin_conn, real["id"])
    assert event["via_outbox"] is False

    # A re-send's events name the failed message it copies.
    failed = await factories.create_message(admin_conn, patient["id"], status="failed")
    copy = await admin_conn.fetchrow(
        "select * from resend_message($1, $2, 'api', now())", failed["id"], org["id"]
    )
    await admin_conn.execute(
        "update scheduled_messages set status = 'sent', channel_used = 'email' where id = $1",
        copy["message_id"],
    )
    (event,) = await _status_events(admin_conn, copy["message_id"])
    assert event["resent_from"] == str(failed["id"])
