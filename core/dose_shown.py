"""A dose as the patient reads it: as typed, but a number alone said as that many pills.

A dose typed as digits alone ("1") read as the medicine's number beside its name: "Ibuprofeno
(1)" in the bot, "Metformina, 1" in a Spanish reminder. /add reads such a dose as that many pills
(:mod:`bot.dose_amount`), so every text that shows a dose says them so, in the reader's language:
the bot's summary and /meds (``bot.dialogs.medicines``), the reminders on every channel
(``dose_text``, :mod:`scheduler.rendering`) and the patient app's day view
(``medremind.web.patient_app.today``). In ``core`` because all of them read it.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

# The most pills one dose may say: more is a typo or a count of the stock, not a dose.
MAX_PILLS_PER_DOSE = Decimal(20)

# "1", "1.5", "1,5", "1/2", "1 1/2", glued to its unit or not ("10ml").
LEADING_NUMBER = re.compile(
    r"^(?:(?P<dec>\d+[.,]\d+)|(?P<frac>\d+/\d+)"
    r"|(?P<whole>\d+)(?:\s+(?P<num>\d+)/(?P<den>\d+))?)\s*(?P<rest>.*)$"
)

# The word for one pill and for several, per language; English for any other. ASCII both, so an
# SMS stays in GSM-7. The singular is said up to one pill ("1/2 pastilla"), as /add says it.
_PILLS = {"en": ("pill", "pills"), "es": ("pastilla", "pastillas")}


def leading_number(text: str) -> tuple[Decimal | None, str]:
    """The number written in digits that ``text`` starts with, and what follows it; (None,
    ``text``) when it starts with none."""
    found = LEADING_NUMBER.match(text)
    if found is None:
        return None, text
    try:
        if found["dec"]:
            amount = Decimal(found["dec"].replace(",", "."))
        elif found["frac"]:
            num, den = found["frac"].split("/")
            amount = Decimal(num) / Decimal(den)
        else:
            amount = Decimal(found["whole"])
            if found["num"]:
                amount += Decimal(found["num"]) / Decimal(found["den"])
    except (InvalidOperation, ZeroDivisionError):
        return None, text
    return amount, found["rest"]


def bare_count(text: str | None) -> Decimal | None:
    """The number of pills a dose typed as digits alone says ("1", "2", "1/2", "1,5"), else
    None (a dose with its unit, "500 mg", a word, or none). Number words stay as typed ("medio"
    would need its gender)."""
    if not text:
        return None
    amount, rest = leading_number(" ".join(text.split()))
    if amount is None or rest or not 0 < amount <= MAX_PILLS_PER_DOSE:
        return None
    return amount


def dose_shown(dose: str, locale: str) -> str:
    """``dose`` as typed, but a number alone with its pills in ``locale``'s language ("1" ->
    "1 pastilla" in "es" and "es-MX", "2" -> "2 pills" in "en")."""
    count = bare_count(dose)
    if count is None:
        return dose
    one, several = _PILLS.get(locale.replace("_", "-").split("-")[0].lower(), _PILLS["en"])
    return f"{' '.join(dose.split())} {one if count <= 1 else several}"
