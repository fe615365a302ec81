"""Message templates: built-in texts per locale and channel, and clinician-authored ones.

Built-in templates live in ``templates/<locale>/<kind>.<channel>.j2``. A missing channel file
falls back to ``<kind>.default.j2``; a missing locale falls back to English. Every template extends
``_message.j2`` and fills some of these blocks::

    subject         e-mail subject (one line)
    text            plain text; every channel can show it
    html            optional Telegram-subset HTML (<b>, <i>); e-mail wraps it in a page
    labels          optional ``key: Label`` lines naming the options (taken, snooze, confirm...)
    inline_replies  the replies ``text`` itself asks for, one per option (SMS "reply C, R or X"),
                    so the options are not added again as numbered replies

Variables are escaped where it matters: the ``html`` block is rendered with autoescape, so a patient
named ``<b>Ann</b>`` reaches Telegram as ``&lt;b&gt;Ann&lt;/b&gt;``; ``text`` is never escaped.

Built-in templates are compiled once per file into direct functions (:mod:`core.render_compiled`:
no Jinja context per message); a file outside the compiled subset, or any message a compiled
block cannot render, is rendered by Jinja, with the same result byte for byte.

Clinician templates (from the database) are plain text in a small language
(:mod:`core.template_language`: variables, a few filters, ``{% if %}``; no loops, arithmetic,
attributes or calls), checked without running it. :meth:`TemplateRenderer.validate_custom` checks
one at save time, with its worst-case length on the channel, and says exactly what is wrong;
:meth:`TemplateRenderer.render_custom` checks it again (cached) before rendering it in an
``ImmutableSandboxedEnvironment`` with ``StrictUndefined`` and an output cap, so a template stored
around the checks can neither run long nor print internals.

Channel limits, applied at render time (:class:`MessageTooLong`, a ``ValueError``):
SMS ``sms_max_segments`` segments, WhatsApp 1,600 characters. Telegram texts over 4,096 characters
are split by the Telegram adapter, so built-in renders do not refuse them; clinician templates must
fit one Telegram message. E-mail subjects are cut to one line of at most 120 characters.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple, Protocol
from uuid import UUID
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from jinja2 import (
    Environment,
    StrictUndefined,
    Template,
    TemplateNotFound,
    nodes,
)
from jinja2.exceptions import SecurityError, TemplateError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from core import template_language as lang
from core.answer_buttons import answers_dose_or_appointment, default_options
from core.direction_controls import unclosed_direction_control
from core.gsm7_templates import Gsm7Loader, sms_name
from core.message_limits import (
    DEFAULT_SMS_MAX_SEGMENTS as DEFAULT_SMS_MAX_SEGMENTS,
)
from core.message_limits import (
    EMAIL_SUBJECT_MAX_CHARS as EMAIL_SUBJECT_MAX_CHARS,
)
from core.message_limits import GSM7 as GSM7
from core.message_limits import TELEGRAM_MAX_CHARS as TELEGRAM_MAX_CHARS
from core.message_limits import UCS2 as UCS2
from core.message_limits import WHATSAPP_MAX_CHARS as WHATSAPP_MAX_CHARS
from core.message_limits import MessageTooLong as MessageTooLong
from core.message_limits import channel_limit_problem as channel_limit_problem
from core.message_limits import count_segments as count_segments
from core.message_limits import format_numbered_options as format_numbered_options
from core.message_limits import match_numbered_reply as match_numbered_reply
from core.message_limits import with_numbered_options as with_numbered_options
from core.messages import Channel, Option, OutboundMessage, new_option, new_outbound_message
from core.render_compiled import (
    ESCAPED_BLOCKS,
    CompiledTemplate,
    compile_template,
    literal_text,
)
from core.sms_fit import shorter_values
from core.template_filters import FALLBACK_LOCALE as FALLBACK_LOCALE
from core.template_filters import _add_filters, _babel_format, _clinician_filters, plain_spaces
from core.template_filters import babel_locale as babel_locale
from core.template_language import Bound

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"
DEFAULT_CHANNEL = "default"

# Every built-in message kind; each has at least ``en/<kind>.default.j2``.
KINDS: tuple[str, ...] = (
    "medication_reminder",
    "dose_followup",
    "missed_dose_caregiver",
    "caregiver_dose_update",
    "appointment_confirmation",
    "appointment_reminder",
    "appointment_cancelled",
    "appointment_rescheduled",
    "refill_reminder",
    "free_text",
)


_NOT_YET: Any = object()  # a template not looked at for compiling yet
# Channels as plain strings for the per-message checks (an Enum member's lookup costs ~0.1 us
# on Python 3.11, several per message; issue 20).
_TELEGRAM, _EMAIL, _WHATSAPP = Channel.TELEGRAM.value, Channel.EMAIL.value, Channel.WHATSAPP.value
_SMS = Channel.SMS.value
_HTML_CHANNELS = frozenset({Channel.TELEGRAM.value, Channel.EMAIL.value})
_LIMITED_CHANNELS = frozenset({Channel.SMS.value, Channel.WHATSAPP.value})

# Defaults merged under the caller's variables: privacy-preserving unless the caller opts in.
_KIND_DEFAULTS: dict[str, Any] = {"name_medicine": False, "share_details": False}

# What a clinician template always has, besides the allowed variables.
_IMPLICIT_VARIABLES = frozenset({"locale", "timezone"})
# A nonce id for computing which answer buttons a kind offers (their labels' length).
_ANY_ID = UUID(int=0)


class TemplateNotAllowed(SecurityError):
    """A clinician template outside the template language (refused before it runs)."""


class UnknownTemplate(LookupError):
    """No template exists for a kind in any locale or channel fallback."""


# --------------------------------------------------------------------------------------------
# The renderer


class TemplateRenderer:
    """Renders built-in and clinician templates into :class:`OutboundMessage` for one channel."""

    def __init__(
        self,
        templates_dir: Path | str | None = None,
        *,
        sms_max_segments: int = DEFAULT_SMS_MAX_SEGMENTS,
        auto_reload: bool = False,
        app_url: str | None = None,
    ) -> None:
        """``auto_reload``: see edited template files without a restart (``medremind dev``).
        Off, each file is read and compiled once and no message stats the disk.

        ``app_url``: the patient web app (``PUBLIC_BASE_URL`` + ``/app/``). An e-mail that offers
        answers names it as the place to give them (no e-mail is read back)."""
        self.templates_dir = Path(templates_dir) if templates_dir else TEMPLATES_DIR
        self.sms_max_segments = sms_max_segments
        self.auto_reload = auto_reload
        self.app_url = app_url
        loader = Gsm7Loader(str(self.templates_dir))
        common: dict[str, Any] = {
            "loader": loader,
            "undefined": StrictUndefined,
            "trim_blocks": True,
            "lstrip_blocks": True,
            "auto_reload": auto_reload,
        }
        self._text_env = _add_filters(Environment(autoescape=False, **common))  # noqa: S701
        self._html_env = _add_filters(Environment(autoescape=True, **common))
        self._sandbox = _clinician_filters(
            _add_filters(ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False))
        )
        # Clinician templates see only the variables we pass: none of Jinja's globals (range,
        # lipsum, dict, cycler, joiner, namespace), which would print internals or burn CPU.
        self._sandbox.globals.clear()
        # Compiling costs far more than rendering: a worker renders the same few sources.
        self._compile = lru_cache(maxsize=512)(self._sandbox.from_string)
        self._options_bounds: dict[str, Bound] = {}
        # Without auto-reload the files never change under us: names and labels are kept.
        self._names: dict[tuple[str, str, str], str] = {}
        self._labels: dict[tuple[str, str, str], dict[str, str]] = {}
        self._chains: dict[tuple[bool, str], tuple[Template, _Chain]] = {}
        # Built-in templates as direct functions (core.render_compiled), by file. ``compiled``
        # False renders every message with Jinja (bench/render.py --general measures both).
        self.compiled = True
        self._compiled: dict[str, CompiledTemplate | None] = {}

    # -- built-in templates ----------------------------------------------------------------

    def template_name(self, kind: str, locale: str, channel: str) -> str:
        """The file used for ``kind`` in ``locale`` on ``channel``, after fallbacks."""
        channel = str(channel)
        key = (kind, locale, channel)
        found = self._names.get(key)
        if found is None:
            found = self._find_template(kind, locale, channel)
            if not self.auto_reload:
                self._names[key] = found
        return found

    def _find_template(self, kind: str, locale: str, channel: str) -> str:
        language = locale.replace("-", "_").split("_")[0].lower()
        for loc in dict.fromkeys((locale, language, FALLBACK_LOCALE)):
            for chan in (channel, DEFAULT_CHANNEL):
                name = f"{loc}/{kind}.{chan}.j2"
                if (self.templates_dir / name).is_file():
                    if channel == _SMS:
                        # Our wording in GSM-7's letters (core.gsm7_templates).
                        return sms_name(self._text_env, name)
                    return name
        raise UnknownTemplate(f"no template for kind {kind!r} (locale {locale!r})")

    def warm(self) -> int:
        """Do now what the first message of each built-in kind, locale and channel would do:
        find its template file and compile it, and load Babel's data for the shipped locales.

        ``medremind worker`` calls it once set up (before it freezes its heap for the garbage
        collector), so the first 08:00 after a start does not pay for it in its first messages:
        ~30-40 ms of CPU in the burst of bench/dispatch.py scenario 11 (issue 20). Returns the
        number of templates compiled; nothing is done when files are reloaded (``auto_reload``).
        """
        if self.auto_reload:
            return 0
        compiled = 0
        sample = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
        for locale in self.locales():
            tag = babel_locale(locale)
            _babel_format(format_date, sample, "medium", tag)
            _babel_format(format_time, sample, "short", tag)
            for kind in KINDS:
                for channel in Channel:
                    try:
                        name = self.template_name(kind, locale, channel.value)
                    except UnknownTemplate:
                        continue
                    if name not in self._compiled:
                        compiled += self.compiled_template(name) is not None
        return compiled

    def locales(self) -> list[str]:
        """Locales that have a template folder."""
        return sorted(
            p.name for p in self.templates_dir.iterdir() if p.is_dir() and p.name[0] not in "._"
        )

    def render(
        self,
        kind: str,
        locale: str,
        channel: Channel | str,
        variables: Mapping[str, Any],
        *,
        options: Sequence[Option | tuple[str, str]] = (),
        message_id: str | None = None,
        shorten: bool = True,
    ) -> OutboundMessage:
        """Render built-in ``kind`` for ``channel``.

        ``options`` are :class:`Option` objects, or ``(key, data)`` pairs whose label comes from the
        template's ``labels`` block (so "taken" reads "Tomada" in Spanish). An SMS over
        ``sms_max_segments`` is rendered again with shorter names and medicine
        (:func:`core.sms_fit.shorter_values`; ``shorten`` False: not). Raises
        :class:`MessageTooLong` over the channel's limit and Jinja's ``UndefinedError`` when a
        variable the template needs is missing.
        """
        channel = str(channel)
        name = self.template_name(kind, locale, channel)
        values = {**_KIND_DEFAULTS, **variables, "locale": locale}
        values.setdefault("timezone", None)

        # Loops rather than generators: a generator costs ~0.3 us per message here (issue 20).
        needs_labels = False
        for opt in options:
            if not isinstance(opt, Option):
                needs_labels = True
                break
        text, subject, labels, reply_keys, html_part = self._parts(
            name, channel, values, needs_labels
        )

        resolved = tuple(
            [
                opt
                if isinstance(opt, Option)
                else new_option(labels.get(opt[0], opt[0]), opt[1])  # label, data
                for opt in options
            ]
        )
        if reply_keys and len(reply_keys) != len(resolved):
            resolved, reply_keys = (), ()  # the text names replies of its own, not the options'
        try:
            # Positional: ten keywords matched by name cost more than the call (issue 20).
            return self._finish(
                channel,
                kind,
                text,
                html_part,
                subject,
                resolved,
                values,
                message_id,
                locale,
                reply_keys,
            )
        except MessageTooLong:
            if channel != _SMS or not shorten:
                raise
            for shorter in shorter_values(variables):
                try:
                    return self.render(
                        kind,
                        locale,
                        channel,
                        shorter,
                        options=options,
                        message_id=message_id,
                        shorten=False,
                    )
                except MessageTooLong:
                    continue
            raise

    def _parts(
        self, name: str, channel: str, values: Mapping[str, Any], needs_labels: bool
    ) -> _Parts:
        """The blocks ``channel`` shows, tidied: by ``name``'s compiled functions when it has
        them (:mod:`core.render_compiled`), else by Jinja. Any failure of the compiled
        functions (a missing variable) renders the general way, which raises Jinja's own error:
        both give the same message byte for byte (tests/unit/test_render_compiled.py)."""
        compiled = self._compiled.get(name, _NOT_YET) if self.compiled else None
        if compiled is _NOT_YET:
            compiled = self.compiled_template(name)
        if compiled is not None:
            try:
                return _message_parts(compiled.blocks, values, channel, needs_labels)
            except Exception:  # noqa: S110 (the general renderer decides, below)
                pass
        return _message_parts(_JinjaBlocks(self, name, values), values, channel, needs_labels)

    def compiled_template(self, name: str) -> CompiledTemplate | None:
        """Built-in template ``name`` compiled (once), or None when it is outside the compiled
        subset, :attr:`compiled` is off, or files are reloaded (``auto_reload``)."""
        if not self.compiled or self.auto_reload:
            return None
        try:
            return self._compiled[name]
        except KeyError:
            found = compile_template(self._text_env, self._html_env, name)
            self._compiled[name] = found
            return found

    def _blocks(self, env: Environment, name: str, values: Mapping[str, Any]) -> _Blocks:
        """``name``'s blocks in a context of ``values``; the chain of blocks kept per template
        (a walk of the layout and a cache lookup per template saved on every message)."""
        key = (env is self._html_env, name)
        known = self._chains.get(key)
        if known is not None:
            return _Blocks(known[0], values, known[1])
        template = env.get_template(name)
        blocks = _Blocks(template, values)
        chain = blocks.linked()
        if chain is not None and not self.auto_reload:
            static = _literal_blocks(env, name)
            self._chains[key] = (template, _Chain(chain, dict(template.globals), static))
        return blocks

    # -- clinician templates ---------------------------------------------------------------

    def render_custom(
        self,
        source: str,
        variables: Mapping[str, Any],
        channel: Channel | str,
        *,
        locale: str = FALLBACK_LOCALE,
        kind: str = "free_text",
        options: Sequence[Option] = (),
        message_id: str | None = None,
        allowed: Iterable[str] | None = None,
    ) -> OutboundMessage:
        """Render a clinician's plain-text template: checked (cached), then run in the sandbox.

        ``allowed`` names the variables the template may use (default: the keys of
        ``variables``); text values are shortened to their maximum
        (:data:`core.template_language.VARIABLES`). Raises :class:`TemplateNotAllowed` (a
        ``SecurityError``) for anything outside the template language, ``UndefinedError`` on an
        unknown or missing variable, ``TemplateSyntaxError`` on bad syntax and
        :class:`MessageTooLong` over the channel's limit.
        """
        channel = str(channel)
        names = set(variables if allowed is None else allowed)
        checked = lang.check(source, names)
        if not checked.ok:
            problem = "; ".join(checked.problems)
            if "syntax error" in problem:
                self._sandbox.parse(source)  # raises the TemplateSyntaxError itself
            if lang.unknown_only(checked):
                raise UndefinedError(problem)
            raise TemplateNotAllowed(problem)
        values = {**variables, "locale": locale}
        values.setdefault("timezone", None)
        shown = lang.clamped_values(values, names | _IMPLICIT_VARIABLES)
        try:
            raw = lang.iter_capped(self._compile(source).generate(shown), lang.MAX_TEMPLATE_UNITS)
        except lang.OutputCapExceeded as exc:
            raise MessageTooLong(channel, str(exc)) from exc
        text = _tidy(raw)
        if channel == Channel.TELEGRAM and len(text) > TELEGRAM_MAX_CHARS:
            raise MessageTooLong(channel, f"{len(text)} characters, at most {TELEGRAM_MAX_CHARS}")
        # Clinician text is plain: everything in it is escaped, not only the variables.
        return self._finish(
            channel,
            kind,
            text,
            html_lib.escape(text, quote=False),
            None,  # subject
            tuple(options),
            values,
            message_id,
            locale,
            (),  # reply_keys
        )

    def validate_custom(
        self,
        source: str,
        channel: Channel | str,
        allowed_variables: Iterable[str],
        *,
        kind: str = "free_text",
    ) -> list[str]:
        """Check a clinician template before it is saved; return problems (empty when fine).

        The template must leave no direction control open on a line
        (:mod:`core.direction_controls`), be in the template language
        (:func:`core.template_language.check`)
        with the ``allowed_variables``, and fit ``channel`` in the worst case: every variable at
        its longest (UCS-2 on SMS), plus the numbered answers a message of ``kind`` carries on
        SMS and WhatsApp (:meth:`worst_case_problem`).
        """
        channel = str(channel)
        names = set(allowed_variables)
        checked = lang.check(source, names)
        # Checked when saved only (not in lang.check, which the worker runs at each send): a
        # stored template keeps sending.
        unclosed = unclosed_direction_control(source)
        if unclosed is not None:
            return [*checked.problems, unclosed]
        if not checked.ok or checked.bound is None:
            return list(checked.problems)
        # Nothing is run: what the language accepts renders (tests/unit/test_template_fuzz.py).
        if checked.bound.units == 0:
            return ["the template renders an empty message"]
        problem = self.worst_case_problem(channel, checked.bound, kind)
        return [problem] if problem else []

    def worst_case_problem(self, channel: str, bound: Bound, kind: str) -> str | None:
        """How a text of ``bound`` (plus ``kind``'s numbered answers on SMS and WhatsApp) can
        exceed ``channel``'s limit, or None when it always fits."""
        channel = str(channel)
        if channel in (Channel.SMS, Channel.WHATSAPP):
            bound = bound + self.options_bound(kind)
        worst = "in the worst case (every variable at its longest"
        if channel == Channel.SMS:
            encoding, segments = bound.sms_segments()
            if segments > self.sms_max_segments:
                unit = "septets" if encoding == GSM7 else "characters"
                count = bound.septets if encoding == GSM7 else bound.units
                return (
                    f"too long for sms {worst}): {segments} {encoding} "
                    f"segments ({count} {unit}), at most {self.sms_max_segments} allowed"
                )
            return None
        limit = {Channel.WHATSAPP: WHATSAPP_MAX_CHARS, Channel.TELEGRAM: TELEGRAM_MAX_CHARS}.get(
            Channel(channel) if channel in tuple(Channel) else channel  # type: ignore[call-overload]
        )
        if limit is not None and bound.units > limit:
            return f"too long for {channel} {worst}): {bound.units} characters, at most {limit}"
        return None

    def options_bound(self, kind: str) -> Bound:
        """The longest numbered answers (``"\\n\\n1 Taken\\n2 ..."``) a message of ``kind``
        carries on SMS and WhatsApp, over the shipped locales."""
        found = self._options_bounds.get(kind)
        if found is not None:
            return found
        keys = [key for key, _ in default_options(kind, _ANY_ID, _ANY_ID)]
        found = lang.NOTHING
        if keys:
            for locale in self.locales():
                for channel in (Channel.SMS, Channel.WHATSAPP):
                    labels = self.labels(kind, locale, channel)
                    shown = [Option(label=labels.get(k, k.title()), data=k) for k in keys]
                    found = found.widest(Bound.of("\n\n" + format_numbered_options(shown)))
        self._options_bounds[kind] = found
        return found

    def labels(self, kind: str, locale: str, channel: str) -> dict[str, str]:
        """The option labels of built-in ``kind`` (``{"taken": "Taken", ...}``), or {}."""
        key = (kind, locale, str(channel))
        found = self._labels.get(key)
        if found is None:
            try:
                name = self.template_name(kind, locale, str(channel))
                template = self._text_env.get_template(name)
                found = _parse_labels(template.render(section="labels"))
            except (UnknownTemplate, TemplateError):
                found = {}
            if not self.auto_reload:
                self._labels[key] = found
        return dict(found)

    # -- shared ----------------------------------------------------------------------------

    def _finish(
        self,
        channel: str,
        kind: str,
        text: str,
        html_part: str,
        subject: str | None,
        options: tuple[Option, ...],
        variables: Mapping[str, Any],
        message_id: str | None,
        locale: str,
        reply_keys: tuple[str, ...],
    ) -> OutboundMessage:
        html_out: str | None = None
        if channel == _TELEGRAM:
            html_out = html_part
        elif channel == _EMAIL:
            if (
                self.app_url
                and options
                and all(answers_dose_or_appointment(o.data) for o in options)
            ):
                text, html_part = _answer_in_app(text, html_part, options, locale, self.app_url)
            html_out = email_page(html_part, locale)
            subject = (subject or _one_line(text))[:EMAIL_SUBJECT_MAX_CHARS]
        if channel in _LIMITED_CHANNELS:
            problem = channel_limit_problem(
                channel,
                with_numbered_options(text, () if reply_keys else options),
                sms_max_segments=self.sms_max_segments,
            )
            if problem:
                raise MessageTooLong(channel, problem)
        # Every field in order (core.messages.positional_constructor): the dataclass's own
        # constructor with keywords cost ~1.5-4 us of every message (issue 20).
        return new_outbound_message(
            text,
            html_out,
            subject if channel == _EMAIL else None,
            options,
            1,  # columns
            kind,
            # Only WhatsApp sends an approved template with variables (platforms.whatsapp):
            # formatting them for every channel cost ~2-3 us of every other message (issue 20).
            _template_variables(variables) if channel == _WHATSAPP else {},
            (),  # attachments
            message_id,
            reply_keys,
        )


# --------------------------------------------------------------------------------------------
# helpers


class _Parts(NamedTuple):
    """What a built-in template gives one channel: text, e-mail subject, option labels, the
    replies the text asks for, and the HTML (Telegram and e-mail)."""

    text: str
    subject: str | None
    labels: dict[str, str]
    reply_keys: tuple[str, ...]
    html: str


class _BlockTable(Protocol):
    """Each block's function of the message's values, by block name."""

    def __getitem__(self, block: str, /) -> Callable[[Mapping[str, Any]], str]: ...


def _message_parts(
    blocks: _BlockTable, values: Mapping[str, Any], channel: str, needs_labels: bool
) -> _Parts:
    """The parts ``channel`` shows, from the template's blocks (compiled, or Jinja's): no
    subject but on e-mail, no HTML but on Telegram and e-mail, labels only for options that
    need them."""
    text = _tidy(blocks["text"](values))
    subject = None
    if channel == _EMAIL:
        subject = _one_line(blocks["subject"](values)) or None
    labels = _parse_labels(blocks["labels"](values)) if needs_labels else {}
    reply_keys = tuple(blocks["inline_replies"](values).split())
    html_part = ""
    if channel in _HTML_CHANNELS:
        html_part = _tidy(blocks["html"](values)) or html_lib.escape(text, quote=False)
    return _Parts(text, subject, labels, reply_keys, html_part)


class _JinjaBlocks:
    """A template's blocks rendered by Jinja for one message: one context per environment (the
    HTML one made only when a channel shows HTML), each block rendered in it."""

    def __init__(self, renderer: TemplateRenderer, name: str, values: Mapping[str, Any]) -> None:
        self._renderer, self._name, self._values = renderer, name, values
        self._text = renderer._blocks(renderer._text_env, name, values)

    def __getitem__(self, block: str, /) -> Callable[[Mapping[str, Any]], str]:
        if block in ESCAPED_BLOCKS:
            renderer = self._renderer
            html = renderer._blocks(renderer._html_env, self._name, self._values)
            return lambda _: html.render(block)
        return lambda _: self._text.render(block)


class _Chain(NamedTuple):
    """What one root run of a template linked (see :class:`_Blocks`), kept per template."""

    blocks: dict[str, list[Any]]
    # The template's globals as one dict: Jinja keeps them as a ChainMap and read them twice per
    # context (its keys and its items), a fifth of a render's time.
    globals: dict[str, Any]
    # Blocks whose text is fixed (the labels, the replies a text asks for): their output, kept
    # rather than rendered for every message (issue 20).
    static: dict[str, str]


class _Blocks:
    """The blocks of one built-in template, rendered one at a time in one shared context.

    The same as rendering the whole template with ``section`` naming the block
    (``_message.j2``), without a new context and a walk of the layout per block: the root is run
    once with no section (it prints nothing, but links the inheritance chain's blocks into the
    context and runs any top-level statement), then each block is called directly. ``chain``,
    the blocks an earlier root run linked (:meth:`linked`) and the globals, spares that run and
    the context's copy of the template's own blocks; the context holds the same as Jinja's.
    """

    def __init__(
        self,
        template: Template,
        values: Mapping[str, Any],
        chain: _Chain | None = None,
    ) -> None:
        if chain is None:
            self._context = template.new_context({**values, "section": None})
            for _ in template.root_render_func(self._context):
                pass
        else:
            env = template.environment
            parent = {**chain.globals, **values, "section": None}
            self._context = env.context_class(env, parent, template.name, {}, chain.globals)
            self._context.blocks = chain.blocks
        self._static = chain.static if chain is not None else {}

    def linked(self) -> dict[str, list[Any]] | None:
        """The inheritance chain's blocks, for later contexts of the same template; None when
        the root set variables of its own (``{% set %}``, macros, imports): then every context
        needs its own root run."""
        if self._context.vars or self._context.exported_vars:
            return None
        return self._context.blocks

    def render(self, block: str) -> str:
        """The block's text ("" when no template of the chain defines it)."""
        text = self._static.get(block)
        if text is not None:
            return text
        chain = self._context.blocks.get(block)
        return "".join(chain[0](self._context)) if chain else ""


def _literal_blocks(env: Environment, name: str) -> dict[str, str]:
    """The blocks of ``name``'s inheritance chain whose definition in effect (the most derived)
    is literal text, with that text; a block with any variable, filter, call or tag is left out.

    Read from the templates' syntax trees (after whitespace control, as rendering sees them),
    following ``{% extends "literal" %}`` only: a block that might be defined elsewhere is left
    out too. tests/unit/test_render_fast_path.py holds the output to a plain render.
    """
    found: dict[str, str | None] = {}
    seen: set[str] = set()
    current: str | None = name
    while current is not None and current not in seen:
        seen.add(current)
        try:
            assert env.loader is not None
            source, _, _ = env.loader.get_source(env, current)
            tree = env.parse(source, current)
        except TemplateError:
            break
        for block in tree.find_all(nodes.Block):
            found.setdefault(block.name, literal_text(block.body))
        parent = next(tree.find_all(nodes.Extends), None)
        current = None
        if parent is not None and isinstance(parent.template, nodes.Const):
            current = str(parent.template.value)
        elif parent is not None:
            return {}  # a computed parent: nothing is known of the chain above
    return {block: text for block, text in found.items() if text is not None}


_BLANK_LINES = re.compile(r"\n{3,}")


def _tidy(text: str) -> str:
    """Normalise CLDR spaces, strip line ends and collapse the blank lines ``{% if %}`` leaves."""
    lines = plain_spaces(text).strip().splitlines()
    if len(lines) == 1:
        return lines[0]  # one line, stripped: most reminders (no join, no blank lines)
    text = "\n".join(line.rstrip() for line in lines)
    return _BLANK_LINES.sub("\n\n", text) if "\n\n\n" in text else text


def _one_line(text: str) -> str:
    return " ".join(plain_spaces(text).split())


@lru_cache(maxsize=1024)
def _parse_labels(block: str) -> dict[str, str]:
    """``key: Label`` lines (cached by text: read only, callers copy what they keep)."""
    labels: dict[str, str] = {}
    for line in block.splitlines():
        key, sep, label = line.partition(":")
        if sep and key.strip():
            labels[key.strip()] = label.strip()
    return labels


# The line an e-mail that offers answers ends with: nothing reads e-mail back, so a reminder's
# Taken / Snooze / Skip are given in the patient app (a clinic's e-mail-only patient could not
# answer at all, and every dose went missed, alerting the caregiver).
_ANSWER_IN_APP = {
    "en": "To answer ({answers}), open the MedRemind app: {url}",
    "es": "Para responder ({answers}), abre la app de MedRemind: {url}",
}


def _answer_in_app(
    text: str, html_part: str, options: tuple[Option, ...], locale: str, url: str
) -> tuple[str, str]:
    """``text`` and ``html_part`` with the line naming the app and the answers it takes."""
    line = _ANSWER_IN_APP.get(locale.split("_")[0].split("-")[0], _ANSWER_IN_APP["en"])
    answers = " / ".join(option.label for option in options)
    escaped = html_lib.escape(url)
    # The lines themselves hold nothing HTML would read: only the values are escaped.
    html_line = line.format(
        answers=html_lib.escape(answers, quote=False), url=f'<a href="{escaped}">{escaped}</a>'
    )
    return f"{text}\n\n{line.format(answers=answers, url=url)}", f"{html_part}\n\n{html_line}"


def email_page(body_html: str, locale: str) -> str:
    """An e-mail's HTML part: ``body_html`` (escaped already) as a page whose paragraphs (blank
    lines) and line breaks show; mail apps show this part, where a bare line break is a space."""
    paragraphs = "".join(
        f"<p>{para.replace(chr(10), '<br>')}</p>\n" for para in body_html.split("\n\n") if para
    )
    return (
        f'<!doctype html>\n<html lang="{html_lib.escape(locale)}"><head><meta charset="utf-8">'
        f'</head>\n<body style="font-family: sans-serif; line-height: 1.4">\n{paragraphs}'
        "</body></html>\n"
    )


def _template_variables(values: Mapping[str, Any]) -> dict[str, str]:
    """Display strings for WhatsApp Content templates (sent outside the 24-hour window).

    Dates and times are formatted for the locale; the medicine's name is left out unless the
    patient opted in (``name_medicine``) or consented to share details (``share_details``).
    """
    locale = babel_locale(str(values.get("locale") or FALLBACK_LOCALE))
    zone = values.get("timezone")
    named = bool(values.get("name_medicine") or values.get("share_details"))
    out: dict[str, str] = {}
    for key, value in values.items():
        if key in _NOT_TEMPLATE_VARIABLES or (key in _PRIVATE_VARIABLES and not named):
            continue
        if type(value) is str:  # most values: shown as they are
            out[key] = value
            continue
        if value is None or isinstance(value, bool):
            continue
        if isinstance(value, datetime):
            value = _displayed_datetime(value, zone, locale)
        elif isinstance(value, date):
            value = _babel_format(format_date, value, "medium", locale)
        out[key] = str(value)
    return out


# "4 Mar 2026, 08:00" by instant, zone and locale: every message carries one (its due time), and
# thousands at 08:00 carry the same few (issue 20). Cleared when full, as _babel_format's.
_DISPLAYED: dict[tuple[Any, ...], str] = {}
_DISPLAYED_MAX = 8192


def _displayed_datetime(value: datetime, zone: Any, locale: str) -> str:
    """``value`` as a WhatsApp template variable: date and short time in ``zone``, cached.

    Aware datetimes equal as instants compare equal across zones (and, in one zone, across
    ``fold``): the key holds the value's own zone and fold too.
    """
    key = (value, value.tzinfo, value.fold, zone, locale)
    found = _DISPLAYED.get(key)
    if found is None:
        shown = value
        if zone and value.tzinfo is not None and getattr(value.tzinfo, "key", None) != str(zone):
            shown = value.astimezone(ZoneInfo(str(zone)))  # else on that clock already
        day = _babel_format(format_date, shown, "medium", locale)
        time = _babel_format(format_time, shown, "short", locale)
        found = plain_spaces(f"{day}, {time}")
        if len(_DISPLAYED) >= _DISPLAYED_MAX:
            _DISPLAYED.clear()
        _DISPLAYED[key] = found
    return found


_NOT_TEMPLATE_VARIABLES = frozenset({"locale", "timezone", "section"})
_PRIVATE_VARIABLES = frozenset({"medicine_name", "dose_text"})


__all__ = [
    "DEFAULT_SMS_MAX_SEGMENTS",
    "GSM7",
    "KINDS",
    "TELEGRAM_MAX_CHARS",
    "TEMPLATES_DIR",
    "UCS2",
    "WHATSAPP_MAX_CHARS",
    "MessageTooLong",
    "TemplateNotAllowed",
    "TemplateNotFound",
    "TemplateRenderer",
    "UnknownTemplate",
    "channel_limit_problem",
    "count_segments",
    "format_numbered_options",
    "match_numbered_reply",
    "with_numbered_options",
]
