"""README and docs/ stay true to the code: every setting documented, no link leaving the repo."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# [text](target): relative targets only (no scheme, no anchor-only links).
_LINK = re.compile(r"\]\((?![a-z]+:|#)([^)\s]+)\)")


def _variables() -> list[str]:
    return sorted(
        str(field.alias) for field in Settings.model_fields.values() if field.alias is not None
    )


@pytest.mark.parametrize("document", ["README.md", "docs/configuration.md"])
def test_every_setting_is_documented(document: str) -> None:
    text = (ROOT / document).read_text(encoding="utf-8")
    missing = [name for name in _variables() if f"`{name}`" not in text]
    assert not missing, f"{document} does not document {missing}"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_stay_inside_the_repository_and_resolve(document: Path) -> None:
    text = document.read_text(encoding="utf-8")
    for target in _LINK.findall(text):
        path = (document.parent / target.split("#", 1)[0]).resolve()
        assert path.is_relative_to(ROOT), f"{document.name} links outside the repository: {target}"
        assert path.exists(), f"{document.name} links to a missing file: {target}"
    if document.name == "README.md" and document.parent == ROOT:
        assert "../" not in text, "README.md must not point outside the repository"


# Variables the documents name under the service's prefixes that the test suite reads, not the
# service (tests/conftest.py, tests/stateful.py).
_TEST_VARIABLES = frozenset(
    {"MEDREMIND_TEST_FRESH_DATABASES", "MEDREMIND_STATEFUL_EXAMPLES", "MEDREMIND_STATEFUL_STEPS"}
)
_SERVICE_NAME = re.compile(r"`((?:MEDREMIND|TELEGRAM|TWILIO|SMTP|WHATSAPP|VAPID)_[A-Z0-9_]+)`")


@pytest.mark.parametrize("document", ["README.md", "docs/configuration.md"])
def test_every_documented_setting_is_read(document: str) -> None:
    """The other way round: a variable the operator is told to set that the code no longer
    reads (renamed, removed) would be set and silently ignored."""
    text = (ROOT / document).read_text(encoding="utf-8")
    read = set(_variables()) | _TEST_VARIABLES
    unread = sorted({name for name in _SERVICE_NAME.findall(text) if name not in read})
    assert not unread, f"{document} documents {unread}, which nothing reads"
