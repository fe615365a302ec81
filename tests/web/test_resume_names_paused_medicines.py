"""/resume names the medicines it leaves paused.

A medicine paused on its own in /meds stays paused after /resume (which undoes /pause only), but
the reply said "Los recordatorios vuelven a estar activos." and nothing else: in medremind dev a
patient who paused Metformina in /meds and sent /resume to bring it back read that it was back,
and its reminders never came. Driven as a patient texts: signed Twilio webhooks into the web
process; the patients live in UTC with quiet hours set explicitly (02:00-03:00).
"""

from __future__ import annotations

from datetime import time

import asyncpg
import httpx
import pytest

from tests import factories
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import option_number, sms_chat

NUMBER = "+34600111571"


@pytest.mark.parametrize(
    ("locale", "paused", "said"),
    [
        ("es", ["Metformina"], "Metformina sigue en pausa: reanudalo en /meds."),  # GSM-7 letters
        ("en", ["Metformina", "Aspirina"],
         "Metformina and Aspirina stay paused: resume them in /meds."),
        ("es", [], "Los recordatorios vuelven a estar activos."),
    ],
)  # fmt: skip
async def test_resume_names_the_medicines_it_leaves_paused(
    web: httpx.AsyncClient,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    locale: str,
    paused: list[str],
    said: str,
) -> None:
    patient = await factories.create_patient(
        admin_conn,
        contacts={"sms": NUMBER},
        locale=locale,
        display_name="Ana",
        quiet_start=time(2, 0),
        quiet_end=time(3, 0),
    )
    for name in ("Metformina", "Aspirina", "Ibuprofeno"):
        await factories.create_medication(admin_conn, patient["id"], name=name, times=(time(12),))
    say = sms_chat(web, fake_twilio, NUMBER)
    for name in paused:
        meds = await say("/meds")
        await say(option_number(meds, ("Pausar " if locale == "es" else "Pause ") + name))
    await say("/pause")
    resumed = await say("/resume")
    assert resumed.endswith(said), resumed
    assert "Ibuprofeno" not in resumed, resumed
