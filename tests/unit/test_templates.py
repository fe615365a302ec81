"""Built-in templates in every locale and channel, and clinician templates in the sandbox."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from jinja2.exceptions import SecurityError, UndefinedError

from core import sms_fit
from core.template_measure import utf16_units
from core.template_vocabulary import MAX_NESTING, max_units
from core.templating import (
    KINDS,
    TELEGRAM_MAX_CHARS,
    WHATSAPP_MAX_CHARS,
    MessageTooLong,
    TemplateNotAllowed,
    TemplateRenderer,
    UnknownTemplate,
    count_segments,
    with_numbered_options,
)
from platforms.base import Channel, Option
from scheduler.appointment_times import clinic_time_values
from tests.fakes.fake_telegram import telegram_html_problem

LOCALES = ("en", "es")
CHANNELS = tuple(Channel)
MADRID = ZoneInfo("Europe/Madrid")
SMS_MAX_SEGMENTS = 3
# Realistic long values, so "within limits" means something.
VARIABLES: dict[str, Any] = {
    "patient_name": "María José Fernández",
    "caregiver_name": "Carlos Fernández López",
    "due_at": datetime(2025, 3, 4, 20, 0, tzinfo=MADRID),
    "answered_at": datetime(2025, 3, 4, 22, 40, tzinfo=MADRID),
    "medicine_name": "Metformin hydrochloride",
    "dose_text": "2 tablets (500 mg)",
    "starts_at": datetime(2025, 3, 12, 9, 30, tzinfo=MADRID),
    "previous_starts_at": datetime(2025, 3, 10, 16, 45, tzinfo=MADRID),
    "clinic_name": "Centro de Salud San Blas Norte",
    "clinician_name": "Dra. Ana Beltrán",
    "location": "Consulta 14, segunda planta",
    "clinic_phone": "+34 910 000 000",
    "doses_left": 4,
    "refill_by": date(2025, 3, 8),
    "body": "Please bring your glucose diary to the next visit.",
    "sender_name": "Nurse Ana",
}
OPTIONS: dict[str, list[tuple[str, str]]] = {
    "medication_reminder": [("taken", "t:ab12cd34"), ("snooze", "s:ab12cd34"), ("skip", "k:1")],
    "dose_followup": [("taken", "t:ab12cd34"), ("skip", "k:ab12cd34")],
    "appointment_confirmation": [("confirm", "ac:1"), ("reschedule", "ar:1"), ("cancel", "ax:1")],
    "appointment_reminder": [("confirm", "ac:1"), ("reschedule", "ar:1"), ("cancel", "ax:1")],
    "appointment_rescheduled": [("confirm", "ac:1"), ("reschedule", "ar:1"), ("cancel", "ax:1")],
    "refill_reminder": [("refilled", "rf:1"), ("later", "rl:1")],
}


@pytest.fixture(scope="module")
def renderer() -> TemplateRenderer:
    return TemplateRenderer(sms_max_segments=SMS_MAX_SEGMENTS)


@pytest.mark.parametrize("channel", CHANNELS, ids=str)
@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_template_renders_within_limits(
    renderer: TemplateRenderer, kind: str, locale: str, channel: Channel
) -> None:
    for name_medicine in (False, True):
        variables = {**VARIABLES, "name_medicine": name_medicine, "share_details": name_medicine}
        message = renderer.render(kind, locale, channel, variables, options=OPTIONS.get(kind, ()))

        assert message.text.strip()
        assert message.kind == kind
        assert "{{" not in message.text and "{%" not in message.text
        for option in message.options:
            assert option.label != option.data.split(":")[0], "label missing from labels block"
            assert len(option.data.encode()) <= 64
        shown = with_numbered_options(message.text, message.options)
        if channel is Channel.SMS:
            assert count_segments(shown)[1] <= SMS_MAX_SEGMENTS
            assert "\u202f" not in shown  # CLDR's narrow space would force UCS-2
        if channel is Channel.WHATSAPP:
            assert len(shown) <= WHATSAPP_MAX_CHARS
        if channel is Channel.TELEGRAM:
            assert message.html is not None
            assert len(message.html) <= TELEGRAM_MAX_CHARS
            assert telegram_html_problem(message.html) is None
        if channel is Channel.EMAIL:
            assert message.subject and "\n" not in message.subject
            assert len(message.subject) <= 120
            assert message.html is not None and message.html.startswith("<!doctype html>")
        else:
            assert message.subject is None


@pytest.mark.parametrize("channel", CHANNELS, ids=str)
@pytest.mark.parametrize("locale", LOCALES)
def test_reminders_are_generic_unless_the_patient_opted_in(
    renderer: TemplateRenderer, locale: str, channel: Channel
) -> None:
    for kind in ("medication_reminder", "dose_followup", "refill_reminder"):
        generic = renderer.render(kind, locale, channel, VARIABLES)
        assert "Metformin" not in generic.text
        assert "Metformin" not in (generic.html or "")
        assert "Metformin" not in (generic.subject or "")
        assert "medicine_name" not in generic.variables  # nor in WhatsApp template variables
        named = renderer.render(kind, locale, channel, {**VARIABLES, "name_medicine": True})
        assert "Metformin" in named.text

    alert = renderer.render("missed_dose_caregiver", locale, channel, VARIABLES)
    assert "Metformin" not in alert.text
    detailed = renderer.render(
        "missed_dose_caregiver", locale, channel, {**VARIABLES, "share_details": True}
    )
    assert "Metformin" in detailed.text


@pytest.mark.parametrize("channel", CHANNELS, ids=str)
def test_only_whatsapp_messages_carry_template_variables(
    renderer: TemplateRenderer, channel: Channel
) -> None:
    # WhatsApp sends an approved template with them outside the 24-hour window; no other
    # channel reads them (built only for WhatsApp: issue 20).
    message = renderer.render("medication_reminder", "en", channel, VARIABLES)
    custom = renderer.render_custom("Hi {{ patient_name }}", VARIABLES, channel)
    if channel is Channel.WHATSAPP:
        assert message.variables["patient_name"] == "María José Fernández"
        assert message.variables["due_at"] == "Mar 4, 2025, 8:00 PM"
        assert "medicine_name" not in message.variables  # not opted in
        assert custom.variables["patient_name"] == "María José Fernández"
    else:
        assert message.variables == {} and custom.variables == {}


def test_generic_reminder_wording(renderer: TemplateRenderer) -> None:
    variables = {"due_at": datetime(2025, 3, 4, 20, 0, tzinfo=UTC)}
    assert (
        renderer.render("medication_reminder", "en", "sms", variables).text
        == "Time for your 8:00 PM dose."
    )
    assert (
        renderer.render("medication_reminder", "es", "sms", variables).text
        == "Es la hora de tu dosis de las 20:00."
    )


def test_regional_locale_tags_format_like_their_region_and_unknown_ones_do_not_fail(
    renderer: TemplateRenderer,
) -> None:
    variables = {"due_at": datetime(2025, 3, 4, 20, 0, tzinfo=UTC)}
    # A BCP 47 tag from a patient's profile (hyphen), for built-in and clinician templates.
    spanish = renderer.render("medication_reminder", "es-MX", "sms", variables).text
    assert spanish.startswith("Es la hora de tu dosis")
    custom = renderer.render_custom("Cita: {{ due_at|date }}", variables, "sms", locale="es-MX")
    assert custom.text == "Cita: 4 mar 2025"
    assert renderer.render("medication_reminder", "xx-YY", "sms", variables).text == (
        "Time for your 8:00 PM dose."
    )


def test_times_are_shown_in_the_patient_timezone(renderer: TemplateRenderer) -> None:
    variables = {"due_at": datetime(2025, 3, 4, 19, 0, tzinfo=UTC), "timezone": "Europe/Madrid"}
    message = renderer.render("medication_reminder", "en", "console", variables)
    assert "8:00 PM" in message.text


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    "kind", ["appointment_confirmation", "appointment_reminder", "appointment_rescheduled"]
)
def test_sms_appointments_ask_for_letters_never_cancel(
    renderer: TemplateRenderer, kind: str, locale: str
) -> None:
    message = renderer.render(kind, locale, "sms", VARIABLES, options=OPTIONS[kind])
    # Carriers treat a reply of CANCEL (or STOP) as an opt-out from every text we send.
    assert "CANCEL" not in message.text
    assert "reply cancel" not in message.text.lower()
    assert " C " in message.text and " R " in message.text and " X " in message.text
    assert "STOP" not in message.text.upper()
    # The letters replace the numbered replies; the options stay known, each with its letter, so
    # the question is recorded with the answers the text shows.
    assert message.numbered_options == ()
    assert message.reply_keys == ("1/C", "2/R", "3/X")
    assert [o.data for o in message.options] == [data for _, data in OPTIONS[kind]]


def test_labels_are_localised(renderer: TemplateRenderer) -> None:
    message = renderer.render(
        "medication_reminder", "es", "telegram", VARIABLES, options=OPTIONS["medication_reminder"]
    )
    assert [o.label for o in message.options] == ["Tomada", "Recordar en 15 min", "Omitir"]
    assert [o.data for o in message.options] == ["t:ab12cd34", "s:ab12cd34", "k:1"]
    ready = Option("Custom", "c:1")
    assert renderer.render("free_text", "en", "sms", VARIABLES, options=[ready]).options == (ready,)


def test_variables_are_escaped_in_html_only(renderer: TemplateRenderer) -> None:
    variables = {**VARIABLES, "patient_name": "<b>Bo & Co</b>"}
    message = renderer.render("medication_reminder", "en", "telegram", variables)
    assert "<b>Bo & Co</b>" in message.text
    assert message.html is not None
    assert "&lt;b&gt;Bo &amp; Co&lt;/b&gt;" in message.html
    assert telegram_html_problem(message.html) is None
    email = renderer.render("medication_reminder", "en", "email", variables)
    assert email.html is not None and "&lt;b&gt;Bo" in email.html


def test_fallbacks(renderer: TemplateRenderer) -> None:
    assert renderer.template_name("medication_reminder", "fr", "sms").startswith("en/")
    assert renderer.template_name("medication_reminder", "es-MX", "sms").startswith("es/")
    assert renderer.template_name("medication_reminder", "en", "sms").endswith(".default.j2")
    assert renderer.template_name("appointment_reminder", "en", "sms").endswith(".sms.j2")
    with pytest.raises(UnknownTemplate):
        renderer.render("no_such_kind", "en", "sms", VARIABLES)
    assert renderer.locales() == ["en", "es"]


def test_templates_dir_is_overridable(tmp_path: Path) -> None:
    (tmp_path / "_message.j2").write_text(
        (Path(__file__).resolve().parents[2] / "templates" / "_message.j2").read_text()
    )
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "free_text.default.j2").write_text(
        '{% extends "_message.j2" %}{% block text %}Custom: {{ body }}{% endblock %}'
    )
    message = TemplateRenderer(tmp_path).render("free_text", "es", "sms", {"body": "hi"})
    assert message.text == "Custom: hi"


def _custom_dir(tmp_path: Path, text_block: str) -> Path:
    (tmp_path / "_message.j2").write_text(
        (Path(__file__).resolve().parents[2] / "templates" / "_message.j2").read_text()
    )
    (tmp_path / "en").mkdir(exist_ok=True)
    (tmp_path / "en" / "free_text.default.j2").write_text(
        '{% extends "_message.j2" %}{% block text %}' + text_block + "{% endblock %}"
    )
    return tmp_path


def test_template_files_are_read_once_unless_auto_reload(tmp_path: Path) -> None:
    """A worker reads each file once (no stat per message); ``medremind dev`` sees edits."""
    once = TemplateRenderer(_custom_dir(tmp_path, "First: {{ body }}"))
    reloading = TemplateRenderer(tmp_path, auto_reload=True)
    assert once.render("free_text", "en", "sms", {"body": "hi"}).text == "First: hi"
    assert reloading.render("free_text", "en", "sms", {"body": "hi"}).text == "First: hi"
    source = tmp_path / "en" / "free_text.default.j2"
    source.write_text(source.read_text().replace("First", "Edited"))
    stat = source.stat()
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    assert once.render("free_text", "en", "sms", {"body": "hi"}).text == "First: hi"
    assert reloading.render("free_text", "en", "sms", {"body": "hi"}).text == "Edited: hi"


def test_a_top_level_set_is_seen_by_every_message(tmp_path: Path) -> None:
    """Blocks are called without the layout's walk only where the walk sets nothing: a template
    with a top-level ``{% set %}`` renders as a whole render of it would, message after message."""
    _custom_dir(tmp_path, "{{ greeting }}: {{ body }}")
    source = tmp_path / "en" / "free_text.default.j2"
    source.write_text(
        source.read_text().replace("{% block", '{% set greeting = "Hola" %}{% block', 1)
    )
    renderer = TemplateRenderer(tmp_path)
    whole = renderer._text_env.get_template("en/free_text.default.j2")
    for body in ("one", "two"):
        message = renderer.render("free_text", "en", "telegram", {"body": body})
        assert message.text == whole.render(section="text", body=body) == f"Hola: {body}"
        assert message.html == f"Hola: {body}"


def test_one_instant_in_two_zones_is_two_times(renderer: TemplateRenderer) -> None:
    """Formatted times are cached by wall clock and zone, never by the instant alone."""
    due = datetime(2026, 3, 4, 8, 0, tzinfo=UTC)
    texts = [
        renderer.render("medication_reminder", "en", "sms", {"due_at": due, "timezone": zone}).text
        for zone in ("UTC", "Europe/Madrid", "UTC")
    ]
    assert "8:00" in texts[0] and "9:00" in texts[1] and texts[2] == texts[0]


def test_missing_variable_is_an_error(renderer: TemplateRenderer) -> None:
    with pytest.raises(UndefinedError):
        renderer.render("medication_reminder", "en", "sms", {})


def test_over_long_messages_are_refused(renderer: TemplateRenderer) -> None:
    with pytest.raises(MessageTooLong, match="sms"):
        renderer.render("free_text", "en", "sms", {"body": "word " * 200})
    with pytest.raises(MessageTooLong, match="whatsapp"):
        renderer.render("free_text", "en", "whatsapp", {"body": "word " * 400})
    # Telegram splits long texts itself, so rendering allows them.
    assert renderer.render("free_text", "en", "telegram", {"body": "word " * 1000}).text


# -- clinician templates ----------------------------------------------------------------

ALLOWED = ["patient_name", "due_at", "clinic_name"]


def test_custom_template_renders_in_the_sandbox(renderer: TemplateRenderer) -> None:
    source = "Hi {{ patient_name|upper }}, see you at {{ due_at|time }} - {{ clinic_name }}"
    message = renderer.render_custom(source, VARIABLES, "telegram", locale="es")
    assert message.text == (
        "Hi MARÍA JOSÉ FERNÁNDEZ, see you at 20:00 - Centro de Salud San Blas Norte"
    )
    assert renderer.validate_custom(source, "sms", ALLOWED) == []


def test_custom_template_html_escapes_everything(renderer: TemplateRenderer) -> None:
    message = renderer.render_custom("<3 {{ name }}", {"name": "<i>x</i>"}, "telegram")
    assert message.html == "&lt;3 &lt;i&gt;x&lt;/i&gt;"


def test_custom_template_missing_variable_raises(renderer: TemplateRenderer) -> None:
    with pytest.raises(UndefinedError):
        renderer.render_custom("Hi {{ patient_name }}", {}, "sms")


def test_unknown_variable_is_named_with_its_line(renderer: TemplateRenderer) -> None:
    problems = renderer.validate_custom("Hi {{ patient_name }}\n{{ diagnosis }}", "sms", ALLOWED)
    assert problems == [
        "line 2: unknown variable 'diagnosis' (allowed variables: clinic_name, due_at, "
        "patient_name)"
    ]


def test_syntax_error_has_its_line(renderer: TemplateRenderer) -> None:
    [problem] = renderer.validate_custom("Hi\n{{ patient_name }\n", "sms", ALLOWED)
    assert problem.startswith("line 2: syntax error:")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ ''.__class__ }}", "attribute '__class__' is not allowed"),
        ("{{ patient_name.__class__.__mro__[1].__subclasses__() }}", "attribute '__class__'"),
        ("{{ patient_name|attr('format') }}", "the 'attr' filter is not allowed"),
        ("{{ patient_name.__globals__ }}", "attribute '__globals__' is not allowed"),
        ("{{ patient_name.format }}", "attribute 'format' is not allowed"),
        ("{{ patient_name['__class__'] }}", "item '__class__' is not allowed"),
        ("{{ patient_name.upper() }}", "calling functions or methods is not allowed"),
        ("{{ patient_name|pprint }}", "the 'pprint' filter is not allowed"),
        ("{% include 'en/free_text.default.j2' %}", "including or importing"),
        ("{% import 'x.j2' as x %}", "including or importing"),
        ("{{ lipsum.__globals__['os'] }}", "attribute '__globals__' is not allowed"),
    ],
)
def test_sandbox_escape_attempts_are_rejected(
    renderer: TemplateRenderer, source: str, expected: str
) -> None:
    problems = renderer.validate_custom(source, "sms", ALLOWED)
    assert any(expected in p for p in problems), problems
    assert all(p.startswith("line 1:") for p in problems if "unknown variable" not in p)


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__ }}",
        "{{ x.__globals__ }}",
        "{{ ''|attr('__class__') }}",
    ],
)
def test_sandbox_blocks_escapes_at_render_time_too(renderer: TemplateRenderer, source: str) -> None:
    with pytest.raises((SecurityError, UndefinedError)):
        renderer.render_custom(source, {"x": "value"}, "sms")


@pytest.mark.parametrize("name", ["lipsum", "range", "dict", "cycler", "joiner", "namespace"])
def test_jinja_globals_are_not_available_to_clinician_templates(
    renderer: TemplateRenderer, name: str
) -> None:
    assert any(
        f"unknown variable '{name}'" in p
        for p in renderer.validate_custom(f"{{{{ {name} }}}}", "sms", ALLOWED)
    )
    with pytest.raises(UndefinedError):
        renderer.render_custom(f"{{{{ {name} }}}}", {"x": "value"}, "sms")


def test_over_the_channel_limit_in_the_worst_case(renderer: TemplateRenderer) -> None:
    source = "{{ patient_name }} " + "Lorem ipsum dolor sit amet. " * 20
    [problem] = renderer.validate_custom(source, "sms", ALLOWED)
    assert problem.startswith("too long for sms in the worst case (every variable at its longest")
    assert "UCS-2" in problem and "at most 3 allowed" in problem
    assert renderer.validate_custom(source, "email", ALLOWED) == []
    long_source = "x" * 5000
    [telegram_problem] = renderer.validate_custom(long_source, "telegram", ALLOWED)
    assert "at most 4096" in telegram_problem


def _longest(text: str, variable: str) -> str:
    """``text`` repeated and cut to ``variable``'s longest stored value, in UTF-16 units."""
    value = text * 60
    while utf16_units(value) > max_units(variable):
        value = value[:-1]
    return value


# Every name, medicine and place at the longest the tables take, with emoji: UCS-2 on SMS.
LONGEST_UCS2 = {
    **VARIABLES,
    "patient_name": _longest("Guadalupe 🌸 ", "patient_name"),
    "caregiver_name": _longest("Rosario 🌻 ", "caregiver_name"),
    "clinician_name": _longest("Dra. Begoña 🩺 ", "clinician_name"),
    "medicine_name": _longest("Metformina 💊 ", "medicine_name"),
    "dose_text": _longest("2 comprimidos ", "dose_text"),
    "clinic_name": _longest("Centro de Salud 🏥 ", "clinic_name"),
    "location": _longest("Consulta 14 🚪 ", "location"),
    "medicine_number": "12",
}
# The dose's day at its longest, not GSM-7 (Spanish Saturdays are "sáb").
LONGEST_DAY = _longest("sáb, 25 de septiembre ", "due_day")


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", [*KINDS, "patient_unreachable_caregiver"])
def test_every_sms_fits_its_segments_whatever_the_names(
    renderer: TemplateRenderer, kind: str, locale: str
) -> None:
    """An emoji makes the whole SMS UCS-2 (67 units a segment, an emoji two): at their longest,
    the reminder naming its medicine and the caregiver alert came to 4 segments and were refused
    (no SMS at all). Names shorten to the first name, then the medicine and dose (core.sms_fit);
    a text that fits is left whole. A reminder or nag sent on another day than its dose's names
    the day too (``due_day``, scheduler.dose_day): at its longest it still fits."""
    for named, day in itertools.product((False, True), (None, LONGEST_DAY)):
        values = {**LONGEST_UCS2, "name_medicine": named, "share_details": named}
        if day is not None:
            values["due_day"] = day
        message = renderer.render(kind, locale, Channel.SMS, values, options=OPTIONS.get(kind, ()))
        shown = with_numbered_options(message.text, () if message.reply_keys else message.options)
        assert count_segments(shown)[1] <= SMS_MAX_SEGMENTS, shown
        if day is not None and kind in (
            "medication_reminder",
            "dose_followup",
            "missed_dose_caregiver",
            "caregiver_dose_update",
        ):
            assert day in message.text
    short = {**VARIABLES, "patient_name": "Ana 🌸 Ruiz", "name_medicine": True}
    text = renderer.render("medication_reminder", locale, Channel.SMS, short).text
    assert "Ana 🌸 Ruiz" in text and VARIABLES["medicine_name"] in text


# The clinic's time beside the patient's (scheduler.appointment_times) at its longest: CLDR's
# longest exemplar city in Spanish (New Salem, North Dakota), a patient 16 hours behind on
# another day (Pago Pago), and a 12-hour clock in Spanish ("12:00 a.m.", es-MX).
LONGEST_ZONES = ("America/North_Dakota/New_Salem", "Pacific/Pago_Pago")


@pytest.mark.parametrize("channel", CHANNELS, ids=str)
@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", [k for k in KINDS if k.startswith("appointment_")])
def test_every_appointment_text_names_both_zones_on_every_channel(
    renderer: TemplateRenderer, kind: str, locale: str, channel: Channel
) -> None:
    """A patient in New York of a clinic in Madrid: every channel's text (and Telegram's and the
    e-mail's HTML) names Madrid's 09:30 and the patient's 04:30, within the channel's limits."""
    both = clinic_time_values(
        VARIABLES["starts_at"],
        "America/New_York",
        "Europe/Madrid",
        locale,
        sms=channel is Channel.SMS,
    )
    assert both is not None
    values = {**VARIABLES, **both}
    message = renderer.render(kind, locale, channel, values, options=OPTIONS.get(kind, ()))
    clinic_time = "9:30 AM Madrid time" if locale == "en" else "9:30"
    assert clinic_time in message.text and "Madrid" in message.text, message.text
    assert "4:30" in message.text, message.text
    if message.html is not None:
        assert "Madrid" in message.html and "4:30" in message.html
    if channel is Channel.TELEGRAM:
        assert message.html is not None and telegram_html_problem(message.html) is None
    shown = with_numbered_options(message.text, () if message.reply_keys else message.options)
    if channel is Channel.SMS:
        assert count_segments(shown)[1] <= SMS_MAX_SEGMENTS
    if channel is Channel.WHATSAPP:
        assert len(shown) <= WHATSAPP_MAX_CHARS


@pytest.mark.parametrize("locale", [*LOCALES, "es-MX"])
@pytest.mark.parametrize("kind", [k for k in KINDS if k.startswith("appointment_")])
def test_every_appointment_sms_fits_with_both_zones(
    renderer: TemplateRenderer, kind: str, locale: str
) -> None:
    """Naming the clinic's zone and the patient's time and day adds up to ~60 characters: with
    every name at its longest and in UCS-2 the SMS still fits its segments (names, then the
    clinic and its city are shortened), and it still names both times and the patient's day."""
    clinic, patient = LONGEST_ZONES
    starts = LONGEST_UCS2["starts_at"]
    both = clinic_time_values(starts, patient, clinic, locale, sms=True)
    assert both is not None and "your_day" in both
    values = {**LONGEST_UCS2, **both}
    message = renderer.render(kind, locale, Channel.SMS, values, options=OPTIONS.get(kind, ()))
    shown = with_numbered_options(message.text, () if message.reply_keys else message.options)
    assert count_segments(shown)[1] <= SMS_MAX_SEGMENTS, shown
    assert "New Salem" in shown and both["your_time"] in shown and both["your_day"] in shown


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("Ana", "Ana"),
        ("Guadalupe Fernández", "Guadalupe"),
        ("👵" * 8, "👵" * 6),  # 12 units: six emoji
        ("Benjamín👨\u200d👩\u200d👧", "Benjamín👨"),  # no joiner left at the end
        ("A🇪🇸🇲🇽🇦🇷🇨🇴", "A🇪🇸🇲🇽"),  # no half a flag
    ],
)
def test_a_short_name_is_cut_in_units_never_in_half_an_emoji(name: str, shown: str) -> None:
    assert sms_fit.short_name(name) == shown


def test_a_name_at_its_longest_counts_as_ucs2(renderer: TemplateRenderer) -> None:
    """The issue's case: 17 GSM-7 sample letters fitted; "Łukasz Nowak" made it 7 segments."""
    source = "Dear {{ patient_name }}, " + "please remember your appointment. " * 5
    [problem] = renderer.validate_custom(source, "sms", ALLOWED)
    assert "UCS-2 segments" in problem
    # The same text without a variable is GSM-7 and fits.
    assert (
        renderer.validate_custom(source.replace("{{ patient_name }}", "Ana"), "sms", ALLOWED) == []
    )


def test_deep_nesting_is_refused_not_a_crash(renderer: TemplateRenderer) -> None:
    """Jinja's parser recurses once per bracket: 229 of them were a RecursionError (a 500)."""
    for source in ("{" * 229, "{{ " + "not " * 3000 + "patient_name }}", "{{ " + "(" * 3000):
        assert renderer.validate_custom(source, "sms", ALLOWED) == [
            "the template is nested too deeply (brackets, 'not' or filters)"
        ]


@pytest.mark.parametrize(
    "nest",
    [
        lambda n: "{{ " + "'a' if patient_name else " * n + "'b' }}",
        lambda n: "{% if patient_name %}" * n + "x" + "{% endif %}" * n,
        lambda n: "{{ " + "patient_name and " * n + "patient_name }}",
        lambda n: "{{ patient_name" + "|title" * n + " }}",
    ],
    ids=["conditionals", "ifs", "and", "filters"],
)
def test_parts_nested_past_the_limit_are_refused_before_anything_compiles(
    renderer: TemplateRenderer, nest: Callable[[int], str]
) -> None:
    """Checked and allowed, 150 nested conditionals broke Python's compiler at the first render
    (the web's validate answered 500); 100 took 0.6 s to compile. Up to the limit they render."""
    deep = "Hello\n" + nest(MAX_NESTING)
    [problem] = renderer.validate_custom(deep, "email", ALLOWED)
    assert problem.startswith("line 2: the template is nested too deeply (more than 30 levels")
    with pytest.raises(TemplateNotAllowed, match="nested too deeply"):
        renderer.render_custom(deep, {"patient_name": "Ann"}, "email")
    fits = nest(MAX_NESTING - 3)  # the expression's own levels (output, name) count too
    assert renderer.validate_custom(fits, "email", ALLOWED) == []
    assert renderer.render_custom(fits, {"patient_name": "Ann"}, "email").text


def test_empty_template(renderer: TemplateRenderer) -> None:
    assert renderer.validate_custom("  ", "sms", ALLOWED) == ["the template is empty"]
