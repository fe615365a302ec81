"""A forged or unsigned ``/twilio/inbound`` is refused before any query.

The token a webhook must be signed with depends on the number it names (a clinic's own number:
that clinic's token), and the web looked that up in the database before checking the signature:
anyone could make the service run a query per request with a made-up ``X-Twilio-Signature``.
Now the web process holds the clinics' Twilio accounts in memory, reloaded when the database
announces a change (NOTIFY), and checks the signature first.

Measured without timing: while the test holds an exclusive lock on ``clinic_provider_accounts``
every query that reads it waits, so a request that queried could not be answered. Forged
requests (the service's number, a clinic's number, a number of no one, with and without a
messaging service) are all answered 403 at once, and a genuine clinic webhook is verified from
memory too. Over a real ``medremind web``, with the clinic's account saved through the API.
"""

from __future__ import annotations

import subprocess

import asyncpg
import httpx
from twilio.request_validator import RequestValidator

from core.credentials import new_key
from core.db import Database
from tests.fakes.fake_twilio import FakeTwilio, inbound_form
from tests.waiting import eventually
from tests.web.conftest import PUBLIC_BASE_URL
from tests.web.processes import StartWeb, clinic_key, output

CLINIC_SID = "AC" + "c3" * 16
CLINIC_TOKEN = "a-clinics-own-token-c3c3"
CLINIC_NUMBER = "+14155550181"
URL = f"{PUBLIC_BASE_URL}/twilio/inbound"


def _signed(form: dict[str, str], token: str) -> dict[str, str]:
    return {"X-Twilio-Signature": RequestValidator(token).compute_signature(URL, form)}


async def _post(
    http: httpx.AsyncClient,
    form: dict[str, str],
    headers: dict[str, str],
    database_url: str,
    process: subprocess.Popen[bytes],
) -> httpx.Response:
    """POST a webhook while the accounts are locked; if it is not answered, fail saying what the
    web process waited for. (Seen once on CI: two reloads of the accounts interleaved and left
    the process "not current", so webhooks looked their account up in the database; reloads
    are one at a time since, tests/integration/test_clinic_senders_reload.py.)"""
    try:
        return await http.post("/twilio/inbound", data=form, headers=headers)
    except httpx.ReadTimeout:
        # Another connection: the test's own holds the lock inside a transaction.
        conn = await asyncpg.connect(database_url)
        try:
            waiting = await conn.fetch(
                "select wait_event_type, wait_event, state, left(query, 200) as query"
                " from pg_stat_activity where datname = current_database()"
                " and pid <> pg_backend_pid()"
            )
        finally:
            await conn.close()
        log = output(process).splitlines()[-25:]  # log lines carry no message content
        raise AssertionError(
            "a forged webhook was not answered while the accounts were locked:\n"
            + "\n".join(str(dict(row)) for row in waiting)
            + "\n--- web log ---\n"
            + "\n".join(log)
        ) from None


async def test_forged_webhooks_are_refused_without_a_query(
    web_process: StartWeb,
    fake_twilio: FakeTwilio,
    db: Database,
    admin_conn: asyncpg.Connection,
    database_url: str,
) -> None:
    fake_twilio.add_account(CLINIC_SID, CLINIC_TOKEN, numbers=[CLINIC_NUMBER])
    _, key = await clinic_key(db, admin_conn, "Listening Clinic")
    process, base = await web_process(MEDREMIND_CREDENTIALS_KEY=new_key())

    def checked() -> int:
        """Reloads the process made after an announcement (its LISTEN up, an account saved)."""
        return output(process).count('"provider accounts checked after an announcement"')

    # Its LISTEN for account changes is up: once, when it connects.
    await eventually(lambda: checked() >= 1, timeout=60)
    before = checked()
    async with httpx.AsyncClient(base_url=base, timeout=20) as http:
        saved = await http.put(
            "/api/v1/provider-accounts/sms",
            json={
                "account_sid": CLINIC_SID,
                "auth_token": CLINIC_TOKEN,
                "from_number": CLINIC_NUMBER,
            },
            headers={"authorization": f"Bearer {key}"},
        )
        assert saved.status_code == 200, saved.text
        genuine = inbound_form("+14155550182", "HELP", to=CLINIC_NUMBER, account_sid=CLINIC_SID)

        # The process that saved the account loaded it at once; the database's notice of the
        # change comes to it too, and until it has checked it again webhooks look their
        # account up in the database (a notice late on a loaded box came after the lock below:
        # a forged request then waited on the lock).
        await eventually(lambda: checked() > before, timeout=60)
        answer = await http.post(
            "/twilio/inbound", data=genuine, headers=_signed(genuine, CLINIC_TOKEN)
        )
        assert answer.status_code == 200, answer.text

        forged = [
            inbound_form("+14155550183", "STOP"),  # the service's number
            inbound_form("+14155550183", "STOP", to=CLINIC_NUMBER, account_sid=CLINIC_SID),
            inbound_form("+14155550183", "STOP", to="+14155550199"),  # nobody's
            {**inbound_form("+14155550183", "STOP"), "MessagingServiceSid": "MG" + "c3" * 16},
            inbound_form("whatsapp:+14155550183", "STOP", to=CLINIC_NUMBER),
        ]
        async with admin_conn.transaction():
            # Any query that reads the accounts now waits until the end of this block.
            await admin_conn.execute("lock table clinic_provider_accounts in access exclusive mode")
            for form in forged:
                for headers in ({"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}, {}):
                    refused = await _post(http, form, headers, database_url, process)
                    assert refused.status_code == 403, refused.text
                # Signed with the default token for the clinic's number: the clinic's is needed.
                wrong = _signed(form, "fake-auth-token") if form["To"] == CLINIC_NUMBER else None
                if wrong:
                    refused = await _post(http, form, wrong, database_url, process)
                    assert refused.status_code == 403, refused.text
            # A genuine webhook for the clinic's number is verified from memory as well.
            again = {**genuine, "MessageSid": "SM" + "c3" * 16}
            verified = await http.post(
                "/twilio/inbound", data=again, headers=_signed(again, CLINIC_TOKEN)
            )
            assert verified.status_code == 200, verified.text
