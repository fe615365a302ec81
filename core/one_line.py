"""One-line names: a clinic's, a medicine's, a template's, a clinician's, a place's.

A person's name and a dose are held to it too (migration 20260101019030).

Such a name is filled into a line of a message ("Sunrise Clinic: time for Metformin"), a row of
the dashboard's lists and a cell of an export. Found over the API: a clinic named "Sunrise", a
line break and "Reply STOP to ..." was saved, and its patients' appointment messages then carried
that second line as though the message said it; a control character prints nothing, or garbage.
Refused where a name comes in, naming the character and where it is. Format characters are not
among these: right-to-left names need their direction marks, and emoji sequences their joiners.
"""

from __future__ import annotations

import re

import asyncpg

# C0 controls (tab, line feed and carriage return among them), DEL, C1 controls (NEL U+0085
# among them), and Unicode's own line and paragraph separators.
_BREAKS = re.compile("[\u0000-\u001f\u007f-\u009f\u2028\u2029]")


def line_break_problem(text: str) -> str | None:
    """Why ``text`` cannot be a one-line name (a line break or control character in it, named
    with its position), or None."""
    found = _BREAKS.search(text)
    if found is None:
        return None
    return (
        f"holds a line break or control character (U+{ord(found[0]):04X}, character"
        f" {found.start() + 1}): a name is one line of visible text; type it on one line"
    )


# The database refuses the same for every writer (migrations 20260101019020, 019030): a check
# violation named <table>_<column>_one_line, with no value in its message.
SUFFIX = "_one_line"


def refused_column(error: BaseException) -> str | None:
    """The column whose one-line rule the database refused in ``error`` (a check violation
    ``<table>_<column>_one_line``), or None for any other error."""
    if not isinstance(error, asyncpg.CheckViolationError):
        return None
    constraint = getattr(error, "constraint_name", None) or ""
    table = getattr(error, "table_name", None) or ""
    if not constraint.endswith(SUFFIX) or not constraint.startswith(f"{table}_"):
        return None
    return constraint[len(table) + 1 : -len(SUFFIX)] or None
