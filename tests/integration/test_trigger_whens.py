"""No trigger's WHEN makes PostgreSQL plan a SQL function (migration 20260101010410).

A trigger's WHEN is planned each time a statement starts writing its table, not cached with the
statement's plan; a SQL-language function in it is inlined there, which parses the function's
body again in every such statement (the audit WHEN did so on every write of the worker, the
planner and the bot). Built-in calls and plain column tests cost nothing to plan.
"""

from __future__ import annotations

import re

import asyncpg


async def test_no_trigger_when_inlines_a_sql_function(admin_conn: asyncpg.Connection) -> None:
    whens = await admin_conn.fetch(
        """
        select c.relname || '.' || t.tgname as name, t.tgqual::text as qual
          from pg_trigger t
          join pg_class c on c.oid = t.tgrelid
          join pg_namespace n on n.oid = c.relnamespace
         where n.nspname = 'public' and not t.tgisinternal and t.tgqual is not null
        """
    )
    assert whens, "no trigger with a WHEN: the catalog query is wrong"
    sql_functions = {
        row["oid"]: row["name"]
        for row in await admin_conn.fetch(
            "select p.oid, p.oid::regprocedure::text as name from pg_proc p"
            " join pg_language l on l.oid = p.prolang where l.lanname = 'sql'"
        )
    }
    offenders = [
        f"{when['name']}: {sql_functions[int(oid)]}"
        for when in whens
        for oid in re.findall(r":funcid (\d+)", when["qual"])
        if int(oid) in sql_functions
    ]
    assert offenders == []
