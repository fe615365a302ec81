"""A clinic's own appointment text can name its time and the patient's: ``clinic_zone``,
``your_time``, ``your_day``.

The built-in appointment texts tell a New York patient of a Madrid clinic "9:00 AM Madrid time
(3:00 AM your time)"; a clinic's own text could show only the patient's time (the three
variables were unknown: refused when saved). Saved through ``PUT /api/v1/templates/{name}`` as
the clinic's automatic text (data, checked, rendered in the sandbox), booked through
``POST /api/v1/appointments``, planned and sent by the worker's dispatcher at an injected clock
to the loopback Twilio. A patient in the clinic's zone reads the text as before, byte for byte,
and a clinic text naming none of the three still shows the patient's own time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from tests import factories
from tests.web.worker_day import ClinicDay, sms_to

# Monday 29 March 2027, 09:00 in Madrid (CEST) is 03:00 in New York (EDT).
STARTS = datetime(2027, 3, 29, 7, 0, tzinfo=UTC)
BOOKED = datetime(2027, 3, 22, 12, 0, tzinfo=UTC)  # 08:00 in New York, past quiet hours
# 00:30 on Tuesday 30 March in Madrid is 18:30 on Monday in New York.
PAST_MIDNIGHT = datetime(2027, 3, 29, 22, 30, tzinfo=UTC)
# Short enough for SMS with every variable at its longest (the clinic's name, up to 60
# characters, would make it 4 UCS-2 segments with the numbered answers: refused when saved).
BOTH = (
    "See you {{ starts_at|date }} at {{ starts_at|time }}"
    "{% if clinic_zone %} {{ clinic_zone }} time ({{ your_time }}"
    "{% if your_day %} {{ your_day }}{% endif %} your time){% endif %}."
)
# The same text as a clinic wrote it before the three variables existed.
ONE = "See you {{ starts_at|date }} at {{ starts_at|time }}."


async def _save(clinic: ClinicDay, body: str) -> None:
    saved = await clinic.web.put(
        "/api/v1/templates/visit-booked",
        headers=clinic.auth,
        json={
            "kind": "appointment_confirmation",
            "locale": "en",
            "channel": "sms",
            "body": body,
            "automatic": True,
        },
    )
    assert saved.status_code in (200, 201), saved.text


async def _book(clinic: ClinicDay, timezone: str, number: str, starts_at: datetime) -> str:
    """A patient in ``timezone`` by SMS, booked through the API; the worker runs; the text."""
    patient = await factories.create_patient(
        clinic.conn,
        clinic.org["id"],
        timezone=timezone,
        locale="en",
        contacts={"sms": number},
        consent_at=BOOKED - timedelta(days=30),
    )
    patient_id: UUID = patient["id"]
    clinic.day.clock.now = BOOKED
    booked = await clinic.web.post(
        "/api/v1/appointments",
        json={"patient_id": str(patient_id), "starts_at": starts_at.isoformat()},
        headers=clinic.auth,
    )
    assert booked.status_code == 201, booked.text
    await clinic.day.at(BOOKED)
    (text,) = sms_to(clinic.twilio, number)
    return text.split("\n\n")[0]  # the clinic's text, before the numbered answers


async def test_a_clinics_own_text_names_both_times_for_a_patient_in_another_zone(
    madrid: ClinicDay,
) -> None:
    await _save(madrid, BOTH)
    assert await _book(madrid, "America/New_York", "+12125550181", STARTS) == (
        "See you Mar 29, 2027 at 9:00 AM Madrid time (3:00 AM your time)."
    )
    # Past the patient's midnight the other way: their own day is named too.
    assert await _book(madrid, "America/New_York", "+12125550182", PAST_MIDNIGHT) == (
        "See you Mar 30, 2027 at 12:30 AM Madrid time (6:30 PM Mon, March 29 your time)."
    )
    # In the clinic's zone, or one with its offset then: as the text without them reads.
    for zone, number in (("Europe/Madrid", "+34600000183"), ("Europe/Paris", "+33600000184")):
        assert await _book(madrid, zone, number, STARTS) == ("See you Mar 29, 2027 at 9:00 AM.")


async def test_a_clinics_text_naming_neither_zone_shows_the_patients_time_as_before(
    madrid: ClinicDay,
) -> None:
    await _save(madrid, ONE)
    assert await _book(madrid, "America/New_York", "+12125550185", STARTS) == (
        "See you Mar 29, 2027 at 3:00 AM."
    )
    assert await _book(madrid, "Europe/Madrid", "+34600000186", STARTS) == (
        "See you Mar 29, 2027 at 9:00 AM."
    )


async def test_the_preview_and_the_check_know_the_three_variables(madrid: ClinicDay) -> None:
    """The dashboard's next-message preview renders the clinic's text as the send will, and the
    editor's check shows it with sample values (a clinic in London, a patient in Honolulu)."""
    preview = await madrid.web.post(
        "/api/v1/templates/preview",
        headers=madrid.auth,
        json={
            "kind": "appointment_confirmation",
            "locale": "en",
            "channel": "sms",
            "timezone": "America/New_York",
            "values": {"clinic_name": "Clinica Sol", "starts_at": STARTS.isoformat()},
            "versions": [{"name": "visit-booked", "locale": "en", "channel": "sms", "body": BOTH}],
        },
    )
    assert preview.status_code == 200, preview.text
    assert (preview.json()["source"], preview.json()["text"].replace("\u202f", " ")) == (
        "clinic",
        "See you Mar 29, 2027 at 9:00 AM Madrid time (3:00 AM your time).",
    )
    checked = await madrid.web.post(
        "/api/v1/templates/validate",
        headers=madrid.auth,
        json={"kind": "appointment_reminder", "channel": "sms", "body": BOTH},
    )
    assert checked.status_code == 200, checked.text
    assert {"clinic_zone", "your_time", "your_day"} <= set(checked.json()["allowed_variables"])
    assert checked.json()["preview"].replace("\u202f", " ") == (
        "See you Jan 16, 2025 at 9:30 AM London time (11:30 PM Wed, January 15 your time)."
    )
