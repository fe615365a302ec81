"""``public.message_reach`` (migration 20260101015200): the one definition of where a clinician's
message can go, which the API and the dashboard both call (they had a copy each).

Its route is the dispatcher's order (scheduler/routing.py plan_routes) over usable contact
points; ``due_soon`` is the 15-minute refusal window; under a clinician's row-level security it
answers only for their own clinic's patients, whatever organization they pass.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from tests import factories
from tests.integration.clinician import as_clinician

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
REACH = "select * from public.message_reach($1, $2, $3, $4::jsonb, $5, $6, $7, $8)"


async def _reach(
    conn: asyncpg.Connection,
    patient: uuid.UUID,
    org: uuid.UUID,
    platform: str = "auto",
    *,
    fallback: bool = False,
    payload: dict[str, object] | None = None,
    at: datetime = NOW,
) -> Any:
    """The function's row (None: no such patient for the caller)."""
    return await conn.fetchrow(
        REACH, patient, org, "free_text", payload or {}, platform, fallback, at, NOW
    )


async def test_route_follows_the_dispatchers_order(admin_conn: asyncpg.Connection) -> None:
    org = await factories.create_organization(admin_conn)
    patient = await factories.create_patient(
        admin_conn,
        org["id"],
        contacts={"sms": "+14155550110", "email": "r@example.org", "whatsapp": "+14155550110"},
        channel_order=["whatsapp", "sms", "email"],
    )
    pid, oid = patient["id"], org["id"]
    assert (await _reach(admin_conn, pid, oid))["route"] == ["whatsapp", "sms", "email"]
    # An explicit platform alone, or first with fallback.
    assert (await _reach(admin_conn, pid, oid, "email"))["route"] == ["email"]
    with_fallback = await _reach(admin_conn, pid, oid, "email", fallback=True)
    assert with_fallback["route"] == ["email", "whatsapp", "sms"]
    # The patient's channel for clinic news comes first for a group message (auto).
    await admin_conn.execute(
        "insert into patient_preferences (patient_id, category, channel)"
        " values ($1, 'clinic_news', 'email')",
        pid,
    )
    group = await _reach(admin_conn, pid, oid, payload={"group": True})
    assert group["route"] == ["email", "whatsapp", "sms"]
    # STOP on WhatsApp, e-mail opted out: only what may be written to is left.
    await admin_conn.execute(
        "update contact_points set opted_out_at = now() where patient_id = $1 and channel <> 'sms'",
        pid,
    )
    left = await _reach(admin_conn, pid, oid)
    assert (left["route"], left["usable_channels"]) == (["sms"], ["sms"])
    assert (await _reach(admin_conn, pid, oid, "email"))["route"] == []


async def test_due_soon_is_the_fifteen_minute_window(admin_conn: asyncpg.Connection) -> None:
    org = await factories.create_organization(admin_conn)
    patient = await factories.create_patient(
        admin_conn, org["id"], contacts={"sms": "+14155550111"}
    )
    at = {m: NOW + timedelta(minutes=m) for m in (0, 14, 15, 60)}
    soon = {
        m: (await _reach(admin_conn, patient["id"], org["id"], at=t))["due_soon"]
        for m, t in at.items()
    }
    assert soon == {0: True, 14: True, 15: False, 60: False}
    assert (await _reach(admin_conn, patient["id"], org["id"]))["refusal_minutes"] == 15


async def test_a_clinician_learns_nothing_of_another_clinic(admin_conn: asyncpg.Connection) -> None:
    mine = await factories.create_organization(admin_conn)
    theirs = await factories.create_organization(admin_conn)
    clinician = await factories.create_clinician(admin_conn, mine["id"])
    my_patient = await factories.create_patient(
        admin_conn, mine["id"], contacts={"sms": "+14155550112"}
    )
    their_patient = await factories.create_patient(
        admin_conn, theirs["id"], contacts={"sms": "+14155550113"}
    )
    async with as_clinician(admin_conn, clinician["id"]) as conn:
        assert (await _reach(conn, my_patient["id"], mine["id"]))["route"] == ["sms"]
        # Their patient, asked with their organization or with mine: no row either way.
        assert await _reach(conn, their_patient["id"], theirs["id"]) is None
        assert await _reach(conn, their_patient["id"], mine["id"]) is None
        # My patient asked under another organization: no row (the pair must match).
        assert await _reach(conn, my_patient["id"], theirs["id"]) is None
    # The service's role is held to the organization it passes.
    async with admin_conn.transaction():
        await admin_conn.execute("set local role medremind_app")
        assert await _reach(admin_conn, their_patient["id"], mine["id"]) is None
        assert (await _reach(admin_conn, their_patient["id"], theirs["id"]))["route"] == ["sms"]
