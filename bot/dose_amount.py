"""What a typed dose says about pills: how many make one dose, or that it is not counted in pills.

``/add`` keeps the dose as the patient typed it ("2 pastillas", "10 ml") and shows it so; this
reads it for the pill count the refill reminder keeps. Before, every dose counted as one pill:
"2 pastillas" twice a day with 20 in stock was reminded to refill after 20 doses, when the pills
ran out after 10; and a syrup's patient was asked how many pills they had.

Only a number ("2", "1.5", "1,5", "1/2", "½", "one", "dos", "medio") followed by a word for a
pill ("tablet", "comprimidos", "cápsula", ...) gives pills per dose. A dose measured otherwise
(ml, drops, puffs, units) is not counted in pills; anything else ("500 mg", "a little") is read
as one pill a dose, as it always was.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bot.locale_format import fold_label
from core.dose_shown import MAX_PILLS_PER_DOSE, leading_number

_PILL_WORDS = frozenset(
    {
        "tablet", "tablets", "tab", "tabs", "pill", "pills", "capsule", "capsules", "caplet",
        "caplets", "comprimido", "comprimidos", "pastilla", "pastillas", "capsula", "capsulas",
        "gragea", "grageas", "pildora", "pildoras", "tableta", "tabletas", "comp", "cap", "caps",
    }
)  # fmt: skip
# Units that are not pills: a stock of these is not counted in pills.
_NOT_PILL_WORDS = frozenset(
    {
        "ml", "cc", "l", "drop", "drops", "gota", "gotas", "teaspoon", "teaspoons", "tsp",
        "tablespoon", "tablespoons", "tbsp", "cucharada", "cucharadas", "cucharadita",
        "cucharaditas", "puff", "puffs", "inhalacion", "inhalaciones", "inhalation",
        "inhalations", "spray", "sprays", "pulverizacion", "pulverizaciones", "unit", "units",
        "ui", "iu", "u", "unidad", "unidades", "patch", "parche", "parches", "sobre", "sobres",
        "sachet", "sachets",
    }
)  # fmt: skip
_NUMBER_WORDS = {
    "a": Decimal(1), "an": Decimal(1), "one": Decimal(1), "two": Decimal(2),
    "three": Decimal(3), "four": Decimal(4), "half": Decimal("0.5"), "un": Decimal(1),
    "uno": Decimal(1), "una": Decimal(1), "dos": Decimal(2), "tres": Decimal(3),
    "cuatro": Decimal(4), "medio": Decimal("0.5"), "media": Decimal("0.5"),
}  # fmt: skip
_SMALL_WORDS = frozenset({"a", "an", "of", "the", "de", "la", "un", "una"})


@dataclass(frozen=True)
class DoseAmount:
    """A dose as the pill count reads it: ``pills`` a dose (None: not counted in pills)."""

    pills: Decimal | None


def read_dose(text: str | None) -> DoseAmount:
    """What ``text`` (a dose as typed, or None for none) means for the pill count."""
    if not text:
        return DoseAmount(Decimal(1))
    # Folding (NFKD) would write "1½" as "11" and a fraction slash "2": the half is spelled first.
    words = fold_label(text.replace("½", " 1/2 ")).replace("-", " ").split()
    amount, rest = _amount(" ".join(words))
    # "half a tablet", "media de pastilla", "one of the pills": the unit after small words.
    units = [w.strip(".,;:()") for w in rest.split() if w not in _SMALL_WORDS]
    unit = units[0] if units else ""
    if unit in _NOT_PILL_WORDS:
        return DoseAmount(None)
    if unit in _PILL_WORDS and amount is not None and 0 < amount <= MAX_PILLS_PER_DOSE:
        return DoseAmount(amount)
    return DoseAmount(Decimal(1))


def _amount(text: str) -> tuple[Decimal | None, str]:
    """The number ``text`` starts with, and what follows it."""
    first, _, after = text.partition(" ")
    if first in _NUMBER_WORDS:
        amount = _NUMBER_WORDS[first]
        if first in ("a", "an", "un", "una") and after.startswith(("half ", "media ", "medio ")):
            return Decimal("0.5"), after.partition(" ")[2]  # "a half tablet"
        return amount, after
    return leading_number(text)
