"""Built-in renders byte for byte as before they were cached and split per channel.

The table (:mod:`tests.unit.render_cases`: every kind x channel x locale x options x medicine
names on and off, long texts over the SMS limit among them) was rendered by the code before that
change into ``tests/unit/fixtures/render_golden.json``; every case must render the same message
(text, html, subject, options, variables, reply keys) or raise the same error today.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from core.templating import TemplateRenderer
from tests.unit.render_cases import GOLDEN, cases, label_outcomes, outcome

EXPECTED: dict[str, Any] = json.loads(GOLDEN.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def renderer() -> TemplateRenderer:
    return TemplateRenderer()


def test_the_table_is_the_one_the_fixture_was_written_from() -> None:
    assert sorted(case for case, _ in cases()) == sorted(EXPECTED["renders"])


def test_every_case_renders_byte_for_byte_as_before(renderer: TemplateRenderer) -> None:
    different = [
        case
        for case, arguments in cases()
        if outcome(renderer, arguments) != EXPECTED["renders"][case]
    ]
    assert not different, f"{len(different)} cases differ, first: {different[:5]}"


def test_each_case_renders_the_same_again_from_the_caches(renderer: TemplateRenderer) -> None:
    # A second pass over the module's renderer: its caches give the same bytes.
    for case, arguments in cases():
        assert outcome(renderer, arguments) == EXPECTED["renders"][case], case


def test_labels_are_as_before(renderer: TemplateRenderer) -> None:
    assert label_outcomes(renderer) == EXPECTED["labels"]


def test_a_warmed_renderer_renders_every_case_byte_for_byte_as_before() -> None:
    # As ``medremind worker`` runs it: every built-in template compiled before the first message.
    warmed = TemplateRenderer()
    assert warmed.warm() > 0
    assert warmed._compiled  # each file the kinds use, looked at (compiled where it can be)
    assert warmed.warm() == 0  # once is enough
    for case, arguments in cases():
        assert outcome(warmed, arguments) == EXPECTED["renders"][case], case
    assert label_outcomes(warmed) == EXPECTED["labels"]
    assert TemplateRenderer(auto_reload=True).warm() == 0  # files re-read: nothing kept
