"""The app's settings say when a pause set in the bot with a length or a date ends by itself."""

from __future__ import annotations

from datetime import UTC, datetime

from core.settings import load_settings
from medremind.web.patient_app.settings import _view


def _row(until: datetime | None) -> dict[str, object]:
    return {
        "reminders_paused": True,
        "reminders_paused_until": until,
        "name_medicine_in_reminders": False,
        "quiet_start": None,
        "quiet_end": None,
        "default_quiet_start": None,
        "default_quiet_end": None,
    }


def test_the_end_is_an_iso_instant_or_null() -> None:
    settings = load_settings({})
    ends = datetime(2026, 3, 9, 10, 50, tzinfo=UTC)
    assert _view(_row(ends), settings)["paused_until"] == "2026-03-09T10:50:00+00:00"
    assert _view(_row(None), settings)["paused_until"] is None
