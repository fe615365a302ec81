"""core.dose_shown: a dose as the patient reads it (a table, no clock, no database)."""

from __future__ import annotations

import pytest

from core.dose_shown import dose_shown


@pytest.mark.parametrize(
    ("dose", "locale", "shown"),
    [
        ("1", "es", "1 pastilla"),
        ("1", "es-MX", "1 pastilla"),
        ("1/2", "es", "1/2 pastilla"),
        ("1,5", "es", "1,5 pastillas"),
        (" 2 ", "en", "2 pills"),
        ("1 1/2", "en", "1 1/2 pills"),
        ("1", "fr", "1 pill"),
        ("500 mg", "es", "500 mg"),
        ("2 pastillas", "es", "2 pastillas"),
        ("dos", "es", "dos"),
        ("21", "en", "21"),
        ("0", "en", "0"),
        ("1/0", "en", "1/0"),
    ],
)
def test_a_number_alone_is_said_as_pills(dose: str, locale: str, shown: str) -> None:
    assert dose_shown(dose, locale) == shown
