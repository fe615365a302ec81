"""The waitlist over a real web process: patients put on it through the API, an appointment
cancelled through the API, its slot offered (Accept / No thanks) as ordinary outbound messages to
the patients whose days and hours fit, and two of them pressing Accept on Telegram at the same
moment: exactly one booking; the other is told the slot is gone. Also the race itself on the
database function with many concurrent acceptances."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from core.answer_buttons import parse_offer_data
from tests.factories import create_patient
from tests.fakes.fake_telegram import callback_update
from tests.web.conftest import WEBHOOK_SECRET
from tests.web.processes import clinic_key, output

SECRET = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}


def _slot() -> datetime:
    """A Wednesday 10:00 UTC at least three days ahead (the waitlist windows below are UTC)."""
    day = datetime.now(UTC).date() + timedelta(days=3)
    day += timedelta(days=(2 - day.weekday()) % 7)
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC)


async def _offers(conn: asyncpg.Connection) -> dict[str, str]:
    """patient id -> the Accept button data of their pending offer message."""
    rows = await conn.fetch(
        "select patient_id, payload from scheduled_messages"
        " where idempotency_key like 'waitlist:%:offer'"
    )
    return {str(r["patient_id"]): r["payload"]["options"][0][1] for r in rows}


async def test_two_patients_accept_at_once_one_booking(db, admin_conn, web_process, fake_telegram):
    org, key = await clinic_key(db, admin_conn, "Waitlist Clinic")
    other, other_key = await clinic_key(db, admin_conn, "Other Clinic")
    cancelling = await create_patient(admin_conn, org["id"], contacts={"telegram": "7000"})
    first = await create_patient(admin_conn, org["id"], contacts={"telegram": "7001"})
    second = await create_patient(admin_conn, org["id"], contacts={"telegram": "7002"})
    wrong_day = await create_patient(admin_conn, org["id"], contacts={"telegram": "7003"})
    too_late_in_day = await create_patient(admin_conn, org["id"], contacts={"telegram": "7004"})
    stranger = await create_patient(admin_conn, other["id"], contacts={"telegram": "7005"})
    slot = _slot()
    web, base = await web_process()
    auth = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        entries: dict[object, str] = {}
        for patient, body in (
            (first, {"days_of_week": [3], "earliest": "09:00", "latest": "12:00"}),
            (second, {"note": "any time"}),
            (wrong_day, {"days_of_week": [1, 2]}),
            (too_late_in_day, {"earliest": "14:00"}),
        ):
            answer = await http.post(
                "/api/v1/waitlist", headers=auth, json={"patient_id": str(patient["id"]), **body}
            )
            assert answer.status_code == 201, answer.text
            entries[patient["id"]] = answer.json()["id"]
        again = await http.post(
            "/api/v1/waitlist", headers=auth, json={"patient_id": str(first["id"])}
        )
        assert again.status_code == 409
        # The waiting entry is named (found over the API: a bare "already on the waitlist").
        error = again.json()["error"]
        assert (error["field"], error["existing_id"]) == ("patient_id", entries[first["id"]])
        bad = await http.post(
            "/api/v1/waitlist",
            headers=auth,
            json={"patient_id": str(second["id"]), "earliest": "9am"},
        )
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "earliest"
        foreign = await http.post(
            "/api/v1/waitlist", headers=auth, json={"patient_id": str(stranger["id"])}
        )
        assert foreign.status_code == 422  # not a patient of this clinic
        other_auth = {"Authorization": f"Bearer {other_key}"}
        await http.post(
            "/api/v1/waitlist", headers=other_auth, json={"patient_id": str(stranger["id"])}
        )
        listed = (await http.get("/api/v1/waitlist", headers=auth)).json()["data"]
        assert [e["patient_id"] for e in listed] == [
            str(p["id"]) for p in (first, second, wrong_day, too_late_in_day)
        ]
        assert listed[0]["earliest"] == "09:00" and listed[0]["days_of_week"] == [3]

        booked = await http.post(
            "/api/v1/appointments",
            headers=auth,
            json={
                "patient_id": str(cancelling["id"]),
                "starts_at": slot.isoformat(),
                "duration_minutes": 30,
                "location": "Room 4",
            },
        )
        assert booked.status_code == 201, booked.text
        cancel = await http.post(f"/api/v1/appointments/{booked.json()['id']}/cancel", headers=auth)
        assert cancel.status_code == 200

        # Offered to the two whose day and hours fit, through the ordinary outbound path.
        offers = await _offers(admin_conn)
        assert set(offers) == {str(first["id"]), str(second["id"])}
        texts = await admin_conn.fetch(
            "select message_content, status, platform from scheduled_messages"
            " where idempotency_key like 'waitlist:%:offer'"
        )
        assert all(r["status"] == "pending" and r["platform"] == "auto" for r in texts)
        assert all("earlier appointment is free" in r["message_content"] for r in texts)

        # Both press Accept at the same moment.
        presses = await asyncio.gather(
            http.post(
                "/telegram/webhook",
                json=callback_update(7001, offers[str(first["id"])]),
                headers=SECRET,
            ),
            http.post(
                "/telegram/webhook",
                json=callback_update(7002, offers[str(second["id"])]),
                headers=SECRET,
            ),
        )
        assert [p.status_code for p in presses] == [200, 200]

    deadline = time.monotonic() + 60
    while (
        await admin_conn.fetchval(
            "select count(*) from slot_offer_recipients where status in ('accepted', 'too_late')"
        )
        < 2
    ):
        if time.monotonic() >= deadline:
            # What the turns left behind: their rows' status and error, any session still
            # waiting for a lock, and the web process's log.
            inbound = await admin_conn.fetch("select status, last_error from inbound_messages")
            waiting = await admin_conn.fetch(
                "select wait_event, left(query, 120) as query from pg_stat_activity"
                " where wait_event_type = 'Lock' and datname = current_database()"
            )
            pytest.fail(
                f"the presses were not processed: {[tuple(r) for r in inbound]},"
                f" waiting for locks: {[tuple(r) for r in waiting]}\n{output(web)[-3000:]}"
            )
        await asyncio.sleep(0.1)
    appointments = await admin_conn.fetch(
        "select patient_id, starts_at, status, location from appointments"
        " where starts_at = $1 and status <> 'cancelled'",
        slot,
    )
    assert len(appointments) == 1  # exactly one booking
    [winner] = appointments
    assert winner["patient_id"] in (first["id"], second["id"])
    assert (winner["status"], winner["location"]) == ("confirmed", "Room 4")
    loser = second if winner["patient_id"] == first["id"] else first
    states = dict(await admin_conn.fetch("select patient_id, status from slot_offer_recipients"))
    assert states == {winner["patient_id"]: "accepted", loser["id"]: "too_late"}
    entries = dict(await admin_conn.fetch("select patient_id, status from waitlist_entries"))
    assert entries[winner["patient_id"]] == "booked" and entries[loser["id"]] == "waiting"
    gone = await admin_conn.fetchval(
        "select message_content from scheduled_messages"
        " where patient_id = $1 and idempotency_key like 'waitlist:%:gone'",
        loser["id"],
    )
    assert "has been taken" in gone
    winner_chat = "7001" if winner["patient_id"] == first["id"] else "7002"
    loser_chat = "7002" if winner_chat == "7001" else "7001"
    deadline = time.monotonic() + 30
    while True:
        said = {
            str(c.chat_id): c.text or ""
            for c in fake_telegram.calls
            if c.method in ("sendMessage", "editMessageText")
        }
        if winner_chat in said and loser_chat in said:
            break
        assert time.monotonic() < deadline, said
        await asyncio.sleep(0.1)
    assert "It's yours" in said[winner_chat]
    assert "Sorry" in said[loser_chat]


@pytest.mark.parametrize("round_", range(3))
async def test_many_acceptances_at_once_book_once(db, admin_conn, round_):
    """Eight patients offered one slot accept on eight connections at once: one booking, and
    no acceptance fails (no deadlock); repeated, as a race shows itself only sometimes."""
    org = await admin_conn.fetchrow("insert into organizations (name) values ('R') returning *")
    slot = datetime.now(UTC) + timedelta(days=2)
    offer = await admin_conn.fetchrow(
        "insert into slot_offers (organization_id, starts_at, duration_minutes)"
        " values ($1, $2, 30) returning id",
        org["id"],
        slot,
    )
    recipients = []
    for i in range(8):
        patient = await create_patient(admin_conn, org["id"], contacts={"telegram": f"88{i}"})
        entry = await admin_conn.fetchval(
            "insert into waitlist_entries (organization_id, patient_id) values ($1, $2)"
            " returning id",
            org["id"],
            patient["id"],
        )
        recipients.append(
            await admin_conn.fetchval(
                "insert into slot_offer_recipients (offer_id, entry_id, patient_id)"
                " values ($1, $2, $3) returning id",
                offer["id"],
                entry,
                patient["id"],
            )
        )
    assert db.pool is not None
    now = datetime.now(UTC)

    async def accept(recipient):
        async with db.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "select outcome from public.accept_slot_offer($1, $2)", recipient, now
            )
            return row["outcome"]

    outcomes = await asyncio.gather(*(accept(r) for r in recipients))
    assert sorted(outcomes) == ["booked"] + ["taken"] * 7
    assert (
        await admin_conn.fetchval(
            "select count(*) from appointments where organization_id = $1", org["id"]
        )
        == 1
    )
    assert parse_offer_data(f"w:{recipients[0].hex}:y") == (recipients[0], True)
