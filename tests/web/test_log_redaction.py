"""Item 6 of issue 15: logs never carry query arguments or driver messages with values.

A real asyncpg error repeating a patient's name (with a lone surrogate, in its escaped form) is
logged without it; and over a real ``medremind web`` process, a patient's name with a lone
surrogate sent to every route never reaches its log in any spelling, while a patient's "stop"
does not cut words out of the process's own lines ("stopping web process").
"""

from __future__ import annotations

import io
import json
import logging

import asyncpg
import httpx
import pytest

from core.db import Database
from core.logs import configure_logging
from tests.fakes.fake_telegram import text_update
from tests.fakes.fake_twilio import inbound_form
from tests.web.conftest import WEBHOOK_SECRET, twilio_signature
from tests.web.processes import StartWeb, clinic_key, stop

NAME = "Quendolyn Zarvis \ud800"
TELEGRAM = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET, "Content-Type": "application/json"}


def _json(value: object) -> bytes:
    """JSON as a client may send it: the lone surrogate as its escape."""
    return json.dumps(value).encode()


async def test_a_driver_error_with_the_name_is_logged_without_it(admin_conn: asyncpg.Connection):
    stream = io.StringIO()
    handler = configure_logging("DEBUG", stream=stream)
    try:
        for argument in (NAME, "Quendolyn Zarvis"):
            with pytest.raises((asyncpg.DataError, asyncpg.PostgresError)) as caught:
                # The first fails in the driver (no UTF-8 for the surrogate), the second in the
                # server (not a uuid): both messages quote the value.
                await admin_conn.fetchval("select $1::text::uuid", argument)
            logging.getLogger("medremind.test").error("insert failed", exc_info=caught.value)
            logging.getLogger("medremind.test").warning("insert failed: %s", caught.value)
    finally:
        logging.getLogger().removeHandler(handler)
    text = stream.getvalue()
    assert "invalid input" in text  # what went wrong is still said
    assert "quendolyn" not in text.lower()


async def test_a_name_with_a_lone_surrogate_never_reaches_the_web_process_log(
    web_process: StartWeb, db: Database, admin_conn
):
    _, key = await clinic_key(db, admin_conn, "Log Clinic")
    process, base = await web_process(
        MEDREMIND_LOG_LEVEL="DEBUG",
        MEDREMIND_QUIET_HOURS_START="00:00",
        MEDREMIND_QUIET_HOURS_END="00:00",
    )
    auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        for path, body in (
            ("/api/v1/patients", {"display_name": NAME, "timezone": "UTC"}),
            ("/api/v1/messages", {"patient_id": NAME, "text": NAME}),
            ("/api/v1/appointments", {"patient_id": NAME, "location": NAME}),
        ):
            response = await http.post(path, content=_json(body), headers=auth)
            assert response.status_code < 500, (path, response.text)
        for update in (
            text_update(555000601, "hello", first_name=NAME),
            text_update(555000602, NAME),
        ):
            response = await http.post("/telegram/webhook", content=_json(update), headers=TELEGRAM)
            assert response.status_code == 200
        # A form cannot carry a lone surrogate (percent-decoding replaces it): the plain name.
        form = inbound_form("whatsapp:+14155550161", "hi", profile_name=NAME[:-2])
        response = await http.post(
            "/twilio/inbound",
            data=form,
            headers={"X-Twilio-Signature": twilio_signature("/twilio/inbound", form)},
        )
        assert response.status_code < 500
        # A patient's "stop" is registered as sensitive text by the web process itself.
        response = await http.post(
            "/telegram/webhook", content=_json(text_update(555000603, "stop")), headers=TELEGRAM
        )
        assert response.status_code == 200
    stderr = await stop(process, timeout=30)
    spellings = {"quendolyn", "zarvis"}
    assert not [word for word in spellings if word in stderr.lower()]
    assert "stopping web process" in stderr
