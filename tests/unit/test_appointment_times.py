"""Pure rules of an appointment in another zone than the clinic's: when the two wall clocks
differ (scheduler.appointment_times), and how long quiet hours may hold a message about it
(scheduler.quiet_hours.appointment_hold). No clock, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler.appointment_times import clinic_time_values, differs, zone_city
from scheduler.quiet_hours import APPOINTMENT_LEAD, appointment_hold

MADRID, NEW_YORK = "Europe/Madrid", "America/New_York"


@pytest.mark.parametrize(
    ("at", "patient", "clinic", "hours_apart"),
    [
        (datetime(2027, 3, 10, 8, 0, tzinfo=UTC), NEW_YORK, MADRID, 6),  # both on winter time
        (datetime(2027, 3, 17, 8, 0, tzinfo=UTC), NEW_YORK, MADRID, 5),  # the US moved on the 14th
        (datetime(2027, 3, 29, 7, 0, tzinfo=UTC), NEW_YORK, MADRID, 6),  # the EU on the 28th
        (datetime(2027, 11, 2, 8, 0, tzinfo=UTC), NEW_YORK, MADRID, 5),  # EU back 31 Oct, US 7 Nov
        (datetime(2027, 3, 29, 7, 0, tzinfo=UTC), "Europe/Paris", MADRID, 0),  # same offset
        (datetime(2027, 3, 29, 7, 0, tzinfo=UTC), MADRID, MADRID, 0),
        (datetime(2027, 3, 29, 7, 0, tzinfo=UTC), "America/Toronto", NEW_YORK, 0),
    ],
)
def test_zones_differ_by_their_offset_at_the_appointment(
    at: datetime, patient: str, clinic: str, hours_apart: int
) -> None:
    assert differs(at, patient, clinic) is (hours_apart != 0)
    values = clinic_time_values(at, patient, clinic, "en")
    if hours_apart == 0:
        assert values is None
        return
    assert values is not None and values["timezone"] == clinic
    # The patient's time is the clinic's wall clock moved back by the hours between them.
    there = at.astimezone(ZoneInfo(clinic))
    mine = (there - timedelta(hours=hours_apart)).strftime("%-I:%M %p")
    assert values["your_time"] == mine


def test_no_clinic_zone_or_an_unknown_one_changes_nothing() -> None:
    at = datetime(2027, 3, 29, 7, 0, tzinfo=UTC)
    assert clinic_time_values(at, NEW_YORK, None, "en") is None
    assert clinic_time_values(at, NEW_YORK, "Mars/Olympus", "en") is None
    assert clinic_time_values(at, "Mars/Olympus", MADRID, "en") is None


def test_the_patients_day_when_it_is_another_and_letters_for_sms() -> None:
    # 00:30 in Madrid on Thursday 18 March 2027 is 19:30 on Wednesday the 17th in New York.
    at = datetime(2027, 3, 17, 23, 30, tzinfo=UTC)
    assert clinic_time_values(at, NEW_YORK, MADRID, "en") == {
        "timezone": MADRID,
        "clinic_zone": "Madrid",
        "your_time": "7:30 PM",
        "your_day": "Wed, March 17",
    }
    spanish = clinic_time_values(at, "America/Sao_Paulo", NEW_YORK, "es", sms=True)
    assert spanish is not None and spanish["clinic_zone"] == "Nueva York"
    assert clinic_time_values(at, NEW_YORK, "America/Sao_Paulo", "es", sms=True) == {
        "timezone": "America/Sao_Paulo",
        "clinic_zone": "Sao Paulo",  # GSM-7 has no "ã"
        "your_time": "19:30",
    }
    assert zone_city("America/Argentina/Buenos_Aires", "en") == "Buenos Aires"


STARTS = datetime(2027, 3, 29, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kind", "end", "held"),
    [
        # The window ends after the appointment: waiting would miss it, so it goes now.
        ("appointment_reminder", STARTS + timedelta(hours=5), False),
        # Less than the lead before it: now.
        ("appointment_reminder", STARTS - APPOINTMENT_LEAD + timedelta(minutes=1), False),
        # Exactly the lead before it, or more: held until then.
        ("appointment_reminder", STARTS - APPOINTMENT_LEAD, True),
        ("appointment_reminder", STARTS - timedelta(hours=19), True),
        ("appointment_confirmation", STARTS - timedelta(minutes=30), False),
        ("appointment_cancelled", STARTS - timedelta(minutes=30), False),
        ("appointment_rescheduled", STARTS - timedelta(minutes=30), False),
        # Not about an appointment: quiet hours as ever.
        ("free_text", STARTS + timedelta(hours=5), True),
    ],
)
def test_quiet_hours_hold_an_appointment_message_only_while_there_is_time(
    kind: str, end: datetime, held: bool
) -> None:
    assert appointment_hold(end, kind, STARTS) == (end if held else None)
    assert appointment_hold(None, kind, STARTS) is None  # outside quiet hours: now
