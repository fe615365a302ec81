"""The bot's /appointments list and its answers name the clinic's time and the patient's own
when the patient lives in another zone than the clinic (a clinic in Madrid, a patient in New
York), as the appointment messages do; a patient in the clinic's zone reads them as before.

The bot over the loopback Twilio and Telegram, at the injected clock (tests/bot/conftest.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import asyncpg

from tests.bot.conftest import Bot
from tests.bot.helpers import registered_patient

# 09:00 CEST on Monday 29 March 2027 is 03:00 EDT; 00:30 CET on Thursday 18 March 2027 is 19:30
# EDT on Wednesday the 17th (the weeks New York is 5 hours behind Madrid, not 6).
STARTS = datetime(2027, 3, 29, 7, 0, tzinfo=UTC)
PAST_MIDNIGHT = datetime(2027, 3, 17, 23, 30, tzinfo=UTC)


async def _madrid_appointments(conn: asyncpg.Connection, patient: asyncpg.Record) -> UUID:
    await conn.execute(
        "update organizations set timezone = 'Europe/Madrid' where id = $1",
        patient["organization_id"],
    )
    first: UUID | None = None
    for at in (PAST_MIDNIGHT, STARTS):
        appointment: UUID = await conn.fetchval(
            "insert into appointments (organization_id, patient_id, starts_at) values ($1, $2, $3)"
            " returning id",
            patient["organization_id"],
            patient["id"],
            at,
        )
        first = first or appointment
    assert first is not None
    return first


def _texts(calls: list) -> str:
    return "\n".join(call.body for call in calls)


async def test_the_list_and_the_answer_by_sms_name_both_times(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    number = "+12125550181"
    patient = await registered_patient(
        bot, admin_conn, number, channel="sms", timezone="America/New_York"
    )
    await _madrid_appointments(admin_conn, patient)
    listing = _texts(await bot.sms(number, "/appointments"))
    assert (
        "Thursday, March 18, 2027 12:30 AM Madrid time (7:30 PM Wed, March 17 your time),"
        " Sunrise Clinic" in listing
    ), listing
    assert "Monday, March 29, 2027 9:00 AM Madrid time (3:00 AM your time), Sunrise Clinic" in (
        listing
    )
    confirmed = _texts(await bot.sms(number, "c"))
    assert confirmed.startswith(
        "Confirmed: Mar 18, 2027 12:30 AM Madrid time (7:30 PM Wed, March 17 your time)."
    ), confirmed


async def test_in_spanish_and_in_the_clinics_own_zone(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    number, same = "+12125550182", "+34600111222"
    patient = await registered_patient(
        bot, admin_conn, number, channel="sms", timezone="America/New_York", locale="es"
    )
    await _madrid_appointments(admin_conn, patient)
    listing = _texts(await bot.sms(number, "/appointments"))
    assert "lunes, 29 de marzo de 2027 9:00, hora de Madrid (tu hora: 3:00), Sunrise Clinic" in (
        listing
    ), listing
    assert "(tu hora: 19:30 del mié, 17 de marzo)" in listing, listing

    local = await registered_patient(
        bot, admin_conn, same, channel="sms", timezone="Europe/Madrid", locale="es"
    )
    await _madrid_appointments(admin_conn, local)
    listing = _texts(await bot.sms(same, "/appointments"))
    assert "lunes, 29 de marzo de 2027 9:00, Sunrise Clinic" in listing, listing
    assert "hora" not in listing.split("\n")[0], listing
