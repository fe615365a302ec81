"""Issue 16, item 3: a patient whose SMS does not arrive gets the message by e-mail, their next
channel, as after a permanent error: when SMS keeps failing transiently until ``max_attempts``,
and when the carrier reports ``undelivered`` in Twilio's status callback.

Over a real ``medremind web`` (status callbacks) and ``medremind worker``, the loopback Twilio and
an aiosmtpd server. Messages are urgent: quiet hours never defer them, whatever the hour.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.factories import create_message, create_patient
from tests.fakes.fake_twilio import FakeTwilio, status_form
from tests.fakes.fixtures import smtp_sink  # noqa: F401
from tests.fakes.smtp import SmtpSink
from tests.web.conftest import twilio_signature
from tests.web.processes import FAST_RETRY, StartWeb, kill, running_worker, twilio_env

PHONE = "+14155550177"
EMAIL = "ana@example.org"


def _smtp_env(sink: SmtpSink) -> dict[str, str]:
    return {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(sink.port),
        "SMTP_FROM": "clinic@example.org",
        "SMTP_STARTTLS": "false",
    }


async def _row(conn: asyncpg.Connection, message_id: Any) -> asyncpg.Record:
    return await conn.fetchrow("select * from scheduled_messages where id = $1", message_id)


async def _until(conn: asyncpg.Connection, message_id: Any, status: str, log: Path) -> Any:
    """The row once it has ``status`` (a hang guard with a generous deadline, not a timing test)."""
    deadline = time.monotonic() + 90
    while (row := await _row(conn, message_id))["status"] != status:
        assert time.monotonic() < deadline, (dict(row), log.read_text()[-3000:])
        await asyncio.sleep(0.1)
    return row


async def _patient(conn: asyncpg.Connection) -> Any:
    return await create_patient(conn, contacts={"sms": PHONE, "email": EMAIL})


@pytest.fixture
async def worker_log(
    fake_twilio: FakeTwilio,
    smtp_sink: SmtpSink,  # noqa: F811
    database_url: str,
    tmp_path: Path,
) -> AsyncIterator[Path]:
    """A ``medremind worker`` with SMS on the loopback Twilio and e-mail on aiosmtpd."""
    env = twilio_env(fake_twilio) | _smtp_env(smtp_sink) | FAST_RETRY
    async with running_worker(database_url, tmp_path, **env) as log:
        yield log


async def test_a_transient_sms_outage_ends_in_the_email_being_sent(
    fake_twilio: FakeTwilio,
    smtp_sink: SmtpSink,  # noqa: F811
    admin_conn: asyncpg.Connection,
    worker_log: Path,
) -> None:
    fake_twilio.fail_next_server_error(503, times=100)  # Twilio is down for the whole test
    patient = await _patient(admin_conn)
    message = await create_message(admin_conn, patient["id"], urgent=True, max_attempts=2)
    row = await _until(admin_conn, message["id"], "sent", worker_log)
    assert row["channel_used"] == "email"
    assert [m["To"] for m in smtp_sink.messages] == [EMAIL]
    attempts = await admin_conn.fetch(
        "select channel, status, error_class from message_delivery_attempts"
        " where message_id = $1 order by attempt_time",
        message["id"],
    )
    assert [(a["channel"], a["status"]) for a in attempts] == [
        ("sms", "failed"),
        ("sms", "failed"),
        ("email", "sent"),
    ]
    assert all(a["error_class"] == "transient" for a in attempts[:2])
    assert [c.status for c in fake_twilio.calls] == [503, 503]


async def test_an_undelivered_callback_ends_in_the_email_being_sent(
    web_process: StartWeb,
    smtp_sink: SmtpSink,  # noqa: F811
    admin_conn: asyncpg.Connection,
    worker_log: Path,
) -> None:
    web, base = await web_process()
    try:
        patient = await _patient(admin_conn)
        message = await create_message(admin_conn, patient["id"], urgent=True)
        row = await _until(admin_conn, message["id"], "sent", worker_log)
        assert row["channel_used"] == "sms"
        assert smtp_sink.messages == []
        # The carrier could not deliver it (30003: unreachable handset).
        form = status_form(row["provider_message_id"], "undelivered", to=PHONE, error_code=30003)
        async with httpx.AsyncClient(base_url=base) as http:
            response = await http.post(
                "/twilio/status",
                data=form,
                headers={"X-Twilio-Signature": twilio_signature("/twilio/status", form)},
            )
        assert response.status_code == 204
        deadline = time.monotonic() + 90
        while (row := await _row(admin_conn, message["id"]))["channel_used"] != "email":
            assert time.monotonic() < deadline, (dict(row), worker_log.read_text()[-3000:])
            await asyncio.sleep(0.1)
        assert row["status"] == "sent"
    finally:
        kill(web)
    assert [m["To"] for m in smtp_sink.messages] == [EMAIL]
    assert row["channels_tried"] == ["sms", "email"]
    attempts = await admin_conn.fetch(
        "select channel, status from message_delivery_attempts where message_id = $1"
        " order by attempt_time",
        message["id"],
    )
    assert [(a["channel"], a["status"]) for a in attempts] == [
        ("sms", "sent"),
        ("sms", "undelivered"),
        ("email", "sent"),
    ]
