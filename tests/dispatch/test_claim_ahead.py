"""A forecast peak's rows are claimed before they are due (scheduler/dispatcher.py,
``_claim_ahead``), held until their time, and checked just before they go: none is sent early,
none twice, none that a /pause, an answer, an opt-out or a clinic's cancel (the web API's) since
the claim stops, and a worker that stops before their time gives them back.

Real PostgreSQL, the worker's dispatcher as ``medremind worker`` runs it (claims and patient
cache on connections of their own, texts rendered ahead) and recording senders. Times are relative
to the real clock, and quiet hours are off: it runs the same at any hour.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta

import asyncpg
import pytest

from core.db import Database
from core.settings import Settings
from core.templating import TemplateRenderer
from medremind.api_keys import create_api_key
from platforms.base import Channel
from scheduler.dispatch_config import DispatcherConfig
from scheduler.dispatcher import Dispatcher
from scheduler.send_checks import SendChecks
from tests import factories
from tests.dispatch.recording import RecordingSender
from tests.integration.clinician import as_clinician
from tests.waiting import eventually
from tests.web.conftest import make_app, make_client

PEAK = 12  # reminders due at one instant: more than a batch's worth (the forecast)
BATCH = 10
CLAIM_AHEAD_SECONDS = 6.0
DUE_IN_SECONDS = 10.0  # rendered ahead by the first pass, then claimed ahead


class Worker:
    """A dispatcher with claim-ahead on, and what it sent."""

    def __init__(
        self,
        db: Database,
        name: str = "claim-ahead-test",
        sender: RecordingSender | None = None,
    ) -> None:
        assert db.pool is not None
        self.sender = sender or RecordingSender(Channel.TELEGRAM)
        self.dispatcher = Dispatcher(
            db.pool,
            {Channel.TELEGRAM: self.sender},
            TemplateRenderer(),
            lambda: datetime.now(UTC),
            DispatcherConfig(
                worker_id=name,
                batch_size=BATCH,
                platform_rates={},
                recipient_rates={},
                poll_seconds=0.2,
                quiet_start=time(0, 0),
                quiet_end=time(0, 0),
                claim_ahead_seconds=CLAIM_AHEAD_SECONDS,
            ),
            connect=db.connect,
        )
        self.running = asyncio.create_task(self.dispatcher.run())

    async def stop(self) -> None:
        self.dispatcher.request_stop()
        await self.running


@pytest.fixture
async def worker(db: Database) -> AsyncIterator[Worker]:
    running = Worker(db)
    try:
        yield running
    finally:
        await running.stop()


async def _peak(conn: asyncpg.Connection, due: datetime, size: int = PEAK) -> list[asyncpg.Record]:
    """``size`` patients with a dose due at ``due`` and its reminder: (patient, dose, message)."""
    org = await factories.create_organization(conn)
    peak = []
    for n in range(size):
        person = await factories.create_patient(
            conn, org["id"], contacts={"telegram": f"8861{n:02d}"}, display_name=f"P{n}"
        )
        dose, message = await factories.create_due_reminder(conn, person["id"], due)
        peak.append((person, dose, message))
    return peak


async def _leased(conn: asyncpg.Connection, ids: list[object]) -> int:
    return await conn.fetchval(
        "select count(*) from scheduled_messages where id = any($1) and status = 'processing'",
        ids,
    )


async def _none_leased(conn: asyncpg.Connection, ids: list[object]) -> bool:
    return await _leased(conn, ids) == 0


async def test_a_peak_is_claimed_ahead_and_sent_at_its_time_once(
    db: Database, admin_conn: asyncpg.Connection
) -> None:
    """Every reminder of the peak is leased before its time, sent no earlier than it, once."""
    due = datetime.now(UTC) + timedelta(seconds=DUE_IN_SECONDS)
    peak = await _peak(admin_conn, due)
    ids = [message["id"] for _, _, message in peak]
    worker = Worker(db)
    try:
        await eventually(lambda: worker.dispatcher.claimed_ahead == PEAK, timeout=10)
        assert datetime.now(UTC) < due, "the box was too slow to claim the peak before it"
        assert await _leased(admin_conn, ids) == PEAK
        assert worker.sender.sends == []  # held until their time
        await eventually(lambda: len(worker.sender.sends) == PEAK, timeout=20)
    finally:
        await worker.stop()
    rows = await admin_conn.fetch(
        "select status, sent_at, attempts from scheduled_messages where id = any($1)", ids
    )
    assert {r["status"] for r in rows} == {"sent"}
    assert all(r["sent_at"] >= due for r in rows), "sent before its time"
    assert {r["attempts"] for r in rows} == {1}
    assert sorted(str(m.message_id) for _, m in worker.sender.sends) == sorted(str(i) for i in ids)


async def test_a_pause_an_answer_an_opt_out_or_a_cancel_after_the_claim_stops_the_reminder(
    admin_conn: asyncpg.Connection, worker: Worker, db: Database, settings: Settings
) -> None:
    """Claimed ahead, then one patient pauses, another takes the dose early, a third's chat
    opts out, the clinic cancels a fourth's reminder through the API, a fifth's medicine is
    paused and a sixth opts out of medication reminders: at the instant none of the six is
    sent (the check before the send, made row by row only for the patients whose rows changed
    since the claim: migration 20260101019310); the rest are. A cancel in the last second
    before the time is refused, saying the message is being sent, and it is sent.

    The clinic's own messages of the peak (POST /messages) are edited through the API after the
    claim: the new text goes and never the old, a moved one goes at its new time and not at the
    old; an edit in the last second is refused as the cancel is, and the text goes as it was."""
    due = datetime.now(UTC) + timedelta(seconds=DUE_IN_SECONDS)
    peak = await _peak(admin_conn, due)
    # The clinic's own messages of the peak, as POST /messages writes them (inserted here: the
    # web app's first requests took seconds of the peak's ten on a loaded box). Urgent: not held
    # by the clinic's default quiet hours, whatever the hour.
    written = []
    for n, text in enumerate(("The old text", "Moved later", "Too late to change")):
        message = await factories.create_message(
            admin_conn,
            peak[5 + n][0]["id"],
            message_content=text,
            scheduled_time=due,
            urgent=True,
            from_clinic=True,
        )
        written.append(str(message["id"]))
    edited_id, moved_id, late_edit_id = written
    ids = [message["id"] for _, _, message in peak] + [uuid.UUID(i) for i in written]
    await eventually(lambda: worker.dispatcher.claimed_ahead == len(ids), timeout=10)
    assert datetime.now(UTC) < due, "the box was too slow to claim the peak before it"
    assert await _leased(admin_conn, ids) == len(ids)
    (paused, _, paused_msg), (_, taken_dose, taken_msg), (opted, _, opted_msg) = peak[:3]
    cancelled_msg, late_msg = peak[3][2], peak[4][2]
    assert db.pool is not None
    key = await create_api_key(db.pool, str(cancelled_msg["organization_id"]), "tests")
    api = make_client(make_app(settings, db))
    auth = {"Authorization": f"Bearer {key}"}
    # Leased by the worker, due in seconds: the clinic changes the text of one, moves another.
    edited = await api.patch(
        f"/api/v1/messages/{edited_id}", json={"text": "The new text"}, headers=auth
    )
    assert edited.status_code == 200, edited.text
    assert (edited.json()["status"], edited.json()["text"]) == ("pending", "The new text")
    assert edited.json()["attempts"] == 0  # the claim's, given back: nothing was tried
    moved_to = due + timedelta(seconds=3)
    moved = await api.patch(
        f"/api/v1/messages/{moved_id}", json={"scheduled_time": moved_to.isoformat()}, headers=auth
    )
    assert moved.status_code == 200, moved.text
    # Leased by the worker, due in seconds: the clinic's cancel still works (before: 409).
    cancelled = await api.post(f"/api/v1/messages/{cancelled_msg['id']}/cancel", headers=auth)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    await admin_conn.execute(
        "update patients set reminders_paused = true where id = $1", paused["id"]
    )
    await admin_conn.execute(
        "update dose_events set status = 'taken', answered_at = now() where id = $1",
        taken_dose["id"],
    )
    await admin_conn.execute(
        "update contact_points set opted_out_at = now() where patient_id = $1", opted["id"]
    )
    (_, medicine_dose, medicine_msg), (chose, _, chose_msg) = peak[8:10]
    await admin_conn.execute(
        "update medications set status = 'paused'"
        " where id = (select medication_id from dose_events where id = $1)",
        medicine_dose["id"],
    )
    await admin_conn.execute(
        "insert into patient_preferences (patient_id, category, patient_choice)"
        " values ($1, 'medication', 'out')",
        chose["id"],
    )
    assert worker.sender.sends == []

    # In the last second before the time the worker may be handing the row to its sender:
    # refused, and said so.
    await asyncio.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds() - 0.5))
    late, late_edit = await asyncio.gather(
        api.post(f"/api/v1/messages/{late_msg['id']}/cancel", headers=auth),
        api.patch(
            f"/api/v1/messages/{late_edit_id}", json={"text": "Changed at the last"}, headers=auth
        ),
    )
    await api.aclose()
    assert late.status_code == 409, late.text
    assert late.json()["error"]["reason"].startswith("too late to cancel: the message is being")
    assert late_edit.status_code == 409, late_edit.text
    # Being sent, or (on a loaded box, the answer coming later) sent already: either way as it was.
    assert late_edit.json()["error"]["reason"].startswith(
        ("too late to change: the message is", "only a pending message can be changed")
    )

    await eventually(lambda: len(worker.sender.sends) == len(ids) - 6, timeout=20)
    await eventually(lambda: worker.dispatcher.in_flight == 0, timeout=10)
    texts = {m.message_id: m.text for _, m in worker.sender.sends}
    assert len(texts) == len(worker.sender.sends)  # none twice
    assert (texts[edited_id], texts[late_edit_id]) == ("The new text", "Too late to change")
    moved_at = await admin_conn.fetchval(
        "select sent_at from scheduled_messages where id = $1", uuid.UUID(moved_id)
    )
    assert moved_at >= moved_to, "sent at the old time"
    sent = {m.message_id for _, m in worker.sender.sends}
    stopped = [
        paused_msg["id"],
        taken_msg["id"],
        opted_msg["id"],
        cancelled_msg["id"],
        medicine_msg["id"],
        chose_msg["id"],
    ]
    assert not sent & {str(i) for i in stopped}
    assert str(late_msg["id"]) in sent
    status = dict(
        await admin_conn.fetch(
            "select id, status from scheduled_messages where id = any($1)", stopped
        )
    )
    assert status[paused_msg["id"]] == "cancelled"
    assert status[taken_msg["id"]] == "cancelled"
    assert status[opted_msg["id"]] != "sent"
    assert status[cancelled_msg["id"]] == "cancelled"
    assert (status[medicine_msg["id"]], status[chose_msg["id"]]) == ("cancelled", "cancelled")
    # Checked row by row: the five patients whose rows changed, not the whole peak.
    assert 5 <= worker.dispatcher.checked_at_handover < PEAK - 1
    # The opted-out chat's reminder goes on to its next step after the send it was stopped at
    # (seen leased once right after in_flight fell to 0, on a loaded 2-core box): none is left
    # leased for long, not none at that very instant.
    await eventually(lambda: _none_leased(admin_conn, ids), timeout=15)
    assert worker.dispatcher.lease_lost == 0  # the cancelled row was let go, not recorded


async def test_a_worker_stopped_before_the_time_gives_back_what_it_claimed_ahead(
    db: Database, admin_conn: asyncpg.Connection
) -> None:
    """Stopped while it holds the peak, the worker returns every row to pending with its
    attempt uncounted; nothing was sent, and the next worker sends them all. One the clinic
    cancelled while it was held stays cancelled: its return is counted as cancelled, not as a
    lease lost to another worker (which it logged before)."""
    due = datetime.now(UTC) + timedelta(seconds=DUE_IN_SECONDS)
    peak = await _peak(admin_conn, due)
    ids = [message["id"] for _, _, message in peak]
    first = Worker(db)
    try:
        await eventually(lambda: first.dispatcher.claimed_ahead == PEAK, timeout=10)
        assert datetime.now(UTC) < due, "the box was too slow to claim the peak before it"
        withdrawn = ids[0]
        assert await admin_conn.fetch(
            "select id from public.cancel_scheduled_message($1, null)", withdrawn
        )
    finally:
        await first.stop()
    assert first.sender.sends == []
    assert (first.dispatcher.returns_cancelled, first.dispatcher.lease_lost) == (1, 0)
    rows = await admin_conn.fetch(
        "select id, status, attempts, lease_token from scheduled_messages where id = any($1)", ids
    )
    assert {
        (r["status"], r["attempts"], r["lease_token"]) for r in rows if r["id"] != withdrawn
    } == {("pending", 0, None)}
    assert [r["status"] for r in rows if r["id"] == withdrawn] == ["cancelled"]

    second = Worker(db)
    try:
        await eventually(lambda: len(second.sender.sends) == PEAK - 1, timeout=20)
    finally:
        await second.stop()
    assert (
        await admin_conn.fetchval(
            "select count(*) from scheduled_messages where id = any($1) and status = 'sent'", ids
        )
        == PEAK - 1
    )


async def test_a_cancel_and_the_read_before_the_handover_never_cross(
    db: Database, admin_conn: asyncpg.Connection, database_url: str
) -> None:
    """The worker's read of its rows claimed ahead (``SendChecks.still_held``) waits for a
    cancel under way and sees it; once the read has been made (at the row's time) a cancel is
    refused. Between the two nothing slips through: no row is both cancelled and sent."""
    assert db.pool is not None
    patient = await factories.create_patient(admin_conn, contacts={"telegram": "886190"})
    token = uuid.uuid4()
    leased = {
        "status": "processing",
        "locked_by": "worker-x",
        "lease_token": token,
        "locked_until": datetime.now(UTC) + timedelta(minutes=1),
        "scheduled_time": datetime.now(UTC) + timedelta(seconds=30),
    }
    first = await factories.create_message(admin_conn, patient["id"], **leased)
    checks = SendChecks(db.pool)

    clinic = await asyncpg.connect(database_url)
    try:
        await clinic.execute("begin")
        assert await clinic.fetch(
            "select id from public.cancel_scheduled_message($1, null)", first["id"]
        )
        read = asyncio.create_task(checks.still_held("worker-x", [(first["id"], token)]))
        await asyncio.sleep(0.3)
        assert not read.done()  # waits for the cancel's commit
        await clinic.execute("commit")
        assert await read == set()  # and sees it: the worker lets the row go
    finally:
        await clinic.close()

    # A row whose time is less than a second away: the worker's read may have been made.
    second = await factories.create_message(
        admin_conn, patient["id"], **(leased | {"scheduled_time": datetime.now(UTC)})
    )
    assert await checks.still_held("worker-x", [(second["id"], token)]) == {second["id"]}
    assert (
        await admin_conn.fetch(
            "select 1 from public.cancel_scheduled_message($1, null)", second["id"]
        )
        == []
    )
    assert (
        await admin_conn.fetchval(
            "select status from scheduled_messages where id = $1", second["id"]
        )
        == "processing"
    )

    # An edit meets the read the same way (migration 20260101018500), the function's
    # (the API's and the dashboard's) as a signed-in clinician's own UPDATE (PostgREST): one
    # under way is waited for and seen, the row back to pending as edited; one after the read
    # is refused, the row as it was.
    org = await factories.create_organization(admin_conn)
    patient = await factories.create_patient(admin_conn, org["id"], contacts={"telegram": "886191"})
    clinician = await factories.create_clinician(admin_conn, org["id"])
    for edit, done in (
        ("select 1 from public.edit_scheduled_message($1, null, 'New text', null)", "SELECT 1"),
        ("update scheduled_messages set message_content = 'New text' where id = $1", "UPDATE 1"),
    ):
        held = await factories.create_message(admin_conn, patient["id"], **leased, attempts=1)
        clinic = await asyncpg.connect(database_url)
        try:
            async with as_clinician(clinic, clinician["id"]):
                assert await clinic.execute(edit, held["id"]) == done
                read = asyncio.create_task(checks.still_held("worker-x", [(held["id"], token)]))
                await asyncio.sleep(0.3)
                assert not read.done()  # waits for the edit's commit
            assert await read == set()
        finally:
            await clinic.close()
        row = await admin_conn.fetchrow(
            "select status, message_content, lease_token, locked_by, attempts"
            " from scheduled_messages where id = $1",
            held["id"],
        )
        # Pending as edited, the claim's attempt given back: claimed again, sent once.
        assert tuple(row) == ("pending", "New text", None, None, 0)

        late = await factories.create_message(
            admin_conn, patient["id"], **(leased | {"scheduled_time": datetime.now(UTC)})
        )
        assert await checks.still_held("worker-x", [(late["id"], token)]) == {late["id"]}
        if edit.startswith("select"):  # nothing edited; the API says why (409)
            async with as_clinician(admin_conn, clinician["id"]) as conn:
                assert await conn.execute(edit, late["id"]) == "SELECT 0"
        else:
            with pytest.raises(asyncpg.ObjectNotInPrerequisiteStateError, match="too late to"):
                async with as_clinician(admin_conn, clinician["id"]) as conn:
                    await conn.execute(edit, late["id"])
        assert await admin_conn.fetchval(
            "select (status, message_content, lease_token)"
            " is not distinct from ('processing', $2::text, $3::uuid)"
            " from scheduled_messages where id = $1",
            late["id"],
            late["message_content"],
            token,
        )
