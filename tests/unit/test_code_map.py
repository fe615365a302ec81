"""``docs/code-map.md`` lists every module as its docstring describes it (tests/code_map.py)."""

from __future__ import annotations

from tests import code_map


def test_the_code_map_is_up_to_date() -> None:
    written = code_map.MAP.read_text(encoding="utf-8")
    wanted = code_map.render()
    missing = [
        line.split("`")[1]
        for line in wanted.splitlines()
        if line.startswith("| `") and line not in written
    ]
    assert written == wanted, (
        "docs/code-map.md is out of date (modules added, moved or re-described: "
        f"{missing[:10]}); remake it with `.venv/bin/python tests/code_map.py`"
    )


def test_every_module_has_a_docstring() -> None:
    undocumented = [
        path.relative_to(code_map.ROOT).as_posix()
        for package in code_map.PACKAGES
        for path in code_map.modules(package)
        if code_map.summary(path) == "(no docstring)"
    ]
    assert not undocumented, f"modules without a docstring saying what they are: {undocumented}"
