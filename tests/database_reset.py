"""A finished test's database put back to the migrated template's state, for the next test,
instead of dropped and cloned again (tests.database_clones).

``CREATE DATABASE ... TEMPLATE`` and the drop cost the server 90-185 ms of CPU a test (726
relations, 11 MB, nearly all of it PostgreSQL's own catalogs, copied and WAL-logged page by page;
``STRATEGY FILE_COPY`` and ``wal_level = minimal`` cost as much), for each of the ~1,300 tests
using a database. A test changes only rows of a few of the 53 tables:
putting those back cost 30 ms of server CPU against 185 for a clone and drop in the same bench
(session 27: a clinic, patient and medicine written, 20 rounds each). Emptied with ``DELETE``
(``TRUNCATE`` makes new files for the table and every table referencing it: 126 ms). The
database is reused only when nothing but rows and sequence values changed; anything else and it
is dropped as before:

- every session on it is ended first (a process a test left behind loses its connection, as with
  the drop), and it is renamed afterwards (such a process can not connect again under the old
  name, the next test gets a new name as with a clone);
- no row of a per-database catalog (``pg_class``, ``pg_attribute``, ``pg_proc``, ``pg_statistic``,
  ...) was inserted, updated or deleted since the database was handed out: DDL, GRANTs, comments,
  ANALYZE, temporary tables, TRUNCATE, large objects all change some (checked by each row's
  ``xmin`` against the first transaction id after the hand-out, and each catalog's row count);
- no ``ALTER DATABASE ... SET``, no other change of its ``pg_database`` row or comment on it, no
  prepared transaction on it;
- no table or index was vacuumed or analysed (its ``relpages``/``reltuples`` are the template's)
  and none has grown past ``MAX_PAGES``: the dead rows the ``DELETE`` leaves keep each table
  under the 10 pages the planner assumes for a table never vacuumed, as for a new clone's
  (so the plans stay a new clone's);
- it has been reused fewer than ``MAX_REUSES`` times.

Then every table holding a row (or, for the two tables the migrations fill, another row count or
a row written after the hand-out) is emptied with ``DELETE`` with no trigger firing
(``session_replication_role = replica``: no audit row, no foreign key's cascade or check), the
template's rows are copied back into the tables the migrations filled, every sequence gets the
template's value back, and the database's statistics counters are reset (``pg_stat_reset``).

Session 27's full run: 1,045 put back, 195 dropped, 231 clones. 177 tests of tests/planner,
tests/templates and three files of tests/integration (``-n 2``, before and after, one after the
other): 61.3 -> 42.4 CPU-s in all, PostgreSQL's 30.0 -> 14.4.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass

import asyncpg

# A database is dropped after this many reuses, or once a table or index of it has grown past
# MAX_PAGES: its tables keep the dead rows of the tests before, and under 10 pages the planner
# estimates a table never vacuumed as 10 pages, as it does a new clone's (so plans stay the same).
MAX_REUSES = 20
MAX_PAGES = 8
_TERMINATE_SECONDS = 5.0

_USER_RELATIONS = """
select c.oid, format('%I.%I', n.nspname, c.relname) as name, c.relkind::text as kind,
       pg_relation_size(c.oid) as size, n.nspname as schema, c.relname as table,
       c.relpages, c.reltuples
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
 where c.relkind in ('r', 'i', 'S')
   and n.nspname not in ('pg_catalog', 'information_schema')
   and n.nspname not like 'pg\\_toast%' and n.nspname not like 'pg\\_temp%'
 order by 2
"""
_CATALOGS = """
select format('%I.%I', n.nspname, c.relname)
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = 'pg_catalog' and c.relkind = 'r' and not c.relisshared
 order by 1
"""
# The first transaction id not yet given out: any row written later has an xmin at least this.
NEXT_XID = "select pg_snapshot_xmax(pg_current_snapshot())::text::bigint"


@dataclass(frozen=True)
class _Seeded:
    """A table the migrations filled: its row count, main fork size and rows (binary COPY)."""

    schema: str
    table: str
    rows: int
    size: int
    columns: tuple[str, ...]
    data: bytes


@dataclass(frozen=True)
class TemplateState:
    """What a fresh clone holds, read once from the template database."""

    catalogs: dict[str, int]  # catalog -> row count
    tables: tuple[str, ...]
    planner_sizes: dict[str, tuple[int, float]]  # table or index -> (relpages, reltuples)
    seeded: dict[str, _Seeded]
    sequences: dict[str, tuple[int, bool]]  # sequence -> (last_value, is_called)
    database_row: tuple[object, ...]

    @classmethod
    async def read(
        cls, admin: asyncpg.Connection, template_url: str, template: str
    ) -> TemplateState:
        """The template's state (``admin`` on the server's ``postgres`` database)."""
        conn = await asyncpg.connect(template_url)
        try:
            catalogs = await _catalog_counts(conn, [r[0] for r in await conn.fetch(_CATALOGS)])
            relations = await conn.fetch(_USER_RELATIONS)
            tables = tuple(r["name"] for r in relations if r["kind"] == "r")
            planner_sizes = {
                r["name"]: (r["relpages"], r["reltuples"]) for r in relations if r["kind"] != "S"
            }
            seeded = {}
            for r in relations:
                if r["kind"] == "r" and r["size"] > 0:
                    columns = tuple(
                        await conn.fetchval(
                            "select array_agg(attname::text order by attnum) from"
                            " pg_attribute where attrelid = $1 and attnum > 0"
                            " and not attisdropped and attgenerated = ''",
                            r["oid"],
                        )
                    )
                    out = io.BytesIO()
                    await conn.copy_from_table(
                        r["table"], schema_name=r["schema"], columns=columns, output=out,
                        format="binary",
                    )  # fmt: skip
                    count = await conn.fetchval(f"select count(*) from {r['name']}")
                    seeded[r["name"]] = _Seeded(
                        r["schema"], r["table"], count, r["size"], columns, out.getvalue()
                    )
            sequences = {}
            for r in relations:
                if r["kind"] == "S":
                    value = await conn.fetchrow(f"select last_value, is_called from {r['name']}")
                    sequences[r["name"]] = (value["last_value"], value["is_called"])
        finally:
            await conn.close()
        database_row = await _database_row(admin, template)
        return cls(catalogs, tables, planner_sizes, seeded, sequences, database_row)


async def _catalog_counts(
    conn: asyncpg.Connection, catalogs: list[str], since: int | None = None
) -> dict[str, int]:
    """Each catalog's row count, or with ``since`` the catalogs with a row written since then
    (as -1) and the others' counts, in one statement."""
    newer = "count(*) filter (where xmin::text::bigint >= $1)" if since is not None else "0"
    query = " union all ".join(
        f"select '{name}', count(*), {newer} from {name}" for name in catalogs
    )
    rows = await conn.fetch(query, *([since] if since is not None else []))
    return {name: -1 if newer_rows else count for name, count, newer_rows in rows}


async def _database_row(admin: asyncpg.Connection, name: str) -> tuple[object, ...]:
    """What of ``pg_database`` and the shared catalogs a test could change about a database
    (its name aside): owner, limits, ACL, settings and comments on it."""
    row = await admin.fetchrow(
        """select d.datdba, d.datconnlimit, d.datallowconn, d.datacl::text,
                  (select count(*) from pg_db_role_setting s where s.setdatabase = d.oid),
                  (select count(*) from pg_shdescription c where c.objoid = d.oid),
                  (select count(*) from pg_prepared_xacts p where p.database = d.datname)
             from pg_database d where d.datname = $1""",
        name,
    )
    assert row is not None
    return (*row.values(),)


async def end_sessions(admin: asyncpg.Connection, name: str) -> bool:
    """End every session on database ``name``; False if some did not end in time."""
    await admin.execute(
        "select pg_terminate_backend(pid) from pg_stat_activity"
        " where datname = $1 and pid <> pg_backend_pid()",
        name,
    )
    for _ in range(int(_TERMINATE_SECONDS / 0.02)):
        if not await admin.fetchval(
            "select exists (select 1 from pg_stat_activity where datname = $1)", name
        ):
            return True
        await asyncio.sleep(0.02)
    return False


async def reset(
    admin: asyncpg.Connection, database_url: str, name: str, since: int, state: TemplateState
) -> bool:
    """Put database ``name`` (reached at ``database_url``; handed out when ``since`` was the next
    transaction id) back to the template's state, or return False where only a new clone can
    (the module's docstring says when). ``admin`` is on the server's ``postgres`` database."""
    if not await end_sessions(admin, name):
        return False
    if await _database_row(admin, name) != state.database_row:
        return False
    conn = await asyncpg.connect(database_url)
    try:
        if await _catalog_counts(conn, list(state.catalogs), since) != state.catalogs:
            return False
        relations = [r for r in await conn.fetch(_USER_RELATIONS) if r["kind"] != "S"]
        if tuple(r["name"] for r in relations if r["kind"] == "r") != state.tables:
            return False  # cannot happen with the catalogs unchanged; cheap to be sure
        for r in relations:
            if r["size"] > MAX_PAGES * 8192 and r["name"] not in state.seeded:
                return False
            if (r["relpages"], r["reltuples"]) != state.planner_sizes[r["name"]]:
                return False  # vacuumed or analysed
        written = [
            r["name"]
            for r in relations
            if r["kind"] == "r" and r["size"] > 0 and r["name"] not in state.seeded
        ]
        changed = []
        if written:
            query = " union all ".join(
                f"select '{table}' where exists (select from {table})" for table in written
            )
            changed = [r[0] for r in await conn.fetch(query)]
        for table, seeded in state.seeded.items():
            count, newer = await conn.fetchrow(
                f"select count(*), count(*) filter (where xmin::text::bigint >= $1) from {table}",
                since,
            )
            if count != seeded.rows or newer:
                changed.append(table)
        async with conn.transaction():
            # No trigger runs: no audit row, no refusal to delete, no foreign key's check or
            # cascade (every table that holds rows a test wrote is emptied).
            await conn.execute("set local session_replication_role = replica")
            for table in changed:
                await conn.execute(f"delete from {table}")
                rows = state.seeded.get(table)
                if rows is not None:
                    await conn.copy_to_table(
                        rows.table, schema_name=rows.schema, source=io.BytesIO(rows.data),
                        columns=list(rows.columns), format="binary",
                    )  # fmt: skip
            for sequence, (value, called) in state.sequences.items():
                now = await conn.fetchrow(f"select last_value, is_called from {sequence}")
                if (now["last_value"], now["is_called"]) != (value, called):
                    await conn.execute(
                        "select setval($1::regclass, $2, $3)", sequence, value, called
                    )
        await conn.execute("select pg_stat_reset()")
    finally:
        await conn.close()
    return True
