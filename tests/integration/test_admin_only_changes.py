"""Migration 20260101009610: as the dashboard's role, only an admin of the clinic changes its
settings, templates and API keys; a clinician gets an error naming the rule (not a silent
no-op); the service's own role is not concerned."""

from __future__ import annotations

import asyncpg
import pytest

from tests.factories import create_clinician, create_organization
from tests.integration.clinician import as_clinician

_CHANGES = (
    (
        "update organizations set default_quiet_start = '22:00'"
        " where id = public.current_organization_id()",
        "settings",
    ),
    (
        "insert into message_templates (organization_id, name, kind, locale, channel, body)"
        " values (public.current_organization_id(), 'results', 'free_text', 'en', 'default', 'Hi')",
        "templates",
    ),
    (
        "update api_keys set revoked_at = now()"
        " where organization_id = public.current_organization_id()",
        "API keys",
    ),
)


async def test_only_an_admin_changes_the_clinic(admin_conn):
    org = await create_organization(admin_conn, name="Admin Rule Clinic")
    await admin_conn.execute(
        "insert into api_keys (organization_id, name, prefix, key_hash)"
        " values ($1, 'ehr', 'abc123def456', 'x')",
        org["id"],
    )
    clinician = await create_clinician(admin_conn, org["id"])
    admin = await create_clinician(admin_conn, org["id"], role="admin")
    for statement, what in _CHANGES:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match=f"admin .* its {what}"):
            async with as_clinician(admin_conn, clinician["id"]) as conn:
                await conn.execute(statement)
        async with as_clinician(admin_conn, admin["id"]) as conn:
            await conn.execute(statement)
    assert (
        await admin_conn.fetchval(
            "select count(*) from message_templates where organization_id = $1", org["id"]
        )
        == 1
    )
    # Reading stays every clinician's.
    async with as_clinician(admin_conn, clinician["id"]) as conn:
        assert await conn.fetchval("select name from organizations") == "Admin Rule Clinic"
        assert await conn.fetchval("select count(*) from message_templates") == 1
    # The service's role (no signed-in clinician) is not concerned.
    await admin_conn.execute("update organizations set locale = 'es' where id = $1", org["id"])
