"""What a person's name may be, for every way one comes in: the bot's questions (a patient's,
a caregiver's), the API's patients (``POST``/``PATCH /api/v1/patients``) and, through the
database, the dashboard's New patient form.

One rule, held in two places that a test keeps equal: here, for the bot (whose answer router
needs a pure check) and the API, and in the database (migration 20260101015500:
``public.person_name_clean`` in a trigger, ``public.person_name_visible`` in a check), which
every writer of ``patients.display_name`` meets, the dashboard's server actions included
(tests/integration/test_person_names.py compares the two over every code point), and every
writer of ``caregivers.name`` too, a clinician through Supabase included (migration
20260101015760, tests/integration/test_caregiver_names.py).

- Direction controls with a scope (embeddings, overrides, isolates: U+202A-U+202E,
  U+2066-U+2069) are removed from a name, which stays otherwise as typed. They are not part of
  anyone's name: the bidirectional algorithm orders a name's own letters, and the marks without
  a scope (LRM, RLM, ALM) are kept. Left in, an unterminated U+202E reverses whatever follows
  the name wherever it is filled in (a reminder, an SMS, a dashboard row), so the text read is
  not the text sent ("Trojan Source", CVE-2021-42574). Removed rather than refused: they come
  with pasted contact cards and right-to-left keyboards, and the name is otherwise right.
- A name must show something: one character at least that is not a space, a control or format
  character (zero-width space and joiners, direction marks, soft hyphen, word joiner, BOM, tag
  characters), a variation selector or one of the letters and symbols drawn blank (the Hangul
  fillers U+115F, U+1160, U+3164, U+FFA0; Braille blank U+2800). A name made only of these
  looks empty in every list and message, and "Hi ㅤ!" greets nobody. Nor do combining marks
  alone (accents, vowel signs: :data:`core.combining_marks.COMBINING_MARKS`): "\u0301\u0301"
  has no letter to sit on and shows as nothing or dotted circles. With a letter they are part
  of the name ("Ren\u00e9e", "\u0939\u093f\u0902\u0926\u0940").
"""

from __future__ import annotations

import re
import unicodedata

from core.combining_marks import COMBINING_MARKS

# Code point ranges (inclusive) that show nothing on their own: every Cc, Cf, Zs, Zl and Zp
# character of Unicode 14 (tests/unit/test_person_names.py checks this Python's Unicode), the
# variation selectors and the combining grapheme joiner, and the letters drawn blank. The
# migration's character class lists the same ranges.
INVISIBLE: tuple[tuple[int, int], ...] = (
    (0x0000, 0x0020), (0x007F, 0x00A0), (0x00AD, 0x00AD), (0x034F, 0x034F),
    (0x0600, 0x0605), (0x061C, 0x061C), (0x06DD, 0x06DD), (0x070F, 0x070F),
    (0x0890, 0x0891), (0x08E2, 0x08E2), (0x115F, 0x1160), (0x1680, 0x1680),
    (0x180B, 0x180F), (0x2000, 0x200F), (0x2028, 0x202F), (0x205F, 0x2064),
    (0x2066, 0x206F), (0x2800, 0x2800), (0x3000, 0x3000), (0x3164, 0x3164),
    (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD), (0x110CD, 0x110CD), (0x13430, 0x13438), (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A), (0xE0001, 0xE0001), (0xE0020, 0xE007F), (0xE0100, 0xE01EF),
)  # fmt: skip
# Direction controls with a scope: removed from names (see the module's docstring).
BIDI_SCOPES: tuple[tuple[int, int], ...] = ((0x202A, 0x202E), (0x2066, 0x2069))


def _char_class(ranges: tuple[tuple[int, int], ...]) -> str:
    return "".join(f"{re.escape(chr(lo))}-{re.escape(chr(hi))}" for lo, hi in ranges)


# A character that shows by itself: neither invisible nor a mark drawn on another.
_VISIBLE = re.compile(f"[^{_char_class(INVISIBLE)}{_char_class(COMBINING_MARKS)}]")
_BIDI_SCOPE = re.compile(f"[{_char_class(BIDI_SCOPES)}]")

NO_VISIBLE_CHARACTER = (
    "has no visible character: it is only spaces and invisible characters (zero-width spaces"
    " or joiners, direction marks, blank fillers such as U+3164) or accents and other marks with"
    " no letter to sit on. Type the name in letters, for example Ana"
)


def without_direction_scopes(text: str) -> str:
    """``text`` without direction controls that have a scope (U+202A-U+202E, U+2066-U+2069),
    composed (Unicode NFC: "Rene\u0301e" is "Renée").

    Composed because a decomposed name was not found by a search typed on a keyboard, and its
    combining accents are not in SMS's GSM-7 alphabet: every SMS naming it went as UCS-2, three
    segments for one (the database composes too, migration 20260101016320).

    The rule for every text filled into a message or a list beside other text, not only names:
    a medicine's name and dose, a place, a clinic's or clinician's name (the database's
    ``person_name_clean``, migration 20260101015900). An unterminated U+202E in "Ibuprofen"
    showed the rest of the line reversed: "at 23:30" read "03:32 ta"."""
    return unicodedata.normalize("NFC", _BIDI_SCOPE.sub("", text))


def clean_name(text: str) -> str:
    """``text`` without direction controls that have a scope, its spaces collapsed and trimmed."""
    return " ".join(without_direction_scopes(text).split())


def is_visible(text: str) -> bool:
    """Whether ``text`` has one character at least that shows by itself (a combining mark
    alone does not: it is drawn on the character before it)."""
    return _VISIBLE.search(text) is not None


def name_problem(name: str) -> str | None:
    """Why a cleaned ``name`` (:func:`clean_name`) cannot be a person's name, or None."""
    return None if is_visible(name) else NO_VISIBLE_CHARACTER
