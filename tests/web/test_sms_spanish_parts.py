"""The bot's Spanish over SMS: our wording in GSM-7's letters, what the patient or clinic named
as they wrote it, and the parts Twilio counts.

One "í" in a reply made the whole SMS UCS-2 (67 characters a part instead of 153): the time
zone question, 144 characters, went as 3 parts in Spanish and 1 in English, and the bot's
Spanish texts came to 453 parts against 356 (bot/texts.py ``sms_text``). Now our words lose
the accents GSM-7 lacks (á, í, ó, ú) and keep the letters it has (ñ, é, ü, ¿, ¡), and a
medicine's own name keeps its accents: that message is UCS-2, counted as such. Driven as a
patient texts: signed Twilio webhooks into the web process, replies from the loopback Twilio.
"""

from __future__ import annotations

import asyncpg
import httpx

from core.message_limits import count_segments
from tests import factories
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import twilio_inbound

NUMBER = "+34600111333"


async def _reply(web: httpx.AsyncClient, twilio: FakeTwilio, text: str) -> tuple[str, str]:
    """The one SMS the patient got back for ``text``: its body and Twilio's ``num_segments``."""
    before = len(twilio.messages)
    await twilio_inbound(web, NUMBER, text)
    sent = [m for m in twilio.messages[before:] if m.to == NUMBER]
    assert len(sent) == 1, [m.body for m in sent]
    return sent[0].body or "", str((sent[0].response or {}).get("num_segments"))


async def test_our_spanish_goes_in_gsm7_and_a_medicine_keeps_its_accents(
    web: httpx.AsyncClient,
    fake_twilio: FakeTwilio,
    admin_conn: asyncpg.Connection,
    org: asyncpg.Record,
) -> None:
    patient = await factories.create_patient(
        admin_conn,
        org["id"],
        contacts={"sms": NUMBER},
        display_name="Lucía",
        locale="es",
        timezone="Europe/Madrid",
    )
    empty, parts = await _reply(web, fake_twilio, "/meds")
    # "Aún no tienes medicamentos. Añade uno con /add.": ñ is GSM-7's, ú is not.
    assert empty.startswith("Aun no tienes medicamentos. Añade uno"), empty
    assert count_segments(empty) == ("GSM-7", 1) and parts == "1"

    await factories.create_medication(admin_conn, patient["id"], name="Ácido fólico")
    listed, parts = await _reply(web, fake_twilio, "/meds")
    assert "Ácido fólico" in listed, listed  # the medicine as the patient or clinic wrote it
    encoding, segments = count_segments(listed)
    assert encoding == "UCS-2" and parts == str(segments), (listed, parts)
