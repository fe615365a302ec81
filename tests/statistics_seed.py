"""Rows for the statistics tests (API and dashboard): one clinic's week of messages, doses and
appointments with known figures, plus rows that must not count (another clinic's, outside the
period). ``tests/web/test_api_statistics.py`` lists the figures they make."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from tests.factories import create_dose_event, create_medication, create_message, create_patient

BERLIN = ZoneInfo("Europe/Berlin")


class Seed:
    """The seeded clinic's period: seven Berlin days ending ten days ago (so every appointment
    in it has started, whatever the time of day the test runs)."""

    def __init__(self) -> None:
        today = datetime.now(BERLIN).date()
        self.first = today - timedelta(days=16)
        self.last = self.first + timedelta(days=6)

    def at(self, day: int, hour: int, minute: int = 0) -> datetime:
        """Berlin wall-clock time on the period's ``day`` (0-based), as an aware instant."""
        return datetime(
            self.first.year, self.first.month, self.first.day, hour, minute, tzinfo=BERLIN
        ) + timedelta(days=day)


async def _message(conn, patient, when, status, channel, **extra):
    sent = extra.pop("sent_after", None)
    delivered = extra.pop("delivered_after", None)
    return await create_message(
        conn,
        patient["id"],
        scheduled_time=when,
        status=status,
        platform="auto",
        channel_used=channel,
        sent_at=when + timedelta(seconds=sent) if sent is not None else None,
        delivered_at=when + timedelta(seconds=delivered) if delivered is not None else None,
        **extra,
    )


async def _appointment(conn, org, patient, starts_at, status="scheduled"):
    return await conn.fetchrow(
        "insert into appointments (organization_id, patient_id, starts_at, status)"
        " values ($1, $2, $3, $4) returning *",
        org["id"],
        patient["id"],
        starts_at,
        status,
    )


async def _confirmed_by_patient(conn, org, appointment, at):
    await conn.execute(
        "insert into audit_log (organization_id, actor, action, entity, entity_id, at)"
        " values ($1, 'patient', 'appointment.confirm', 'appointment', $2, $3)",
        org["id"],
        str(appointment["id"]),
        at,
    )


@dataclass
class Seeded:
    """The period and the appointments whose outcomes the test records (in this order)."""

    period: Seed
    outcomes: list[tuple[Any, str]] = field(default_factory=list)
    future: Any = None


async def seed_clinic_statistics(admin_conn: asyncpg.Connection, org: Any, other: Any) -> Seeded:
    """Seed ``org`` (its timezone becomes Europe/Berlin) and one row of ``other``."""
    await admin_conn.execute(
        "update organizations set timezone = 'Europe/Berlin' where id = $1", org["id"]
    )
    s = Seed()
    p1, p2, p3 = [await create_patient(admin_conn, org["id"]) for _ in range(3)]
    stranger = await create_patient(admin_conn, other["id"])

    # Doses: p1 3 taken + 1 missed (75 %), p2 1 taken, 1 skipped, 2 missed (25 %), p3 2 taken.
    _, sched1 = await create_medication(admin_conn, p1["id"])
    _, sched2 = await create_medication(admin_conn, p2["id"])
    _, sched3 = await create_medication(admin_conn, p3["id"])
    d_answered = await create_dose_event(
        admin_conn, sched1, s.at(0, 8), status="taken", answered_at=s.at(0, 8, 5)
    )
    await create_dose_event(admin_conn, sched1, s.at(1, 8), status="taken")
    await create_dose_event(admin_conn, sched1, s.at(2, 8), status="taken")
    d_missed = await create_dose_event(admin_conn, sched1, s.at(3, 8), status="missed")
    await create_dose_event(admin_conn, sched2, s.at(0, 8), status="taken")
    await create_dose_event(admin_conn, sched2, s.at(1, 8), status="skipped")
    await create_dose_event(admin_conn, sched2, s.at(2, 8), status="missed")
    # 00:30 in Berlin on day 3 is 23:30 UTC on day 2: it belongs to Berlin's day 3.
    await create_dose_event(admin_conn, sched2, s.at(3, 0, 30), status="missed")
    await create_dose_event(admin_conn, sched3, s.at(4, 8), status="taken")
    await create_dose_event(admin_conn, sched3, s.at(5, 8), status="taken")
    # Not counted: still due, cancelled, before the period, another clinic's.
    await create_dose_event(admin_conn, sched3, s.at(6, 8), status="due")
    await create_dose_event(admin_conn, sched3, s.at(6, 9), status="cancelled")
    await create_dose_event(admin_conn, sched3, s.at(-1, 8), status="missed")
    _, foreign = await create_medication(admin_conn, stranger["id"])
    await create_dose_event(admin_conn, foreign, s.at(2, 8), status="missed")

    # Appointments starting in the period; outcomes are recorded through the API below.
    a1 = await _appointment(admin_conn, org, p1, s.at(1, 10))  # reminded, confirmed: attended
    a2 = await _appointment(admin_conn, org, p2, s.at(2, 10))  # reminded, confirmed: no-show
    a8 = await _appointment(admin_conn, org, p2, s.at(2, 11))  # reminded, confirmed: attended
    a3 = await _appointment(admin_conn, org, p3, s.at(3, 10))  # reminded only: no-show
    a4 = await _appointment(admin_conn, org, p1, s.at(4, 10))  # reminded only: attended
    a5 = await _appointment(admin_conn, org, p2, s.at(5, 10))  # never reminded: no-show
    await _appointment(admin_conn, org, p3, s.at(5, 11), status="cancelled")
    future = await _appointment(
        admin_conn, org, p3, datetime.now(UTC) + timedelta(days=3), status="confirmed"
    )

    # Messages in the period: telegram 2 sent (10 s, 30 s) + 1 failed; SMS 1 delivered
    # (sent 5 s, delivered 65 s) + 1 expired; e-mail 1 cancelled.
    await _message(
        admin_conn, p1, s.at(0, 8), "sent", "telegram",
        sent_after=10, kind="medication_reminder", dose_event_id=d_answered["id"],
    )  # fmt: skip
    await _message(
        admin_conn, p1, s.at(3, 8), "sent", "telegram",
        sent_after=30, kind="medication_reminder", dose_event_id=d_missed["id"],
    )  # fmt: skip
    await _message(admin_conn, p2, s.at(3, 9), "failed", "telegram")
    await _message(
        admin_conn, p1, s.at(0, 10), "delivered", "sms",
        sent_after=5, delivered_after=65, kind="appointment_reminder", appointment_id=a1["id"],
    )  # fmt: skip
    await _message(admin_conn, p3, s.at(6, 12), "expired", "sms")
    await _message(admin_conn, p3, s.at(6, 13), "cancelled", "email")
    await _confirmed_by_patient(admin_conn, org, a1, s.at(0, 11))
    # Reminders of the other appointments went out before the period (not period messages).
    for appointment in (a2, a8, a3, a4):
        await _message(
            admin_conn, p2, s.at(-3, 9), "sent", "telegram",
            sent_after=1, kind="appointment_reminder", appointment_id=appointment["id"],
        )  # fmt: skip
    await _confirmed_by_patient(admin_conn, org, a2, s.at(-3, 10))
    await _confirmed_by_patient(admin_conn, org, a8, s.at(-3, 10))
    # Another clinic's message in the period.
    await _message(admin_conn, stranger, s.at(2, 9), "sent", "telegram", sent_after=1)

    return Seeded(
        s,
        [
            (a1, "attended"),
            (a2, "no_show"),
            (a8, "attended"),
            (a3, "attended"),  # a mistake, corrected next
            (a3, "no_show"),
            (a4, "attended"),
            (a5, "no_show"),
        ],
        future,
    )
