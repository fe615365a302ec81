"""A clinic's own Spanish text can say the time's article as the built-in texts do.

The built-in Spanish reminders say "a la 1:00" and "a las 9:00" (the ``hour_article`` filter,
core.template_filters.hour_article); a clinic's own text could not (refused when saved: "the
'hour_article' filter is not allowed"), so it wrote "a las {{ due_at|time }}" and its one
o'clock reminders read "a las 1:00". Saved through ``PUT /api/v1/templates/{name}`` as the
clinic's automatic text (checked as data, rendered in the sandbox), the planner's rows rendered
by the worker's dispatcher and sent to the loopback Twilio. Quiet hours are set explicitly
(02:00-03:00).
"""

from __future__ import annotations

from datetime import time, timedelta

import asyncpg
import httpx

from core.db import Database
from scheduler.planner import replan_patient
from tests import factories
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import START, Clock, worker

REMINDER = "{{ patient_name }}: tu dosis de {{ due_at|hour_article }} {{ due_at|time }}."
# 12:00 UTC, the reminders' instant: 1:00 the next morning in Auckland (NZDT, UTC+13).
PATIENTS = (("+34600111601", "Ana", "UTC"), ("+34600111602", "Luis", "Pacific/Auckland"))


async def test_a_clinics_spanish_text_says_la_before_one_oclock(
    web: httpx.AsyncClient,
    auth: dict[str, str],
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    org: asyncpg.Record,
    fake_twilio: FakeTwilio,
) -> None:
    saved = await web.put(
        "/api/v1/templates/dosis",
        headers=auth,
        json={"kind": "medication_reminder", "locale": "es", "channel": "default",
              "body": REMINDER, "automatic": True},
    )  # fmt: skip
    assert saved.status_code == 201, saved.text
    # The dashboard's preview reads it as the send will.
    preview = await web.post(
        "/api/v1/templates/preview",
        headers=auth,
        json={
            "kind": "medication_reminder", "locale": "es", "channel": "sms",
            "values": {"patient_name": "Ana", "due_at": "2026-03-04T01:00:00+00:00"},
            "versions": [{"name": "dosis", "locale": "es", "channel": "default", "body": REMINDER}],
        },
    )  # fmt: skip
    assert preview.status_code == 200, preview.text
    assert preview.json()["text"].startswith("Ana: tu dosis de la 1:00."), preview.text
    # It formats a time: on text it is refused, naming the filter and what it takes.
    refused = await web.put(
        "/api/v1/templates/mal",
        headers=auth,
        json={"kind": "medication_reminder", "locale": "es", "channel": "sms",
              "body": "{{ patient_name|hour_article }}"},
    )  # fmt: skip
    assert refused.status_code == 422 and "hour_article" in refused.text, refused.text

    for number, name, zone in PATIENTS:
        patient = await factories.create_patient(
            admin_conn,
            org["id"],
            contacts={"sms": number},
            display_name=name,
            locale="es",
            timezone=zone,
            quiet_start=time(2, 0),
            quiet_end=time(3, 0),
        )
        local_time = time(12) if zone == "UTC" else time(1)
        await factories.create_medication(admin_conn, patient["id"], times=(local_time,))
        await replan_patient(admin_conn, patient["id"], START)

    chat_clock.now = START + timedelta(minutes=10)
    assert await worker(db, senders, chat_clock).run_once() == 2
    sent = sorted((m.body or "").split("\n")[0] for m in fake_twilio.messages)
    assert sent == ["Ana: tu dosis de las 12:00.", "Luis: tu dosis de la 1:00."]
