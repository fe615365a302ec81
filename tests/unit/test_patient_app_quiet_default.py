"""The app's settings name the quiet hours that apply while the patient sets none."""

from __future__ import annotations

from datetime import UTC, datetime, time

from core.settings import load_settings
from medremind.web.patient_app.settings import _view


def _row(clinic: tuple[time, time] | None) -> dict[str, object]:
    return {
        "reminders_paused": False,
        "reminders_paused_until": None,
        "name_medicine_in_reminders": False,
        "quiet_start": None,
        "quiet_end": None,
        "default_quiet_start": clinic[0] if clinic else None,
        "default_quiet_end": clinic[1] if clinic else None,
        "timezone": "UTC",
    }


NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


def test_a_patient_of_no_clinic_is_shown_the_services_quiet_hours() -> None:
    settings = load_settings(
        {"MEDREMIND_QUIET_HOURS_START": "20:15", "MEDREMIND_QUIET_HOURS_END": "09:05"}
    )
    view = _view(_row(None), settings, NOW)
    assert (view["quiet_default_start"], view["quiet_default_end"]) == ("20:15", "09:05")
    clinic = _view(_row((time(22, 30), time(6, 45))), settings, NOW)
    assert (clinic["quiet_default_start"], clinic["quiet_default_end"]) == ("22:30", "06:45")
