"""The dashboard's list of what a template may be used for (dashboard/src/lib/template-kinds.json)
is the service's: every automatic kind with the variables its texts may use.

The editor lacked ``caregiver_dose_update`` (migration 20260101018180) when the service added it:
a clinic could not write its own text for the update, and the dashboard's save action refused the
kind as an unknown use.
"""

from __future__ import annotations

import json
from pathlib import Path

from scheduler.custom_templates import ALLOWED_VARIABLES, AUTOMATIC_KINDS

KINDS_FILE = Path(__file__).resolve().parents[2] / "dashboard/src/lib/template-kinds.json"


def _dashboard_kinds() -> dict[str, list[str]]:
    return {k["kind"]: k["variables"] for k in json.loads(KINDS_FILE.read_text())}


def test_every_automatic_kind_of_the_service_is_offered() -> None:
    assert list(_dashboard_kinds()) == ["free_text", *AUTOMATIC_KINDS]


def test_each_kind_names_the_variables_the_service_fills_in() -> None:
    kinds = _dashboard_kinds()
    for kind in AUTOMATIC_KINDS:
        assert sorted(kinds[kind]) == sorted(ALLOWED_VARIABLES[kind]), kind
    # Compose fills in only these two (src/lib/placeholders.ts), a part of the service's.
    assert kinds["free_text"] == ["patient_name", "clinic_name"]
    assert set(kinds["free_text"]) <= set(ALLOWED_VARIABLES["free_text"])
