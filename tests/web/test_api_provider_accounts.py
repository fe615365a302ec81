"""``/api/v1/provider-accounts`` over the web process, and outgoing-webhook secrets sealed at rest.

The loopback Twilio knows the clinic's account (``Accounts/{sid}.json`` with basic auth). A wrong
token and a malformed field are 422s naming the field; the right account is stored with only
its hint readable; another clinic's key sees nothing of it; DELETE returns the channel to the
default. A webhook subscription's secret is answered once and stored encrypted.
"""

from __future__ import annotations

import asyncpg
import httpx

from core.credentials import SecretBox, looks_encrypted, open_text
from core.db import Database
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.conftest import CREDENTIALS_KEY
from tests.web.processes import StartWeb, clinic_key

SID = "AC" + "7c" * 16
TOKEN = "api-saved-clinic-token-90ab"


async def test_provider_accounts_through_the_api(
    db: Database, admin_conn: asyncpg.Connection, web_process: StartWeb, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.add_account(SID, TOKEN, numbers=["+14155550188"])
    org, key = await clinic_key(db, admin_conn, "API Clinic")
    _, other_key = await clinic_key(db, admin_conn, "Other Clinic")
    _, base = await web_process()
    auth = {"authorization": f"Bearer {key}"}
    account = {"account_sid": SID, "auth_token": "wrong", "from_number": "+14155550188"}
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        url = "/api/v1/provider-accounts/sms"
        refused = await http.put(url, json=account, headers=auth)
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["field"] == "auth_token"
        malformed = await http.put(url, json={**account, "from_number": "12"}, headers=auth)
        assert malformed.json()["error"]["field"] == "from_number"
        stranger = await http.put(url, json={**account, "colour": "red"}, headers=auth)
        assert stranger.status_code == 422 and "colour" in stranger.text
        guessed = await http.put(url, json={**account, "sender": "+14155550188"}, headers=auth)
        assert guessed.json()["error"]["field"] == "sender"
        assert guessed.json()["error"]["reason"].startswith(
            "unknown field; known fields: account_sid, auth_token, content_sids, from_address,"
            " from_number,"
        )
        near = {**account, "from_numbr": "+14155550188"}
        near.pop("from_number")
        misspelt = await http.put(url, json=near, headers=auth)
        assert misspelt.json()["error"]["reason"] == ("unknown field; did you mean from_number?")
        email = await http.put(
            "/api/v1/provider-accounts/email", json={"host": "smtp.test", "port": 0}, headers=auth
        )
        assert email.status_code == 422 and "port" in email.text
        fax = await http.put("/api/v1/provider-accounts/fax", json={}, headers=auth)
        assert fax.status_code == 422

        saved = await http.put(url, json={**account, "auth_token": TOKEN}, headers=auth)
        assert saved.status_code == 200, saved.text
        assert saved.json()["secret_hint"] == "****90ab" and TOKEN not in saved.text
        listed = (await http.get("/api/v1/provider-accounts", headers=auth)).json()["data"]
        assert [(a["channel"], a["config"]["from_number"]) for a in listed] == [
            ("sms", "+14155550188")
        ]
        assert TOKEN not in str(listed)
        theirs = await http.get(
            "/api/v1/provider-accounts", headers={"authorization": f"Bearer {other_key}"}
        )
        assert theirs.json()["data"] == []
        assert (await http.delete(url, headers=auth)).status_code == 204
        assert (await http.delete(url, headers=auth)).status_code == 404
        assert (await http.get("/api/v1/provider-accounts", headers=auth)).json()["data"] == []

        created = await http.post(
            "/api/v1/webhooks", json={"url": "https://clinic.example/hooks"}, headers=auth
        )
        assert created.status_code == 201, created.text
        secret = created.json()["secret"]
    stored = await admin_conn.fetchval(
        "select secret from webhook_subscriptions where organization_id = $1", org["id"]
    )
    assert looks_encrypted(stored) and secret not in stored
    assert open_text(SecretBox(CREDENTIALS_KEY), stored) == secret
    actions = await admin_conn.fetch(
        "select action, actor from audit_log where organization_id = $1 and entity ="
        " 'clinic_provider_account' order by id",
        org["id"],
    )
    actor = f"api_key:{key.split('_')[1]}"  # the key's public prefix, never the key
    assert [(a["action"], a["actor"]) for a in actions] == [
        ("provider_account.saved", actor),
        ("provider_account.removed", actor),
    ]
