"""The renderer's fast path (kept chains, literal blocks, cached display strings) against its
general path, across every built-in template, locale, channel and option set (issue 20).

The general path is a renderer with ``auto_reload``: it keeps no chain, so every block of every
message is rendered from the template. Both must give the same message byte for byte, and the
same error where one is raised.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from core.messages import Channel
from core.templating import (
    TEMPLATES_DIR,
    TemplateRenderer,
    _displayed_datetime,
    _literal_blocks,
    _template_variables,
)
from tests.unit.render_cases import cases, outcome


def test_the_fast_path_renders_every_case_as_the_general_path() -> None:
    fast, general = TemplateRenderer(), TemplateRenderer(auto_reload=True)
    table = list(cases())
    for _case, arguments in table:  # the first pass fills the fast renderer's caches
        outcome(fast, arguments)
    different = [case for case, args in table if outcome(fast, args) != outcome(general, args)]
    assert not different, f"{len(different)} cases differ, first: {different[:5]}"


def test_the_built_in_labels_and_replies_are_read_as_literal_text() -> None:
    # Otherwise the fast path renders them per message, as before (slower, still the same).
    env = TemplateRenderer()._text_env
    sms = _literal_blocks(env, "en/appointment_reminder.sms.j2")
    assert sms["inline_replies"] == "1/C 2/R 3/X"
    assert "confirm" in sms["labels"]  # inherited from en/appointment_reminder.default.j2
    assert "text" not in sms  # the time and the clinic's name
    reminder = _literal_blocks(env, "en/medication_reminder.default.j2")
    assert "taken" in reminder["labels"] and "text" not in reminder and "html" not in reminder


def test_a_block_with_a_variable_a_filter_or_a_tag_is_rendered_each_time(tmp_path: Path) -> None:
    (tmp_path / "_message.j2").write_text((TEMPLATES_DIR / "_message.j2").read_text())
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "medication_reminder.default.j2").write_text(
        '{% extends "_message.j2" %}\n'
        "{% block text %}Time for your dose.{% endblock %}\n"
        "{% block labels %}taken: {{ patient_name }}\nskip: Skip{% endblock %}\n"
        "{% block inline_replies %}{% if name_medicine %}T{% endif %}{% endblock %}\n"
        "{% block subject %}{{ 'x' | upper }}{% endblock %}\n"
    )
    renderer = TemplateRenderer(tmp_path)
    static = _literal_blocks(renderer._text_env, "en/medication_reminder.default.j2")
    assert static == {"text": "Time for your dose.", "html": ""}
    for name in ("Ann", "Luis"):
        message = renderer.render(
            "medication_reminder",
            "en",
            Channel.SMS,
            {"patient_name": name},
            options=[("taken", "d:1"), ("skip", "d:2")],
        )
        assert [o.label for o in message.options] == [name, "Skip"]


def test_display_strings_are_cached_by_instant_zone_fold_and_locale() -> None:
    new_york = ZoneInfo("America/New_York")
    # 01:30 comes twice on 1 November 2026 in New York: fold 0 is EDT, fold 1 is EST.
    first = datetime(2026, 11, 1, 1, 30, tzinfo=new_york)
    second = first.replace(fold=1)
    assert first == second  # same zone: compared by wall clock, fold ignored
    assert _displayed_datetime(first, "UTC", "en") == "Nov 1, 2026, 5:30 AM"
    assert _displayed_datetime(second, "UTC", "en") == "Nov 1, 2026, 6:30 AM"
    utc = datetime(2026, 3, 4, 8, 0, tzinfo=UTC)
    madrid = utc.astimezone(ZoneInfo("Europe/Madrid"))
    assert _displayed_datetime(utc, None, "en") == "Mar 4, 2026, 8:00 AM"
    assert _displayed_datetime(madrid, None, "en") == "Mar 4, 2026, 9:00 AM"
    assert _displayed_datetime(madrid, None, "es") == "4 mar 2026, 9:00"
    values = {"due_at": utc, "timezone": "Asia/Kolkata", "locale": "en", "medicine_name": "X"}
    assert _template_variables(values) == {"due_at": "Mar 4, 2026, 1:30 PM"}
