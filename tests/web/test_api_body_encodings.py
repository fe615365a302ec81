"""A body the API cannot read as sent is told what to send instead, and nothing is made.

Attack run over ``medremind dev``: ``Content-Encoding: gzip`` (a client library's habit) was
answered 400 "body is not UTF-8 JSON", and a body in ISO-8859-1 that said so in its
``charset`` the same: the client was told its JSON was wrong, not that the API takes neither.
RFC 9110 answers a content coding it does not take with 415; so does a charset other than UTF-8
that is not UTF-8. A UTF-8 body (with or without charset, or a BOM) is taken as before.
"""

from __future__ import annotations

import gzip
from typing import Any

import asyncpg
import httpx

BODY = b'{"display_name": "Jos\\u00e9"}'


async def test_compressed_or_other_charset_bodies_are_named(
    client: httpx.AsyncClient, auth: dict[str, str], admin_conn: asyncpg.Connection, org: Any
) -> None:
    json_type = {"Content-Type": "application/json"}
    for coding in ("gzip", "br", "deflate"):
        body = gzip.compress(BODY) if coding == "gzip" else BODY
        answer = await client.post(
            "/api/v1/patients",
            content=body,
            headers=auth | json_type | {"Content-Encoding": coding},
        )
        assert answer.status_code == 415, answer.text
        error = answer.json()["error"]
        assert error["field"] == "Content-Encoding"
        assert error["reason"] == (
            f"Content-Encoding {coding} is not accepted: send the body uncompressed"
        )
    latin = await client.post(
        "/api/v1/patients",
        content='{"display_name": "José"}'.encode("latin-1"),
        headers=auth | {"Content-Type": "application/json; charset=ISO-8859-1"},
    )
    assert latin.status_code == 415, latin.text
    assert latin.json()["error"] == {
        "status": 415,
        "code": "unsupported_media_type",
        "reason": "the body is iso-8859-1: send it as UTF-8 (charset=utf-8, or none)",
        "field": "Content-Type",
    }
    # Undeclared, the same bytes are still a 400 naming the problem.
    bare = await client.post(
        "/api/v1/patients",
        content='{"display_name": "José"}'.encode("latin-1"),
        headers=auth | json_type,
    )
    assert bare.status_code == 400 and bare.json()["error"]["reason"] == "body is not UTF-8 JSON"
    assert await admin_conn.fetchval("select count(*) from patients") == 0
    for headers in (
        json_type,
        {"Content-Type": "application/json; charset=UTF-8"},
        json_type | {"Content-Encoding": "identity"},
    ):
        made = await client.post("/api/v1/patients", content=BODY, headers=auth | headers)
        assert made.status_code == 201, made.text
        assert made.json()["display_name"] == "José"
