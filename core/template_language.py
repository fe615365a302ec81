"""The clinician template language: a small subset of Jinja2 that can be checked without running it.

A clinician template may contain text, ``{{ expression }}``, ``{% if %}`` / ``{% elif %}`` /
``{% else %}``, comments and ``{% raw %}``. An expression is an allowed variable, a string or number
literal, ``a ~ b``, ``x if c else y``, a comparison (``==  !=  <  >  <=  >=  in  not in``),
``and`` / ``or`` / ``not``, ``is defined`` / ``is undefined`` / ``is none``, and the filters of
:data:`FILTERS` with literal arguments. Everything else is refused by :func:`check` with a problem
naming it and its line: loops, ``{% set %}``, macros, blocks, ``{% filter %}``, includes,
arithmetic (``*``, ``**``, ``+``, ``%``...), attribute and item access (``name.upper``,
``name[0]``), calls, list and dict literals, ``self`` and Jinja's globals.

Why this is enough to bound a render: nothing repeats, and every filter's output is bounded by its
input and its literal arguments (``replace`` needs a non-empty literal to find). So
:func:`check` also computes the longest text a template can produce (:class:`Bound`), with each
variable at its maximum (:data:`VARIABLES`: the renderer shortens longer values to that, see
:func:`clamp`) and each date format at the longest that the common locales spell it
(:data:`DATE_FORMATS`; longer spellings are shortened too). The text is counted in UTF-16 units
and, for SMS, as UCS-2 as soon as a variable is in it: one "Ł" in a name makes a whole SMS UCS-2.
Case filters count one unit per unit of their input; the few letters whose capital is longer
("ß" -> "SS") can make a message longer than its bound, and the dispatcher then sends it another
way (the built-in text or the next channel) and says why on the row.

The language's definitions live in :mod:`core.template_vocabulary` (variables, filters, limits)
and its length accounting in :mod:`core.template_measure` (:class:`Bound`, :func:`clamp`), the
messages for refused parts in :mod:`core.template_problems`; this module is the static check, and
re-exports the first two so callers import from one place.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import TemplateSyntaxError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from core.template_measure import (
    ELLIPSIS,
    GSM7,
    GSM7_BASIC,
    GSM7_EXTENSION,
    NOTHING,
    UCS2,
    Bound,
    OutputCapExceeded,
    clamp,
    gsm_septets,
    iter_capped,
    utf16_units,
)
from core.template_problems import expression_problem, statement_problem
from core.template_vocabulary import (
    DATE_FORMATS,
    DATETIME,
    DEFAULT_DATE_FORMAT,
    DEFAULT_VARIABLE,
    FILTERS,
    MAX_LITERAL_INT,
    MAX_NESTING,
    MAX_TEMPLATE_UNITS,
    RAW_DATETIME_UNITS,
    TESTS,
    TEXT,
    TEXT_FILTERS,
    VARIABLES,
    Variable,
    clamped_values,
)

_COMPARISONS = frozenset({"eq", "ne", "in", "notin"})
# Expressions whose value is not text: True/False (a filter or ``in`` on them fails at render).
_NOT_TEXT = (nodes.Compare, nodes.Test, nodes.Not, nodes.And, nodes.Or)
_TRUNCATE_LEEWAY = 5  # Jinja's default truncate.leeway


@dataclass(frozen=True, slots=True)
class Checked:
    """What :func:`check` found: problems (empty when the template is allowed) and its bound."""

    problems: tuple[str, ...]
    bound: Bound | None  # None when there are problems

    @property
    def ok(self) -> bool:
        """True when the template may be saved and rendered."""
        return not self.problems


class _Checker:
    """Walks a template's AST: collects problems and computes the bound of what it prints."""

    def __init__(self, allowed: Mapping[str, Variable]) -> None:
        self.allowed = allowed
        self.problems: list[str] = []
        self.unknown: dict[str, int] = {}

    def refuse(self, node: nodes.Node, text: str, *, walk: bool = False) -> Bound:
        """Record a problem. ``walk``: also name every problem of the node's expressions
        (``range(9)`` in a refused loop), which no caller looked at yet; each node is walked
        once, so the check stays linear in the source however the parts nest."""
        self.problems.append(f"line {node.lineno}: {text}")
        if walk:
            for child in node.iter_child_nodes():
                if isinstance(child, nodes.Name) and child.ctx != "load":
                    continue
                if isinstance(child, nodes.Expr):
                    self.expression(child)
        return NOTHING

    # -- statements --------------------------------------------------------------------------

    def body(self, statements: Iterable[nodes.Node]) -> Bound:
        total = NOTHING
        for statement in statements:
            total = total + self.statement(statement)
        return total

    def statement(self, node: nodes.Node) -> Bound:
        if isinstance(node, nodes.Output):
            return self.body(node.nodes)
        if isinstance(node, nodes.TemplateData):
            return Bound.of(node.data)
        if isinstance(node, nodes.Expr):
            return self.printed(node)
        if isinstance(node, nodes.If):
            self.expression(node.test)
            taken = self.body(node.body)
            for branch in node.elif_:
                taken = taken.widest(self.statement(branch))
            return taken.widest(self.body(node.else_))
        return self.refuse(node, statement_problem(node), walk=True)

    # -- expressions -------------------------------------------------------------------------

    def printed(self, node: nodes.Expr) -> Bound:
        """The bound of ``{{ node }}``: its value as text."""
        value = self.expression(node)
        if isinstance(value, Variable):
            if value.kind == DATETIME:
                return Bound.variable(RAW_DATETIME_UNITS)
            return Bound.variable(value.max_units)
        return value

    def expression(self, node: nodes.Node) -> Bound | Variable:
        """A text bound, or the variable itself (filters and printing need its kind)."""
        if isinstance(node, nodes.Const):
            return self.constant(node)
        if isinstance(node, nodes.Name):
            return self.name(node)
        if isinstance(node, nodes.Filter):
            return self.filter(node)
        if isinstance(node, nodes.Concat):
            total = NOTHING
            for part in node.nodes:
                total = total + self.printed(part)
            return total
        if isinstance(node, nodes.CondExpr):
            self.expression(node.test)
            chosen = self.printed(node.expr1)
            if node.expr2 is not None:
                chosen = chosen.widest(self.printed(node.expr2))
            return chosen
        if isinstance(node, nodes.Compare):
            for side in (node.expr, *(operand.expr for operand in node.ops)):
                self.text_operand(side, "compared")
            for operand in node.ops:
                if operand.op not in _COMPARISONS:
                    listing = "==, !=, in, not in"
                    self.refuse(node, f"the comparison '{operand.op}' is not allowed ({listing})")
            return Bound.of("False")
        if isinstance(node, nodes.And | nodes.Or):
            return self.printed(node.left).widest(self.printed(node.right))
        if isinstance(node, nodes.Not):
            self.expression(node.node)
            return Bound.of("False")
        if isinstance(node, nodes.Test):
            self.expression(node.node)
            if node.name not in TESTS or node.args or node.kwargs or node.dyn_args:
                listing = ", ".join(sorted(TESTS))
                self.refuse(node, f"the test 'is {node.name}' is not allowed (allowed: {listing})")
            return Bound.of("False")
        return self.refuse(node, expression_problem(node), walk=True)

    def text_operand(self, node: nodes.Node, use: str) -> Bound | Variable:
        """``node`` where only text can be used (compared, filtered): refused otherwise."""
        value = self.expression(node)
        literal = isinstance(node, nodes.Const) and not isinstance(node.value, str)
        dated = isinstance(value, Variable) and value.kind == DATETIME
        if literal or dated or isinstance(node, _NOT_TEXT):
            self.refuse(
                node,
                f"only text can be {use} (a text variable, a quoted text, or a date formatted "
                "with |date, |time, |datetime or |weekday)",
            )
        return value

    def constant(self, node: nodes.Const) -> Bound:
        value = node.value
        if isinstance(value, bool) or value is None:
            return Bound.of(str(value))
        if isinstance(value, int) and abs(value) <= MAX_LITERAL_INT:
            return Bound.of(str(value))
        if isinstance(value, str):
            return Bound.of(value)
        return self.refuse(
            node, f"the literal {value!r} is not allowed (numbers up to {MAX_LITERAL_INT})"
        )

    def name(self, node: nodes.Name) -> Bound | Variable:
        if node.ctx != "load":
            return self.refuse(node, f"assigning to '{node.name}' is not allowed")
        variable = self.allowed.get(node.name)
        if variable is None:
            self.unknown.setdefault(node.name, node.lineno)
            return NOTHING
        return variable

    def filter(self, node: nodes.Filter) -> Bound:
        if node.node is None:  # the filter of a {% filter %} block, refused as a statement
            return NOTHING
        value = self.expression(node.node)
        if node.name not in FILTERS:
            reason = (
                "it reaches object attributes"
                if node.name == "attr"
                else f"allowed filters: {', '.join(sorted(FILTERS))}"
            )
            return self.refuse(node, f"the '{node.name}' filter is not allowed ({reason})")
        if node.kwargs or node.dyn_args or node.dyn_kwargs:
            return self.refuse(
                node, f"the '{node.name}' filter takes its arguments by position, as literals"
            )
        args = self.literal_args(node)
        if args is None:
            return NOTHING
        if node.name in DATE_FORMATS:
            return self.date_filter(node, value, args)
        if isinstance(value, Variable) and value.kind == DATETIME:
            return self.refuse(
                node,
                f"the '{node.name}' filter needs text; format a date or time first "
                f"(e.g. {{{{ due_at|time }}}})",
            )
        literal = isinstance(node.node, nodes.Const) and not isinstance(node.node.value, str)
        if literal or isinstance(node.node, _NOT_TEXT):
            return self.refuse(node, f"the '{node.name}' filter needs text")
        text = value if isinstance(value, Bound) else Bound.variable(value.max_units)
        return self.text_filter(node, text, args)

    def literal_args(self, node: nodes.Filter) -> list[Any] | None:
        expected = TEXT_FILTERS.get(node.name, (str,))
        if len(node.args) > len(expected):
            self.refuse(node, f"the '{node.name}' filter takes at most {len(expected)} arguments")
            return None
        args: list[Any] = []
        for arg, kind in zip(node.args, expected, strict=False):
            value = arg.value if isinstance(arg, nodes.Const) else None
            ok = type(value) is kind
            if ok and kind is int and not 0 <= value <= MAX_LITERAL_INT:  # type: ignore[operator]
                ok = False
            if not ok:
                self.refuse(
                    node,
                    f"the '{node.name}' filter's arguments must be literals "
                    f"({', '.join(k.__name__ for k in expected)})",
                )
                return None
            args.append(value)
        return args

    def date_filter(self, node: nodes.Filter, value: Bound | Variable, args: list[Any]) -> Bound:
        if not (isinstance(value, Variable) and value.kind == DATETIME):
            dated = ", ".join(sorted(n for n, v in self.allowed.items() if v.kind == DATETIME))
            return self.refuse(
                node,
                f"the '{node.name}' filter formats a date or time: use it on {dated or 'none'}",
            )
        formats = DATE_FORMATS[node.name]
        chosen = args[0] if args else DEFAULT_DATE_FORMAT[node.name]
        if chosen not in formats:
            listing = ", ".join(repr(f) for f in formats if f) or "none"
            return self.refuse(node, f"the '{node.name}' filter's format must be one of {listing}")
        return Bound.variable(formats[chosen])

    def text_filter(self, node: nodes.Filter, value: Bound, args: list[Any]) -> Bound:
        name = node.name
        if name in ("upper", "lower", "capitalize", "title"):
            constant = node.node.value if isinstance(node.node, nodes.Const) else None
            if isinstance(constant, str):  # the template's own text: its exact longest case
                cased = (constant.upper(), constant.lower(), constant.title())
                longest = max(utf16_units(c) for c in cased)
                return Bound(longest, None, longest)
            # The template's own letters may grow threefold; a variable's count once.
            return Bound(value.units + 2 * value.fixed, None, 3 * value.fixed)
        if name == "trim":
            return value
        if name in ("default", "d"):
            return value.widest(Bound.of(args[0]) if args else NOTHING)
        if name == "truncate":
            length = args[0] if args else 255
            end = args[2] if len(args) > 2 else "..."
            leeway = args[3] if len(args) > 3 else _TRUNCATE_LEEWAY
            if length < len(end):
                return self.refuse(node, f"the 'truncate' length must be at least {len(end)}")
            # Jinja counts characters; a character is up to two UTF-16 units (emoji).
            units = min(value.units, (1 if value.septets is not None else 2) * (length + leeway))
            return Bound(units, value.septets, min(value.fixed, units)) + Bound.of(end)
        # replace(old, new[, count]): a non-empty ``old`` replaced at most len/len(old) times.
        old, new = [*args, "", ""][:2]
        if len(args) < 2 or not old:
            return self.refuse(
                node,
                "the 'replace' filter needs the text to find and its replacement, and the text "
                "to find must not be empty (replace('', ...) would insert between every letter)",
            )
        units = math.ceil(value.units * max(1.0, utf16_units(new) / utf16_units(old)))
        new_septets = gsm_septets(new)
        if value.septets is None or new_septets is None:
            return Bound(units, None, min(units, value.fixed + units - value.units))
        # Each character found costs at least one septet.
        septets = math.ceil(value.septets * max(1.0, new_septets / len(old)))
        return Bound(units, septets, min(units, value.fixed + units - value.units))


_PARSER = ImmutableSandboxedEnvironment()


def parse(source: str) -> nodes.Template:
    """Jinja's AST of ``source`` (raises ``TemplateSyntaxError``)."""
    return _PARSER.parse(source)


def too_deep(ast: nodes.Template) -> nodes.Node | None:
    """The first part of ``ast`` nested more than :data:`MAX_NESTING` levels deep, if any.

    Walked with a list, not recursion: how deep a template nests is what is being measured."""
    waiting = [(child, 1) for child in ast.iter_child_nodes()]
    while waiting:
        node, depth = waiting.pop()
        if depth > MAX_NESTING:
            return node
        waiting.extend((child, depth + 1) for child in node.iter_child_nodes())
    return None


def check(source: str, allowed: Iterable[str]) -> Checked:
    """Check ``source`` against the language, with ``allowed`` variable names (plus ``locale``
    and ``timezone``); cached, so the dispatcher checks a stored template once per process."""
    return _check(source, tuple(sorted(set(allowed))))


@lru_cache(maxsize=1024)
def _check(source: str, allowed_names: tuple[str, ...]) -> Checked:
    if not source.strip():
        return Checked(("the template is empty",), None)
    allowed = {name: VARIABLES.get(name, DEFAULT_VARIABLE) for name in allowed_names}
    allowed.setdefault("locale", VARIABLES["locale"])
    allowed.setdefault("timezone", VARIABLES["timezone"])
    checker = _Checker(allowed)
    try:
        ast = parse(source)
        deep = too_deep(ast)
        if deep is not None:
            return Checked(
                (
                    f"line {deep.lineno}: the template is nested too deeply (more than "
                    f"{MAX_NESTING} levels of {{% if %}}, 'x if c else y', 'and', 'or', 'not' "
                    "or filters inside each other)",
                ),
                None,
            )
        bound = checker.body(ast.body)
    except TemplateSyntaxError as exc:
        return Checked((f"line {exc.lineno}: syntax error: {exc.message}",), None)
    except RecursionError:  # Jinja's parser (and this walk) recurse once per nesting level
        return Checked(("the template is nested too deeply (brackets, 'not' or filters)",), None)
    problems = list(dict.fromkeys(checker.problems))
    listing = ", ".join(n for n in allowed_names if n not in ("locale", "timezone")) or "none"
    for name, line in sorted(checker.unknown.items(), key=lambda item: (item[1], item[0])):
        problems.append(f"line {line}: unknown variable '{name}' (allowed variables: {listing})")
    if not problems and bound.units > MAX_TEMPLATE_UNITS:
        problems.append(
            f"at worst {bound.units} characters, at most {MAX_TEMPLATE_UNITS} allowed "
            "(every variable at its longest)"
        )
    return Checked(tuple(problems), None if problems else bound)


@lru_cache(maxsize=1024)
def variables_used(source: str) -> frozenset[str]:
    """The variable names ``source`` reads (none when it does not parse: rendering then fails
    with the syntax error itself)."""
    try:
        return frozenset(node.name for node in parse(source).find_all(nodes.Name))
    except (TemplateSyntaxError, RecursionError):
        return frozenset()


def unknown_only(checked: Checked) -> bool:
    """True when every problem is an unknown variable (the render raises UndefinedError then)."""
    return bool(checked.problems) and all("unknown variable" in p for p in checked.problems)


__all__ = [
    "DATETIME",
    "DATE_FORMATS",
    "DEFAULT_DATE_FORMAT",
    "DEFAULT_VARIABLE",
    "ELLIPSIS",
    "FILTERS",
    "GSM7",
    "GSM7_BASIC",
    "GSM7_EXTENSION",
    "MAX_LITERAL_INT",
    "MAX_NESTING",
    "MAX_TEMPLATE_UNITS",
    "NOTHING",
    "RAW_DATETIME_UNITS",
    "TESTS",
    "TEXT",
    "TEXT_FILTERS",
    "UCS2",
    "VARIABLES",
    "Bound",
    "Checked",
    "OutputCapExceeded",
    "Variable",
    "check",
    "clamp",
    "clamped_values",
    "gsm_septets",
    "iter_capped",
    "parse",
    "unknown_only",
    "utf16_units",
    "variables_used",
]
