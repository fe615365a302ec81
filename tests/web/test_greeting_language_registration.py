""" "Hola" from a number that never registered: the hint to start and the registration it leads
to are in Spanish. Before, the hint was ("¡Hola! Envía /start...") but the consent question that
followed was in English (the chat's language was left as it was, the service default). Driven
as a patient texts: signed Twilio webhooks into the web process, replies from the loopback
Twilio."""

from __future__ import annotations

import httpx
import pytest

from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import sms_chat


@pytest.mark.parametrize("start", ["/start", "START"])
async def test_hola_then_start_asks_consent_in_spanish(
    web: httpx.AsyncClient, fake_twilio: FakeTwilio, start: str
) -> None:
    say = sms_chat(web, fake_twilio, "+12125550190")
    assert await say("Hola") == "¡Hola! Envía /start para configurar tus recordatorios."
    consent = await say(start)
    assert "Privacidad" in consent, consent
    assert "Privacy" not in consent


async def test_hello_then_start_stays_in_english(
    web: httpx.AsyncClient, fake_twilio: FakeTwilio
) -> None:
    say = sms_chat(web, fake_twilio, "+12125550191")
    assert await say("hello") == "Hi! Send /start to set up your reminders."
    assert "Privacy" in await say("/start")
