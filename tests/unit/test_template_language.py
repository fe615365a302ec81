"""The template language's bounds: date formats in the common locales, and shortening."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import available_timezones

import pytest

from core import template_language as lang
from core.templating import TemplateRenderer
from scheduler.appointment_times import zone_city

# The locales DATE_FORMATS was measured over (its comment); a longer spelling would be shortened.
COMMON_LOCALES = [
    "en",
    "en_GB",
    "es",
    "es_MX",
    "fr",
    "fr_CA",
    "de",
    "pt",
    "pt_BR",
    "it",
    "nl",
    "pl",
    "ru",
    "uk",
    "ar",
    "zh",
    "ja",
    "ko",
    "hi",
    "tr",
    "vi",
    "el",
    "ca",
    "eu",
    "gl",
    "ro",
    "cs",
    "sv",
    "da",
    "nb",
    "fi",
    "hu",
    "he",
    "fa",
    "id",
    "th",
    "bg",
    "hr",
    "sr",
    "sk",
    "sl",
    "lt",
    "lv",
    "et",
]
# Long month and weekday names, and hours with two digits before and after noon.
MOMENTS = [
    datetime(2025, month, day, hour, 30, tzinfo=UTC)
    for month in range(1, 13)
    for day, hour in ((22, 9), (24, 21), (27, 23))
]


@pytest.mark.parametrize("locale", COMMON_LOCALES)
def test_dates_fit_their_bound_in_the_common_locales_unshortened(locale: str) -> None:
    renderer = TemplateRenderer()
    for name, formats in lang.DATE_FORMATS.items():
        for fmt, bound in formats.items():
            source = f"{{{{ due_at|{name}('{fmt}') }}}}" if fmt else f"{{{{ due_at|{name} }}}}"
            for moment in MOMENTS:
                text = renderer.render_custom(
                    source, {"due_at": moment}, "console", locale=locale
                ).text
                assert lang.ELLIPSIS not in text, (locale, source, text)
                assert lang.utf16_units(text) <= bound, (locale, source, text)


def test_a_rare_locales_longer_date_is_shortened_to_its_bound() -> None:
    text = (
        TemplateRenderer()
        .render_custom("{{ due_at|date('full') }}", {"due_at": MOMENTS[0]}, "console", locale="ccp")
        .text
    )
    assert lang.utf16_units(text) <= lang.DATE_FORMATS["date"]["full"]


def test_values_are_shortened_to_their_maximum_without_splitting_an_emoji() -> None:
    assert lang.clamp("Ana", 50) == "Ana"
    shortened = lang.clamp("😀" * 40, 50)
    assert shortened.endswith(lang.ELLIPSIS) and lang.utf16_units(shortened) <= 50
    assert "\ud83d" not in shortened.encode("utf-16", "surrogatepass").decode("utf-16")
    message = TemplateRenderer().render_custom(
        "Hi {{ patient_name }}", {"patient_name": "Ł" * 80}, "console"
    )
    assert message.text == "Hi " + "Ł" * 49 + lang.ELLIPSIS


def test_the_bound_counts_the_templates_own_capitals() -> None:
    checked = lang.check("{{ ('ß' ~ 'ß')|upper }}", [])
    assert checked.bound is not None and checked.bound.units >= len("SSSS")


def test_the_check_is_linear_in_nesting() -> None:
    """Each node is walked once: refused parts nested 150 deep (each refusal used to walk its
    parts again, doubling the work per level) are checked at once."""
    depth = 150
    for source in (
        "{{ " + "(" * depth + "patient_name" + " == patient_name)" * depth + " }}",
        "{{ patient_name" + "|attr(1)" * depth + " }}",
        "{{ patient_name" + ".x" * depth + " }}",
    ):
        assert not lang.check(source, ["patient_name"]).ok


@pytest.mark.parametrize("locale", COMMON_LOCALES)
def test_the_clinic_zones_city_fits_its_bound_in_the_common_locales(locale: str) -> None:
    """``clinic_zone`` (an appointment's clinic zone, by its city) holds every zone's city."""
    bound = lang.VARIABLES["clinic_zone"].max_units
    longest = max((zone_city(zone, locale) for zone in available_timezones()), key=lang.utf16_units)
    assert lang.utf16_units(longest) <= bound, (locale, longest)
