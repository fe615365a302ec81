"""``GET /api/v1/statistics`` and ``POST /api/v1/appointments/{id}/outcome`` over a real web
process: every figure checked against rows seeded for the test (another clinic's rows and rows
outside the period must not count), outcomes recorded through the API, CSV export of a table."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.factories import create_dose_event, create_medication, create_message, create_patient
from tests.web.processes import clinic_key

BERLIN = ZoneInfo("Europe/Berlin")


class Seed:
    """The seeded clinic's period: seven Berlin days ending ten days ago (so every appointment
    in it has started, whatever the time of day the test runs)."""

    def __init__(self) -> None:
        today = datetime.now(BERLIN).date()
        self.first = today - timedelta(days=16)
        self.last = self.first + timedelta(days=6)

    def at(self, day: int, hour: int, minute: int = 0) -> datetime:
        """Berlin wall-clock time on the period's ``day`` (0-based), as an aware instant."""
        return datetime(
            self.first.year, self.first.month, self.first.day, hour, minute, tzinfo=BERLIN
        ) + timedelta(days=day)


async def _message(conn, patient, when, status, channel, **extra):
    sent = extra.pop("sent_after", None)
    delivered = extra.pop("delivered_after", None)
    return await create_message(
        conn,
        patient["id"],
        scheduled_time=when,
        status=status,
        platform="auto",
        channel_used=channel,
        sent_at=when + timedelta(seconds=sent) if sent is not None else None,
        delivered_at=when + timedelta(seconds=delivered) if delivered is not None else None,
        **extra,
    )


async def _appointment(conn, org, patient, starts_at, status="scheduled"):
    return await conn.fetchrow(
        "insert into appointments (organization_id, patient_id, starts_at, status)"
        " values ($1, $2, $3, $4) returning *",
        org["id"],
        patient["id"],
        starts_at,
        status,
    )


async def _confirmed_by_patient(conn, org, appointment, at):
    await conn.execute(
        "insert into audit_log (organization_id, actor, action, entity, entity_id, at)"
        " values ($1, 'patient', 'appointment.confirm', 'appointment', $2, $3)",
        org["id"],
        str(appointment["id"]),
        at,
    )


async def test_statistics_match_the_seeded_rows(db, admin_conn, web_process):
    org, key = await clinic_key(db, admin_conn, "Stats Clinic")
    await admin_conn.execute(
        "update organizations set timezone = 'Europe/Berlin' where id = $1", org["id"]
    )
    other, _ = await clinic_key(db, admin_conn, "Other Clinic")
    s = Seed()
    p1, p2, p3 = [await create_patient(admin_conn, org["id"]) for _ in range(3)]
    stranger = await create_patient(admin_conn, other["id"])

    # Doses: p1 3 taken + 1 missed (75 %), p2 1 taken, 1 skipped, 2 missed (25 %), p3 2 taken.
    _, sched1 = await create_medication(admin_conn, p1["id"])
    _, sched2 = await create_medication(admin_conn, p2["id"])
    _, sched3 = await create_medication(admin_conn, p3["id"])
    d_answered = await create_dose_event(
        admin_conn, sched1, s.at(0, 8), status="taken", answered_at=s.at(0, 8, 5)
    )
    await create_dose_event(admin_conn, sched1, s.at(1, 8), status="taken")
    await create_dose_event(admin_conn, sched1, s.at(2, 8), status="taken")
    d_missed = await create_dose_event(admin_conn, sched1, s.at(3, 8), status="missed")
    await create_dose_event(admin_conn, sched2, s.at(0, 8), status="taken")
    await create_dose_event(admin_conn, sched2, s.at(1, 8), status="skipped")
    await create_dose_event(admin_conn, sched2, s.at(2, 8), status="missed")
    # 00:30 in Berlin on day 3 is 23:30 UTC on day 2: it belongs to Berlin's day 3.
    await create_dose_event(admin_conn, sched2, s.at(3, 0, 30), status="missed")
    await create_dose_event(admin_conn, sched3, s.at(4, 8), status="taken")
    await create_dose_event(admin_conn, sched3, s.at(5, 8), status="taken")
    # Not counted: still due, cancelled, before the period, another clinic's.
    await create_dose_event(admin_conn, sched3, s.at(6, 8), status="due")
    await create_dose_event(admin_conn, sched3, s.at(6, 9), status="cancelled")
    await create_dose_event(admin_conn, sched3, s.at(-1, 8), status="missed")
    _, foreign = await create_medication(admin_conn, stranger["id"])
    await create_dose_event(admin_conn, foreign, s.at(2, 8), status="missed")

    # Appointments starting in the period; outcomes are recorded through the API below.
    a1 = await _appointment(admin_conn, org, p1, s.at(1, 10))  # reminded, confirmed: attended
    a2 = await _appointment(admin_conn, org, p2, s.at(2, 10))  # reminded, confirmed: no-show
    a8 = await _appointment(admin_conn, org, p2, s.at(2, 11))  # reminded, confirmed: attended
    a3 = await _appointment(admin_conn, org, p3, s.at(3, 10))  # reminded only: no-show
    a4 = await _appointment(admin_conn, org, p1, s.at(4, 10))  # reminded only: attended
    a5 = await _appointment(admin_conn, org, p2, s.at(5, 10))  # never reminded: no-show
    await _appointment(admin_conn, org, p3, s.at(5, 11), status="cancelled")
    future = await _appointment(
        admin_conn, org, p3, datetime.now(UTC) + timedelta(days=3), status="confirmed"
    )

    # Messages in the period: telegram 2 sent (10 s, 30 s) + 1 failed; SMS 1 delivered
    # (sent 5 s, delivered 65 s) + 1 expired; e-mail 1 cancelled.
    await _message(
        admin_conn, p1, s.at(0, 8), "sent", "telegram",
        sent_after=10, kind="medication_reminder", dose_event_id=d_answered["id"],
    )  # fmt: skip
    await _message(
        admin_conn, p1, s.at(3, 8), "sent", "telegram",
        sent_after=30, kind="medication_reminder", dose_event_id=d_missed["id"],
    )  # fmt: skip
    await _message(admin_conn, p2, s.at(3, 9), "failed", "telegram")
    await _message(
        admin_conn, p1, s.at(0, 10), "delivered", "sms",
        sent_after=5, delivered_after=65, kind="appointment_reminder", appointment_id=a1["id"],
    )  # fmt: skip
    await _message(admin_conn, p3, s.at(6, 12), "expired", "sms")
    await _message(admin_conn, p3, s.at(6, 13), "cancelled", "email")
    await _confirmed_by_patient(admin_conn, org, a1, s.at(0, 11))
    # Reminders of the other appointments went out before the period (not period messages).
    for appointment in (a2, a8, a3, a4):
        await _message(
            admin_conn, p2, s.at(-3, 9), "sent", "telegram",
            sent_after=1, kind="appointment_reminder", appointment_id=appointment["id"],
        )  # fmt: skip
    await _confirmed_by_patient(admin_conn, org, a2, s.at(-3, 10))
    await _confirmed_by_patient(admin_conn, org, a8, s.at(-3, 10))
    # Another clinic's message in the period.
    await _message(admin_conn, stranger, s.at(2, 9), "sent", "telegram", sent_after=1)

    _, base = await web_process()
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
        for appointment, outcome in (
            (a1, "attended"),
            (a2, "no_show"),
            (a8, "attended"),
            (a3, "attended"),  # a mistake, corrected next
            (a3, "no_show"),
            (a4, "attended"),
            (a5, "no_show"),
        ):
            answer = await http.post(
                f"/api/v1/appointments/{appointment['id']}/outcome", json={"outcome": outcome}
            )
            assert answer.status_code == 200, answer.text
            assert answer.json()["status"] == {"attended": "completed"}.get(outcome, outcome)
        early = await http.post(
            f"/api/v1/appointments/{future['id']}/outcome", json={"outcome": "no_show"}
        )
        assert early.status_code == 409 and "not started" in early.json()["error"]["reason"]
        wrong = await http.post(
            f"/api/v1/appointments/{a1['id']}/outcome", json={"outcome": "late"}
        )
        assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "outcome"

        params = {"from": s.first.isoformat(), "to": s.last.isoformat()}
        answer = await http.get("/api/v1/statistics", params=params)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        csv_answer = await http.get(
            "/api/v1/statistics",
            params={**params, "table": "delivery"},
            headers={"Accept": "text/csv"},
        )
        bad = await http.get("/api/v1/statistics", params={"from": "2026-02-30"})
        too_long = await http.get(
            "/api/v1/statistics", params={"from": "2024-01-01", "to": "2026-01-01"}
        )

    assert body["from"] == s.first.isoformat() and body["timezone"] == "Europe/Berlin"
    t = body["tables"]
    by_status = t["messages_by_channel_status"]
    assert {(r["channel"], r["status"]): r["messages"] for r in by_status} == {
        ("telegram", "sent"): 2,
        ("telegram", "failed"): 1,
        ("sms", "delivered"): 1,
        ("sms", "expired"): 1,
        ("email", "cancelled"): 1,
    }
    delivery = {r["channel"]: r for r in t["delivery"]}
    assert delivery["telegram"] == {
        "channel": "telegram",
        "messages": 3,
        "sent": 2,
        "delivered": 0,
        "failed": 1,
        "expired": 0,
        "cancelled": 0,
        "waiting": 0,
        "delivery_rate": pytest.approx(0.6667),
        "median_seconds_to_send": 20.0,
        "p90_seconds_to_send": 28.0,
        "median_seconds_to_delivery": None,
    }
    assert delivery["sms"]["delivery_rate"] == 0.5
    assert delivery["sms"]["median_seconds_to_delivery"] == 65.0
    assert delivery["email"]["delivery_rate"] is None  # nothing was tried
    by_day = {r["day"]: r for r in t["messages_by_day"]}
    assert by_day[(s.first + timedelta(days=3)).isoformat()] == {
        "day": (s.first + timedelta(days=3)).isoformat(),
        "messages": 2,
        "sent": 1,
        "delivered": 0,
        "failed": 1,
    }
    assert {r["kind"]: (r["asked"], r["replied"], r["reply_rate"]) for r in t["replies"]} == {
        "medication_reminder": (2, 1, 0.5),
        "appointment_reminder": (1, 1, 1.0),
    }
    assert {r["status"]: r["appointments"] for r in t["appointment_outcomes"]} == {
        "completed": 3,
        "no_show": 3,
        "cancelled": 1,
    }
    assert t["confirmation"] == [{"reminded": 5, "confirmed": 3, "confirmation_rate": 0.6}]
    assert t["no_show"] == [
        {
            "reminder": "confirmed",
            "with_outcome": 3,
            "attended": 2,
            "no_show": 1,
            "no_show_rate": pytest.approx(0.3333),
        },
        {
            "reminder": "reminded_not_confirmed",
            "with_outcome": 2,
            "attended": 1,
            "no_show": 1,
            "no_show_rate": 0.5,
        },
        {
            "reminder": "not_reminded",
            "with_outcome": 1,
            "attended": 0,
            "no_show": 1,
            "no_show_rate": 1.0,
        },
    ]
    assert t["adherence"] == [
        {"patients": 3, "doses": 10, "taken": 6, "skipped": 1, "missed": 3, "adherence": 0.6}
    ]
    day3 = {r["day"]: r for r in t["adherence_by_day"]}[(s.first + timedelta(days=3)).isoformat()]
    assert (day3["taken"], day3["missed"], day3["adherence"]) == (0, 2, 0.0)
    assert t["adherence_by_patient"] == [
        {"band": "0-49%", "patients": 1},
        {"band": "50-79%", "patients": 1},
        {"band": "80-100%", "patients": 1},
    ]

    assert csv_answer.status_code == 200
    assert csv_answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(csv_answer.text)))
    assert [r["channel"] for r in rows] == ["email", "sms", "telegram"]
    assert rows[2]["median_seconds_to_send"] == "20.0" and rows[2]["delivered"] == "0"
    assert rows[0]["delivery_rate"] == ""
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "from"
    assert too_long.status_code == 422 and "366" in too_long.json()["error"]["reason"]
