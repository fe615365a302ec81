"""A text field sent empty, or only spaces, is refused saying so: the API trims text fields, and
"   " as a patient's name or a message's text was answered "must be at least 1 character(s)",
which the integrator had sent three of (found by hand against ``medremind dev``)."""

from __future__ import annotations

import asyncpg
import httpx

EMPTY = "must not be empty (spaces alone are empty)"


async def test_empty_and_blank_texts_are_refused_as_empty(
    web: httpx.AsyncClient, auth: dict[str, str], patient: asyncpg.Record
) -> None:
    for blank in ("", "   "):
        created = await web.post(
            "/api/v1/patients",
            json={"display_name": blank, "phone": "+34600111299", "consent": True},
            headers=auth,
        )
        assert created.status_code == 422, created.text
        assert created.json()["error"]["field"] == "display_name"
        assert created.json()["error"]["reason"] == EMPTY
        message = await web.post(
            "/api/v1/messages",
            json={"patient_id": str(patient["id"]), "text": blank},
            headers=auth,
        )
        assert message.status_code == 422, message.text
        assert (message.json()["error"]["field"], message.json()["error"]["reason"]) == (
            "text",
            EMPTY,
        )
    # An id of the clinic's system made of invisible characters only was stored (found against
    # medremind dev): blank on the dashboard, and no one can type it.
    created = await web.post(
        "/api/v1/patients",
        json={"display_name": "Ana", "external_id": "\u200b\u2060", "consent": True},
        headers=auth,
    )
    assert created.status_code == 422, created.text
    error = created.json()["error"]
    assert error["field"] == "external_id" and "has no visible character" in error["reason"]
