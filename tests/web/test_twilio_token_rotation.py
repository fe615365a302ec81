"""Rotating the service's Twilio auth token loses no patient's message, over a real ``medremind
web``.

Twilio's rotation: make a secondary token, put it in the service, then promote it (the old one is
deleted). Until the promotion Twilio still signs its webhooks with the old token, so a web process
holding only the new one refused every patient's answer, STOP included, with a 403 (Twilio does
not retry them). ``TWILIO_AUTH_TOKEN_PREVIOUS`` is checked too while it is set
(docs/operations.md, "Rotating the Twilio auth token").
"""

from __future__ import annotations

import httpx
from twilio.request_validator import RequestValidator

from tests.factories import create_patient
from tests.fakes.fake_twilio import DEFAULT_AUTH_TOKEN, inbound_form
from tests.web.conftest import PUBLIC_BASE_URL
from tests.web.processes import clinic_key

NEW_TOKEN = "f" * 32  # the secondary token, not yet promoted
PHONE = "+15550003131"


def _signed(form: dict[str, str], token: str) -> dict[str, str]:
    url = PUBLIC_BASE_URL + "/twilio/inbound"
    return {"X-Twilio-Signature": RequestValidator(token).compute_signature(url, form)}


async def test_answers_signed_with_the_old_token_arrive_during_a_rotation(
    db, admin_conn, web_process
):
    org, _ = await clinic_key(db, admin_conn, "Rotation Clinic")
    patient = await create_patient(admin_conn, org["id"], contacts={"sms": PHONE})
    _, base = await web_process(
        TWILIO_AUTH_TOKEN=NEW_TOKEN, TWILIO_AUTH_TOKEN_PREVIOUS=DEFAULT_AUTH_TOKEN
    )
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        stop = inbound_form(PHONE, "STOP")
        old = await http.post(
            "/twilio/inbound", data=stop, headers=_signed(stop, DEFAULT_AUTH_TOKEN)
        )
        assert old.status_code == 200, old.text
        start = inbound_form(PHONE, "START")
        new = await http.post("/twilio/inbound", data=start, headers=_signed(start, NEW_TOKEN))
        assert new.status_code == 200, new.text
        forged = inbound_form(PHONE, "STOP")
        refused = await http.post("/twilio/inbound", data=forged, headers=_signed(forged, "0" * 32))
        assert refused.status_code == 403, refused.text
    stored = await admin_conn.fetchval(
        "select count(*) from inbound_messages where channel = 'sms' and chat_address = $1", PHONE
    )
    assert stored == 2
    assert patient["id"] is not None
