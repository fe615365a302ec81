"""Statements of many rows keep each patient's reachability and link exactly as row by row did
(migrations 20260101015210 and 20260101015220).

Inserts of patients and inserts or deletes of contact points now refresh reachability once per
statement, and the first-send link trigger looks its patients up by key. An import of many rows
in one statement, as the API, the dashboard and FHIR make it, must still flip each patient it
changes (and only those), cancel a notice of a patient who is back, re-plan a patient not
linked yet, and link exactly the patients a send reached, at their first send.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from tests import factories

REACHED = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
STATE = (
    "select unreachable_since is not null as unreachable, unreachable_notice_pending as pending,"
    " linked_at from patients where id = $1"
)


async def _linked_unreachable(conn: asyncpg.Connection, org: uuid.UUID) -> uuid.UUID:
    """A patient something reached once whose channel order no contact point serves now, with
    the caregivers' notice of it still pending."""
    patient = await factories.create_patient(conn, org, contacts={}, channel_order=["sms"])
    await conn.execute("update patients set linked_at = $2 where id = $1", patient["id"], REACHED)
    caregiver = await conn.fetchval(
        "insert into caregivers (patient_id, name, channel, address)"
        " values ($1, 'Lucía', 'sms', '+14155550199') returning id",
        patient["id"],
    )
    await factories.create_message(
        conn,
        patient["id"],
        organization_id=org,
        caregiver_id=caregiver,
        kind="missed_dose_caregiver",
        template="patient_unreachable_caregiver",
        platform="sms",
        message_content=None,
    )
    return patient["id"]


async def _linked(conn: asyncpg.Connection, org: uuid.UUID, contacts: dict[str, str]) -> uuid.UUID:
    patient = await factories.create_patient(conn, org, contacts=contacts)
    await conn.execute("update patients set linked_at = $2 where id = $1", patient["id"], REACHED)
    return patient["id"]


async def test_one_insert_and_one_delete_of_contact_points_flip_each_patient(
    admin_conn: asyncpg.Connection,
) -> None:
    org = (await factories.create_organization(admin_conn))["id"]
    back = await _linked_unreachable(admin_conn, org)
    still_out = await _linked_unreachable(admin_conn, org)
    for patient in (back, still_out):
        assert dict(await admin_conn.fetchrow(STATE, patient)) == {
            "unreachable": True,
            "pending": True,
            "linked_at": REACHED,
        }
    new = (await factories.create_patient(admin_conn, org, contacts={}, channel_order=["sms"]))[
        "id"
    ]
    _, schedule = await factories.create_medication(admin_conn, new)
    await admin_conn.execute(
        "update reminder_schedules set planned_until = $2 where id = $1",
        schedule["id"],
        REACHED + timedelta(days=2),
    )

    # One statement: a usable number for one, an inactive one for the other, one for the new.
    await admin_conn.execute(
        "insert into contact_points (patient_id, channel, address, active)"
        " values ($1, 'sms', '+14155550101', true), ($2, 'sms', '+14155550102', false),"
        " ($3, 'sms', '+14155550103', true)",
        back,
        still_out,
        new,
    )
    assert dict(await admin_conn.fetchrow(STATE, back)) == {
        "unreachable": False,
        "pending": False,
        "linked_at": REACHED,
    }
    assert dict(await admin_conn.fetchrow(STATE, still_out)) == {
        "unreachable": True,
        "pending": True,
        "linked_at": REACHED,
    }
    notices = dict(
        await admin_conn.fetch(
            "select patient_id, status from scheduled_messages"
            " where template = 'patient_unreachable_caregiver'"
        )
    )
    assert notices == {back: "cancelled", still_out: "pending"}
    # Not linked yet: never unreachable, but re-planned (a reminder can go to them now).
    assert dict(await admin_conn.fetchrow(STATE, new)) == {
        "unreachable": False,
        "pending": False,
        "linked_at": None,
    }
    assert (
        await admin_conn.fetchval(
            "select planned_until from reminder_schedules where id = $1", schedule["id"]
        )
        is None
    )

    # One statement deletes the only number of one patient and one of two of another's.
    alone = await _linked(admin_conn, org, {"sms": "+14155550104"})
    spare = await _linked(admin_conn, org, {"sms": "+14155550105", "whatsapp": "+14155550106"})
    await admin_conn.execute(
        "delete from contact_points where address in ('+14155550104', '+14155550105')"
    )
    assert dict(await admin_conn.fetchrow(STATE, alone)) == {
        "unreachable": True,
        "pending": True,
        "linked_at": REACHED,
    }
    assert dict(await admin_conn.fetchrow(STATE, spare)) == {
        "unreachable": False,
        "pending": False,
        "linked_at": REACHED,
    }

    # One statement changes two channel orders: one to a channel with no contact point.
    await admin_conn.execute(
        "update patients set channel_order = case when id = $1 then '{email}'::text[]"
        " else '{sms,email}'::text[] end where id in ($1, $2)",
        spare,
        back,
    )
    assert (await admin_conn.fetchrow(STATE, spare))["unreachable"]
    assert not (await admin_conn.fetchrow(STATE, back))["unreachable"]


async def test_an_import_links_only_whom_a_send_reached_at_their_first_send(
    admin_conn: asyncpg.Connection,
) -> None:
    org = (await factories.create_organization(admin_conn))["id"]
    # An import: 300 patients in one statement, their numbers in another.
    imported: list[uuid.UUID] = [
        row["id"]
        for row in await admin_conn.fetch(
            "insert into patients (organization_id, display_name, timezone, channel_order)"
            " select $1, 'Imported', 'UTC', '{sms}' from generate_series(1, 300) returning id",
            org,
        )
    ]
    await admin_conn.execute(
        "insert into contact_points (patient_id, channel, address)"
        " select p, 'sms', '+1415' || lpad(n::text, 7, '0')"
        " from unnest($1::uuid[]) with ordinality as t(p, n)",
        imported,
    )
    states = await admin_conn.fetch(
        "select unreachable_since, unreachable_notice_pending, linked_at from patients"
        " where id = any($1)",
        imported,
    )
    assert {tuple(row) for row in states} == {(None, False, None)}

    earlier = await _linked(admin_conn, org, {"sms": "+14155550107"})
    first, second, alerted, refused = imported[10], imported[20], imported[30], imported[40]
    # The carrier refused two numbers (one statement): not linked, so not unreachable.
    await admin_conn.execute(
        "update contact_points set active = false where patient_id in ($1, $2)",
        refused,
        imported[50],
    )
    assert not (await admin_conn.fetchrow(STATE, refused))["unreachable"]
    caregiver = await admin_conn.fetchval(
        "insert into caregivers (patient_id, name, channel, address)"
        " values ($1, 'Lucía', 'sms', '+14155550198') returning id",
        alerted,
    )
    messages = [
        (await factories.create_message(admin_conn, patient, **extra))["id"]
        for patient, extra in (
            (first, {}),
            (first, {}),
            (second, {}),
            (alerted, {"caregiver_id": caregiver}),
            (earlier, {}),
            (refused, {}),
        )
    ]
    # A statement whose rows reached nobody links nobody.
    await admin_conn.execute(
        "update scheduled_messages set last_error = 'checked' where id = any($1)", messages
    )
    # One statement records the batch sent, each message at its own time.
    await admin_conn.execute(
        "update scheduled_messages m set status = 'sent',"
        " sent_at = $2::timestamptz + s.i * interval '1 minute'"
        " from unnest($1::uuid[]) with ordinality as s(id, i) where m.id = s.id",
        messages,
        REACHED + timedelta(days=1),
    )
    linked = dict(
        await admin_conn.fetch(
            "select id, linked_at from patients where id = any($1) and linked_at is not null",
            [*imported, earlier],
        )
    )
    assert linked == {
        first: REACHED + timedelta(days=1, minutes=1),  # its first send of the two
        second: REACHED + timedelta(days=1, minutes=3),
        earlier: REACHED,  # linked before: kept
        refused: REACHED + timedelta(days=1, minutes=6),
    }
    # Linked while no channel is usable: unreachable at once, the caregivers told once.
    assert dict(await admin_conn.fetchrow(STATE, refused)) == {
        "unreachable": True,
        "pending": True,
        "linked_at": REACHED + timedelta(days=1, minutes=6),
    }
    assert not (await admin_conn.fetchrow(STATE, first))["unreachable"]
