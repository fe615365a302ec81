"""A group message from Compose goes only as counted, in headless Chromium against ``next start``
and a real ``medremind web`` on a fresh database.

Found by hand (medremind dev, a clinic of 45 patients): Compose, "A group of patients", the search
left empty, a text, one click on "Send now to the group": a message to every patient of the
clinic, no count and no confirmation. Now the server action refuses a group message unless the
form carries the count the clinician saw (Count recipients) and the group still has that many:
uncounted, it names Recipients and Count recipients and keeps the text; counted before the group
changed, it says to count again; counted, the button says how many it goes to. Keyboard only
works. The browser script is ``dashboard/e2e/compose-group-confirm.e2e.mjs`` (screenshots
``compose-group-uncounted.png``, ``compose-group-sent.png``). Skipped without node and chromium.
"""

from __future__ import annotations

from pathlib import Path

import asyncpg

from tests.dashboard.harness import harbour_clinic, run_dashboard_script
from tests.dashboard.test_dashboard_e2e import pytestmark  # noqa: F401 (the same skip)
from tests.factories import create_patient


async def test_a_group_message_goes_only_as_counted(
    database_url: str, admin_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    clinic = await harbour_clinic(database_url, admin_conn, "group")
    org_id = clinic.org_id
    group = [
        await create_patient(
            admin_conn, org_id, display_name=f"Group {n}", contacts={"sms": f"+1415555012{n}"}
        )
        for n in range(3)
    ]
    for n in range(2):
        await create_patient(
            admin_conn, org_id, display_name=f"Other {n}", contacts={"sms": f"+1415555013{n}"}
        )

    result = run_dashboard_script(
        "compose-group-confirm.e2e.mjs",
        db_env=clinic.db_env,
        tmp_path=tmp_path,
        script_env=clinic.nurse_env,
    ).result

    uncounted = result["uncounted"]
    assert uncounted["label"] == "Send now to the group", uncounted
    assert uncounted["error"].startswith("Recipients: press Count recipients"), uncounted
    assert "An empty search means every patient of the clinic" in uncounted["error"]
    assert uncounted["text_kept"] == "The clinic is closed on Friday."
    assert uncounted["search_invalid"] == "true"
    assert "compose-error" in uncounted["described_by"]
    assert result["count"] == "5 patients will receive it."
    assert result["counted_label"] == "Send now to the group (5 patients)"
    assert result["changed"]["error"].startswith("Recipients: the group has changed"), result
    assert result["keyboard_count"] == "3 patients will receive it."
    assert result["keyboard_label"] == "Send now to the group (3 patients)"
    assert result["sent"]["notice"] == "Scheduled for 3 patients.", result["sent"]

    rows = await admin_conn.fetch(
        "select patient_id, message_content from scheduled_messages order by message_content"
    )
    # Nothing from the refused sends; the counted one, to the group only.
    assert sorted(r["patient_id"] for r in rows) == sorted(p["id"] for p in group)
    assert {r["message_content"] for r in rows} == {
        f"The clinic is closed on Friday, Group {n}." for n in range(3)
    }
