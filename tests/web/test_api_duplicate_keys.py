"""A JSON body naming one field twice is a 400 naming the field, not the last value taken.

Attack run: ``{"display_name": "x", "display_name": "y"}`` created a patient named "y". Parsers
disagree on such a body (some keep the first value, some the last, some refuse it), so a
gateway or audit log in front of the API could check or record one value while we store the
other; and an integrator's generator that repeats a field has a bug worth hearing about."""

from __future__ import annotations

import asyncpg
import httpx

from tests.web.conftest import count


async def test_a_field_given_twice_is_refused_naming_it(
    client: httpx.AsyncClient, auth: dict[str, str], admin_conn: asyncpg.Connection
) -> None:
    before = await count(admin_conn, "patients")
    headers = {**auth, "Content-Type": "application/json"}
    for body, field in (
        (b'{"display_name": "x", "display_name": "y"}', "display_name"),
        (b'{"display_name": "x", "contacts": [], "consent": true, "consent": false}', "consent"),
    ):
        answer = await client.post("/api/v1/patients", content=body, headers=headers)
        assert answer.status_code == 400, answer.text
        error = answer.json()["error"]
        assert error["field"] == field
        assert "given twice" in error["reason"] and "once" in error["reason"]
    assert await count(admin_conn, "patients") == before
    once = await client.post("/api/v1/patients", json={"display_name": "x"}, headers=auth)
    assert once.status_code == 201, once.text
