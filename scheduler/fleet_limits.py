"""Provider rate limits for the whole fleet of workers, kept in PostgreSQL.

Every worker takes its send slots from one ledger (``send_rate_ledger``, see its migration): per
provider account (a bot, a Twilio sender, a WhatsApp sender, an SMTP server) and per recipient
where the provider limits that too (Telegram: 1 message a second per chat). A slot is a short
lease on capacity: the ledger grants the account's next free moment and moves it on by
``1/rate``, so N workers together never start more than ``rate`` sends a second, and each slot
is used by the worker that took it.

Round trips: the sends of one worker that want a slot at the same time are served by one
statement (``take_send_slots``); while it runs, the next ones queue for the following statement
(group commit, like the dispatcher's flusher). A send whose slot is too far away (beyond the
time its lease leaves, or its ``max_wait``) is refused and takes nothing; the dispatcher puts its
row back to pending for when the slot would come.

Timing: slot times are the database's clock; each answer carries the database's ``now``, so a
slot maps onto this host's monotonic clock whatever the skew between hosts. Besides the pace
(one slot per ``1/rate``), the ledger keeps each key's last ``ceil(rate)`` sends and starts a
send only once the send that many places back was answered more than a second ago: a provider
counts requests per second as they reach it, anywhere between our start and its answer, so this
holds its cap whatever the jitter of the network, of a new connection or of a busy host. The
pass's ``release`` reports the answer, batched (one statement per ``REPORT_SECONDS`` at most,
not one per send), with its age when the report leaves: the database dates it ``clock_timestamp()``
less that age, never earlier than it was, whatever the skew between hosts. A send that never
reports counts for the hold (its timeout) and a second.

A provider's ``retry_after`` (a 429) is written to the ledger at once: no worker is granted a
slot on that account before it ends. Slots granted before the pause may still be used (at most
a statement's worth, a fraction of a second of sends).

Time-critical sends first (a time-critical dose, a bot reply: ``acquire(critical=True)``). A
slot, once granted, is the send's: a peak of routine reminders that booked the account's next
seconds made a time-critical dose claimed after them wait behind all of them, in every worker.
So a routine send books at most :data:`ROUTINE_BOOKING_SECONDS` ahead of the database's now
(refused beyond it, it asks again when its slot comes near), while a critical one books as far
as its wait allows: whatever the routine backlog of the fleet, a critical send is granted a slot
at most that far behind the ones already booked. In each statement critical sends ask first,
and a worker's routine sends waiting for the account never hold back its critical ones. Routine
sends keep the rest of the rate, and all of it while no critical send asks. A statement asks
for at most the routine slots an account's grid may grant within that horizon, and one more
(:func:`_routine_cap`): the routine sends behind them take the answer of the first one refused,
as the ledger would have answered them, so a worker's backlog of waiting sends is not evaluated
again in every statement (four a second while paced).

Order: a worker's sends to one account start in the order of their slots on the database's clock
(each answer maps its slots onto this host's clock from when it came in, so a late answer would
time its slots after the next statement's), and a send refused holds back this worker's later
sends to the account until it asks again: those queued meanwhile are answered without asking,
and all of them wake in one loop pass and ask in one statement, in the order they first asked.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import hashlib
import heapq
import itertools
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from core.sql import query
from platforms.base import Channel
from scheduler import metrics
from scheduler.buckets import _NO_WAIT, Pass

logger = logging.getLogger(__name__)

# Slots start at least this far ahead of the database's now: the answer's way back to the worker.
LEAD_SECONDS = 0.01
_DB_ERROR_RETRY_SECONDS = 1.0  # a failed statement: the sends waiting on it ask again after this
_STATEMENT_TIMEOUT_SECONDS = 10.0
# A send that cannot get a slot (the ledger unreachable) asks again at most this many times.
_MAX_ROUNDS = 50
# Routine sends book the shared grid at most this far ahead (see the module docstring): how long
# a time-critical send may wait behind routine ones already granted.
ROUTINE_BOOKING_SECONDS = 0.5
# Answers are reported at most this long after they came (batched). The ledger asks a send whose
# predecessor cap places back is unreported to come back 0.7 s after that one's slot
# (migration 20260101009200): a report must land well before then.
REPORT_SECONDS = 0.25

_DB_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError)


def recipient_key(account_key: str, address: str) -> str:
    """The ledger key of one recipient of an account; the address itself is not stored."""
    digest = hashlib.blake2b(address.encode(), digest_size=10).hexdigest()
    return f"{account_key}/to:{digest}"


@dataclass(slots=True, frozen=True)
class _Answer:
    """The ledger's answer to one request."""

    slot: float  # the slot's start on time.monotonic() (never earlier than the database's)
    granted: bool
    slot_db: datetime | None  # the slot on the database's clock
    account_busy: bool  # refused because the account's cap is taken until ``slot``
    # Refused: when the send asks again (monotonic). Decided where the answer comes in, with
    # the account's marks (see FleetLimiter._note), so every send of the worker it holds back
    # waits for the same moment.
    again: float = 0.0


@dataclass(slots=True)
class _Request:
    account: str | None
    rate: float
    recipient: str | None
    recipient_rate: float
    horizon: float  # seconds from the request within which the slot must start
    answer: asyncio.Future[_Answer]
    # When its send first asked (this worker's sequence): a statement serves earlier sends
    # first, so the claim's order (time-critical doses first) survives refusals and re-asks.
    order: int = 0
    critical: bool = False  # served before every routine request of the statement


# A slot already passed still waits this long, on the loop's timers (see acquire).
_PAST_SLOT_SECONDS = 1e-6


class FleetLimiter:
    """Send slots from the fleet's ledger; the dispatcher's limiter in ``medremind worker``.

    Same surface as :class:`~scheduler.buckets.BucketSet` (``acquire``, ``wait_hint``,
    ``pause``). ``accounts`` maps each channel to its account key (the sender's ``rate_key``);
    ``platform_rates`` and ``recipient_rates`` are sends per second (absent or 0: unlimited).
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        accounts: Mapping[Channel, str],
        platform_rates: Mapping[Channel, float],
        recipient_rates: Mapping[Channel, float],
        *,
        hold_seconds: float = 30.0,
    ) -> None:
        self.pool = pool
        # A serial key whose send never reports back (its worker died) is free after this long.
        self.hold_seconds = hold_seconds
        self._finished: list[tuple[str, datetime, float]] = []  # key, slot, answered (monotonic)
        self._report_due: asyncio.TimerHandle | None = None
        self._report_wanted = False  # the timer fired (or closing): report with no take
        self._accounts = {ch: accounts.get(ch) or str(ch) for ch in Channel}
        self._rates = {ch: r for ch, r in platform_rates.items() if r > 0}
        self._recipient_rates = {ch: r for ch, r in recipient_rates.items() if r > 0}
        self._queue: list[_Request] = []
        self._taker: asyncio.Task[None] | None = None
        self._hints: dict[tuple[Channel, str], float] = {}
        self._paused_until: dict[str, float] = {}  # account key -> monotonic end (this worker)
        self._not_before: dict[str, float] = {}  # account key -> its cap is taken until then
        # Account key -> routine sends wait until then (their booking horizon is full).
        self._routine_not_before: dict[str, float] = {}
        # (account key, moment) -> the sends of this worker that ask the account again then.
        self._gates: dict[tuple[str, float], asyncio.Future[None]] = {}
        # Account key -> a heap of the slots granted to sends of this worker that have not
        # started yet (see _in_slot_order).
        self._unstarted: dict[str, list[tuple[datetime, int, asyncio.Future[None]]]] = {}
        self._pausing: set[asyncio.Task[None]] = set()
        self._asked = itertools.count()
        self.statements = 0  # take_send_slots round trips (for benchmarks)
        self.reports = 0  # finish_send_slots round trips (for benchmarks)
        self.denied = 0  # refused answers (recipient busy, or beyond the horizon)

    def _keys(
        self,
        channel: Channel,
        address: str,
        account_key: str | None = None,
        account_rate: float | None = None,
    ) -> tuple[str | None, float, str | None, float]:
        rate = self._rates.get(channel, 0.0)
        if account_key is not None and account_rate and rate:
            rate = account_rate  # a bot's paid broadcasts: its own key at 1,000/s
        # A clinic's own account is its own key, at the channel's rate (scheduler.clinic_senders).
        account = account_key or self._accounts[channel]
        recipient_rate = self._recipient_rates.get(channel, 0.0)
        recipient = recipient_key(account, address) if recipient_rate else None
        return (account if rate else None), rate, recipient, recipient_rate

    async def acquire(
        self,
        channel: Channel,
        address: str,
        max_wait: float,
        account: str | None = None,
        rate: float | None = None,
        *,
        critical: bool = False,
    ) -> Pass | None:
        """Wait for a fleet-wide slot starting within ``max_wait`` seconds; None if none does.

        ``account``: the sender's rate key when it is not the channel's default account (a
        clinic's own, another Telegram bot: each its own key); ``rate``: that key's rate when
        it is not the channel's (a bot's paid broadcasts). ``critical``: a time-critical send,
        ahead of the routine ones (see the module docstring).

        Release the pass when the send is over (answered, failed or timed out): the provider's
        window counts the send until a second after that.
        """
        account, rate, recipient, recipient_rate = self._keys(channel, address, account, rate)
        if account is None and recipient is None:
            return _NO_WAIT
        started = time.monotonic()
        give_up_at = started + max_wait
        order = next(self._asked)
        for _ in range(_MAX_ROUNDS):
            now = time.monotonic()
            # A pause (retry_after), or the account's cap taken up to then by the fleet: every
            # send of this worker to it waits, rather than each asking in every statement.
            held_until = self._held_until(account, critical)
            if held_until > now:
                if held_until > give_up_at:
                    self._hints[(channel, address)] = held_until
                    return None
                await self._wait_until(account, held_until)
            horizon = give_up_at - time.monotonic()
            if not critical and account is not None:
                horizon = min(horizon, ROUTINE_BOOKING_SECONDS)
            request = _Request(
                account, rate, recipient, recipient_rate, horizon, _future(), order, critical
            )
            answer = await self._ask(request)
            slot = answer.slot
            if not answer.granted:
                self.denied += 1
                self._hints[(channel, address)] = slot
                if slot > give_up_at:
                    return None
                await self._wait_until(account if answer.account_busy else None, answer.again)
                continue
            with self._in_slot_order(account, answer, order) as turn:
                # Through the loop's timers even when the slot has passed: sends start in slot
                # order. (A send whose slot had passed did not sleep, and started before one
                # granted an earlier slot whose timer was due but not yet run: a loop stalled
                # for longer than a slot's spacing swapped them.)
                await asyncio.sleep(max(slot - time.monotonic(), _PAST_SLOT_SECONDS))
                now = time.monotonic()
                while now < slot:
                    # uvloop's timers count whole milliseconds on a clock read once per loop
                    # pass: they wake up to a millisecond early (measured: 536 of 2,000 sleeps,
                    # the worst 0.97 ms). A send a second after the answer of the one cap places
                    # back has only the network's transit to spare, on a loopback about 2 ms
                    # (measured in test_fleet_limits, whose fake Bot API once answered two 429s
                    # on CI).
                    await asyncio.sleep(slot - now)
                    now = time.monotonic()
                await turn()
                now = time.monotonic()
            self._hints.pop((channel, address), None)
            keys = [key for key in (account, recipient) if key is not None]
            return Pass(now - started, on_release=functools.partial(self._finish, keys, answer))
        self._hints[(channel, address)] = time.monotonic() + _DB_ERROR_RETRY_SECONDS
        return None

    @contextlib.contextmanager
    def _in_slot_order(
        self, account: str | None, answer: _Answer, order: int
    ) -> Iterator[Callable[[], Awaitable[None]]]:
        """The sends of one account start in the order of their slots on the database's clock.

        Each answer maps its slots onto this host's clock from the moment it came in, so a
        statement whose answer waited for a stalled loop (or a descheduled process) maps its
        slots that much later than the next statement's: a send granted the next slot in the
        next statement was timed before one granted in the first (measured under a loaded
        interpreter: 115 ms). A send whose timer is due waits (``await turn()``) for those
        granted an earlier slot on the account, never starting earlier than its own slot."""
        if account is None or answer.slot_db is None:

            async def no_wait() -> None:
                return None

            yield no_wait
            return
        waiting = self._unstarted.setdefault(account, [])
        mine = (answer.slot_db, order, asyncio.get_running_loop().create_future())
        heapq.heappush(waiting, mine)

        async def turn() -> None:
            while waiting[0] is not mine:
                await asyncio.shield(waiting[0][2])

        try:
            yield turn
        finally:
            if waiting[0] is mine:
                heapq.heappop(waiting)
            else:  # cancelled, or refused on the way
                waiting.remove(mine)
                heapq.heapify(waiting)
            if not waiting:
                del self._unstarted[account]
            mine[2].set_result(None)

    def _held_until(self, account: str | None, critical: bool) -> float:
        """Until when this worker's sends to ``account`` wait without asking (0: they ask)."""
        if account is None:
            return 0.0
        return max(
            self._paused_until.get(account, 0.0),
            self._not_before.get(account, 0.0),
            0.0 if critical else self._routine_not_before.get(account, 0.0),
        )

    async def _wait_until(self, account: str | None, moment: float) -> None:
        """Sleep until ``moment``. The sends of one account told the same moment wake in one
        loop pass, in the order they began to wait, so they ask again in one statement, in
        their order: on a timer each, a loop that stalled between two of their sleeps woke the
        later send a pass early (uvloop dates a timer from the loop's clock, read once a
        pass), it asked alone, was granted and started first."""
        if account is None:
            await asyncio.sleep(max(0.0, moment - time.monotonic()))
            return
        key = (account, moment)
        gate = self._gates.get(key)
        if gate is None:
            loop = asyncio.get_running_loop()
            gate = self._gates[key] = loop.create_future()
            loop.call_later(max(0.0, moment - time.monotonic()), self._open_gate, key)
        # Shielded: a cancelled send leaves the gate to the others.
        await asyncio.shield(gate)

    def _open_gate(self, key: tuple[str, float]) -> None:
        early = key[1] - time.monotonic()
        if early > 0:  # a timer up to a millisecond early (see acquire): not before its moment
            asyncio.get_running_loop().call_later(early, self._open_gate, key)
            return
        gate = self._gates.pop(key, None)
        if gate is not None and not gate.done():
            gate.set_result(None)

    def _hold_back(self, request: _Request) -> bool:
        """Answer a queued request without asking if its account holds this worker's sends
        back (see :meth:`_note`); True if it did."""
        held_until = self._held_until(request.account, request.critical)
        if held_until <= time.monotonic():
            return False
        if not request.answer.done():
            request.answer.set_result(_Answer(held_until, False, None, True, held_until))
        return True

    def _note(self, request: _Request, answer: _Answer) -> _Answer:
        """The refusal's moment to ask again, and the account's marks that hold this worker's
        later sends back until then. Set as the answer comes in, before the next statement:
        a send that asked in the next one, a few milliseconds later, could be granted the
        slot just refused (then within its horizon) and start before the send refused."""
        if answer.granted:
            return answer
        account = request.account
        again = answer.slot
        routine = not request.critical
        if account is not None and routine and again - time.monotonic() > request.horizon:
            # Beyond the routine horizon: ask again when the slot comes within it, so the grid
            # stays booked that far ahead and no further.
            again -= ROUTINE_BOOKING_SECONDS / 2
            if answer.account_busy:
                marks = self._routine_not_before
                marks[account] = max(marks.get(account, 0.0), again)
        elif answer.account_busy and account is not None:
            self._not_before[account] = max(self._not_before.get(account, 0.0), again)
        return dataclasses.replace(answer, again=again)

    def wait_hint(self, channel: Channel, address: str, now: float) -> float:
        """Seconds until a refused send should come back (from the ledger's last answer)."""
        return max(0.0, self._hints.pop((channel, address), now) - now)

    def pause(
        self, channel: Channel, now: float, seconds: float, account: str | None = None
    ) -> None:
        """The provider answered retry_after ``seconds``: hold the account fleet-wide."""
        account = account or self._accounts[channel]
        self._paused_until[account] = max(self._paused_until.get(account, 0.0), now + seconds)
        task = asyncio.get_running_loop().create_task(self._write_pause(account, seconds))
        self._pausing.add(task)
        task.add_done_callback(self._pausing.discard)

    async def _write_pause(self, account: str, seconds: float) -> None:
        try:
            await self.pool.execute(
                query("dispatch", "pause_send_key"),
                account,
                seconds,
                timeout=_STATEMENT_TIMEOUT_SECONDS,
            )
        except _DB_ERRORS as exc:  # this worker still pauses; the others learn from their 429s
            logger.warning("could not record a provider pause", extra={"error": type(exc).__name__})

    async def aclose(self) -> None:
        """Finish writing pauses and reports; stop taking slots."""
        logger.info(
            "fleet rate ledger",
            extra={"statements": self.statements, "denied": self.denied},
        )
        if self._pausing:
            await asyncio.gather(*self._pausing, return_exceptions=True)
        if self._finished:
            self._report_now()
        if self._taker is not None and not self._taker.done():
            # Reports of finished sends free serial keys for the other workers: let them go out.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait({self._taker}, timeout=_STATEMENT_TIMEOUT_SECONDS)
            self._taker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._taker

    # -- the statement ---------------------------------------------------------------------

    async def _ask(self, request: _Request) -> _Answer:
        self._queue.append(request)
        self._wake_taker()
        return await request.answer

    def _finish(self, keys: list[str], answer: _Answer) -> None:
        """A send is over: its keys' windows count it until a second after now (reported within
        ``REPORT_SECONDS``, with the next take or on a timer, in one statement for all)."""
        if answer.slot_db is None:
            return
        answered = time.monotonic()
        self._finished.extend((key, answer.slot_db, answered) for key in keys)
        self._schedule_report()

    def _schedule_report(self) -> None:
        if self._report_due is None and not self._report_wanted:
            self._report_due = asyncio.get_running_loop().call_later(
                REPORT_SECONDS, self._report_now
            )

    def _report_now(self) -> None:
        if self._report_due is not None:
            self._report_due.cancel()
            self._report_due = None
        self._report_wanted = True
        self._wake_taker()

    def _wake_taker(self) -> None:
        if self._taker is None or self._taker.done():
            self._taker = asyncio.get_running_loop().create_task(self._take_loop())

    async def _take_loop(self) -> None:
        """Serve queued requests and due reports, one statement each per batch, until none is
        left. Reports go when their timer fires, or before a take (which may need them); answers
        that come in meanwhile wait for the next timer, not for an extra statement each."""
        while self._queue or (self._finished and self._report_wanted):
            if self._finished:
                finished, self._finished = self._finished, []
                self._report_wanted = False
                if self._report_due is not None:  # these go now: no timer for them
                    self._report_due.cancel()
                    self._report_due = None
                try:
                    await self._report(finished)
                except _DB_ERRORS as exc:  # the keys free themselves when their hold ends
                    logger.warning("freeing send slots failed", extra={"error": type(exc).__name__})
                if self._finished:  # answered during the statement
                    self._schedule_report()
            if not self._queue:
                continue
            batch, self._queue = self._queue, []
            # Sends queued while the statement before refused their account: they wait with
            # the send refused, as acquire would have held them had they asked after it.
            batch = [r for r in batch if not self._hold_back(r)]
            if not batch:
                continue
            # Critical sends first, then the others in the order they first asked (sends that
            # woke together after a refusal or a pause).
            batch.sort(key=_first_asked)
            batch, held = _routine_cap(batch)
            # A routine request held back gets the answer of the first routine one of its
            # account that the account's grid refused at the full routine horizon: the ledger
            # would have refused it too (same grid, no later horizon). Without such an answer
            # it asks in the next statement.
            full: dict[str | None, _Answer] = {}
            try:
                answers = await self._take(batch)
            except _DB_ERRORS as exc:
                logger.warning("taking send slots failed", extra={"error": type(exc).__name__})
                later = time.monotonic() + _DB_ERROR_RETRY_SECONDS
                answers = [_Answer(later, False, None, False, later)] * len(batch)
                full = {r.account: answers[0] for r in held}  # they ask again then, too
            except BaseException:
                for r in (*batch, *held):
                    if not r.answer.done():
                        r.answer.cancel()
                raise
            for r, answer in zip(batch, answers, strict=True):
                answer = self._note(r, answer)
                if not r.answer.done():
                    r.answer.set_result(answer)
                if (
                    held
                    and not r.critical
                    and not answer.granted
                    and answer.account_busy
                    and r.horizon >= ROUTINE_BOOKING_SECONDS
                ):
                    full.setdefault(r.account, answer)
            for r in held:
                refused = full.get(r.account)
                if refused is None:
                    self._queue.append(r)
                elif not r.answer.done():
                    r.answer.set_result(refused)

    async def _report(self, finished: list[tuple[str, datetime, float]]) -> None:
        now = time.monotonic()
        await self.pool.execute(
            query("dispatch", "finish_send_slots"),
            [f[0] for f in finished],
            [f[1] for f in finished],
            [now - f[2] for f in finished],  # ages: the database subtracts them from its now
            timeout=_STATEMENT_TIMEOUT_SECONDS,
        )
        self.reports += 1

    async def _take(self, batch: list[_Request]) -> list[_Answer]:
        rows = await self.pool.fetch(
            query("dispatch", "take_send_slots"),
            [r.account for r in batch],
            [r.rate for r in batch],
            [r.recipient for r in batch],
            [r.recipient_rate for r in batch],
            [max(0.0, r.horizon) for r in batch],
            LEAD_SECONDS,
            self.hold_seconds,
            timeout=_STATEMENT_TIMEOUT_SECONDS,
        )
        answered = time.monotonic()
        self.statements += 1
        metrics.SLOT_STATEMENTS.inc()
        if not rows:
            return []
        # The database's now happened somewhere between sending and answering (after any wait
        # for a row lock): map it to the answer, so a slot never starts early on this clock.
        db_now: datetime = rows[0]["db_now"]
        origin = answered
        return [
            _Answer(
                origin + (r["slot_at"] - db_now).total_seconds(),
                bool(r["granted"]),
                r["slot_at"],
                bool(r["account_busy"]),
            )
            for r in rows
        ]


def _first_asked(request: _Request) -> tuple[bool, int]:
    return (not request.critical, request.order)


def _routine_cap(batch: list[_Request]) -> tuple[list[_Request], list[_Request]]:
    """(the requests to ask for, the routine ones held back): of each account, the routine
    requests the grid may grant within ``ROUTINE_BOOKING_SECONDS`` (one slot each ``1/rate``)
    and one more, in the batch's order. A worker holding a peak's backlog had every waiting send
    (up to its concurrency) re-ask in each statement, four a second, to be refused but for a few:
    at 30/s, 64 requests for 15 slots."""
    counts: dict[str, int] = {}
    asked: list[_Request] = []
    held: list[_Request] = []
    for r in batch:
        if r.critical or r.account is None or r.rate <= 0:
            asked.append(r)
            continue
        n = counts.get(r.account, 0)
        if n >= int(r.rate * ROUTINE_BOOKING_SECONDS) + 2:
            held.append(r)
        else:
            counts[r.account] = n + 1
            asked.append(r)
    return asked, held


def _future() -> asyncio.Future[_Answer]:
    return asyncio.get_running_loop().create_future()


async def prune_ledger(pool: asyncpg.Pool, before: datetime) -> int:
    """Forget ledger keys whose next slot is older than ``before``; return how many."""
    status: str = await pool.execute(query("dispatch", "prune_send_ledger"), before)
    return int(status.rsplit(" ", 1)[-1]) if status else 0


__all__ = ["FleetLimiter", "prune_ledger", "recipient_key"]
