"""Built-in templates as an SMS carries them: our wording in GSM-7's letters.

One letter GSM-7 lacks ("í" in "Avísanos", "á" in "Recordar más tarde") makes a whole SMS
UCS-2: 67 characters a part instead of 153, so a Spanish follow-up or refill reminder went as
two or three parts where the same words without those accents go as one. The bot's own texts
are written so on SMS already (``bot.texts.sms_text``); this does the same for the message
templates the worker renders.

A built-in file is read for SMS under its name plus :data:`SMS_SUFFIX`: the loader serves the
file's source with its literal letters folded (:func:`core.template_filters.gsm7_letters`: "á"
-> "a"; é, ñ, ü, ¿ and ¡ are GSM-7's and stay), and the ``{% extends %}`` it names read the
same way, so a parent's labels are folded too. Only the template's own text changes: a name, a
medicine or a clinic is a variable, printed as given. Both the compiled renderer and Jinja read
sources through the loader, so both see the folded text.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from jinja2 import Environment, FileSystemLoader

from core.template_filters import gsm7_letters

# Appended to a built-in file's name: that file, as SMS carries it.
SMS_SUFFIX = "#gsm7"
# A literal parent name, read the same way as its child (non-literal ones are left alone).
_EXTENDS = re.compile(r"""(\{%-?\s*extends\s+)(["'])([^"']+)\2""")


class Gsm7Loader(FileSystemLoader):
    """A :class:`FileSystemLoader` that serves ``<name>#gsm7`` as ``<name>`` folded to GSM-7."""

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        """The source of ``template``; folded when its name ends in :data:`SMS_SUFFIX`."""
        if not template.endswith(SMS_SUFFIX):
            return super().get_source(environment, template)
        source, filename, uptodate = super().get_source(environment, template[: -len(SMS_SUFFIX)])
        return _folded(source), filename, uptodate


def _folded(source: str) -> str:
    """``source`` in GSM-7 letters, its literal parent read as SMS carries it too."""
    return _EXTENDS.sub(
        lambda m: f"{m.group(1)}{m.group(2)}{m.group(3)}{SMS_SUFFIX}{m.group(2)}",
        gsm7_letters(source),
    )


def sms_name(environment: Environment, name: str) -> str:
    """The name to render built-in file ``name`` by on SMS: with :data:`SMS_SUFFIX` when it or
    a literal parent holds a letter GSM-7 lacks, else ``name`` itself (English is unchanged)."""
    seen: set[str] = set()
    current: str | None = name
    while current is not None and current not in seen:
        seen.add(current)
        source = _source(environment, current)
        if source is None:
            return name
        if gsm7_letters(source) != source:
            return name + SMS_SUFFIX
        parent = _EXTENDS.search(source)
        current = parent.group(3) if parent else None
    return name


def _source(environment: Environment, name: str) -> str | None:
    if environment.loader is None:
        return None
    try:
        return environment.loader.get_source(environment, name)[0]
    except Exception:  # a missing parent: rendering will say so, not the name lookup
        return None
