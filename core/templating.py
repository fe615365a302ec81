"""Message templates: built-in texts per locale and channel, and clinician-authored ones.

Built-in templates live in ``templates/<locale>/<kind>.<channel>.j2``. A missing channel file
falls back to ``<kind>.default.j2``; a missing locale falls back to English. Every template extends
``_message.j2`` and fills some of these blocks::

    subject         e-mail subject (one line)
    text            plain text; every channel can show it
    html            optional Telegram-subset HTML (<b>, <i>); e-mail wraps it in a page
    labels          optional ``key: Label`` lines naming the options (taken, snooze, confirm...)
    inline_replies  non-empty when ``text`` already says how to reply (SMS "reply C, R or X"),
                    so the options are not added again as numbered replies

Variables are escaped where it matters: the ``html`` block is rendered with autoescape, so a patient
named ``<b>Ann</b>`` reaches Telegram as ``&lt;b&gt;Ann&lt;/b&gt;``; ``text`` is never escaped.

Clinician templates (from the database) are plain text rendered in an
``ImmutableSandboxedEnvironment`` with ``StrictUndefined``; :meth:`TemplateRenderer.validate_custom`
checks one at save time and says exactly what is wrong.

Channel limits, applied at render time (:class:`MessageTooLong`, a ``ValueError``):
SMS ``sms_max_segments`` segments, WhatsApp 1,600 characters. Telegram texts over 4,096 characters
are split by the Telegram adapter, so built-in renders do not refuse them; clinician templates must
fit one Telegram message. E-mail subjects are cut to one line of at most 120 characters.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, format_time
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    TemplateSyntaxError,
    meta,
    nodes,
    pass_context,
)
from jinja2.exceptions import SecurityError, TemplateError, UndefinedError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from platforms.base import Channel, Option, OutboundMessage

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"
FALLBACK_LOCALE = "en"
DEFAULT_CHANNEL = "default"

# Every built-in message kind; each has at least ``en/<kind>.default.j2``.
KINDS: tuple[str, ...] = (
    "medication_reminder",
    "dose_followup",
    "missed_dose_caregiver",
    "appointment_confirmation",
    "appointment_reminder",
    "appointment_cancelled",
    "appointment_rescheduled",
    "refill_reminder",
    "free_text",
)

TELEGRAM_MAX_CHARS = 4096  # Bot API sendMessage limit
WHATSAPP_MAX_CHARS = 1600  # Twilio's body limit for WhatsApp
EMAIL_SUBJECT_MAX_CHARS = 120  # long subjects are cut by most clients anyway
DEFAULT_SMS_MAX_SEGMENTS = 3

# Defaults merged under the caller's variables: privacy-preserving unless the caller opts in.
_KIND_DEFAULTS: dict[str, Any] = {"name_medicine": False, "share_details": False}

# The only filters clinician templates may use; everything else is refused at save time.
_CUSTOM_FILTERS = frozenset(
    {
        "capitalize",
        "d",
        "date",
        "datetime",
        "default",
        "e",
        "escape",
        "first",
        "int",
        "join",
        "last",
        "length",
        "lower",
        "replace",
        "round",
        "time",
        "title",
        "trim",
        "truncate",
        "upper",
        "weekday",
        "wordwrap",
    }
)
# Attribute names that lead out of the data and into Python internals.
_FORBIDDEN_ATTRS = frozenset(
    {"format", "format_map", "mro", "func_globals", "gi_frame", "gi_code", "cr_frame", "f_globals"}
)
# What a clinician template always has, besides the allowed variables.
_IMPLICIT_VARIABLES = frozenset({"locale", "timezone"})

# Characters CLDR puts in times and dates ("8:00\u202fPM") that would force UCS-2 on SMS.
_SPACE_LIKE = str.maketrans({"\u202f": " ", "\u00a0": " ", "\u2009": " "})

# GSM 03.38: the basic set costs one septet, the extension set two (escape + char).
_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
GSM7 = "GSM-7"
UCS2 = "UCS-2"


class MessageTooLong(ValueError):
    """A rendered message exceeds its channel's limit; the text says by how much."""

    def __init__(self, channel: str, detail: str) -> None:
        super().__init__(f"message too long for {channel}: {detail}")
        self.channel = channel


class UnknownTemplate(LookupError):
    """No template exists for a kind in any locale or channel fallback."""


# --------------------------------------------------------------------------------------------
# SMS segments


def count_segments(text: str) -> tuple[str, int]:
    """Return ``(encoding, segments)`` for an SMS body: ``"GSM-7"`` or ``"UCS-2"``.

    GSM-7 fits 160 septets in one segment, 153 per segment when concatenated; extension characters
    (``^{}\\[~]|€``) take two septets and are never split across segments. UCS-2 fits 70 UTF-16
    code units, 67 when concatenated; surrogate pairs are never split. An empty body is 1 segment.
    """
    if all(ch in _GSM7_BASIC or ch in _GSM7_EXTENSION for ch in text):
        costs = [2 if ch in _GSM7_EXTENSION else 1 for ch in text]
        return GSM7, _segments(costs, single=160, multi=153)
    costs = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    return UCS2, _segments(costs, single=70, multi=67)


def _segments(costs: list[int], *, single: int, multi: int) -> int:
    total = sum(costs)
    if total <= single:
        return 1
    # Greedy fill, so a two-septet character or a surrogate pair never straddles two segments.
    segments, used = 1, 0
    for cost in costs:
        if used + cost > multi:
            segments += 1
            used = 0
        used += cost
    return segments


# --------------------------------------------------------------------------------------------
# Options as numbered replies (SMS, WhatsApp, console)


def format_numbered_options(options: Sequence[Option]) -> str:
    """Render options as numbered replies: ``"1 Taken\\n2 Snooze"``."""
    return "\n".join(f"{number} {option.label}" for number, option in enumerate(options, 1))


def with_numbered_options(text: str, options: Sequence[Option]) -> str:
    """``text`` followed by a blank line and the numbered replies, if there are options."""
    if not options:
        return text
    return f"{text}\n\n{format_numbered_options(options)}"


def match_numbered_reply(reply: str, options: Sequence[Option]) -> Option | None:
    """The option a numeric reply picks ("2", " 2. ", "#2"), or ``None`` when it picks none."""
    match = re.fullmatch(r"\s*#?\s*(\d{1,2})\s*[.)]?\s*", reply)
    if not match:
        return None
    number = int(match.group(1))
    return options[number - 1] if 1 <= number <= len(options) else None


def channel_limit_problem(
    channel: str, text: str, *, sms_max_segments: int = DEFAULT_SMS_MAX_SEGMENTS
) -> str | None:
    """Describe how ``text`` exceeds ``channel``'s limit, or return ``None`` when it fits."""
    channel = str(channel)
    if channel == Channel.SMS:
        encoding, segments = count_segments(text)
        if segments > sms_max_segments:
            return (
                f"{segments} {encoding} segments ({len(text)} characters), "
                f"at most {sms_max_segments} allowed"
            )
    elif channel == Channel.WHATSAPP and len(text) > WHATSAPP_MAX_CHARS:
        return f"{len(text)} characters, at most {WHATSAPP_MAX_CHARS} allowed"
    elif channel == Channel.TELEGRAM and len(text) > TELEGRAM_MAX_CHARS:
        return f"{len(text)} characters, at most {TELEGRAM_MAX_CHARS} allowed"
    return None


# --------------------------------------------------------------------------------------------
# Locale-aware filters


def _localized(ctx: Context, value: Any) -> Any:
    zone = ctx.get("timezone")
    if zone and isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(ZoneInfo(str(zone)))
    return value


def _locale(ctx: Context) -> str:
    return babel_locale(str(ctx.get("locale") or FALLBACK_LOCALE))


@lru_cache(maxsize=512)
def babel_locale(tag: str) -> str:
    """A locale Babel can format for: ``es-MX`` -> ``es_MX``; unknown -> its language -> English.

    Patients' locales are BCP 47 tags (hyphens); Babel parses underscores only, and a locale it
    does not know must not fail a reminder.
    """
    candidate = tag.strip().replace("-", "_")
    for option in (candidate, candidate.split("_")[0]):
        try:
            Locale.parse(option)
        except (ValueError, TypeError, UnknownLocaleError):
            continue
        return option
    return FALLBACK_LOCALE


@pass_context
def _time_filter(ctx: Context, value: datetime, format: str = "short") -> str:
    return format_time(_localized(ctx, value), format, locale=_locale(ctx))


@pass_context
def _date_filter(ctx: Context, value: date, format: str = "medium") -> str:
    return format_date(_localized(ctx, value), format, locale=_locale(ctx))


@pass_context
def _datetime_filter(ctx: Context, value: datetime, format: str = "medium") -> str:
    value = _localized(ctx, value)
    if format in {"short", "medium"}:
        # Babel's medium datetime shows seconds; nobody wants "8:00:00 PM" in a reminder.
        day = format_date(value, format, locale=_locale(ctx))
        return f"{day}, {format_time(value, 'short', locale=_locale(ctx))}"
    return format_datetime(value, format, locale=_locale(ctx))


@pass_context
def _weekday_filter(ctx: Context, value: date) -> str:
    return format_date(_localized(ctx, value), "EEEE", locale=_locale(ctx))


_FILTERS = {
    "time": _time_filter,
    "date": _date_filter,
    "datetime": _datetime_filter,
    "weekday": _weekday_filter,
}


def _add_filters(env: Environment) -> Environment:
    env.filters.update(_FILTERS)
    return env


# --------------------------------------------------------------------------------------------
# The renderer


class TemplateRenderer:
    """Renders built-in and clinician templates into :class:`OutboundMessage` for one channel."""

    def __init__(
        self,
        templates_dir: Path | str | None = None,
        *,
        sms_max_segments: int = DEFAULT_SMS_MAX_SEGMENTS,
    ) -> None:
        self.templates_dir = Path(templates_dir) if templates_dir else TEMPLATES_DIR
        self.sms_max_segments = sms_max_segments
        loader = FileSystemLoader(str(self.templates_dir))
        common: dict[str, Any] = {
            "loader": loader,
            "undefined": StrictUndefined,
            "trim_blocks": True,
            "lstrip_blocks": True,
        }
        self._text_env = _add_filters(Environment(autoescape=False, **common))  # noqa: S701
        self._html_env = _add_filters(Environment(autoescape=True, **common))
        self._sandbox = _add_filters(
            ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
        )
        # Clinician templates see only the variables we pass: none of Jinja's globals (range,
        # lipsum, dict, cycler, joiner, namespace), which would print internals or burn CPU.
        self._sandbox.globals.clear()

    # -- built-in templates ----------------------------------------------------------------

    def template_name(self, kind: str, locale: str, channel: str) -> str:
        """The file used for ``kind`` in ``locale`` on ``channel``, after fallbacks."""
        language = locale.replace("-", "_").split("_")[0].lower()
        channel = str(channel)
        for loc in dict.fromkeys((locale, language, FALLBACK_LOCALE)):
            for chan in (channel, DEFAULT_CHANNEL):
                name = f"{loc}/{kind}.{chan}.j2"
                if (self.templates_dir / name).is_file():
                    return name
        raise UnknownTemplate(f"no template for kind {kind!r} (locale {locale!r})")

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
    ) -> OutboundMessage:
        """Render built-in ``kind`` for ``channel``.

        ``options`` are :class:`Option` objects, or ``(key, data)`` pairs whose label comes from the
        template's ``labels`` block (so "taken" reads "Tomada" in Spanish). Raises
        :class:`MessageTooLong` over the channel's limit and Jinja's ``UndefinedError`` when a
        variable the template needs is missing.
        """
        channel = str(channel)
        name = self.template_name(kind, locale, channel)
        values = {**_KIND_DEFAULTS, **variables, "locale": locale}
        values.setdefault("timezone", None)

        def section(env: Environment, part: str) -> str:
            return env.get_template(name).render({**values, "section": part})

        text = _tidy(section(self._text_env, "text"))
        subject = _one_line(section(self._text_env, "subject")) or None
        labels = _parse_labels(section(self._text_env, "labels"))
        inline_replies = bool(section(self._text_env, "inline_replies").strip())
        html_part = _tidy(section(self._html_env, "html")) or html_lib.escape(text, quote=False)

        resolved = tuple(
            opt
            if isinstance(opt, Option)
            else Option(label=labels.get(opt[0], opt[0]), data=opt[1])
            for opt in options
        )
        if inline_replies:
            resolved = ()
        return self._finish(
            channel,
            kind=kind,
            text=text,
            html_part=html_part,
            subject=subject,
            options=resolved,
            variables=values,
            message_id=message_id,
            locale=locale,
        )

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
    ) -> OutboundMessage:
        """Render a clinician's plain-text template in the sandbox.

        Raises ``SecurityError`` on an escape attempt, ``UndefinedError`` on a missing variable,
        ``TemplateSyntaxError`` on bad syntax and :class:`MessageTooLong` over the channel's limit.
        """
        channel = str(channel)
        values = {**variables, "locale": locale}
        values.setdefault("timezone", None)
        text = _tidy(self._sandbox.from_string(source).render(values))
        if channel == Channel.TELEGRAM and len(text) > TELEGRAM_MAX_CHARS:
            raise MessageTooLong(channel, f"{len(text)} characters, at most {TELEGRAM_MAX_CHARS}")
        # Clinician text is plain: everything in it is escaped, not only the variables.
        return self._finish(
            channel,
            kind=kind,
            text=text,
            html_part=html_lib.escape(text, quote=False),
            subject=None,
            options=tuple(options),
            variables=values,
            message_id=message_id,
            locale=locale,
        )

    def validate_custom(
        self,
        source: str,
        channel: Channel | str,
        allowed_variables: Iterable[str] | Mapping[str, Any],
    ) -> list[str]:
        """Check a clinician template before it is saved; return problems (empty when fine).

        ``allowed_variables`` names the variables the template may use; when it is a mapping its
        values are used as the sample for the length check, else a realistic placeholder is.
        """
        channel = str(channel)
        if isinstance(allowed_variables, Mapping):
            samples = dict(allowed_variables)
        else:
            samples = {name: _sample_value(name) for name in allowed_variables}
        if not source.strip():
            return ["the template is empty"]
        try:
            ast = self._sandbox.parse(source)
        except TemplateSyntaxError as exc:
            return [f"line {exc.lineno}: syntax error: {exc.message}"]

        problems = _unsafe_constructs(ast)
        allowed = set(samples) | _IMPLICIT_VARIABLES
        for name in sorted(meta.find_undeclared_variables(ast) - allowed):
            listing = ", ".join(sorted(samples)) or "none"
            problems.append(
                f"line {_first_use(ast, name)}: unknown variable '{name}' "
                f"(allowed variables: {listing})"
            )
        if problems:
            return problems

        try:
            text = _tidy(self._sandbox.from_string(source).render({**samples, "locale": "en"}))
        except SecurityError as exc:
            return [f"unsafe template: {exc}"]
        except UndefinedError as exc:
            return [f"rendering with sample values failed: {exc}"]
        except TemplateError as exc:
            lineno = getattr(exc, "lineno", None)
            where = f"line {lineno}: " if lineno else ""
            return [f"{where}{exc}"]
        except (TypeError, ValueError, ArithmeticError) as exc:
            return [f"rendering with sample values failed: {exc}"]
        if not text:
            return ["the template renders an empty message"]
        limit = channel_limit_problem(channel, text, sms_max_segments=self.sms_max_segments)
        if limit:
            return [f"too long for {channel} with sample values: {limit}"]
        return []

    # -- shared ----------------------------------------------------------------------------

    def _finish(
        self,
        channel: str,
        *,
        kind: str,
        text: str,
        html_part: str,
        subject: str | None,
        options: tuple[Option, ...],
        variables: Mapping[str, Any],
        message_id: str | None,
        locale: str,
    ) -> OutboundMessage:
        html_out: str | None = None
        if channel == Channel.TELEGRAM:
            html_out = html_part
        elif channel == Channel.EMAIL:
            html_out = _email_page(html_part, locale)
            subject = (subject or _one_line(text))[:EMAIL_SUBJECT_MAX_CHARS]
        if channel in (Channel.SMS, Channel.WHATSAPP):
            problem = channel_limit_problem(
                channel,
                with_numbered_options(text, options),
                sms_max_segments=self.sms_max_segments,
            )
            if problem:
                raise MessageTooLong(channel, problem)
        return OutboundMessage(
            text=text,
            html=html_out,
            subject=subject if channel == Channel.EMAIL else None,
            options=options,
            kind=kind,
            variables=_template_variables(variables),
            message_id=message_id,
        )


# --------------------------------------------------------------------------------------------
# helpers


def _tidy(text: str) -> str:
    """Normalise CLDR spaces, strip line ends and collapse the blank lines ``{% if %}`` leaves."""
    text = text.translate(_SPACE_LIKE)
    text = "\n".join(line.rstrip() for line in text.strip().splitlines())
    return re.sub(r"\n{3,}", "\n\n", text)


def _one_line(text: str) -> str:
    return " ".join(text.translate(_SPACE_LIKE).split())


def _parse_labels(block: str) -> dict[str, str]:
    labels: dict[str, str] = {}
    for line in block.splitlines():
        key, sep, label = line.partition(":")
        if sep and key.strip():
            labels[key.strip()] = label.strip()
    return labels


def _email_page(body_html: str, locale: str) -> str:
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
        if key in _NOT_TEMPLATE_VARIABLES or value is None or isinstance(value, bool):
            continue
        if key in _PRIVATE_VARIABLES and not named:
            continue
        if isinstance(value, datetime):
            if zone and value.tzinfo is not None:
                value = value.astimezone(ZoneInfo(str(zone)))
            day = format_date(value, "medium", locale=locale)
            value = f"{day}, {format_time(value, 'short', locale=locale)}".translate(_SPACE_LIKE)
        elif isinstance(value, date):
            value = format_date(value, "medium", locale=locale)
        out[key] = str(value)
    return out


_NOT_TEMPLATE_VARIABLES = frozenset({"locale", "timezone", "section"})
_PRIVATE_VARIABLES = frozenset({"medicine_name", "dose_text"})


def _sample_value(name: str) -> Any:
    if name.endswith(("_at", "_time")):
        return datetime(2025, 1, 15, 20, 0, tzinfo=UTC)
    if name.endswith(("_date", "_on", "_by")):
        return date(2025, 1, 15)
    if name.endswith(("_count", "_left", "_minutes")):
        return 12
    if name.endswith("_duration"):
        return timedelta(minutes=30)
    # A plausible longest value: names and clinic names rarely pass 30 characters.
    return "Sample " + name.replace("_", " ")[:23]


def _first_use(ast: nodes.Template, name: str) -> int:
    for node in ast.find_all(nodes.Name):
        if node.name == name:
            return node.lineno
    return 1


def _unsafe_constructs(ast: nodes.Template) -> list[str]:
    problems: list[str] = []
    for node in ast.find_all(nodes.Node):
        where = f"line {node.lineno}"
        if isinstance(node, nodes.Getattr) and (
            node.attr.startswith("_") or node.attr in _FORBIDDEN_ATTRS
        ):
            problems.append(
                f"{where}: access to attribute '{node.attr}' is not allowed "
                "(templates may only print variables)"
            )
        elif (
            isinstance(node, nodes.Getitem)
            and isinstance(node.arg, nodes.Const)
            and isinstance(node.arg.value, str)
            and node.arg.value.startswith("_")
        ):
            problems.append(f"{where}: access to item '{node.arg.value}' is not allowed")
        elif isinstance(node, nodes.Filter) and node.name not in _CUSTOM_FILTERS:
            reason = (
                "it reaches object attributes"
                if node.name == "attr"
                else f"allowed filters: {', '.join(sorted(_CUSTOM_FILTERS))}"
            )
            problems.append(f"{where}: the '{node.name}' filter is not allowed ({reason})")
        elif isinstance(node, nodes.Call):
            problems.append(
                f"{where}: calling functions or methods is not allowed (use a filter such as "
                "|upper instead)"
            )
        elif isinstance(node, nodes.Include | nodes.Extends | nodes.Import | nodes.FromImport):
            problems.append(f"{where}: including or importing other templates is not allowed")
    return problems


__all__ = [
    "DEFAULT_SMS_MAX_SEGMENTS",
    "GSM7",
    "KINDS",
    "TELEGRAM_MAX_CHARS",
    "TEMPLATES_DIR",
    "UCS2",
    "WHATSAPP_MAX_CHARS",
    "MessageTooLong",
    "TemplateNotFound",
    "TemplateRenderer",
    "UnknownTemplate",
    "channel_limit_problem",
    "count_segments",
    "format_numbered_options",
    "match_numbered_reply",
    "with_numbered_options",
]
