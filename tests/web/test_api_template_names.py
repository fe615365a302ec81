"""``PUT /api/v1/templates/{name}``: a name must show as written. Found over the API: a name
of a zero-width space only was saved (a blank row in the dashboard's Templates list), and one
with an open U+202E (RIGHT-TO-LEFT OVERRIDE) showed reversed there, with the rest of its row."""

from __future__ import annotations

from urllib.parse import quote

import asyncpg
import httpx
import pytest

BODY = {"body": "Hi there", "locale": "en", "channel": "sms"}


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("\u200b", "printable characters"),
        ("\u202eevil", "U+202E (RIGHT-TO-LEFT OVERRIDE) is not closed"),
    ],
)
async def test_a_name_that_does_not_show_as_written_is_refused(
    client: httpx.AsyncClient,
    admin_conn: asyncpg.Connection,
    auth: dict[str, str],
    name: str,
    says: str,
) -> None:
    answer = await client.put(f"/api/v1/templates/{quote(name)}", json=BODY, headers=auth)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["field"] == "name" and says in error["reason"], error
    assert await admin_conn.fetchval("select count(*) from message_templates") == 0


async def test_a_name_in_any_script_with_closed_controls_is_saved(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    for name in ("Ünïcode recordatorio", "\u202bתזכורת\u202c"):
        answer = await client.put(f"/api/v1/templates/{quote(name)}", json=BODY, headers=auth)
        assert answer.status_code == 201, answer.text
        assert answer.json()["name"] == name
