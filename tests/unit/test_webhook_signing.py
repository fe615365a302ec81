"""The outgoing webhook sender's pure parts: Standard Webhooks headers that the reference
library verifies, and the retry schedule."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from medremind.web.api_v1.webhooks_out import new_secret
from scheduler.webhook_sender import next_attempt_at, signed_headers


def test_signed_headers_verify_with_the_reference_library():
    secret = new_secret()
    body = json.dumps({"type": "message.status", "data": {"status": "sent"}})
    now = datetime.now(UTC)
    headers = signed_headers(secret, "msg_abc", now, body)
    assert headers["webhook-id"] == "msg_abc"
    assert headers["webhook-timestamp"] == str(int(now.timestamp()))
    assert Webhook(secret).verify(body, headers) == {
        "type": "message.status",
        "data": {"status": "sent"},
    }
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)  # another clinic's secret
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace("sent", "failed"), headers)  # a changed body


def test_a_known_signature():
    # The Standard Webhooks specification's example: id, timestamp, body and secret.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    at = datetime.fromtimestamp(1614265330, UTC)
    body = '{"test": 2432232314}'
    headers = signed_headers(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", at, body)
    assert headers["webhook-signature"] == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


@pytest.mark.parametrize(("attempts", "expected"), [(1, 5.0), (2, 300.0), (3, 1800.0), (4, None)])
def test_retry_schedule(attempts, expected):
    now = datetime(2026, 1, 1, tzinfo=UTC)
    at = next_attempt_at(attempts, now, (5.0, 300.0, 1800.0), jitter=lambda: 0.0)
    assert at == (None if expected is None else now + timedelta(seconds=expected))


def test_jitter_adds_at_most_a_tenth():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    at = next_attempt_at(1, now, (100.0,), jitter=lambda: 1.0)
    assert at == now + timedelta(seconds=110)
