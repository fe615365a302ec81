"""A clinic can only save a Twilio number or messaging service its own Twilio account owns.

The provider-account check asked Twilio whether the clinic's account SID and token were good,
never whether the number or messaging service given with them belonged to that account. So a
clinic admin could save another clinic's (or anyone's) Twilio number with their own account:
webhooks naming that number were then verified with the admin's token (the owner's genuine ones
refused, the admin able to sign messages "to" it from anyone) and the owner's patients' answers
went to the wrong clinic. Now the check asks Twilio what the account owns (IncomingPhoneNumbers,
the messaging service fetched under the account, its WhatsApp senders) and refuses anything else
with a 422 naming the field and how to fix it. Over a real ``medremind web`` and the loopback
Twilio, which answers each account for what it owns only, as Twilio does.
"""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from core.db import Database
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.processes import StartWeb, clinic_key

OWN_SID = "AC" + "a1" * 16
OWN_TOKEN = "the-clinics-own-token-a1a1"
OWN_NUMBER = "+14155550161"
OWN_MG = "MG" + "a1" * 16
VOICE_ONLY = "+14155550162"
OTHER_SID = "AC" + "b2" * 16
OTHER_NUMBER = "+14155550171"
OTHER_MG = "MG" + "b2" * 16
SANDBOX = "+14155238886"  # Twilio's WhatsApp sandbox: every account's, no clinic's own


@pytest.mark.parametrize(
    ("channel", "fields", "field", "said"),
    [
        ("sms", {"from_number": OTHER_NUMBER}, "from_number", "is not a phone number of"),
        (
            "sms",
            {"messaging_service_sid": OTHER_MG},
            "messaging_service_sid",
            "has no messaging service",
        ),
        (
            "sms",
            {"from_number": OWN_NUMBER, "messaging_service_sid": OTHER_MG},
            "messaging_service_sid",
            "has no messaging service",
        ),
        ("whatsapp", {"from_number": OTHER_NUMBER}, "from_number", "is not a WhatsApp sender"),
        ("whatsapp", {"from_number": SANDBOX}, "from_number", "sandbox"),
        ("sms", {"from_number": VOICE_ONLY}, "from_number", "cannot send SMS"),
    ],
    ids=[
        "sms number",
        "messaging service",
        "service with own number",
        "whatsapp",
        "sandbox",
        "voice",
    ],
)
async def test_a_clinic_cannot_save_a_sender_of_another_account(
    db: Database,
    admin_conn: asyncpg.Connection,
    web_process: StartWeb,
    fake_twilio: FakeTwilio,
    channel: str,
    fields: dict[str, str],
    field: str,
    said: str,
) -> None:
    fake_twilio.add_account(
        OWN_SID, OWN_TOKEN, numbers=[OWN_NUMBER], services=[OWN_MG], whatsapp_senders=[OWN_NUMBER]
    )
    fake_twilio.add_account(OWN_SID, OWN_TOKEN, numbers=[VOICE_ONLY], sms_capable=False)
    fake_twilio.add_account(
        OTHER_SID,
        "another-accounts-token",
        numbers=[OTHER_NUMBER],
        services=[OTHER_MG],
        whatsapp_senders=[OTHER_NUMBER],
    )
    _, key = await clinic_key(db, admin_conn, "Grabby Clinic")
    _, base = await web_process()
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        saved = await http.put(
            f"/api/v1/provider-accounts/{channel}",
            json={"account_sid": OWN_SID, "auth_token": OWN_TOKEN, **fields},
            headers={"authorization": f"Bearer {key}"},
        )
    assert saved.status_code == 422, saved.text
    error = saved.json()["error"]
    assert error["field"] == field
    assert said in error["reason"] and OWN_SID in error["reason"]
    assert "Twilio Console" in error["reason"]  # where to find what is the account's
    assert OWN_TOKEN not in saved.text
    assert await admin_conn.fetchval("select count(*) from clinic_provider_accounts") == 0


async def test_a_clinic_saves_its_own_number_service_and_whatsapp_sender(
    db: Database,
    admin_conn: asyncpg.Connection,
    web_process: StartWeb,
    fake_twilio: FakeTwilio,
) -> None:
    fake_twilio.add_account(
        OWN_SID, OWN_TOKEN, numbers=[OWN_NUMBER], services=[OWN_MG], whatsapp_senders=[OWN_NUMBER]
    )
    _, key = await clinic_key(db, admin_conn, "Honest Clinic")
    _, base = await web_process()
    auth = {"authorization": f"Bearer {key}"}
    own = {"account_sid": OWN_SID, "auth_token": OWN_TOKEN}
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        sms = await http.put(
            "/api/v1/provider-accounts/sms",
            json={**own, "from_number": OWN_NUMBER, "messaging_service_sid": OWN_MG},
            headers=auth,
        )
        assert sms.status_code == 200, sms.text
        whatsapp = await http.put(
            "/api/v1/provider-accounts/whatsapp",
            json={**own, "from_number": f"whatsapp:{OWN_NUMBER}"},
            headers=auth,
        )
        assert whatsapp.status_code == 200, whatsapp.text
        # A wrong token is still told apart from a sender of another account.
        wrong = await http.put(
            "/api/v1/provider-accounts/sms",
            json={**own, "auth_token": "not-it", "from_number": OWN_NUMBER},
            headers=auth,
        )
        assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "auth_token"
    assert await admin_conn.fetchval("select count(*) from clinic_provider_accounts") == 2
