"""Render messages before they are due, so that a burst at 08:00 sends what 07:59 rendered.

Rendering is the largest share of a reminder's cost on the worker (issue 20: ~15-20 us of ~100 us
at 08:00, measured by making it free). The planner writes reminders hours ahead, so once a second
this reads the pending messages due within :data:`HORIZON_SECONDS` (``dispatch.sql:
render_ahead``: the claim's own layout, without a lease), builds each one's
:class:`~scheduler.claims.Claim` from the worker's patient cache, picks the channel the
deliverer would try first and renders it there. The text is held by message id.

Nothing stale is ever sent: the deliverer takes a held text only when the claim it is sending
is the one it was rendered from (every field but the lease token and the attempt count, which
rendering never reads: tests/dispatch/test_render_ahead.py checks what it reads), on the same
channel, with the same clinician template versions in the worker's template cache. A patient
renamed, a medicine edited, a clinic's new template or a channel gone since makes the claim
differ, and the message is rendered afresh as it always was. Nor is a reminder's day: it is
rendered as sent at its ``scheduled_time``, and one taken after the patient's midnight when it
was rendered before (or the other way round) is rendered afresh, naming its dose's day or not as
the send's moment says (:mod:`scheduler.dose_day`). The rendered values are marked
sensitive again when taken (the log scrubber keeps only the newest ten thousand).

Bounded: at most :data:`MAX_HELD` texts (~2 KB each); texts held past their due time by
:data:`STALE_SECONDS` (claimed by another worker, held back, cancelled) are dropped. In a fleet
each worker renders its share of the messages due (:mod:`scheduler.fleet_share`), the share it
claims ahead: each text once per fleet.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import operator
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from uuid import UUID

import asyncpg

from core.logs import mark_sensitive
from core.messages import Channel, OutboundMessage
from core.templating import TemplateRenderer
from scheduler import claim_sql
from scheduler.claim_cache import ClaimCache
from scheduler.claims import (
    NO_PATIENT,
    STATEMENT_TIMEOUT_SECONDS,
    Claim,
    PatientData,
    build_claim,
    check_columns,
    read_into_cache,
)
from scheduler.custom_templates import AUTOMATIC_KINDS, cached_cache, prefetch_templates
from scheduler.dose_day import DOSE_DAY_KINDS, other_day
from scheduler.fleet_share import WHOLE, FleetShare
from scheduler.periodic import Periodic
from scheduler.questions import QuestionParts, question_parts
from scheduler.rendering import render_or_fallback

logger = logging.getLogger(__name__)

HORIZON_SECONDS = 60.0
INTERVAL_SECONDS = 1.0
MAX_HELD = 100_000
STALE_SECONDS = 600.0
# How often the held texts are swept for stale ones (a pass over all of them). Swept on every
# pass (each second), 100,000 texts held for an 08:00 burst cost the worker ~25 ms a second in
# the burst itself (issue 20); a text may now outlive STALE_SECONDS by up to this much.
SWEEP_SECONDS = 60.0
_CHUNK = 500  # rows fetched (and their missing patients read) at a time
_YIELD_EVERY = 50  # renders between yields to the event loop (sends due now go first)
_TOO_SOON_SECONDS = 1.0  # a message due within this is left to its claim

# What rendering may read of a claim: every field but the two a claim changes (the lease token,
# the attempt count). Compared whole: a field added to Claim is compared without a change here.
_NOT_RENDERED = frozenset({"lease_token", "attempts"})
RENDER_FIELDS = tuple(f.name for f in dataclasses.fields(Claim) if f.name not in _NOT_RENDERED)
render_inputs: Callable[[Claim], tuple[Any, ...]] = operator.attrgetter(*RENDER_FIELDS)


def templates_in_use(renderer: TemplateRenderer | None, c: Claim) -> Any:
    """The clinician template versions rendering ``c`` would look up in the worker's template
    cache (scheduler.rendering.render_claim's choice), or None."""
    cache = cached_cache(renderer)
    if cache is None:
        return None
    if c.template is not None:
        return cache.lookup(c.patient_id, c.template) if c.patient_id is not None else None
    if c.kind in AUTOMATIC_KINDS and c.organization_id is not None:
        return cache.automatic(c.organization_id, c.kind)
    return None


def names_the_day(c: Claim, at: datetime) -> bool:
    """Whether ``c`` rendered for a send at ``at`` names its dose's day (it goes out on another
    day than its dose's, where the patient lives)."""
    due = c.dose_due_at
    return due is not None and c.kind in DOSE_DAY_KINDS and other_day(due, c.timezone, at)


class _Held(NamedTuple):
    inputs: tuple[Any, ...]
    channel: Channel
    templates: Any
    message: OutboundMessage
    note: str | None
    due: datetime
    day: bool  # the text names the dose's day (rendered for a send at the claim's due time)
    # The question it asks, but for where it goes (scheduler.questions.asked_question).
    question: QuestionParts | None


class RenderedAhead:
    """Texts rendered ahead, by message id; :meth:`take` hands one over only for its claim."""

    def __init__(self, max_held: int = MAX_HELD) -> None:
        self.max_held = max_held
        self._held: dict[UUID, _Held] = {}
        self.rendered = 0  # rendered ahead (counters for tests and benchmarks)
        self.taken = 0  # sent as rendered ahead
        self.stale = 0  # held, but the claim or its channel differed: rendered afresh
        self._swept: datetime | None = None  # the last sweep for stale texts (drop_stale)
        # No held text is due before this (a lower bound: taking texts only raises the true
        # earliest). A sweep that could find nothing stale skips its pass over every text.
        self._earliest: datetime | None = None

    def __len__(self) -> int:
        return len(self._held)

    def __contains__(self, message_id: object) -> bool:
        return message_id in self._held

    @property
    def full(self) -> bool:
        """No room for another text."""
        return len(self._held) >= self.max_held

    def put(
        self,
        c: Claim,
        channel: Channel,
        templates: Any,
        message: OutboundMessage,
        note: str | None,
    ) -> None:
        """Hold ``message`` (and its fallback ``note``) as ``c`` renders on ``channel`` for a
        send at its ``scheduled_time``."""
        if not self.full:
            if self._earliest is None or c.scheduled_time < self._earliest:
                self._earliest = c.scheduled_time
            self._held[c.id] = _Held(
                render_inputs(c),
                channel,
                templates,
                message,
                note,
                c.scheduled_time,
                names_the_day(c, c.scheduled_time),
                question_parts(message),
            )
            self.rendered += 1

    def take(
        self, c: Claim, channel: Channel, renderer: TemplateRenderer | None, now: datetime
    ) -> tuple[OutboundMessage, str | None, QuestionParts | None] | None:
        """The text held for ``c`` on ``channel`` (with its fallback note and the parts of the
        question it asks) if it was rendered from this very claim and the same clinician
        templates, and names its dose's day as a render at ``now`` (the send) would, else None
        (render it afresh). Either way it is dropped."""
        held = self._held.pop(c.id, None)
        if held is None:
            return None
        if (
            held.channel != channel
            or held.inputs != render_inputs(c)
            or held.templates != templates_in_use(renderer, c)
            or held.day != names_the_day(c, now)
        ):
            self.stale += 1
            return None
        message = held.message
        mark_sensitive(c.message_content, c.medicine_name, c.medicine_dose)
        mark_sensitive(message.text, message.subject)
        self.taken += 1
        return message, held.note, held.question

    def drop_stale(self, now: datetime) -> int:
        """Drop the texts due more than :data:`STALE_SECONDS` ago; how many. Sweeps at most
        every :data:`SWEEP_SECONDS` (of ``now``), unless no room is left, and never when no
        text held can be stale yet."""
        cutoff = now - timedelta(seconds=STALE_SECONDS)
        if self._earliest is None or self._earliest >= cutoff:
            # Full at 07:59 with 08:00's texts, a sweep each pass went over all 100,000 of them
            # (~25 ms a second, ~15 us of worker CPU a message of the burst: issue 20).
            return 0
        if (
            self._swept is not None
            and abs((now - self._swept).total_seconds()) < SWEEP_SECONDS
            and not self.full
        ):
            return 0
        self._swept = now
        stale = [k for k, h in self._held.items() if h.due < cutoff]
        for key in stale:
            del self._held[key]
        self._earliest = min((h.due for h in self._held.values()), default=None)
        return len(stale)

    def clear(self) -> None:
        """Drop every text (the patient cache they were built from went)."""
        self._held.clear()
        self._earliest = None


class RenderAhead(Periodic):
    """``await RenderAhead(...).run()`` until :meth:`stop`; see the module docstring.

    ``cache()``: the claims' patient cache as it is now (a claim session replaces its cache when
    it closes). ``first_channel(claim)``: the channel the deliverer would try first, or None.
    ``clock``: the dispatcher's (what it claims is due by it). ``share``: the worker's share of
    the fleet (:mod:`scheduler.fleet_share`), refreshed by each pass; only its messages are
    rendered.
    """

    failure = "could not render ahead"

    def __init__(
        self,
        pool: asyncpg.Pool,
        cache: Callable[[], ClaimCache],
        renderer: TemplateRenderer | None,
        first_channel: Callable[[Claim], Channel | None],
        held: RenderedAhead,
        clock: Callable[[], datetime],
        *,
        horizon: float = HORIZON_SECONDS,
        interval: float = INTERVAL_SECONDS,
        share: FleetShare | None = None,
    ) -> None:
        super().__init__(interval, logger)
        self.pool = pool
        self.share = share  # None: every message due (no fleet to share it with)
        self.cache = cache
        self.renderer = renderer
        self.first_channel = first_channel
        self.held = held
        self.clock = clock
        self.horizon = horizon
        self._upper: datetime | None = None  # where the windows rendered so far end
        self._cache: ClaimCache | None = None
        self._drops = -1
        self._cut = False  # the pass stopped short (no room, or what is left is due now)

    async def once(self) -> int:
        """One pass over what falls due in the window, as far as there is room; how many were
        rendered."""
        if self.renderer is None:
            return 0
        cache = self.cache()
        if cache is not self._cache or cache.drops != self._drops:
            # Built from a cache that is gone: what was held may rest on what it dropped.
            self.held.clear()
            self._upper = None
            self._cache, self._drops = cache, cache.drops
        if not cache.live:
            return 0
        rendered = 0
        async with self.pool.acquire() as conn:
            share = self.share.current if self.share is not None else WHOLE
            if self.share is not None:
                upper = await self.share.refresh(conn, self.horizon)
                if self.share.current != share:  # a worker came or went: the window again
                    self._upper = None
                    share = self.share.current
            else:
                upper = await conn.fetchval(
                    "select now() + make_interval(secs => $1)", self.horizon
                )
            self.held.drop_stale(upper - timedelta(seconds=self.horizon))
            if self.held.full:
                return 0
            async with conn.transaction(readonly=True):
                cursor = await conn.cursor(
                    claim_sql.render_ahead(),
                    self._upper,
                    upper,
                    _TOO_SOON_SECONDS,
                    *share.params,
                    timeout=None,
                )
                self._cut = False
                while not self._cut and not self.stopping:
                    rows = await cursor.fetch(_CHUNK, timeout=STATEMENT_TIMEOUT_SECONDS)
                    if not rows:
                        break
                    rendered += await self._render(conn, cache, rows)
                if self._cut or self.stopping:
                    # Out of room, or the rest due now: this window again next pass (what is
                    # held is skipped, what is due by then is past its lower bound).
                    return rendered
        self._upper = upper
        return rendered

    async def _render(
        self, conn: asyncpg.Connection, cache: ClaimCache, rows: Sequence[asyncpg.Record]
    ) -> int:
        check_columns(rows, "render_ahead")
        rows = [r for r in rows if r[0] not in self.held]
        patients = await self._patients(conn, cache, {r[1] for r in rows if r[1] is not None})
        claims = [build_claim(r, patients.get(r[1], NO_PATIENT)) for r in rows]
        await prefetch_templates(self.pool, self.renderer, claims)
        done = 0
        # Due this soon, it is claimed before (or while) it would be rendered here: the pass
        # ends, and what follows (due later still) waits for the next pass.
        soon = self.clock() + timedelta(seconds=_TOO_SOON_SECONDS)
        for n, c in enumerate(claims, start=1):
            if self.held.full or c.scheduled_time <= soon:
                self._cut = True
                break
            if n % _YIELD_EVERY == 0:
                await asyncio.sleep(0)  # sends due now go first
            channel = self.first_channel(c)
            if channel is None:
                continue
            try:
                message, note = render_or_fallback(self.renderer, c, channel)
            except Exception:  # noqa: S112  the send renders it again and records why
                continue
            self.held.put(c, channel, templates_in_use(self.renderer, c), message, note)
            done += 1
        return done

    async def _patients(
        self, conn: asyncpg.Connection, cache: ClaimCache, wanted: set[UUID]
    ) -> dict[UUID, PatientData]:
        """The patients of a chunk: from the cache, the rest read into it as a fill."""
        found: dict[UUID, PatientData] = {}
        for p in wanted:
            entry = cache.get(p)
            if entry is not None:
                found[p] = entry
        missing = [p for p in wanted if p not in found]
        if missing:
            found.update(await read_into_cache(conn, cache, missing))
        return found


__all__ = [
    "HORIZON_SECONDS",
    "MAX_HELD",
    "RENDER_FIELDS",
    "RenderAhead",
    "RenderedAhead",
    "names_the_day",
    "render_inputs",
    "templates_in_use",
]
