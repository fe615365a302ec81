"""A time zone is stored under one name whichever way a clinic enters it: the API's
(core.zone_names) and the dashboard's (dashboard/src/lib/time.ts canonicalTimezone) answers are
both held to ``dashboard/test/zone-names.json`` (the dashboard's side: test/zone-names.test.mjs).

The table is every zone name of the IANA database as the ``tzdata`` package ships it (the same on
every machine, whatever the system's zone folder holds), with the name it is stored under. After
an upgrade of tzdata or Babel, regenerate it with
``python -m tests.unit.test_zone_names`` and review the changes.
"""

from __future__ import annotations

import json
import sys
from importlib import resources
from pathlib import Path
from zoneinfo import available_timezones

from core.zone_names import canonical_zone

TABLE = Path(__file__).resolve().parents[2] / "dashboard" / "test" / "zone-names.json"
_NOT_ZONES = {"Factory"}


def table() -> dict[str, str]:
    """Every IANA zone name -> the name it is stored under."""
    names = resources.files("tzdata").joinpath("zones").read_text("utf-8").split()
    return {name: canonical_zone(name) for name in sorted(set(names) - _NOT_ZONES)}


def test_the_shared_table_is_what_the_api_stores() -> None:
    stored = json.loads(TABLE.read_text("utf-8"))
    assert stored == table(), "regenerate: python -m tests.unit.test_zone_names"


def test_legacy_names_become_the_current_ones_and_places_stay() -> None:
    assert canonical_zone("US/Eastern") == "America/New_York"
    assert canonical_zone("Asia/Calcutta") == "Asia/Kolkata"
    assert canonical_zone("Asia/Kolkata") == "Asia/Kolkata"
    assert canonical_zone("Europe/Kiev") == "Europe/Kyiv"
    assert canonical_zone("Etc/UTC") == "UTC"
    assert canonical_zone("Zulu") == "UTC"
    # Linked by tzdata since 2022 (the same clocks since 1970), yet another place: kept.
    assert canonical_zone("Europe/Amsterdam") == "Europe/Amsterdam"
    assert canonical_zone("Atlantic/Reykjavik") == "Atlantic/Reykjavik"
    assert canonical_zone("Etc/GMT+5") == "Etc/GMT+5"
    # Every stored name is one no other step changes, and a zone Python loads.
    for name in set(table().values()):
        assert canonical_zone(name) == name
        assert name in available_timezones()


if __name__ == "__main__":
    TABLE.write_text(json.dumps(table(), indent=0, sort_keys=True) + "\n", "utf-8")
    sys.stdout.write(f"wrote {TABLE}\n")
