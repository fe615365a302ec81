"""The redaction filter: nothing sensitive reaches a log line, at any level, in any part."""

from __future__ import annotations

import io
import json
import logging

import pytest

from core.logs import configure_logging, mark_sensitive, request_id_var

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"


@pytest.fixture
def captured() -> io.StringIO:
    stream = io.StringIO()
    handler = configure_logging("DEBUG", stream=stream)
    yield stream
    logging.getLogger().removeHandler(handler)


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_patterns_are_scrubbed_from_message_args_extras_and_tracebacks(
    captured: io.StringIO,
) -> None:
    log = logging.getLogger("medremind.test")
    log.debug("sending to %s via %s", "+14155550123", "pat@example.org")
    log.info("url https://api.telegram.org/bot%s/sendMessage", TOKEN)
    log.warning("retry", extra={"address": "+14155550123", "chat": "whatsapp:+14155550123"})
    try:
        raise ValueError("duplicate key (address)=(+14155550123)")
    except ValueError:
        log.exception("insert failed")
    text = captured.getvalue()
    for secret in ("+14155550123", "4155550123", "pat@example.org", TOKEN):
        assert secret not in text
    assert len(_lines(captured)) == 4


def test_registered_values_are_scrubbed(captured: io.StringIO) -> None:
    mark_sensitive("Atorvastatin", "Time for your Atorvastatin 20 mg")
    logging.getLogger("x").error("render failed for %r", "Time for your Atorvastatin 20 mg")
    assert "Atorvastatin" not in captured.getvalue()


def test_times_dates_and_ids_survive(captured: io.StringIO) -> None:
    logging.getLogger("x").info(
        "due at 2026-11-22 08:00 message 3f2b1c4e-1234-4abc-9def-123456789012 took 12.5 ms"
    )
    message = _lines(captured)[0]["message"]
    assert "2026-11-22 08:00" in message
    assert "3f2b1c4e-1234-4abc-9def-123456789012" in message


def test_request_id_is_attached(captured: io.StringIO) -> None:
    token = request_id_var.set("req-42")
    try:
        logging.getLogger("x").info("hello")
    finally:
        request_id_var.reset(token)
    assert _lines(captured)[0]["request_id"] == "req-42"


def test_vendor_debug_loggers_are_held_at_warning(captured: io.StringIO) -> None:
    logging.getLogger("telegram.ext").debug("Calling Bot API endpoint with text")
    logging.getLogger("httpx").info("HTTP Request: POST")
    assert captured.getvalue() == ""
