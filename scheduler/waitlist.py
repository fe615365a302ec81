"""Freed appointment slots offered to the clinic's waitlist, and the patients' answers.

:func:`offer_freed_slot` runs when an upcoming appointment is cancelled (in the cancelling
transaction): the slot becomes an offer, sent to the first :data:`MAX_RECIPIENTS` fitting
waitlisted patients (day and wall-clock window in their own timezone, in the order they joined)
as an ordinary ``scheduled_messages`` row with Accept and No thanks buttons, so it goes out
through the dispatcher like every message. :func:`answer_offer` records an answer;
``public.accept_slot_offer`` (migration 20260101008720) makes the first acceptance the only
booking, and the others are sent a "the slot is gone" message.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
from babel.dates import format_datetime

from core.sql import query
from scheduler.appointment_times import differs, zone_city

MAX_RECIPIENTS = 5  # offered at once; the first to accept gets it
MIN_LEAD = timedelta(hours=1)  # a slot starting sooner cannot be reached in time
OFFER_PRIORITY = 3  # before clinic announcements, after dose reminders

OfferOutcome = Literal["booked", "taken", "expired", "declined", "unknown"]


def offer_data(recipient_id: UUID, answer: Literal["y", "n"]) -> str:
    """Button data of an offer: ``w:<recipient hex>:y`` (accept) or ``:n`` (decline)."""
    return f"w:{recipient_id.hex}:{answer}"


_WHEN = "EEEE d MMMM, HH:mm"


def _format(at: datetime, locale: str) -> str:
    try:
        return format_datetime(at, _WHEN, locale=locale.replace("-", "_"))
    except (ValueError, LookupError):
        return format_datetime(at, _WHEN, locale="en")


def _when(starts_at: datetime, timezone: str, locale: str, clinic_zone: str | None = None) -> str:
    """The slot's time in the patient's zone; where the clinic's zone shows another wall clock
    then, the clinic's time (where the visit is), labelled, and the patient's own beside it
    (scheduler.appointment_times): "Monday 29 March, 09:00 Madrid time (03:00 your time)"."""
    local = starts_at.astimezone(ZoneInfo(timezone))
    if clinic_zone is None or not differs(starts_at, timezone, clinic_zone):
        return _format(local, locale)
    clinic = starts_at.astimezone(ZoneInfo(clinic_zone))
    mine = _format(local, locale)
    if local.date() == clinic.date():
        mine = mine.rsplit(", ", 1)[-1]
    return f"{_format(clinic, locale)} {zone_city(clinic_zone, 'en')} time ({mine} your time)"


def offer_text(
    clinic: str, starts_at: datetime, timezone: str, locale: str, clinic_zone: str | None = None
) -> str:
    """The offer as the patient reads it (their timezone; the clinic's too where it differs)."""
    return (
        f"{clinic}: an earlier appointment is free on "
        f"{_when(starts_at, timezone, locale, clinic_zone)}. "
        "Would you like it? The first to accept gets it."
    )


async def offer_freed_slot(conn: asyncpg.Connection, appointment_id: UUID, now: datetime) -> int:
    """Offer a cancelled appointment's slot to the waitlist; returns how many were offered it.

    Idempotent (one offer per cancelled appointment); nothing for a slot starting within
    :data:`MIN_LEAD`.
    """
    offer = await conn.fetchrow(query("waitlist", "create_offer"), appointment_id, now + MIN_LEAD)
    if offer is None:
        return 0
    entries = await conn.fetch(
        query("waitlist", "fitting_entries"),
        offer["organization_id"],
        offer["cancelled_patient_id"],
        offer["starts_at"],
        offer["duration_minutes"],
        MAX_RECIPIENTS,
    )
    for entry in entries:
        recipient = await conn.fetchval(
            query("waitlist", "insert_recipient"), offer["id"], entry["id"], entry["patient_id"]
        )
        options = [
            ["Accept", offer_data(recipient, "y")],
            ["No thanks", offer_data(recipient, "n")],
        ]
        await conn.execute(
            query("waitlist", "insert_message"),
            entry["patient_id"],
            offer_text(
                offer["clinic_name"],
                offer["starts_at"],
                entry["timezone"],
                entry["locale"],
                offer["clinic_timezone"],
            ),
            {"options": options, "columns": 2},
            OFFER_PRIORITY,
            offer["starts_at"] - MIN_LEAD,
            f"waitlist:{recipient}:offer",
            now,
        )
    return len(entries)


async def answer_offer(
    conn: asyncpg.Connection, recipient_id: UUID, patient_id: UUID, accept: bool, now: datetime
) -> tuple[OfferOutcome, asyncpg.Record | None]:
    """A patient's answer to an offer (only their own); returns the outcome and the offer.

    On ``booked`` the others offered the slot get a "gone" message (and their unsent offer is
    withdrawn), in the same transaction.
    """
    async with conn.transaction():
        offer = await conn.fetchrow(
            query("waitlist", "offer_of_recipient"), recipient_id, patient_id
        )
        if offer is None:
            return "unknown", None
        if not accept:
            await conn.execute(query("waitlist", "decline"), recipient_id, now)
            return "declined", offer
        row = await conn.fetchrow(query("waitlist", "accept"), recipient_id, now)
        outcome: OfferOutcome = row["outcome"]
        if outcome == "booked":
            await conn.execute(query("waitlist", "withdraw_unsent_offers"), offer["offer_id"])
            zone = offer["clinic_timezone"]
            for other in await conn.fetch(query("waitlist", "too_late"), offer["offer_id"]):
                await conn.execute(
                    query("waitlist", "insert_message"),
                    other["patient_id"],
                    f"{offer['clinic_name']}: the appointment on "
                    f"{_when(offer['starts_at'], other['timezone'], other['locale'], zone)}"
                    " has been "
                    "taken. You stay on the waitlist.",
                    {},
                    OFFER_PRIORITY,
                    offer["starts_at"],
                    f"waitlist:{other['id']}:gone",
                    now,
                )
        return outcome, offer
