"""A Telegram caregiver whose chat id was typed in (before caregiver links) is alerted again only
once their own chat opens a link; the patient is sent one (migration 20260101014300).

A typed chat id cannot be checked: one wrong digit sent missed-dose alerts naming the patient to
a stranger's chat. The migration marks every Telegram caregiver no opened link made
(``awaiting_link_since``; tests/integration/test_typed_telegram_caregivers_migration.py shows
which); here a clinic's Spanish-speaking patient on SMS has such a caregiver, Ben, marked as the
migration leaves him, and an SMS caregiver, Lucía. Driven as the product runs: the planner, the
worker's relink pass and its dispatcher through the real adapters to the loopback Twilio and
Telegram, Ben's chat through the web process's webhook, the clinic through the API.

Before: Ben's chat got "Ana has not confirmed ..." like any caregiver.
"""

from __future__ import annotations

import re
from datetime import time, timedelta

import asyncpg
import pytest

from bot.locale_format import LOCALES
from core.db import Database
from core.message_limits import channel_limit_problem
from medremind.caregiver_relinks import offer_relinks, relink_text
from platforms.base import Channel
from tests import factories
from tests.web.chat import START, telegram_text
from tests.web.worker_day import ClinicDay, sms_caregiver, sms_to, telegram_to

PATIENT = "+14155550150"
LUCIA = "+14155550151"
BEN_CHAT = 7_300_151
LINK = re.compile(r"https://t\.me/medremind_test_bot\?start=(cg_[\w-]+)")


async def test_a_typed_telegram_caregiver_is_alerted_again_once_their_chat_opens_a_link(
    clinic: ClinicDay,
) -> None:
    await clinic.conn.execute(
        "update organizations set default_quiet_start = '02:00', default_quiet_end = '03:00'"
        " where id = $1",
        clinic.org["id"],
    )
    # Quiet until 12:05: the patient's message waits for it (reminders are theirs, at noon).
    patient = await factories.create_patient(
        clinic.conn,
        clinic.org["id"],
        contacts={"sms": PATIENT},
        display_name="Ana",
        locale="es",
        nag_max=0,
        quiet_start=time(11, 0),
        quiet_end=time(12, 5),
    )
    ben = await clinic.conn.fetchval(
        "insert into caregivers (patient_id, name, channel, address, alert_delay_minutes,"
        " share_details) values ($1, 'Ben', 'telegram', $2, 0, false) returning id",
        patient["id"],
        str(BEN_CHAT),
    )
    # As migration 20260101014300 leaves a caregiver typed in before links.
    await clinic.conn.execute(
        "update caregivers set awaiting_link_since = $2 where id = $1", ben, START
    )
    await sms_caregiver(clinic.conn, patient["id"], "Lucía", LUCIA)
    await factories.create_medication(clinic.conn, patient["id"], times=(time(12, 0),))

    # The clinic sees Ben waits for his link, and is not alerted.
    listed = await clinic.web.get(
        f"/api/v1/patients/{patient['id']}/caregivers", headers=clinic.auth
    )
    assert listed.status_code == 200, listed.text
    state = {c["name"]: (c["alerted"], c["awaiting_link_since"]) for c in listed.json()["data"]}
    assert state["Lucía"] == (True, None)
    assert state["Ben"][0] is False and state["Ben"][1] is not None

    # Another patient's typed caregiver who sent /stop: left waiting, never offered a link.
    other = await factories.create_patient(clinic.conn, clinic.org["id"], contacts={"sms": LUCIA})
    await clinic.conn.execute(
        "insert into caregivers (patient_id, name, channel, address, awaiting_link_since,"
        " opted_out_at) values ($1, 'Eve', 'telegram', '7300152', $2, $2)",
        other["id"],
        START,
    )

    # The worker's pass: one message for Ana, once; a pass with nothing to send asks Telegram
    # nothing (it runs every planner interval).
    telegram = clinic.day.senders[Channel.TELEGRAM]
    assert await offer_relinks(clinic.day.db.pool, telegram, START) == 1
    asked = len(clinic.telegram.calls_to("getMe"))
    assert await offer_relinks(clinic.day.db.pool, telegram, START + timedelta(minutes=1)) == 0
    assert len(clinic.telegram.calls_to("getMe")) == asked

    await clinic.day.at(START)
    assert sms_to(clinic.twilio, PATIENT) == []  # 11:50: her quiet hours hold it

    await clinic.day.miss_a_day(0)
    # Ana got the link in Spanish, by SMS, after 12:05.
    told = [m for m in sms_to(clinic.twilio, PATIENT) if "t.me" in m]
    assert len(told) == 1, sms_to(clinic.twilio, PATIENT)
    assert told[0].startswith("Avisos a Ben por Telegram parados hasta que abra"), told[0]
    found = LINK.search(told[0])
    assert found, told[0]
    # Lucía is alerted; Ben is not, and the alert that would have gone is recorded with why.
    assert sms_to(clinic.twilio, LUCIA)[-1].startswith("Hola, Lucía. Ana no ha confirmado")
    assert telegram_to(clinic.telegram, BEN_CHAT) == []
    held = await clinic.web.get(
        "/api/v1/messages",
        params={"patient_id": str(patient["id"]), "kind": "missed_dose_caregiver"},
        headers=clinic.auth,
    )
    assert held.status_code == 200, held.text
    alerts = sorted((m["status"], m["last_error"] or "") for m in held.json()["data"])
    assert [status for status, _ in alerts] == ["cancelled", "sent"], alerts
    assert "chat id was typed in" in alerts[0][1] and "open the link" in alerts[0][1], alerts

    # Ben opens it in his own Telegram: he is Ana's caregiver again and is told so.
    await telegram_text(clinic.web, BEN_CHAT, f"/start {found.group(1)}")
    assert "You are now Ana's caregiver" in telegram_to(clinic.telegram, BEN_CHAT)[-1]
    listed = await clinic.web.get(
        f"/api/v1/patients/{patient['id']}/caregivers", headers=clinic.auth
    )
    rows = [
        (c["name"], c["active"], c["alerted"], c["awaiting_link_since"] is None)
        for c in listed.json()["data"]
    ]
    assert rows == [
        ("Ben", False, False, False),
        ("Lucía", True, True, True),  # unchanged: the link replaces Ben's row only
        ("Ben", True, True, True),
    ], rows
    await clinic.day.miss_a_day(1)
    assert telegram_to(clinic.telegram, BEN_CHAT)[-1].startswith(
        "Hola, Ben. Ana no ha confirmado un recordatorio"
    )


async def test_a_link_that_expires_unopened_is_followed_by_one_more_and_no_third(
    db: Database,
    senders: dict,
    admin_conn: asyncpg.Connection,
    org: asyncpg.Record,
) -> None:
    """The first link expires after 7 days unopened: Ben still gets no alerts. Before, nothing
    more happened. Now the next pass sends the patient one more, saying the first expired and
    that this is the last (migration 20260101014400); when that one expires too, none."""
    patient = await factories.create_patient(
        admin_conn, org["id"], contacts={"sms": PATIENT}, display_name="Ana"
    )
    await admin_conn.execute(
        "insert into caregivers (patient_id, name, channel, address, awaiting_link_since)"
        " values ($1, 'Ben', 'telegram', $2, $3)",
        patient["id"],
        str(BEN_CHAT),
        START,
    )
    telegram = senders[Channel.TELEGRAM]

    async def offered() -> list[str]:
        return [
            r["message_content"]
            for r in await admin_conn.fetch(
                "select message_content from scheduled_messages where patient_id = $1"
                " and idempotency_key like 'caregiver-relink:%' order by scheduled_time",
                patient["id"],
            )
        ]

    assert await offer_relinks(db.pool, telegram, START) == 1
    # Still working 6 days on: nothing more.
    assert await offer_relinks(db.pool, telegram, START + timedelta(days=6, hours=23)) == 0
    expired = START + timedelta(days=7, minutes=1)
    assert await offer_relinks(db.pool, telegram, expired) == 1
    first, second = await offered()
    assert first.startswith("Alerts to Ben on Telegram are off until they open this link")
    assert second.startswith(
        "Ben's link expired unopened; alerts stay off. Forward this one, the last (valid 7 days):"
    ), second
    assert LINK.search(second) and LINK.search(second) != LINK.search(first)
    # The second works for 7 days from its sending; once it expires too, no third.
    assert await offer_relinks(db.pool, telegram, expired + timedelta(days=6)) == 0
    assert await offer_relinks(db.pool, telegram, expired + timedelta(days=30)) == 0
    assert len(await offered()) == 2
    ben = await admin_conn.fetchrow(
        "select link_offers, link_offered_at, awaiting_link_since is not null as waits"
        " from caregivers where patient_id = $1",
        patient["id"],
    )
    assert tuple(ben) == (2, expired, True)  # the dashboard shows it expired, from the 2nd


@pytest.mark.parametrize("again", [False, True])
@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    "name",
    ["Ben", "Fernández-Ñúñez de la Peña " * 7, "M" * 200, "👵" * 12, "Abuelita👵👵👵👵👵 Rosa"],
)
def test_the_message_fits_three_sms_segments_whatever_the_name(
    locale: str, name: str, again: bool
) -> None:
    """The link (98 characters with a bot's longest @username) and a caregiver's name of up to
    200 in three SMS segments; in Spanish, or with an accent in the name, the text is UCS-2 (201
    characters), and the first wording failed it ('SMS too long', 6 segments). The second offer
    too."""
    link = "https://t.me/" + "b" * 32 + "?start=cg_" + "x" * 43
    text = relink_text(locale, name.strip(), link, again=again)
    assert link in text
    assert channel_limit_problem("sms", text, sms_max_segments=3) is None, text
