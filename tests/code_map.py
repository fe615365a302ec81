"""Writes ``docs/code-map.md``: every module of the service and of ``bench/``, a line each, from
the first paragraph of its docstring. A newcomer looking for where something is done reads the
map; ``tests/unit/test_code_map.py`` fails when a module was added, moved or re-described and the
map was not remade:

    .venv/bin/python tests/code_map.py
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAP = ROOT / "docs" / "code-map.md"
# In the order of the layering (docs/architecture.md), then the benchmarks.
PACKAGES = ("core", "platforms", "scheduler", "bot", "medremind", "bench")
_LONGEST = 220  # characters of a module's line; a longer first paragraph is cut at a sentence

HEADER = """# Code map

Every module of the service and of `bench/`, with the first paragraph of its docstring (cut at a
sentence when long), in the packages' layering order (see [architecture](architecture.md)): where
to look for a thing before reading code. Made from the code by `.venv/bin/python
tests/code_map.py`; `tests/unit/test_code_map.py` fails when a module was added, moved or
re-described and the map was not made again.
"""


def summary(path: Path) -> str:
    """The first paragraph of ``path``'s module docstring on one line, cut at a sentence (or a
    word) when longer than :data:`_LONGEST`; "(no docstring)" when it has none."""
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    if not doc:
        return "(no docstring)"
    text = " ".join(doc.strip().split("\n\n", 1)[0].split())
    if len(text) <= _LONGEST:
        return text
    cut = max(text.rfind(". ", 0, _LONGEST), text.rfind("; ", 0, _LONGEST))
    if cut > _LONGEST // 3:
        return text[: cut + 1]
    return text[: text.rfind(" ", 0, _LONGEST)] + " ..."


def modules(package: str) -> list[Path]:
    """The modules of ``package`` that hold anything, in path order."""
    return sorted(
        # An empty ``__init__.py`` only makes a package: nothing to describe.
        (
            p
            for p in (ROOT / package).rglob("*.py")
            if "__pycache__" not in p.parts and p.stat().st_size > 0
        ),
        key=lambda p: p.relative_to(ROOT).parts,
    )


def render() -> str:
    """The whole map, as :data:`MAP` should read."""
    parts = [HEADER]
    for package in PACKAGES:
        parts.append(f"\n## `{package}/`\n\n| module | what it is |\n|---|---|\n")
        for path in modules(package):
            # A table cell: pipes escaped, nothing else of Markdown changed.
            line = re.sub(r"\|", r"\\|", summary(path))
            parts.append(f"| `{path.relative_to(ROOT).as_posix()}` | {line} |\n")
    return "".join(parts)


def main() -> int:
    MAP.write_text(render(), encoding="utf-8")
    print(f"wrote {MAP.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
