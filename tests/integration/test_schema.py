"""The schema built from the migrations: idempotent, RLS everywhere, organizations isolated."""

from __future__ import annotations

import json
import uuid

import asyncpg
import pytest

from core.migrate import discover, migrate


async def test_migrate_twice_is_a_noop(admin_conn: asyncpg.Connection) -> None:
    # The template was migrated already: nothing is pending and nothing is applied again.
    assert await migrate(admin_conn) == []
    versions = await admin_conn.fetch("select version from medremind_migrations order by 1")
    assert [r["version"] for r in versions] == [m.version for m in discover()]


async def test_migrations_apply_from_empty(pg_admin_url: str) -> None:
    name = f"medremind_empty_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(pg_admin_url)
    await admin.execute(f'create database "{name}"')
    try:
        conn = await asyncpg.connect(
            pg_admin_url.rsplit("/", 1)[0] + "/" + name
            if "?" not in pg_admin_url
            else _swap_db(pg_admin_url, name)
        )
        try:
            applied = await migrate(conn)
            assert applied == [m.path.name for m in discover()]
            assert await migrate(conn) == []
            assert (
                await conn.fetchval("select to_regclass('public.scheduled_messages')") is not None
            )
        finally:
            await conn.close()
    finally:
        await admin.execute(f'drop database "{name}" with (force)')
        await admin.close()


def _swap_db(url: str, name: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


async def test_concurrent_migrate_is_safe(pg_admin_url: str) -> None:
    import asyncio

    name = f"medremind_conc_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(pg_admin_url)
    await admin.execute(f'create database "{name}"')
    try:
        conns = [await asyncpg.connect(_swap_db(pg_admin_url, name)) for _ in range(2)]
        results = await asyncio.gather(*(migrate(c) for c in conns))
        # Exactly one of them applied everything; the other found nothing left.
        assert sorted(len(r) for r in results) == [0, len(discover())]
        for c in conns:
            await c.close()
    finally:
        await admin.execute(f'drop database "{name}" with (force)')
        await admin.close()


async def test_every_table_has_row_level_security(admin_conn: asyncpg.Connection) -> None:
    rows = await admin_conn.fetch(
        """
        select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relrowsecurity
        """
    )
    assert [r["relname"] for r in rows] == []


async def _make_org_with_patient(conn: asyncpg.Connection, label: str) -> dict[str, uuid.UUID]:
    org = await conn.fetchval("insert into organizations (name) values ($1) returning id", label)
    user = await conn.fetchval(
        "insert into auth.users (email) values ($1) returning id", f"{label}@clinic.test"
    )
    await conn.execute(
        "insert into clinicians (id, organization_id, display_name) values ($1, $2, $3)",
        user,
        org,
        label,
    )
    patient = await conn.fetchval(
        "insert into patients (organization_id, display_name) values ($1, $2) returning id",
        org,
        f"patient of {label}",
    )
    med = await conn.fetchval(
        "insert into medications (patient_id, name) values ($1, 'Metformin') returning id", patient
    )
    await conn.execute(
        "insert into contact_points (patient_id, channel, address) values ($1, 'sms', $2)",
        patient,
        f"+1555{abs(hash(label)) % 10_000_000:07d}",
    )
    msg = await conn.fetchval(
        "insert into scheduled_messages (patient_id, message_content, platform)"
        " values ($1, 'hello', 'sms') returning id",
        patient,
    )
    await conn.execute(
        "insert into message_delivery_attempts (message_id, status, channel)"
        " values ($1, 'sent', 'sms')",
        msg,
    )
    await conn.execute(
        "insert into appointments (organization_id, patient_id, starts_at)"
        " values ($1, $2, now() + interval '2 days')",
        org,
        patient,
    )
    await conn.execute(
        "insert into audit_log (organization_id, actor, action, entity)"
        " values ($1, 'test', 'x', 'y')",
        org,
    )
    return {"org": org, "user": user, "patient": patient, "medication": med, "message": msg}


PROTECTED_TABLES = [
    "organizations",
    "clinicians",
    "patients",
    "contact_points",
    "medications",
    "scheduled_messages",
    "message_delivery_attempts",
    "appointments",
    "audit_log",
]


async def _count_as(
    conn: asyncpg.Connection, role: str, user: uuid.UUID | None, table: str, where: str = ""
) -> int:
    async with conn.transaction():
        await conn.execute(f"set local role {role}")
        if user is not None:
            claims = json.dumps({"sub": str(user), "role": role})
            await conn.execute("select set_config('request.jwt.claims', $1, true)", claims)
        return await conn.fetchval(f"select count(*) from {table} {where}")


@pytest.mark.parametrize("table", PROTECTED_TABLES)
async def test_clinician_sees_only_own_organization(
    admin_conn: asyncpg.Connection, table: str
) -> None:
    a = await _make_org_with_patient(admin_conn, "alpha")
    b = await _make_org_with_patient(admin_conn, "beta")
    mine = await _count_as(admin_conn, "authenticated", a["user"], table)
    total = await admin_conn.fetchval(f"select count(*) from {table}")
    assert mine >= 1 and total > mine
    # Nothing of organization B is visible to A's clinician, whichever way it is asked for.
    if table == "patients":
        assert (
            await _count_as(
                admin_conn, "authenticated", a["user"], table, f"where id = '{b['patient']}'"
            )
            == 0
        )
    if table == "scheduled_messages":
        assert (
            await _count_as(
                admin_conn, "authenticated", a["user"], table, f"where id = '{b['message']}'"
            )
            == 0
        )


@pytest.mark.parametrize("table", PROTECTED_TABLES)
async def test_anon_reads_nothing(admin_conn: asyncpg.Connection, table: str) -> None:
    await _make_org_with_patient(admin_conn, "gamma")
    async with admin_conn.transaction():
        await admin_conn.execute("set local role anon")
        try:
            count = await admin_conn.fetchval(f"select count(*) from {table}")
        except asyncpg.InsufficientPrivilegeError:
            count = 0
    assert count == 0


async def test_clinician_cannot_write_into_another_organization(
    admin_conn: asyncpg.Connection,
) -> None:
    a = await _make_org_with_patient(admin_conn, "delta")
    b = await _make_org_with_patient(admin_conn, "epsilon")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with admin_conn.transaction():
            await admin_conn.execute("set local role authenticated")
            await admin_conn.execute(
                "select set_config('request.jwt.claims', $1, true)",
                json.dumps({"sub": str(a["user"])}),
            )
            await admin_conn.execute(
                "insert into scheduled_messages (patient_id, organization_id, message_content)"
                " values ($1, $2, 'x')",
                b["patient"],
                b["org"],
            )


async def test_app_role_is_not_superuser_and_sees_all(db, admin_conn) -> None:
    await _make_org_with_patient(admin_conn, "zeta")
    assert db.pool is not None
    async with db.pool.acquire() as conn:
        assert await conn.fetchval("select current_user") == "medremind_app"
        assert (
            await conn.fetchval("select rolsuper from pg_roles where rolname = current_user")
            is False
        )
        assert await conn.fetchval("select count(*) from patients") == 1
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("create table nope (id int)")


async def test_notify_fires_once_per_statement_for_due_rows(admin_conn, database_url) -> None:
    import asyncio

    org = await _make_org_with_patient(admin_conn, "eta")
    listener = await asyncpg.connect(database_url)
    received: list[str] = []
    await listener.add_listener("medremind_due", lambda *args: received.append(args[3]))
    await admin_conn.execute(
        "insert into scheduled_messages (patient_id, message_content)"
        " select $1, 'x' from generate_series(1, 50)",
        org["patient"],
    )
    await admin_conn.execute(
        "insert into scheduled_messages (patient_id, message_content, scheduled_time)"
        " values ($1, 'later', now() + interval '3 days')",
        org["patient"],
    )
    await asyncio.sleep(0.3)
    await listener.close()
    # 51 inserted rows in two statements, only the first due soon: exactly one notification.
    assert len(received) == 1


async def test_attempts_must_name_an_existing_message_and_go_with_it(db, admin_conn) -> None:
    """The per-statement check and cascade that replace the attempts' foreign key."""
    made = await _make_org_with_patient(admin_conn, "eta")
    assert db.pool is not None
    async with db.pool.acquire() as conn:  # as the worker's role
        with pytest.raises(asyncpg.ForeignKeyViolationError, match="is not a scheduled message"):
            await conn.execute(
                "insert into message_delivery_attempts (message_id, status, channel)"
                " select unnest($1::uuid[]), 'sent', 'sms'",
                [made["message"], uuid.uuid4()],
            )
        # Nothing of the failed statement stays; a valid one goes in.
        assert await conn.fetchval("select count(*) from message_delivery_attempts") == 1
        await conn.execute(
            "insert into message_delivery_attempts (message_id, status, channel)"
            " values ($1, 'failed', 'sms')",
            made["message"],
        )
    other = await _make_org_with_patient(admin_conn, "theta")
    # Deleting a message deletes its attempts; deleting a patient cascades through its messages.
    await admin_conn.execute("delete from scheduled_messages where id = $1", made["message"])
    assert (
        await admin_conn.fetchval(
            "select count(*) from message_delivery_attempts where message_id = $1", made["message"]
        )
        == 0
    )
    await admin_conn.execute("delete from patients where id = $1", other["patient"])
    assert await admin_conn.fetchval("select count(*) from message_delivery_attempts") == 0
