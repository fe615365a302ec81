"""The dashboard shows a pending message's quiet-hours hold as a note, not an error
(dashboard/src/lib/delivery.ts HOLD_NOTES): its texts are the worker's reasons, word for word."""

from __future__ import annotations

from pathlib import Path

from scheduler.quiet_hours import DEFERRED_REASON
from scheduler.quiet_release import RELEASED_REASON

DELIVERY_TS = Path(__file__).resolve().parents[2] / "dashboard" / "src" / "lib" / "delivery.ts"


def test_the_dashboards_hold_notes_are_the_workers_reasons() -> None:
    source = DELIVERY_TS.read_text(encoding="utf-8")
    block = source[
        source.index("const HOLD_NOTES") : source.index("]);", source.index("const HOLD_NOTES"))
    ]
    for reason in (DEFERRED_REASON, RELEASED_REASON):
        assert f'"{reason}"' in block, reason
