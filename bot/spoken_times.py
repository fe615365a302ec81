"""Times of day as people say them, turned into a clock time and the minutes it is off by.

"8 y media", "9 y cuarto", "9 menos cuarto de la noche", "la una y media", "half past 8",
"quarter to 9 pm": an hour (in digits or a word, "la una") said with a fraction of an hour. The
bot read none of them ("8 y media" was two times, "8" and "media"). :func:`spoken` splits such a
text into the plain time it names ("8", "9 de la noche", "9 pm": read by
:func:`bot.parsing.parse_time` as any typed time) and the minutes to add to it (30, 15, -15).
Pure: no clock, no database.
"""

from __future__ import annotations

import re

# Hours said as words, Spanish and English: "a la una y media", "quarter past two".
_HOUR_WORDS = {
    word: str(n)
    for words in (
        ("una", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve", "diez",
         "once", "doce"),
        ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve"),
    )
    for n, word in enumerate(words, start=1)
}  # fmt: skip
_HOUR_WORD = re.compile(rf"\b({'|'.join(_HOUR_WORDS)})\b")

# "8 y media" (+30), "8 y cuarto" (+15), "8 menos cuarto" (-15), the hour's words before and
# after kept: "a las 9 menos cuarto de la noche" is "a las 9 de la noche", less 15 minutes.
_SPANISH = re.compile(
    r"^(?P<hour>.*?\d{1,2})\s+(?:y\s+(?P<plus>media|cuarto)|(?P<minus>menos\s+cuarto))"
    r"(?P<rest>\s+.*)?$"
)
_SPANISH_MINUTES = {"media": 30, "cuarto": 15}
# "half past 8" (+30), "quarter past 8" (+15), "quarter to 9" (-15).
_ENGLISH = re.compile(
    r"^(?:(?P<half>half)\s+(?:past|after)|quarter\s+(?P<way>past|after|to|till?))\s+(?P<rest>.+)$"
)

# A fraction of an hour, for bot.parsing.parse_times: "y" before one joins it to its hour ("8 y
# media" is one time), not two times ("8 y 9").
FRACTION_AFTER_Y = r"(?!\s+(?:media|cuarto)\b)"

# O'clock said in Spanish: "a las 8 en punto".
_EN_PUNTO = re.compile(r"\s+en\s+punto\b")


def spoken(text: str) -> tuple[str, int]:
    """``text`` (lower case, accents removed) as a plain time and the minutes to add to it:
    ("8", 30) for "8 y media", ("9 de la noche", -15) for "9 menos cuarto de la noche",
    ("9 pm", -15) for "quarter to 9 pm"; ``(text, 0)``, hour words as digits ("la 1"), for any
    other. An hour word alone stays a word: English "once" is not 11:00, "two" may mean two
    doses."""
    if text in _HOUR_WORDS:
        return text, 0
    text = _EN_PUNTO.sub("", _HOUR_WORD.sub(lambda m: _HOUR_WORDS[m[1]], text))
    found = _SPANISH.match(text)
    if found is not None:
        minutes = _SPANISH_MINUTES[found["plus"]] if found["plus"] else -15
        return found["hour"] + (found["rest"] or ""), minutes
    found = _ENGLISH.match(text)
    if found is not None:
        if found["half"]:
            return found["rest"], 30
        return found["rest"], 15 if found["way"] in ("past", "after") else -15
    return text, 0
