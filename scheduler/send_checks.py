"""The check right before each send, made for many sends in one statement.

A send re-reads the patient's pause, erasure, consent, category opt-out, the dose's answer and
the contact point's opt-out just before the provider is called
(:func:`scheduler.delivery_gate.verdict_at_send`). One query per send cost a pooled round trip
and the pool's reset each, more Postgres CPU than claiming and recording the message together
(issue 20). Here the sends that reach the check while a query is in flight wait for the next
one, which checks them all (``dispatch.sql: hold_at_send``): at most one statement in
flight, batches that grow with the load, and a lone send checked at once (group commit, as the
dispatcher records outcomes). Each send still waits for a read that started after it asked.

Rows claimed ahead of their time are also read for whether the worker still holds them
(:meth:`SendChecks.still_held`): a clinic may cancel one until a second before its time. Their
check reads first whose rows changed since the claim (:meth:`SendChecks.changed_since`, migration
20260101019310) and checks row by row only those patients' sends.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from core.records import MessageKind
from core.sql import query
from scheduler.claims import STATEMENT_TIMEOUT_SECONDS, Claim
from scheduler.delivery_gate import AT_SEND_DB_ERRORS, unchecked_at_send, verdict_at_send
from scheduler.delivery_results import DeliveryResult

logger = logging.getLogger(__name__)

_Ask = tuple[Claim, UUID | None, "asyncio.Future[DeliveryResult | None]"]

# The kinds whose category (public.message_category, which the check's opt-out reads) depends on
# the payload: a clinic's free text may be news. Any other kind's payload is not sent with the
# check: JSON-encoding each reminder's payload for nothing was ~5 us of the worker's ~85 us a
# message in the 08:00 burst (issue 20). tests/integration/test_send_check_payloads.py holds the
# SQL function to this.
CATEGORY_READS_PAYLOAD = frozenset({MessageKind.FREE_TEXT})

# The most entries of the change log a handover reads (:meth:`SendChecks.changed_since`). The
# watermark is the oldest transaction running anywhere on the server: one left open (an idle
# session in a transaction) holds it back up to the hour the log keeps, and each chunk of 500
# sends would read all of that hour's entries. Past this many, every send of the chunk is
# checked row by row, as before the log: a bounded cost, never a missed change.
CHANGES_READ_MAX = 5000


@dataclass(frozen=True, slots=True)
class HoldChanges:
    """The patients and caregivers whose send-stopping rows changed since a watermark."""

    patients: frozenset[UUID]
    caregivers: frozenset[UUID]
    everything: bool = False  # more than CHANGES_READ_MAX entries: every send is checked

    def touch(self, c: Claim, contact_id: UUID | None) -> bool:
        """Whether the send of ``c`` to ``contact_id`` must be checked row by row: its patient
        changed, or its contact is a caregiver who did (a contact point is the patient's)."""
        return (
            self.everything
            or c.patient_id in self.patients
            or (contact_id is not None and contact_id in self.caregivers)
        )


class SendChecks:
    """``await checks(claim, contact_id)``: the result that stops the send, or None: go."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self._waiting: list[_Ask] = []
        self._checker: asyncio.Task[None] | None = None
        self.statements = 0  # round trips made (for benchmarks)

    async def __call__(self, c: Claim, contact_id: UUID | None) -> DeliveryResult | None:
        answer: asyncio.Future[DeliveryResult | None] = asyncio.get_running_loop().create_future()
        self._waiting.append((c, contact_id, answer))
        if self._checker is None or self._checker.done():
            self._checker = asyncio.create_task(self._check_waiting(), name="send-checks")
        return await answer

    async def _check_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                verdicts = await self.check([(c, contact) for c, contact, _ in batch])
            except AT_SEND_DB_ERRORS as exc:
                logger.warning(
                    "could not re-check before sending",
                    extra={"error": type(exc).__name__, "count": len(batch)},
                )
                verdicts = [unchecked_at_send(c, exc) for c, _, _ in batch]
            except BaseException as exc:  # never leave a sender waiting forever
                for _, _, answer in batch:
                    if not answer.done():
                        answer.set_exception(exc)
                raise
            for (_, _, answer), verdict in zip(batch, verdicts, strict=True):
                if not answer.done():  # the sender may have been cancelled meanwhile
                    answer.set_result(verdict)

    async def check(self, sends: list[tuple[Claim, UUID | None]]) -> list[DeliveryResult | None]:
        """Check many sends (each a claim and the contact it goes to) in one statement now:
        for each, the result that stops it, or None. Raises the database's errors."""
        self.statements += 1
        rows = await self.pool.fetch(
            query("dispatch", "hold_at_send"),
            [c.patient_id for c, _ in sends],
            [contact for _, contact in sends],
            [c.dose_event_id for c, _ in sends],
            [c.kind for c, _ in sends],
            [c.payload if c.kind in CATEGORY_READS_PAYLOAD else None for c, _ in sends],
            [c.appointment_id for c, _ in sends],
            timeout=STATEMENT_TIMEOUT_SECONDS,
        )
        by_send = {row["n"]: row for row in rows}
        return [
            verdict_at_send(c, contact, by_send.get(n))
            for n, (c, contact) in enumerate(sends, start=1)
        ]

    async def watermark(self) -> int:
        """The oldest transaction still running, read before a claim made ahead: what any
        older one wrote, the claim reads (``dispatch.sql: hold_watermark``). Raises the
        database's errors."""
        self.statements += 1
        xid: int = await self.pool.fetchval(
            query("dispatch", "hold_watermark"), timeout=STATEMENT_TIMEOUT_SECONDS
        )
        return xid

    async def changed_since(self, watermark: int) -> HoldChanges:
        """Whose rows that may stop a send transactions from ``watermark`` on changed
        (migration 20260101019310): a send of anyone else goes on its claim's read. Raises
        the database's errors."""
        self.statements += 1
        rows = await self.pool.fetch(
            query("dispatch", "hold_changes_since"),
            watermark,
            CHANGES_READ_MAX + 1,
            timeout=STATEMENT_TIMEOUT_SECONDS,
        )
        if len(rows) > CHANGES_READ_MAX:
            return HoldChanges(frozenset(), frozenset(), everything=True)
        return HoldChanges(
            frozenset(r["patient_id"] for r in rows if r["patient_id"] is not None),
            frozenset(r["caregiver_id"] for r in rows if r["caregiver_id"] is not None),
        )

    async def still_held(self, worker: str, leases: list[tuple[UUID, UUID]]) -> set[UUID]:
        """Which of ``leases`` (message id, lease token: rows ``worker`` claimed ahead, at or
        past their time) it still holds: not cancelled by a clinic since the claim (migration
        20260101018320: read under the worker's handover lock, so a cancel either came before
        and is seen, or comes after and is refused). Raises the database's errors."""
        self.statements += 1
        rows = await self.pool.fetch(
            query("dispatch", "still_held"),
            worker,
            [message_id for message_id, _ in leases],
            [token for _, token in leases],
            timeout=STATEMENT_TIMEOUT_SECONDS,
        )
        return {row["id"] for row in rows}
