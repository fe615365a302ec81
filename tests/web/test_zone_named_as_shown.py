"""A city typed as the bot names it, in the patient's language, is understood.

The bot names zones by CLDR's city in the patient's language ("Tokio", "Londres", "Nueva York",
core.zone_labels); a Spanish patient who typed "Tokio" in /settings was told "No conozco ese
lugar" (found chatting in medremind dev): only the IANA names' English cities and a few aliases
were read. Driven as a patient texts: signed Twilio webhooks into the web process; the patient
lives in Madrid with quiet hours set explicitly (02:00-03:00).
"""

from __future__ import annotations

from datetime import time

import asyncpg
import httpx
import pytest

from tests import factories
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import sms_chat, through_menus

NUMBER = "+34600111581"


@pytest.mark.parametrize(
    ("typed", "zone", "city"),
    [("Tokio", "Asia/Tokyo", "Tokio"), ("moscú", "Europe/Moscow", "Moscu"),
     ("El Cairo", "Africa/Cairo", "El Cairo")],
)  # fmt: skip
async def test_a_spanish_city_name_sets_the_zone(
    web: httpx.AsyncClient,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    typed: str,
    zone: str,
    city: str,
) -> None:
    patient = await factories.create_patient(
        admin_conn,
        contacts={"sms": NUMBER},
        locale="es",
        display_name="Ana",
        timezone="Europe/Madrid",
        home_timezone="Europe/Madrid",
        quiet_start=time(2, 0),
        quiet_end=time(3, 0),
    )
    say = sms_chat(web, fake_twilio, NUMBER)
    await through_menus(say, "/settings", "Zona horaria")
    asked = await say(typed)
    assert f"({city})?" in asked, asked  # "¿Tu hora local ahora es 20:50 (Tokio)?"
    moved = await through_menus(say, "1")  # Sí
    assert moved.startswith(f"¿Te has mudado a {city} o estas de viaje?"), moved
    await through_menus(say, "1")  # Mudanza
    assert (
        await admin_conn.fetchval("select timezone from patients where id = $1", patient["id"])
        == zone
    )
