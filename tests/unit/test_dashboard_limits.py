"""The dashboard's field limits (dashboard/src/lib/limits.ts) are the template vocabulary's maxima
(core/template_vocabulary.py), which the database enforces: a form never offers more than the
database takes, nor less than the template check assumes."""

from __future__ import annotations

import re
from pathlib import Path

from core.template_vocabulary import STORED_AT, max_units

LIMITS = Path(__file__).resolve().parents[2] / "dashboard" / "src" / "lib" / "limits.ts"


def test_dashboard_limits_are_the_vocabulary_maxima() -> None:
    block = LIMITS.read_text().split("VALUE_MAX = {", 1)[1].split("}", 1)[0]
    found = {name: int(n) for name, n in re.findall(r"(\w+): (\d+),", block)}
    assert found, "no limits read"
    assert set(found) <= set(STORED_AT)
    assert {name: max_units(name) for name in found} == found
