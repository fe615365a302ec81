"""Messages the dashboard composes from a clinic template are rendered by the dispatcher.

The dashboard (``dashboard/src/lib/data/messages.ts``: ``scheduleMessage`` and
``scheduleGroupMessage``) inserts a row that names the template (``template``, kind
``free_text``, no ``message_content`` until the worker stores the text it sent) as the
signed-in clinician: role ``authenticated`` with ``request.jwt.claims``, under row-level
security. These tests insert rows with the same
statements the same way, then run the real dispatcher over recording senders: each patient gets
the version of the clinic's template in their locale for the channel the message goes out on.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg

from platforms.base import Channel
from scheduler.dispatcher import Dispatcher
from tests import factories
from tests.dispatch.recording import RecordingSender
from tests.templates.conftest import add_template

MakeDispatcher = Callable[..., tuple[Dispatcher, dict[Channel, RecordingSender]]]

# Wall-clock 13:00 in Madrid on 2026-03-04 is the dispatcher fixtures' NOON (12:00 UTC): the
# dashboard's "at a time" path, converted by the same SQL.
LOCAL_TIME, TIMEZONE = "2026-03-04T13:00", "Europe/Madrid"

# scheduleMessage, with postgres.js's ${...} parameters numbered in order.
DASHBOARD_INSERT = """
insert into scheduled_messages (patient_id, message_content, template, scheduled_time,
                                platform, kind, urgent, created_by, payload)
values ($1, $2, $3,
        case when $4::text is null then now()
             else public.wall_time_instant($4::timestamp, $5) end,
        $6, 'free_text', $7, $8, $9::jsonb)
returning id
"""

# scheduleGroupMessage (GROUP_WHERE and CONTACT_HINT inlined), with its own parameter numbers:
# each member's reach is public.message_reach; a member no channel reaches gets no row when the
# message is due within its window. One row per member comes back (inserted or not).
DASHBOARD_GROUP_INSERT = r"""
with due as (
  select case when $4::text is null then now()
              else public.wall_time_instant($4::text::timestamp, $5::text) end as at
), members as (
  select p.id, p.display_name, p.external_id, null::text as contact_hint,
         o.name as clinic_name, r.consented, cardinality(r.route) > 0 as reaches, r.due_soon,
         r.refusal_minutes
    from patients p
    join organizations o on o.id = p.organization_id
    cross join due
    cross join lateral public.message_reach(p.id, p.organization_id, 'free_text', $10::text::jsonb,
                                            $6, true, due.at, now()) r
   where p.status in ('active', 'invited')
     and ($1 = '' or p.display_name ilike $2 or p.external_id ilike $2
          or exists (select 1 from contact_points c
                      where c.patient_id = p.id and c.address ilike $2))
), inserted as (
  insert into scheduled_messages (patient_id, message_content, template, scheduled_time,
                                  platform, kind, urgent, created_by, payload)
  select m.id,
         regexp_replace(
           regexp_replace($3::text, '\{\{\s*clinic_name\s*\}\}',
                          replace(m.clinic_name, '\', '\\'), 'g'),
           '\{\{\s*patient_name\s*\}\}',
           replace(coalesce(m.display_name, ''), '\', '\\'), 'g'),
         $9::text, due.at, $6, 'free_text', $7, $8::uuid, $10::text::jsonb
    from members m cross join due
   where m.consented and (m.reaches or not m.due_soon)
  returning patient_id
)
select m.id, m.display_name, m.consented, m.reaches, m.due_soon,
       exists (select from inserted i where i.patient_id = m.id) as inserted
  from members m
 order by m.display_name nulls last, m.id
"""
GROUP_PAYLOAD = json.dumps({"source": "dashboard", "group": True})

# composeNames: the names the server action fills into one patient's free text (fillForPatient).
DASHBOARD_COMPOSE_NAMES = """
select p.display_name as patient, o.name as clinic
  from patients p join organizations o on o.id = p.organization_id
 where p.id = $1 and p.status <> 'deleted'
"""

# templateVersions: what the server action checks before inserting.
DASHBOARD_TEMPLATE_VERSIONS = """
select name, locale, channel, body from message_templates
 where organization_id = public.current_organization_id() and kind = 'free_text'
   and name = $1
 order by locale, channel
"""


async def _as_clinician(
    conn: asyncpg.Connection, clinician_id: uuid.UUID, sql: str, *args: Any
) -> list[asyncpg.Record]:
    """Run ``sql`` in one transaction as the dashboard does for a signed-in clinician."""
    async with conn.transaction():
        await conn.execute("set local role authenticated")
        await conn.execute(
            "select set_config('request.jwt.claims', $1, true)",
            json.dumps({"sub": str(clinician_id), "role": "authenticated"}),
        )
        return await conn.fetch(sql, *args)


async def _clinic_with_checkup(conn: asyncpg.Connection) -> tuple[asyncpg.Record, uuid.UUID]:
    """A clinic, its clinician, and a 'checkup' template in English, Spanish and Spanish SMS."""
    org = await factories.create_organization(conn, name="Riverside Clinic")
    clinician = await factories.create_clinician(conn, org["id"])
    for locale, channel, body in (
        ("en", "default", "Hello {{ patient_name }}, {{ clinic_name }} here: time for a checkup."),
        ("es", "default", "Hola {{ patient_name }}, le escribe {{ clinic_name }}: toca revisión."),
        ("es", "sms", "{{ patient_name }}: revisión en {{ clinic_name }}."),
    ):
        await add_template(conn, org["id"], "checkup", body, locale=locale, channel=channel)
    return org, clinician["id"]


async def test_one_patient_gets_the_version_in_their_locale(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher
) -> None:
    org, clinician_id = await _clinic_with_checkup(admin_conn)
    patient = await factories.create_patient(
        admin_conn, org["id"], display_name="Lucía", locale="es", contacts={"telegram": "7001"}
    )
    versions = await _as_clinician(admin_conn, clinician_id, DASHBOARD_TEMPLATE_VERSIONS, "checkup")
    assert [(v["locale"], v["channel"]) for v in versions] == [
        ("en", "default"),
        ("es", "default"),
        ("es", "sms"),
    ]
    (row,) = await _as_clinician(
        admin_conn,
        clinician_id,
        DASHBOARD_INSERT,
        patient["id"],
        None,
        "checkup",
        LOCAL_TIME,
        TIMEZONE,
        "auto",
        False,
        clinician_id,
        {"source": "dashboard"},  # the pool's jsonb codec encodes it, as postgres.js's tx.json
    )
    dispatcher, senders = make_dispatcher()

    assert await dispatcher.run_once() == 1

    sent = await admin_conn.fetchrow("select * from scheduled_messages where id = $1", row["id"])
    assert sent["status"] == "sent", sent["last_error"]
    # The row keeps the text as sent, so the dashboard shows what the patient received.
    assert (sent["template"], sent["kind"], sent["message_content"]) == (
        "checkup",
        "free_text",
        "Hola Lucía, le escribe Riverside Clinic: toca revisión.",
    )
    assert sent["organization_id"] == org["id"]  # filled in by the insert trigger
    ((address, message),) = senders[Channel.TELEGRAM].sends
    assert address == "7001"
    assert message.text == "Hola Lucía, le escribe Riverside Clinic: toca revisión."


async def test_a_group_gets_each_patients_locale_and_channel_version(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher
) -> None:
    org, clinician_id = await _clinic_with_checkup(admin_conn)
    await factories.create_patient(
        admin_conn, org["id"], display_name="Ann Group", contacts={"telegram": "7002"}
    )
    await factories.create_patient(
        admin_conn,
        org["id"],
        display_name="Luis Group",
        locale="es",
        contacts={"sms": "+34600007003"},
    )
    await factories.create_patient(
        admin_conn, org["id"], display_name="Someone Else", contacts={"telegram": "7004"}
    )
    search = "group"
    rows = await _as_clinician(
        admin_conn,
        clinician_id,
        DASHBOARD_GROUP_INSERT,
        search,
        f"%{search}%",
        None,
        LOCAL_TIME,
        TIMEZONE,
        "auto",
        False,
        clinician_id,
        "checkup",
        GROUP_PAYLOAD,
    )
    assert [r["inserted"] for r in rows] == [True, True]
    dispatcher, senders = make_dispatcher(
        {
            Channel.TELEGRAM: RecordingSender(Channel.TELEGRAM),
            Channel.SMS: RecordingSender(Channel.SMS),
        }
    )

    assert await dispatcher.run_once() == 2

    stored = await admin_conn.fetch(
        "select status, template, message_content, last_error from scheduled_messages"
        " where patient_id = any($1::uuid[])",
        [r["id"] for r in rows],  # the members' ids
    )
    assert sorted((s["status"], s["template"], s["message_content"]) for s in stored) == [
        ("sent", "checkup", "Hello Ann Group, Riverside Clinic here: time for a checkup."),
        ("sent", "checkup", "Luis Group: revisión en Riverside Clinic."),
    ], [s["last_error"] for s in stored]
    assert [(a, m.text) for a, m in senders[Channel.TELEGRAM].sends] == [
        ("7002", "Hello Ann Group, Riverside Clinic here: time for a checkup.")
    ]
    # On SMS the Spanish SMS version wins over the Spanish default one.
    assert [(a, m.text) for a, m in senders[Channel.SMS].sends] == [
        ("+34600007003", "Luis Group: revisión en Riverside Clinic.")
    ]


async def test_another_clinics_template_is_not_found_by_the_dashboards_check(
    admin_conn: asyncpg.Connection,
) -> None:
    _, clinician_a = await _clinic_with_checkup(admin_conn)
    other = await factories.create_organization(admin_conn)
    await add_template(admin_conn, other["id"], "other clinic only", "Hi {{ patient_name }}")
    await add_template(
        admin_conn, other["id"], "checkup", "Not A's text", locale="fr", channel="default"
    )

    assert (
        await _as_clinician(
            admin_conn, clinician_a, DASHBOARD_TEMPLATE_VERSIONS, "other clinic only"
        )
        == []
    )
    versions = await _as_clinician(admin_conn, clinician_a, DASHBOARD_TEMPLATE_VERSIONS, "checkup")
    assert {v["locale"] for v in versions} == {"en", "es"}


async def test_free_text_names_are_filled_for_a_group_and_for_one_patient(
    admin_conn: asyncpg.Connection,
) -> None:
    org, clinician_id = await _clinic_with_checkup(admin_conn)
    await factories.create_patient(admin_conn, org["id"], display_name="Ann \\& $1 Group")
    text = "Hello {{ patient_name }}, this is {{clinic_name}}."
    rows = await _as_clinician(
        admin_conn,
        clinician_id,
        DASHBOARD_GROUP_INSERT,
        "group",
        "%group%",
        text,
        None,
        TIMEZONE,
        "auto",
        False,
        clinician_id,
        None,
        GROUP_PAYLOAD,
    )
    assert [r["inserted"] for r in rows] == [True]
    assert await admin_conn.fetchval("select message_content from scheduled_messages") == (
        "Hello Ann \\& $1 Group, this is Riverside Clinic."
    )
    # One patient: the server action reads both names (none for another clinic's patient).
    other = await factories.create_organization(admin_conn)
    theirs = await factories.create_patient(admin_conn, other["id"])
    mine = await admin_conn.fetchval(
        "select id from patients where organization_id = $1", org["id"]
    )
    [names] = await _as_clinician(admin_conn, clinician_id, DASHBOARD_COMPOSE_NAMES, mine)
    assert (names["patient"], names["clinic"]) == ("Ann \\& $1 Group", "Riverside Clinic")
    assert (
        await _as_clinician(admin_conn, clinician_id, DASHBOARD_COMPOSE_NAMES, theirs["id"]) == []
    )


async def test_a_group_leaves_out_now_whom_no_channel_reaches_and_keeps_them_later(
    admin_conn: asyncpg.Connection,
) -> None:
    """A member who sent STOP on their only channel gets no row of a message due now (it would
    fail at once); a later one keeps their row (they may reply START meanwhile). Both are told
    apart in what the statement returns, for the form to name them."""
    org, clinician_id = await _clinic_with_checkup(admin_conn)
    stopped = await factories.create_patient(
        admin_conn, org["id"], display_name="Sam Team", contacts={"sms": "+34600007011"}
    )
    await admin_conn.execute(
        "update contact_points set opted_out_at = now() where patient_id = $1", stopped["id"]
    )
    reached = await factories.create_patient(
        admin_conn, org["id"], display_name="Rita Team", contacts={"telegram": "7012"}
    )

    async def send(local_time: str | None) -> list[tuple[str, bool, bool]]:
        rows = await _group_news(admin_conn, clinician_id, "team", local_time)
        return [(r["display_name"], r["reaches"], r["inserted"]) for r in rows]

    assert await send(None) == [("Rita Team", True, True), ("Sam Team", False, False)]
    assert await send("2099-01-01T09:00") == [("Rita Team", True, True), ("Sam Team", False, True)]
    rows = await admin_conn.fetch(
        "select patient_id, count(*) from scheduled_messages group by patient_id"
    )
    assert {r["patient_id"]: r["count"] for r in rows} == {reached["id"]: 2, stopped["id"]: 1}


async def test_a_group_gives_an_invited_member_nothing_and_names_them(
    admin_conn: asyncpg.Connection,
) -> None:
    """An invited member (not consented yet) gets no row, whether the message is due now or later
    (the worker would cancel it, "no consent recorded"; the API refuses it, 409), and comes back
    with ``consented`` false for the form to name them. Before, the group left them out unnamed."""
    org, clinician_id = await _clinic_with_checkup(admin_conn)
    await factories.create_patient(
        admin_conn,
        org["id"],
        display_name="Ivy Crew",
        status="invited",
        consent_at=None,
        contacts={"sms": "+34600007021"},
    )
    reached = await factories.create_patient(
        admin_conn, org["id"], display_name="Rita Crew", contacts={"telegram": "7022"}
    )

    async def send(local_time: str | None) -> list[tuple[str, bool, bool]]:
        rows = await _group_news(admin_conn, clinician_id, "crew", local_time)
        return [(r["display_name"], r["consented"], r["inserted"]) for r in rows]

    assert await send(None) == [("Ivy Crew", False, False), ("Rita Crew", True, True)]
    assert await send("2099-01-01T09:00") == [("Ivy Crew", False, False), ("Rita Crew", True, True)]
    assert await admin_conn.fetchval(
        "select array_agg(distinct patient_id) from scheduled_messages"
    ) == [reached["id"]]


async def _group_news(
    conn: asyncpg.Connection, clinician_id: uuid.UUID, search: str, local_time: str | None
) -> list[asyncpg.Record]:
    """The group insert of a free-text "News for {{ patient_name }}" to ``search``, on auto."""
    return await _as_clinician(
        conn,
        clinician_id,
        DASHBOARD_GROUP_INSERT,
        search,
        f"%{search}%",
        "News for {{ patient_name }}",
        local_time,
        TIMEZONE,
        "auto",
        False,
        clinician_id,
        None,
        GROUP_PAYLOAD,
    )
