"""``/api/v1/patients``: register, list and search, read and erase the caller's patients, and make
invite links.

An invite is a random token; only its SHA-256 hash is stored (``patient_invites.token_hash``),
so the link works once, for a limited time, and a database reader cannot use it. The link is
``https://t.me/<bot>?start=<token>`` when the bot's username is known.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

import asyncpg
from fastapi import Body, Query
from pydantic import BaseModel, Field, StrictBool, StrictInt

from core.logs import mark_sensitive
from core.quiet_windows import has_no_length
from core.sql import query
from core.zone_names import zone_loads
from medremind.web.api_v1.address_held import held_warning
from medremind.web.api_v1.common import Org, State, acting, jsonable, row_dict
from medremind.web.api_v1.fields import (
    ChannelOrder,
    ClockTime,
    ContactEmail,
    ExternalId,
    IsoDateTime,
    Locale,
    PatientName,
    Phone,
    QueryBool,
    QueryInt,
    Timezone,
    Trimmed,
    clock_text,
    name_pattern,
)
from medremind.web.api_v1.idempotency import Idempotent
from medremind.web.api_v1.models import (
    BODY_ERRORS,
    CONFLICT,
    NOT_FOUND,
    ApiWarning,
    Page,
    RequestModel,
    patch_fields,
)
from medremind.web.api_v1.pagination import Cursor, Limit, decode_cursor, page
from medremind.web.api_v1.patient_pause import apply_pause, pause_change
from medremind.web.api_v1.routing import router as new_router
from medremind.web.errors import AlreadyThere, ApiError, NotFound, ValidationFailed
from medremind.web.invite_links import invite_bot_username
from scheduler.planner import replan_patient
from scheduler.planning_followups import catch_up_before_return
from scheduler.planning_peaks import PeakCapacity

router = new_router("patients")

OUTPUT_FIELDS = (
    "id",
    "display_name",
    "locale",
    "timezone",
    "channel_order",
    "external_id",
    "status",
    "consent_at",
    "created_at",
    "erased_at",
    "erasure_reason",
    "unreachable_since",
    "linked_at",
    "reminders_paused",
    "reminders_paused_until",
)
# The tombstone's reason when the clinic asked for the erasure.
ERASED_BY_CLINIC = "deleted at the clinic's request"
# 24 random bytes: 32 URL-safe characters, within Telegram's 64-character start parameter.
INVITE_TOKEN_BYTES = 24
DEFAULT_INVITE_HOURS = 7 * 24
MAX_INVITE_HOURS = 30 * 24
PatientStatus = Literal["invited", "active", "deleted"]


class PatientCreate(RequestModel):
    display_name: PatientName | None = None
    phone: Phone | None = None
    email: ContactEmail | None = None
    timezone: Timezone | None = Field(None, description="IANA name; default the clinic's")
    locale: Locale | None = Field(None, description="en or es; default the clinic's")
    channel_order: ChannelOrder | None = None
    external_id: ExternalId | None = None
    consent: StrictBool = False


class PatientUpdate(RequestModel):
    """Only the fields given change. `quiet_start`/`quiet_end` together (null: the clinic's
    window; 00:00 and 00:00: no quiet hours; any other two equal times are refused). A new
    timezone or quiet window re-plans the patient's reminders. `reminders_paused` pauses or
    resumes them as the patient's /pause and /resume do, `reminders_paused_until` ends the pause
    by itself. Contact points (phone, e-mail) are the patient's to change, through the bot."""

    display_name: PatientName | None = None
    locale: Locale | None = None
    timezone: Timezone | None = Field(None, description="The patient's home timezone")
    channel_order: ChannelOrder | None = None
    external_id: ExternalId | None = Field(None, description="null removes it")
    quiet_start: ClockTime | None = Field(None, description="HH:MM in the patient's timezone")
    quiet_end: ClockTime | None = Field(None, description="HH:MM in the patient's timezone")
    reminders_paused: StrictBool | None = Field(
        None,
        description="true pauses all the patient's reminders, as their /pause in the bot does:"
        " what is pending is withdrawn, and nothing is sent (no follow-up, no caregiver alert"
        " of a missed dose, no refill notice) until the pause ends. false resumes them, as"
        " /resume does: planned from now on, a reminder withheld from a dose still open comes"
        " back, and the end goes too. Leave it out to keep the pause as it is (true on a"
        " paused patient keeps its end)",
    )
    reminders_paused_until: IsoDateTime | None = Field(
        None,
        description="When the pause ends by itself: an instant with its UTC offset (a time"
        " without one is refused), after now. Then the reminders come back and the patient is"
        " told, as after '/pause 3 days'. null: paused until reminders_paused is set false."
        " With reminders_paused true, or alone to change the end of a patient's pause",
    )


# Taken as "off", "22:00 to 22:00" gave a patient reminders at any hour (core/quiet_windows.py).
_NO_LENGTH = (
    "quiet_start and quiet_end are both {}, a window of no length: give two different times"
    " (such as 22:00 and 07:00), 00:00 and 00:00 for no quiet hours, or null and null for the"
    " clinic's window"
)
# Fields PATCH may set to null (the others are required to have a value once given).
_NULLABLE = frozenset(
    {"display_name", "external_id", "quiet_start", "quiet_end", "reminders_paused_until"}
)
# A change of these re-plans the reminders.
_REPLANS = frozenset({"timezone", "quiet_start", "quiet_end"})


class Contact(BaseModel):
    channel: str
    address: str
    verified: bool
    opted_out: bool
    held_elsewhere: bool = Field(
        False,
        description="The address is another patient record's: kept with this patient only as an"
        " invitation to its owner, and nothing is sent to it for this patient (the create's"
        " `address_held_elsewhere` warning says what to do)",
    )


class Patient(BaseModel):
    id: uuid.UUID
    display_name: str | None = None
    locale: str
    timezone: str
    channel_order: list[str]
    external_id: str | None = None
    status: PatientStatus
    consent_at: datetime | None = None
    quiet_start: str | None = Field(None, description="HH:MM; null: the clinic's window")
    quiet_end: str | None = Field(None, description="HH:MM; null: the clinic's window")
    created_at: datetime
    updated_at: datetime | None = None
    erased_at: datetime | None = None
    erasure_reason: str | None = None
    unreachable_since: datetime | None = Field(
        None,
        description="Since when no channel of the patient's order can take a reminder any more"
        " (STOP on each, the bot blocked, the number refused): their doses are recorded as"
        " 'unreachable', not missed, and their caregivers were told once. Null: reachable, or"
        " not linked yet (linked_at null)",
    )
    linked_at: datetime | None = Field(
        None,
        description="When something first reached the patient: a message a provider took (sent"
        " or delivered, any channel; not a caregiver's alert), or their first message to the"
        " service. Null: not linked yet (an invite link not opened, a typed number nothing has"
        " reached): not unreachable, no caregiver is told; reminders go to a usable contact"
        " point, and without one their doses are recorded as 'unreachable' (not reminded, not"
        " missed) and nobody is alerted",
    )
    reminders_paused: bool = Field(
        False,
        description="The patient's reminders are paused (their /pause in the bot or the patient"
        " app, or the clinic's PATCH): none is sent, and no missed dose alerts a caregiver,"
        " until it ends",
    )
    reminders_paused_until: datetime | None = Field(
        None,
        description="When the patient's pause ends by itself (they paused for a length or until"
        " a date: the reminders come back and the patient is told). Null: not paused, or paused"
        " until they resume",
    )
    timezone_problem: str | None = Field(
        None,
        description="Why no reminder is planned for the patient, when their `timezone` is no"
        " zone the planner can load (`Etc/Unknown`, stored for `Factory` before the API refused"
        " it): set `timezone` to fix it. Null: their zone is fine",
    )
    contacts: list[Contact]


class PatientWarning(ApiWarning):
    code: Literal["address_held_elsewhere"] = Field(
        description="`address_held_elsewhere`: the phone or e-mail given is already another"
        " patient record's, so it cannot be used for this patient (it is listed with"
        " `held_elsewhere`); the message says what to do, and names the other record only when"
        " it is your own clinic's patient"
    )


class CreatedPatient(Patient):
    warnings: list[PatientWarning] = Field(
        [],
        description="Created, but something given cannot be used (the answer to the create; a"
        " replay of the same Idempotency-Key repeats them)",
    )


class PatientFilter(RequestModel):
    q: Annotated[str, Trimmed, Field(min_length=1, max_length=200)] | None = Field(
        None, description="A part of the name, or an exact external id or address."
    )
    status: PatientStatus | None = Field(
        None, description="Default: all but deleted (erased) patients."
    )
    timezone_unknown: QueryBool | None = Field(
        None,
        description="true: only patients whose timezone no zone database knows (nothing is"
        " planned for them; see `timezone_problem`); false: only the others.",
    )
    limit: QueryInt = Limit
    cursor: str | None = Cursor


class InviteCreate(RequestModel):
    expires_in_hours: Annotated[StrictInt, Field(ge=1, le=MAX_INVITE_HOURS)] = DEFAULT_INVITE_HOURS


class Invite(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    token: str = Field(description="Shown once; stored only as a hash.")
    link: str | None = Field(description="https://t.me/<bot>?start=<token> when the bot is known")
    expires_at: datetime


def hash_invite_token(token: str) -> str:
    """The stored form of an invite token (hex SHA-256), for the bot to look it up."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def external_id_taken(
    conn: asyncpg.Connection, org_id: uuid.UUID, external_id: str | None
) -> ApiError:
    """The 409 for an ``external_id`` another patient of the clinic has, carrying that
    patient's id (``error.existing_id`` and ``Location``), so a client can go on with it."""
    existing = await conn.fetchval(query("web", "patient_by_external_id"), org_id, external_id)
    reason = "a patient with this external_id already exists; error.existing_id is its id"
    if existing is None:
        return ApiError(409, reason, field="external_id")
    return AlreadyThere(
        reason, field="external_id", existing=existing, location=f"/api/v1/patients/{existing}"
    )


def check_order_reaches(order: Sequence[str], contacts: Sequence[Any]) -> None:
    """422 on ``channel_order`` when it lists none of the channels the patient has a contact
    point on (as ``contacts`` lists them): the worker goes along the order, so nothing could
    reach them. A patient without any contact point yet (one who is to join by an invite link)
    takes any order; channels they lack next to one they have are fine (they may add them)."""
    # An address another record holds reaches nobody here: it is not one of their channels.
    have = list(dict.fromkeys(c["channel"] for c in contacts if not c["held_elsewhere"]))
    if have and not set(order) & set(have):
        raise ValidationFailed(
            "channel_order",
            f"lists none of this patient's channels, so nothing could reach them; their"
            f" channels: {', '.join(have)}. Include at least one of them",
        )


def timezone_problem(zone: str | None) -> str | None:
    """Why nothing is planned for a patient in ``zone``, or None when it loads."""
    if zone is None or zone_loads(zone):
        return None
    return (
        f"their timezone {zone!r} is no place's time zone (stored before such names were"
        " refused), so no reminder is planned for them: set timezone (PATCH"
        " /patients/{id}) to the IANA zone they live in"
    )


def patient_json(row: Any, contacts: list[Any]) -> dict[str, Any]:
    """A patient with its contact points."""
    data = row_dict(row, OUTPUT_FIELDS)
    data["quiet_start"] = clock_text(row["quiet_start"])
    data["quiet_end"] = clock_text(row["quiet_end"])
    data["updated_at"] = jsonable(row["updated_at"])
    data["timezone_problem"] = timezone_problem(row["timezone"])
    data["contacts"] = [
        {
            "channel": c["channel"],
            "address": c["address"],
            "verified": c["verified"],
            "opted_out": c["opted_out_at"] is not None,
            "held_elsewhere": c["held_elsewhere"],
        }
        for c in contacts
    ]
    return data


@router.post(
    "/patients",
    status_code=201,
    response_model=CreatedPatient,
    summary="Register a patient",
    operation_id="createPatient",
    responses={**BODY_ERRORS, **CONFLICT},
)
async def create_patient(
    body: PatientCreate,
    org_id: Org,
    state: State,
    once: Idempotent,
) -> Any:
    """Created; its contact points follow from `phone` and `email` and the channel order. A
    Telegram chat is never given (a chat id reaches whoever's chat it is): the patient links
    theirs by opening an invite link (`POST /patients/{id}/invites`) in Telegram. A phone or
    e-mail another patient record already holds cannot be used for this one: it is listed with
    `held_elsewhere` and the answer's `warnings` say what to do."""
    phone, email = body.phone, body.email
    order = body.channel_order or (
        ["telegram"] + (["sms"] if phone else []) + (["email"] if email else [])
    )
    mark_sensitive(body.display_name, email)
    now = state.clock()

    async def work(conn: asyncpg.Connection) -> tuple[int, Any]:
        org = await conn.fetchrow(
            "select timezone, locale from organizations where id = $1", org_id
        )
        if body.timezone is None and not zone_loads(org["timezone"]):
            # The clinic's own zone was stored as Etc/Unknown: its patients were planned nothing.
            raise ValidationFailed(
                "timezone",
                f"is required: your clinic's timezone {org['timezone']!r} is no place's time"
                " zone, so a patient given it would be reminded of nothing. Give the patient's"
                " timezone, or set the clinic's (PATCH /clinic)",
            )
        try:
            # A savepoint: after a taken external_id the transaction can still find its owner.
            async with conn.transaction():
                row = await conn.fetchrow(
                    query("web", "insert_patient"),
                    org_id,
                    body.display_name,
                    body.locale or org["locale"],
                    body.timezone or org["timezone"],
                    order,
                    body.external_id,
                    now if body.consent else None,
                    "active" if body.consent else "invited",
                )
        except asyncpg.UniqueViolationError:
            raise await external_id_taken(conn, org_id, body.external_id) from None
        wanted: list[tuple[str, str]] = []
        if phone:
            wanted += [(c, phone) for c in ("sms", "whatsapp") if c in order]
            if not any(c in order for c in ("sms", "whatsapp")):
                wanted.append(("sms", phone))
        if email:
            wanted.append(("email", email))
        warnings: list[dict[str, str]] = []
        for channel, address in wanted:
            added = await conn.fetchval(
                query("web", "insert_contact_point"), row["id"], channel, address
            )
            if added is None:
                # Someone else's address: its owner is invited to join this clinic and decides
                # (accepting merges). Said now, rather than found out from a failed message.
                await conn.execute(
                    query("web", "invite_address_owner"), row["id"], channel, address, now
                )
                warning = await held_warning(conn, org_id, channel, address)
                if warning not in warnings:
                    warnings.append(warning)
        contacts = await conn.fetch(query("web", "patient_contacts"), row["id"])
        # Re-read: the contact points just added decide unreachable_since (a trigger).
        row = await conn.fetchrow(query("web", "get_patient_or_tombstone"), row["id"], org_id)
        return 201, {**patient_json(row, list(contacts)), "warnings": warnings}

    async def current(conn: asyncpg.Connection, first: Any) -> Any | None:
        patient_id = uuid.UUID(first["id"])
        row = await conn.fetchrow(query("web", "get_patient_or_tombstone"), patient_id, org_id)
        if row is None:
            return None
        # The warnings are the first answer's: what was true when the patient was registered.
        return {
            **patient_json(
                row, list(await conn.fetch(query("web", "patient_contacts"), patient_id))
            ),
            "warnings": first.get("warnings", []),
        }

    return await once.run(work, current)


@router.get(
    "/patients",
    response_model=Page[Patient],
    summary="List or search your patients, oldest first, a page at a time",
    operation_id="listPatients",
)
async def list_patients(
    org_id: Org, state: State, params: Annotated[PatientFilter, Query()]
) -> Any:
    """A page of patients with their contact points."""
    at, after = decode_cursor(params.cursor, "patients")
    q = params.q
    pattern = name_pattern(q)
    async with state.pool.acquire() as conn:
        rows = await conn.fetch(
            query("clinic_ops", "list_patients"),
            org_id,
            at,
            after,
            pattern,
            params.status,
            params.limit + 1,
            q,
            params.timezone_unknown,
        )
        contacts = {
            r["id"]: await conn.fetch(query("web", "patient_contacts"), r["id"])
            for r in rows[: params.limit]
        }
    return page(
        rows,
        params.limit,
        "created_at",
        lambda r: patient_json(r, contacts[r["id"]]),
        listing="patients",
    )


@router.get(
    "/patients/{patient_id}",
    response_model=Patient,
    summary="One patient with contact points",
    operation_id="getPatient",
    responses=NOT_FOUND,
)
async def get_patient(patient_id: uuid.UUID, org_id: Org, state: State) -> Any:
    """The patient, or the tombstone of an erased one."""
    async with state.pool.acquire() as conn:
        row = await conn.fetchrow(query("web", "get_patient_or_tombstone"), patient_id, org_id)
        if row is None:
            raise NotFound("patient")
        contacts = await conn.fetch(query("web", "patient_contacts"), patient_id)
    return patient_json(row, list(contacts))


@router.patch(
    "/patients/{patient_id}",
    response_model=Patient,
    summary="Change a patient's name, language, timezone, channels, external id, quiet hours,"
    " pause",
    operation_id="updatePatient",
    responses={**BODY_ERRORS, **NOT_FOUND, **CONFLICT},
)
async def update_patient(
    patient_id: uuid.UUID, body: PatientUpdate, org_id: Org, state: State
) -> Any:
    """The patient as changed; audited (the names of the changed fields, never values)."""
    given = patch_fields(body, _NULLABLE)
    if ("quiet_start" in given) != ("quiet_end" in given) or (
        (body.quiet_start is None) != (body.quiet_end is None)
    ):
        raise ValidationFailed("quiet_end", "give quiet_start and quiet_end together")
    if (
        body.quiet_start is not None
        and body.quiet_end is not None
        and has_no_length(body.quiet_start, body.quiet_end)
    ):
        raise ValidationFailed("quiet_end", _NO_LENGTH.format(clock_text(body.quiet_end)))
    mark_sensitive(body.display_name)
    now = state.clock()
    pause = pause_change(given, body.reminders_paused, body.reminders_paused_until, now)
    # The audit trigger records the change (the changed columns) as this API key's.
    async with acting(state.pool) as conn:
        before = await conn.fetchrow(query("web", "get_patient"), patient_id, org_id)
        if before is None:
            raise NotFound("patient")
        if body.channel_order is not None:
            check_order_reaches(
                body.channel_order, await conn.fetch(query("web", "patient_contacts"), patient_id)
            )
        try:
            async with conn.transaction():
                if body.channel_order is not None:
                    # A channel back may end an unreachable spell: first the planner's pass
                    # the spell would have had, as the bot's returns do (no caregiver alert for
                    # a dose whose missed mark passed while nothing reached the patient).
                    await catch_up_before_return(conn, patient_id, now, state.settings)
                row = await conn.fetchrow(
                    query("web", "update_patient"),
                    patient_id,
                    org_id,
                    sorted(given),
                    body.display_name,
                    body.locale,
                    body.timezone,
                    body.channel_order,
                    body.external_id,
                    body.quiet_start,
                    body.quiet_end,
                )
        except asyncpg.UniqueViolationError:
            raise await external_id_taken(conn, org_id, body.external_id) from None
        if given & _REPLANS:
            # The clinic sets the patient's home: 'home'-mode reminders move with it.
            await replan_patient(
                conn,
                patient_id,
                now,
                horizon=timedelta(hours=state.settings.planner_horizon_hours),
                move_home="timezone" in given,
                default_quiet=(state.settings.quiet_hours_start, state.settings.quiet_hours_end),
                capacity=PeakCapacity.from_settings(state.settings),
            )
        if pause is not None:
            # After the other changes: a pause re-plans in the zone this request may have set.
            await apply_pause(conn, before, pause, now, state.settings)
        if body.channel_order is not None or pause is not None:
            # As the update's triggers and the pause left it, not as the update returned it.
            row = await conn.fetchrow(query("web", "get_patient"), patient_id, org_id)
        contacts = await conn.fetch(query("web", "patient_contacts"), patient_id)
    return patient_json(row, list(contacts))


@router.delete(
    "/patients/{patient_id}",
    response_model=Patient,
    summary="Erase the patient; the record stays as a tombstone",
    operation_id="erasePatient",
    responses=NOT_FOUND,
)
async def erase_patient(patient_id: uuid.UUID, org_id: Org, state: State) -> Any:
    """The clinic's erasure request: the same erasure as the patient's own /delete_me
    (`public.erase_patient`).

    Every row about the patient goes (contact points, medicines, history, appointments,
    messages, stored chat texts); the record stays as a tombstone (status `deleted`,
    `erased_at`, `erasure_reason`) without personal data, which is the answer. Repeating the
    request answers the same tombstone.
    """
    async with state.pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(query("web", "get_patient_or_tombstone"), patient_id, org_id)
        if row is None:
            raise NotFound("patient")
        if row["status"] != "deleted":
            await conn.execute(
                query("web", "erase_patient"), patient_id, ERASED_BY_CLINIC, state.clock()
            )
            await conn.execute(
                query("web", "audit"), org_id, "api", "patient.erased", "patient", str(patient_id)
            )
            row = await conn.fetchrow(query("web", "get_patient_or_tombstone"), patient_id, org_id)
    return patient_json(row, [])


@router.post(
    "/patients/{patient_id}/invites",
    status_code=201,
    response_model=Invite,
    summary="A one-time invite link for the patient (token shown once)",
    operation_id="createInvite",
    responses={**BODY_ERRORS, **NOT_FOUND},
)
async def create_invite(
    patient_id: uuid.UUID,
    org_id: Org,
    state: State,
    body: Annotated[InviteCreate | None, Body()] = None,
) -> Any:
    """A link for the patient's phone; the body may be left out (a week's validity)."""
    hours = body.expires_in_hours if body is not None else DEFAULT_INVITE_HOURS
    token = secrets.token_urlsafe(INVITE_TOKEN_BYTES)
    async with state.pool.acquire() as conn:
        if await conn.fetchrow(query("web", "get_patient"), patient_id, org_id) is None:
            raise NotFound("patient")
        invite = await conn.fetchrow(
            query("web", "insert_invite"),
            org_id,
            patient_id,
            hash_invite_token(token),
            state.clock() + timedelta(hours=hours),
        )
        # The patient's bot, or the one they are sharded to (several bots: issue 20).
        username = await invite_bot_username(state, conn, patient_id)
    link = f"https://t.me/{username}?start={token}" if username else None
    return {
        "id": invite["id"],
        "patient_id": patient_id,
        "token": token,
        "link": link,
        "expires_at": invite["expires_at"],
    }
