"""Waitlist hours that cross midnight: a window whose end is before its start is overnight.

Found in the dashboard: "From 23:30 Until 01:00" was refused ("the earliest time must be before
the latest"), and since the hours are the patient's own, a patient in St John's could not wait
for a Kathmandu clinic's mornings (09:30 in Kathmandu is 00:15 in St John's in January). Now the
API, the database (migration 20260101019470) and the planner's match (core/sql/waitlist.sql
``fitting_entries``) take it as from the start on one day until the end on the next; the part
after midnight is the day's the window started on (its weekday is the one ``days_of_week``
names). Equal ends stay refused, saying why.

Real paths: ``POST /api/v1/waitlist`` and the cancelling ``POST .../cancel`` on the web app at
an injected clock, the worker's dispatcher sending the offer on the loopback Telegram; and the
match itself against a model of the rule, over windows and slots in zones an hour's fraction
off UTC, through a daylight-saving change (Chatham's, 4 April 2027).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg

from core.sql import query
from tests import factories
from tests.web.worker_day import ClinicDay, telegram_to

# Tuesday 12 January 2027, 09:30 in Kathmandu (UTC+5:45) is 00:15 that Tuesday in St John's
# (NST, UTC-3:30): the small hours of Monday night there.
STARTS = datetime(2027, 1, 12, 3, 45, tzinfo=UTC)
BOOKED = datetime(2027, 1, 5, 12, 0, tzinfo=UTC)
MONDAY, TUESDAY = 1, 2


async def _patient(clinic: ClinicDay, timezone: str, chat: int) -> UUID:
    patient = await factories.create_patient(
        clinic.conn,
        clinic.org["id"],
        timezone=timezone,
        contacts={"telegram": str(chat)},
        consent_at=BOOKED - timedelta(days=30),
    )
    patient_id: UUID = patient["id"]
    return patient_id


async def test_a_st_johns_patient_waits_overnight_for_a_kathmandu_morning(
    clinic: ClinicDay,
) -> None:
    await clinic.conn.execute(
        "update organizations set name = 'Kathmandu Care', timezone = 'Asia/Kathmandu',"
        " default_quiet_start = '00:00', default_quiet_end = '00:00' where id = $1",
        clinic.org["id"],
    )
    clinic.day.clock.now = BOOKED
    cancelling = await _patient(clinic, "Asia/Kathmandu", 7_420_000)
    waiting: dict[str, UUID] = {}
    for name, chat, body in (
        # Monday night 22:30 until Tuesday 03:00 in St John's: holds Tuesday 00:15-00:45.
        (
            "monday night",
            7_420_001,
            {"days_of_week": [MONDAY], "earliest": "22:30", "latest": "03:00"},
        ),
        # Tuesday night: starts 22:30 on Tuesday, after the slot.
        (
            "tuesday night",
            7_420_002,
            {"days_of_week": [TUESDAY], "earliest": "22:30", "latest": "03:00"},
        ),
        # Overnight, any day, but over by 00:30: the slot ends at 00:45.
        ("short night", 7_420_003, {"earliest": "23:00", "latest": "00:30"}),
        # A day's evening, 18:00-23:59: the slot is in the small hours, of no evening.
        ("evening", 7_420_004, {"earliest": "18:00", "latest": "23:59"}),
    ):
        waiting[name] = await _patient(clinic, "America/St_Johns", chat)
        joined = await clinic.web.post(
            "/api/v1/waitlist",
            json={"patient_id": str(waiting[name]), **body},
            headers=clinic.auth,
        )
        assert joined.status_code == 201, (name, joined.text)
        assert (joined.json()["earliest"], joined.json()["latest"]) == (
            body["earliest"],
            body["latest"],
        )

    # Equal ends: no time, or the whole day; refused naming Until and what to do instead.
    same = await factories.create_patient(clinic.conn, clinic.org["id"])
    refused = await clinic.web.post(
        "/api/v1/waitlist",
        json={"patient_id": str(same["id"]), "earliest": "09:00", "latest": "09:00"},
        headers=clinic.auth,
    )
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["field"] == "latest" and "the same time as earliest" in error["reason"], error
    assert "leave both out for any hour" in error["reason"], error
    assert (
        await clinic.conn.fetchval(
            "select count(*) from waitlist_entries where patient_id = $1", same["id"]
        )
        == 0
    )

    booked = await clinic.web.post(
        "/api/v1/appointments",
        json={
            "patient_id": str(cancelling),
            "starts_at": STARTS.isoformat(),
            "duration_minutes": 30,
        },
        headers=clinic.auth,
    )
    assert booked.status_code == 201, booked.text
    cancelled = await clinic.web.post(
        f"/api/v1/appointments/{booked.json()['id']}/cancel", headers=clinic.auth
    )
    assert cancelled.status_code == 200, cancelled.text
    await clinic.day.at(BOOKED)

    offered = await clinic.conn.fetch(
        "select patient_id from slot_offer_recipients order by created_at"
    )
    assert [r["patient_id"] for r in offered] == [waiting["monday night"]]
    (offer,) = telegram_to(clinic.telegram, 7_420_001)
    assert "09:30 Kathmandu time (00:15 your time)" in offer, offer
    for chat in (7_420_002, 7_420_003, 7_420_004):
        assert telegram_to(clinic.telegram, chat) == []


# The rule, said once more in Python, for the match to be checked against.
def _fits(
    zone: str,
    days: list[int] | None,
    earliest: time | None,
    latest: time | None,
    starts: datetime,
    minutes: int,
) -> bool:
    """Does the slot [starts, starts + minutes) fit the window, in ``zone``'s wall clock?"""
    start = starts.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    end = (starts + timedelta(minutes=minutes)).astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    day = start.date()
    if earliest is not None and latest is not None and latest < earliest:
        if start.time() < latest:
            day -= timedelta(days=1)  # the small hours of the night before
        elif start.time() < earliest:
            return False
        if end > datetime.combine(day + timedelta(days=1), latest):
            return False
    else:
        if earliest is not None and start.time() < earliest:
            return False
        # Until alone: the end's time of day, as ever; a day's window: on that day.
        if latest is not None and earliest is None and end.time() > latest:
            return False
        if latest is not None and earliest is not None and end > datetime.combine(day, latest):
            return False
    return days is None or day.isoweekday() in days


ZONES = ("Pacific/Chatham", "America/St_Johns", "Asia/Kathmandu", "UTC")
HOURS = (
    None,
    time(0, 0),
    time(0, 30),
    time(3, 0),
    time(9, 0),
    time(12, 45),
    time(22, 30),
    time(23, 59),
)


async def test_the_match_keeps_the_rule_across_midnight_and_zones(
    admin_conn: asyncpg.Connection, org: asyncpg.Record
) -> None:
    """Entries of many windows (overnight, same-day, one bound, none) and days, in four zones;
    slots every which way over a week around Chatham's clock change: the planner's match offers
    exactly the entries the rule fits (seeded, so a failure repeats)."""
    rng = random.Random(20260101019470)
    entries: dict[UUID, tuple[str, list[int] | None, time | None, time | None]] = {}
    for _ in range(48):
        zone = rng.choice(ZONES)
        earliest, latest = rng.choice(HOURS), rng.choice(HOURS)
        if earliest is not None and earliest == latest:
            latest = None
        days = sorted(rng.sample(range(1, 8), rng.randint(1, 3))) if rng.random() < 0.6 else None
        patient = await factories.create_patient(admin_conn, org["id"], timezone=zone)
        entry = await admin_conn.fetchval(
            "insert into waitlist_entries (organization_id, patient_id, days_of_week, earliest,"
            " latest) values ($1, $2, $3, $4, $5) returning id",
            org["id"],
            patient["id"],
            days,
            earliest,
            latest,
        )
        entries[entry] = (zone, days, earliest, latest)
    nobody = (await factories.create_patient(admin_conn, org["id"]))["id"]
    week = datetime(2027, 4, 1, tzinfo=UTC)
    checked = 0
    for _ in range(120):
        starts = week + timedelta(minutes=15 * rng.randrange(7 * 96))
        minutes = rng.choice((15, 30, 90, 300))
        rows = await admin_conn.fetch(
            query("waitlist", "fitting_entries"), org["id"], nobody, starts, minutes, 100
        )
        fitting = {r["id"] for r in rows}
        expected = {
            e
            for e, (zone, days, lo, hi) in entries.items()
            if _fits(zone, days, lo, hi, starts, minutes)
        }
        assert fitting == expected, (starts, minutes, fitting ^ expected)
        checked += len(expected)
    assert checked > 200  # the slots did fit some windows, overnight ones among them


def test_the_rule_as_said_in_the_docs() -> None:
    """The model's own examples: Monday 23:30-01:00 holds Tuesday 00:15, not Monday's."""
    night = ("UTC", [MONDAY], time(23, 30), time(1, 0))
    tuesday = datetime.combine(date(2027, 1, 12), time(0, 15), tzinfo=UTC)
    assert _fits(*night, tuesday, 30)
    assert not _fits(*night, tuesday, 60)  # ends 01:15
    assert not _fits(*night, tuesday + timedelta(days=1), 30)  # Wednesday 00:15: Tuesday's night
    assert _fits(*night, tuesday - timedelta(minutes=30), 30)  # Monday 23:45
    assert not _fits("UTC", None, time(9, 0), time(17, 0), tuesday - timedelta(hours=8), 1440)
