"""Push subscriptions under row-level security: a clinician sees and revokes only their clinic's
devices and can neither create nor edit one (only the patient's browser does, through the app)."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from tests import factories
from tests.integration.clinician import as_clinician


async def _device(conn: asyncpg.Connection, organization_id: uuid.UUID) -> uuid.UUID:
    patient = await factories.create_patient(
        conn, organization_id, contacts={"webpush": f"w{uuid.uuid4().hex}"}
    )
    contact = await conn.fetchval(
        "select id from contact_points where patient_id = $1", patient["id"]
    )
    return await conn.fetchval(
        "insert into push_subscriptions (contact_point_id, endpoint, p256dh, auth)"
        " values ($1, $2, $3, $4) returning id",
        contact,
        f"https://push.example/{uuid.uuid4().hex}",
        "B" + "A" * 86,
        "A" * 22,
    )


async def test_clinicians_see_and_revoke_only_their_clinics_devices(
    admin_conn: asyncpg.Connection,
) -> None:
    clinic_a = await factories.create_organization(admin_conn)
    clinic_b = await factories.create_organization(admin_conn)
    clinician = await factories.create_clinician(admin_conn, clinic_a["id"])
    mine = await _device(admin_conn, clinic_a["id"])
    theirs = await _device(admin_conn, clinic_b["id"])

    async with as_clinician(admin_conn, clinician["id"]) as conn:
        visible = {r["id"] for r in await conn.fetch("select id from push_subscriptions")}
        assert visible == {mine}
        assert await conn.execute("delete from push_subscriptions where id = $1", theirs) == (
            "DELETE 0"
        )
        assert await conn.execute("delete from push_subscriptions where id = $1", mine) == (
            "DELETE 1"
        )
    assert await admin_conn.fetchval("select count(*) from push_subscriptions") == 1

    for statement in (
        "update push_subscriptions set endpoint = 'https://evil.example/x'",
        "insert into push_subscriptions (contact_point_id, endpoint, p256dh, auth)"
        " select id, 'https://evil.example/y', p256dh, auth from push_subscriptions",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with as_clinician(admin_conn, clinician["id"]) as conn:
                await conn.execute(statement)
