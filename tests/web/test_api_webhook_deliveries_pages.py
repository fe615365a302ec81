"""``GET /api/v1/webhooks/{id}/deliveries`` pages by cursor like the other lists.

It had no cursor: only the newest 200 deliveries of a subscription could be read (found by hand
over the API). Over the real app and database: every delivery exactly once across pages, newest
first (ties in ``created_at`` broken by id), another webhook's or list's cursor a 422 naming it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from medremind.web.api_v1.pagination import encode_cursor

_AT = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


async def _subscription(conn: asyncpg.Connection, org_id: uuid.UUID) -> uuid.UUID:
    return await conn.fetchval(
        "insert into webhook_subscriptions (organization_id, url, event_types, secret)"
        " values ($1, 'https://hooks.example.org/in', '{dose.answered}', 'whsec_test')"
        " returning id",
        org_id,
    )


async def _delivery(
    conn: asyncpg.Connection, org_id: uuid.UUID, hook: uuid.UUID, at: datetime
) -> uuid.UUID:
    event = await conn.fetchval(
        "insert into webhook_events (organization_id, event_type, payload, created_at)"
        " values ($1, 'dose.answered', '{}', $2) returning id",
        org_id,
        at,
    )
    return await conn.fetchval(
        "insert into webhook_deliveries (organization_id, event_id, subscription_id, created_at)"
        " values ($1, $2, $3, $4) returning id",
        org_id,
        event,
        hook,
        at,
    )


async def test_deliveries_page_by_cursor(client, admin_conn, org, other_org, auth, other_auth):
    hook = await _subscription(admin_conn, org["id"])
    second = await _subscription(admin_conn, org["id"])
    # Seven deliveries, three of them at the same instant (a page may end inside the tie).
    times = [_AT + timedelta(minutes=m) for m in (0, 1, 2, 2, 2, 3, 4)]
    ids = [await _delivery(admin_conn, org["id"], hook, at) for at in times]
    await _delivery(admin_conn, org["id"], second, _AT)
    path = f"/api/v1/webhooks/{hook}/deliveries"

    seen: list[dict] = []
    cursor, pages = None, 0
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        answer = await client.get(path, params=params, headers=auth)
        assert answer.status_code == 200, answer.text
        seen += answer.json()["data"]
        pages += 1
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            break
        assert pages < 10
    assert pages == 4
    assert sorted(d["id"] for d in seen) == sorted(str(i) for i in ids)
    keys = [(d["created_at"], d["id"]) for d in seen]
    assert keys == sorted(keys, reverse=True)
    # One page of all, as before: no cursor.
    whole = (await client.get(path, params={"limit": "200"}, headers=auth)).json()
    assert len(whole["data"]) == 7 and whole["next_cursor"] is None

    # Another webhook's cursor is not read as a time in this one's log.
    first_page = await client.get(path, params={"limit": "2"}, headers=auth)
    crossed = await client.get(
        f"/api/v1/webhooks/{second}/deliveries",
        params={"cursor": first_page.json()["next_cursor"]},
        headers=auth,
    )
    assert crossed.status_code == 422, crossed.text
    error = crossed.json()["error"]
    assert error["field"] == "cursor"
    assert f"is a cursor of GET /api/v1/webhooks/{hook}/deliveries" in error["reason"]
    # Nor is another list's.
    messages_cursor = encode_cursor("messages", _AT, uuid.uuid4())
    crossed = await client.get(path, params={"cursor": messages_cursor}, headers=auth)
    assert crossed.status_code == 422
    assert "is a cursor of GET /api/v1/messages" in crossed.json()["error"]["reason"]
    garbage = await client.get(path, params={"cursor": "not-a-cursor"}, headers=auth)
    assert garbage.status_code == 422 and garbage.json()["error"]["field"] == "cursor"
    # Another clinic's key sees no such webhook.
    assert (await client.get(path, headers=other_auth)).status_code == 404
