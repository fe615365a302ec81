"""The problem messages for what the clinician template language refuses.

:func:`statement_problem` and :func:`expression_problem` name a refused Jinja node (a loop, a
``{% set %}``, arithmetic, an attribute access...) and say what to do instead; the checker in
:mod:`core.template_language` puts the line in front.
"""

from __future__ import annotations

from jinja2 import nodes

from core.template_vocabulary import FILTERS

ARITHMETIC = {
    nodes.Add: "+",
    nodes.Sub: "-",
    nodes.Mul: "*",
    nodes.Div: "/",
    nodes.FloorDiv: "//",
    nodes.Mod: "%",
    nodes.Pow: "**",
    nodes.Neg: "unary -",
    nodes.Pos: "unary +",
}


def statement_problem(node: nodes.Node) -> str:
    """Why a statement is refused, and what to write instead."""
    if isinstance(node, nodes.For):
        return "loops ({% for %}) are not allowed: a template prints each variable once"
    if isinstance(node, nodes.Include | nodes.Extends | nodes.Import | nodes.FromImport):
        return "including or importing other templates is not allowed"
    if isinstance(node, nodes.Assign | nodes.AssignBlock):
        return "{% set %} is not allowed: print the variables directly"
    if isinstance(node, nodes.Macro | nodes.CallBlock):
        return "macros and {% call %} are not allowed"
    if isinstance(node, nodes.FilterBlock):
        return "{% filter %} blocks are not allowed: apply the filter to a variable"
    if isinstance(node, nodes.Block):
        return "{% block %} is not allowed"
    name = type(node).__name__.lower()
    return f"the '{name}' statement is not allowed (only text, {{{{ }}}} and {{% if %}})"


def expression_problem(node: nodes.Node) -> str:
    """Why an expression is refused, and what to write instead."""
    if isinstance(node, nodes.Getattr):
        hint = f"; use the filter: |{node.attr}" if node.attr in FILTERS else ""
        return (
            f"access to attribute '{node.attr}' is not allowed (templates may only print "
            f"variables{hint})"
        )
    if isinstance(node, nodes.Getitem):
        arg = node.arg
        shown = arg.value if isinstance(arg, nodes.Const) else "..."
        return f"access to item '{shown}' is not allowed (templates may only print variables)"
    if isinstance(node, nodes.Call):
        return "calling functions or methods is not allowed (use a filter such as |upper instead)"
    for kind, symbol in ARITHMETIC.items():
        if isinstance(node, kind):
            return f"arithmetic ('{symbol}') is not allowed: templates print text, use ~ to join"
    if isinstance(node, nodes.Tuple | nodes.List | nodes.Dict):
        return "lists, tuples and dicts are not allowed"
    if isinstance(node, nodes.Slice):
        return "slices are not allowed"
    return f"'{type(node).__name__}' is not allowed in a template"
