"""The dashboard's "new patient" with an address someone else owns, as the signed-in clinician.

``createPatient`` (dashboard/src/lib/data/patients.ts) inserts the contact point with ``on conflict
do nothing`` and, when it was someone else's, calls ``public.invite_address_owner``: the clinic
sees the address listed as for a new one, the owner keeps it, and a self-registered owner is sent
an invitation that only their own chat can redeem. A clinician may not name another clinic's
patient to that function.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import asyncpg
import pytest

from tests import factories
from tests.integration.clinician import as_clinician

PHONE = "+14155550166"

# createPatient's contact insert and its fallback, with postgres.js's parameters numbered.
INSERT_CONTACT = """
insert into contact_points (patient_id, channel, address, verified)
values ($1, $2, $3, true)
on conflict (channel, address) do nothing
returning id
"""
INVITE_OWNER = "select public.invite_address_owner($1, $2, $3, true)"
# The listing the patient page shows (CHANNELS_JSON's rows).
LISTED = """
select channel, address, verified, opted_out_at is not null as opted_out
  from (select channel, address, verified, opted_out_at, created_at
          from contact_points where patient_id = $1
        union all
        select claimed_channel, claimed_address, claimed_verified, null, created_at
          from patient_invites
         where patient_id = $1 and claimed_address is not null and used_at is null) c
"""


async def _new_patient(conn: asyncpg.Connection, clinician: uuid.UUID, phone: str) -> list:
    """The dashboard's createPatient for an SMS patient; returns what the clinic then sees."""
    async with as_clinician(conn, clinician):
        patient_id = await conn.fetchval(
            "insert into patients (organization_id, display_name, channel_order, status)"
            " values (public.current_organization_id(), 'Ana', '{sms}', 'invited') returning id"
        )
        if await conn.fetchval(INSERT_CONTACT, patient_id, "sms", phone) is None:
            await conn.execute(INVITE_OWNER, patient_id, "sms", phone)
        return [tuple(r) for r in await conn.fetch(LISTED, patient_id)]


async def test_someone_elses_number_looks_new_and_the_self_registered_owner_is_invited(
    admin_conn: asyncpg.Connection,
) -> None:
    org = await factories.create_organization(admin_conn, name="North Clinic")
    clinician = await factories.create_clinician(admin_conn, org["id"])
    owner = await factories.create_patient(admin_conn, None, contacts={"sms": PHONE})

    taken = await _new_patient(admin_conn, clinician["id"], PHONE)
    fresh = await _new_patient(admin_conn, clinician["id"], "+14155550155")
    # Listed alike: the channel, verified (the dashboard trusts what it enters), not opted out.
    assert taken == [("sms", PHONE, True, False)]
    assert fresh == [("sms", "+14155550155", True, False)]

    assert (
        await admin_conn.fetchval("select patient_id from contact_points where address = $1", PHONE)
        == owner["id"]
    )
    invitation = await admin_conn.fetchrow(
        "select kind, template, payload from scheduled_messages where patient_id = $1", owner["id"]
    )
    assert invitation["kind"] == "system" and invitation["template"] == "join_invitation"
    assert invitation["payload"]["inviting_clinic"] == "North Clinic"


async def test_a_clinician_cannot_name_another_clinics_patient(
    admin_conn: asyncpg.Connection,
) -> None:
    mine = await factories.create_organization(admin_conn)
    theirs = await factories.create_organization(admin_conn)
    clinician = await factories.create_clinician(admin_conn, mine["id"])
    their_patient = await factories.create_patient(admin_conn, theirs["id"])
    await factories.create_patient(admin_conn, None, contacts={"sms": PHONE})
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with as_clinician(admin_conn, clinician["id"]):
            await admin_conn.execute(INVITE_OWNER, their_patient["id"], "sms", PHONE)


async def test_a_clinicians_erasure_request_is_for_their_own_patients_only(
    admin_conn: asyncpg.Connection,
) -> None:
    mine = await factories.create_organization(admin_conn)
    theirs = await factories.create_organization(admin_conn)
    clinician = await factories.create_clinician(admin_conn, mine["id"])
    my_patient = await factories.create_patient(admin_conn, mine["id"], contacts={"sms": PHONE})
    their_patient = await factories.create_patient(admin_conn, theirs["id"])
    async with as_clinician(admin_conn, clinician["id"]):
        assert not await admin_conn.fetchval(
            "select public.request_erasure($1)", their_patient["id"]
        )
        assert await admin_conn.fetchval("select public.request_erasure($1)", my_patient["id"])
    rows = {
        r["id"]: r
        for r in await admin_conn.fetch(
            "select id, status, display_name, erasure_reason from patients"
        )
    }
    assert rows[their_patient["id"]]["status"] == "active"
    tomb = rows[my_patient["id"]]
    assert (tomb["status"], tomb["display_name"]) == ("deleted", None)
    assert tomb["erasure_reason"] == "deleted at the clinic's request"
    assert (
        await admin_conn.fetchval("select count(*) from contact_points where address = $1", PHONE)
        == 0
    )
    assert (
        await admin_conn.fetchval("select actor from audit_log where action = 'patient.erased'")
        == f"clinician:{clinician['id']}"
    )


async def test_one_invitation_per_clinic_however_often_the_number_is_entered(
    admin_conn: asyncpg.Connection,
) -> None:
    org = await factories.create_organization(admin_conn, name="North Clinic")
    other = await factories.create_organization(admin_conn, name="South Clinic")
    clinician = await factories.create_clinician(admin_conn, org["id"])
    other_clinician = await factories.create_clinician(admin_conn, other["id"])
    owner = await factories.create_patient(admin_conn, None, contacts={"sms": PHONE})
    for _ in range(3):
        assert await _new_patient(admin_conn, clinician["id"], PHONE) == [
            ("sms", PHONE, True, False)
        ]
    await _new_patient(admin_conn, other_clinician["id"], PHONE)
    sent = await admin_conn.fetch(
        "select payload ->> 'inviting_clinic' as clinic from scheduled_messages"
        " where patient_id = $1 order by clinic",
        owner["id"],
    )
    assert [r["clinic"] for r in sent] == ["North Clinic", "South Clinic"]


async def test_calling_it_directly_tells_a_clinician_nothing_of_the_owner(
    admin_conn: asyncpg.Connection,
) -> None:
    """A clinician calling invite_address_owner through PostgREST (as the authenticated role) with
    addresses of their choice: a free one, one of a patient of another clinic and one of a
    self-registered patient are answered alike and leave alike rows, and the owner's id cannot be
    read; the self-registered owner is still invited."""
    org = await factories.create_organization(admin_conn, name="Probing Clinic")
    other = await factories.create_organization(admin_conn, name="Other Clinic")
    clinician = await factories.create_clinician(admin_conn, org["id"])
    mine = await factories.create_patient(admin_conn, org["id"], contacts={})
    await factories.create_patient(admin_conn, other["id"], contacts={"email": "b@clinic.test"})
    solo = await factories.create_patient(admin_conn, None, contacts={"email": "s@self.test"})
    addresses = ["free@nobody.test", "b@clinic.test", "s@self.test"]
    async with as_clinician(admin_conn, clinician["id"]):
        answers = [
            await admin_conn.fetchval(
                "select public.invite_address_owner($1, 'email', $2, false)",
                mine["id"],
                address,
            )
            for address in addresses
        ]
        seen = await admin_conn.fetch(
            "select claimed_channel, claimed_address, claimed_verified, used_at,"
            " expires_at - created_at as valid, expires_at = now() + interval '7 days' as week"
            " from patient_invites where patient_id = $1 order by claimed_address",
            mine["id"],
        )
        # The time is the database's: the form that took one (migration 20260101019140) let a
        # clinician backdate an invitation, or date it ahead and keep it valid for years.
        for backdated in ("2001-01-01T00:00:00Z", "2101-01-01T00:00:00Z"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                async with admin_conn.transaction():
                    await admin_conn.fetchval(
                        "select public.invite_address_owner($1, 'email', 'late@nobody.test',"
                        f" '{backdated}', false)",
                        mine["id"],
                    )
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with admin_conn.transaction():
                await admin_conn.fetch("select invitee_patient_id from patient_invites")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with admin_conn.transaction():
                await admin_conn.fetch(
                    "select id from patient_invites where invitee_patient_id is not null"
                )
    assert answers == [True, True, True]
    assert [r["claimed_address"] for r in seen] == sorted(addresses)
    assert len({tuple(r.values())[2:] for r in seen}) == 1  # alike but for the address
    assert seen[0]["week"]
    invited = await admin_conn.fetch(
        "select patient_id, expires_at - scheduled_time as valid from scheduled_messages"
        " where template = 'join_invitation'"
    )
    assert [(r["patient_id"], r["valid"]) for r in invited] == [(solo["id"], timedelta(days=7))]
