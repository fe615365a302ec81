"""Compiled built-in templates (core.render_compiled) against Jinja, byte for byte (issue 20).

Every built-in template of every locale and channel compiles; its compiled blocks give the same
text, subject, labels, replies and HTML as Jinja's, and raise where Jinja raises, over the case
table of tests/unit/render_cases.py and, for every kind and channel, over generated locales and
values: names with markup characters and
line separators, medicine numbers, instants in many zones (folds and gaps included), locales
with 12- and 24-hour clocks, optional values missing, None or empty. Whole messages from the
default renderer equal a renderer with compiled templates off. A value never adds markup to the
Telegram HTML. Templates outside the subset, and clinicians' templates, are never compiled.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jinja2.exceptions import UndefinedError

from core.answer_buttons import default_options
from core.messages import Channel, Option
from core.render_compiled import BLOCKS, compile_template
from core.templating import (
    _KIND_DEFAULTS,
    KINDS,
    TEMPLATES_DIR,
    TemplateRenderer,
    _message_parts,
)
from tests.unit.render_cases import DOSE, cases, outcome

ALL_KINDS = (*KINDS, "join_invitation")
CHANNELS = tuple(str(channel) for channel in Channel)
# Shipped locales, regions of them, locales whose texts fall back to English but whose clocks and
# month names Babel spells its own way (24-hour, other scripts, right to left), and unknown ones.
LOCALES = ("en", "en-GB", "en-US", "es", "es-MX", "pt-BR", "de", "fr", "ja", "ar", "xx-YY")
ZONES = (
    None,
    "UTC",
    "America/New_York",
    "Europe/Madrid",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "Pacific/Kiritimati",
    "America/St_Johns",
    "Mars/Olympus_Mons",  # no such zone: both renderers fail alike
)

COMPILED = TemplateRenderer()
GENERAL = TemplateRenderer()
GENERAL.compiled = False


def _values(kind: str, locale: str, variables: dict[str, Any]) -> dict[str, Any]:
    """What ``TemplateRenderer.render`` hands the blocks."""
    values = {**_KIND_DEFAULTS, **variables, "locale": locale}
    values.setdefault("timezone", None)
    return values


def _compiled_parts(kind: str, locale: str, channel: str, variables: dict[str, Any]) -> Any:
    """The compiled blocks alone (no fallback to Jinja): the parts, or the error's type."""
    name = COMPILED.template_name(kind, locale, channel)
    compiled = COMPILED.compiled_template(name)
    assert compiled is not None, name
    try:
        return _message_parts(compiled.blocks, _values(kind, locale, variables), channel, True)
    except Exception:  # compared: it must fail where Jinja fails
        return "error"


def _jinja_parts(kind: str, locale: str, channel: str, variables: dict[str, Any]) -> Any:
    name = GENERAL.template_name(kind, locale, channel)
    try:
        return GENERAL._parts(name, channel, _values(kind, locale, variables), True)
    except Exception:
        return "error"


def test_every_built_in_template_of_every_locale_and_channel_compiles() -> None:
    renderer = TemplateRenderer()
    names = {
        renderer.template_name(kind, locale, channel)
        for kind in ALL_KINDS
        for locale in renderer.locales()
        for channel in CHANNELS
    }
    assert len(names) >= 2 * 14
    missing = [name for name in sorted(names) if renderer.compiled_template(name) is None]
    assert not missing, f"rendered by Jinja for every message: {missing}"


def test_compiled_blocks_equal_jinja_over_the_case_table() -> None:
    different = []
    for case, arguments in cases():
        args = (arguments["kind"], arguments["locale"], arguments["channel"])
        compiled = _compiled_parts(*args, arguments["variables"])
        jinja = _jinja_parts(*args, arguments["variables"])
        if compiled != jinja:
            different.append((case, compiled, jinja))
    assert not different, f"{len(different)} cases differ, first: {different[:3]}"


def test_whole_messages_equal_with_compiled_templates_off() -> None:
    table = list(cases())
    different = [case for case, args in table if outcome(COMPILED, args) != outcome(GENERAL, args)]
    assert not different, f"{len(different)} cases differ, first: {different[:5]}"


# -- generated values --------------------------------------------------------------------------

# Markup of both Telegram parse modes, entities, quotes, line breaks of every kind, CLDR spaces.
_TRICKY = "<>&'\"*_[]()~`>#+-=|{}.!\\\n\r\u2028\u2029\x85\x0b\u202f\u00a0 \t"
names = st.one_of(
    st.text(alphabet=st.sampled_from(_TRICKY + "AnñŁ😀"), max_size=12),
    st.sampled_from(
        ["<b>Ann</b>", "*bold* _it_", "&amp; &lt;", "Ann\n\n\nO'Neil", "  ", "José", "<"]
    ),
    st.text(max_size=20),
)
optional_text = st.one_of(st.none(), st.just(""), names)
numbers = st.one_of(
    st.none(), st.just(""), st.just(0), st.integers(1, 99), st.integers(1, 99).map(str)
)
zones = st.sampled_from(ZONES)
instants = st.one_of(
    st.datetimes(
        min_value=datetime(1990, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.sampled_from(ZONES[1:-1]).map(ZoneInfo),
    ),
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)),  # naive
    st.datetimes(timezones=st.just(UTC)),
    st.integers(-14 * 60, 14 * 60).map(
        lambda m: datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(minutes=m)))
    ),
)
OPTIONAL = {
    "medication_reminder": (
        "patient_name",
        "medicine_name",
        "dose_text",
        "medicine_number",
        "due_day",
    ),
    "dose_followup": ("medicine_name", "medicine_number", "due_day"),
    "missed_dose_caregiver": ("caregiver_name", "medicine_name", "patient_name", "due_day"),
    "caregiver_dose_update": (
        "caregiver_name",
        "medicine_name",
        "medicine_number",
        "patient_name",
        "due_day",
    ),
    # The clinic's time beside the patient's (scheduler.appointment_times).
    "appointment_confirmation": (
        "clinician_name",
        "location",
        "clinic_zone",
        "your_time",
        "your_day",
    ),
    "appointment_reminder": ("clinician_name", "location", "clinic_zone", "your_time", "your_day"),
    "appointment_cancelled": ("clinic_phone", "clinic_zone", "your_time", "your_day"),
    "appointment_rescheduled": ("location", "clinic_zone", "your_time", "your_day"),
    "refill_reminder": ("medicine_name", "doses_left", "refill_by"),
    "free_text": ("sender_name", "clinic_name"),
    "join_invitation": (),
}
REQUIRED = {
    "medication_reminder": ("due_at",),
    "dose_followup": ("due_at",),
    "missed_dose_caregiver": ("due_at",),
    "caregiver_dose_update": ("due_at", "answered_at"),
    "appointment_confirmation": ("starts_at", "clinic_name"),
    "appointment_reminder": ("starts_at", "clinic_name"),
    "appointment_cancelled": ("starts_at", "clinic_name"),
    "appointment_rescheduled": ("previous_starts_at", "starts_at", "clinic_name"),
    "refill_reminder": (),
    "free_text": ("body",),
    "join_invitation": ("inviting_clinic", "token"),
}


@st.composite
def messages(
    draw: st.DrawFn, kind: str | None = None, channel: str | None = None
) -> tuple[str, str, str, dict[str, Any]]:
    """A kind, locale, channel (those not given) and the variables the dispatcher could pass
    (sometimes one required variable left out: both renderers must then fail alike)."""
    kind = kind or draw(st.sampled_from(ALL_KINDS))
    channel = channel or draw(st.sampled_from(CHANNELS))
    variables: dict[str, Any] = {
        "name_medicine": draw(st.booleans()),
        "share_details": draw(st.booleans()),
    }
    for name in (*REQUIRED[kind], *OPTIONAL[kind]):
        if name.endswith("_at"):
            variables[name] = draw(instants)
        elif name == "medicine_number" or name == "doses_left":
            variables[name] = draw(numbers)
        elif name == "refill_by":
            variables[name] = draw(st.one_of(st.none(), st.dates(), instants))
        elif name in REQUIRED[kind]:
            variables[name] = draw(names)
        else:
            variables[name] = draw(optional_text)
    for name in OPTIONAL[kind]:
        if draw(st.booleans()):
            del variables[name]  # not passed at all: {% if x|default('') %}, x is defined
    if REQUIRED[kind] and draw(st.integers(0, 9)) == 0:
        del variables[draw(st.sampled_from(REQUIRED[kind]))]
    zone = draw(zones)
    if zone is not None or draw(st.booleans()):
        variables["timezone"] = zone
    return kind, draw(st.sampled_from(LOCALES)), channel, variables


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("kind", ALL_KINDS)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_compiled_blocks_equal_jinja_for_generated_values(
    kind: str, channel: str, data: st.DataObject
) -> None:
    _, locale, _, variables = data.draw(messages(kind, channel))
    assert _compiled_parts(kind, locale, channel, variables) == _jinja_parts(
        kind, locale, channel, variables
    )


def _message(renderer: TemplateRenderer, kind: str, locale: str, channel: str, values: Any) -> Any:
    try:
        message = renderer.render(
            kind, locale, channel, values, options=default_options(kind, DOSE, DOSE)
        )
    except Exception as exc:  # the same error, type and text
        return (type(exc).__name__, str(exc))
    return dataclasses.asdict(message)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages())
def test_whole_messages_equal_for_generated_values(
    message: tuple[str, str, str, dict[str, Any]],
) -> None:
    kind, locale, channel, variables = message
    assert _message(COMPILED, kind, locale, channel, variables) == _message(
        GENERAL, kind, locale, channel, variables
    )


# -- escaping -------------------------------------------------------------------------------------

_TEMPLATE_TAGS = re.compile(r"</?b>")
_EMAIL_PARAGRAPHS = re.compile(r"</?p>|<br>")
_ENTITY = re.compile(r"&(amp|lt|gt|#39|#34);")


@settings(max_examples=200, deadline=None)
@given(
    kind=st.sampled_from(ALL_KINDS),
    locale=st.sampled_from(("en", "es", "es-MX")),
    name=names,
    named=st.booleans(),
)
def test_a_value_never_adds_markup_to_telegram_or_email_html(
    kind: str, locale: str, name: str, named: bool
) -> None:
    variables: dict[str, Any] = {
        key: name for key in (*REQUIRED[kind], *OPTIONAL[kind]) if not key.endswith("_at")
    }
    variables |= {
        "due_at": datetime(2026, 3, 4, 8, 0, tzinfo=UTC),
        "answered_at": datetime(2026, 3, 4, 10, 40, tzinfo=UTC),
        "starts_at": datetime(2026, 3, 9, 14, 30, tzinfo=UTC),
        "previous_starts_at": datetime(2026, 3, 7, 9, 15, tzinfo=UTC),
        "refill_by": date(2026, 3, 10),
        "doses_left": 3,
        "name_medicine": named,
        "share_details": named,
    }
    telegram = COMPILED.render(kind, locale, Channel.TELEGRAM, variables).html
    email = COMPILED.render(kind, locale, Channel.EMAIL, variables).html
    assert telegram is not None and email is not None
    body = email.split('line-height: 1.4">\n', 1)[1].rsplit("</body>", 1)[0]
    for shown in (telegram, _EMAIL_PARAGRAPHS.sub("", body)):
        # Only the template's own tags; every '&' starts an entity; no '<' or '>' from a value.
        bare = _ENTITY.sub("", _TEMPLATE_TAGS.sub("", shown))
        assert "<" not in bare and ">" not in bare and "&" not in bare


def test_a_name_with_markup_is_escaped_in_telegram_and_plain_on_sms() -> None:
    variables = {
        "due_at": datetime(2026, 3, 4, 8, 0, tzinfo=UTC),
        "patient_name": '<a href="x">Ann</a> & *Bo*',
        "medicine_name": "<i>Metformin</i>",
        "name_medicine": True,
        "timezone": "Europe/Madrid",
    }
    telegram = COMPILED.render("medication_reminder", "en", Channel.TELEGRAM, variables)
    assert telegram.html == (
        "Hi &lt;a href=&#34;x&#34;&gt;Ann&lt;/a&gt; &amp; *Bo*. Time for your <b>9:00 AM</b> "
        "dose: <b>&lt;i&gt;Metformin&lt;/i&gt;</b>."
    )
    sms = COMPILED.render("medication_reminder", "es", Channel.SMS, variables)
    assert sms.text == (
        'Hola, <a href="x">Ann</a> & *Bo*. Es la hora de tu dosis de las 9:00: <i>Metformin</i>.'
    )


# -- what is not compiled ------------------------------------------------------------------------


def _templates(tmp_path: Path, medication_reminder: str, layout: str | None = None) -> Path:
    (tmp_path / "_message.j2").write_text(layout or (TEMPLATES_DIR / "_message.j2").read_text())
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "medication_reminder.default.j2").write_text(
        '{% extends "_message.j2" %}\n' + medication_reminder
    )
    return tmp_path


@pytest.mark.parametrize(
    "body",
    [
        "{% block text %}{% for c in patient_name %}{{ c }}.{% endfor %}{% endblock %}",
        "{% block text %}{{ patient_name|upper }}{% endblock %}",
        "{% block text %}{% set x = patient_name %}{{ x }}{% endblock %}",
        "{% block text %}{{ patient_name ~ '!' }}{% endblock %}",
        "{% block text %}{{ patient_name[0] }}{% endblock %}",
        "{% block text %}{{ range(3)|list|length }}{% endblock %}",
        "{% block text %}{{ super() }}{% endblock %}",
        "{% block text %}{{ patient_name|default(due_at) }}{% endblock %}",
        "{% block other %}x{% endblock %}{% block text %}{{ patient_name }}{% endblock %}",
        # Past the Python parser's nesting limit for one expression (Jinja still renders it).
        "{% block text %}"
        + "{% if patient_name %}a" * 95
        + "{{ patient_name }}"
        + "{% endif %}" * 95
        + "{% endblock %}",
    ],
)
def test_a_template_outside_the_subset_is_rendered_by_jinja(tmp_path: Path, body: str) -> None:
    renderer = TemplateRenderer(_templates(tmp_path, body))
    assert renderer.compiled_template("en/medication_reminder.default.j2") is None
    general = TemplateRenderer(tmp_path, auto_reload=True)
    values = {"patient_name": "Ann", "due_at": datetime(2026, 3, 4, 8, 0, tzinfo=UTC)}
    for channel in (Channel.SMS, Channel.TELEGRAM):
        expected = _message(general, "medication_reminder", "en", channel, values)
        assert _message(renderer, "medication_reminder", "en", channel, values) == expected


@pytest.mark.parametrize(
    "layout",
    [
        "{{ patient_name }}{% block text %}{% endblock %}",
        "{% set greeting = 'Hi' %}{% block text %}{% endblock %}",
        "{% if patient_name %}{% block text %}{% endblock %}{% endif %}",
        "{% include 'other.j2' %}{% block text %}{% endblock %}",
        "{% if section == 'text' %}{{ self.text() }}{% else %}{{ self.text() }}{% endif %}"
        "{% block text %}{% endblock %}",
    ],
)
def test_a_layout_that_prints_or_sets_outside_its_blocks_is_not_compiled(
    tmp_path: Path, layout: str
) -> None:
    renderer = TemplateRenderer(_templates(tmp_path, "{% block text %}Time.{% endblock %}", layout))
    assert compile_template(renderer._text_env, renderer._html_env, "_message.j2") is None
    assert renderer.compiled_template("en/medication_reminder.default.j2") is None


def test_a_tested_expression_is_evaluated_as_jinja_evaluates_it(tmp_path: Path) -> None:
    body = (
        "{% block text %}{{ (due_at|time) is defined }} {{ (due_at|time) is undefined }} "
        "{{ (due_at|time) is none }}{% if (other|time) is defined %}!{% endif %}{% endblock %}"
    )
    renderer = TemplateRenderer(_templates(tmp_path, body))
    compiled = renderer.compiled_template("en/medication_reminder.default.j2")
    assert compiled is not None
    due = datetime(2026, 3, 4, 8, 0, tzinfo=UTC)
    values = {"due_at": due, "other": due, "locale": "en", "timezone": None}
    assert compiled.blocks["text"](values) == "True False False!"
    with pytest.raises(KeyError):  # Jinja raises here: the general renderer then decides
        compiled.blocks["text"]({"due_at": due, "locale": "en", "timezone": None})
    general = TemplateRenderer(tmp_path, auto_reload=True)
    for passed in ({"due_at": due, "other": due}, {"due_at": due}):
        expected = _message(general, "medication_reminder", "en", Channel.SMS, passed)
        assert _message(renderer, "medication_reminder", "en", Channel.SMS, passed) == expected
    assert "UndefinedError" in str(_message(renderer, "medication_reminder", "en", "sms", {}))


def test_a_missing_variable_raises_jinjas_error_as_before() -> None:
    for renderer in (COMPILED, GENERAL):
        with pytest.raises(UndefinedError, match="due_at"):
            renderer.render("medication_reminder", "en", Channel.SMS, {"patient_name": "Ann"})


def test_clinician_templates_are_never_compiled() -> None:
    renderer = TemplateRenderer()
    message = renderer.render_custom(
        "Hi {{ patient_name }}, {{ due_at|time }}",
        {"patient_name": "Ann", "due_at": datetime(2026, 3, 4, 8, 0, tzinfo=UTC)},
        Channel.TELEGRAM,
        options=[Option(label="OK", data="ok")],
    )
    assert message.text == "Hi Ann, 8:00 AM"
    assert renderer._compiled == {}  # only built-in files, by name, are ever compiled


def test_the_compiled_blocks_are_the_layouts() -> None:
    compiled = COMPILED.compiled_template("en/appointment_reminder.sms.j2")
    assert compiled is not None
    assert set(compiled.blocks) == set(BLOCKS)
    assert compiled.literal["inline_replies"] == "1/C 2/R 3/X"
    assert "confirm: I'll be there" in compiled.literal["labels"]  # from the default file
    assert "text" not in compiled.literal
