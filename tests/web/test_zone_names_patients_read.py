"""The bot names a time zone by its city or its UTC offset, never by its IANA name.

Before: "Is your local time now 5:50 AM (America/Chicago)?", and /settings said "Time zone:
Etc/GMT+5" for a patient stored so (older rows; the API refuses it now). CLDR's name for that
zone ("GMT+5") has the sign the wrong way round (it is five hours behind UTC), and "on
America/Chicago's clock" or "(Europe/Madrid)" is not how a patient names a place. Now "UTC-5",
"Chicago", "Nueva York" (core/zone_labels.py), over SMS in GSM-7 letters ("Bogota");
moved-or-travelling names both cities (tests/web/test_zone_move_or_trip.py). Over SMS through
the web process at the injected clock (Wednesday, March 4, 2026, 11:50 UTC: 6:50 AM at UTC-5
and in New York, 5:50 AM in Chicago).
"""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from core.message_limits import count_segments
from tests import factories
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import option_number, sms_chat, through_menus

ANA = "+13125550190"


@pytest.mark.parametrize(
    ("locale", "typed", "asked", "kept"),
    [
        (
            "en",
            "America/Chicago",
            "Is your local time now 5:50 AM (Chicago)?",
            "Time zone: Chicago",
        ),
        (
            "es",
            "America/New_York",
            "¿Ahora son las 6:50 donde estas (Nueva York)?",
            "Zona horaria: Nueva York",
        ),
        (
            "es",
            "America/Bogota",
            "¿Ahora son las 6:50 donde estas (Bogota)?",
            "Zona horaria: Bogota",
        ),
        # One o'clock: "es la 1:50" (it said "es 1:50", a time with no article); UTC-10.
        (
            "es",
            "Pacific/Honolulu",
            "¿Ahora es la 1:50 donde estas (Honolulu)?",
            "Zona horaria: Honolulu",
        ),
    ],
)
async def test_the_zone_is_named_as_a_patient_reads_it(
    web: httpx.AsyncClient,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    locale: str,
    typed: str,
    asked: str,
    kept: str,
) -> None:
    await factories.create_patient(
        admin_conn, contacts={"sms": ANA}, display_name="Ana", locale=locale, timezone="UTC"
    )
    say = sms_chat(web, fake_twilio, ANA)
    await through_menus(say, "/settings", "Time zone" if locale == "en" else "Zona horaria")
    question = await say(typed)
    assert question.startswith(asked), question
    assert count_segments(question)[0] == "GSM-7", question
    await say(option_number(question, "Yes" if locale == "en" else "Si"))
    menu = await say("/settings")
    assert kept in menu, menu
    assert "/" not in menu.split("\n")[1], menu  # no IANA name on the zone's line


@pytest.mark.parametrize(
    ("zone", "named"), [("Etc/GMT+5", "UTC-5"), ("Etc/GMT-14", "UTC+14"), ("UTC", "UTC")]
)
async def test_a_zone_set_by_the_clinic_is_named_by_its_offset_with_the_right_sign(
    web: httpx.AsyncClient,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    zone: str,
    named: str,
) -> None:
    """The API takes Etc/GMT+5 (the bot asks for a city): five hours behind UTC."""
    await factories.create_patient(
        admin_conn, contacts={"sms": ANA}, display_name="Ana", timezone=zone
    )
    menu = await sms_chat(web, fake_twilio, ANA)("/settings")
    assert f"Time zone: {named} (" in menu, menu


@pytest.mark.parametrize(
    ("locale", "menu", "cities"),
    [
        ("en", "Time zone", ["1 New York", "4 Mexico City", "5 Bogota", "8 Berlin"]),
        ("es", "Zona horaria", ["1 Nueva York", "4 Ciudad de México", "5 Bogota", "6 Londres"]),
    ],
)
async def test_the_city_menu_is_in_the_patients_language_and_gsm7(
    web: httpx.AsyncClient,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    locale: str,
    menu: str,
    cities: list[str],
) -> None:
    """The cities were English for everyone ("New York" in Spanish) and "Bogotá" made the
    whole question UCS-2 over SMS (67 characters a part). Each city still answers by its
    number or its name, as shown."""
    patient = await factories.create_patient(
        admin_conn, contacts={"sms": ANA}, display_name="Ana", locale=locale, timezone="UTC"
    )
    say = sms_chat(web, fake_twilio, ANA)
    question = await through_menus(say, "/settings", menu)
    for city in cities:
        assert f"\n{city}\n" in f"{question}\n", question
    assert count_segments(question)[0] == "GSM-7", question
    confirm = await say(cities[0].split(" ", 1)[1])  # the city's name, typed as shown
    assert "6:50" in confirm, confirm
    await say(option_number(confirm, "Yes" if locale == "en" else "Si"))
    zone = await admin_conn.fetchval("select timezone from patients where id = $1", patient["id"])
    assert zone == "America/New_York"
