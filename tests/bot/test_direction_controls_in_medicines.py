"""A medicine's name or dose typed with a direction override is stored and shown without it.

Found by hand over WhatsApp: a patient named a medicine "Ibu<U+202E>profeno"; the bot stored it
as typed, and every line it was filled into read reversed after it: /meds answered
"1. Ibusaíd sol sodot ,03:32 sal a (adacidni sisod nis) oneforp" for "... a las 23:30, todos
los días" (the patient read 03:32), /today and the dashboard's messages the same. Direction
controls with a scope are dropped, as from people's names (core/person_names.py).
"""

from __future__ import annotations

import asyncpg

from tests.bot.conftest import Bot
from tests.bot.helpers import registered_patient

NUMBER = "+15005550199"
OVERRIDES = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def _bodies(calls: list) -> str:
    return "\n".join(c.body or "" for c in calls)


async def test_a_medicine_typed_with_an_override_is_saved_and_listed_without_it(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    await registered_patient(bot, admin_conn, NUMBER, channel="sms")
    await bot.sms(NUMBER, "/add")
    await bot.sms(NUMBER, "Ibu\u202eprofen")
    await bot.sms(NUMBER, "\u2067200 mg")
    await bot.sms(NUMBER, "23:30")
    await bot.sms(NUMBER, "done")  # a number would be an hour ("5" is 5:00)
    await bot.sms(NUMBER, "1")  # Every day
    await bot.sms(NUMBER, "1")  # Today
    await bot.sms(NUMBER, "1")  # No end date
    summary = _bodies(await bot.sms(NUMBER, "skip"))  # the pills ("1" is one pill)
    assert "Ibuprofen (200 mg)\n11:30 PM, every day" in summary
    await bot.sms(NUMBER, "1")  # Save
    listed = _bodies(await bot.sms(NUMBER, "/meds"))
    assert "1. Ibuprofen (200 mg) at 11:30 PM, every day" in listed

    row = await admin_conn.fetchrow("select name, dose from medications")
    assert (row["name"], row["dose"]) == ("Ibuprofen", "200 mg")
    sent = _bodies(bot.sms_to(NUMBER))
    assert not set(OVERRIDES) & set(sent)


async def test_a_medicine_named_only_with_overrides_is_asked_again(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    await registered_patient(bot, admin_conn, NUMBER, channel="sms")
    await bot.sms(NUMBER, "/add")
    asked = _bodies(await bot.sms(NUMBER, "\u202e\u2066"))
    assert "Please send the medicine's name" in asked
    assert await admin_conn.fetchval("select count(*) from medications") == 0
