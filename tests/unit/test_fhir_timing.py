"""FHIR R4 Timing in and out: each example imports to the expected Recurrence, fires at literal
instants, and survives Timing -> Recurrence -> Timing -> Recurrence; invalid Timings are refused
with the FHIR path of the element at fault."""

from __future__ import annotations

import pickle
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from scheduler.fhir_timing import (
    PatientDayTimes,
    TimingError,
    recurrence_from_timing,
    timing_from_recurrence,
)
from scheduler.recurrence import Recurrence, occurrences

GTS = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"
UCUM = "http://unitsofmeasure.org"
NY = "America/New_York"
BERLIN = "Europe/Berlin"
LORD_HOWE = "Australia/Lord_Howe"
KOLKATA = "Asia/Kolkata"
SANTIAGO = "America/Santiago"
APIA = "Pacific/Apia"
EARLY_BIRD = PatientDayTimes(
    wake=time(5, 30), breakfast=time(6, 0), lunch=time(11, 0), dinner=time(17, 0), sleep=time(21, 0)
)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def t(hour: int, minute: int = 0, second: int = 0) -> time:
    return time(hour, minute, second)


def code(value: str) -> dict[str, Any]:
    return {"coding": [{"system": GTS, "code": value}]}


class Example:
    """One table row: a Timing, the context it is read in, and what it must mean."""

    def __init__(
        self,
        timing: dict[str, Any],
        *,
        zone: str,
        start: date,
        expected: Recurrence,
        first: list[datetime],
        patient: PatientDayTimes | None = None,
    ) -> None:
        self.timing = timing
        self.zone = zone
        self.start = start
        self.expected = expected
        self.first = first  # the first occurrences, as literal UTC instants
        self.patient = patient or PatientDayTimes()


def rule(zone: str, start: date, *times: time, **kw: Any) -> Recurrence:
    return Recurrence(times_of_day=times, timezone=zone, start_date=start, **kw)


D = date(2024, 3, 9)  # a Saturday; New York springs forward the next day

EXAMPLES = {
    "code-QD": Example(
        {"code": code("QD")},
        zone=NY,
        start=D,
        expected=rule(NY, D, t(8)),
        first=[utc(2024, 3, 9, 13), utc(2024, 3, 10, 12), utc(2024, 3, 11, 12)],
    ),
    "code-BID-over-spring-forward": Example(
        {"code": code("BID")},
        zone=NY,
        start=D,
        expected=rule(NY, D, t(8), t(20)),
        first=[
            utc(2024, 3, 9, 13),
            utc(2024, 3, 10, 1),
            utc(2024, 3, 10, 12),
            utc(2024, 3, 11, 0),
        ],
    ),
    "code-text-tid": Example(
        {"code": {"text": " tid "}},
        zone=BERLIN,
        start=date(2024, 1, 1),
        expected=rule(BERLIN, date(2024, 1, 1), t(8), t(14), t(20)),
        first=[utc(2024, 1, 1, 7), utc(2024, 1, 1, 13), utc(2024, 1, 1, 19)],
    ),
    "code-QID-with-other-coding": Example(
        {
            "code": {
                "coding": [{"system": "http://snomed.info/sct", "code": "307439001"}]
                + code("QID")["coding"]
            }
        },
        zone=KOLKATA,
        start=date(2024, 1, 1),
        expected=rule(KOLKATA, date(2024, 1, 1), t(8), t(12), t(16), t(20)),
        first=[utc(2024, 1, 1, 2, 30), utc(2024, 1, 1, 6, 30), utc(2024, 1, 1, 10, 30)],
    ),
    "code-QOD": Example(
        {"code": code("QOD")},
        zone=KOLKATA,
        start=date(2024, 2, 28),
        expected=rule(KOLKATA, date(2024, 2, 28), t(8), every_n_days=2),
        first=[utc(2024, 2, 28, 2, 30), utc(2024, 3, 1, 2, 30), utc(2024, 3, 3, 2, 30)],
    ),
    "code-AM-patient-breakfast": Example(
        {"code": code("AM")},
        zone=LORD_HOWE,
        start=date(2024, 10, 5),
        patient=EARLY_BIRD,
        expected=rule(LORD_HOWE, date(2024, 10, 5), t(6)),
        # +10:30 then +11 from 2024-10-06
        first=[utc(2024, 10, 4, 19, 30), utc(2024, 10, 5, 19), utc(2024, 10, 6, 19)],
    ),
    "code-PM": Example(
        {"code": code("PM")},
        zone=NY,
        start=D,
        expected=rule(NY, D, t(20)),
        first=[utc(2024, 3, 10, 1), utc(2024, 3, 11, 0)],
    ),
    "code-HS-patient-sleep": Example(
        {"code": code("HS")},
        zone=SANTIAGO,
        start=date(2024, 4, 5),
        patient=PatientDayTimes(sleep=time(23, 30)),
        expected=rule(SANTIAGO, date(2024, 4, 5), t(23, 30)),
        # 2024-04-06 23:30 happens twice in Santiago; the dose fires at the first (-03).
        first=[utc(2024, 4, 6, 2, 30), utc(2024, 4, 7, 2, 30), utc(2024, 4, 8, 3, 30)],
    ),
    "code-Q8H-from-wake": Example(
        {"code": code("Q8H")},
        zone=BERLIN,
        start=date(2024, 1, 1),
        patient=EARLY_BIRD,
        expected=rule(BERLIN, date(2024, 1, 1), t(5, 30), t(13, 30), t(21, 30)),
        first=[utc(2024, 1, 1, 4, 30), utc(2024, 1, 1, 12, 30), utc(2024, 1, 1, 20, 30)],
    ),
    "code-Q6H": Example(
        {"code": code("Q6H")},
        zone=KOLKATA,
        start=date(2024, 1, 1),
        expected=rule(KOLKATA, date(2024, 1, 1), t(1), t(7), t(13), t(19)),
        first=[utc(2023, 12, 31, 19, 30), utc(2024, 1, 1, 1, 30), utc(2024, 1, 1, 7, 30)],
    ),
    "code-Q4H": Example(
        {"code": {"text": "Q4H"}},
        zone=KOLKATA,
        start=date(2024, 1, 1),
        expected=rule(KOLKATA, date(2024, 1, 1), t(3), t(7), t(11), t(15), t(19), t(23)),
        first=[utc(2023, 12, 31, 21, 30), utc(2024, 1, 1, 1, 30)],
    ),
    "frequency-3-per-day-defaults": Example(
        {"repeat": {"frequency": 3, "period": 1, "periodUnit": "d"}},
        zone=KOLKATA,
        start=date(2024, 1, 1),
        expected=rule(KOLKATA, date(2024, 1, 1), t(8), t(14), t(20)),
        first=[utc(2024, 1, 1, 2, 30), utc(2024, 1, 1, 8, 30), utc(2024, 1, 1, 14, 30)],
    ),
    "frequency-5-per-day-spread": Example(
        {"repeat": {"frequency": 5, "period": 1, "periodUnit": "d"}},
        zone=KOLKATA,
        start=date(2024, 1, 1),
        expected=rule(KOLKATA, date(2024, 1, 1), t(8), t(11), t(14), t(17), t(20)),
        first=[utc(2024, 1, 1, 2, 30), utc(2024, 1, 1, 5, 30)],
    ),
    "code-BID-with-matching-repeat": Example(
        {"code": code("BID"), "repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}},
        zone=NY,
        start=D,
        expected=rule(NY, D, t(8), t(20)),
        first=[utc(2024, 3, 9, 13), utc(2024, 3, 10, 1)],
    ),
    "code-QOD-at-09": Example(
        {"code": code("QOD"), "repeat": {"timeOfDay": ["09:00:00"]}},
        zone=BERLIN,
        start=date(2024, 12, 30),
        expected=rule(BERLIN, date(2024, 12, 30), t(9), every_n_days=2),
        first=[utc(2024, 12, 30, 8), utc(2025, 1, 1, 8), utc(2025, 1, 3, 8)],
    ),
    "times-weekdays-bounds": Example(
        {
            "repeat": {
                "boundsPeriod": {"start": "2024-12-27", "end": "2025-01-03"},
                "frequency": 2,
                "period": 1,
                "periodUnit": "d",
                "dayOfWeek": ["mon", "wed", "fri"],
                "timeOfDay": ["08:00:00", "20:00:00"],
            }
        },
        zone=BERLIN,
        start=date(2000, 1, 1),  # overridden by boundsPeriod.start
        expected=rule(
            BERLIN,
            date(2024, 12, 27),
            t(8),
            t(20),
            end_date=date(2025, 1, 3),
            days_of_week=frozenset({1, 3, 5}),
        ),
        first=[
            utc(2024, 12, 27, 7),
            utc(2024, 12, 27, 19),
            utc(2024, 12, 30, 7),
            utc(2024, 12, 30, 19),
            utc(2025, 1, 1, 7),
            utc(2025, 1, 1, 19),
            utc(2025, 1, 3, 7),
            utc(2025, 1, 3, 19),
        ],
    ),
    "when-AC-default-offset": Example(
        {"repeat": {"when": ["AC"]}},
        zone=NY,
        start=D,
        expected=rule(NY, D, t(7, 30), t(12), t(18)),
        first=[utc(2024, 3, 9, 12, 30), utc(2024, 3, 9, 17), utc(2024, 3, 9, 23)],
    ),
    "when-ACM-PCV-offset-15": Example(
        {"repeat": {"when": ["ACM", "PCV"], "offset": 15}},
        zone=NY,
        start=D,
        patient=EARLY_BIRD,
        expected=rule(NY, D, t(5, 45), t(17, 15)),
        first=[utc(2024, 3, 9, 10, 45), utc(2024, 3, 9, 22, 15), utc(2024, 3, 10, 9, 45)],
    ),
    "when-C-with-frequency": Example(
        {"repeat": {"when": ["C"], "frequency": 3, "period": 1, "periodUnit": "d"}},
        zone=KOLKATA,
        start=date(2024, 1, 1),
        expected=rule(KOLKATA, date(2024, 1, 1), t(8), t(12, 30), t(18, 30)),
        first=[utc(2024, 1, 1, 2, 30), utc(2024, 1, 1, 7), utc(2024, 1, 1, 13)],
    ),
    "when-WAKE-HS-offset": Example(
        {"repeat": {"when": ["WAKE", "HS"], "offset": 30}},
        zone=KOLKATA,
        start=date(2024, 1, 1),
        # 30 minutes after waking, 30 minutes before sleep
        expected=rule(KOLKATA, date(2024, 1, 1), t(7, 30), t(21, 30)),
        first=[utc(2024, 1, 1, 2), utc(2024, 1, 1, 16)],
    ),
    "when-day-parts": Example(
        {"repeat": {"when": ["MORN", "NOON", "AFT", "EVE", "NIGHT"]}},
        zone=KOLKATA,
        start=date(2024, 1, 1),
        expected=rule(KOLKATA, date(2024, 1, 1), t(8), t(12), t(15, 30), t(20), t(22)),
        first=[utc(2024, 1, 1, 2, 30), utc(2024, 1, 1, 6, 30), utc(2024, 1, 1, 10)],
    ),
    "every-8-hours-from-06": Example(
        {"repeat": {"frequency": 1, "period": 8, "periodUnit": "h", "timeOfDay": ["06:00:00"]}},
        zone=NY,
        start=D,
        expected=rule(NY, D, t(6), t(14), t(22)),
        first=[utc(2024, 3, 9, 11), utc(2024, 3, 9, 19), utc(2024, 3, 10, 3), utc(2024, 3, 10, 10)],
    ),
    "every-48-hours": Example(
        {"repeat": {"frequency": 1, "period": 48, "periodUnit": "h"}},
        zone=APIA,
        start=date(2011, 12, 27),
        expected=rule(APIA, date(2011, 12, 27), t(7), every_n_days=2),
        # 2011-12-31 is on the grid (the 29th, then the skipped 30th is not)
        first=[utc(2011, 12, 27, 17), utc(2011, 12, 29, 17), utc(2011, 12, 30, 17)],
    ),
    "weekly-sundays-4-weeks": Example(
        {
            "repeat": {
                "boundsDuration": {"value": 4, "unit": "weeks", "system": UCUM, "code": "wk"},
                "frequency": 1,
                "period": 1,
                "periodUnit": "wk",
                "dayOfWeek": ["sun"],
                "timeOfDay": ["00:30:00"],
            }
        },
        zone=SANTIAGO,
        start=date(2024, 9, 1),
        expected=rule(
            SANTIAGO,
            date(2024, 9, 1),
            t(0, 30),
            end_date=date(2024, 9, 28),
            days_of_week=frozenset({7}),
        ),
        # the 8th has no 00:30: it fires when the clocks jump to 01:00
        first=[
            utc(2024, 9, 1, 4, 30),
            utc(2024, 9, 8, 4),
            utc(2024, 9, 15, 3, 30),
            utc(2024, 9, 22, 3, 30),
        ],
    ),
    "twice-weekly-mon-thu": Example(
        {
            "repeat": {
                "frequency": 2,
                "period": 1,
                "periodUnit": "wk",
                "dayOfWeek": ["thu", "mon"],
                "timeOfDay": ["09:00:00"],
            }
        },
        zone=BERLIN,
        start=date(2024, 12, 25),
        expected=rule(BERLIN, date(2024, 12, 25), t(9), days_of_week=frozenset({1, 4})),
        first=[utc(2024, 12, 26, 8), utc(2024, 12, 30, 8), utc(2025, 1, 2, 8)],
    ),
    "every-2-weeks-on-friday": Example(
        {"repeat": {"frequency": 1, "period": 2, "periodUnit": "wk", "dayOfWeek": ["fri"]}},
        zone=BERLIN,
        start=date(2024, 12, 23),  # a Monday: the grid starts on the first Friday
        expected=rule(BERLIN, date(2024, 12, 27), t(8), every_n_days=14),
        first=[utc(2024, 12, 27, 7), utc(2025, 1, 10, 7), utc(2025, 1, 24, 7)],
    ),
    "weekly-without-days": Example(
        {"repeat": {"frequency": 1, "period": 1, "periodUnit": "wk", "timeOfDay": ["10:00:00"]}},
        zone=KOLKATA,
        start=date(2024, 1, 31),
        expected=rule(KOLKATA, date(2024, 1, 31), t(10), every_n_days=7),
        first=[utc(2024, 1, 31, 4, 30), utc(2024, 2, 7, 4, 30)],
    ),
    "BID-count-5": Example(
        {"code": code("BID"), "repeat": {"count": 5}},
        zone=KOLKATA,
        start=date(2024, 1, 1),
        expected=rule(KOLKATA, date(2024, 1, 1), t(8), t(20), max_count=5),
        first=[
            utc(2024, 1, 1, 2, 30),
            utc(2024, 1, 1, 14, 30),
            utc(2024, 1, 2, 2, 30),
            utc(2024, 1, 2, 14, 30),
            utc(2024, 1, 3, 2, 30),
        ],
    ),
    "HS-for-10-days": Example(
        {
            "code": code("HS"),
            "repeat": {"boundsDuration": {"value": 10, "system": UCUM, "code": "d"}},
        },
        zone=APIA,
        start=date(2011, 12, 25),
        expected=rule(APIA, date(2011, 12, 25), t(22), end_date=date(2012, 1, 3)),
        first=[
            utc(2011, 12, 26, 8),
            utc(2011, 12, 27, 8),
            utc(2011, 12, 28, 8),
            utc(2011, 12, 29, 8),
        ],
    ),
    "boundsDuration-1-month": Example(
        {
            "repeat": {
                "boundsDuration": {"value": 1, "code": "mo"},
                "frequency": 1,
                "period": 1,
                "periodUnit": "d",
            }
        },
        zone=KOLKATA,
        start=date(2024, 1, 15),
        expected=rule(KOLKATA, date(2024, 1, 15), t(8), end_date=date(2024, 2, 14)),
        first=[utc(2024, 1, 15, 2, 30)],
    ),
    "boundsPeriod-dateTimes": Example(
        {
            "repeat": {
                # 03:00Z on the 10th is still the 9th in New York; the end is the 12th there.
                "boundsPeriod": {
                    "start": "2024-03-10T03:00:00Z",
                    "end": "2024-03-12T23:00:00-04:00",
                },
                "timeOfDay": ["07:15:30"],
            }
        },
        zone=NY,
        start=date(2000, 1, 1),
        expected=rule(NY, D, t(7, 15, 30), end_date=date(2024, 3, 12)),
        first=[
            utc(2024, 3, 9, 12, 15, 30),
            utc(2024, 3, 10, 11, 15, 30),
            utc(2024, 3, 11, 11, 15, 30),
            utc(2024, 3, 12, 11, 15, 30),
        ],
    ),
}


@pytest.fixture(params=list(EXAMPLES), ids=list(EXAMPLES))
def example(request: pytest.FixtureRequest) -> Example:
    return EXAMPLES[request.param]


def test_example_imports_to_the_expected_recurrence(example: Example) -> None:
    got = recurrence_from_timing(
        example.timing,
        timezone=example.zone,
        start_date=example.start,
        patient_times=example.patient,
    )
    assert got == example.expected


def test_example_fires_at_the_expected_instants(example: Example) -> None:
    got = recurrence_from_timing(
        example.timing,
        timezone=example.zone,
        start_date=example.start,
        patient_times=example.patient,
    )
    after = datetime.combine(got.start_date - timedelta(days=2), time(0), UTC)
    found = occurrences(got, after, after + timedelta(days=40))
    assert [o.utc for o in found[: len(example.first)]] == example.first


def test_example_round_trips(example: Example) -> None:
    first = recurrence_from_timing(
        example.timing,
        timezone=example.zone,
        start_date=example.start,
        patient_times=example.patient,
    )
    exported = timing_from_recurrence(first)
    # A different default start and routine prove the export carries everything itself.
    again = recurrence_from_timing(
        exported,
        timezone=example.zone,
        start_date=date(1999, 1, 1),
        patient_times=PatientDayTimes(wake=time(4), breakfast=time(4, 30)),
    )
    assert again == first
    assert timing_from_recurrence(again) == exported


def test_export_is_explicit_fhir_json() -> None:
    exported = timing_from_recurrence(
        Recurrence(
            times_of_day=(time(20, 0), time(8, 0, 0, 500000)),
            timezone=NY,
            start_date=date(2024, 1, 1),
            end_date=date(2024, 6, 30),
            days_of_week=frozenset({5, 1}),
            every_n_days=2,
            max_count=40,
        )
    )
    assert exported == {
        "repeat": {
            "boundsPeriod": {"start": "2024-01-01", "end": "2024-06-30"},
            "count": 40,
            "frequency": 2,
            "period": 2,
            "periodUnit": "d",
            "dayOfWeek": ["mon", "fri"],
            "timeOfDay": ["08:00:00.5", "20:00:00"],
        }
    }


def test_minimal_export() -> None:
    assert timing_from_recurrence(Recurrence((time(8, 0),), KOLKATA, date(2024, 1, 1))) == {
        "repeat": {
            "boundsPeriod": {"start": "2024-01-01"},
            "frequency": 1,
            "period": 1,
            "periodUnit": "d",
            "timeOfDay": ["08:00:00"],
        }
    }


# -- refusals -----------------------------------------------------------------------------------


def rep(**repeat: Any) -> dict[str, Any]:
    return {"repeat": repeat}


DAILY = {"frequency": 1, "period": 1, "periodUnit": "d"}

INVALID = [
    ({}, "Timing"),
    (["BID"], "Timing"),
    ({"repeat": "BID"}, "Timing.repeat"),
    ({"event": ["2024-01-01T08:00:00Z"]}, "Timing.event"),
    ({"modifierExtension": [{"url": "x"}], "code": code("BID")}, "Timing.modifierExtension"),
    ({"code": code("BID"), "schedule": "daily"}, "Timing.schedule"),
    (rep(**DAILY, foo=1), "Timing.repeat.foo"),
    (rep(**DAILY, modifierExtension=[]), "Timing.repeat.modifierExtension"),
    (rep(), "Timing.repeat"),
    (rep(dayOfWeek=["mon"]), "Timing.repeat"),
    # units and ranges
    (rep(frequency=1, period=1, periodUnit="mo"), "Timing.repeat.periodUnit"),
    (rep(frequency=1, period=1, periodUnit="a"), "Timing.repeat.periodUnit"),
    (rep(frequency=1, period=30, periodUnit="min"), "Timing.repeat.periodUnit"),
    (rep(frequency=1, period=30, periodUnit="s"), "Timing.repeat.periodUnit"),
    (rep(frequency=1, period=1, periodUnit="day"), "Timing.repeat.periodUnit"),
    (rep(**DAILY, periodMax=2), "Timing.repeat.periodMax"),
    (rep(**DAILY, frequencyMax=3), "Timing.repeat.frequencyMax"),
    (rep(**DAILY, duration=30, durationUnit="min"), "Timing.repeat.duration"),
    (rep(**DAILY, durationMax=1), "Timing.repeat.durationMax"),
    (rep(**DAILY, count=3, countMax=5), "Timing.repeat.countMax"),
    (rep(**DAILY, boundsRange={"low": {"value": 1}}), "Timing.repeat.boundsRange"),
    # frequency / period
    (rep(period=1), "Timing.repeat.periodUnit"),
    (rep(periodUnit="d"), "Timing.repeat.period"),
    (rep(frequency=2), "Timing.repeat.period"),
    (rep(frequency=0, period=1, periodUnit="d"), "Timing.repeat.frequency"),
    (rep(frequency=1.5, period=1, periodUnit="d"), "Timing.repeat.frequency"),
    (rep(frequency=True, period=1, periodUnit="d"), "Timing.repeat.frequency"),
    (rep(frequency=30, period=1, periodUnit="d"), "Timing.repeat.frequency"),
    (rep(frequency=2, period=1, periodUnit="h"), "Timing.repeat.frequency"),
    (rep(frequency=1, period=0, periodUnit="d"), "Timing.repeat.period"),
    (rep(frequency=1, period=-1, periodUnit="d"), "Timing.repeat.period"),
    (rep(frequency=1, period="1", periodUnit="d"), "Timing.repeat.period"),
    (rep(frequency=1, period=0.5, periodUnit="d"), "Timing.repeat.period"),
    (rep(frequency=1, period=5, periodUnit="h"), "Timing.repeat.period"),
    (rep(frequency=1, period=1.5, periodUnit="wk"), "Timing.repeat.period"),
    (rep(frequency=2, period=3, periodUnit="d"), "Timing.repeat.timeOfDay"),
    (rep(frequency=3, period=1, periodUnit="wk"), "Timing.repeat.dayOfWeek"),
    (
        rep(frequency=3, period=1, periodUnit="wk", dayOfWeek=["mon", "thu"]),
        "Timing.repeat.frequency",
    ),
    (
        rep(frequency=2, period=2, periodUnit="wk", dayOfWeek=["mon", "thu"]),
        "Timing.repeat.dayOfWeek",
    ),
    (rep(frequency=2, period=1, periodUnit="d", timeOfDay=["08:00:00"]), "Timing.repeat.frequency"),
    (
        rep(frequency=1, period=8, periodUnit="h", timeOfDay=["06:00:00", "07:00:00"]),
        "Timing.repeat.timeOfDay",
    ),
    (rep(frequency=1, period=8, periodUnit="h", when=["MORN"]), "Timing.repeat.when"),
    # times, days, events
    (rep(timeOfDay="08:00:00"), "Timing.repeat.timeOfDay"),
    (rep(timeOfDay=[]), "Timing.repeat.timeOfDay"),
    (rep(timeOfDay=["8:00"]), "Timing.repeat.timeOfDay"),
    (rep(timeOfDay=["08:00"]), "Timing.repeat.timeOfDay"),
    (rep(timeOfDay=["24:00:00"]), "Timing.repeat.timeOfDay"),
    (rep(timeOfDay=["08:00:00Z"]), "Timing.repeat.timeOfDay"),
    (rep(timeOfDay=[800]), "Timing.repeat.timeOfDay"),
    (rep(timeOfDay=["08:00:00"], when=["MORN"]), "Timing.repeat.when"),
    (rep(timeOfDay=["08:00:00"], offset=30), "Timing.repeat.offset"),
    (rep(when=["C"], offset=30), "Timing.repeat.offset"),
    (rep(when=["CM"], offset=30), "Timing.repeat.offset"),
    (rep(when=["AC"], offset=-30), "Timing.repeat.offset"),
    (rep(when=["AC"], offset=1.5), "Timing.repeat.offset"),
    # a day or more from the event: read modulo a day (99999999999 after MORN was 18:39)
    (rep(when=["MORN"], offset=1440), "Timing.repeat.offset"),
    (rep(when=["ACM"], offset=99999999999), "Timing.repeat.offset"),
    (rep(when=["BREAKFAST"]), "Timing.repeat.when"),
    (rep(when=[]), "Timing.repeat.when"),
    (rep(when="MORN"), "Timing.repeat.when"),
    (rep(timeOfDay=["08:00:00"], dayOfWeek=["monday"]), "Timing.repeat.dayOfWeek"),
    (rep(timeOfDay=["08:00:00"], dayOfWeek=[]), "Timing.repeat.dayOfWeek"),
    (rep(timeOfDay=["08:00:00"], dayOfWeek="mon"), "Timing.repeat.dayOfWeek"),
    # every 7 days from a Monday never reaches a Tuesday
    (
        rep(
            frequency=1,
            period=7,
            periodUnit="d",
            dayOfWeek=["tue"],
            boundsPeriod={"start": "2024-01-01"},
        ),
        "Timing.repeat.dayOfWeek",
    ),
    # bounds and count
    (rep(**DAILY, boundsPeriod={"start": "2024-03"}), "Timing.repeat.boundsPeriod.start"),
    (rep(**DAILY, boundsPeriod={"start": "2024-13-01"}), "Timing.repeat.boundsPeriod.start"),
    (rep(**DAILY, boundsPeriod={"start": "2024-02-30"}), "Timing.repeat.boundsPeriod.start"),
    (
        rep(**DAILY, boundsPeriod={"start": "2024-03-01T08:00:00"}),
        "Timing.repeat.boundsPeriod.start",
    ),
    (rep(**DAILY, boundsPeriod={"start": 20240301}), "Timing.repeat.boundsPeriod.start"),
    (rep(**DAILY, boundsPeriod={"end": "2023-12-31"}), "Timing.repeat.boundsPeriod.end"),
    (
        rep(**DAILY, boundsPeriod={"start": "2024-03-02", "end": "2024-03-01"}),
        "Timing.repeat.boundsPeriod.end",
    ),
    (
        rep(**DAILY, boundsPeriod={"start": "2024-03-01", "low": 1}),
        "Timing.repeat.boundsPeriod.low",
    ),
    (rep(**DAILY, boundsPeriod="2024"), "Timing.repeat.boundsPeriod"),
    (
        rep(
            **DAILY, boundsPeriod={"start": "2024-03-01"}, boundsDuration={"value": 1, "code": "d"}
        ),
        "Timing.repeat.boundsDuration",
    ),
    (rep(**DAILY, boundsDuration={"value": 10, "code": "h"}), "Timing.repeat.boundsDuration.code"),
    (rep(**DAILY, boundsDuration={"value": 10}), "Timing.repeat.boundsDuration.code"),
    (
        rep(**DAILY, boundsDuration={"value": 1.5, "code": "wk"}),
        "Timing.repeat.boundsDuration.value",
    ),
    (rep(**DAILY, boundsDuration={"value": 0, "code": "d"}), "Timing.repeat.boundsDuration.value"),
    (
        rep(**DAILY, boundsDuration={"value": 10, "code": "d", "system": "http://example.org"}),
        "Timing.repeat.boundsDuration.system",
    ),
    (
        rep(**DAILY, boundsDuration={"value": 10, "code": "d", "comparator": "<"}),
        "Timing.repeat.boundsDuration.comparator",
    ),
    (rep(**DAILY, count=0), "Timing.repeat.count"),
    (rep(**DAILY, count="3"), "Timing.repeat.count"),
    # codes
    ({"code": {"text": "twice daily"}}, "Timing.code"),
    ({"code": "BID"}, "Timing.code"),
    ({"code": {"coding": [{"system": GTS, "code": "Q5H"}]}}, "Timing.code.coding[0].code"),
    ({"code": {"coding": [{"system": GTS, "code": "MO"}]}}, "Timing.code.coding[0].code"),
    ({"code": {"coding": [{"code": "BID"}, {"code": "TID"}]}}, "Timing.code"),
    ({"code": code("BID"), "repeat": {"timeOfDay": ["08:00:00"]}}, "Timing.code"),
    (
        {"code": code("QD"), "repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}},
        "Timing.code",
    ),
]


@pytest.mark.parametrize(
    ("timing", "field"), INVALID, ids=[f"{i:02d}-{f}" for i, (_, f) in enumerate(INVALID)]
)
def test_invalid_timing_is_refused_naming_the_field(timing: Any, field: str) -> None:
    with pytest.raises(TimingError) as caught:
        recurrence_from_timing(timing, timezone=NY, start_date=date(2024, 1, 1))
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")
    assert caught.value.reason


def test_unsupported_unit_message_suggests_the_supported_ones() -> None:
    with pytest.raises(
        TimingError, match=r"^Timing\.repeat\.periodUnit: 'mo' is not supported; use d or wk$"
    ):
        recurrence_from_timing(
            rep(frequency=1, period=1, periodUnit="mo"), timezone=NY, start_date=date(2024, 1, 1)
        )


def test_timing_error_is_a_value_error_and_pickles() -> None:
    error = TimingError("Timing.repeat.period", "must be a positive number")
    assert isinstance(error, ValueError)
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object
    assert (copy.field, copy.reason, str(copy)) == (error.field, error.reason, str(error))


def test_bad_timezone_is_a_plain_value_error() -> None:
    with pytest.raises(ValueError, match=r"^timezone: ") as caught:
        recurrence_from_timing(
            {"code": code("BID")}, timezone="Nowhere/Land", start_date=date(2024, 1, 1)
        )
    assert not isinstance(caught.value, TimingError)


def test_bad_start_date_is_a_plain_value_error() -> None:
    with pytest.raises(ValueError, match=r"^start_date: ") as caught:
        recurrence_from_timing({"code": code("BID")}, timezone=NY, start_date=None)  # type: ignore[arg-type]
    assert not isinstance(caught.value, TimingError)


def test_patient_day_times_reject_non_times() -> None:
    with pytest.raises(ValueError, match=r"^sleep: "):
        PatientDayTimes(sleep="22:00")  # type: ignore[arg-type]
