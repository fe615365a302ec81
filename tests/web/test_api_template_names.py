"""``PUT /api/v1/templates/{name}``: a name must show as written. Found over the API: a name
of a zero-width space only was saved (a blank row in the dashboard's Templates list), and one
with an open U+202E (RIGHT-TO-LEFT OVERRIDE) showed reversed there, with the rest of its row.
``PATCH`` renames a template, so that one named on two lines before the one-line rule can be
fixed without losing its versions."""

from __future__ import annotations

import uuid
from urllib.parse import quote

import asyncpg
import httpx
import pytest

from tests import factories
from tests.integration.clinician import as_clinician

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


BROKEN = "Evening\nplan"  # stored before the one-line rule (migration 20260101019020)


async def _stored_before_the_rule(admin_conn: asyncpg.Connection, org_id: uuid.UUID) -> None:
    """Two versions of template BROKEN, and two messages of it: one waiting, one sent."""
    await admin_conn.execute(
        "alter table message_templates disable trigger message_templates_one_line_written"
    )
    for locale, body in (("en", "Evening, {{ patient_name }}"), ("es", "Buenas tardes")):
        await admin_conn.execute(
            "insert into message_templates (organization_id, name, locale, channel, body)"
            " values ($1, $2, $3, 'sms', $4)",
            org_id,
            BROKEN,
            locale,
            body,
        )
    await admin_conn.execute(
        "alter table message_templates enable trigger message_templates_one_line_written"
    )
    patient = await factories.create_patient(admin_conn, org_id)
    for status in ("pending", "sent"):
        await admin_conn.execute(
            "insert into scheduled_messages (patient_id, template, status, scheduled_time)"
            " values ($1, $2, $3, now() + interval '1 day')",
            patient["id"],
            BROKEN,
            status,
        )


async def test_a_name_stored_on_two_lines_is_renamed_to_one_and_takes_new_versions(
    client: httpx.AsyncClient,
    admin_conn: asyncpg.Connection,
    org: asyncpg.Record,
    other_org: asyncpg.Record,
    auth: dict[str, str],
    other_auth: dict[str, str],
) -> None:
    """A template named on two lines before the one-line rule could take no new version (the
    PUT refuses its name, the database a new row of it; a path cannot even carry the name) and
    nothing renamed it: deleting its versions lost their texts. POST /templates/rename renames
    every version, and the messages waiting with it."""
    await _stored_before_the_rule(admin_conn, org["id"])
    refused = await client.put(f"/api/v1/templates/{quote(BROKEN)}", json=BODY, headers=auth)
    assert refused.status_code in (404, 422), refused.text

    async def rename(new_name: str, who: dict[str, str] = auth) -> httpx.Response:
        return await client.post(
            "/api/v1/templates/rename", json={"name": BROKEN, "new_name": new_name}, headers=who
        )

    # Another clinic's key finds no such template; a name on two lines is refused again.
    assert (await rename("Mine", other_auth)).status_code == 404
    again = await rename("Evening\r\nplan")
    assert again.status_code == 422 and again.json()["error"]["field"] == "new_name", again.text
    await client.put("/api/v1/templates/Taken", json=BODY, headers=auth)
    taken = await rename("Taken")
    assert taken.status_code == 409, taken.text
    assert "another template is named 'Taken'" in taken.json()["error"]["reason"]

    renamed = await rename("Evening plan")
    assert renamed.status_code == 200, renamed.text
    assert [(v["name"], v["locale"], v["body"]) for v in renamed.json()["data"]] == [
        ("Evening plan", "en", "Evening, {{ patient_name }}"),
        ("Evening plan", "es", "Buenas tardes"),
    ]
    assert dict(
        await admin_conn.fetch("select status, template from scheduled_messages order by status")
    ) == {"pending": "Evening plan", "sent": BROKEN}
    added = await client.put(
        f"/api/v1/templates/{quote('Evening plan')}",
        json={"body": "Evening!", "locale": "en", "channel": "telegram"},
        headers=auth,
    )
    assert added.status_code == 201, added.text
    assert (await rename("x")).status_code == 404

    # The dashboard's way (a signed-in clinician, migration 20260101019450): their own clinic's
    # template only, and only as an admin.
    await _stored_before_the_rule(admin_conn, other_org["id"])
    nurse = await factories.create_clinician(admin_conn, other_org["id"], role="clinician")
    admin = await factories.create_clinician(admin_conn, other_org["id"], role="admin")
    by_clinician = "select public.rename_template($1, $2, 'Evening, one line')"
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with as_clinician(admin_conn, nurse["id"]) as conn:
            await conn.fetchval(by_clinician, other_org["id"], BROKEN)
    async with as_clinician(admin_conn, admin["id"]) as conn:
        # Not their clinic's template: as one that does not exist.
        assert await conn.fetchval(by_clinician, org["id"], "Evening plan") == 0
        assert await conn.fetchval(by_clinician, other_org["id"], BROKEN) == 2
    names = await admin_conn.fetch(
        "select organization_id = $1 as theirs, name from message_templates"
        " group by 1, 2 order by 1, 2",
        other_org["id"],
    )
    assert [(r["theirs"], r["name"]) for r in names] == [
        (False, "Evening plan"),
        (False, "Taken"),
        (True, "Evening, one line"),
    ]
