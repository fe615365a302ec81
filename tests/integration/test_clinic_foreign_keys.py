"""Every foreign key a clinician can set points inside the clinician's clinic (issue 15, item 3).

Generated from the catalog, so a table added later cannot miss it: for every table with
row-level security that role ``authenticated`` (the dashboard, and every clinician through
PostgREST) may insert into or update, and every foreign key column of it, a clinician of clinic A
takes a row of their own and

- updates the column to point at clinic B's row: refused by row-level security;
- inserts a copy of the row pointing at clinic B's row: refused by row-level security;
- updates the column to the value it has (their own clinic's row): allowed (the control).

Before migration 20260101008300, a clinician could insert a dose event of their own patient for
another clinic's medication (the reminder then names that clinic's medicine, and a Taken counts
its pills down) or a schedule for another clinic's medication.

The world: two clinics, each with one row in every such table (built below). A table with no row
to try fails the test by name: extend :func:`_world` when adding a table.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from tests import factories

# Foreign keys of the writable tables, one row per (table, column, referenced table, column).
FOREIGN_KEYS = """
select c.conrelid::regclass::text as tbl, a.attname as col,
       c.confrelid::regclass::text as target, ta.attname as target_col,
       has_table_privilege('authenticated', c.conrelid, 'INSERT') as can_insert,
       has_column_privilege('authenticated', c.conrelid, a.attnum, 'UPDATE') as can_update
  from pg_constraint c
  join pg_class t on t.oid = c.conrelid
  join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
  join pg_attribute ta on ta.attrelid = c.confrelid and ta.attnum = c.confkey[1]
 where c.contype = 'f' and t.relnamespace = 'public'::regnamespace and t.relrowsecurity
   and cardinality(c.conkey) = 1
   and (has_table_privilege('authenticated', c.conrelid, 'INSERT')
        or has_column_privilege('authenticated', c.conrelid, a.attnum, 'UPDATE'))
 order by 1, 2
"""


async def _world(conn: asyncpg.Connection) -> dict[str, Any]:
    """Two clinics with a row in every table a clinician writes; returns A's clinician id."""
    clinic: dict[str, Any] = {}
    for side in ("a", "b"):
        org = await factories.create_organization(conn)
        patient = await factories.create_patient(
            conn, org["id"], contacts={"sms": factories.phone_number()}
        )
        _, schedule = await factories.create_medication(conn, patient["id"])
        dose = await factories.create_dose_event(
            conn, schedule, datetime(2026, 3, 4, 8, tzinfo=UTC)
        )
        caregiver = await conn.fetchval(
            "insert into caregivers (patient_id, name, channel, address)"
            " values ($1, 'Eva', 'sms', $2) returning id",
            patient["id"],
            factories.phone_number("+1415666"),
        )
        appointment = await conn.fetchval(
            "insert into appointments (organization_id, patient_id, starts_at)"
            " values ($1, $2, $3) returning id",
            org["id"],
            patient["id"],
            datetime.now(UTC) + timedelta(days=3),
        )
        await conn.execute(
            "insert into patient_invites (organization_id, patient_id, token_hash, expires_at)"
            " values ($1, $2, md5(random()::text), now() + interval '1 day')",
            org["id"],
            patient["id"],
        )
        await conn.execute(
            "insert into message_templates (organization_id, name, body) values ($1, 'hi', 'Hi')",
            org["id"],
        )
        # The patient's chat: a bot reply names it (scheduled_messages.conversation_id).
        conversation = await conn.fetchval(
            "insert into conversations (channel, chat_address, patient_id)"
            " values ('telegram', $1, $2) returning id",
            str(uuid.uuid4().int % 10**12),
            patient["id"],
        )
        await conn.execute(
            "insert into scheduled_messages (organization_id, patient_id, dose_event_id,"
            " appointment_id, caregiver_id, conversation_id, platform, message_content)"
            " values ($1, $2, $3, $4, $5, $6, 'telegram', 'x')",
            org["id"],
            patient["id"],
            dose["id"],
            appointment,
            caregiver,
            conversation,
        )
        await conn.execute(
            "insert into waitlist_entries (organization_id, patient_id, booked_appointment_id)"
            " values ($1, $2, $3)",
            org["id"],
            patient["id"],
            appointment,
        )
        await conn.execute(
            "insert into api_keys (organization_id, name, prefix, key_hash)"
            " values ($1, 'k', md5(random()::text), 'x')",
            org["id"],
        )
        if side == "a":
            # An admin: the most a signed-in clinician may do (settings, templates, API keys).
            clinician = await factories.create_clinician(conn, org["id"], role="admin")
            clinic["clinician"] = clinician["id"]
    return clinic


async def _as_clinician(
    conn: asyncpg.Connection, clinician: uuid.UUID, sql: str, *args: Any
) -> str:
    """Run ``sql`` as the clinician (role authenticated, JWT claims) in a transaction rolled back
    afterwards; returns its status, or ``"refused"`` when row-level security refused it."""
    transaction = conn.transaction()
    await transaction.start()
    try:
        await conn.execute("set local role authenticated")
        claims = json.dumps({"sub": str(clinician), "role": "authenticated"})
        await conn.execute("select set_config('request.jwt.claims', $1, true)", claims)
        return await conn.execute(sql, *args)
    except asyncpg.InsufficientPrivilegeError:
        return "refused"
    except asyncpg.PostgresError as exc:  # past row-level security (it is checked first)
        return f"{type(exc).__name__}: {exc}"
    finally:
        await transaction.rollback()  # every try starts from the same world


async def _visible(conn: asyncpg.Connection, clinician: uuid.UUID, sql: str) -> list[Any]:
    async with conn.transaction():
        await conn.execute("set local role authenticated")
        claims = json.dumps({"sub": str(clinician), "role": "authenticated"})
        await conn.execute("select set_config('request.jwt.claims', $1, true)", claims)
        return [r[0] for r in await conn.fetch(sql)]


async def test_every_foreign_key_a_clinician_can_set_stays_in_their_clinic(
    admin_conn: asyncpg.Connection,
) -> None:
    world = await _world(admin_conn)
    clinician = world["clinician"]
    keys = await admin_conn.fetch(FOREIGN_KEYS)
    tables = {k["tbl"] for k in keys}
    # The catalog query finds what the migrations grant: if this shrinks, the test tests less.
    assert {"dose_events", "reminder_schedules", "scheduled_messages", "patients"} <= tables

    holes: list[str] = []
    for key in keys:
        table, col, target, target_col = key["tbl"], key["col"], key["target"], key["target_col"]
        mine = await _visible(admin_conn, clinician, f"select id::text from {table} limit 1")
        assert mine, f"no row of clinic A in {table}: add one to _world"
        row = mine[0]
        try:
            own = await _visible(admin_conn, clinician, f"select {target_col} from {target}")
        except asyncpg.InsufficientPrivilegeError:
            # A table clinicians cannot read (conversations): theirs is what their row names.
            own = [await admin_conn.fetchval(f"select {col} from {table} where id::text = $1", row)]
        theirs = await admin_conn.fetchval(
            f"select {target_col} from {target} where not ({target_col} = any($1)) limit 1",
            own,
        )
        assert theirs is not None, f"no row of clinic B in {target}: add one to _world"
        where = f"{table}.{col} -> {target}"
        if key["can_update"]:
            control = await _as_clinician(
                admin_conn,
                clinician,
                f"update {table} set {col} = {col} where id::text = $1",
                row,
            )
            assert control == "UPDATE 1", f"{where}: clinic A cannot update its own row"
            moved = await _as_clinician(
                admin_conn,
                clinician,
                f"update {table} set {col} = $2 where id::text = $1",
                row,
                theirs,
            )
            if moved != "refused":
                holes.append(f"update {where}: {moved}")
        if key["can_insert"]:
            # Every column but the generated ones (which take no value of their own).
            columns = await admin_conn.fetchval(
                "select string_agg(quote_ident(attname), ', ' order by attnum) from pg_attribute"
                " where attrelid = $1::regclass and attnum > 0 and not attisdropped"
                " and attgenerated = ''",
                table,
            )
            copied = await _as_clinician(
                admin_conn,
                clinician,
                f"insert into {table} ({columns}) select {columns}"
                f" from jsonb_populate_record(null::{table},"
                f" (select to_jsonb(r) || jsonb_build_object('id', gen_random_uuid(),"
                f" '{col}', $2::text) from {table} r where r.id::text = $1))",
                row,
                str(theirs),
            )
            if copied != "refused":
                holes.append(f"insert {where}: {copied}")
    assert holes == [], "clinic A's rows may point into clinic B:\n" + "\n".join(holes)
