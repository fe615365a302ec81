"""A waitlist slot offer answered by SMS, over a real ``medremind web`` and ``medremind worker``.

The clinic creates SMS patients through the API and puts them on its waitlist; an appointment is
cancelled through the API; the worker sends the offer ("1 Accept / 2 No thanks") to the loopback
Twilio; the patient texts "1" to the signed ``/twilio/inbound`` and gets the slot. Then two
patients offered one slot text "1" at the same moment: one booking, the other is told it is gone,
and a second "1" from them is no longer taken for an answer to the offer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest

from core.db import Database
from tests.fakes.fake_twilio import FakeTwilio, inbound_form
from tests.web.conftest import twilio_signature
from tests.web.processes import StartWeb, clinic_key, running_worker, twilio_env, until

PHONES = {"cancelling": "+14155550301", "ana": "+14155550302", "ben": "+14155550303"}
PHONES |= {"cy": "+14155550304"}


def _slot(days: int) -> datetime:
    """10:00 UTC ``days`` ahead (the clinic's and the patients' timezone is UTC)."""
    day = datetime.now(UTC).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC)


@pytest.fixture
async def worker_log(
    fake_twilio: FakeTwilio, database_url: str, tmp_path: Path
) -> AsyncIterator[Path]:
    """A ``medremind worker`` sending SMS to the loopback Twilio."""
    async with running_worker(database_url, tmp_path, **twilio_env(fake_twilio)) as log:
        yield log


async def _text(http: httpx.AsyncClient, phone: str, body: str) -> None:
    form = inbound_form(phone, body)
    headers = {"X-Twilio-Signature": twilio_signature("/twilio/inbound", form)}
    answer = await http.post("/twilio/inbound", data=form, headers=headers)
    assert answer.status_code == 200, answer.text


def _sms_to(twilio: FakeTwilio, phone: str, since: int = 0) -> list[str]:
    return [m.body or "" for m in twilio.messages[since:] if m.to == phone]


async def _cancel_a_booking(
    http: httpx.AsyncClient, auth: dict, patient: str, at: datetime
) -> None:
    booked = await http.post(
        "/api/v1/appointments",
        headers=auth,
        json={"patient_id": patient, "starts_at": at.isoformat(), "duration_minutes": 30},
    )
    assert booked.status_code == 201, booked.text
    cancel = await http.post(f"/api/v1/appointments/{booked.json()['id']}/cancel", headers=auth)
    assert cancel.status_code == 200, cancel.text


async def test_a_typed_1_books_the_offered_slot_and_a_race_books_once(
    db: Database,
    admin_conn: asyncpg.Connection,
    web_process: StartWeb,
    fake_twilio: FakeTwilio,
    worker_log: Path,
) -> None:
    org, key = await clinic_key(db, admin_conn, "Waitlist SMS Clinic")
    # Quiet hours off for this clinic too (its default window would defer offers at night).
    await admin_conn.execute(
        "update organizations set default_quiet_start = '00:00', default_quiet_end = '00:00'"
        " where id = $1",
        org["id"],
    )
    _, base = await web_process()
    auth = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        ids: dict[str, str] = {}
        for name, phone in PHONES.items():
            created = await http.post(
                "/api/v1/patients",
                headers=auth,
                json={
                    "display_name": name.title(),
                    "phone": phone,
                    "channel_order": ["sms"],
                    "timezone": "UTC",
                    "consent": True,
                },
            )
            assert created.status_code == 201, created.text
            ids[name] = created.json()["id"]

        async def join(name: str) -> None:
            added = await http.post(
                "/api/v1/waitlist", headers=auth, json={"patient_id": ids[name]}
            )
            assert added.status_code == 201, added.text

        # One patient on the waitlist; a slot is freed; the offer SMS arrives.
        await join("ana")
        await _cancel_a_booking(http, auth, ids["cancelling"], _slot(3))

        async def offered(phone: str) -> list[str]:
            return [b for b in _sms_to(fake_twilio, phone) if "earlier appointment is free" in b]

        [offer] = await until("no offer SMS", lambda: offered(PHONES["ana"]), worker_log)
        assert offer.endswith("1 Accept\n2 No thanks")

        async def asked(patient: str) -> bool:
            return bool(
                await admin_conn.fetchval(
                    "select count(*) from conversation_questions"
                    " where patient_id = $1 and slot_offer_recipient_id is not null",
                    patient,
                )
            )

        # The question is recorded with the send's outcome, just after Twilio accepted it.
        await until("offer question not recorded", lambda: asked(ids["ana"]), worker_log)
        before = len(fake_twilio.messages)
        await _text(http, PHONES["ana"], "1")

        async def reply(phone: str, since: int, *markers: str) -> str:
            """What the patient was sent since ``since`` once it holds one of ``markers``."""
            said = "\n".join(_sms_to(fake_twilio, phone, since))
            return said if any(m in said for m in markers) else ""

        said = await until(
            "no reply", lambda: reply(PHONES["ana"], before, "It's yours", "Sorry"), worker_log
        )
        assert "It's yours" in said
        booked = await admin_conn.fetch(
            "select patient_id, status from appointments where starts_at = $1"
            " and status <> 'cancelled'",
            _slot(3),
        )
        assert [(str(r["patient_id"]), r["status"]) for r in booked] == [(ids["ana"], "confirmed")]

        # Two patients offered the next freed slot text "1" at the same moment.
        await join("ben")
        await join("cy")
        await _cancel_a_booking(http, auth, ids["cancelling"], _slot(4))
        for name in ("ben", "cy"):
            await until(f"no offer to {name}", lambda n=name: offered(PHONES[n]), worker_log)
            await until(f"no question for {name}", lambda n=name: asked(ids[n]), worker_log)
        before = len(fake_twilio.messages)
        await asyncio.gather(_text(http, PHONES["ben"], "1"), _text(http, PHONES["cy"], "1"))
        replies = {}
        for name in ("ben", "cy"):
            replies[name] = await until(
                f"no reply to {name}",
                lambda n=name: reply(PHONES[n], before, "It's yours", "accepted that"),
                worker_log,
            )
        booked = await admin_conn.fetch(
            "select patient_id from appointments where starts_at = $1 and status <> 'cancelled'",
            _slot(4),
        )
        assert len(booked) == 1  # exactly one booking
        winner = "ben" if str(booked[0]["patient_id"]) == ids["ben"] else "cy"
        loser = "cy" if winner == "ben" else "ben"
        assert str(booked[0]["patient_id"]) == ids[winner]
        assert "It's yours" in replies[winner]
        assert "someone accepted that appointment first" in replies[loser]

        # Told once: a second "1" is not an answer to the offer any more.
        before = len(fake_twilio.messages)
        await _text(http, PHONES[loser], "1")
        again = await until(
            "no reply", lambda: reply(PHONES[loser], before, "answer", "accepted"), worker_log
        )
        assert "Nothing is waiting for an answer" in again and "accepted that" not in again
        assert (
            await admin_conn.fetchval(
                "select count(*) from appointments where starts_at = $1 and status <> 'cancelled'",
                _slot(4),
            )
            == 1
        )
