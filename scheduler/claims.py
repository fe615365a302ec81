"""The dispatcher's store: claim due rows, record outcomes in bulk, mark contact points.

Every function is one round trip. Outcomes and attempts of a whole batch go in one statement
(``unnest`` of aligned arrays), guarded by each row's lease token.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Sequence
from datetime import datetime, time
from typing import Any, NamedTuple
from uuid import UUID

import asyncpg

from core.sql import query

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
    a second. The claim query returns its columns in this field order (checked per batch), so a
    row becomes a claim positionally; the fields converted from SQL types come last, the contact
    points as five aligned arrays.
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
    # A bot reply: the address of the chat it answers, on ``platform`` (nothing else is tried).
    reply_address: str | None = None
    # Converted in ``from_row``: text[] -> tuple, jsonb -> dict, four arrays -> ContactInfo.
    channels_tried: tuple[str, ...] = ()
    channel_order: tuple[str, ...] = ()
    payload: dict[str, Any] = dataclasses.field(default_factory=dict)
    contacts: tuple[ContactInfo, ...] = ()

    @classmethod
    def from_row(cls, row: asyncpg.Record | Sequence[Any]) -> Claim:
        """Build from a row of the claim query (columns in field order)."""
        *plain, tried, order, payload, ids, channels, addresses, usable, bots = row
        fields = [
            *plain,
            tuple(tried or ()),
            tuple(order or ()),
            payload or {},
            tuple(map(ContactInfo, ids, channels, addresses, usable, bots)) if ids else (),
        ]
        # One starred list: mypy maps a leading ``*plain`` onto every field and then reports the
        # four converted values after it as too many arguments.
        return cls(*fields)


# The claim query's column names, in order (see Claim.from_row).
CLAIM_COLUMNS = (
    *(f.name for f in dataclasses.fields(Claim) if f.name != "contacts"),
    "contact_ids",
    "contact_channels",
    "contact_addresses",
    "contact_usable",
    "contact_bots",
)


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
    """Claim up to ``limit`` due pending rows for ``worker`` with a lease of ``lease_seconds``."""
    rows = await conn.fetch(
        query("dispatch", "claim"),
        now,
        limit,
        worker,
        lease_seconds,
        timeout=STATEMENT_TIMEOUT_SECONDS,
    )
    if rows and tuple(rows[0].keys()) != CLAIM_COLUMNS:
        # from_row is positional: a query edited out of step with the dataclass must fail loudly.
        raise RuntimeError(
            f"dispatch.sql claim returns {tuple(rows[0].keys())}, Claim expects {CLAIM_COLUMNS}"
        )
    return [Claim.from_row(r) for r in rows]


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


async def record_statement(
    conn: asyncpg.Connection, outcomes: Sequence[Outcome], attempts: Sequence[AttemptRow]
) -> set[UUID]:
    """The record as one statement on ``conn``, planned as its session says (in its own
    transaction unless ``conn`` is in one): :class:`scheduler.record_session.RecordSession`'s
    connections plan it once."""
    o, a = outcomes, attempts
    rows = await conn.fetch(
        query("dispatch", "record"),
        [x.id for x in o],
        [x.lease_token for x in o],
        [x.status for x in o],
        [x.next_time for x in o],
        [x.attempts_delta for x in o],
        [x.last_error for x in o],
        [x.sent_at for x in o],
        [x.provider_message_id for x in o],
        [x.channel_used for x in o],
        [None if x.channels_tried is None else ",".join(x.channels_tried) for x in o],
        [x.message_id for x in a],
        [x.attempt_time for x in a],
        [x.status for x in a],
        [x.error_message for x in a],
        [x.channel for x in a],
        [x.error_class for x in a],
        [x.provider_message_id for x in a],
        [x.duration_ms for x in a],
        [x.rendered_text for x in o],  # $19
        [x.question for x in o],  # $20
        timeout=STATEMENT_TIMEOUT_SECONDS,
    )
    return {r["id"] for r in rows}


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


async def next_due(conn: asyncpg.Connection | asyncpg.Pool) -> datetime | None:
    """When the earliest pending row is due, or None when there is none."""
    value: datetime | None = await conn.fetchval(query("dispatch", "next_due"))
    return value
