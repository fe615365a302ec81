"""A reminder and a caregiver alert by SMS keep to three segments whatever the names hold.

One emoji in a name makes the whole SMS UCS-2 (70 units a segment, 67 when concatenated; an
emoji is two). With the patient's and caregiver's names at the longest the tables take (50
UTF-16 units), the medicine at 60 and the dose at 40, the built-in reminder naming its medicine
came to 4 UCS-2 segments, and so did the caregiver alert: over the default
MEDREMIND_SMS_MAX_SEGMENTS, so the render was refused and the row failed 'message too long for
sms' (an SMS-only patient was not reminded at all). Now the renderer gives the people by their
first names, then cuts the medicine and dose (core.sms_fit), and each goes as one SMS of at
most three segments. Real PostgreSQL, claim query and dispatcher; a recording SMS sender.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
import pytest

from core.message_limits import count_segments
from core.template_measure import utf16_units
from platforms.base import Channel
from tests import factories
from tests.dispatch.conftest import NOON
from tests.dispatch.recording import RecordingSender
from tests.dispatch.test_dispatcher import MakeDispatcher, _row


def _longest(text: str, units: int) -> str:
    """``text`` cut to ``units`` UTF-16 units (a table's longest value)."""
    while utf16_units(text) > units:
        text = text[:-1]
    return text


PATIENT = _longest("Guadalupe 🌸 " + "Ñúñez 👵 " * 10, 50)
CAREGIVER = _longest("Rosario 🌻 " + "Peña 💊 " * 10, 50)
MEDICINE = _longest("Metformina clorhidrato de liberación prolongada " * 2, 60)
DOSE = _longest("2 comprimidos (1000 mg) con la cena y agua", 40)
GREETING = {"en": "Hi Guadalupe. Time for your", "es": "Hola, Guadalupe. Es la hora de tu dosis"}
ALERT = {"en": "Hi Rosario. Guadalupe has not confirmed", "es": "Hola, Rosario. Guadalupe no ha"}


async def _a_dose(
    conn: asyncpg.Connection, locale: str, contacts: dict[str, str], **patient_values: Any
) -> asyncpg.Record:
    """A dose due at noon of the medicine at its longest, for a patient named :data:`PATIENT`."""
    patient = await factories.create_patient(
        conn, contacts=contacts, display_name=PATIENT, locale=locale, **patient_values
    )
    _, schedule = await factories.create_medication(conn, patient["id"], name=MEDICINE, dose=DOSE)
    return await factories.create_dose_event(conn, schedule, NOON)


async def _sent_as_one_sms(
    conn: asyncpg.Connection, make_dispatcher: MakeDispatcher, message_id: UUID
) -> str:
    """One pass of the dispatcher: the row went as one SMS of at most three segments; its text
    with its numbered answers, as the phone shows it."""
    sms = RecordingSender(Channel.SMS)
    dispatcher, _ = make_dispatcher({Channel.TELEGRAM: RecordingSender(), Channel.SMS: sms})
    await dispatcher.run_once()
    row = await _row(conn, message_id)
    assert (row["status"], row["last_error"]) == ("sent", None)
    ((_, message),) = sms.sends
    answers = [f"{n} {o.label}" for n, o in enumerate(message.options, 1)]
    text = "\n".join([message.text, *answers])
    assert count_segments(text)[1] <= 3, text
    return text


@pytest.mark.parametrize("locale", ["en", "es"])
async def test_a_reminder_naming_its_medicine_fits_three_segments(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher, locale: str
) -> None:
    contacts = {"sms": "+15550142"}
    dose = await _a_dose(admin_conn, locale, contacts, name_medicine_in_reminders=True)
    reminder = await factories.create_message(
        admin_conn,
        dose["patient_id"],
        kind="medication_reminder",
        message_content=None,
        dose_event_id=dose["id"],
        scheduled_time=NOON,
        priority=1,
    )
    text = await _sent_as_one_sms(admin_conn, make_dispatcher, reminder["id"])
    assert text.startswith(GREETING[locale]), text
    assert MEDICINE[:20] in text, text  # the medicine the patient asked to see


@pytest.mark.parametrize("locale", ["en", "es"])
async def test_a_caregiver_alert_fits_three_segments(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher, locale: str
) -> None:
    dose = await _a_dose(admin_conn, locale, {"telegram": "5201"})
    caregiver: UUID = await admin_conn.fetchval(
        "insert into caregivers (patient_id, name, channel, address, share_details)"
        " values ($1, $2, 'sms', '+34600123457', true) returning id",
        dose["patient_id"],
        CAREGIVER,
    )
    alert = await factories.create_message(
        admin_conn,
        dose["patient_id"],
        scheduled_time=NOON,
        kind="missed_dose_caregiver",
        caregiver_id=caregiver,
        dose_event_id=dose["id"],
        platform="sms",
        allow_fallback=False,
        message_content=None,
    )
    text = await _sent_as_one_sms(admin_conn, make_dispatcher, alert["id"])
    assert text.startswith(ALERT[locale]), text
