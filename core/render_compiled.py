"""Built-in templates compiled into direct Python functions: the renderer's common case (issue 20).

A built-in message template (``templates/<locale>/<kind>.<channel>.j2`` and the layout it
extends) is turned, once per file, into one plain function per block (``text``, ``html``,
``subject``, ``labels``, ``inline_replies``): the template's literal text as constants, each
``{{ value }}`` formatted by the same filters the general renderer uses, ``{% if %}`` as Python
conditionals. A message then costs a few dictionary reads and string joins, not a Jinja context,
a walk of the layout and a generator per block.

Only a small subset compiles, the one the built-in files use: text, ``{{ name }}``, the filters
``time``, ``date``, ``datetime``, ``weekday``, ``hour_article`` and ``default`` with literal
arguments, the tests ``defined``, ``undefined`` and ``none``, ``not``/``and``/``or``,
comparisons, ``x if c else y``, and ``{% if %}``/``{% elif %}``/``{% else %}``. A template
with anything else (a loop, ``set``, a macro, ``super()``, another filter, a computed
``extends``, a Jinja global) is not compiled: :func:`compile_template` returns None and the
general renderer renders it, as before.

Semantics held to the general renderer's (``StrictUndefined``, autoescape for ``html`` only):
a variable that is missing where Jinja would raise raises ``KeyError`` here, and the caller then
renders the message the general way, which raises Jinja's own error (or, should the two ever
disagree, gives the general renderer's output): the compiled function is never the one that
decides an error. ``html`` escapes every value with MarkupSafe's ``escape``, as Jinja's
autoescape does, so a patient named ``<b>`` or ``&`` never adds markup to a Telegram message.
``tests/unit/test_render_compiled.py`` holds the output byte for byte to the general renderer
over every built-in template, locale and channel and generated values.

Why generated source and not closures: a block is one expression (about a microsecond), where
a tree of closures costs a call per node. Nothing of a template's text becomes code: literal
text, variable names and literal arguments enter the source only as ``repr()`` of strings and
numbers; filters and tests are taken from a fixed table, by identity with the functions the
general renderer's environment holds; the code runs with no builtins. Jinja compiles the same
files into Python the same way. Clinicians' templates (:meth:`TemplateRenderer.render_custom`)
are data and are never compiled here: they run in Jinja's sandbox.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, TemplateError, nodes
from jinja2 import filters as jinja_filters
from jinja2 import tests as jinja_tests
from markupsafe import escape

from core.template_filters import FILTERS

# The blocks a built-in template can fill (templates/_message.j2).
BLOCKS = ("subject", "text", "html", "labels", "inline_replies")
# Blocks rendered with autoescape (the renderer's HTML environment); the others as plain text.
ESCAPED_BLOCKS = frozenset({"html"})

Block = Callable[[Mapping[str, Any]], str]

# Filters that read the context only through ``ctx.get("timezone")`` and ``ctx.get("locale")``
# (core.template_filters): called with the message's values in place of a Jinja context, which
# holds exactly those values (the renderer always sets both keys).
_CONTEXT_FILTERS = ("time", "date", "datetime", "weekday", "hour_article")
_DEFAULT_FILTERS = ("default", "d")
_TESTS = {
    "defined": jinja_tests.test_defined,
    "undefined": jinja_tests.test_undefined,
    "none": jinja_tests.test_none,
}
_COMPARISONS = {
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "lteq": "<=",
    "gt": ">",
    "gteq": ">=",
    "in": "in",
    "notin": "not in",
}
# Names a block may not read: set by the layout or Jinja itself, not by the message's values.
_RESERVED = frozenset({"section", "self", "loop", "caller", "varargs", "kwargs", "super"})
_MISSING = object()


class NotCompilable(Exception):
    """Part of a template is outside the compiled subset (the general renderer renders it)."""


@dataclass(frozen=True, slots=True)
class CompiledTemplate:
    """One built-in template's blocks as functions of the message's values.

    ``blocks`` maps each block name of :data:`BLOCKS` to its function; a block no template of
    the chain defines renders "". A function raises (``KeyError`` on a missing variable) where
    the general renderer may raise: the caller then renders the general way. ``literal`` holds
    the blocks whose text is fixed (the labels, the replies an SMS text asks for), with that
    text (their functions return it).
    """

    name: str
    blocks: dict[str, Block]
    literal: dict[str, str]


def compile_template(
    text_env: Environment, html_env: Environment, name: str
) -> CompiledTemplate | None:
    """``name``'s inheritance chain compiled, or None when any part of it is outside the subset.

    ``text_env`` and ``html_env`` are the renderer's plain and autoescaping environments (the
    same loader and filters): the chain is read from the loader and parsed as they parse it
    (whitespace control included), and a filter or test compiles only if the environment of
    its block holds the very function the subset knows.
    """
    try:
        definitions = _chain_blocks(text_env, name)
        blocks: dict[str, Block] = {}
        literal: dict[str, str] = {}
        for block in BLOCKS:
            env = html_env if block in ESCAPED_BLOCKS else text_env
            body = definitions.get(block, [])
            compiler = _Compiler(env, escaped=block in ESCAPED_BLOCKS)
            source = compiler.body(body)
            constant = literal_text(body)
            if constant is not None:
                literal[block] = constant
            blocks[block] = compiler.function(source, f"{name}:{block}")
    except (NotCompilable, TemplateError, RecursionError, SyntaxError):
        # SyntaxError: generated code nested past the parser's limit (a very deep {% if %}).
        # A template that does not compile is rendered by Jinja, never refused.
        return None
    return CompiledTemplate(name=name, blocks=blocks, literal=literal)


# --------------------------------------------------------------------------------------------
# The chain


def _chain_blocks(env: Environment, name: str) -> dict[str, list[nodes.Node]]:
    """The body of each block in effect for ``name`` (the most derived definition), after
    checking that nothing outside the blocks can print, set a variable or raise: the general
    renderer runs each template's top level with ``section`` None before it renders a block."""
    found: dict[str, list[nodes.Node]] = {}
    seen: set[str] = set()
    current: str | None = name
    while current is not None:
        if current in seen:
            raise NotCompilable(f"{current} extends itself")
        seen.add(current)
        if env.loader is None:
            raise NotCompilable("no loader")
        source, _, _ = env.loader.get_source(env, current)
        tree = env.parse(source, current)
        parent: str | None = None
        for node in tree.body:
            if isinstance(node, nodes.Extends):
                if parent is not None or not isinstance(node.template, nodes.Const):
                    raise NotCompilable("a computed or repeated extends")
                parent = str(node.template.value)
            else:
                _check_top_level(node)
        for block in tree.find_all(nodes.Block):
            if block.required or block.scoped:
                raise NotCompilable(f"block {block.name} is required or scoped")
            found.setdefault(block.name, block.body)
        current = parent
    unknown = set(found) - set(BLOCKS)
    if unknown:
        raise NotCompilable(f"blocks the renderer does not know: {sorted(unknown)}")
    return found


def _check_top_level(node: nodes.Node) -> None:
    """A statement outside the blocks that prints nothing the renderer uses and, with
    ``section`` None, neither sets nor raises anything: literal text, a block, or an ``if``
    on ``section == 'literal'`` (or on ``false``) around such statements or ``self.block()``."""
    if isinstance(node, nodes.Block):
        return
    if isinstance(node, nodes.Output):
        if all(isinstance(child, nodes.TemplateData) for child in node.nodes):
            return
        raise NotCompilable("a value printed outside the blocks")
    if isinstance(node, nodes.If) and _dead_with_no_section(node.test):
        for branch in node.elif_:
            if not _dead_with_no_section(branch.test):
                raise NotCompilable("a layout condition on more than the section")
        for child in node.else_:
            _check_top_level(child)
        return  # the branches never run with section None
    raise NotCompilable(f"a {type(node).__name__} outside the blocks")


def _dead_with_no_section(test: nodes.Node) -> bool:
    """True when ``test`` is false whatever the values, with ``section`` None."""
    if isinstance(test, nodes.Const):
        return test.value is False
    return (
        isinstance(test, nodes.Compare)
        and isinstance(test.expr, nodes.Name)
        and test.expr.name == "section"
        and len(test.ops) == 1
        and test.ops[0].op == "eq"
        and isinstance(test.ops[0].expr, nodes.Const)
        and test.ops[0].expr.value is not None
    )


def literal_text(body: list[nodes.Node]) -> str | None:
    """The text of a block body that is only literal text, else None."""
    parts = []
    for node in body:
        if not isinstance(node, nodes.Output):
            return None
        for child in node.nodes:
            if not isinstance(child, nodes.TemplateData):
                return None
            parts.append(child.data)
    return "".join(parts)


# --------------------------------------------------------------------------------------------
# Code generation


class _Compiler:
    """One block body into the source of one Python expression over ``_v`` (the values)."""

    def __init__(self, env: Environment, *, escaped: bool) -> None:
        self.env = env
        self.escaped = escaped
        self.names: dict[str, Any] = {
            "_str": str,
            "_escape": _escaped,
            "_MISSING": _MISSING,
            "_default": jinja_filters.do_default,
        }

    def function(self, expression: str, label: str) -> Block:
        """The compiled function (label: the template and block, for tracebacks). Its result
        is a plain ``str`` even when the block is one escaped value (``escape`` gives Markup,
        whose methods would escape the renderer's own arguments later)."""
        if self.escaped:
            expression = f"''.join(({expression},))"
        source = f"def _block(_v):\n    return {expression}\n"
        scope: dict[str, Any] = {"__builtins__": {}, **self.names}
        exec(compile(source, f"<compiled {label}>", "exec"), scope)  # noqa: S102 (see module docstring)
        block: Block = scope["_block"]
        return block

    # -- statements ----------------------------------------------------------------------------

    def body(self, statements: list[nodes.Node]) -> str:
        parts: list[str] = []
        for node in statements:
            if isinstance(node, nodes.Output):
                parts.extend(self.output(child) for child in node.nodes)
            elif isinstance(node, nodes.If):
                parts.append(self.conditional(node))
            else:
                raise NotCompilable(f"a {type(node).__name__} in a block")
        return _joined(parts)

    def output(self, node: nodes.Node) -> str:
        if isinstance(node, nodes.TemplateData):
            return repr(node.data)  # never escaped: the template's own markup
        value = self.expression(node)
        return f"_escape({value})" if self.escaped else f"_str({value})"

    def conditional(self, node: nodes.If) -> str:
        otherwise = self.body(node.else_)
        for branch in reversed(node.elif_):
            otherwise = (
                f"({self.body(branch.body)} if {self.expression(branch.test)} else {otherwise})"
            )
        return f"({self.body(node.body)} if {self.expression(node.test)} else {otherwise})"

    # -- expressions ---------------------------------------------------------------------------

    def expression(self, node: nodes.Node) -> str:
        if isinstance(node, nodes.Name):
            return f"_v[{self.name(node)}]"
        if isinstance(node, nodes.Const):
            return self.constant(node.value)
        if isinstance(node, nodes.Filter):
            return self.filter(node)
        if isinstance(node, nodes.Test):
            return self.test(node)
        if isinstance(node, nodes.Not):
            return f"(not {self.expression(node.node)})"
        if isinstance(node, nodes.And):
            return f"({self.expression(node.left)} and {self.expression(node.right)})"
        if isinstance(node, nodes.Or):
            return f"({self.expression(node.left)} or {self.expression(node.right)})"
        if isinstance(node, nodes.CondExpr) and node.expr2 is not None:
            chosen, test = self.expression(node.expr1), self.expression(node.test)
            return f"({chosen} if {test} else {self.expression(node.expr2)})"
        if isinstance(node, nodes.Compare):
            text = self.expression(node.expr)
            for operand in node.ops:
                operator = _COMPARISONS.get(operand.op)
                if operator is None:
                    raise NotCompilable(f"the comparison {operand.op}")
                text += f" {operator} {self.expression(operand.expr)}"
            return f"({text})"
        raise NotCompilable(f"a {type(node).__name__} expression")

    def name(self, node: nodes.Name) -> str:
        """The dictionary key of a variable, as source."""
        if node.ctx != "load" or node.name in _RESERVED or node.name in self.env.globals:
            # A global (range, namespace...) would be found by Jinja where _v has no key.
            raise NotCompilable(f"the name {node.name}")
        return repr(node.name)

    def constant(self, value: Any) -> str:
        if value is None or isinstance(value, bool | int | str):
            return repr(value)
        raise NotCompilable(f"the literal {value!r}")

    def literal_args(self, node: nodes.Filter | nodes.Test) -> list[str]:
        if node.kwargs or node.dyn_args or node.dyn_kwargs:
            raise NotCompilable(f"{node.name} with keyword or dynamic arguments")
        args = []
        for arg in node.args:
            if not isinstance(arg, nodes.Const):
                raise NotCompilable(f"{node.name} with a computed argument")
            args.append(self.constant(arg.value))
        return args

    def filter(self, node: nodes.Filter) -> str:
        if node.node is None:
            raise NotCompilable("a filter block")
        args = self.literal_args(node)
        function = self.env.filters.get(node.name)
        if node.name in _DEFAULT_FILTERS and function is jinja_filters.do_default:
            return self.default(node.node, args)
        if node.name in _CONTEXT_FILTERS:
            # Only the very functions the renderer registers: they read the context by .get().
            if function is None or function is not FILTERS.get(node.name):
                raise NotCompilable(f"the {node.name} filter is not the renderer's")
            bound = f"_filter_{node.name}"
            self.names[bound] = function
            return f"{bound}(_v, {', '.join([self.expression(node.node), *args])})"
        raise NotCompilable(f"the {node.name} filter")

    def default(self, value: nodes.Node, args: list[str]) -> str:
        """``value|default(d, boolean)``: ``d`` when ``value`` is undefined (or, with
        ``boolean``, false), else ``value``, as Jinja's ``do_default``."""
        if len(args) > 2:
            raise NotCompilable("default with more than two arguments")
        fallback = args[0] if args else "''"
        boolean = args[1] if len(args) > 1 else "False"
        if isinstance(value, nodes.Name):
            key = self.name(value)
            if boolean == "False":
                return f"_v.get({key}, {fallback})"
            # A missing value reads as None, which is false: the default, as for Undefined.
            return f"_default(_v.get({key}), {fallback}, {boolean})"
        # Anything else is defined (no expression of the subset yields Undefined).
        return f"_default({self.expression(value)}, {fallback}, {boolean})"

    def test(self, node: nodes.Test) -> str:
        if node.args or node.kwargs or node.dyn_args or node.dyn_kwargs:
            raise NotCompilable(f"the test {node.name} with arguments")
        expected = _TESTS.get(node.name)
        if expected is None or self.env.tests.get(node.name) is not expected:
            raise NotCompilable(f"the test {node.name}")
        if isinstance(node.node, nodes.Name):
            key = self.name(node.node)
            if node.name == "defined":
                return f"({key} in _v)"
            if node.name == "undefined":
                return f"({key} not in _v)"
            return f"(_v.get({key}, _MISSING) is None)"
        # Evaluated as Jinja evaluates it (it may raise); no expression of the subset yields
        # Undefined, so it is defined (never the private sentinel).
        operator = {"none": "is", "defined": "is not", "undefined": "is"}[node.name]
        sentinel = "None" if node.name == "none" else "_MISSING"
        return f"({self.expression(node.node)} {operator} {sentinel})"


def _escaped(value: Any) -> str:
    """``value`` escaped as Jinja's autoescape escapes it (MarkupSafe's ``escape``), as a plain
    string: a text is replaced in place (MarkupSafe's own replacements, in its order) rather
    than wrapped in a ``Markup`` per value; anything else goes through ``escape`` itself."""
    if type(value) is str:
        return (
            value.replace("&", "&amp;")
            .replace(">", "&gt;")
            .replace("<", "&lt;")
            .replace("'", "&#39;")
            .replace('"', "&#34;")
        )
    return escape(value)


def _joined(parts: list[str]) -> str:
    if not parts:
        return "''"
    if len(parts) == 1:
        return parts[0]
    return f"''.join(({', '.join(parts)},))"
