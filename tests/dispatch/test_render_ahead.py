"""Messages rendered before they are due (scheduler/render_ahead.py) are sent byte for byte as a
render at the send would have made them, and never when anything they were rendered from
changed since: a patient renamed, a medicine edited, a channel gone.

Real PostgreSQL, the worker's dispatcher with claims on a connection of their own (its patient
cache listening, as ``medremind worker`` runs it) and recording senders.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from core.db import Database
from core.templating import TemplateRenderer
from platforms.base import Channel, OutboundMessage
from scheduler.claim_cache import ClaimCache
from scheduler.claims import Claim
from scheduler.dispatch_config import DispatcherConfig
from scheduler.dispatcher import Dispatcher
from scheduler.render_ahead import RenderAhead, RenderedAhead
from scheduler.rendering import render_or_fallback
from tests import factories
from tests.dispatch.recording import RecordingSender
from tests.waiting import eventually

AHEAD_SECONDS = 6.0  # due this far ahead: a pass (one a second) renders it before it is due


@dataclasses.dataclass
class Worker:
    dispatcher: Dispatcher
    senders: dict[Channel, RecordingSender]
    running: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Run the dispatcher. Started after a test's messages are written: a pass that found
        the window empty moves past it, and a row written into it later is rendered at its send
        (the first test relies on that for its copies)."""
        self.running = asyncio.create_task(self.dispatcher.run())

    @property
    def ahead(self) -> RenderedAhead:
        held = self.dispatcher.rendered_ahead
        assert held is not None
        return held

    def sent(self) -> list[tuple[str, OutboundMessage]]:
        return [s for sender in self.senders.values() for s in sender.sends]


@pytest.fixture
async def worker(db: Database) -> AsyncIterator[Worker]:
    """A dispatcher as ``medremind worker`` has it (claims and patient cache on connections of
    their own, templates, the real clock), run by ``worker.start()``."""
    assert db.pool is not None
    senders = {ch: RecordingSender(ch) for ch in (Channel.TELEGRAM, Channel.SMS)}
    config = DispatcherConfig(
        worker_id="test-worker", platform_rates={}, recipient_rates={}, poll_seconds=0.2
    )
    dispatcher = Dispatcher(
        db.pool,
        dict(senders),
        TemplateRenderer(),
        lambda: datetime.now(UTC),
        config,
        connect=db.connect,
    )
    worker = Worker(dispatcher, senders)
    try:
        yield worker
    finally:
        if worker.running is not None:
            dispatcher.request_stop()
            await worker.running


async def _reminder(
    conn: asyncpg.Connection,
    due: datetime,
    contacts: dict[str, str],
    medicine: str = "Metformin",
    **patient: Any,
) -> tuple[asyncpg.Record, asyncpg.Record, asyncpg.Record]:
    """A patient, their medicine, a dose due at ``due`` and its reminder."""
    org = await factories.create_organization(conn)
    person = await factories.create_patient(conn, org["id"], contacts=contacts, **patient)
    medication, schedule = await factories.create_medication(conn, person["id"], name=medicine)
    dose = await factories.create_dose_event(conn, schedule, due)
    message = await _message(conn, person, dose, due)
    return person, medication, message


async def _message(
    conn: asyncpg.Connection, person: asyncpg.Record, dose: asyncpg.Record, due: datetime
) -> asyncpg.Record:
    return await factories.create_message(
        conn,
        person["id"],
        kind="medication_reminder",
        message_content=None,
        dose_event_id=dose["id"],
        scheduled_time=due,
    )


async def test_a_reminder_rendered_ahead_is_sent_as_a_render_at_the_send_makes_it(
    admin_conn: asyncpg.Connection, worker: Worker
) -> None:
    """Reminders due in six seconds are rendered before they are due and sent as rendered;
    copies of them written after that pass (rendered at their send) are the same bytes."""
    due = datetime.now(UTC) + timedelta(seconds=AHEAD_SECONDS)
    people = [
        await _reminder(admin_conn, due, {"telegram": "880001"}, display_name="Ana"),
        await _reminder(
            admin_conn,
            due,
            {"sms": "+14155550181"},
            medicine="Lisinopril",
            display_name="Luis",
            locale="es",
            timezone="America/Mexico_City",
            name_medicine_in_reminders=True,
        ),
        await _reminder(admin_conn, due, {"telegram": "880003"}, name_medicine_in_reminders=True),
    ]
    worker.start()
    await eventually(lambda: worker.ahead.rendered >= len(people))
    assert datetime.now(UTC) < due, "the box was too slow to render three reminders in time"
    copies = {}
    for person, _medication, message in people:
        dose = await admin_conn.fetchrow(
            "select * from dose_events where id = $1", message["dose_event_id"]
        )
        copies[(await _message(admin_conn, person, dose, due))["id"]] = message["id"]

    await eventually(lambda: len(worker.sent()) == 2 * len(people))
    assert (worker.ahead.taken, worker.ahead.stale, worker.ahead.rendered) == (3, 0, 3)
    by_id = {m.message_id: m for _address, m in worker.sent()}
    for copy, original in copies.items():
        fresh, ahead = by_id[str(copy)], by_id[str(original)]
        assert dataclasses.replace(ahead, message_id=fresh.message_id) == fresh
    assert "Luis" in by_id[str(people[1][2]["id"])].text
    assert "Lisinopril" in by_id[str(people[1][2]["id"])].text


async def test_an_edit_after_the_render_is_what_the_patient_gets(
    admin_conn: asyncpg.Connection, worker: Worker
) -> None:
    """A patient renamed, a medicine renamed or a channel switched off after the render: each
    reminder is rendered afresh at its send, with the edit."""
    due = datetime.now(UTC) + timedelta(seconds=AHEAD_SECONDS)
    renamed, _, renamed_message = await _reminder(
        admin_conn, due, {"telegram": "880011"}, display_name="Ana"
    )
    _medicated, medication, medicine_message = await _reminder(
        admin_conn, due, {"telegram": "880012"}, name_medicine_in_reminders=True
    )
    moved, _, moved_message = await _reminder(
        admin_conn, due, {"telegram": "880013", "sms": "+14155550183"}
    )
    worker.start()
    await eventually(lambda: worker.ahead.rendered >= 3)
    assert datetime.now(UTC) < due, "the box was too slow to render three reminders in time"
    await admin_conn.execute(
        "update patients set display_name = 'Beatriz' where id = $1", renamed["id"]
    )
    await admin_conn.execute(
        "update medications set name = 'Atorvastatin' where id = $1", medication["id"]
    )
    await admin_conn.execute(
        "update contact_points set active = false where patient_id = $1 and channel = 'telegram'",
        moved["id"],
    )

    await eventually(lambda: len(worker.sent()) == 3)
    assert (worker.ahead.taken, worker.ahead.stale) == (0, 3)
    sent = {m.message_id: (address, m) for address, m in worker.sent()}
    assert "Beatriz" in sent[str(renamed_message["id"])][1].text
    assert "Ana" not in sent[str(renamed_message["id"])][1].text
    assert "Atorvastatin" in sent[str(medicine_message["id"])][1].text
    assert sent[str(moved_message["id"])][0] == "+14155550183"
    assert sent[str(moved_message["id"])][1] in worker.senders[Channel.SMS].sends[0]


class _Watched(Claim):
    """A claim that refuses to be read for what a claim changes (the lease, the attempts)."""

    __slots__ = ()

    def __getattribute__(self, name: str) -> Any:
        if name in ("lease_token", "attempts"):
            raise AssertionError(f"rendering read claim.{name}")
        return object.__getattribute__(self, name)


@pytest.mark.parametrize(
    "kind",
    [
        "medication_reminder",
        "dose_followup",
        "refill_reminder",
        "appointment_reminder",
        "missed_dose_caregiver",
        "free_text",
    ],
)
@pytest.mark.parametrize("channel", [Channel.TELEGRAM, Channel.SMS, Channel.EMAIL])
def test_rendering_reads_nothing_a_claim_changes(kind: str, channel: Channel) -> None:
    """The held text is compared with its claim on every field but the lease token and the
    attempt count: rendering must not read those two."""
    now = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "patient_id": uuid.uuid4(),
        "lease_token": uuid.uuid4(),
        "scheduled_time": now,
        "platform": "auto",
        "kind": kind,
        "attempts": 1,
        "max_attempts": 3,
        "message_content": "Your results are ready" if kind == "free_text" else None,
        "display_name": "Ana",
        "organization_name": "Clinic",
        "name_medicine_in_reminders": True,
        "medicine_name": "Metformin",
        "medicine_dose": "500 mg",
        "dose_event_id": uuid.uuid4(),
        "dose_due_at": now,
        "payload": {"missed_count": 1} if kind == "missed_dose_caregiver" else {},
    }
    if kind == "appointment_reminder":
        values |= {
            "dose_event_id": None,
            "appointment_id": uuid.uuid4(),
            "appointment_starts_at": now + timedelta(days=1),
            "appointment_location": "Room 2",
            "appointment_clinician": "Dr. Diaz",
        }
    if kind == "missed_dose_caregiver":
        values |= {"caregiver_id": uuid.uuid4(), "caregiver_name": "Eva"}
    claim = _Watched(**values)
    message, _note = render_or_fallback(TemplateRenderer(), claim, channel)
    assert message.text


async def test_a_backlog_already_due_does_not_hold_the_window_back(
    admin_conn: asyncpg.Connection, db: Database
) -> None:
    """Reminders already due and still pending (a rate limit's backlog) are the claims' to
    render; the pass renders what falls due later in its window all the same."""
    assert db.pool is not None
    cache = ClaimCache(db.connect)
    listening = asyncio.create_task(cache.run())
    held = RenderedAhead()
    ahead = RenderAhead(
        db.pool,
        lambda: cache,
        TemplateRenderer(),
        lambda _claim: Channel.SMS,
        held,
        lambda: datetime.now(UTC),
        horizon=0.5,
    )
    try:
        await eventually(lambda: cache.live)
        assert await ahead.once() == 0  # an empty window, over in half a second
        await asyncio.sleep(1.0)
        now = datetime.now(UTC)
        await _reminder(admin_conn, now - timedelta(seconds=0.2), {"sms": "+14155550191"})
        _, _, later = await _reminder(
            admin_conn, now + timedelta(seconds=30), {"sms": "+14155550192"}
        )
        ahead.horizon = 60.0
        assert await ahead.once() == 1
        assert later["id"] in held
    finally:
        cache.stop()
        await listening
