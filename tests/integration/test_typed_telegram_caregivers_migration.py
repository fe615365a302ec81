"""Which caregivers migration 20260101014300 holds: Telegram chat ids typed in before links.

A database migrated up to just before it holds a patient's Telegram caregiver typed in the
bot's old /settings (with an alert waiting for its delay), one whose own chat opened the
patient's link (caregiver_links, used), and an SMS and an e-mail caregiver. Migrated to the end:
only the typed one awaits a link, and its waiting alert is cancelled with the reason the
dashboard and the API show; the others keep theirs. The behaviour that follows (no alerts, the
patient sent a fresh link, the caregiver's chat opening it) is tests/web/test_caregiver_relink.py.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from core.migrate import MIGRATIONS_DIR, migrate
from tests.integration.partial_migrations import migrated_until

BEFORE = "20260101014200"


async def _caregiver(
    conn: asyncpg.Connection, patient: uuid.UUID, channel: str, address: str
) -> tuple[uuid.UUID, uuid.UUID]:
    caregiver = await conn.fetchval(
        "insert into caregivers (patient_id, name, channel, address) values ($1, 'C', $2, $3)"
        " returning id",
        patient,
        channel,
        address,
    )
    soon = datetime.now(UTC) + timedelta(minutes=30)
    alert = await conn.fetchval(
        "insert into scheduled_messages (patient_id, caregiver_id, scheduled_time, platform,"
        " kind, message_content, expires_at, idempotency_key)"
        " values ($1, $2, $3, $4, 'missed_dose_caregiver', null, $5, $6) returning id",
        patient,
        caregiver,
        soon,
        channel,
        soon + timedelta(hours=12),
        f"test:{caregiver}",
    )
    return caregiver, alert


async def test_only_telegram_caregivers_no_link_made_await_one(
    pg_admin_url: str, tmp_path: Path
) -> None:
    async with migrated_until(pg_admin_url, tmp_path, BEFORE) as conn:
        patient = await conn.fetchval(
            "insert into patients (display_name, channel_order) values ('Ana', '{sms}')"
            " returning id"
        )
        typed, typed_alert = await _caregiver(conn, patient, "telegram", "810999001")
        linked, linked_alert = await _caregiver(conn, patient, "telegram", "810999002")
        await conn.execute(
            "insert into caregiver_links (patient_id, token_hash, name, alert_delay_minutes,"
            " expires_at, used_at, caregiver_id)"
            " values ($1, repeat('a', 64), 'C', 30, now() + interval '7 days', now(), $2)",
            patient,
            linked,
        )
        _, sms_alert = await _caregiver(conn, patient, "sms", "+14155550161")
        _, email_alert = await _caregiver(conn, patient, "email", "c@example.org")

        await migrate(conn, MIGRATIONS_DIR)
        status = "select status, last_error from scheduled_messages where id = $1"
        row = await conn.fetchrow(status, typed_alert)
        assert row["status"] == "cancelled"
        assert "Telegram chat id was typed in" in row["last_error"]
        for alert in (linked_alert, sms_alert, email_alert):
            assert tuple(await conn.fetchrow(status, alert)) == ("pending", None)
        waiting = await conn.fetch(
            "select id from caregivers where awaiting_link_since is not null"
        )
        assert [r["id"] for r in waiting] == [typed]
