"""A patient no channel can reach (STOP on their only channel, the bot blocked): their doses are
'unreachable', not missed, their caregiver hears once, and START brings reminders back with no
stale ones (migration 20260101013300). Real Postgres; the test plays the dispatcher and the bot
by writing the rows they write."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import asyncpg
import pytest

from core.db import Database
from core.settings import Settings
from scheduler.planner import run_planner_tick
from tests import factories
from tests.planner.conftest import mark_sent, messages

DUE = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
NOTICE = "patient_unreachable_caregiver"


def at(minutes: int) -> datetime:
    """``minutes`` after the 08:00 dose."""
    return DUE + timedelta(minutes=minutes)


@pytest.fixture
async def patient(db: Database, settings: Settings, admin_conn: asyncpg.Connection, org):
    """A Telegram-only patient with an SMS caregiver and doses at 08:00 and 20:00, planned at
    07:00, whom a message reached the day before (linked: migration 20260101013800)."""
    patient = await factories.create_patient(admin_conn, org["id"])
    await _reached(admin_conn, patient["id"], at(-24 * 60))
    await admin_conn.execute(
        """insert into caregivers (patient_id, name, channel, address, alert_delay_minutes)
           values ($1, 'Sam', 'sms', '+15555550100', 30)""",
        patient["id"],
    )
    await factories.create_medication(admin_conn, patient["id"], times=(time(8, 0), time(20, 0)))
    await run_planner_tick(db.pool, at(-60), settings)
    return patient


async def _clinic_patient(
    conn: asyncpg.Connection, organization_id, contacts: dict[str, str], times: tuple[time, ...]
):
    """A clinic's patient with these contact points (none linked: nothing reached them yet),
    an SMS caregiver and a medicine at ``times``."""
    patient = await factories.create_patient(conn, organization_id, contacts=contacts)
    await conn.execute(
        """insert into caregivers (patient_id, name, channel, address, alert_delay_minutes)
           values ($1, 'Sam', 'sms', '+15555550100', 30)""",
        patient["id"],
    )
    await factories.create_medication(conn, patient["id"], times=times)
    return patient


async def _reached(conn: asyncpg.Connection, patient_id, when: datetime) -> None:
    """A message reached the patient at ``when``: the dispatcher records it sent."""
    message = await factories.create_message(conn, patient_id, scheduled_time=when)
    await mark_sent(conn, message["id"], when)


async def _set_contact(conn: asyncpg.Connection, patient_id, **values) -> None:
    sets = ", ".join(f"{k} = ${i + 2}" for i, k in enumerate(values))
    await conn.execute(
        f"update contact_points set {sets} where patient_id = $1", patient_id, *values.values()
    )


async def _doses(conn: asyncpg.Connection, patient_id) -> dict[datetime, str]:
    rows = await conn.fetch(
        "select due_at, status from dose_events where patient_id = $1 order by due_at", patient_id
    )
    return {r["due_at"]: r["status"] for r in rows}


async def _notices(conn: asyncpg.Connection, patient_id) -> list[asyncpg.Record]:
    return await conn.fetch(
        """select * from scheduled_messages where patient_id = $1 and template = $2
            order by created_at""",
        patient_id,
        NOTICE,
    )


async def test_stop_on_the_only_channel_silences_doses_and_tells_the_caregiver_once(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection, patient
) -> None:
    pid = patient["id"]
    assert len(await messages(admin_conn, pid, "medication_reminder")) == 4
    # STOP at 07:30 (the bot's opt_out_contact): no channel left.
    await _set_contact(admin_conn, pid, opted_out_at=at(-30))
    row = await admin_conn.fetchrow("select unreachable_since from patients where id = $1", pid)
    assert row["unreachable_since"] is not None

    stats = await run_planner_tick(db.pool, at(-29), settings)
    assert (stats.doses_unreachable, stats.unreachable_notices) == (4, 1)
    notices = await _notices(admin_conn, pid)
    assert len(notices) == 1
    notice = notices[0]
    assert (notice["kind"], notice["platform"], notice["status"]) == (
        "missed_dose_caregiver",
        "sms",
        "pending",
    )
    assert notice["dose_event_id"] is None and notice["caregiver_id"] is not None
    assert notice["scheduled_time"] == at(1)  # alert_delay_minutes after the tick
    assert await messages(admin_conn, pid, "medication_reminder") == []
    cancelled = await messages(admin_conn, pid, "medication_reminder", "cancelled")
    assert {r["last_error"] for r in cancelled} == {"the patient cannot be reached"}
    assert set((await _doses(admin_conn, pid)).values()) == {"unreachable"}

    # Hours pass: nothing is missed, nobody is alerted per dose, nothing new is reminded.
    for minutes in (60, 120, 10 * 60):
        later = await run_planner_tick(db.pool, at(minutes), settings)
        assert (later.doses_missed, later.caregiver_alerts, later.reminders_created) == (0, 0, 0)
    statuses = await _doses(admin_conn, pid)
    assert "missed" not in statuses.values() and "due" not in statuses.values()
    alerts = await messages(admin_conn, pid, "missed_dose_caregiver", None)
    assert [a["template"] for a in alerts] == [NOTICE]

    # START at 19:00: the doses ahead are reminded again (20:00 on), the past ones stay.
    back = at(11 * 60)
    await mark_sent(admin_conn, notice["id"], at(0))
    await _set_contact(admin_conn, pid, opted_out_at=None)
    row = await admin_conn.fetchrow("select unreachable_since from patients where id = $1", pid)
    assert row["unreachable_since"] is None
    resumed = await run_planner_tick(db.pool, back, settings)
    assert resumed.reminders_created >= 1
    doses = await _doses(admin_conn, pid)
    assert all(s == "unreachable" for due, s in doses.items() if due <= back)
    assert all(s == "due" for due, s in doses.items() if due > back)
    pending = await messages(admin_conn, pid, "medication_reminder")
    assert pending and all(r["scheduled_time"] > back for r in pending)

    # STOP again within a day of the notice: no second one.
    await _set_contact(admin_conn, pid, opted_out_at=back)
    again = await run_planner_tick(db.pool, back + timedelta(minutes=1), settings)
    assert again.unreachable_notices == 0
    assert len(await _notices(admin_conn, pid)) == 1
    # A spell two days after the notice tells the caregiver again.
    await _set_contact(admin_conn, pid, opted_out_at=None)
    await _set_contact(admin_conn, pid, opted_out_at=back)
    later = await run_planner_tick(db.pool, at(3 * 24 * 60), settings)
    assert later.unreachable_notices == 1


async def test_start_before_the_notice_went_out_cancels_it(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection, patient
) -> None:
    pid = patient["id"]
    await _set_contact(admin_conn, pid, opted_out_at=at(-30))
    await run_planner_tick(db.pool, at(-30), settings)
    await _set_contact(admin_conn, pid, opted_out_at=None)
    [notice] = await _notices(admin_conn, pid)
    assert (notice["status"], notice["last_error"]) == (
        "cancelled",
        "the patient can be reached again",
    )
    stats = await run_planner_tick(db.pool, at(-29), settings)
    assert (stats.doses_unreachable, stats.unreachable_notices) == (0, 0)
    assert len(await messages(admin_conn, pid, "medication_reminder")) == 4


async def test_a_blocked_bot_found_by_the_reminder_makes_the_dose_unreachable_not_missed(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection, patient
) -> None:
    """The dispatcher finds the block when the 08:00 reminder is refused (403): it fails the
    reminder and marks the contact point blocked."""
    pid = patient["id"]
    reminder = (await messages(admin_conn, pid, "medication_reminder"))[0]
    await admin_conn.execute(
        "update scheduled_messages set status = 'failed', last_error = 'blocked' where id = $1",
        reminder["id"],
    )
    await _set_contact(admin_conn, pid, blocked_at=at(0), last_error="bot blocked")
    stats = await run_planner_tick(db.pool, at(1), settings)
    dose = await admin_conn.fetchrow(
        "select status from dose_events where id = $1", reminder["dose_event_id"]
    )
    assert dose["status"] == "unreachable"
    assert stats.doses_missed == 0
    after = await run_planner_tick(db.pool, at(120), settings)
    assert (after.doses_missed, after.caregiver_alerts) == (0, 0)
    assert [a["template"] for a in await messages(admin_conn, pid, "missed_dose_caregiver")] == [
        NOTICE
    ]


@pytest.mark.parametrize(
    ("lost", "back"),
    [
        # The 08:00 reminder refused with a 403: the dispatcher marks the chat blocked.
        ({"blocked_at": at(0), "last_error": "bot blocked"}, {"blocked_at": None}),
        # STOP at 07:59: the dispatcher fails the reminder (no channel left).
        ({"opted_out_at": at(-1)}, {"opted_out_at": None}),
    ],
    ids=["blocked", "stop"],
)
async def test_a_reminder_failed_while_unreachable_is_not_missed_after_a_late_start(
    db: Database,
    settings: Settings,
    admin_conn: asyncpg.Connection,
    patient,
    lost: dict[str, object],
    back: dict[str, object],
) -> None:
    """The 08:00 reminder fails while the patient is unreachable and no planner pass runs before
    they come back (START, or writing to the bot after unblocking it) at 09:30, past the dose's
    missed mark (09:00). Before, the pass after START found a reachable patient with an open
    dose past its mark: missed, and the caregiver alerted about a reminder nobody got."""
    pid = patient["id"]
    reminder = (await messages(admin_conn, pid, "medication_reminder"))[0]
    await _set_contact(admin_conn, pid, **lost)
    await admin_conn.execute(
        "update scheduled_messages set status = 'failed', last_error = 'unreachable' where id = $1",
        reminder["id"],
    )
    await _set_contact(admin_conn, pid, **back)
    stats = await run_planner_tick(db.pool, at(90), settings)
    dose = await admin_conn.fetchrow(
        "select status from dose_events where id = $1", reminder["dose_event_id"]
    )
    assert (dose["status"], stats.doses_missed, stats.caregiver_alerts) == ("unreachable", 0, 0)
    later = await run_planner_tick(db.pool, at(180), settings)
    assert (later.doses_missed, later.caregiver_alerts) == (0, 0)
    assert await messages(admin_conn, pid, "missed_dose_caregiver", None) == []
    # The 20:00 dose is reminded as usual.
    pending = await messages(admin_conn, pid, "medication_reminder")
    assert pending[0]["scheduled_time"] == at(12 * 60)


async def test_a_dose_reminded_before_the_stop_is_missed_without_a_caregiver_alert(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection, patient
) -> None:
    pid = patient["id"]
    reminder = (await messages(admin_conn, pid, "medication_reminder"))[0]
    await mark_sent(admin_conn, reminder["id"], DUE)
    first = await run_planner_tick(db.pool, at(1), settings)
    assert first.followups_created == 3
    await _set_contact(admin_conn, pid, opted_out_at=at(5))
    await run_planner_tick(db.pool, at(6), settings)
    assert await messages(admin_conn, pid, "dose_followup") == []
    missed = await run_planner_tick(db.pool, at(60), settings)
    assert (missed.doses_missed, missed.caregiver_alerts) == (1, 0)
    alerts = await messages(admin_conn, pid, "missed_dose_caregiver")
    assert [a["template"] for a in alerts] == [NOTICE]


async def test_no_notice_for_a_caregiver_who_opted_out_or_a_paused_patient(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection, patient
) -> None:
    pid = patient["id"]
    await admin_conn.execute(
        "update caregivers set opted_out_at = now() where patient_id = $1", pid
    )
    await _set_contact(admin_conn, pid, opted_out_at=at(-30))
    await run_planner_tick(db.pool, at(-29), settings)
    assert await _notices(admin_conn, pid) == []
    other = await factories.create_patient(admin_conn, patient["organization_id"])
    await admin_conn.execute(
        """insert into caregivers (patient_id, name, channel, address)
           values ($1, 'Kim', 'sms', '+15555550101')""",
        other["id"],
    )
    await factories.create_medication(admin_conn, other["id"], times=(time(8, 0),))
    await admin_conn.execute(
        "update patients set reminders_paused = true where id = $1", other["id"]
    )
    await _set_contact(admin_conn, other["id"], active=False)
    await run_planner_tick(db.pool, at(-28), settings)
    assert await _notices(admin_conn, other["id"]) == []


async def test_a_patient_reachable_on_another_channel_is_reminded_as_before(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection, org
) -> None:
    patient = await factories.create_patient(
        admin_conn, org["id"], contacts={"telegram": "123456789", "sms": "+15555550142"}
    )
    await _reached(admin_conn, patient["id"], at(-24 * 60))
    await factories.create_medication(admin_conn, patient["id"], times=(time(8, 0),))
    await admin_conn.execute(
        "update contact_points set opted_out_at = now() where patient_id = $1 and channel = 'sms'",
        patient["id"],
    )
    row = await admin_conn.fetchrow(
        "select unreachable_since from patients where id = $1", patient["id"]
    )
    assert row["unreachable_since"] is None
    stats = await run_planner_tick(db.pool, at(-60), settings)
    assert stats.doses_unreachable == 0 and stats.reminders_created >= 1
    # Dropping the last usable channel from the order makes them unreachable too.
    await admin_conn.execute(
        "update patients set channel_order = '{sms}' where id = $1", patient["id"]
    )
    row = await admin_conn.fetchrow(
        "select unreachable_since from patients where id = $1", patient["id"]
    )
    assert row["unreachable_since"] is not None


async def test_a_patient_not_linked_yet_is_not_unreachable_until_they_lose_a_channel(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection, org
) -> None:
    """A clinic registers a patient who is to link Telegram by an invite link: no contact point
    yet. Before, the insert itself made them unreachable, so their caregiver was told they "can
    no longer be reached (they turned messages off or blocked them)" about someone nobody had
    ever reached. Until they link, nothing is sent, nothing is missed and nobody is told; once
    linked and then lost (STOP), the rule applies as to everyone."""
    patient = await _clinic_patient(admin_conn, org["id"], {}, (time(8, 0), time(20, 0)))
    pid = patient["id"]
    state = "select unreachable_since, linked_at from patients where id = $1"
    assert tuple(await admin_conn.fetchrow(state, pid)) == (None, None)

    first = await run_planner_tick(db.pool, at(-60), settings)
    assert first.unreachable_notices == 0 and first.reminders_created == 0
    # No reminder can go: the doses are recorded as not reminded, never missed.
    assert set((await _doses(admin_conn, pid)).values()) == {"unreachable"}
    for minutes in (60, 120, 10 * 60):
        later = await run_planner_tick(db.pool, at(minutes), settings)
        assert (later.doses_missed, later.caregiver_alerts, later.unreachable_notices) == (0, 0, 0)
    assert await messages(admin_conn, pid, "missed_dose_caregiver", None) == []

    # The patient opens the invite link at 19:00: their chat is a contact point, doses ahead
    # are reminded. Linked once something reaches them (migration 20260101013800): the bot
    # links them as they register; here the 20:00 reminder sent does.
    back = at(11 * 60)
    await admin_conn.execute(
        """insert into contact_points (patient_id, channel, address, verified)
           values ($1, 'telegram', '700100200', true)""",
        pid,
    )
    assert tuple(await admin_conn.fetchrow(state, pid)) == (None, None)
    linked = await run_planner_tick(db.pool, back, settings)
    assert linked.reminders_created >= 1 and linked.unreachable_notices == 0
    doses = await _doses(admin_conn, pid)
    assert all(s == "due" for due, s in doses.items() if due > back)
    reminder = (await messages(admin_conn, pid, "medication_reminder"))[0]
    await mark_sent(admin_conn, reminder["id"], at(12 * 60))
    assert (await admin_conn.fetchrow(state, pid))["linked_at"] == at(12 * 60)
    back = at(12 * 60)

    # A STOP afterwards loses the channel they had: unreachable, the caregiver told once.
    await _set_contact(admin_conn, pid, opted_out_at=back)
    assert (await admin_conn.fetchrow(state, pid))["unreachable_since"] is not None
    lost = await run_planner_tick(db.pool, back + timedelta(minutes=1), settings)
    assert lost.unreachable_notices == 1


async def test_a_wrong_number_typed_by_the_clinic_is_not_linked_nor_unreachable(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection, org
) -> None:
    """The clinic types a number the carrier refuses at the first reminder (Twilio 21211: the
    dispatcher fails the reminder and makes the contact point inactive). Before, the number
    "linked" the patient at its insert, so the refusal made them unreachable and the caregiver
    was told they "turned messages off or blocked them" about someone nothing ever reached. Now
    they are not linked: nobody is told, nothing is missed; the number fixed, the next reminder
    reaches them and links them, and losing that channel is then unreachable as for anyone."""
    patient = await _clinic_patient(
        admin_conn, org["id"], {"sms": "+15555550177"}, (time(8, 0), time(20, 0))
    )
    pid = patient["id"]
    state = "select unreachable_since, linked_at from patients where id = $1"
    assert tuple(await admin_conn.fetchrow(state, pid)) == (None, None)
    # Not linked, but a reminder can go: that is how the first one reaches them.
    planned = await run_planner_tick(db.pool, at(-60), settings)
    assert planned.reminders_created == 4 and planned.doses_unreachable == 0

    # 08:00: the carrier refuses the number.
    reminder = (await messages(admin_conn, pid, "medication_reminder"))[0]
    await admin_conn.execute(
        """update scheduled_messages set status = 'failed',
                  last_error = 'invalid ''To'' phone number' where id = $1""",
        reminder["id"],
    )
    await _set_contact(admin_conn, pid, active=False, last_error="invalid 'To' phone number")
    assert tuple(await admin_conn.fetchrow(state, pid)) == (None, None)
    for minutes in (1, 120, 10 * 60):
        later = await run_planner_tick(db.pool, at(minutes), settings)
        assert (later.doses_missed, later.caregiver_alerts, later.unreachable_notices) == (0, 0, 0)
    assert await messages(admin_conn, pid, "missed_dose_caregiver", None) == []
    doses = await _doses(admin_conn, pid)
    assert doses[DUE] == "unreachable" and "missed" not in doses.values()

    # 18:00: the clinic fixes the number; the 20:00 reminder goes and reaches them.
    await admin_conn.execute(
        "update contact_points set address = '+15555550178', active = true, last_error = null"
        " where patient_id = $1",
        pid,
    )
    fixed = await run_planner_tick(db.pool, at(10 * 60), settings)
    assert fixed.reminders_created >= 1
    evening = (await messages(admin_conn, pid, "medication_reminder"))[0]
    assert evening["scheduled_time"] == at(12 * 60)
    await mark_sent(admin_conn, evening["id"], at(12 * 60))
    assert (await admin_conn.fetchrow(state, pid))["linked_at"] == at(12 * 60)

    # Linked, the number then refused (or STOP): unreachable, the caregiver told once.
    await _set_contact(admin_conn, pid, opted_out_at=at(12 * 60 + 5))
    assert (await admin_conn.fetchrow(state, pid))["unreachable_since"] is not None
    lost = await run_planner_tick(db.pool, at(12 * 60 + 6), settings)
    assert lost.unreachable_notices == 1


async def test_linked_while_no_channel_is_usable_is_unreachable_at_once(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection, org
) -> None:
    """The link comes after the channel went (a STOP that is the patient's first message: the
    STOP is recorded, then the message links them): the rule applies at once."""
    patient = await _clinic_patient(admin_conn, org["id"], {"sms": "+15555550179"}, (time(8, 0),))
    pid = patient["id"]
    await _set_contact(admin_conn, pid, opted_out_at=at(-60))
    state = (
        "select unreachable_since is not null, linked_at is not null from patients where id = $1"
    )
    assert tuple(await admin_conn.fetchrow(state, pid)) == (False, False)
    await admin_conn.execute("update patients set linked_at = $2 where id = $1", pid, at(-60))
    assert tuple(await admin_conn.fetchrow(state, pid)) == (True, True)
    stats = await run_planner_tick(db.pool, at(-59), settings)
    assert stats.unreachable_notices == 1
