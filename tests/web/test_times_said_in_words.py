"""Times typed as people say them: "8 y media", "medianoche", "half past 8", "midnight".

The /add times question read "8 y media" as two times, "8" and "media" ("No he podido leer esa
hora"), and knew neither "medianoche" nor "midnight", though it knows "mediodía" and "noon".
Found chatting in ``medremind dev``. Driven as a patient texts: signed Twilio webhooks into the
web process, the replies read off the loopback Twilio; one injected clock (START, 11:50 UTC, a
patient in UTC), quiet hours set explicitly (02:00-03:00) so no note about them is added.
"""

from __future__ import annotations

from datetime import time

import asyncpg
import httpx
import pytest

from tests import factories
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import add_medicine, sms_chat

NUMBER = "+34600111558"


@pytest.mark.parametrize(
    ("locale", "typed", "saved"),
    [
        ("es", "8 y media", "Guardado. Te lo recordaré a las 8:30."),
        ("es", "8 y media, 9 y cuarto", "Guardado. Te lo recordaré a las 8:30 y a las 9:15."),
        ("es", "a las 9 menos cuarto de la noche", "Guardado. Te lo recordaré a las 20:45."),
        ("es", "la una y media", "Guardado. Te lo recordaré a la 1:30."),
        ("es", "medianoche y 12 y media", "Guardado. Te lo recordaré a las 0:00 y a las 12:30."),
        ("en", "half past 8, quarter to 9 pm", "Saved. I'll remind you at 8:30 AM, 8:45 PM."),
        ("en", "midnight", "Saved. I'll remind you at 12:00 AM."),
    ],
)
async def test_a_time_said_in_words_is_read(
    web: httpx.AsyncClient,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    locale: str,
    typed: str,
    saved: str,
) -> None:
    await factories.create_patient(
        admin_conn,
        contacts={"sms": NUMBER},
        locale=locale,
        display_name="Ana",
        quiet_start=time(2, 0),
        quiet_end=time(3, 0),
    )
    so_far, reply = await add_medicine(sms_chat(web, fake_twilio, NUMBER), locale, typed)
    assert so_far.startswith(("Horas por ahora", "Times so far")), so_far
    assert reply.startswith(saved), reply
