"""The API stores a time zone under its current IANA name, as the dashboard does: a patient
created with "US/Eastern" read "US/Eastern" from the API and "America/New_York" when the clinic
typed the same on the dashboard (core/zone_names.py; tests/unit/test_zone_names.py holds both
sides to one table). "Asia/Kolkata" stays "Asia/Kolkata" (ICU's "Asia/Calcutta" is not stored)."""

from __future__ import annotations

import asyncpg
import httpx
import pytest


async def _create(client: httpx.AsyncClient, auth: dict[str, str], zone: str) -> httpx.Response:
    return await client.post(
        "/api/v1/patients", json={"display_name": "Bo", "timezone": zone}, headers=auth
    )


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("US/Eastern", "America/New_York"),
        ("Asia/Kolkata", "Asia/Kolkata"),
        ("Asia/Calcutta", "Asia/Kolkata"),
        ("Etc/UTC", "UTC"),
        ("Europe/Amsterdam", "Europe/Amsterdam"),
    ],
)
async def test_a_patients_zone_is_stored_under_its_current_name(
    client: httpx.AsyncClient,
    admin_conn: asyncpg.Connection,
    auth: dict[str, str],
    typed: str,
    stored: str,
) -> None:
    created = await _create(client, auth, typed)
    assert created.status_code == 201, created.text
    assert created.json()["timezone"] == stored
    path = f"/api/v1/patients/{created.json()['id']}"
    assert (await client.get(path, headers=auth)).json()["timezone"] == stored
    zone = "select timezone from patients where id = $1"
    assert await admin_conn.fetchval(zone, created.json()["id"]) == stored

    await client.patch(path, json={"timezone": "Europe/Berlin"}, headers=auth)
    changed = await client.patch(path, json={"timezone": typed}, headers=auth)
    assert changed.status_code == 200, changed.text
    assert await admin_conn.fetchval(zone, created.json()["id"]) == stored


async def test_the_clinics_zone_too(
    client: httpx.AsyncClient, admin_conn: asyncpg.Connection, auth: dict[str, str]
) -> None:
    changed = await client.patch("/api/v1/clinic", json={"timezone": "US/Pacific"}, headers=auth)
    assert changed.status_code == 200, changed.text
    assert await admin_conn.fetchval("select timezone from organizations") == (
        "America/Los_Angeles"
    )


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        # Stored as "Etc/Unknown", which no zone database loads: the planner skipped the
        # patient's schedules ("schedule not plannable"), found by hand over the API.
        ("Factory", "placeholder for an unknown local time"),
        # Five hours behind UTC, not ahead: a patient in Karachi was reminded ten hours off.
        ("Etc/GMT+5", "UTC-05:00"),
        ("Etc/GMT-14", "UTC+14:00"),
    ],
)
async def test_a_zone_that_is_no_place_is_refused_naming_why(
    client: httpx.AsyncClient,
    admin_conn: asyncpg.Connection,
    auth: dict[str, str],
    typed: str,
    says: str,
) -> None:
    created = await _create(client, auth, typed)
    assert created.status_code == 422, created.text
    error = created.json()["error"]
    assert error["field"] == "timezone"
    assert says in error["reason"] and "such as Europe/Berlin" in error["reason"]
    clinic = await client.patch("/api/v1/clinic", json={"timezone": typed}, headers=auth)
    assert clinic.status_code == 422 and clinic.json()["error"]["field"] == "timezone"
    assert await admin_conn.fetchval("select count(*) from patients") == 0
    # UTC under its Etc names is UTC.
    utc = await _create(client, auth, "Etc/GMT+0")
    assert utc.status_code == 201 and utc.json()["timezone"] == "UTC", utc.text


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("europe/madrid", "Europe/Madrid"), ("AMERICA/NEW_YORK", "America/New_York"), ("utc", "UTC")],
)
async def test_a_zone_in_the_wrong_case_names_the_zone_meant(
    client: httpx.AsyncClient, auth: dict[str, str], typed: str, meant: str
) -> None:
    """Zone names are case-sensitive: 'europe/madrid' (an integrator's lowercased copy) was
    refused as unknown, with Europe/Berlin as the example; now the 422 names the zone meant."""
    for answer in (
        await _create(client, auth, typed),
        await client.patch("/api/v1/clinic", json={"timezone": typed}, headers=auth),
    ):
        assert answer.status_code == 422, answer.text
        error = answer.json()["error"]
        assert error["field"] == "timezone"
        assert f"names are case-sensitive; did you mean {meant}?" in error["reason"]
