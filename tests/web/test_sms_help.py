"""/help over SMS is one message: the commands that work there, STOP and START, the clinic.

The help written for Telegram (every command with a line each, 468 characters, UCS-2 in
Spanish) came to 4 segments over SMS, past ``MEDREMIND_SMS_MAX_SEGMENTS``, and reached the
patient as two messages. On SMS it is now a text of its own: one GSM-7 segment in English and
Spanish, and with the clinic's name and contact one message still. Through the real path: the
signed Twilio webhook into the web app, the bot's turn, the reply sent by the SMS adapter to the
loopback Twilio.
"""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from core.message_limits import count_segments
from tests import factories
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import twilio_inbound


async def _help(
    web: httpx.AsyncClient, twilio: FakeTwilio, number: str, word: str = "/help"
) -> list[str]:
    """What the patient at ``number`` receives for ``word``: every SMS, in order."""
    before = len(twilio.messages)
    await twilio_inbound(web, number, word)
    return [m.body or "" for m in twilio.messages[before:] if m.to == number]


@pytest.mark.parametrize(
    ("locale", "number", "words"),
    [
        ("en", "+14155550191", ("/today", "/cancel", "/delete_me", "STOP", "START")),
        ("es", "+34600000192", ("/today", "/cancel", "/delete_me", "PARAR", "COMENZAR")),
    ],
)
async def test_help_is_one_gsm7_segment(
    web: httpx.AsyncClient,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    org: asyncpg.Record,
    locale: str,
    number: str,
    words: tuple[str, ...],
) -> None:
    await factories.create_patient(admin_conn, org["id"], contacts={"sms": number}, locale=locale)
    (text,) = await _help(web, fake_twilio, number)
    # The help itself is one segment; the clinic's line (a clinic with no phone or e-mail: its
    # name, whose messages these are) may take a second, in one message.
    help_text, clinic_line = text.rsplit("\n", 1)
    assert count_segments(help_text) == ("GSM-7", 1), text
    assert count_segments(text)[0] == "GSM-7", text
    assert org["name"] in clinic_line, text
    assert all(word in text for word in words), text
    # /export sends a file, which SMS cannot carry: not offered there.
    assert "/export" not in text, text


async def test_help_with_the_clinics_contact_is_one_message(
    web: httpx.AsyncClient,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
) -> None:
    """A clinic named with a letter GSM-7 lacks ("í"), with a phone and an e-mail: one SMS, the
    name in GSM-7 letters (before, that one letter made the whole help UCS-2: two messages even
    with the short help), in Spanish as in English."""
    clinic = await factories.create_organization(
        admin_conn,
        name="Clínica Sol",
        contact_phone="+34910000000",
        contact_email="citas@clinicasol.es",
    )
    for locale, number, line in (
        ("es", "+34600000193", "Contacto: Clinica Sol, +34910000000 o citas@clinicasol.es."),
        ("en", "+34600000194", "Your clinic: Clinica Sol, +34910000000 or citas@clinicasol.es."),
    ):
        await factories.create_patient(
            admin_conn, clinic["id"], contacts={"sms": number}, locale=locale
        )
        (text,) = await _help(web, fake_twilio, number)
        assert text.endswith("\n" + line), text
        assert count_segments(text) == ("GSM-7", 2), text
    # AYUDA, the carrier keyword, answers as it always did: the clinic and STOP.
    (keyword,) = await _help(web, fake_twilio, "+34600000193", "AYUDA")
    assert keyword.startswith("Recordatorios de medicación MedRemind de Clínica Sol."), keyword
