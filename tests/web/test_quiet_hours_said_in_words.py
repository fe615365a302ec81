"""Quiet hours typed as people say a span of time: "de 23 a 7", "entre las 23 y las 7", "from
11pm to 7am", "de 10 y media de la noche a 6".

The quiet hours question took "23-7" and "23 a 7" but not "de 23 a 7" (its first time read as "de
23") nor "entre las 23 y las 7", "from 11pm to 7am": "Escribe dos horas como 22:00-07:00".
Found chatting in ``medremind dev``; and the reply, "Saved.", did not say what was read. Driven
over SMS through the web process (signed Twilio webhooks, the replies read off the loopback
Twilio); the window saved is read from the database.
"""

from __future__ import annotations

from datetime import time

import asyncpg
import httpx
import pytest

from tests import factories
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import sms_chat, through_menus

NUMBER = "+34600111559"


@pytest.mark.parametrize(
    ("locale", "typed", "window", "said"),
    [
        ("es", "de 23 a 7", (time(23, 0), time(7, 0)), "Guardado. Horas de silencio: 23:00-7:00."),
        ("es", "desde las 23 hasta las 7", (time(23, 0), time(7, 0)), "23:00-7:00"),
        ("es", "entre las 23 y las 7", (time(23, 0), time(7, 0)), "23:00-7:00"),
        ("es", "de 10 y media de la noche a 6", (time(22, 30), time(6, 0)), "22:30-6:00"),
        ("es", "de medianoche a 6", (time(0, 0), time(6, 0)), "0:00-6:00"),
        (
            "en",
            "from 11pm to 7am",
            (time(23, 0), time(7, 0)),
            "Saved. Quiet hours: 11:00 PM-7:00 AM.",
        ),
        ("en", "between 10 pm and 6 am", (time(22, 0), time(6, 0)), "10:00 PM-6:00 AM"),
    ],
)
async def test_quiet_hours_said_as_a_span_are_read(
    web: httpx.AsyncClient,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    locale: str,
    typed: str,
    window: tuple[time, time],
    said: str,
) -> None:
    patient = await factories.create_patient(
        admin_conn, contacts={"sms": NUMBER}, locale=locale, display_name="Ana"
    )
    say = sms_chat(web, fake_twilio, NUMBER)
    await through_menus(say, "/settings", "Quiet hours" if locale == "en" else "Horas de silencio")
    reply = await say(typed)
    assert not reply.startswith(("Please type two times", "Escribe dos horas")), reply
    saved = await admin_conn.fetchrow(
        "select quiet_start, quiet_end from patients where id = $1", patient["id"]
    )
    assert (saved["quiet_start"], saved["quiet_end"]) == window, reply
    # The window read is said back, so a patient sees what was understood (it said "Saved.").
    assert said in reply, reply
