"""Issue 17: a clinic's own Twilio account sends its patients' messages and receives their replies.

Over a real ``medremind web`` and ``medremind worker`` and the loopback Twilio (its wire format:
``Accounts/{sid}/Messages.json`` with basic auth, and ``Accounts/{sid}.json`` to check an
account). An admin of one clinic saves its own SMS account through the dashboard's admin path (a
one-time token issued by the database to the admin, then ``PUT /clinic/provider-accounts/sms``);
a wrong auth token is refused naming the field. The worker then sends that clinic's patient's
message from the clinic's number with the clinic's account while another clinic's patient gets
the default sender. The patient's reply to the clinic's number, signed with the clinic's token,
reaches that patient (the HELP answer names the clinic and goes out from its number again); the
same form signed with the default token is refused. Neither secret reaches a log.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
from twilio.request_validator import RequestValidator

from core.credentials import new_key
from tests.factories import create_clinician, create_message, create_organization, create_patient
from tests.fakes.fake_twilio import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    FakeTwilio,
    TwilioCall,
    inbound_form,
)
from tests.integration.clinician import as_clinician
from tests.web.conftest import PUBLIC_BASE_URL
from tests.web.processes import StartWeb, kill, start_worker, stop, twilio_env

CLINIC_SID = "AC" + "5e" * 16
CLINIC_TOKEN = "clinic-own-auth-token-51f0c2d9"
CLINIC_NUMBER = "+14155550199"
DEFAULT_NUMBER = "+15005550006"
OWN_PATIENT = "+14155550142"
OTHER_PATIENT = "+14155550143"


async def admin_token(conn: asyncpg.Connection, clinician_id: uuid.UUID) -> str:
    """What the dashboard's server asks for before it sends an admin's change."""
    async with as_clinician(conn, clinician_id):
        return await conn.fetchval("select public.issue_clinic_admin_token()")


async def sent_to(twilio: FakeTwilio, number: str, count: int = 1) -> list[TwilioCall]:
    """The messages created to ``number`` once there are ``count`` (generous deadline)."""
    deadline = time.monotonic() + 60
    while len(found := [m for m in twilio.messages if m.to == number]) < count:
        assert time.monotonic() < deadline, f"{len(found)} messages to the number"
        await asyncio.sleep(0.1)
    return found


async def test_a_clinic_sends_and_receives_through_its_own_twilio_account(
    web_process: StartWeb,
    fake_twilio: FakeTwilio,
    database_url: str,
    tmp_path: Path,
    admin_conn: asyncpg.Connection,
) -> None:
    fake_twilio.add_account(CLINIC_SID, CLINIC_TOKEN, numbers=[CLINIC_NUMBER])
    key = new_key()
    web, base = await web_process(MEDREMIND_CREDENTIALS_KEY=key)
    own = await create_organization(admin_conn, name="Harbour Clinic", contact_phone="+4930123456")
    other = await create_organization(admin_conn, name="Default Clinic")
    admin = await create_clinician(admin_conn, own["id"], role="admin")
    account = {
        "account_sid": CLINIC_SID,
        "auth_token": "not-the-token",
        "from_number": CLINIC_NUMBER,
    }
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        url = "/clinic/provider-accounts/sms"
        bearer = {"authorization": f"Bearer {await admin_token(admin_conn, admin['id'])}"}
        refused = await http.put(url, json=account, headers=bearer)
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["field"] == "auth_token"
        assert "Twilio refused" in refused.json()["error"]["reason"]
        # The token was used up by that call.
        assert (await http.put(url, json=account, headers=bearer)).status_code == 401

        bearer = {"authorization": f"Bearer {await admin_token(admin_conn, admin['id'])}"}
        saved = await http.put(url, json=account | {"auth_token": CLINIC_TOKEN}, headers=bearer)
        assert saved.status_code == 200, saved.text
        assert CLINIC_TOKEN not in saved.text
        assert saved.json()["secret_hint"] == "****c2d9"
        assert saved.json()["inbound_number"] == CLINIC_NUMBER
    stored = await admin_conn.fetchval(
        "select secret from clinic_provider_accounts where organization_id = $1", own["id"]
    )
    assert CLINIC_TOKEN not in stored
    # The account check reached the fake with the clinic's credentials.
    assert await admin_conn.fetchval(
        "select count(*) from audit_log where action = 'provider_account.saved'"
        " and organization_id = $1",
        own["id"],
    ) == 1  # fmt: skip

    # Twilio posts each message's status, signed with the token of the account that sent it.
    fake_twilio.call_back_before_answering(base, "sent", "delivered")
    worker = start_worker(
        database_url, tmp_path, MEDREMIND_CREDENTIALS_KEY=key, **twilio_env(fake_twilio)
    )
    try:
        own_patient = await create_patient(
            admin_conn, own["id"], contacts={"sms": OWN_PATIENT}, display_name="Ines"
        )
        other_patient = await create_patient(
            admin_conn, other["id"], contacts={"sms": OTHER_PATIENT}
        )
        await create_message(admin_conn, own_patient["id"], urgent=True, platform="sms")
        await create_message(admin_conn, other_patient["id"], urgent=True, platform="sms")
        [mine] = await sent_to(fake_twilio, OWN_PATIENT)
        [theirs] = await sent_to(fake_twilio, OTHER_PATIENT)
        assert (mine.account_sid, mine.from_, mine.authorized) == (CLINIC_SID, CLINIC_NUMBER, True)
        assert (theirs.account_sid, theirs.from_) == (DEFAULT_ACCOUNT_SID, DEFAULT_NUMBER)
        # Both callbacks were verified (the clinic's with the clinic's token) and applied.
        assert fake_twilio.callback_answers == [204] * 4
        deadline = time.monotonic() + 60
        while await admin_conn.fetchval(
            "select count(*) from scheduled_messages where status = 'delivered'"
        ) < 2:  # fmt: skip
            assert time.monotonic() < deadline, "the statuses were not applied"
            await asyncio.sleep(0.1)
        fake_twilio.call_back_before_answering(base)  # no more callbacks
        # Each sender is its own key in the fleet's rate ledger.
        keys = {r["key"] for r in await admin_conn.fetch("select key from send_rate_ledger")}
        assert {f"sms:{CLINIC_NUMBER}", f"sms:{DEFAULT_NUMBER}"} <= keys

        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            form = inbound_form(OWN_PATIENT, "HELP", to=CLINIC_NUMBER, account_sid=CLINIC_SID)
            signed_url = PUBLIC_BASE_URL + "/twilio/inbound"
            forged = RequestValidator(DEFAULT_AUTH_TOKEN).compute_signature(signed_url, form)
            refused = await http.post(
                "/twilio/inbound", data=form, headers={"X-Twilio-Signature": forged}
            )
            assert refused.status_code == 403, refused.text
            assert await admin_conn.fetchval("select count(*) from inbound_messages") == 0
            signature = RequestValidator(CLINIC_TOKEN).compute_signature(signed_url, form)
            accepted = await http.post(
                "/twilio/inbound", data=form, headers={"X-Twilio-Signature": signature}
            )
            assert accepted.status_code == 200, accepted.text
        # The reply reaches the clinic's patient and leaves from the clinic's own number.
        reply = (await sent_to(fake_twilio, OWN_PATIENT, 2))[1]
        assert (reply.account_sid, reply.from_) == (CLINIC_SID, CLINIC_NUMBER)
        # HELP names the patient's clinic: the message reached that clinic's patient.
        assert "Harbour Clinic" in (reply.body or ""), reply.body

        # The admin returns SMS to the default sender: once; a second time there is nothing.
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            for expected in (204, 404):
                bearer = {"authorization": f"Bearer {await admin_token(admin_conn, admin['id'])}"}
                removed = await http.delete("/clinic/provider-accounts/sms", headers=bearer)
                assert removed.status_code == expected, removed.text
        assert await admin_conn.fetchval("select count(*) from clinic_provider_accounts") == 0

        logs = await stop(web, timeout=30)
        worker.terminate()
        assert await asyncio.to_thread(worker.wait, 30) == 0
        logs += (tmp_path / "worker.log").read_text()
        for secret in (CLINIC_TOKEN, key, DEFAULT_AUTH_TOKEN):
            assert secret not in logs
    finally:
        kill(worker)
