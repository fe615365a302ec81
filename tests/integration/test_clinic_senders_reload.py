"""The web's provider accounts (scheduler.clinic_senders.ClinicSenders) reload one at a time.

The web reloads them when the database announces a change (NOTIFY) and after an account is saved
through it. Interleaved, a reload begun before an announcement that finished after one begun
since set the process back to "not current": every Twilio webhook then looked its account up in
the database until the next reload (tests/web/test_forged_twilio_costs_no_query.py timed out on
CI so), and the older reload's accounts could replace the newer ones.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from core.db import Database
from core.settings import Settings
from scheduler.clinic_senders import ClinicSenders


class _HeldFirstRead:
    """The database's pool, whose first ``fetchval`` waits until :attr:`released`: a reload that
    has begun (read what was announced) and waits on the database."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self.released = asyncio.Event()
        self._held = False

    async def fetchval(self, *args: Any, **kwargs: Any) -> Any:
        if not self._held:
            self._held = True
            await self.released.wait()
        return await self._pool.fetchval(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)


async def test_a_reload_begun_before_an_announcement_does_not_undo_one_begun_since(
    db: Database, settings: Settings
) -> None:
    assert db.pool is not None
    pool = _HeldFirstRead(db.pool)
    clinics = ClinicSenders(pool, settings, {}, None)
    try:
        first = asyncio.create_task(clinics.refresh())  # e.g. after an account was saved
        await asyncio.sleep(0.05)
        clinics.announce()  # the database's notice of the change
        second = asyncio.create_task(clinics.refresh())
        await asyncio.sleep(0.2)
        pool.released.set()
        await asyncio.gather(first, second)
        assert clinics.current
    finally:
        await clinics.aclose()
