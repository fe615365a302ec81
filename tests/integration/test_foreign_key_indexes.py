"""Every foreign key's referencing columns lead an index.

A delete of a referenced row (retention's batched deletes, a patient's erasure, a cascade) looks up
the referencing rows of every foreign key pointing at it: without an index on the referencing
columns each deleted row scans the whole referencing table (found for
``conversation_questions.message_id``: retention's delete of old messages scanned every question
once per message)."""

from __future__ import annotations

import asyncpg

UNINDEXED_FOREIGN_KEYS = """
select c.conrelid::regclass::text as table_name,
       c.conname,
       array(select a.attname from unnest(c.conkey) k join pg_attribute a
              on a.attrelid = c.conrelid and a.attnum = k) as columns
  from pg_constraint c
  join pg_namespace n on n.oid = c.connamespace
 where c.contype = 'f'
   and n.nspname = 'public'
   and not exists (
     select 1 from pg_index i
      where i.indrelid = c.conrelid
        and (i.indkey::int2[])[0:cardinality(c.conkey) - 1] @> c.conkey
        and (i.indkey::int2[])[0:cardinality(c.conkey) - 1] <@ c.conkey
   )
 order by 1, 2
"""


async def test_every_foreign_key_is_indexed(admin_conn: asyncpg.Connection) -> None:
    rows = await admin_conn.fetch(UNINDEXED_FOREIGN_KEYS)
    missing = [f"{r['table_name']}({', '.join(r['columns'])}) [{r['conname']}]" for r in rows]
    assert not missing, "foreign keys without an index on their columns:\n" + "\n".join(missing)
