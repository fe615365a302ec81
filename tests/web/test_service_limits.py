"""The SMS segment limit the service enforces reaches the dashboard through the database: a
``medremind web`` started with ``MEDREMIND_SMS_MAX_SEGMENTS=5`` publishes 5 in
``service_limits``, which the dashboard's role reads (dashboard/src/lib/data/limits.ts) and
clinicians cannot change."""

from __future__ import annotations

import asyncpg
import pytest

from tests import factories
from tests.integration.clinician import as_clinician
from tests.web.processes import StartWeb


async def test_the_web_process_publishes_its_sms_limit_for_the_dashboard(
    admin_conn: asyncpg.Connection, web_process: StartWeb
) -> None:
    org = await factories.create_organization(admin_conn)
    clinician = await factories.create_clinician(admin_conn, org["id"])
    await web_process(MEDREMIND_SMS_MAX_SEGMENTS="5")
    assert await admin_conn.fetchval("select sms_max_segments from service_limits") == 5
    async with as_clinician(admin_conn, clinician["id"]) as conn:
        assert await conn.fetchval("select sms_max_segments from service_limits where id") == 5
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("update service_limits set sms_max_segments = 10")
