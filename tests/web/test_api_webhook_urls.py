"""``POST /api/v1/webhooks``: a URL is refused with a reason that says what is wrong, and one
endpoint is subscribed once. Found over the API: a retried create made a second subscription to
the same URL (every event POSTed twice, the second signed with a secret the client never got);
a port past 65535 (or a zero-width space in the host) was taken and every delivery failed on it;
``HTTPS://`` and a ``user:password@`` were answered "must match the pattern ^https?://[^\\s@]+$"."""

from __future__ import annotations

import asyncpg
import httpx
import pytest


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("https://ehr.example.org:99999/hook", "port out of range"),
        ("https://ehr.example.org:0/hook", "port out of range"),
        ("https://user:secret@ehr.example.org/hook", "no user:password@"),
        ("ftp://ehr.example.org/hook", "absolute https://"),
        # Subscribed, and every delivery failed on it: aiohttp (yarl) takes no such host.
        ("https://ehr.exam\u200bple.org/hook", "cannot contain '\\u200b'"),
    ],
)
async def test_a_bad_url_is_refused_saying_why(
    client: httpx.AsyncClient, auth: dict[str, str], url: str, says: str
) -> None:
    answer = await client.post("/api/v1/webhooks", json={"url": url}, headers=auth)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["field"] == "url" and says in error["reason"], error
    assert "pattern" not in error["reason"]


async def test_an_endpoint_is_subscribed_once(
    client: httpx.AsyncClient, admin_conn: asyncpg.Connection, auth: dict[str, str]
) -> None:
    first = await client.post(
        "/api/v1/webhooks", json={"url": "HTTPS://ehr.example.org/hook"}, headers=auth
    )
    assert first.status_code == 201, first.text
    assert first.json()["url"] == "https://ehr.example.org/hook"  # as the database wants it
    again = await client.post(
        "/api/v1/webhooks",
        json={"url": "HTTPS://ehr.example.org/hook", "event_types": ["dose.answered"]},
        headers=auth,
    )
    assert again.status_code == 409, again.text
    error = again.json()["error"]
    assert (error["field"], error["existing_id"]) == ("url", first.json()["id"])
    # A new secret without a new subscription (nothing pending is cancelled), or delete first.
    assert "POST /api/v1/webhooks/{id}/secret" in error["reason"]
    assert "DELETE it and subscribe again" in error["reason"]
    assert again.headers["location"] == f"/api/v1/webhooks/{first.json()['id']}"
    assert await admin_conn.fetchval("select count(*) from webhook_subscriptions") == 1
    # Deleted, it may be subscribed again (a new secret).
    gone = await client.delete(f"/api/v1/webhooks/{first.json()['id']}", headers=auth)
    assert gone.status_code == 200, gone.text
    renewed = await client.post(
        "/api/v1/webhooks", json={"url": "HTTPS://ehr.example.org/hook"}, headers=auth
    )
    assert renewed.status_code == 201, renewed.text
