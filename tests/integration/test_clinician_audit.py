"""Every clinician action that changes what a patient receives leaves an audit row, written by the
tables' triggers (migration 20260101009140): here as the dashboard's role (``authenticated`` with
the clinician's JWT), with the statements the dashboard runs. The service's own writes (worker,
planner, bot: no actor) leave none, and no audit row carries a message body or a name."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import asyncpg

from tests import factories
from tests.integration.clinician import as_clinician

BODY = "Your results are ready, Quendolyn"


async def _audit(conn: asyncpg.Connection, since: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        "select actor, action, entity, entity_id, details from audit_log where id > $1 order by id",
        since,
    )


async def _last_id(conn: asyncpg.Connection) -> int:
    return await conn.fetchval("select coalesce(max(id), 0) from audit_log")


async def test_dashboard_actions_are_audited_by_the_database(
    admin_conn: asyncpg.Connection,
) -> None:
    org = await factories.create_organization(admin_conn)
    # An admin: templates and settings are an admin's to change (migration 20260101009610).
    clinician = await factories.create_clinician(admin_conn, org["id"], role="admin")
    patient = await factories.create_patient(admin_conn, org["id"], display_name="Quendolyn Z")
    actor = f"clinician:{clinician['id']}"
    start = await _last_id(admin_conn)
    past = datetime.now(UTC) - timedelta(hours=1)

    async with as_clinician(admin_conn, clinician["id"]) as conn:
        # Compose: send now, then schedule one for later and cancel it.
        now_id = await conn.fetchval(
            "insert into scheduled_messages (patient_id, message_content, scheduled_time,"
            " platform, kind, urgent, created_by) values ($1, $2, now(), 'auto', 'free_text',"
            " false, $3) returning id",
            patient["id"],
            BODY,
            clinician["id"],
        )
        later_id = await conn.fetchval(
            "insert into scheduled_messages (patient_id, message_content, scheduled_time,"
            " platform, kind, created_by) values ($1, $2, now() + interval '1 day', 'sms',"
            " 'free_text', $3) returning id",
            patient["id"],
            BODY,
            clinician["id"],
        )
        await conn.execute(
            "update scheduled_messages set status = 'cancelled', last_error = null"
            " where id = $1 and status = 'pending'",
            later_id,
        )
        # An appointment booked, then (after it started) marked a no-show as the dashboard does.
        appointment = await conn.fetchval(
            "insert into appointments (organization_id, patient_id, starts_at, location)"
            " values ($1, $2, $3, 'Room 4') returning id",
            org["id"],
            patient["id"],
            past,
        )
        await conn.execute(
            "update appointments set status = $2, planned_status = $2"
            " where id = $1 and starts_at <= now() and status <> 'cancelled'",
            appointment,
            "no_show",
        )
        # A template written and removed; the clinic's settings changed.
        template = await conn.fetchval(
            "insert into message_templates (organization_id, name, kind, locale, channel, body)"
            " values ($1, 'results', 'free_text', 'en', 'default', $2) returning id",
            org["id"],
            BODY,
        )
        await conn.execute(
            "update message_templates set body = $2 where id = $1", template, BODY + "."
        )
        await conn.execute("delete from message_templates where id = $1", template)
        await conn.execute(
            "update organizations set default_quiet_start = '22:00'"
            " where id = public.current_organization_id()"
        )

    rows = await _audit(admin_conn, start)
    assert {r["actor"] for r in rows} == {actor}
    actions = [(r["action"], r["entity_id"]) for r in rows]
    assert ("message.send_now", str(now_id)) in actions
    assert ("message.scheduled", str(later_id)) in actions
    assert ("message.cancelled", str(later_id)) in actions
    assert ("appointment.booked", str(appointment)) in actions
    assert ("appointment.no_show", str(appointment)) in actions
    assert [a for a, _ in actions if a.startswith("template.")] == [
        "template.created",
        "template.changed",
        "template.deleted",
    ]
    assert ("settings.changed", str(org["id"])) in actions
    no_show = next(r for r in rows if r["action"] == "appointment.no_show")
    details = no_show["details"]
    details = json.loads(details) if isinstance(details, str) else details
    assert details["from_status"] == "scheduled" and details["changed"] == [
        "planned_status",
        "status",
    ]
    settings = next(r for r in rows if r["action"] == "settings.changed")
    assert "default_quiet_start" in json.dumps(settings["details"])
    # Ids, kinds and statuses only: no body, no name, no place.
    dumped = json.dumps([dict(r) for r in rows], default=str)
    for secret in (BODY, "Quendolyn", "Room 4"):
        assert secret not in dumped

    # The service's own writes (no clinician, no API key) are not clinician actions.
    start = await _last_id(admin_conn)
    await admin_conn.execute(
        "update scheduled_messages set status = 'sent', sent_at = now() where id = $1", now_id
    )
    await factories.create_message(admin_conn, patient["id"])
    assert await _audit(admin_conn, start) == []
