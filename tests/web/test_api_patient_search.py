"""``GET /api/v1/patients?q=`` and a group message's search as an integrator's clinician types them.

Found by hand (session 30): "Lucia" did not find "Lucía", nor "munoz" "Muñoz", and a patient's
number typed as people write it ("612 345 678", "(415) 555-0100") found nobody, the number being
stored in E.164. Now the name is compared accents and case aside (``patients.search_name``), and
a number's digits, written any way, find its exact number (the last digits, seven or more);
another clinic's patients never (migration 20260101018120).
"""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from tests.factories import create_patient


@pytest.fixture
async def people(
    admin_conn: asyncpg.Connection, org: asyncpg.Record, other_org: asyncpg.Record
) -> dict[str, str]:
    """Three patients of the caller's clinic and a namesake of another clinic; ids by name."""
    ids = {}
    for name, contacts in (
        ("Lucía Muñoz", {"sms": "+34612345678"}),
        ("Søren Ærø", {"whatsapp": "+14155550100"}),
        ("Oliver Brown", {"sms": "+447700900123"}),
    ):
        row = await create_patient(admin_conn, org["id"], display_name=name, contacts=contacts)
        ids[name] = str(row["id"])
    await create_patient(
        admin_conn,
        other_org["id"],
        display_name="Lucía Otra",
        contacts={"whatsapp": "+34612345678"},
    )
    return ids


@pytest.mark.parametrize(
    ("q", "names"),
    [
        ("Lucia", ["Lucía Muñoz"]),
        ("munoz", ["Lucía Muñoz"]),
        ("MUÑOZ", ["Lucía Muñoz"]),
        ("soren aero", ["Søren Ærø"]),
        ("612 345 678", ["Lucía Muñoz"]),
        ("+34 612-345-678", ["Lucía Muñoz"]),
        ("(415) 555-0100", ["Søren Ærø"]),
        ("07700 900123", ["Oliver Brown"]),
        ("+44 7700 900123", ["Oliver Brown"]),
        # A number's part is not its number (the API finds an exact address), nor a wildcard a name.
        ("55-0100", []),
        ("%", []),
        ("_", []),
    ],
)
async def test_search_finds_names_without_accents_and_numbers_as_written(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    people: dict[str, str],
    q: str,
    names: list[str],
) -> None:
    found = await client.get("/api/v1/patients", params={"q": q}, headers=auth)
    assert found.status_code == 200, found.text
    assert sorted(p["id"] for p in found.json()["data"]) == sorted(people[n] for n in names)


async def test_a_group_message_counts_whom_the_search_finds(
    client: httpx.AsyncClient, auth: dict[str, str], people: dict[str, str]
) -> None:
    """``POST /messages/group`` finds the patients ``GET /patients?q=`` does (one function)."""
    for q in ("munoz", "612 345 678"):
        counted = await client.post(
            "/api/v1/messages/group",
            json={"q": q, "text": "The clinic is closed on Friday.", "dry_run": True},
            headers=auth,
        )
        assert counted.status_code == 200, counted.text
        assert counted.json()["count"] == 1, (q, counted.json())
