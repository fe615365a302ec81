"""Who may call the schema's functions: on Supabase, PostgREST's ``/rpc`` exposes every function
in ``public`` that a role may EXECUTE, so the default grant to PUBLIC must not stand.

A ``security definer`` function runs as its owner, past row-level security: each one a signed-in
user may call checks for itself whose rows its arguments name. A signed-in user need not be a
clinician (Supabase Auth's sign-up is open unless the project turns it off, and the dashboard's
anon key is public), and three of them took "no clinic of my own" for "the service": any
signed-in user spent any clinic's priority-0 share (``take_priority_zero``) and read when any
patient's clinic messages went out (``clinic_message_refusal``), and a clinician learnt whether
any message of any clinic was a given patient's (``message_of_patient``). Migration
20260101019100 makes them check the caller (``public.caller_acts_for``); ``REVIEWED`` lists
every such function with what holds it, so a new one fails here until someone has looked.
"""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import pytest

from tests import factories
from tests.integration.clinician import as_clinician

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)  # take_priority_zero's hour: any will do

# Functions only the service's processes call (the one-round-trip dose answer and its recorder).
SERVICE_ONLY = ("answer_dose_button", "answer_dose_button_reply", "record_final_dose_answer")


async def _callable_functions(conn: asyncpg.Connection, role: str) -> set[str]:
    """Functions in ``public``, other than trigger functions, that ``role`` may execute."""
    rows = await conn.fetch(
        """
        select p.proname
          from pg_proc p
          join pg_namespace n on n.oid = p.pronamespace
         where n.nspname = 'public'
           and p.prorettype <> 'trigger'::regtype
           and has_function_privilege($1, p.oid, 'execute')
        """,
        role,
    )
    return {r["proname"] for r in rows}


async def test_anon_may_call_no_function(admin_conn: asyncpg.Connection) -> None:
    assert await _callable_functions(admin_conn, "anon") == set()


async def test_clinicians_may_not_call_service_functions(admin_conn: asyncpg.Connection) -> None:
    callable_by_clinicians = await _callable_functions(admin_conn, "authenticated")
    assert not callable_by_clinicians & set(SERVICE_ONLY)
    assert set(SERVICE_ONLY) <= await _callable_functions(admin_conn, "medremind_app")


@pytest.mark.parametrize("role", ["anon", "authenticated"])
async def test_calling_the_dose_answer_as_another_role_is_refused(
    admin_conn: asyncpg.Connection, role: str
) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with admin_conn.transaction():
            await admin_conn.execute(f"set local role {role}")
            await admin_conn.fetch(
                "select * from answer_dose_button(gen_random_uuid(), gen_random_uuid(),"
                " 'taken', now(), array['en'])"
            )


# Every security-definer function a signed-in user may call, and what keeps it to the caller's
# own clinic (a new one fails the test below until it is added here).
REVIEWED = {
    "clinic_message_refusal": "caller_acts_for(the patient's clinic): test below",
    "conversation_of_my_patient": "patient_in_my_organization(p_patient)",
    "current_clinician_is_admin": "reads the caller's own clinicians row only",
    "current_organization_id": "reads the caller's own clinicians row only",
    "invite_address_owner": "patient_in_my_organization: test_address_owner_invites.py",
    "issue_clinic_admin_token": "the caller's clinicians row, admin only",
    "issue_pause_token": "a patient of the caller's clinic only",
    "message_of_patient": "patient_in_my_organization(p_patient): test below",
    "patient_in_my_organization": "the caller's own clinic",
    "request_erasure": "a patient of the caller's clinic only: test_erasure",
    "rename_template": "caller_acts_for(p_organization), admin only: test_api_template_names.py",
    "resend_message": "current_organization_id() as the clinic: test below and"
    " test_resend_message.py",
    "take_priority_zero": "caller_acts_for(p_organization): test below and"
    " test_priority_zero_hours_clinician.py",
}


async def _every_definer_function_is_reviewed(admin_conn: asyncpg.Connection) -> None:
    rows = await admin_conn.fetch(
        """
        select p.proname
          from pg_proc p
          join pg_namespace n on n.oid = p.pronamespace
         where n.nspname = 'public' and p.prosecdef
           and p.prorettype <> 'trigger'::regtype
           and has_function_privilege('authenticated', p.oid, 'execute')
        """
    )
    assert {r["proname"] for r in rows} == set(REVIEWED)


async def test_definer_functions_are_reviewed_and_act_for_no_other_clinic(
    admin_conn: asyncpg.Connection,
) -> None:
    await _every_definer_function_is_reviewed(admin_conn)
    theirs = await factories.create_organization(admin_conn)
    mine = await factories.create_organization(admin_conn)
    clinician = (await factories.create_clinician(admin_conn, mine["id"]))["id"]
    # Signed up through Supabase Auth, in no clinic: auth.users only.
    stranger = await admin_conn.fetchval(
        "insert into auth.users (email) values ('someone@example.test') returning id"
    )
    patient = (await factories.create_patient(admin_conn, theirs["id"]))["id"]
    # Their patient at the clinic's cap of messages per hour (5): refused, with when.
    messages = [
        await factories.create_message(admin_conn, patient, from_clinic=True) for _ in range(5)
    ]
    refusal = "select count(*) from public.clinic_message_refusal($1)"
    assert await admin_conn.fetchval(refusal, patient) == 1  # the service's own view
    failed = await factories.create_message(admin_conn, patient, status="failed")
    take = "select public.take_priority_zero($1, $2, 100, $2)"
    owns = "select public.message_of_patient($1, $2)"
    resend = "select outcome from public.resend_message($1, 'dashboard')"

    for caller in (stranger, clinician):
        async with as_clinician(admin_conn, caller) as conn:  # signed in, as PostgREST is
            assert await conn.fetchval(take, theirs["id"], NOW) is None
            assert await conn.fetchval(refusal, patient) == 0
            assert await conn.fetchval(owns, messages[0]["id"], patient) is False
            assert await conn.fetchval(resend, failed["id"]) == "not_found"
    assert await admin_conn.fetchval("select count(*) from api_priority_zero_hours") == 0
    copies = "select count(*) from scheduled_messages where resent_from = $1"
    assert await admin_conn.fetchval(copies, failed["id"]) == 0
    # The service (the API's role, no signed-in user) still takes the clinic's share.
    assert await admin_conn.fetchval(take, theirs["id"], NOW) == 1
