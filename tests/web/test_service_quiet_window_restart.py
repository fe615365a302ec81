"""``MEDREMIND_QUIET_HOURS_*`` changed across a restart of ``medremind worker``: what the old
window deferred is judged again by the new one (scheduler/quiet_release.py, migration
20260101015600). Before, a message held for the old window's end waited for it whatever the new
window said.

Real worker processes on the real clock: each window is set around the moment the test runs
(``quiet_window_around``), so the test holds at any hour. The patient registered themselves (no
clinic: a clinic always has a default window of its own, so only such a patient and their
caregivers wait out the service's window) and is reached by e-mail through the outbox.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from tests import factories
from tests.process_env import QUIET_HOURS_OFF, quiet_window_around
from tests.web.processes import running_worker, until

DEFERRED = "deferred to the end of quiet hours"


def _window_end(window: dict[str, str], now: datetime) -> datetime:
    """The next instant (UTC) at the window's end, as the dispatcher defers to it."""
    hour, minute = map(int, window["MEDREMIND_QUIET_HOURS_END"].split(":"))
    end = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return end if end > now else end + timedelta(days=1)


async def _row(conn: asyncpg.Connection, message_id: Any) -> asyncpg.Record:
    return await conn.fetchrow(
        "select status, scheduled_time, last_error from scheduled_messages where id = $1",
        message_id,
    )


async def test_a_restart_with_another_default_window_re_times_deferred_messages(
    admin_conn: asyncpg.Connection, database_url: str, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    patient = await factories.create_patient(
        admin_conn, None, timezone="UTC", contacts={"email": "pat@example.org"}
    )
    message = await factories.create_message(admin_conn, patient["id"], scheduled_time=now)

    # Worker 1: quiet from an hour ago to an hour from now. The message waits for that end.
    first = quiet_window_around(now, timedelta(hours=1))
    async with running_worker(database_url, tmp_path, **first) as log:

        async def deferred() -> bool:
            row = await _row(admin_conn, message["id"])
            return row["last_error"] == DEFERRED

        await until("the first worker defers the message", deferred, log)
    assert (await _row(admin_conn, message["id"]))["scheduled_time"] == _window_end(first, now)

    # Worker 2: the window now ends in 20 minutes. Still inside: it waits for the new end.
    second = {
        "MEDREMIND_QUIET_HOURS_START": first["MEDREMIND_QUIET_HOURS_START"],
        "MEDREMIND_QUIET_HOURS_END": (now + timedelta(minutes=20)).strftime("%H:%M"),
    }
    new_end = _window_end(second, now)
    async with running_worker(database_url, tmp_path, **second) as log:

        async def re_timed() -> bool:
            return bool((await _row(admin_conn, message["id"]))["scheduled_time"] == new_end)

        await until("the second worker moves the message to its window's end", re_timed, log)
    row = await _row(admin_conn, message["id"])
    assert (row["status"], row["last_error"]) == ("pending", DEFERRED)

    # Worker 3: quiet hours off. Outside any window: it goes now.
    async with running_worker(database_url, tmp_path, **QUIET_HOURS_OFF) as log:

        async def sent() -> bool:
            return bool((await _row(admin_conn, message["id"]))["status"] == "sent")

        await until("the third worker sends the message", sent, log)
        text = log.read_text()
    assert "service quiet hours changed" in text
    assert "pat@example.org" not in text


async def test_a_restart_with_the_same_window_notes_no_change(
    admin_conn: asyncpg.Connection, database_url: str, tmp_path: Path
) -> None:
    """Restarts with an unchanged window (every deploy) note nothing and re-time nothing."""
    window = quiet_window_around(datetime.now(UTC), timedelta(hours=1))
    logs, notes = [], []
    for _ in range(2):
        async with running_worker(database_url, tmp_path, **window) as log:

            async def started() -> bool:
                return "worker started" in log.read_text()

            await until("the worker starts", started, log)
            logs.append(log.read_text())
        notes.append(await admin_conn.fetchval("select max(id) from quiet_window_changes"))
    # The first start ever notes one (the window before it is unknown), the second none (the
    # first one's note may be gone by then: a pass drops it after two leases).
    assert [text.count("service quiet hours changed") for text in logs] == [1, 0]
    assert notes[0] is not None and notes[1] in (notes[0], None)
