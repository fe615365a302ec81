"""A clinic cannot save the service's own Twilio number or messaging service as its own.

Webhooks are verified with the token of the account whose number (``To``; a status callback's
``From``) or messaging service they name. The provider-account check only asked Twilio whether
the clinic's account SID and token were good, so a clinic admin could save the service's own
number (TWILIO_SMS_FROM) with any Twilio account of theirs: from then on every genuine webhook
to the service's number, signed with the service's token, was refused (403): no patient's SMS
answer, STOP or registration and no delivery status reached the service. Now such a save is a
422 naming the field, and the service's webhooks keep working. Over a real ``medremind web``.
"""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from core.db import Database
from tests.fakes.fake_twilio import FakeTwilio, inbound_form
from tests.web.conftest import twilio_signature
from tests.web.processes import StartWeb, clinic_key

SID = "AC" + "5e" * 16
TOKEN = "the-clinics-own-token-5e5e"
SERVICE_NUMBER = "+15005550006"  # TWILIO_SMS_FROM of tests.web.processes.twilio_env
SERVICE_MG = "MG" + "0d" * 16


@pytest.mark.parametrize(
    ("channel", "fields", "field"),
    [
        ("sms", {"from_number": SERVICE_NUMBER}, "from_number"),
        ("whatsapp", {"from_number": SERVICE_NUMBER}, "from_number"),
        ("sms", {"messaging_service_sid": SERVICE_MG}, "messaging_service_sid"),
    ],
    ids=["sms number", "whatsapp number", "messaging service"],
)
async def test_a_clinic_cannot_take_the_services_number(
    db: Database,
    admin_conn: asyncpg.Connection,
    web_process: StartWeb,
    fake_twilio: FakeTwilio,
    channel: str,
    fields: dict[str, str],
    field: str,
) -> None:
    fake_twilio.add_account(SID, TOKEN)
    _, key = await clinic_key(db, admin_conn, "Grabby Clinic")
    _, base = await web_process(TWILIO_MESSAGING_SERVICE_SID=SERVICE_MG)
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        saved = await http.put(
            f"/api/v1/provider-accounts/{channel}",
            json={"account_sid": SID, "auth_token": TOKEN, **fields},
            headers={"authorization": f"Bearer {key}"},
        )
        assert saved.status_code == 422, saved.text
        assert saved.json()["error"]["field"] == field
        assert "the service's own" in saved.json()["error"]["reason"]
        # Twilio's genuine webhook to the service's number is still verified with its token.
        sender = ("whatsapp:" if channel == "whatsapp" else "") + "+14155550177"
        to = ("whatsapp:" if channel == "whatsapp" else "") + SERVICE_NUMBER
        form = inbound_form(sender, "HELP", to=to)
        if field == "messaging_service_sid":
            form["MessagingServiceSid"] = SERVICE_MG
        signed = {"X-Twilio-Signature": twilio_signature("/twilio/inbound", form)}
        answer = await http.post("/twilio/inbound", data=form, headers=signed)
        assert answer.status_code == 200, answer.text
    assert await admin_conn.fetchval("select count(*) from clinic_provider_accounts") == 0
