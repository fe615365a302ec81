"""Telegram groups registered as patients (or caregivers) before the webhook ignored them
(migration 20260101016700): their contact points and caregiver rows are switched off, saying
why; private chats and other channels are untouched, and a patient with no other channel is
reachable no more (the planner plans them nothing, as the dashboard and the API show)."""

from __future__ import annotations

import uuid
from pathlib import Path

import asyncpg

from core.migrate import MIGRATIONS_DIR, migrate
from tests.integration.partial_migrations import migrated_until

BEFORE = "20260101016600"


async def _patient(conn: asyncpg.Connection, contacts: dict[str, str]) -> uuid.UUID:
    patient: uuid.UUID = await conn.fetchval(
        "insert into patients (display_name, channel_order, consent_at) values ('Pat', $1, now())"
        " returning id",
        list(contacts),
    )
    for channel, address in contacts.items():
        await conn.execute(
            "insert into contact_points (patient_id, channel, address, verified)"
            " values ($1, $2, $3, true)",
            patient,
            channel,
            address,
        )
    return patient


async def test_group_chats_are_switched_off(pg_admin_url: str, tmp_path: Path) -> None:
    async with migrated_until(pg_admin_url, tmp_path, BEFORE) as conn:
        group = await _patient(conn, {"telegram": "-1001234567890"})
        group_and_sms = await _patient(conn, {"telegram": "-4455667", "sms": "+14155550140"})
        private = await _patient(conn, {"telegram": "820000001"})
        caregivers = {
            address: await conn.fetchval(
                "insert into caregivers (patient_id, name, channel, address)"
                " values ($1, 'Carer', 'telegram', $2) returning id",
                private,
                address,
            )
            for address in ("-1009876543210", "820000002")
        }

        applied = await migrate(conn, MIGRATIONS_DIR)
        assert "20260101016700_telegram_group_chats_are_no_patients.sql" in applied
        rows = {
            (r["patient_id"], r["channel"]): r
            for r in await conn.fetch("select * from contact_points")
        }
        off = rows[(group, "telegram")]
        assert off["active"] is False
        assert "Telegram group chat" in off["last_error"]
        assert rows[(group_and_sms, "telegram")]["active"] is False
        assert rows[(group_and_sms, "sms")]["active"] is True
        assert rows[(private, "telegram")]["active"] is True
        # What the planner asks of a patient not linked yet: a usable channel.
        reachable = "select public.patient_reachable($1)"
        assert await conn.fetchval(reachable, group) is False
        assert await conn.fetchval(reachable, group_and_sms) is True
        active = "select active from caregivers where id = $1"
        assert await conn.fetchval(active, caregivers["-1009876543210"]) is False
        assert await conn.fetchval(active, caregivers["820000002"]) is True
