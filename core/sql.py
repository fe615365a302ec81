"""SQL kept in ``.sql`` files under ``-- name: <query>`` headers, loaded into a dict by name."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent / "sql"
_HEADER = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)


def parse_queries(text: str) -> dict[str, str]:
    """Split a file into ``{name: sql}`` by its ``-- name: x`` headers."""
    parts = _HEADER.split(text)
    queries: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in queries:
            raise ValueError(f"query {name!r} is defined twice")
        queries[name] = body.strip().rstrip(";")
    return queries


@cache
def load_queries(module: str) -> dict[str, str]:
    """Queries from ``core/sql/<module>.sql`` (cached)."""
    return parse_queries((SQL_DIR / f"{module}.sql").read_text(encoding="utf-8"))


def query(module: str, name: str) -> str:
    """One query by file and name; a missing name is a programming error and raises KeyError."""
    return load_queries(module)[name]
