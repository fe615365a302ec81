"""The redaction filter: nothing sensitive reaches a log line, at any level, in any part."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from core.logs import configure_logging, mark_sensitive, request_id_var

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
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


def test_thousands_of_registered_bodies_are_all_scrubbed_whole_and_case_blind() -> None:
    from core.logs import REDACTED, _SensitiveValues

    values = _SensitiveValues(capacity=20_000)
    for i in range(10_000):  # a worker registers every body it renders
        values.add(f"Time for your medicine number {i}, please take it")
    values.add("Metformin", "  Take your METFORMIN 500 mg now  ", "ab")
    line = (
        "send failed: 'take your metformin 500 MG now' and time for your medicine number 42,"
        " please take it; also metformin alone; ab stays"
    )
    assert values.scrub(line) == (
        f"send failed: '{REDACTED}' and {REDACTED}; also {REDACTED} alone; ab stays"
    )
    # Values are bounded: the oldest are forgotten first.
    small = _SensitiveValues(capacity=2)
    small.add("first value", "second value", "third value")
    assert small.scrub("first value second value third value") == (
        f"first value {REDACTED} {REDACTED}"
    )
    # A character whose lower case is longer than itself does not shift the matches.
    values.add("İbuprofen")
    assert "buprofen" not in values.scrub("took İBUPROFEN at noon").lower()


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
