"""The check right before each send, for many sends in one statement (scheduler.send_checks)."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import uuid
from datetime import time
from time import monotonic

import asyncpg

from core.db import Database
from core.records import MessageKind
from platforms.base import Channel
from scheduler.buckets import BucketSet
from scheduler.claims import Claim, ContactInfo, Outcome
from scheduler.delivery import CLAIM_READ_FRESH_SECONDS, Deliverer
from scheduler.delivery_results import DeliveryResult
from scheduler.dispatch_config import DispatcherConfig
from scheduler.send_checks import CATEGORY_READS_PAYLOAD, SendChecks
from tests import factories
from tests.dispatch.conftest import NOON
from tests.dispatch.recording import RecordingSender


def _claim(patient_id: uuid.UUID, kind: str = "medication_reminder") -> Claim:
    return Claim(
        id=uuid.uuid4(),
        patient_id=patient_id,
        lease_token=uuid.uuid4(),
        scheduled_time=NOON,
        platform="auto",
        kind=kind,
        attempts=1,
        max_attempts=5,
    )


async def _contact(conn: asyncpg.Connection, patient_id: uuid.UUID) -> uuid.UUID:
    contact: uuid.UUID = await conn.fetchval(
        "select id from contact_points where patient_id = $1", patient_id
    )
    return contact


async def test_sends_checked_together_each_get_their_own_verdict(
    admin_conn: asyncpg.Connection, db: Database
) -> None:
    fine, paused, opted_out, erased = [await factories.create_patient(admin_conn) for _ in range(4)]
    contacts = [await _contact(admin_conn, p["id"]) for p in (fine, paused, opted_out, erased)]
    claims = [_claim(p["id"]) for p in (fine, paused, opted_out, erased)]
    # What changed after the claim: a /pause, a STOP on the channel, an erasure.
    await admin_conn.execute(
        "update patients set reminders_paused = true where id = $1", paused["id"]
    )
    await admin_conn.execute(
        "update contact_points set opted_out_at = now() where id = $1", contacts[2]
    )
    await admin_conn.execute("delete from patients where id = $1", erased["id"])
    assert db.pool is not None
    checks = SendChecks(db.pool)

    verdicts = await asyncio.gather(
        *(checks(c, contact) for c, contact in zip(claims, contacts, strict=True))
    )

    assert checks.statements == 1  # four sends waiting at once: one statement
    go, held_paused, held_opted_out, held_erased = verdicts
    assert go is None
    assert held_paused is not None and held_paused.outcome.status == "cancelled"
    assert held_paused.outcome.id == claims[1].id
    assert held_opted_out is not None and held_opted_out.outcome.status == "pending"
    assert "opted out" in (held_opted_out.outcome.last_error or "")
    assert held_erased is not None and held_erased.outcome.status == "cancelled"
    assert held_erased.outcome.last_error == "patient deleted"
    # A send that comes later gets a fresh read of its own.
    await admin_conn.execute(
        "update patients set reminders_paused = false where id = $1", paused["id"]
    )
    assert await checks(claims[1], contacts[1]) is None
    assert checks.statements == 2


async def test_a_dose_answered_after_the_claim_stops_its_reminder(
    admin_conn: asyncpg.Connection, db: Database
) -> None:
    patient = await factories.create_patient(admin_conn)
    _, schedule = await factories.create_medication(admin_conn, patient["id"])
    dose = await factories.create_dose_event(admin_conn, schedule, NOON)
    claim = dataclasses.replace(_claim(patient["id"]), dose_event_id=dose["id"], dose_status="due")
    contact = await _contact(admin_conn, patient["id"])
    assert db.pool is not None
    checks = SendChecks(db.pool)
    assert await checks(claim, contact) is None  # unchanged since the claim: it goes
    await admin_conn.execute("update dose_events set status = 'taken' where id = $1", dose["id"])
    verdict = await checks(claim, contact)
    assert verdict is not None and verdict.outcome.status == "cancelled"
    assert verdict.outcome.last_error == "dose already taken"


async def test_a_database_that_cannot_answer_sends_nothing(
    admin_conn: asyncpg.Connection, db: Database
) -> None:
    patient = await factories.create_patient(admin_conn)
    contact = await _contact(admin_conn, patient["id"])
    assert db.pool is not None
    checks = SendChecks(db.pool)
    await db.pool.close()
    verdict = await checks(_claim(patient["id"]), contact)
    assert verdict is not None and verdict.outcome.status == "pending"
    assert "could not re-check" in (verdict.outcome.last_error or "")


async def test_a_send_right_after_its_claim_goes_on_the_claims_read() -> None:
    """The check is made for sends that start later than CLAIM_READ_FRESH_SECONDS after their
    claim's read (a rate limit's wait, a queue); one that starts at once goes on the claim's read
    without a statement of its own."""
    asked: list[uuid.UUID] = []

    async def paused_since(c: Claim, _contact: uuid.UUID | None) -> DeliveryResult | None:
        asked.append(c.id)
        return DeliveryResult(Outcome(c.id, c.lease_token, "cancelled", last_error="paused"))

    sender = RecordingSender(Channel.TELEGRAM)
    config = DispatcherConfig(quiet_start=time(0, 0), quiet_end=time(0, 0))
    deliverer = Deliverer(
        {Channel.TELEGRAM: sender},
        None,
        lambda: NOON,
        config,
        BucketSet({}, {}),
        random.Random(1),
        recheck=paused_since,
    )
    contact = ContactInfo(uuid.uuid4(), "telegram", "111", True)
    fresh, waited = (
        dataclasses.replace(
            _claim(uuid.uuid4(), kind="free_text"),
            message_content="Hello",
            channel_order=("telegram",),
            contacts=(contact,),
        )
        for _ in range(2)
    )

    now = monotonic()
    sent = await deliverer.deliver(fresh, now + 60, read_at=now)
    held = await deliverer.deliver(waited, now + 60, read_at=now - CLAIM_READ_FRESH_SECONDS - 0.1)

    assert sent.outcome.status == "sent" and len(sender.sends) == 1
    assert asked == [waited.id]  # only the send that started late was checked
    assert held.outcome.status == "cancelled" and held.outcome.last_error == "paused"


async def test_a_medicine_deleted_or_paused_after_the_claim_stops_its_reminder(
    admin_conn: asyncpg.Connection, db: Database
) -> None:
    """A snoozed reminder or a nag claimed before its medicine was deleted or paused (by the
    dashboard or the API, which leave the dose open, or by /meds) is not sent."""
    patient = await factories.create_patient(admin_conn)
    medication, schedule = await factories.create_medication(admin_conn, patient["id"])
    dose = await factories.create_dose_event(admin_conn, schedule, NOON)
    contact = await _contact(admin_conn, patient["id"])
    reminder, nag = (
        dataclasses.replace(
            _claim(patient["id"], kind=kind),
            dose_event_id=dose["id"],
            dose_status="due",
            medication_status="active",
        )
        for kind in ("medication_reminder", "dose_followup")
    )
    assert db.pool is not None
    checks = SendChecks(db.pool)
    assert await checks(reminder, contact) is None  # unchanged since the claim: it goes

    for status in ("deleted", "paused"):
        await admin_conn.execute(
            "update medications set status = $2 where id = $1", medication["id"], status
        )
        for claim in (reminder, nag):
            verdict = await checks(claim, contact)
            assert verdict is not None and verdict.outcome.id == claim.id
            assert verdict.outcome.status == "cancelled"
            assert verdict.outcome.last_error == f"medicine {status}"


async def test_a_claimed_caregiver_alert_is_stopped_by_what_lands_after_the_claim(
    admin_conn: asyncpg.Connection, db: Database
) -> None:
    """A missed-dose alert in flight: the caregiver's STOP puts it back unsent (the next claim
    ends it: no route to an opted-out caregiver); a late Taken or Skip, or the medicine deleted or
    paused, cancels it. The dose being missed is what the alert is about: that sends."""
    patient = await factories.create_patient(admin_conn)
    medication, schedule = await factories.create_medication(admin_conn, patient["id"])
    dose = await factories.create_dose_event(admin_conn, schedule, NOON)
    await admin_conn.execute("update dose_events set status = 'missed' where id = $1", dose["id"])
    caregiver = await admin_conn.fetchval(
        "insert into caregivers (patient_id, name, channel, address)"
        " values ($1, 'Sam', 'sms', '+15555550177') returning id",
        patient["id"],
    )
    alert = dataclasses.replace(
        _claim(patient["id"], kind="missed_dose_caregiver"),
        caregiver_id=caregiver,
        dose_event_id=dose["id"],
        dose_status="missed",
        medication_status="active",
    )
    assert db.pool is not None
    checks = SendChecks(db.pool)
    assert await checks(alert, caregiver) is None  # unchanged since the claim: it goes

    for status in ("taken", "skipped"):
        await admin_conn.execute(
            "update dose_events set status = $2 where id = $1", dose["id"], status
        )
        verdict = await checks(alert, caregiver)
        assert verdict is not None and verdict.outcome.status == "cancelled"
        assert verdict.outcome.last_error == f"dose already {status}"
    await admin_conn.execute("update dose_events set status = 'missed' where id = $1", dose["id"])

    for status in ("deleted", "paused"):
        await admin_conn.execute(
            "update medications set status = $2 where id = $1", medication["id"], status
        )
        verdict = await checks(alert, caregiver)
        assert verdict is not None and verdict.outcome.status == "cancelled"
        assert verdict.outcome.last_error == f"medicine {status}"
    await admin_conn.execute(
        "update medications set status = 'active' where id = $1", medication["id"]
    )
    assert await checks(alert, caregiver) is None

    await admin_conn.execute("update caregivers set opted_out_at = now() where id = $1", caregiver)
    verdict = await checks(alert, caregiver)
    assert verdict is not None and verdict.outcome.status == "pending"
    assert "opted out" in (verdict.outcome.last_error or "")


async def test_clinic_news_opted_out_after_the_claim_is_stopped_and_a_reminder_is_not(
    admin_conn: asyncpg.Connection, db: Database
) -> None:
    """The category of a free text is read from its payload (a clinic's news): the check sends
    that payload, and only that kind's (CATEGORY_READS_PAYLOAD)."""
    patient = await factories.create_patient(admin_conn)
    contact = await _contact(admin_conn, patient["id"])
    news = dataclasses.replace(
        _claim(patient["id"], "free_text"), payload={"category": "clinic_news"}
    )
    group = dataclasses.replace(_claim(patient["id"], "free_text"), payload={"group": "true"})
    # A reminder whose payload would read as news if its kind's category looked at it.
    reminder = dataclasses.replace(_claim(patient["id"]), payload={"category": "clinic_news"})
    await admin_conn.execute(
        "insert into patient_preferences (patient_id, category, patient_choice)"
        " values ($1, 'clinic_news', 'out')",
        patient["id"],
    )
    assert db.pool is not None
    verdicts = await SendChecks(db.pool).check(
        [(news, contact), (group, contact), (reminder, contact)]
    )

    held_news, held_group, reminder_goes = verdicts
    assert held_news is not None and held_news.outcome.status == "cancelled"
    assert held_group is not None and held_group.outcome.status == "cancelled"
    assert reminder_goes is None


async def test_only_the_kinds_the_check_sends_a_payload_for_read_it_for_their_category(
    admin_conn: asyncpg.Connection,
) -> None:
    """public.message_category reads the payload of CATEGORY_READS_PAYLOAD's kinds only: for any
    other kind the check may leave the payload out."""
    payloads = [{"category": "clinic_news"}, {"group": "true"}, {"category": "medication"}]
    for kind in MessageKind:
        with_payload = {
            await admin_conn.fetchval("select public.message_category($1, $2::jsonb)", kind, p)
            for p in payloads
        }
        without = await admin_conn.fetchval("select public.message_category($1, null)", kind)
        if kind in CATEGORY_READS_PAYLOAD:
            assert with_payload != {without}, kind
        else:
            assert with_payload == {without}, f"{kind}'s category reads its payload"
