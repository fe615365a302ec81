"""The SMS segment limit the service enforces reaches the dashboard through the database: a
``medremind web`` started with ``MEDREMIND_SMS_MAX_SEGMENTS=5`` publishes 5 in
``service_limits``, which the dashboard's role reads (dashboard/src/lib/data/limits.ts) and
clinicians cannot change."""

from __future__ import annotations

import asyncpg
import pytest

from core.settings import Settings
from tests import factories
from tests.integration.clinician import as_clinician
from tests.web.processes import StartWeb


async def test_the_web_process_publishes_its_sms_limit_for_the_dashboard(
    admin_conn: asyncpg.Connection, web_process: StartWeb
) -> None:
    org = await factories.create_organization(admin_conn)
    clinician = await factories.create_clinician(admin_conn, org["id"])
    await web_process(MEDREMIND_SMS_MAX_SEGMENTS="5", MEDREMIND_API_PRIORITY_ZERO_PER_HOUR="7")
    assert await admin_conn.fetchval("select sms_max_segments from service_limits") == 5
    # The clinics' share of priority 0, which every re-send takes from (migration 20260101017650).
    share = "select api_priority_zero_per_hour from service_limits"
    assert await admin_conn.fetchval(share) == 7
    async with as_clinician(admin_conn, clinician["id"]) as conn:
        assert await conn.fetchval("select sms_max_segments from service_limits where id") == 5
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("update service_limits set sms_max_segments = 10")


async def test_the_share_before_any_process_started_is_the_settings_default(
    admin_conn: asyncpg.Connection,
) -> None:
    """The share every re-send and clinician's row counts by (public.priority_zero_per_hour) is
    100 while no process has published one, and the column's default is 100 too: both are
    MEDREMIND_API_PRIORITY_ZERO_PER_HOUR's default."""
    default = Settings.model_fields["api_priority_zero_per_hour"].default
    column = await admin_conn.fetchval(
        "select column_default from information_schema.columns"
        " where table_name = 'service_limits' and column_name = 'api_priority_zero_per_hour'"
    )
    assert column == str(default)
    assert await admin_conn.fetchval("select public.priority_zero_per_hour()") == default
