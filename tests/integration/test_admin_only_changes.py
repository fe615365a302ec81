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
    # (In the same database: a clone costs more than the test.)
    await _an_admin_revokes_or_renames_a_key_and_nothing_more(admin_conn)


async def _an_admin_revokes_or_renames_a_key_and_nothing_more(admin_conn):
    """Migration 20260101019110. The dashboard's role could update every column of api_keys: an
    admin's session (one left signed in, or stolen) could set a key's hash to that of a secret
    of its own choosing, and its role to admin, and so hold the clinic's API with a key that
    outlives the session and shows in ``medremind apikey list`` as the integration's own; or
    take back the revocation of a leaked key. An admin may still revoke and rename."""
    org = await create_organization(admin_conn, name="Key Rule Clinic")
    key = await admin_conn.fetchval(
        "insert into api_keys (organization_id, name, prefix, key_hash, role)"
        " values ($1, 'ehr', 'abc123def457', 'x', 'clinician') returning id",
        org["id"],
    )
    admin = await create_clinician(admin_conn, org["id"], role="admin")
    for assignment in (
        "key_hash = encode(sha256('mr_abc123def457_mine'::bytea), 'hex')",
        "role = 'admin'",
        "prefix = 'abc123def458'",
        "last_used_at = null",
        "created_at = now()",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with as_clinician(admin_conn, admin["id"]) as conn:
                await conn.execute(f"update api_keys set {assignment} where id = $1", key)
    async with as_clinician(admin_conn, admin["id"]) as conn:
        await conn.execute(
            "update api_keys set name = 'old ehr', revoked_at = now() where id = $1", key
        )
    for revoked_at in ("null", "now() + interval '1 day'"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="stays revoked") as refused:
            async with as_clinician(admin_conn, admin["id"]) as conn:
                await conn.execute(
                    f"update api_keys set revoked_at = {revoked_at} where id = $1", key
                )
        assert "apikey create" in (refused.value.hint or "")
    # Nor by the service's role: a revoked key is revoked for good.
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="stays revoked"):
        await admin_conn.execute("update api_keys set revoked_at = null where id = $1", key)
    row = await admin_conn.fetchrow("select * from api_keys where id = $1", key)
    assert (row["name"], row["key_hash"], row["role"]) == ("old ehr", "x", "clinician")
    assert row["revoked_at"] is not None
    await _a_clinician_lists_keys_but_not_their_hashes(admin_conn, org["id"], key)


async def _a_clinician_lists_keys_but_not_their_hashes(admin_conn, org_id, key):
    """Migration 20260101019135. Every clinician read every column of the clinic's API keys,
    key_hash too: the SHA-256 of a secret, which a signed-in session could copy out and try
    secrets against offline, or probe with ``where key_hash = ...``. A key is still listed by
    name, prefix, role and revocation."""
    clinician = await create_clinician(admin_conn, org_id)
    for statement in (
        "select key_hash from api_keys",
        "select * from api_keys",
        "select id from api_keys where key_hash = 'x'",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with as_clinician(admin_conn, clinician["id"]) as conn:
                await conn.fetch(statement)
    async with as_clinician(admin_conn, clinician["id"]) as conn:
        listed = await conn.fetch(
            "select id, organization_id, name, prefix, role, created_at, last_used_at,"
            " revoked_at from api_keys"
        )
    assert [(r["id"], r["name"], r["prefix"], r["role"]) for r in listed] == [
        (key, "old ehr", "abc123def457", "clinician")
    ]
    assert listed[0]["revoked_at"] is not None
