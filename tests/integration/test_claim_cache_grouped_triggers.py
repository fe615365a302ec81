"""The claim cache's notices of clinics' and contact points' updates are the same with the grouped
statements of migration 20260101015550 as with the join of transition tables they replace
(migration 20260101012000), in a session whose first firing is a one-row update (the firing
whose plan the session keeps).

The same statements run under each definition, each on a fresh writer connection; what the
workers would be told (NOTIFY ``medremind_cache``) is gathered per statement, in terms of the
rows the test made, and compared, and checked against what each statement changed. A clinic's
zone is cached since migration 20260101015710 (tests/dispatch/test_claim_cache.py), the join
did not know it: the statements here change another uncached column (``locale``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg

from tests import factories
from tests.waiting import eventually

MIGRATIONS = Path(__file__).resolve().parents[2] / "supabase" / "migrations"
JOINED = MIGRATIONS / "20260101012000_claim_cache_invalidation.sql"
TRIGGERS = ("claim_cache_organizations_changed", "claim_cache_contact_points_changed")


def _joined_definitions() -> list[str]:
    """The two functions as migration 20260101012000 made them (the join), to put back."""
    text = JOINED.read_text()
    found = []
    for name in TRIGGERS:
        match = re.search(rf"create function public\.{name}\(\).*?\n\$\$;", text, re.S)
        assert match is not None, name
        found.append(match[0].replace("create function", "create or replace function", 1))
    return found


# (statement, what it changes in cached columns): $1 the clinics' ids, $2 the contact points'
# ids, $3 the patients' ids, each in the order the test made them.
STATEMENTS: list[tuple[str, set[str]]] = [
    # One row first: the plan a session keeps is made here.
    ("update organizations set name = name || '!' where id = ($1::uuid[])[1]", {"o0"}),
    ("update contact_points set opted_out_at = now() where id = ($2::uuid[])[1]", {"p0"}),
    # Then batches: some rows change cached columns, others uncached ones or nothing.
    (
        """update organizations o
              set name = case when o.id = ($1::uuid[])[2] then 'Renamed' else o.name end,
                  default_quiet_start = case when o.id = ($1::uuid[])[3] then time '21:30'
                                             else o.default_quiet_start end,
                  locale = 'es'
            where o.id = any($1::uuid[])""",
        {"o1", "o2"},
    ),
    ("update organizations set name = name, default_quiet_end = default_quiet_end", set()),
    (
        """update contact_points c
              set active = case when c.id = ($2::uuid[])[2] then false else c.active end,
                  last_error = 'timeout',
                  patient_id = case when c.id = ($2::uuid[])[4] then ($3::uuid[])[5]
                                    else c.patient_id end,
                  blocked_at = case when c.id = ($2::uuid[])[5] then now() else c.blocked_at end,
                  telegram_bot = c.telegram_bot
            where c.id = any($2::uuid[])""",
        {"p1", "p3", "p4"},  # the moved contact point names its old and its new patient
    ),
    ("update contact_points set address = address, opted_out_at = opted_out_at", set()),
]


def _bound(sql: str, ids: dict[str, Any]) -> str:
    """``sql`` with $1..$3 written out (array literals of the test's own uuids): a statement
    takes only some of them, and each must run as one plain statement."""
    for number, kind, count in ((1, "o", 4), (2, "c", 6), (3, "p", 6)):
        literal = "'{" + ",".join(str(ids[f"{kind}{i}"]) for i in range(count)) + "}'"
        sql = sql.replace(f"${number}::uuid[]", f"{literal}::uuid[]")
    return sql


async def _run(
    database_url: str, listener: asyncpg.Connection, received: list[str], ids: dict[str, Any]
) -> list[set[str]]:
    """Each statement's notified ids, as the test's labels ('o0', 'p3')."""
    labels = {str(value): label for label, value in ids.items()}
    writer = await asyncpg.connect(database_url)
    seen: list[set[str]] = []
    try:
        # The rows' own notices (their inserts committed just before) may still be on their
        # way to the listener: a fence first, so none lands in the first statement's (CI, a
        # loaded box: 'p5' of the last insert counted as the first statement's).
        await writer.execute("select pg_notify('medremind_cache', 'fence')")
        await eventually(lambda: "fence" in received)
        for number, (sql, _) in enumerate(STATEMENTS):
            received.clear()
            await writer.execute(_bound(sql, ids))
            # Notices arrive in commit order: the barrier's comes after the statement's.
            await writer.execute("select pg_notify('medremind_cache', $1)", f"barrier:{number}")
            await eventually(lambda n=number: f"barrier:{n}" in received)  # type: ignore[misc]
            payloads = received[: received.index(f"barrier:{number}")]
            seen.append(
                {
                    labels.get(part, part)
                    for payload in payloads
                    for part in payload.split(":", 1)[1].split(",")
                }
            )
    finally:
        await writer.close()
    return seen


async def _rows(conn: asyncpg.Connection, run: int) -> dict[str, Any]:
    """Four clinics; six patients of the first, a contact point each (numbers of ``run``)."""
    ids: dict[str, Any] = {}
    for i in range(4):
        ids[f"o{i}"] = (await factories.create_organization(conn))["id"]
    for i in range(6):
        patient = await factories.create_patient(
            conn, ids["o0"], contacts={"sms": f"+1415555{run}{i:03d}"}
        )
        ids[f"p{i}"] = patient["id"]
        ids[f"c{i}"] = await conn.fetchval(
            "select id from contact_points where patient_id = $1", patient["id"]
        )
    return ids


async def test_grouped_notices_are_the_joined_ones(
    admin_conn: asyncpg.Connection, database_url: str
) -> None:
    received: list[str] = []
    listener = await asyncpg.connect(database_url)
    on_notice: Callable[..., None] = lambda *args: received.append(args[3])  # noqa: E731
    await listener.add_listener("medremind_cache", on_notice)
    try:
        grouped = await _run(database_url, listener, received, await _rows(admin_conn, 1))
        for definition in _joined_definitions():
            await admin_conn.execute(definition)
        joined = await _run(database_url, listener, received, await _rows(admin_conn, 2))
    finally:
        await listener.close()
    expected = [changes for _, changes in STATEMENTS]
    assert joined == expected
    assert grouped == expected
