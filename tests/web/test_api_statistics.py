"""``GET /api/v1/statistics`` and ``POST /api/v1/appointments/{id}/outcome`` over a real web
process: every figure checked against rows seeded for the test (another clinic's rows and rows
outside the period must not count), outcomes recorded through the API, CSV export of a table."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import httpx
import pytest

from tests.factories import create_patient
from tests.fakes.fake_telegram import DEFAULT_TOKEN, FakeTelegram
from tests.statistics_seed import seed_clinic_statistics
from tests.web.processes import clinic_key, running_worker, until


async def test_statistics_match_the_seeded_rows(db, admin_conn, web_process):
    org, key = await clinic_key(db, admin_conn, "Stats Clinic")
    other, _ = await clinic_key(db, admin_conn, "Other Clinic")
    seeded = await seed_clinic_statistics(admin_conn, org, other)
    s, future = seeded.period, seeded.future
    _, base = await web_process()
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
        for appointment, outcome in seeded.outcomes:
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
            f"/api/v1/appointments/{future['id']}/outcome", json={"outcome": "late"}
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
        "outbox": 0,
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
        "outbox": 0,
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


async def test_outbox_deliveries_are_not_counted_as_sent(
    db, admin_conn, web_process, database_url, tmp_path, fake_telegram: FakeTelegram
):
    """A worker without SMTP credentials (outbox on) writes an e-mail to the outbox folder:
    nobody receives it. The clinic's statistics counted it as sent, in the delivery rate and as
    a reminder the patient was asked; now it is 'outbox', and only Telegram's is sent."""
    org, key = await clinic_key(db, admin_conn, "Outbox Clinic")
    by_mail = await create_patient(admin_conn, org["id"], contacts={"email": "ana@clinic.test"})
    by_chat = await create_patient(admin_conn, org["id"], contacts={"telegram": "424242"})
    _, base = await web_process()
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
        for patient in (by_mail, by_chat):
            created = await http.post(
                "/api/v1/messages",
                json={"patient_id": str(patient["id"]), "text": "Your lab results are ready"},
            )
            assert created.status_code == 201, created.text
        async with running_worker(
            database_url,
            tmp_path,
            TELEGRAM_BOT_TOKEN=DEFAULT_TOKEN,
            TELEGRAM_API_BASE_URL=fake_telegram.base_url,
            MEDREMIND_WORKER_POLL_SECONDS="0.5",
            MEDREMIND_OUTBOX_ENABLED="true",
        ) as log:

            async def both_sent() -> bool:
                statuses = await admin_conn.fetch(
                    "select status, via_outbox from scheduled_messages"
                )
                return sorted((r["status"], r["via_outbox"]) for r in statuses) == [
                    ("sent", False),
                    ("sent", True),
                ]

            await until("both messages sent", both_sent, log)
        answer = await http.get("/api/v1/statistics")
        csv_answer = await http.get(
            "/api/v1/statistics", params={"format": "csv", "table": "messages_by_day"}
        )
    assert answer.status_code == 200, answer.text
    t = answer.json()["tables"]
    assert {
        (r["channel"], r["status"]): r["messages"] for r in t["messages_by_channel_status"]
    } == {
        ("email", "outbox"): 1,
        ("telegram", "sent"): 1,
    }
    delivery = {r["channel"]: r for r in t["delivery"]}
    assert (delivery["email"]["sent"], delivery["email"]["outbox"]) == (0, 1)
    assert delivery["email"]["delivery_rate"] == 0.0
    assert delivery["email"]["median_seconds_to_send"] is None
    assert (delivery["telegram"]["sent"], delivery["telegram"]["outbox"]) == (1, 0)
    assert delivery["telegram"]["delivery_rate"] == 1.0
    (day,) = t["messages_by_day"]
    assert (day["messages"], day["sent"], day["outbox"]) == (2, 1, 1)
    (row,) = csv.DictReader(io.StringIO(csv_answer.text))
    assert (row["sent"], row["outbox"]) == ("1", "1")
