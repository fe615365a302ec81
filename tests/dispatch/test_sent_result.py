"""What a send produces, field by field (no database): the outcome and attempt rows the
deliverer builds positionally for speed (issue 20) hold each value under its own name."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime, time, timedelta

from core.templating import TemplateRenderer
from platforms.base import Channel
from scheduler.buckets import BucketSet
from scheduler.claims import Claim, ContactInfo
from scheduler.delivery import Deliverer
from scheduler.dispatch_config import DispatcherConfig
from tests.dispatch.recording import RecordingSender

NOW = datetime(2026, 3, 4, 8, 0, 2, tzinfo=UTC)


async def test_a_sent_reminder_records_each_field_under_its_name() -> None:
    config = DispatcherConfig(worker_id="t", quiet_start=time(0), quiet_end=time(0))
    sms = RecordingSender(Channel.SMS, name="sms")
    deliverer = Deliverer(
        {Channel.SMS: sms},
        TemplateRenderer(),
        lambda: NOW,
        config,
        BucketSet({}, {}),
        random.Random(1),
    )
    contact = uuid.uuid4()
    claim = Claim(
        id=uuid.uuid4(),
        patient_id=uuid.uuid4(),
        lease_token=uuid.uuid4(),
        scheduled_time=NOW - timedelta(seconds=2),
        platform="auto",
        kind="medication_reminder",
        attempts=1,
        max_attempts=5,
        dose_event_id=uuid.uuid4(),
        channels_tried=("telegram",),
        channel_order=("telegram", "sms"),
        contacts=(ContactInfo(contact, "sms", "+15550001", True),),
        dose_due_at=NOW,
    )
    result = await deliverer.deliver(claim)
    [(address, message)] = sms.sends
    assert address == "+15550001"
    assert result.outcome._asdict() == {
        "id": claim.id,
        "lease_token": claim.lease_token,
        "status": "sent",
        "next_time": None,
        "attempts_delta": 0,
        "last_error": None,
        "sent_at": NOW,
        "provider_message_id": "sms-1",
        "channel_used": "sms",
        "channels_tried": ("telegram", "sms"),
        "rendered_text": message.text,
        "question": result.outcome.question,
    }
    question = json.loads(result.outcome.question or "")
    assert question["channel"] == "sms" and question["address"] == "+15550001"
    assert [o["keys"] for o in question["options"]] == [["1"], ["2"], ["3"]]
    [attempt] = result.attempts
    assert attempt._asdict() == {
        "message_id": claim.id,
        "attempt_time": NOW,
        "status": "sent",
        "channel": "sms",
        "error_class": None,
        "error_message": None,
        "provider_message_id": "sms-1",
        "duration_ms": attempt.duration_ms,
    }
    assert isinstance(attempt.duration_ms, int) and attempt.duration_ms >= 0
    assert (result.effects, result.moves) == ([], [])
