"""``public.resend_message``: a failed message re-sent as a new pending copy, as the clinician
(row-level security: their clinic's rows only) and as the service (the API, for the key's
clinic); the failed row and its attempts kept; one copy per failed message; audited."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from core.resend import ResendOutcome, resend_message
from tests import factories
from tests.integration.clinician import as_clinician

AT = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)


async def _failed(conn: asyncpg.Connection, patient_id: Any, **overrides: Any) -> asyncpg.Record:
    message = await factories.create_message(
        conn,
        patient_id,
        status="failed",
        attempts=5,
        last_error="sms: opted out (21610)",
        channels_tried=["sms"],
        scheduled_time=AT - timedelta(hours=2),
        **overrides,
    )
    await conn.execute(
        "insert into message_delivery_attempts (message_id, status, channel, error_class,"
        " error_message) values ($1, 'failed', 'sms', 'permanent', 'opted out (21610)')",
        message["id"],
    )
    return message


async def _clinic(conn: asyncpg.Connection) -> dict[str, Any]:
    org = await factories.create_organization(conn)
    clinician = await factories.create_clinician(conn, org["id"])
    number = factories.phone_number()
    patient = await factories.create_patient(conn, org["id"], contacts={"sms": number})
    return {"org": org["id"], "clinician": clinician["id"], "patient": patient["id"]}


async def _resend_as_clinician(
    conn: asyncpg.Connection, clinician: Any, message_id: Any
) -> asyncpg.Record:
    """The dashboard's re-send: the form without a time, dated by the database (``at``: the
    transaction's now(), which is the one it read)."""
    async with as_clinician(conn, clinician) as c:
        row = await c.fetchrow(
            "select r.*, now() as at from resend_message($1, 'ignored') r", message_id
        )
    assert row is not None
    return row


async def test_a_clinician_resends_their_failed_message_once_and_it_is_audited(
    admin_conn: asyncpg.Connection,
) -> None:
    clinic = await _clinic(admin_conn)
    failed = await _failed(
        admin_conn,
        clinic["patient"],
        template="checkup",
        message_content=None,
        payload={"variables": {"x": "1"}},
        priority=2,
        urgent=True,
        expires_at=await admin_conn.fetchval("select now()") - timedelta(minutes=1),
    )
    # The form with a time is the service's (the API's injected clock): a clinician's copy,
    # backdated, counted against a past hour's share of priority 0 and was due at once.
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with as_clinician(admin_conn, clinic["clinician"]) as c:
            await c.fetch("select * from resend_message($1, null, 'x', $2)", failed["id"], AT)
    first = await _resend_as_clinician(admin_conn, clinic["clinician"], failed["id"])
    assert first["outcome"] == "resent" and first["status"] == "pending"
    copy = await admin_conn.fetchrow(
        "select * from scheduled_messages where id = $1", first["message_id"]
    )
    assert copy["resent_from"] == failed["id"]
    assert (copy["status"], copy["attempts"], copy["channels_tried"]) == ("pending", 0, [])
    # Due when it was made, by the database's clock; a past expiry dropped.
    assert copy["scheduled_time"] == first["at"] and copy["expires_at"] is None
    assert (copy["template"], copy["payload"], copy["priority"], copy["urgent"]) == (
        "checkup",
        {"variables": {"x": "1"}},
        2,
        True,
    )
    assert copy["created_by"] == clinic["clinician"]
    # The failed row and its history are untouched.
    kept = await admin_conn.fetchrow("select * from scheduled_messages where id = $1", failed["id"])
    assert (kept["status"], kept["last_error"]) == ("failed", "sms: opted out (21610)")
    assert (
        await admin_conn.fetchval(
            "select count(*) from message_delivery_attempts where message_id = $1", failed["id"]
        )
        == 1
    )
    audit = await admin_conn.fetch(
        "select * from audit_log where action = 'message.resend' and organization_id = $1",
        clinic["org"],
    )
    assert len(audit) == 1
    assert audit[0]["actor"] == f"clinician:{clinic['clinician']}"  # not what was passed
    assert audit[0]["entity_id"] == str(copy["id"])
    assert audit[0]["details"] == {"resent_from": str(failed["id"])}

    again = await _resend_as_clinician(admin_conn, clinic["clinician"], failed["id"])
    assert (again["outcome"], again["message_id"]) == ("already_resent", copy["id"])
    assert (
        await admin_conn.fetchval(
            "select count(*) from scheduled_messages where resent_from = $1", failed["id"]
        )
        == 1
    )


async def test_another_clinics_message_is_not_found_and_cannot_be_pointed_at(
    admin_conn: asyncpg.Connection,
) -> None:
    mine, theirs = await _clinic(admin_conn), await _clinic(admin_conn)
    their_failed = await _failed(admin_conn, theirs["patient"])
    row = await _resend_as_clinician(admin_conn, mine["clinician"], their_failed["id"])
    assert (row["outcome"], row["message_id"]) == ("not_found", None)
    # Nor may a clinician's own row name another clinic's message as its original.
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with as_clinician(admin_conn, mine["clinician"]) as c:
            await c.execute(
                "insert into scheduled_messages (organization_id, patient_id, message_content,"
                " resent_from) values ($1, $2, 'hi', $3)",
                mine["org"],
                mine["patient"],
                their_failed["id"],
            )
    assert (
        await admin_conn.fetchval(
            "select count(*) from scheduled_messages where resent_from = $1", their_failed["id"]
        )
        == 0
    )
    # Nor one of their own clinic's that row-level security hides from them (it holds a live
    # caregiver link): the clinician's form runs past it, to call the service's.
    linked = await _failed(
        admin_conn,
        mine["patient"],
        kind="system",
        message_content="Your caregiver link: https://t.me/medremind_bot?start=cg_abc",
    )
    hidden = await _resend_as_clinician(admin_conn, mine["clinician"], linked["id"])
    assert (hidden["outcome"], hidden["message_id"]) == ("not_found", None)


async def test_the_service_resends_for_the_keys_clinic_only(db, admin_conn) -> None:
    mine, theirs = await _clinic(admin_conn), await _clinic(admin_conn)
    failed = await _failed(admin_conn, mine["patient"])
    assert db.pool is not None
    wrong = await resend_message(db.pool, failed["id"], theirs["org"], actor="api", at=AT)
    assert wrong.outcome is ResendOutcome.NOT_FOUND
    done = await resend_message(db.pool, failed["id"], mine["org"], actor="api", at=AT)
    assert done.outcome is ResendOutcome.RESENT and done.status == "pending"
    actor = await admin_conn.fetchval(
        "select actor from audit_log where action = 'message.resend' and entity_id = $1",
        str(done.message_id),
    )
    assert actor == "api"


@pytest.mark.parametrize("status", ["pending", "sent", "delivered", "cancelled", "expired"])
async def test_only_a_failed_message_is_resent(db, admin_conn, status: str) -> None:
    clinic = await _clinic(admin_conn)
    message = await factories.create_message(admin_conn, clinic["patient"], status=status)
    result = await resend_message(db.pool, message["id"], clinic["org"], actor="api", at=AT)
    assert (result.outcome, result.message_id, result.status) == (
        ResendOutcome.NOT_FAILED,
        message["id"],
        status,
    )


async def test_nothing_is_resent_to_an_erased_patient(db, admin_conn) -> None:
    clinic = await _clinic(admin_conn)
    failed = await _failed(admin_conn, clinic["patient"])
    await admin_conn.execute(
        "update patients set status = 'deleted' where id = $1", clinic["patient"]
    )
    result = await resend_message(db.pool, failed["id"], clinic["org"], actor="api", at=AT)
    assert result.outcome is ResendOutcome.PATIENT_ERASED
    unknown = await resend_message(db.pool, uuid.uuid4(), clinic["org"], actor="api", at=AT)
    assert unknown.outcome is ResendOutcome.NOT_FOUND
