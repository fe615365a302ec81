"""The dispatcher's store: claim due rows, record outcomes in bulk, mark contact points.

A claim is one statement, and one more per batch for the patients not in the worker's cache
(:func:`assemble`); every other function is one round trip. Outcomes and attempts of a whole
batch go in one statement (``unnest`` of aligned arrays), guarded by each row's lease token.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, time
from typing import TYPE_CHECKING, Any, NamedTuple
from uuid import UUID

import asyncpg

from core.sql import query
from scheduler import claim_sql
from scheduler.fleet_share import WHOLE, Share

if TYPE_CHECKING:
    from scheduler.claim_cache import ClaimCache

logger = logging.getLogger(__name__)

# No statement of the dispatcher may hang the loop (a half-open connection after a failover).
STATEMENT_TIMEOUT_SECONDS = 30.0

# The record statement's plan does not depend on its values (an index probe per outcome, since
# migration 20260101010010 no partial index can be chosen instead), so it is planned once per
# connection: the worker's connections otherwise plan every statement with its values
# (core.db.CUSTOM_PLANS), and planning the record took 0.4-0.6 ms of Postgres CPU per call, as
# much as recording 10-40 reminders. As the dispatcher's claim does, in its own transaction.
_GENERIC_PLAN_TRANSACTION = "begin; set local plan_cache_mode = force_generic_plan"


class ContactInfo(NamedTuple):
    """A contact point as routing sees it."""

    id: UUID
    channel: str
    address: str
    usable: bool
    bot: str | None = None  # a Telegram chat's bot id (None: the default bot)


@dataclasses.dataclass(slots=True)
class Claim:
    """A claimed row with what rendering and routing need (see ``dispatch.sql: claim``).

    Read-only by convention (use ``dataclasses.replace``): not ``frozen``, because a frozen
    dataclass of 43 fields took 7.5 us to construct, a third of the cost of a claim at thousands
    a second. It is built positionally (:func:`build_claim`) from a row of the claim statement
    (what changes per message) and its patient's :class:`PatientData` (from the worker's cache,
    scheduler.claim_cache, or read in one query per batch); the layout is checked at import.
    """

    id: UUID
    patient_id: UUID | None  # None: a reply to a chat that has no patient yet
    lease_token: UUID
    scheduled_time: datetime
    platform: str
    kind: str
    attempts: int
    max_attempts: int
    priority: int = 5
    message_content: str | None = None
    template: str | None = None
    expires_at: datetime | None = None
    urgent: bool = False
    allow_fallback: bool = True
    caregiver_id: UUID | None = None
    dose_event_id: UUID | None = None
    appointment_id: UUID | None = None
    locale: str = "en"
    timezone: str = "UTC"
    display_name: str | None = None
    quiet_start: time | None = None
    quiet_end: time | None = None
    name_medicine_in_reminders: bool = False
    patient_status: str = "active"
    # Re-checked at send time: a pause holds medication messages, no consent holds all but
    # service notices (scheduler.delivery.withheld_reason).
    reminders_paused: bool = False
    # Who paused ('patient', 'clinic'; None: not known): named in a held row's reason.
    reminders_paused_by: str | None = None
    consented: bool = True
    # The patient's (else the clinic's) choice for the message's category (patient_preferences,
    # public.message_category): an opt-out withholds it at send time; a channel goes first.
    category_opted_out: bool = False
    category_channel: str | None = None
    organization_name: str | None = None
    default_quiet_start: time | None = None
    default_quiet_end: time | None = None
    # The patient's clinic: whose provider accounts send it (scheduler.clinic_senders).
    organization_id: UUID | None = None
    # The clinic's IANA zone: where its appointments happen, named beside the patient's own time
    # when the two differ (scheduler.appointment_times).
    organization_timezone: str | None = None
    caregiver_channel: str | None = None
    caregiver_address: str | None = None
    caregiver_active: bool | None = None
    caregiver_share_details: bool | None = None
    caregiver_name: str | None = None
    caregiver_timezone: str | None = None  # None: the patient's zone (``timezone``)
    medicine_name: str | None = None
    medicine_dose: str | None = None
    dose_due_at: datetime | None = None
    dose_status: str | None = None
    # The dose's medicine: 'paused' or 'deleted' withholds its reminders (re-checked at send time).
    medication_status: str | None = None
    appointment_starts_at: datetime | None = None
    appointment_location: str | None = None
    appointment_clinician: str | None = None
    # The appointment's status when claimed: a confirmation or reminder of one cancelled since it
    # was planned is not sent (scheduler.delivery_gate).
    appointment_status: str | None = None
    # A bot reply: the address of the chat it answers, on ``platform`` (nothing else is tried).
    reply_address: str | None = None
    # Converted in ``from_row``: text[] -> tuple, jsonb -> dict, four arrays -> ContactInfo.
    channels_tried: tuple[str, ...] = ()
    channel_order: tuple[str, ...] = ()
    payload: dict[str, Any] = dataclasses.field(default_factory=dict)
    contacts: tuple[ContactInfo, ...] = ()


# The claim statement's columns (dispatch.sql: claim): the message and what changes per message.
CLAIM_COLUMNS = (
    *tuple(f.name for f in dataclasses.fields(Claim))[:17],
    "category",  # public.message_category: which preference holds the message
    "caregiver_channel",
    "caregiver_address",
    "caregiver_active",
    "caregiver_share_details",
    "caregiver_name",
    "caregiver_timezone",
    "medicine_name",
    "medicine_dose",
    "dose_due_at",
    "dose_status",
    "medication_status",
    "appointment_starts_at",
    "appointment_location",
    "appointment_clinician",
    "appointment_status",
    "reply_address",
    "channels_tried",
    "payload",
)
_CATEGORY = CLAIM_COLUMNS.index("category")
_TRIED = CLAIM_COLUMNS.index("channels_tried")
_PAYLOAD = CLAIM_COLUMNS.index("payload")
_PER_MESSAGE = slice(_CATEGORY + 1, _TRIED)
# The patient's columns (dispatch.sql: claim_patients), cached by scheduler.claim_cache.
PATIENT_COLUMNS = (
    "id",
    "locale",
    "timezone",
    "display_name",
    "quiet_start",
    "quiet_end",
    "name_medicine_in_reminders",
    "patient_status",
    "reminders_paused",
    "reminders_paused_by",
    "consented",
    "organization_name",
    "default_quiet_start",
    "default_quiet_end",
    "organization_id",
    "organization_timezone",
    "channel_order",
    "contact_ids",
    "contact_channels",
    "contact_addresses",
    "contact_usable",
    "contact_bots",
    "categories",
    "opted_out",
    "channels",
)


class PatientData(NamedTuple):
    """What a claim needs of its patient (a cache entry): the same for all their messages."""

    head: tuple[Any, ...]  # locale .. consented, in Claim's field order
    # organization_name, default quiet start/end, organization_id, organization_timezone
    clinic: tuple[Any, ...]
    channel_order: tuple[str, ...]
    contacts: tuple[ContactInfo, ...]
    # category -> (opted out, channel): the patient's choice, else the clinic's
    preferences: dict[str, tuple[bool, str | None]]

    @property
    def organization_id(self) -> UUID | None:
        """The patient's clinic (the cache's group: a clinic's edit drops its patients)."""
        org: UUID | None = self.clinic[3]
        return org

    @classmethod
    def from_row(cls, row: asyncpg.Record | Sequence[Any]) -> PatientData:
        """Build from a row of ``claim_patients`` (columns as :data:`PATIENT_COLUMNS`)."""
        ids, channels, addresses, usable, bots = row[17:22]
        categories, opted_out, pref_channels = row[22:25]
        return cls(
            tuple(row[1:11]),
            tuple(row[11:16]),
            tuple(row[16] or ()),
            tuple(map(ContactInfo, ids, channels, addresses, usable, bots)) if ids else (),
            dict(zip(categories, zip(opted_out, pref_channels, strict=True), strict=True))
            if categories
            else {},
        )


# A message without a patient (a reply to a chat that has none yet), or whose patient is gone:
# what the claim's left joins gave before the cache.
NO_PATIENT = PatientData((None,) * 10, (None,) * 5, (), (), {})


def build_claim(row: asyncpg.Record | Sequence[Any], patient: PatientData) -> Claim:
    """A :class:`Claim` from a row of the claim statement and its patient's data."""
    category = row[_CATEGORY]
    opted_out, channel = patient.preferences.get(category, (False, None))
    # One starred list: Claim is built positionally (its fields in this order, checked below).
    fields = [
        *row[:_CATEGORY],
        *patient.head,
        opted_out,
        channel,
        *patient.clinic,
        *row[_PER_MESSAGE],
        # Positive indexes: an asyncpg Record takes ~1 us for a negative one.
        tuple(row[_TRIED] or ()),
        patient.channel_order,
        row[_PAYLOAD] or {},
        patient.contacts,
    ]
    return Claim(*fields)


def _check_layout() -> None:
    """build_claim is positional: a dataclass edited out of step must fail at import."""
    layout = (
        *CLAIM_COLUMNS[:_CATEGORY],
        *PATIENT_COLUMNS[1:11],
        "category_opted_out",
        "category_channel",
        *PATIENT_COLUMNS[11:16],
        *CLAIM_COLUMNS[_PER_MESSAGE],
        "channels_tried",
        "channel_order",
        "payload",
        "contacts",
    )
    fields = tuple(f.name for f in dataclasses.fields(Claim))
    if layout != fields:
        raise RuntimeError(f"scheduler.claims: build_claim lays out {layout}, Claim has {fields}")


_check_layout()


class Outcome(NamedTuple):
    """The new state of one claimed row (applied only while its lease is held).

    Named tuples, like :class:`AttemptRow`: built for every message, and cheaper to build than
    frozen dataclasses.
    """

    id: UUID
    lease_token: UUID
    status: str
    next_time: datetime | None = None  # new scheduled_time for rows put back to pending
    attempts_delta: int = 0  # -1 when the claim did not count as an attempt (rate limit, deferral)
    last_error: str | None = None
    sent_at: datetime | None = None
    provider_message_id: str | None = None
    channel_used: str | None = None
    channels_tried: tuple[str, ...] | None = None
    # The text sent, kept as the row's message_content when it had none (a template rendered
    # for this patient), so the dashboard and the API show what the patient received.
    rendered_text: str | None = None
    # The question the sent message asked, recorded on its chat (scheduler.questions), as JSON.
    question: str | None = None


class AttemptRow(NamedTuple):
    """One row of ``message_delivery_attempts``."""

    message_id: UUID
    attempt_time: datetime
    status: str
    channel: str | None
    error_class: str | None = None
    error_message: str | None = None
    provider_message_id: str | None = None
    duration_ms: int | None = None


async def claim(
    conn: asyncpg.Connection | asyncpg.Pool,
    *,
    now: datetime,
    limit: int,
    worker: str,
    lease_seconds: float,
) -> list[Claim]:
    """Claim up to ``limit`` due pending rows for ``worker`` with a lease of ``lease_seconds``,
    with their patients read afresh (no cache)."""
    if isinstance(conn, asyncpg.Pool):
        async with conn.acquire() as connection:
            return await claim(
                connection, now=now, limit=limit, worker=worker, lease_seconds=lease_seconds
            )
    rows = await claim_rows(conn, now=now, limit=limit, worker=worker, lease_seconds=lease_seconds)
    return await assemble(conn, rows)


async def claim_rows(
    conn: asyncpg.Connection,
    *,
    now: datetime,
    limit: int,
    worker: str,
    lease_seconds: float,
    barrier: str | None = None,
    share: Share = WHOLE,
) -> list[asyncpg.Record]:
    """The claim statement alone: rows as :data:`CLAIM_COLUMNS`. ``barrier``: the token the
    statement notifies when it claims something (:meth:`ClaimCache.token`)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        claim_sql.claim(),
        now,
        limit,
        worker,
        lease_seconds,
        barrier,
        *share.params,
        timeout=STATEMENT_TIMEOUT_SECONDS,
    )
    check_columns(rows, "claim")
    return rows


def check_columns(rows: Sequence[asyncpg.Record], statement: str) -> None:
    """Rows are read by position (:func:`build_claim`): a statement of scheduler/claim_sql.py
    edited out of step with :data:`CLAIM_COLUMNS` must fail loudly."""
    if rows and tuple(rows[0].keys()) != CLAIM_COLUMNS:
        raise RuntimeError(
            f"scheduler/claim_sql.py {statement} returns {tuple(rows[0].keys())},"
            f" claims.py expects {CLAIM_COLUMNS}"
        )


async def assemble(
    conn: asyncpg.Connection,
    rows: Sequence[asyncpg.Record],
    cache: ClaimCache | None = None,
    barrier: str | None = None,
) -> list[Claim]:
    """Claims from claimed rows and their patients: from ``cache`` once the claim's ``barrier``
    arrived (scheduler.claim_cache), the rest read in one query on ``conn``."""
    if not rows:
        return []
    wanted = {r[1] for r in rows}
    wanted.discard(None)
    patients: dict[UUID, PatientData] = {}
    if (
        cache is not None
        and barrier is not None
        and any(p in cache for p in wanted)
        and await cache.caught_up(barrier)
    ):
        # Every edit the claim could see has dropped its entries by now (no await below).
        for p in wanted:
            entry = cache.get(p)
            if entry is not None:
                patients[p] = entry
        cache.hits += len(patients)
    missing = [p for p in wanted if p not in patients]
    if missing:
        if cache is None:
            read = await read_patients(conn, missing)
        else:
            cache.misses += len(missing)
            read = await read_into_cache(conn, cache, missing)
        patients.update(read)
    return [build_claim(r, patients.get(r[1], NO_PATIENT)) for r in rows]


async def read_into_cache(
    conn: asyncpg.Connection, cache: ClaimCache, ids: Sequence[UUID]
) -> dict[UUID, PatientData]:
    """:func:`read_patients`, kept in ``cache`` as a fill (begun before the read: an edit that
    lands during it is not kept)."""
    fill = cache.begin_fill()
    try:
        read = await read_patients(conn, ids)
    except BaseException:
        cache.end_fill(fill, ())
        raise
    cache.end_fill(fill, ((p, d, d.organization_id) for p, d in read.items()))
    return read


async def read_patients(conn: asyncpg.Connection, ids: Sequence[UUID]) -> dict[UUID, PatientData]:
    """What claims need of the patients ``ids`` (those that exist), in one query."""
    rows = await conn.fetch(
        query("dispatch", "claim_patients"), ids, timeout=STATEMENT_TIMEOUT_SECONDS
    )
    if rows and tuple(rows[0].keys()) != PATIENT_COLUMNS:
        raise RuntimeError(
            f"dispatch.sql claim_patients returns {tuple(rows[0].keys())},"
            f" claims.py expects {PATIENT_COLUMNS}"
        )
    return {r[0]: PatientData.from_row(r) for r in rows}


async def record(
    conn: asyncpg.Connection | asyncpg.Pool,
    outcomes: Sequence[Outcome],
    attempts: Sequence[AttemptRow],
    *,
    plan_once: bool = True,
) -> set[UUID]:
    """Apply outcomes and insert attempts in one statement; return the ids whose lease held.

    ``plan_once``: run it with a generic plan in a transaction of its own, for the worker's
    connections, which plan every statement with its values (``core.db.CUSTOM_PLANS``). False
    for a pool that leaves plans to Postgres (the web process's): the wrapping would only add
    two round trips.
    """
    if not outcomes and not attempts:
        return set()
    if isinstance(conn, asyncpg.Pool):
        async with conn.acquire() as connection:
            return await record(connection, outcomes, attempts, plan_once=plan_once)
    if not plan_once or conn.is_in_transaction():
        # The caller's transaction: a "set local" would outlive this statement in it.
        return await record_statement(conn, outcomes, attempts)
    await conn.execute(_GENERIC_PLAN_TRANSACTION)  # one round trip (simple protocol)
    try:
        applied = await record_statement(conn, outcomes, attempts)
        await conn.execute("commit")
    except BaseException:
        # Nothing was recorded (or the commit's answer was lost: the leases then expire and the
        # reaper returns the rows, as after a lost worker). Return the connection clean.
        if not conn.is_closed() and conn.is_in_transaction():
            with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                await conn.execute("rollback")
        raise
    return applied


async def without_erased(
    pool: asyncpg.Pool, outcomes: Sequence[Outcome], attempts: Sequence[AttemptRow]
) -> tuple[list[Outcome], list[AttemptRow]] | None:
    """The outcomes and attempts whose message still exists, after a record failed on a foreign
    key (None: no message is gone, the failure has another cause).

    A patient's erasure deletes their messages, one being sent included: its attempt rows then
    name nothing and the record's statement fails on their foreign key. Retried as it was, it
    failed again, with every other outcome written with it: the dispatcher's later outcomes
    (another clinic's patient was sent the same message each time its lease ran out, the attack
    run of 2026-12-05), the web process's other callers' replies (bot.reply_records). What an
    erased message's send did is not kept (nothing of the patient is), so it is dropped, counted.
    """
    ids = list({o.id for o in outcomes} | {a.message_id for a in attempts})
    async with pool.acquire() as conn:
        there = {r[0] for r in await conn.fetch(query("dispatch", "existing_messages"), ids)}
    gone = set(ids) - there
    if not gone:
        return None
    logger.info("outcomes of erased messages not recorded", extra={"count": len(gone)})
    return (
        [o for o in outcomes if o.id in there],
        [a for a in attempts if a.message_id in there],
    )


async def record_mended(
    write: Callable[[list[Outcome], list[AttemptRow]], Awaitable[set[UUID]]],
    pool: asyncpg.Pool,
    outcomes: list[Outcome],
    attempts: list[AttemptRow],
) -> tuple[set[UUID], list[Outcome]]:
    """``write`` (a record) the outcomes and attempts; written again without an erased
    message's rows (:func:`without_erased`), or with a NUL byte's texts scrubbed
    (:func:`without_nul`), when the database refused them for that. Returns the applied ids
    and the outcomes written in the end; any other refusal raises."""
    for _ in range(2):  # one batch may hold both
        try:
            return await write(outcomes, attempts), outcomes
        except asyncpg.ForeignKeyViolationError:
            kept = await without_erased(pool, outcomes, attempts)
            if kept is None:  # no message is gone: another cause
                raise
        except asyncpg.CharacterNotInRepertoireError:
            kept = without_nul(outcomes, attempts)
            if kept is None:  # no NUL byte: another cause
                raise
        outcomes, attempts = kept
    return await write(outcomes, attempts), outcomes


def without_nul(
    outcomes: Sequence[Outcome], attempts: Sequence[AttemptRow]
) -> tuple[list[Outcome], list[AttemptRow]] | None:
    """The outcomes and attempts with every NUL byte in their texts replaced by U+FFFD, after a
    record failed on one (SQLSTATE 22021); None: no text holds one (another cause).

    PostgreSQL's text refuses NUL, and a provider's answer may carry one (a JSON
    ``\\u0000`` in an error's description or a message id). The texts a send records are
    scrubbed where they are made (:func:`scheduler.delivery_results.error_text`); this is the
    record's own guard, at no cost while nothing fails: one such text failed the statement of
    the whole batch, every send in it unrecorded and sent again when its lease ran out.
    """
    changed = False

    def clean(value: str | None) -> str | None:
        nonlocal changed
        if value is None or "\x00" not in value:
            return value
        changed = True
        return value.replace("\x00", "\ufffd")

    # Only the texts that come from outside: a provider's words and ids, a template's output.
    # Statuses, channels and error classes are the dispatcher's own names; a question is JSON,
    # which escapes NUL.
    kept_outcomes = [
        o._replace(
            last_error=clean(o.last_error),
            provider_message_id=clean(o.provider_message_id),
            rendered_text=clean(o.rendered_text),
        )
        for o in outcomes
    ]
    kept_attempts = [
        a._replace(
            error_message=clean(a.error_message),
            provider_message_id=clean(a.provider_message_id),
        )
        for a in attempts
    ]
    if not changed:
        return None
    logger.warning("texts with a NUL byte recorded with U+FFFD in its place")
    return kept_outcomes, kept_attempts


async def record_statement(
    conn: asyncpg.Connection, outcomes: Sequence[Outcome], attempts: Sequence[AttemptRow]
) -> set[UUID]:
    """The record as one statement on ``conn``, planned as its session says (in its own
    transaction unless ``conn`` is in one): :class:`scheduler.record_session.RecordSession`'s
    connections plan it once."""
    a, sent_ms = _fold_sent_attempts(outcomes, attempts)
    rows = await conn.fetch(
        query("dispatch", "record"),
        # One row a message (public.dispatch_outcome): asyncpg checks each element of an array
        # parameter against collections.abc, and thirteen aligned arrays cost ~4 us a message
        # in those checks alone (issue 20; migration 20260101017000).
        [
            (
                x.id,
                x.lease_token,
                x.status,
                x.next_time,
                x.attempts_delta,
                x.last_error,
                x.sent_at,
                x.provider_message_id,
                x.channel_used,
                None if x.channels_tried is None else ",".join(x.channels_tried),
                x.rendered_text,
                x.question,
                ms,
            )
            for x, ms in zip(outcomes, sent_ms, strict=True)
        ],
        [x.message_id for x in a],
        [x.attempt_time for x in a],
        [x.status for x in a],
        [x.error_message for x in a],
        [x.channel for x in a],
        [x.error_class for x in a],
        [x.provider_message_id for x in a],
        [x.duration_ms for x in a],
        timeout=STATEMENT_TIMEOUT_SECONDS,
    )
    return {r["id"] for r in rows}


def _fold_sent_attempts(
    outcomes: Sequence[Outcome], attempts: Sequence[AttemptRow]
) -> tuple[Sequence[AttemptRow], list[int | None]]:
    """The attempts the record sends in their own arrays, and per outcome the duration of the
    attempt folded into it (None: none).

    A sent message's attempt repeats its outcome: the message, the time sent, "sent", the
    channel and the provider's id (``scheduler.delivery``). The statement builds that row from
    the outcome and its duration (``dispatch.sql: record``, $21): one array element instead of
    eight, whose encoding cost the worker ~0.3 us each (issue 20). Any other attempt, and one
    that differs from its outcome in anything, goes as it is.
    """
    first: dict[UUID, int] = {}  # a sent outcome's place (the first, were an id given twice)
    for n, given in enumerate(outcomes):
        if given.sent_at is not None and given.id not in first:
            first[given.id] = n
    sent_ms: list[int | None] = [None] * len(outcomes)
    if not first:
        return attempts, sent_ms
    rest: list[AttemptRow] = []
    for a in attempts:
        n = first.get(a.message_id, -1)
        x = outcomes[n] if n >= 0 and sent_ms[n] is None else None
        if (
            x is not None
            and a.duration_ms is not None
            and a.status == "sent"
            and a.attempt_time == x.sent_at
            and a.channel == x.channel_used
            and a.provider_message_id == x.provider_message_id
            and a.error_message is None
            and a.error_class is None
        ):
            sent_ms[n] = a.duration_ms
        else:
            rest.append(a)
    return rest, sent_ms


async def mark_contacts(
    conn: asyncpg.Connection | asyncpg.Pool,
    effects: Sequence[tuple[UUID, str, str]],
    now: datetime,
) -> None:
    """Apply permanent-error effects: ``(contact_point_id, effect, error)`` each."""
    if effects:
        await conn.execute(
            query("dispatch", "deactivate_contacts"),
            [e[0] for e in effects],
            [e[1] for e in effects],
            [e[2] for e in effects],
            now,
        )


async def move_addresses(
    conn: asyncpg.Connection | asyncpg.Pool, moves: Sequence[tuple[UUID, str]]
) -> None:
    """Follow provider address moves: ``(contact_point_id, new_address)`` each."""
    if moves:
        await conn.execute(
            query("dispatch", "move_addresses"), [m[0] for m in moves], [m[1] for m in moves]
        )


async def cancelled_rows(conn: asyncpg.Connection | asyncpg.Pool, ids: Sequence[UUID]) -> int:
    """How many of ``ids`` (rows whose return to pending was refused) a clinic cancelled
    meanwhile (``public.cancel_scheduled_message`` releases a lease held ahead of the time)."""
    return len(await conn.fetch(query("dispatch", "cancelled_returns"), list(ids)))


async def next_due(conn: asyncpg.Connection | asyncpg.Pool) -> datetime | None:
    """When the earliest pending row is due, or None when there is none."""
    value: datetime | None = await conn.fetchval(query("dispatch", "next_due"))
    return value
