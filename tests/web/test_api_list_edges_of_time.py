"""A list pages past rows at the ends of time: its ``next_cursor`` is always taken back.

Attack run over the API: an appointment at "9998-12-31T23:59:59-14:00" was taken (its year as
written is 9998) and stored as 9999-01-01T13:59:59Z; a page of ``GET /appointments`` ending on it
gave a ``next_cursor`` that the next request refused ("is not a cursor this API gave out"), and
the appointments after it could not be read; its ``starts_at`` passed back as ``from`` was a 422
too. The API's date-times are checked on their instant now (UTC years 1970 to 9998), and a
cursor takes any time a row holds: messages written in SQL (an integration's insert into
``scheduled_messages``) may be due in any year.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx

from tests.factories import create_message, create_patient
from tests.web.pages import all_pages


async def test_a_date_time_past_9998_in_utc_is_refused_naming_the_range(
    client: httpx.AsyncClient, auth: dict[str, str], patient: Any
) -> None:
    for starts_at in ("9998-12-31T23:59:59-14:00", "1970-01-01T00:00:00+14:00"):
        answer = await client.post(
            "/api/v1/appointments",
            json={"patient_id": str(patient["id"]), "starts_at": starts_at},
            headers=auth,
        )
        assert answer.status_code == 422, answer.text
        error = answer.json()["error"]
        assert error["field"] == "starts_at"
        assert "1970 to 9998, in UTC" in error["reason"]
    last = await client.post(
        "/api/v1/appointments",
        json={"patient_id": str(patient["id"]), "starts_at": "9998-12-31T23:59:59+00:00"},
        headers=auth,
    )
    assert last.status_code == 201, last.text
    listed = await client.get(
        "/api/v1/appointments", params={"from": last.json()["starts_at"]}, headers=auth
    )
    assert [a["id"] for a in listed.json()["data"]] == [last.json()["id"]]


async def test_a_list_pages_past_rows_of_any_year(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    admin_conn: asyncpg.Connection,
    org: Any,
) -> None:
    patient = await create_patient(admin_conn, org["id"])
    years = (1960, 2030, 9999, 9999)
    made = {
        (await create_message(
            admin_conn, patient["id"], scheduled_time=datetime(year, 1, 1, 14, tzinfo=UTC),
            status="cancelled",
        ))["id"]
        for year in years
    }  # fmt: skip
    rows = await all_pages(
        client, "/api/v1/messages", {"patient_id": str(patient["id"]), "limit": 1}, auth
    )
    assert sorted(r["id"] for r in rows) == sorted(str(m) for m in made)
