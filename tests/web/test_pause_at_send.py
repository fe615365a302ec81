"""A /pause that lands after the worker claimed a reminder still stops it (issue 14, item 3).

Over a real ``medremind worker`` and ``medremind web`` with SMS on the loopback Twilio. SMS goes
out at one message every four seconds, so of two reminders claimed together the second waits for
its rate-limit slot while holding its lease. The patient texts /pause as soon as the first
arrives: the second, claimed before the pause, must not be sent (the dispatcher reads the pause
again right before the send). Likewise a STOP: the contact point is opted out after the claim.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from scheduler.planning_rules import PAUSE_REASON
from tests.factories import create_dose_event, create_medication, create_message, create_patient
from tests.fakes.fake_twilio import FakeTwilio, inbound_form
from tests.web.conftest import twilio_signature
from tests.web.processes import StartWeb, running_worker, twilio_env, until

PHONE = "+14155550411"
OTHER_PHONE = "+14155550412"
# Four seconds between SMS (the dispatcher waits at most five for a slot while holding a lease).
SLOW_SMS = {"MEDREMIND_SMS_RATE": "0.25"}


async def _two_reminders(conn: asyncpg.Connection, patient_id: Any) -> list[Any]:
    """Two doses due now and their reminders, inserted together (claimed in one batch)."""
    _, schedule = await create_medication(conn, patient_id)
    now = datetime.now(UTC)
    rows = []
    async with conn.transaction():
        for n in range(2):
            dose = await create_dose_event(conn, schedule, now + timedelta(microseconds=n))
            rows.append(
                await create_message(
                    conn,
                    patient_id,
                    kind="medication_reminder",
                    message_content=None,
                    dose_event_id=dose["id"],
                    scheduled_time=now,
                    priority=1,
                )
            )
    return [r["id"] for r in rows]


def _both_claimed(statuses: list[str]) -> bool:
    """One sent (its outcome perhaps not yet recorded), the other claimed and waiting; or, on a
    loaded machine, the other given back for its slot (the dispatcher holds a lease at most five
    seconds waiting for one) and claimed again later: the pause or STOP must hold it either way."""
    return "sent" in statuses or "processing" in statuses


async def _reminders_sent(twilio: FakeTwilio, phone: str = PHONE) -> list[str]:
    return [m.body or "" for m in twilio.messages if m.to == phone and "1 Taken" in (m.body or "")]


async def test_a_claimed_reminder_is_not_sent_after_pause_or_stop(
    web_process: StartWeb,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    database_url: str,
    tmp_path: Path,
) -> None:
    patient = await create_patient(admin_conn, contacts={"sms": PHONE})
    _, base = await web_process()
    env = twilio_env(fake_twilio) | SLOW_SMS
    async with (
        running_worker(database_url, tmp_path, **env) as log,
        httpx.AsyncClient(base_url=base, timeout=30) as http,
    ):

        async def text(body: str, phone: str = PHONE) -> None:
            form = inbound_form(phone, body)
            headers = {"X-Twilio-Signature": twilio_signature("/twilio/inbound", form)}
            assert (await http.post("/twilio/inbound", data=form, headers=headers)).is_success

        async def statuses(ids: list[Any]) -> list[str]:
            rows = await admin_conn.fetch(
                "select id, status from scheduled_messages where id = any($1)", ids
            )
            found = dict(rows)
            return [found[i] for i in ids]

        async def states(ids: list[Any]) -> list[Any]:
            rows = await admin_conn.fetch(
                "select id, status, last_error from scheduled_messages where id = any($1)", ids
            )
            found = {r["id"]: (r["status"], r["last_error"]) for r in rows}
            return [found[i] for i in ids]

        # /pause while the second reminder waits for its slot.
        ids = await _two_reminders(admin_conn, patient["id"])
        await until("no reminder sent", lambda: _reminders_sent(fake_twilio), log)
        claimed = await statuses(ids)
        assert _both_claimed(claimed), claimed  # before the /pause
        await text("/pause")
        await until(
            "the pause was not recorded",
            lambda: admin_conn.fetchval(
                "select reminders_paused from patients where id = $1", patient["id"]
            ),
            log,
        )

        async def settled() -> list[Any] | None:
            found = await states(ids)
            return found if all(s[0] in ("sent", "cancelled") for s in found) else None

        final = await until("the claimed reminder never settled", settled, log)
        assert sorted(s[0] for s in final) == ["cancelled", "sent"], final
        assert PAUSE_REASON in [s[1] for s in final]  # held at its send, in the name of who paused
        assert len(await _reminders_sent(fake_twilio)) == 1

        # /resume while its dose is still open, long before its missed mark: the reminder held
        # back comes then, once (the same row), and the one sent is not sent again.
        await text("/resume")

        async def both_sent() -> list[str] | None:
            found = await statuses(ids)
            return found if found == ["sent", "sent"] else None

        await until("the held-back reminder after /resume", both_sent, log)
        assert len(await _reminders_sent(fake_twilio)) == 2

        # STOP while a claimed reminder waits: the contact point is opted out after the claim.
        other = await create_patient(admin_conn, contacts={"sms": OTHER_PHONE})
        ids = await _two_reminders(admin_conn, other["id"])
        await until("no reminder sent", lambda: _reminders_sent(fake_twilio, OTHER_PHONE), log)
        claimed = await statuses(ids)
        assert _both_claimed(claimed), claimed
        await text("STOP", OTHER_PHONE)
        await until(
            "the opt-out was not recorded",
            lambda: admin_conn.fetchval(
                "select opted_out_at is not null from contact_points where address = $1",
                OTHER_PHONE,
            ),
            log,
        )

        async def final_states() -> list[Any] | None:
            found = await states(ids)
            return found if all(s[0] in ("sent", "failed", "cancelled") for s in found) else None

        # Put back unsent at the send, then failed at the next claim: no usable contact point.
        final = await until("the claimed reminder never settled", final_states, log)
        assert sorted(s[0] for s in final) == ["failed", "sent"], final
        assert len(await _reminders_sent(fake_twilio, OTHER_PHONE)) == 1
