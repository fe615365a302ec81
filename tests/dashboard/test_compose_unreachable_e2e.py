"""Compose and a patient no channel reaches now, in headless Chromium against ``next start`` and
a real ``medremind web`` on a fresh database, with the API's rule (``public.message_reach``,
migration 20260101015200, the one definition both use).

The patient's only channel is SMS and they sent STOP. Send now, on SMS and on auto: the form
answers why and what to do (reply START, a channel that reaches them, or a later time), keeps the
text and inserts nothing; the refusal window it names is the database's (set to 20 minutes here;
the texts said a literal "15 minutes" whatever the rule's value); before afba0bd the message was
accepted and failed at once in the worker. An hour ahead: kept, and the patient's page says it
fails unless they can be reached by then (before: refused like a message due now), and Send now on
it in the Messages list is refused (before: made due now, it failed at once), as is Re-send of
their failed message (the API refused it already; the dashboard made a copy that failed again). A
group with them and a reachable patient, now: one row, for the reachable patient; the stopped one
is named as not sent to (before: a row for each, the stopped one's failing at once). An invited
patient (a phone, not consented yet), now or an hour ahead: refused in the form as the API's 409,
naming the invite link, the text kept (before: inserted, then cancelled by the worker unseen); in
the group they are counted apart and named as not sent to (before: left out unnamed). The Patient
list names unnamed patients "Unnamed patient (SMS …0111)", not by their id, and no full number
reaches the page.
The browser script is ``dashboard/e2e/compose-unreachable.e2e.mjs``; screenshots
``compose-unreachable-{sms,auto,later}.png``, ``compose-invited-{now,later}.png``,
``compose-group-skipped.png``, ``compose-unnamed-patients.png``. Skipped without node and
chromium.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import asyncpg

from tests.dashboard.harness import admin_and_clinician, built_dashboard_env, run_dashboard_script
from tests.dashboard.test_dashboard_e2e import pytestmark  # noqa: F401 (the same skip)
from tests.factories import create_patient

REFUSAL_MINUTES = 20
UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


async def test_compose_to_a_patient_who_sent_stop_now_later_and_in_a_group(
    database_url: str, admin_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    # The reach rule's window, as an operator would change it: the texts must say this one.
    await admin_conn.execute(
        "create or replace function public.unreachable_refusal_minutes() returns integer"
        f" language sql immutable parallel safe as $$ select {REFUSAL_MINUTES} $$"
    )
    db_env = built_dashboard_env(database_url)
    admin, _ = await admin_and_clinician(
        db_env,
        admin_conn,
        "Harbour Reach",
        ("admin@reach.test", "admin pass 1234"),
        ("nurse@reach.test", "nurse pass 1234"),
    )
    org_id = uuid.UUID(admin["organization_id"])
    # The group: GRP-1 sent STOP on their only channel, GRP-2 is reachable.
    stopped, reachable = [
        await create_patient(
            admin_conn, org_id, display_name=name, external_id=ext, contacts={"sms": phone}
        )
        for name, ext, phone in (
            ("Sam Stopped", "GRP-1", "+14155550199"),
            ("Rita Reachable", "GRP-2", "+14155550188"),
        )
    ]
    await admin_conn.execute(
        "update contact_points set opted_out_at = now() where patient_id = $1", stopped["id"]
    )
    failed = await admin_conn.fetchval(
        "insert into scheduled_messages (organization_id, patient_id, message_content, platform,"
        " kind, scheduled_time, status, last_error)"
        " values ($1, $2, 'Your results are ready', 'auto', 'free_text', now() - interval '1 hour',"
        " 'failed', 'no usable contact point in the patient''s channel order') returning id",
        org_id,
        stopped["id"],
    )
    # Invited, with a phone, not consented yet: the API refuses a message to them (409).
    invited = await create_patient(
        admin_conn,
        org_id,
        display_name="Ivy Invited",
        external_id="GRP-3",
        status="invited",
        consent_at=None,
        contacts={"sms": "+14155550177"},
    )
    for n in ("11", "22"):
        await create_patient(
            admin_conn, org_id, display_name=None, contacts={"sms": f"+141555501{n}"}
        )

    result = run_dashboard_script(
        "compose-unreachable.e2e.mjs",
        db_env=db_env,
        tmp_path=tmp_path,
        script_env={
            "CLINICIAN_EMAIL": "nurse@reach.test",
            "CLINICIAN_PASSWORD": "nurse pass 1234",
            "PATIENT_NAME": "Sam Stopped",
            "INVITED_NAME": "Ivy Invited",
            "GROUP_QUERY": "GRP-",
        },
    ).result

    for channel in ("sms", "auto"):
        refused = result[channel]
        assert refused["error"].startswith("Channel: no channel reaches this patient now"), refused
        assert f"a message due within {REFUSAL_MINUTES} minutes would fail" in refused["error"]
        assert "once they reply START" in refused["error"]
        assert f"schedule it at least {REFUSAL_MINUTES} minutes ahead" in refused["error"]
        assert refused["url"].endswith("/messages/new"), refused
        assert refused["text_kept"] == "Your results are ready"
        assert (refused["channel_after"], refused["channel_invalid"]) == (channel, "true")

    # The invited patient, now and an hour ahead: refused in the form as the API refuses it
    # (before: inserted, and cancelled by the worker, "no consent recorded", unseen).
    for when in ("now", "later"):
        refused = result[f"invited_{when}"]
        assert refused["error"].startswith(
            "Patient: this patient has not consented yet (invited)"
        ), refused
        assert "Make an invite link" in refused["error"]
        assert refused["url"].endswith("/messages/new"), refused
        assert refused["text_kept"] == "Your results are ready"
        assert refused["patient_invalid"] == "true"
    assert not await admin_conn.fetch(
        "select 1 from scheduled_messages where patient_id = $1", invited["id"]
    )
    # The no-contact-point remedy is named, as the API's refusal names it.
    assert "open an invite link" in result["auto"]["error"]

    # An hour ahead: kept, with the notice on the patient's page.
    assert result["later"]["url"].split("?")[0].endswith(str(stopped["id"]))
    assert result["later"]["notice"].startswith(
        "Scheduled, but no channel reaches this patient now"
    ), result["later"]
    assert "once they reply START" in result["later"]["notice"]
    later = await admin_conn.fetch(
        "select scheduled_time - created_at as ahead, status from scheduled_messages"
        " where patient_id = $1 and status <> 'failed'",
        stopped["id"],
    )
    # Send now on it (the Messages list) is refused too, and it stays at its time.
    assert result["send_now"]["error"].startswith(
        "Not sent now: no channel reaches this patient now"
    ), result["send_now"]
    # Re-send of the failed one: refused, no copy (it would fail again, as the API says).
    assert result["resend"]["error"].startswith("Not re-sent: no channel reaches this patient now")
    assert not await admin_conn.fetch(
        "select 1 from scheduled_messages where resent_from = $1", failed
    )
    assert [r["status"] for r in later] == ["pending"]
    assert later[0]["ahead"].total_seconds() > REFUSAL_MINUTES * 60

    # The group: the reachable patient's row only; the stopped one named as not sent to.
    group = result["group"]
    assert group["count"] == (
        "2 patients match. No channel reaches 1 of them now: a message sent now leaves that"
        " patient out, a later one goes to them if they can be reached by then. 1 patient who has"
        " not consented yet (invited) matches too: nothing goes to them before they join."
    ), group
    assert group["summary"] == "Scheduled for 1 patient.", group
    assert group["skipped"].startswith("Not sent to 1 patient: no channel reaches them now"), group
    assert f"due within {REFUSAL_MINUTES} minutes" in group["skipped"], group
    assert group["skipped_names"] == ["Sam Stopped"]
    assert (group["later_shown"], group["form_gone"]) == (0, True)
    assert group["not_consented"].startswith(
        "Not sent to 1 patient who has not consented yet (invited)"
    ), group
    assert group["not_consented_names"] == ["Ivy Invited"]
    rows = await admin_conn.fetch(
        "select patient_id, message_content from scheduled_messages"
        " where payload ->> 'group' = 'true'"
    )
    assert [(r["patient_id"], r["message_content"]) for r in rows] == [
        (reachable["id"], "The clinic is closed on Friday, Rita Reachable.")
    ]

    # Unnamed patients: "Unnamed patient" as elsewhere, told apart by their number's last digits.
    options = result["patient_options"]
    assert "Unnamed patient (SMS …0111)" in options and "Unnamed patient (SMS …0122)" in options
    assert not [o for o in options if UUID_TEXT.fullmatch(o)], options
    for number in ("4155550111", "4155550122", "4155550199", "4155550188"):
        assert number not in result["page_html"], number
