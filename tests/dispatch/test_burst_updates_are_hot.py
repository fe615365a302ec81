"""A burst of reminders due at one instant (written together, so neighbours on their pages) is
claimed and recorded without an index entry: every update of the wide row is HOT, the record's
too, although it stores the text sent (about 160 characters) on rows that had none
(migration 20260101013400: scheduled_messages' fillfactor leaves a page room for both versions)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from scheduler.claims import AttemptRow, Outcome, claim, record
from tests import factories

NOW = datetime(2026, 3, 4, 8, 0, tzinfo=UTC)
# A rendered reminder as long as a real one with a medicine, a dose and an instruction.
TEXT = (
    "Hola Ana, es hora de tomar Metformina 850 mg (1 comprimido) con el desayuno. "
    "Responde 1 si la tomaste, 2 para recordarte en 10 minutos, 3 para omitir esta dosis."
)
# Every update of the table so far: this backend's counts not yet sent to the statistics plus the
# counts sent. The pending ones alone were read before, and a backend sends them at a transaction's
# end at most once a second, which zeroed them between the claim and the record whenever a second
# passed (a slow machine, a record after a slow provider): that read as "not HOT", wrongly.
COUNTS = (
    "select pg_stat_get_xact_tuples_updated('scheduled_messages'::regclass)"
    "        + pg_stat_get_tuples_updated('scheduled_messages'::regclass),"
    "       pg_stat_get_xact_tuples_hot_updated('scheduled_messages'::regclass)"
    "        + pg_stat_get_tuples_hot_updated('scheduled_messages'::regclass)"
)
# The sent counts read afresh by each statement, not from a snapshot cached in the transaction.
FRESH_COUNTS = "set stats_fetch_consistency = none"


async def _updates(conn: asyncpg.Connection) -> tuple[int, int]:
    """Rows updated, and of them HOT, so far."""
    row = await conn.fetchrow(COUNTS)
    assert row is not None
    return row[0], row[1]


# 0: the record right after its claim, as in a burst; 1.5 s: after a slow provider, with the
# claim's dead versions older than a statistics report.
@pytest.mark.parametrize("provider_seconds", [0.0, 1.5])
# quiet_server: the next test's database is cloned beside a test, and that session's snapshot
# would keep the claim's dead versions on their pages (PostgreSQL's pruning horizon), as any
# long query on a production server does; measured here is the record on a quiet one.
@pytest.mark.usefixtures("quiet_server")
async def test_a_bursts_claims_and_records_add_no_index_entries(
    admin_conn: asyncpg.Connection, provider_seconds: float
) -> None:
    conn = admin_conn
    await conn.execute(FRESH_COUNTS)
    patient = await factories.create_patient(conn)
    n = 120  # several pages' worth
    # As the planner writes a morning's reminders: one statement, an idempotency key each, no
    # text of their own (rendered at the send).
    await conn.execute(
        "insert into scheduled_messages"
        " (patient_id, kind, message_content, scheduled_time, idempotency_key, platform)"
        " select $1, 'medication_reminder', null, $2, 'dose:' || gen_random_uuid() || ':reminder',"
        "        'auto'"
        "   from generate_series(1, $3)",
        patient["id"],
        NOW - timedelta(seconds=1),
        n,
    )
    assert len(TEXT) >= 150
    # Each in its own transaction, as the worker's: the record's page reuses the room its
    # claim's committed update left dead.
    before = await _updates(conn)
    async with conn.transaction():
        claims = await claim(
            conn, now=NOW, limit=n, worker=f"worker-{uuid.uuid4()}", lease_seconds=60
        )
        assert len(claims) == n
    claimed = await _updates(conn)
    assert (claimed[0] - before[0], claimed[1] - before[1]) == (n, n)
    await asyncio.sleep(provider_seconds)
    outcomes, attempts = [], []
    for i, c in enumerate(claims):
        sid = f"SM{uuid.uuid4().hex}"  # a Twilio message id's length
        outcomes.append(
            Outcome(
                c.id,
                c.lease_token,
                "sent",
                sent_at=NOW,
                provider_message_id=sid,
                channel_used="sms",
                channels_tried=("sms",),
                rendered_text=f"{TEXT} {i}",
            )
        )
        attempts.append(AttemptRow(c.id, NOW, "sent", "sms", provider_message_id=sid))
    async with conn.transaction():
        assert len(await record(conn, outcomes, attempts)) == n
    recorded = await _updates(conn)
    assert (recorded[0] - claimed[0], recorded[1] - claimed[1]) == (n, n)
    assert (
        await conn.fetchval(
            "select count(*) from scheduled_messages where message_content like 'Hola Ana,%'"
        )
        == n
    )
