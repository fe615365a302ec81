"""A patient whose number is in a range libphonenumber's copy of the numbering plans lacks is
answered (platforms/twilio_common.py: normalize_e164).

Found in a test's set-up: a clinic's SMS patient at +56 9 1234 5678 wrote "/pause" and got no
answer; the reply failed before any request as "not a valid phone number", and their number was
put out of use (contact point inactive), so no reminder could reach them either. A number that
wrote to the service exists; Twilio, which knows the live plans, says when one does not.
"""

from __future__ import annotations

import asyncpg
import httpx

from tests import factories
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import sms_chat

NUMBER = "+56912345678"


async def test_a_patient_writing_from_a_range_the_plans_lack_gets_the_answer(
    web: httpx.AsyncClient, admin_conn: asyncpg.Connection, fake_twilio: FakeTwilio
) -> None:
    patient = await factories.create_patient(
        admin_conn, contacts={"sms": NUMBER}, locale="en", timezone="America/Santiago"
    )
    said = await sms_chat(web, fake_twilio, NUMBER)("/pause")
    assert said == "All reminders are paused. Send /resume to restart them.", said
    usable = await admin_conn.fetchval(
        "select active from contact_points where patient_id = $1", patient["id"]
    )
    assert usable is True
