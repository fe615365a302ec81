"""The worker's cache of what a claim needs of a patient, kept true by LISTEN/NOTIFY.

A claim returns the message and what changes per message (scheduler.claims); the patient, the
clinic's name and quiet-hours defaults, the contact points and the category preferences come from
here, by patient id, and a batch's misses are read in one query (``dispatch.sql:
claim_patients``). Statement triggers on those tables notify ``medremind_cache`` with the ids an
edit made stale (migration 20260101012000): ``p:<id>,...`` (a patient), ``o:<id>,...`` (a clinic:
its patients), ``p:*``/``o:*`` (too many: everything).

What is never trusted stale (a STOP, an erasure, a consent withdrawn, a new phone number), and
the races that could make it so:

- *The notification is still on its way when the claim returns.* Each claim of a live cache
  ends with a notification of its own on the same channel, its barrier (:meth:`ClaimCache.token`,
  sent by the claim statement). PostgreSQL delivers notifications in commit order, so once the
  barrier is here, every invalidation of an edit the claim could see has been applied; the
  claim waits for it (:meth:`ClaimCache.caught_up`) before it reads an entry. Only a batch
  with an entry to read waits; a batch of misses reads the patients afresh.
- *A fill reads a patient, an edit commits, its notification lands before the fill's answer.*
  Every fill is registered before its query (:meth:`ClaimCache.begin_fill`); an invalidation
  that arrives meanwhile spoils its ids, which are used for that batch (they are newer than the
  claim) but not kept.
- *The LISTEN connection is lost* (a restart, a failover, a network cut): notifications sent
  meanwhile are gone, so the whole cache is dropped at once, every fill in flight is spoiled,
  every claim waiting for a barrier reads afresh, and nothing is kept until LISTEN is back.

The send itself still re-reads the pause, erasure, consent, opt-outs and the contact point right
before the provider is called when the claim is older than a quarter second
(scheduler.send_checks), as it did when the claim joined everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from uuid import UUID

import asyncpg

from scheduler.listener import _close, _first  # the due listener's own helpers

logger = logging.getLogger(__name__)

CHANNEL = "medremind_cache"
# Patients kept per worker (the oldest filled leaves first): ~1 KB each.
MAX_PATIENTS = 50_000
# A barrier normally arrives within a millisecond of its claim; one this late means the LISTEN
# connection is stuck: the batch reads afresh and the cache is dropped.
BARRIER_TIMEOUT_SECONDS = 2.0
_RETRY_MAX_SECONDS = 5.0
# Arrived barriers remembered (ClaimCache._seen): far more than claims in flight at once.
_BARRIERS_KEPT = 64
_CONNECTION_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError)


@dataclasses.dataclass(slots=True, eq=False)
class Fill:
    """A read of patients in flight (see the module docstring): what arrived meanwhile."""

    spoiled: set[UUID] = dataclasses.field(default_factory=set)
    spoiled_groups: set[UUID] = dataclasses.field(default_factory=set)
    everything: bool = False


class ClaimCache:
    """Entries by patient id, each in the group of its clinic; see the module docstring.

    ``connect`` opens the LISTEN connection (:meth:`run` keeps it); without :meth:`run` the
    cache is never live: it keeps nothing and every batch reads its patients afresh.
    """

    def __init__(
        self,
        connect: Callable[[], Awaitable[asyncpg.Connection]] | None = None,
        *,
        max_entries: int = MAX_PATIENTS,
        keepalive: float = 5.0,
    ) -> None:
        self._connect = connect
        self.max_entries = max_entries
        self._keepalive = keepalive
        self.barrier_timeout = BARRIER_TIMEOUT_SECONDS
        self._entries: dict[UUID, tuple[Any, UUID | None]] = {}
        self._groups: dict[UUID, set[UUID]] = {}
        self._fills: set[Fill] = set()
        self._id = uuid.uuid4().hex[:12]
        self._epoch = 0  # a new LISTEN connection: barriers of an older one never come
        self._live = False
        self._sent = 0  # barriers handed out in this epoch
        # Ours that arrived in this epoch, the recent ones: a claim waits for its own barrier.
        # Claims run on two connections at once (scheduler.claim_session), and their barriers
        # arrive in the order the claims committed, not the order they were handed out: the
        # newest arrived (as this once was) said nothing of an older claim's, still on its way
        # behind an edit that claim could see.
        self._seen: set[int] = set()
        self._arrived = asyncio.Event()  # set (and replaced) when a barrier arrives or LISTEN ends
        self._stop = asyncio.Event()
        self.listener_pid: int | None = None  # the LISTEN connection's backend (for tests)
        # Counters for tests and benchmarks.
        self.hits = 0
        self.misses = 0
        self.invalidations = 0
        self.drops = 0  # whole-cache drops (LISTEN lost, a '*', a late barrier)

    # -- reading and filling -----------------------------------------------------------------

    @property
    def live(self) -> bool:
        """Whether LISTEN is up: entries are kept and claims may read them."""
        return self._live

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: UUID) -> bool:
        return key in self._entries

    def get(self, key: UUID) -> Any | None:
        """The entry of ``key``, or None. Read it only after :meth:`caught_up` of the claim."""
        entry = self._entries.get(key)
        return None if entry is None else entry[0]

    def token(self) -> str | None:
        """A new barrier for the next claim to send (None: not live, read everything afresh)."""
        if not self._live:
            return None
        self._sent += 1
        return f"b:{self._id}:{self._epoch}:{self._sent}"

    async def caught_up(self, token: str) -> bool:
        """Wait until the barrier ``token`` arrived; False if LISTEN was lost first (the cache is
        then empty) or it is late (the cache is dropped)."""
        _, _, epoch, n = token.split(":")
        wanted_epoch, wanted = int(epoch), int(n)
        deadline = time.monotonic() + self.barrier_timeout
        while wanted_epoch == self._epoch and wanted not in self._seen:
            left = deadline - time.monotonic()
            if left <= 0:
                logger.warning("cache barrier late; dropping the claim cache")
                self.clear()
                return False
            arrived = self._arrived
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(arrived.wait(), timeout=left)
        return wanted_epoch == self._epoch and self._live

    def begin_fill(self) -> Fill:
        """Register a read of patients about to start (see the module docstring)."""
        fill = Fill()
        self._fills.add(fill)
        return fill

    def end_fill(self, fill: Fill, entries: Iterable[tuple[UUID, Any, UUID | None]]) -> None:
        """Keep what ``fill`` read (``(key, value, group)`` each) unless spoiled meanwhile."""
        self._fills.discard(fill)
        if fill.everything or not self._live:
            return
        for key, value, group in entries:
            if key in fill.spoiled or (group is not None and group in fill.spoiled_groups):
                continue
            self._put(key, value, group)

    def _put(self, key: UUID, value: Any, group: UUID | None) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self._ungroup(key, old[1])
        elif len(self._entries) >= self.max_entries:
            oldest = next(iter(self._entries))
            self._ungroup(oldest, self._entries.pop(oldest)[1])
        self._entries[key] = (value, group)
        if group is not None:
            self._groups.setdefault(group, set()).add(key)

    def _ungroup(self, key: UUID, group: UUID | None) -> None:
        if group is not None:
            members = self._groups.get(group)
            if members is not None:
                members.discard(key)
                if not members:
                    del self._groups[group]

    # -- invalidation ------------------------------------------------------------------------

    def clear(self) -> None:
        """Drop every entry and spoil every fill in flight."""
        self.drops += 1
        self._entries.clear()
        self._groups.clear()
        for fill in self._fills:
            fill.everything = True

    def invalidate(self, keys: Iterable[UUID]) -> None:
        """Drop the entries of ``keys``."""
        keys = set(keys)
        self.invalidations += len(keys)
        for fill in self._fills:
            fill.spoiled |= keys
        for key in keys:
            entry = self._entries.pop(key, None)
            if entry is not None:
                self._ungroup(key, entry[1])

    def invalidate_groups(self, groups: Iterable[UUID]) -> None:
        """Drop the entries in ``groups`` (a clinic's patients)."""
        groups = set(groups)
        for fill in self._fills:
            fill.spoiled_groups |= groups
        for group in groups:
            for key in self._groups.pop(group, ()):
                self._entries.pop(key, None)
                self.invalidations += 1

    def on_notification(self, payload: str) -> None:
        """Apply one ``medremind_cache`` payload (see the module docstring)."""
        kind, _, rest = payload.partition(":")
        if kind == "b":
            owner, _, numbers = rest.partition(":")
            if owner == self._id:
                epoch, _, n = numbers.partition(":")
                if int(epoch) == self._epoch:
                    self._seen.add(int(n))
                    if len(self._seen) > _BARRIERS_KEPT:
                        # Only the claims in flight wait, for barriers among the newest handed
                        # out; older ones arrived for claims that had nothing to wait for.
                        oldest = self._sent - _BARRIERS_KEPT // 2
                        self._seen = {b for b in self._seen if b > oldest}
                    self._wake()
            return
        if rest == "*":
            self.clear()
            return
        try:
            ids = [UUID(part) for part in rest.split(",")]
        except ValueError:  # not ours to understand: drop everything rather than guess
            logger.warning("unreadable cache notification; dropping the claim cache")
            self.clear()
            return
        if kind == "p":
            self.invalidate(ids)
        elif kind == "o":
            self.invalidate_groups(ids)
        else:
            self.clear()

    def _wake(self) -> None:
        arrived, self._arrived = self._arrived, asyncio.Event()
        arrived.set()

    # -- the LISTEN connection ---------------------------------------------------------------

    def stop(self) -> None:
        """Make :meth:`run` return; idempotent."""
        self._stop.set()

    async def run(self) -> None:
        """Listen until :meth:`stop`, reconnecting with backoff; live only while listening."""
        if self._connect is None:
            return
        failures = 0
        while not self._stop.is_set():
            conn: asyncpg.Connection | None = None
            try:
                conn = await self._connect()
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _c, event=lost: event.set())
                await conn.add_listener(CHANNEL, self._callback)
                self.listener_pid = conn.get_server_pid()
                failures = 0
                self._go_live()
                while not self._stop.is_set():
                    if lost.is_set() or conn.is_closed():
                        raise asyncpg.InterfaceError("the cache's LISTEN connection was closed")
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(_first(self._stop, lost), timeout=self._keepalive)
                        continue
                    await asyncio.wait_for(conn.execute("select 1"), timeout=self._keepalive)
            except _CONNECTION_ERRORS as exc:
                failures += 1
                delay = min(_RETRY_MAX_SECONDS, 0.1 * 2**failures)
                logger.warning(
                    "cache listen connection lost; cache dropped, reconnecting",
                    extra={"error": type(exc).__name__, "retry_in": delay},
                )
                self._go_dead()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), timeout=delay)
            finally:
                self._go_dead()
                if conn is not None and not conn.is_closed():
                    await _close(conn)

    def _callback(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        self.on_notification(payload)

    def _go_live(self) -> None:
        self._epoch += 1
        self._sent = 0
        self._seen = set()
        self._live = True

    def _go_dead(self) -> None:
        """LISTEN ended: whatever was sent meanwhile is unknown, so nothing cached is true."""
        if self._live:
            self._live = False
            self.clear()
        self._epoch += 1  # barriers handed out before never come
        self._wake()
