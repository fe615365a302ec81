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
        "timezone": "America/New_York",
    }


def test_the_end_is_an_iso_instant_or_null() -> None:
    settings = load_settings({})
    ends = datetime(2026, 3, 9, 10, 50, tzinfo=UTC)
    now = datetime(2026, 3, 5, 3, 0, tzinfo=UTC)  # still March 4 in New York
    view = _view(_row(ends), settings, now)
    assert view["paused_until"] == "2026-03-09T10:50:00+00:00"
    # Shown in the patient's zone; an end date is a day after their today there.
    assert (view["timezone"], view["today"]) == ("America/New_York", "2026-03-04")
    assert _view(_row(None), settings, now)["paused_until"] is None
