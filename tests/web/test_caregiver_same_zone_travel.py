"""A caregiver who is "Same as mine" keeps the patient's home zone when the patient travels.

Ana lives in New York with her daughter Lucía, whom she names her caregiver over SMS with "Same
as mine". Then Ana flies to Tokyo in 'follow me' mode: her 3 p.m. dose follows her, 3 p.m. in
Tokyo, 1 a.m. in New York. Before, "Same as mine" stored no zone and the dispatcher read Ana's
current one, Tokyo, where 1:15 a.m. New York time is the afternoon: Lucía's missed-dose alert
woke her at 1:15 a.m. Now the zone kept is New York's, and the alert waits for 8 a.m. there (the
clinic's quiet hours, 21:00-08:00). Driven as the product runs: Ana texts the web process's signed
Twilio webhook, the planner and the dispatcher run at one injected clock, and the alert goes
through the real adapter to the loopback Twilio.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import asyncpg
import httpx

from tests import factories
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import START, option_number, sms_chat
from tests.web.worker_day import Day, sms_to, worker_passes

ANA = "+12125550180"
LUCIA = "+12125550181"


async def test_same_as_mine_keeps_the_home_zone_when_the_patient_travels(
    web: httpx.AsyncClient,
    day: Day,
    admin_conn: asyncpg.Connection,
    org: asyncpg.Record,
    fake_twilio: FakeTwilio,
) -> None:
    await admin_conn.execute(
        "update organizations set default_quiet_start = '21:00', default_quiet_end = '08:00'"
        " where id = $1",
        org["id"],
    )
    patient = await factories.create_patient(
        admin_conn,
        org["id"],
        contacts={"sms": ANA},
        display_name="Ana",
        timezone="America/New_York",
        nag_max=0,
    )
    await factories.create_medication(admin_conn, patient["id"], times=(time(15, 0),))
    await day.at(START)  # the planner pins Ana's home zone, New York
    say = sms_chat(web, fake_twilio, ANA)

    menu = await say("/settings")
    await say(option_number(menu, "Caregiver"))
    channels = await say("Lucía")
    await say(option_number(channels, "SMS"))
    zone_question = await say(LUCIA)
    assert "Which time zone does Lucía live in?" in zone_question
    await say(option_number(zone_question, "Same as mine"))
    saved = await say("0")
    assert "Lucía's night is counted in New York, your home time zone" in saved, saved
    kept = "select timezone from caregivers where patient_id = $1"
    assert await admin_conn.fetchval(kept, patient["id"]) == "America/New_York"

    menu = await say("/settings")
    modes = await say(option_number(menu, "Home or follow"))
    await say(option_number(modes, "Follow me"))
    menu = await say("/settings")
    await say(option_number(menu, "Time zone"))
    confirm = await say("Tokyo")
    await say(option_number(confirm, "Yes"))
    assert await admin_conn.fetchval(
        "select timezone from patients where id = $1", patient["id"]
    ) == ("Asia/Tokyo")

    # 3 p.m. in Tokyo on March 5 is 06:00 UTC, 1 a.m. in New York: missed at 06:15 UTC.
    dose = datetime(2026, 3, 5, 6, 0, tzinfo=UTC)
    await worker_passes(day, dose + timedelta(minutes=30) - day.clock.now)
    assert sms_to(fake_twilio, LUCIA) == [], "Lucía woken at night in New York"
    await worker_passes(day, datetime(2026, 3, 5, 13, 5, tzinfo=UTC) - day.clock.now)
    alerts = await admin_conn.fetch(
        "select sent_at from scheduled_messages where caregiver_id is not null and status in"
        " ('sent', 'delivered')"
    )
    # 08:00 in New York (EST, UTC-5) is 13:00 UTC: the end of Lucía's night, not Ana's.
    assert [a["sent_at"] for a in alerts] == [datetime(2026, 3, 5, 13, 0, tzinfo=UTC)]
    assert len(sms_to(fake_twilio, LUCIA)) == 1
