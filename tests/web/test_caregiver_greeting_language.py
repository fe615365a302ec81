"""A caregiver's number that greets in Spanish ("Hola") and then texts STOP: the opt-out is
confirmed in Spanish, the language the person wrote in. Before, the greeting linked them (the
thanks was in Spanish) but left the chat's language as it was, so a bare STOP (no language of
its own) was confirmed in English. The caregiver's alerts are rendered in the patient's language
either way (the dispatcher reads the patient's). Driven as a caregiver texts: signed Twilio
webhooks into the web process, replies from the loopback Twilio."""

from __future__ import annotations

import asyncpg
import httpx

from tests import factories
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import sms_chat

PATIENT = "+14155550160"
CAREGIVER = "+14155550161"


async def test_hola_then_stop_confirms_in_spanish(
    web: httpx.AsyncClient,
    fake_twilio: FakeTwilio,
    admin_conn: asyncpg.Connection,
    org: asyncpg.Record,
) -> None:
    patient = await factories.create_patient(
        admin_conn, org["id"], contacts={"sms": PATIENT}, display_name="Ann", locale="en"
    )
    await admin_conn.execute(
        "insert into caregivers (patient_id, name, channel, address) values ($1, $2, 'sms', $3)",
        patient["id"],
        "Lucía",
        CAREGIVER,
    )
    say = sms_chat(web, fake_twilio, CAREGIVER)
    assert (await say("Hola")).startswith("Gracias, Lucía.")
    assert await say("STOP") == (
        "No recibirás más mensajes aquí. Responde COMENZAR (o START) para volver a suscribirte."
    )
