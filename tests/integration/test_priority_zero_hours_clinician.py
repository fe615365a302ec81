"""A clinic's priority-0 share cannot be reset or spent by a clinician (migration
20260101017650): the dashboard's re-send counts through ``public.take_priority_zero``, which runs
as its owner and counts only the signed-in clinician's own clinic; ``api_priority_zero_hours``
itself is not theirs to read or write (one who could delete the clinic's counts would get its
share back, and a row could name another clinic).

A clinician's own rows of ``scheduled_messages`` (PostgREST's ``POST /rest/v1/scheduled_messages``
with the clinician's JWT, as Supabase gives every signed-in clinician) keep both limits too
(migration 20260101019120): the dashboard's Compose takes neither priority 0 nor a ``created_at``
of its own, but the role could insert any number of messages at priority 0, claimed ahead of
every other clinic's dose reminders on a shared bot or number, and past the per-patient cap of
clinic messages by leaving ``from_clinic`` false or ``created_at`` in the past.

Real PostgreSQL, as a clinician is through PostgREST: role ``authenticated`` with JWT claims.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from tests import factories

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)


async def _as_clinician(
    conn: asyncpg.Connection, clinician: object, sql: str, *args: object
) -> object:
    """``sql``'s first value as the clinician, in a transaction committed afterwards."""
    async with conn.transaction():
        await conn.execute("set local role authenticated")
        claims = json.dumps({"sub": str(clinician), "role": "authenticated"})
        await conn.execute("select set_config('request.jwt.claims', $1, true)", claims)
        return await conn.fetchval(sql, *args)


async def test_a_clinician_keeps_to_their_clinics_share_and_cannot_touch_the_counts(
    admin_conn: asyncpg.Connection,
) -> None:
    mine = await factories.create_organization(admin_conn)
    theirs = await factories.create_organization(admin_conn)
    clinician = (await factories.create_clinician(admin_conn, mine["id"], role="admin"))["id"]
    take = "select public.take_priority_zero($1, $2, 100, $2)"

    assert await _as_clinician(admin_conn, clinician, take, mine["id"], NOW) == 1
    # Another clinic's share: nothing counted, as if taken.
    assert await _as_clinician(admin_conn, clinician, take, theirs["id"], NOW) is None
    counts = dict(
        await admin_conn.fetch("select organization_id, messages from api_priority_zero_hours")
    )
    assert counts == {mine["id"]: 1}

    for statement in (
        "delete from api_priority_zero_hours",
        "select count(*) from api_priority_zero_hours",
        "update api_priority_zero_hours set messages = 0",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await _as_clinician(admin_conn, clinician, statement)
    assert await admin_conn.fetchval("select sum(messages) from api_priority_zero_hours") == 1
    # Nor through the function's clean-up of past hours (migration 20260101019100): with a p_now
    # of their choosing, days ahead, a clinician removed the clinic's hours and so what its share
    # had taken (the service's p_now is its own clock, the processes' or a test's).
    ahead = await admin_conn.fetchval("select now()") + timedelta(days=30)
    take_at = "select public.take_priority_zero($1, $2, 100, $3)"
    assert await _as_clinician(admin_conn, clinician, take_at, mine["id"], ahead, ahead) == 1
    hours = "select count(*), sum(messages) from api_priority_zero_hours where organization_id = $1"
    assert tuple(await admin_conn.fetchrow(hours, mine["id"])) == (2, 2)
    assert await admin_conn.fetchval(take_at, mine["id"], ahead, ahead) == 2
    assert tuple(await admin_conn.fetchrow(hours, mine["id"])) == (1, 2)
    await _whoever_grants_removes_hours_gone_by(admin_conn, clinician, mine["id"], theirs["id"])

    # A clinician's own messages (in the same database: a clone costs more than the test).
    await _own_messages_keep_the_share_and_the_cap(admin_conn)


async def _whoever_grants_removes_hours_gone_by(
    admin_conn: asyncpg.Connection, clinician: object, mine: object, theirs: object
) -> None:
    """A clinician's grant removes their clinic's hours more than a day gone by, as the
    service's does (migration 20260101019550), by the database's clock: a clinic taking priority
    0 only through the dashboard kept a row for every hour it used, since only the service
    removed them and it never counted for that clinic. Another clinic's rows stay."""
    this_hour = await admin_conn.fetchval("select date_trunc('hour', now(), 'UTC')")
    gone_by = [this_hour - timedelta(days=3), this_hour - timedelta(hours=25)]
    today = this_hour - timedelta(hours=22)
    await admin_conn.executemany(
        "insert into api_priority_zero_hours values ($1, $2, 1)",
        [(org, hour) for org in (mine, theirs) for hour in (*gone_by, today)],
    )
    take = "select public.take_priority_zero($1, $2, 100, $2)"
    # Another clinic's share, asked for: nothing counted and nothing of theirs removed. Their
    # own, with a p_now of long ago (theirs to choose, so not the clock the clean-up reads).
    assert await _as_clinician(admin_conn, clinician, take, theirs, NOW) is None
    assert await _as_clinician(admin_conn, clinician, take, mine, NOW) == 1
    hours = "select hour from api_priority_zero_hours where organization_id = $1 order by hour"
    assert [r["hour"] for r in await admin_conn.fetch(hours, theirs)] == [*gone_by, today]
    # Of their own clinic's hours before this one, only the one less than a day gone by.
    kept = [r["hour"] for r in await admin_conn.fetch(hours, mine)]
    assert [hour for hour in kept if hour < this_hour] == [today]


async def _own_messages_keep_the_share_and_the_cap(admin_conn: asyncpg.Connection) -> None:
    """Rows of scheduled_messages a clinician inserts or updates (migration 20260101019120), in
    a clinic of their own whose share is two an hour."""
    org = await factories.create_organization(admin_conn)
    clinician = (await factories.create_clinician(admin_conn, org["id"]))["id"]
    patient = (await factories.create_patient(admin_conn, org["id"]))["id"]
    await admin_conn.execute(
        "insert into service_limits (sms_max_segments, api_priority_zero_per_hour) values (3, 2)"
    )
    insert = (
        "insert into scheduled_messages (patient_id, message_content, platform, kind, priority,"
        " urgent, from_clinic, created_at)"
        " values ($1, 'Recall', 'auto', 'free_text', $2, true, false, $3) returning id"
    )
    long_ago = datetime(2000, 1, 1, tzinfo=UTC)
    made = [await _as_clinician(admin_conn, clinician, insert, patient, 0, long_ago)]
    made.append(await _as_clinician(admin_conn, clinician, insert, patient, 0, long_ago))
    made.append(await _as_clinician(admin_conn, clinician, insert, patient, 0, long_ago))
    rows = await admin_conn.fetch(
        "select priority, from_clinic, created_at > now() - interval '1 minute' as now"
        " from scheduled_messages where id = any($1) order by priority",
        made,
    )
    # Two of the clinic's share of priority 0 this hour, the third at the default; all three
    # the clinic's, created now: counted by the per-patient cap.
    assert [tuple(r) for r in rows] == [(0, True, True), (0, True, True), (5, True, True)]
    # Two more reach the cap of 5 an hour; a sixth is refused, whatever it says of itself.
    for _ in range(2):
        await _as_clinician(admin_conn, clinician, insert, patient, 5, long_ago)
    with pytest.raises(asyncpg.PostgresError, match="already has 5 messages"):
        await _as_clinician(admin_conn, clinician, insert, patient, 5, long_ago)
    # Nor do they leave the cap, or take priority 0 past the share, afterwards.
    changed = await _as_clinician(
        admin_conn,
        clinician,
        "update scheduled_messages set from_clinic = false, created_at = $2, priority = 0"
        " where id = $1"
        " returning (priority, from_clinic, created_at > now() - interval '1 minute')",
        made[2],
        long_ago,
    )
    assert tuple(changed) == (5, True, True)  # type: ignore[arg-type]

    # Nor by calling the share's function themselves with an hour gone by and a share of their
    # own: a signed-in caller's hour is the database's now at the earliest, and the share the
    # processes publish (two). Its two of this hour (or of the next, when it ended meanwhile).
    since = await admin_conn.fetchval("select date_trunc('hour', now(), 'UTC')")
    for _ in range(3):
        await _as_clinician(
            admin_conn,
            clinician,
            "select public.take_priority_zero($1, $2, 1000, $2)",
            org["id"],
            long_ago,
        )
    past_or_over = await admin_conn.fetchval(
        "select count(*) from api_priority_zero_hours"
        " where organization_id = $1 and (hour < $2 or messages > 2)",
        org["id"],
        since,
    )
    assert past_or_over == 0
