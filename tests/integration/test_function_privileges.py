"""Who may call the schema's functions: on Supabase, PostgREST's ``/rpc`` exposes every function
in ``public`` that a role may EXECUTE, so the default grant to PUBLIC must not stand."""

from __future__ import annotations

import asyncpg
import pytest

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
