"""A message's default expiry has one SQL place, held equal to the dispatcher's.

``public.dose_prompt_window_end`` (which decides whether the dashboard's and the API's Re-send
may copy a failed dose reminder or follow-up) repeated ``scheduler/expiry.py``'s windows as
literals. It now reads ``public.message_default_expiry`` (migration 20260101017940), and this
test ties that function to ``DEFAULT_EXPIRY`` and ``FALLBACK_EXPIRY`` for every message kind, and
the window Re-send reads to the one the dispatcher expires a row by.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from core.records import MessageKind
from scheduler.expiry import DEFAULT_EXPIRY, FALLBACK_EXPIRY, expiry_time
from tests import factories

AT = datetime(2026, 3, 8, 9, 30, tzinfo=UTC)


async def test_every_kind_expires_after_the_dispatchers_window(
    admin_conn: asyncpg.Connection,
) -> None:
    kinds = [str(kind) for kind in MessageKind]
    assert set(DEFAULT_EXPIRY) <= set(kinds), "a default for a kind no message has"
    in_sql = dict(
        await admin_conn.fetch(
            "select k, public.message_default_expiry(k) from unnest($1::text[]) k", kinds
        )
    )
    assert in_sql == {kind: DEFAULT_EXPIRY.get(kind, FALLBACK_EXPIRY) for kind in kinds}


async def test_resend_reads_the_window_the_dispatcher_expires_by(
    admin_conn: asyncpg.Connection,
) -> None:
    org = await factories.create_organization(admin_conn)
    number = f"+1415555{uuid.uuid4().int % 10000:04d}"
    patient = await factories.create_patient(admin_conn, org["id"], contacts={"sms": number})
    _, schedule = await factories.create_medication(admin_conn, patient["id"])
    for hour, kind in enumerate(("medication_reminder", "dose_followup")):
        due = AT + timedelta(hours=hour)
        row = await factories.create_dose_reminder(
            admin_conn, schedule, due, kind=kind, status="failed", expires_at=None
        )
        window_end = await admin_conn.fetchval(
            "select public.dose_prompt_window_end(m) from scheduled_messages m where id = $1",
            row["id"],
        )
        assert window_end == expiry_time(kind, due, None), kind
