"""The languages the bot has texts in: the product's one list.

In ``core`` so the settings can hold ``MEDREMIND_DEFAULT_LOCALE`` to it; :mod:`bot.locale_format`
and :mod:`bot.texts` re-export it, and the API's ``locale`` fields take these only.
"""

from __future__ import annotations

LOCALES = ("en", "es")
DEFAULT_LOCALE = "en"
