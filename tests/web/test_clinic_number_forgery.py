"""Attack run: a clinic holds the auth token of its own Twilio account, which is what signs the
webhooks for its number. It can therefore post a correctly signed inbound message "from" any
phone number to its own number; the service keys an SMS chat by the sender's number alone. Such a
message from another clinic's patient's number must neither show that patient's record (the
reply leaves from the clinic's account, whose message log the clinic reads) nor act for them."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
from twilio.request_validator import RequestValidator

from core.credentials import new_key
from core.db import Database
from medremind.api_keys import create_api_key
from tests.factories import create_medication, create_organization, create_patient
from tests.fakes.fake_twilio import FakeTwilio, inbound_form
from tests.web.conftest import PUBLIC_BASE_URL
from tests.web.processes import StartWeb

CLINIC_SID = "AC" + "7d" * 16
CLINIC_TOKEN = "forging-clinic-auth-token-9a1e"
CLINIC_NUMBER = "+14155550177"
VICTIM = "+14155550178"
STRANGER = "+14155550179"


async def test_a_clinic_cannot_speak_for_another_clinics_patient_through_its_own_number(
    web_process: StartWeb,
    fake_twilio: FakeTwilio,
    admin_conn: asyncpg.Connection,
    db: Database,
) -> None:
    fake_twilio.add_account(CLINIC_SID, CLINIC_TOKEN, numbers=[CLINIC_NUMBER])
    _, base = await web_process(MEDREMIND_CREDENTIALS_KEY=new_key())
    forger = await create_organization(admin_conn, name="Forger Clinic")
    victims_clinic = await create_organization(admin_conn, name="Victim Clinic")
    victim = await create_patient(
        admin_conn, victims_clinic["id"], contacts={"sms": VICTIM}, display_name="Quintessa"
    )
    await create_medication(admin_conn, victim["id"], name="Zyloprim")
    assert db.pool is not None
    auth = {"Authorization": f"Bearer {await create_api_key(db.pool, str(forger['id']), 't')}"}
    account = {"account_sid": CLINIC_SID, "auth_token": CLINIC_TOKEN, "from_number": CLINIC_NUMBER}
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        saved = await http.put("/api/v1/provider-accounts/sms", json=account, headers=auth)
        assert saved.status_code == 200, saved.text
        messages = [(VICTIM, body) for body in ("MEDS", "/meds", "TODAY", "HELP", "STOP")]
        # A number the service does not know: the same answer (no oracle), nobody registered.
        messages += [(STRANGER, "START"), (STRANGER, "YES")]
        for phone, body in messages:
            form = inbound_form(phone, body, to=CLINIC_NUMBER, account_sid=CLINIC_SID)
            signature = RequestValidator(CLINIC_TOKEN).compute_signature(
                PUBLIC_BASE_URL + "/twilio/inbound", form
            )
            answer = await http.post(
                "/twilio/inbound", data=form, headers={"X-Twilio-Signature": signature}
            )
            assert answer.status_code == 200, answer.text

    async def processed() -> bool:
        return await admin_conn.fetchval(
            "select count(*) = 7 from inbound_messages where status <> 'received'"
        )

    for _ in range(600):
        if await processed():
            break
        await asyncio.sleep(0.1)
    assert await processed()
    await asyncio.sleep(1)  # the replies of the last turn, sent after its commit
    from_forger = [m for m in fake_twilio.messages if m.account_sid == CLINIC_SID]
    leaked = [m.body for m in from_forger if "Zyloprim" in (m.body or "")]
    leaked += [m.body for m in from_forger if "Quintessa" in (m.body or "")]
    leaked += [m.body for m in from_forger if "Victim Clinic" in (m.body or "")]
    assert leaked == []
    answers = {
        phone: {m.body for m in from_forger if m.to == phone} for phone in (VICTIM, STRANGER)
    }
    assert len(answers[VICTIM]) == 1 and answers[VICTIM] == answers[STRANGER], answers
    assert (
        await admin_conn.fetchval(
            "select count(*) from contact_points where address = $1", STRANGER
        )
        == 0
    )
    contact = await admin_conn.fetchrow(
        "select active, opted_out_at, blocked_at from contact_points where address = $1", VICTIM
    )
    assert contact["active"] and contact["opted_out_at"] is None and contact["blocked_at"] is None
