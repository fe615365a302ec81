"""``POST``/``PATCH /api/v1/patients`` hold a patient's name to the rule the bot and the database
use (core/person_names.py): one that shows nothing is refused, naming what is wrong and how to
fix it; direction overrides and isolates are removed from a visible one."""

from __future__ import annotations

import httpx
import pytest


@pytest.mark.parametrize(
    "name", ["\u200b\u200b", "\u3164", "\u202e\u2066", "\u2800 \u200d", "\u0301\u0301"]
)
async def test_a_name_that_shows_nothing_is_refused(
    client: httpx.AsyncClient, auth: dict[str, str], name: str
) -> None:
    created = await client.post("/api/v1/patients", json={"display_name": name}, headers=auth)
    assert created.status_code == 422, created.text
    error = created.json()["error"]
    assert error["field"] == "display_name"
    assert "has no visible character" in error["reason"] and "for example Ana" in error["reason"]

    ok = await client.post("/api/v1/patients", json={"display_name": "Bo"}, headers=auth)
    path = f"/api/v1/patients/{ok.json()['id']}"
    changed = await client.patch(path, json={"display_name": name}, headers=auth)
    assert changed.status_code == 422 and "has no visible character" in changed.text
    assert (await client.get(path, headers=auth)).json()["display_name"] == "Bo"


async def test_direction_scopes_are_removed(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    created = await client.post(
        "/api/v1/patients", json={"display_name": "Ana\u202e"}, headers=auth
    )
    assert created.status_code == 201 and created.json()["display_name"] == "Ana", created.text
    path = f"/api/v1/patients/{created.json()['id']}"
    changed = await client.patch(path, json={"display_name": "\u2067Bo\u2069 Lee"}, headers=auth)
    assert changed.status_code == 200 and changed.json()["display_name"] == "Bo Lee"


async def test_a_decomposed_name_is_stored_composed_and_found_either_way(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    """A name sent decomposed ("Rene\u0301e", as macOS and some EHR exports write it) was stored
    so: a search for "Renée" typed on a keyboard missed it, and its SMS went as UCS-2 (three
    segments for one). Stored composed; a search either way finds it."""
    decomposed = "Rene\u0301e Mu\u0308ller"
    created = await client.post(
        "/api/v1/patients",
        json={"display_name": decomposed, "phone": "+34600111222"},
        headers=auth,
    )
    assert created.status_code == 201, created.text
    assert created.json()["display_name"] == "Ren\u00e9e M\u00fcller"
    for q in ("Ren\u00e9e", "Rene\u0301e", "m\u00fcller"):
        found = await client.get("/api/v1/patients", params={"q": q}, headers=auth)
        assert [p["id"] for p in found.json()["data"]] == [created.json()["id"]], q
