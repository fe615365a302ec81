"""The worker's day for the web tests of caregivers and their alerts: the planner's pass and the
dispatcher's at each instant of the injected clock, what reached a number or a chat on the
loopback Twilio and Telegram as read, and a caregiver alerted by SMS.

Shared by tests/web/test_caregiver_opt_out.py, test_caregiver_relink.py,
test_unreachable_return_by_clinic.py and test_planned_caregiver_alerts.py (the fixture ``day`` is
registered in tests/web/conftest.py), and ``clinic``: all that a test of a clinic's patient, their
caregivers and the worker at one clock takes, in one fixture; ``madrid``: that clinic in Madrid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg
import httpx
import pytest

from core.db import Database
from core.settings import Settings
from scheduler.planner import run_planner_tick
from tests.fakes.fake_telegram import FakeTelegram
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import START, Clock, worker


def plain(text: str | None) -> str:
    """The text as read: CLDR's narrow space before PM a space, Telegram's <b> marks gone."""
    return re.sub(r"</?b>", "", (text or "").replace("\u202f", " "))


def sms_to(twilio: FakeTwilio, number: str) -> list[str]:
    """Every SMS to ``number`` so far, as read."""
    return [plain(m.body) for m in twilio.messages if m.to == number]


def telegram_to(telegram: FakeTelegram, chat: int) -> list[str]:
    """Every Telegram message to ``chat`` so far, as read."""
    return [plain(c.text) for c in telegram.sent_messages if c.chat_id == chat]


async def sms_caregiver(conn: asyncpg.Connection, patient_id: UUID, name: str, number: str) -> UUID:
    """A caregiver of the patient by SMS, alerted as soon as a dose is missed."""
    caregiver_id: UUID = await conn.fetchval(
        "insert into caregivers (patient_id, name, channel, address, alert_delay_minutes)"
        " values ($1, $2, 'sms', $3, 0) returning id",
        patient_id,
        name,
        number,
    )
    return caregiver_id


class Day:
    """The worker at work: at each instant the planner's pass, then the dispatcher's."""

    def __init__(self, db: Database, senders: dict, clock: Clock, settings: Settings) -> None:
        self.db, self.senders, self.clock, self.settings = db, senders, clock, settings

    async def at(self, when: datetime) -> None:
        self.clock.now = when
        assert self.db.pool is not None
        await run_planner_tick(self.db.pool, when, self.settings)
        await worker(self.db, self.senders, self.clock).run_once()

    async def miss_a_day(self, day: int) -> None:
        """Day ``day``'s noon doses reminded, not answered, missed; the alerts go out."""
        noon = START + timedelta(days=day, minutes=10)
        await self.at(noon)
        await self.at(noon + timedelta(minutes=16))  # missed, alerts planned
        await self.at(noon + timedelta(minutes=17))  # alerts sent


async def worker_passes(day: Day, span: timedelta) -> None:
    """The worker's passes as a worker ticking every minute makes them, up to ``span`` ahead
    of ``day``'s clock: at each pending message's time and at least every 15 minutes."""
    assert day.db.pool is not None
    target = day.clock.now + span
    for _ in range(100):
        upcoming = await day.db.pool.fetchval(
            "select min(scheduled_time) from scheduled_messages"
            " where status = 'pending' and scheduled_time > $1",
            day.clock.now,
        )
        step = day.clock.now + timedelta(minutes=15)
        await day.at(min(step if upcoming is None else min(step, upcoming), target))
        if day.clock.now >= target:
            return


@pytest.fixture
def day(db: Database, senders: dict, chat_clock: Clock, web_settings: Settings) -> Day:
    """The worker's day on the web app's database, senders, clock (``web``'s) and settings."""
    return Day(db, senders, chat_clock, web_settings)


@dataclass(frozen=True)
class ClinicDay:
    """A clinic (``org``, its API key's headers ``auth``), the web app ``web`` at the worker's
    clock, the worker's ``day``, the admin connection ``conn`` and the loopback providers."""

    web: httpx.AsyncClient
    auth: dict[str, str]
    day: Day
    conn: asyncpg.Connection
    org: asyncpg.Record
    twilio: FakeTwilio
    telegram: FakeTelegram


@pytest.fixture
def clinic(
    web: httpx.AsyncClient,
    auth: dict[str, str],
    day: Day,
    admin_conn: asyncpg.Connection,
    org: asyncpg.Record,
    fake_twilio: FakeTwilio,
    fake_telegram: FakeTelegram,
) -> ClinicDay:
    """:class:`ClinicDay` of the test's fixtures."""
    return ClinicDay(web, auth, day, admin_conn, org, fake_twilio, fake_telegram)


@pytest.fixture
async def madrid(clinic: ClinicDay) -> ClinicDay:
    """The test's clinic, Clínica Sol, in Madrid, with the default quiet hours (21:00-08:00)."""
    await clinic.conn.execute(
        "update organizations set name = 'Clínica Sol', timezone = 'Europe/Madrid',"
        " default_quiet_start = '21:00', default_quiet_end = '08:00' where id = $1",
        clinic.org["id"],
    )
    return clinic
