"""Fuzzing the template language (issue 15, item 4): random Jinja-ish sources.

Properties: :func:`core.template_language.check` never raises, whatever the source; a source it
accepts renders without error, with every variable at its longest (UCS-2 letters and emoji), in
no more UTF-16 units than the bound the check computed, and under the hard cap.

``pytest tests/unit/test_template_fuzz.py -s`` prints how many sources were tried and accepted;
TEMPLATE_FUZZ_EXAMPLES sets how many (1,500 by default).
"""

from __future__ import annotations

import os
from collections import Counter
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import template_language as lang
from core.templating import TemplateRenderer

ALLOWED = ("patient_name", "clinic_name", "due_at", "medicine_name", "starts_at", "location")
NAMES = (*ALLOWED, "self", "range", "lipsum", "x", "loop", "dose_text", "locale", "timezone")
FILTERS = (*sorted(lang.FILTERS), "attr", "join", "format", "pprint", "wordwrap", "list", "sum")
TEXTS = ("", "a", "Ł", "😀", "x" * 40, "{{", "}}", "{%", "%}", "ß", "'", '"', "\n", " ")


def _worst_values() -> dict[str, object]:
    values: dict[str, object] = {}
    for name in ALLOWED:
        variable = lang.VARIABLES[name]
        if variable.kind == lang.DATETIME:
            values[name] = datetime(2025, 9, 24, 23, 59, tzinfo=UTC)
        else:  # longer than the maximum: the renderer shortens it
            values[name] = ("Ł😀" * variable.max_units)[: variable.max_units + 10]
    return values


literals = st.one_of(
    st.sampled_from(TEXTS).map(repr),
    st.integers(-(10**7), 10**7).map(str),
    st.sampled_from(["True", "None", "1.5", "10**6", "[1, 2]", "{'a': 1}", "(1, 2)"]),
)


def _expressions() -> st.SearchStrategy[str]:
    leaves = st.one_of(st.sampled_from(NAMES), literals)

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        args = st.lists(st.one_of(literals, inner), max_size=4).map(", ".join)
        return st.one_of(
            st.tuples(inner, st.sampled_from(FILTERS), args).map(
                lambda t: f"{t[0]}|{t[1]}({t[2]})" if t[2] else f"{t[0]}|{t[1]}"
            ),
            st.tuples(
                inner,
                st.sampled_from(
                    ["~", "*", "**", "+", "%", "==", "!=", "<", " in ", " and ", " or "]
                ),
                inner,
            ).map("".join),
            st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
            st.tuples(inner, st.sampled_from(["upper", "__class__", "format", "__mro__"])).map(
                ".".join
            ),
            st.tuples(inner, inner).map(lambda t: f"{t[0]}[{t[1]}]"),
            st.tuples(inner, args).map(lambda t: f"{t[0]}({t[1]})"),
            st.tuples(inner, st.sampled_from(["defined", "none", "odd", "sameas 1"])).map(
                lambda t: f"{t[0]} is {t[1]}"
            ),
            inner.map(lambda e: f"not {e}"),
        )

    return st.recursive(leaves, extend, max_leaves=8)


def _sources() -> st.SearchStrategy[str]:
    expression = _expressions()

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.lists(inner, min_size=1, max_size=4).map("".join),
            st.tuples(expression, inner).map(lambda t: f"{{% if {t[0]} %}}{t[1]}{{% endif %}}"),
            st.tuples(expression, inner, inner).map(
                lambda t: f"{{% if {t[0]} %}}{t[1]}{{% else %}}{t[2]}{{% endif %}}"
            ),
            st.tuples(expression, inner).map(
                lambda t: f"{{% for i in {t[0]} %}}{t[1]}{{% endfor %}}"
            ),
            st.tuples(expression, inner).map(lambda t: f"{{% set v = {t[0]} %}}{t[1]}"),
            inner.map(lambda b: f"{{% filter upper %}}{b}{{% endfilter %}}"),
            inner.map(lambda b: f"{{% macro m() %}}{b}{{% endmacro %}}{{{{ m() }}}}"),
        )

    leaf = st.one_of(
        st.sampled_from(TEXTS),
        expression.map(lambda e: f"{{{{ {e} }}}}"),
        st.text(alphabet="{}%#|~*._()'\" abxŁ\n", max_size=30),  # broken syntax
        st.tuples(st.sampled_from("{([|~"), st.integers(50, 3000)).map(lambda t: t[0] * t[1]),
    )
    return st.recursive(leaf, extend, max_leaves=10)


def _language_sources() -> st.SearchStrategy[str]:
    """Sources mostly inside the language, so many are accepted and rendered."""
    text_names = st.sampled_from(["patient_name", "clinic_name", "medicine_name", "location"])
    dates = st.sampled_from(["due_at", "starts_at"])
    quoted = st.sampled_from(TEXTS).map(repr)
    small = st.integers(0, 300).map(str)
    filtered = st.one_of(
        st.tuples(dates, st.sampled_from(sorted(lang.DATE_FORMATS))).map("|".join),
        st.tuples(dates, st.sampled_from(["date", "time", "datetime"])).flatmap(
            lambda t: st.sampled_from(["short", "medium", "long", "full", "x"]).map(
                lambda f: f"{t[0]}|{t[1]}({f!r})"
            )
        ),
        text_names,
        quoted,
    )

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(
                inner, st.sampled_from(["upper", "lower", "title", "trim", "capitalize"])
            ).map("|".join),
            st.tuples(inner, quoted, quoted).map(lambda t: f"{t[0]}|replace({t[1]}, {t[2]})"),
            st.tuples(inner, small, quoted).map(lambda t: f"{t[0]}|truncate({t[1]}, True, {t[2]})"),
            st.tuples(inner, quoted).map(lambda t: f"{t[0]}|default({t[1]})"),
            st.tuples(inner, inner).map(lambda t: f"({t[0]} ~ {t[1]})"),
            st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} if {t[1]} == {t[2]} else '')"),
        )

    expression = st.recursive(filtered, extend, max_leaves=6)
    part = st.one_of(st.sampled_from(TEXTS), expression.map(lambda e: f"{{{{ {e} }}}}"))
    body = st.lists(part, min_size=1, max_size=6).map("".join)
    return st.one_of(
        body,
        st.tuples(text_names, quoted, body, body).map(
            lambda t: f"{{% if {t[0]} != {t[1]} %}}{t[2]}{{% else %}}{t[3]}{{% endif %}}"
        ),
    )


TALLY: Counter[str] = Counter()


@pytest.fixture(scope="module")
def renderer() -> TemplateRenderer:
    return TemplateRenderer()


@settings(
    max_examples=int(os.environ.get("TEMPLATE_FUZZ_EXAMPLES", "1500")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(source=st.one_of(_sources(), _language_sources()))
def test_the_check_never_crashes_and_what_it_accepts_renders_within_its_bound(
    renderer: TemplateRenderer, source: str
) -> None:
    checked = lang.check(source, ALLOWED)  # must not raise, whatever the source
    TALLY["tried"] += 1
    if not checked.ok:
        assert checked.problems and checked.bound is None
        assert all(isinstance(p, str) and p for p in checked.problems)
        return
    TALLY["accepted"] += 1
    assert checked.bound is not None
    text = renderer.render_custom(source, _worst_values(), "console", allowed=ALLOWED).text
    units = lang.utf16_units(text)
    assert units <= checked.bound.units <= lang.MAX_TEMPLATE_UNITS, (source, units)


def teardown_module() -> None:
    """The counts for the report (shown with -s)."""
    print(f"\ntemplate fuzz: {TALLY['tried']} sources tried, {TALLY['accepted']} accepted")
