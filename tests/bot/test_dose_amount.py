"""bot.dose_amount: pills a dose, read from the dose as typed (a table, no clock, no database)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.dose_amount import read_dose


@pytest.mark.parametrize(
    ("typed", "pills"),
    [
        ("1 comprimido", "1"),
        ("2 pastillas", "2"),
        ("dos cápsulas", "2"),
        ("1/2 tablet", "0.5"),
        ("½ pastilla", "0.5"),
        ("1½ tablets", "1.5"),
        ("1 1/2 tablets", "1.5"),
        ("1,5 comprimidos", "1.5"),
        ("media pastilla", "0.5"),
        ("half a tablet", "0.5"),
        ("one pill", "1"),
        ("2 comprimidos de 500 mg", "2"),
        # Measured otherwise: not counted in pills.
        ("10 ml", None),
        ("10ml", None),
        ("20 gotas", None),
        ("2 puffs", None),
        ("8 unidades", None),
        # No number of pills: one a dose, as before.
        ("500 mg", "1"),
        ("", "1"),
        ("3", "1"),
        ("0 pills", "1"),
        ("1/0 pill", "1"),
        ("100 tablets", "1"),  # a stock, not a dose
    ],
)
def test_pills_a_dose(typed: str, pills: str | None) -> None:
    assert read_dose(typed).pills == (None if pills is None else Decimal(pills))
