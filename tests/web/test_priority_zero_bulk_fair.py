"""A clinic's bulk at API priority 0 no longer goes ahead of another clinic's dose reminder on the
shared bot: real ``medremind web`` and ``medremind worker`` processes, real PostgreSQL, the
loopback Bot API.

Clinic A posts a bulk of free-text messages at priority 0 through ``POST /api/v1/messages`` over
HTTP; clinic B's patient has a routine dose reminder (priority 1, as the planner writes it) due
with them. Before, the claim took the whole bulk first (priority 0 goes first, whichever clinic's)
and B's reminder was the bulk's length behind; now A's share of priority 0 per hour
(``MEDREMIND_API_PRIORITY_ZERO_PER_HOUR``) goes first, the rest at priority 5 after B's reminder.
Measured in messages the Bot API received before B's reminder, not in seconds.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time
from pathlib import Path

import asyncpg
import httpx

from core.db import Database
from tests import factories
from tests.fakes.fake_telegram import FakeTelegram
from tests.web.processes import StartWeb, clinic_key, kill, start_telegram_worker, until

BULK = 30
SHARE = 3
FIRST_CHAT = 830000000
REMINDED_CHAT = 840000001


async def test_a_clinics_priority_zero_bulk_leaves_another_clinics_reminder_its_place(
    database_url: str,
    tmp_path: Path,
    db: Database,
    admin_conn: asyncpg.Connection,
    web_process: StartWeb,
    fake_telegram: FakeTelegram,
) -> None:
    bulk_org, bulk_key = await clinic_key(db, admin_conn, "Bulk Clinic")
    other_org, _ = await clinic_key(db, admin_conn, "Other Clinic")
    patients = [
        await factories.create_patient(
            admin_conn, bulk_org["id"], contacts={"telegram": str(FIRST_CHAT + k)}
        )
        for k in range(BULK)
    ]
    reminded = await factories.create_patient(
        admin_conn, other_org["id"], contacts={"telegram": str(REMINDED_CHAT)}
    )
    _, schedule = await factories.create_medication(admin_conn, reminded["id"], times=(time(8, 0),))
    _, base = await web_process(MEDREMIND_API_PRIORITY_ZERO_PER_HOUR=str(SHARE))
    auth = {"Authorization": f"Bearer {bulk_key}"}
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        answers = [
            await http.post(
                "/api/v1/messages",
                json={"patient_id": str(p["id"]), "text": "Clinic newsletter", "priority": 0},
                headers=auth,
            )
            for p in patients
        ]
    assert {a.status_code for a in answers} == {201}, answers[0].text
    # Due with the bulk (after it: the claim orders equal priorities by time).
    await factories.create_dose_reminder(admin_conn, schedule, datetime.now(UTC), priority=1)

    worker = start_telegram_worker(
        database_url, tmp_path, fake_telegram, MEDREMIND_TELEGRAM_RATE="10"
    )
    try:

        async def all_sent() -> bool:
            return len(fake_telegram.sent_messages) >= BULK + 1

        await until("every message sent", all_sent, tmp_path / "worker.log")
    finally:
        worker.terminate()
        await asyncio.to_thread(worker.wait, 30)
        kill(worker)
    chats = [int(c.chat_id) for c in fake_telegram.sent_messages]
    assert sorted(chats) == sorted([FIRST_CHAT + k for k in range(BULK)] + [REMINDED_CHAT])
    ahead = chats.index(REMINDED_CHAT)
    # The share goes first (priority 0), then the reminder (1); before, all 30 went first. One
    # place of slack: a worker hands a claim over in order, but sends run side by side.
    assert ahead <= SHARE + 1, chats
    assert [a.json()["priority"] for a in answers] == [0] * SHARE + [5] * (BULK - SHARE)
