"""A patient's opt-out is lifted by the patient only (migration 20260101011520).

A clinician writes ``contact_points`` as role ``authenticated`` (the dashboard, and every
clinician through Supabase's PostgREST). Nothing kept them from clearing ``opted_out_at``,
deleting the opted-out row to add the number again, or moving the row to another number and
adding the opted-out one afresh: the worker then sent reminders again to someone who had sent
STOP or /stop. The patient's own START (the service's turn) still opts back in.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from tests import factories
from tests.integration.clinician import as_clinician

NUMBER = "+14155550188"


async def _opted_out_patient(conn: asyncpg.Connection) -> dict[str, Any]:
    org = await factories.create_organization(conn)
    clinician = await factories.create_clinician(conn, org["id"])
    patient = await factories.create_patient(conn, org["id"], contacts={"sms": NUMBER})
    # What the bot's turn does with the patient's STOP (bot.sql opt_out_contact).
    await conn.execute(
        "update contact_points set opted_out_at = now() where channel = 'sms' and address = $1",
        NUMBER,
    )
    return {"clinician": clinician["id"], "patient": patient["id"], "org": org["id"]}


LIFTS = {
    "clear the opt-out": "update contact_points set opted_out_at = null where address = $1",
    "delete it to add it again": "delete from contact_points where address = $1",
    "move it to another number": (
        "update contact_points set address = '+14155550189' where address = $1"
    ),
}


@pytest.mark.parametrize("statement", list(LIFTS.values()), ids=list(LIFTS))
async def test_a_clinician_cannot_lift_a_patients_opt_out(
    admin_conn: asyncpg.Connection, statement: str
) -> None:
    w = await _opted_out_patient(admin_conn)
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="only the patient can opt"):
        async with as_clinician(admin_conn, w["clinician"]) as conn:
            await conn.execute(statement, NUMBER)
    row = await admin_conn.fetchrow(
        "select address, opted_out_at from contact_points where patient_id = $1", w["patient"]
    )
    assert row["address"] == NUMBER and row["opted_out_at"] is not None


async def test_what_a_clinician_may_still_do_with_an_opted_out_number(
    admin_conn: asyncpg.Connection,
) -> None:
    w = await _opted_out_patient(admin_conn)
    other = await factories.create_patient(admin_conn, w["org"])
    async with as_clinician(admin_conn, w["clinician"]) as conn:
        await conn.execute("update contact_points set active = false where address = $1", NUMBER)
        # Moved to another patient of the clinic, it keeps its opt-out.
        await conn.execute(
            "update contact_points set patient_id = $2 where address = $1", NUMBER, other["id"]
        )
        # Opting a number out for a patient (who asked by phone) is the clinic's to do.
        fresh = factories.phone_number()
        await conn.execute(
            "insert into contact_points (patient_id, channel, address) values ($1, 'sms', $2)",
            w["patient"],
            fresh,
        )
        await conn.execute(
            "update contact_points set opted_out_at = now() where address = $1", fresh
        )
        # Deleting the whole patient (their rows go with them) is still allowed.
        await conn.execute("delete from patients where id = $1", other["id"])
    assert (
        await admin_conn.fetchval("select count(*) from contact_points where address = $1", NUMBER)
        == 0
    )


async def test_the_patients_start_still_opts_back_in(admin_conn: asyncpg.Connection) -> None:
    await _opted_out_patient(admin_conn)
    await admin_conn.execute("set role medremind_app")
    try:
        # bot.sql opt_in_contact, as the web's turn runs it for START.
        await admin_conn.execute(
            "update contact_points set opted_out_at = null, active = true"
            " where channel = 'sms' and address = $1",
            NUMBER,
        )
    finally:
        await admin_conn.execute("reset role")
    assert (
        await admin_conn.fetchval(
            "select opted_out_at from contact_points where address = $1", NUMBER
        )
        is None
    )
