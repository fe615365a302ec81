"""The redaction filter: nothing sensitive reaches a log line, at any level, in any part."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

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


def test_registered_values_wait_for_the_next_line_and_none_is_missed() -> None:
    from core.logs import REDACTED, _SensitiveValues

    values = _SensitiveValues(capacity=100)
    values.add("Lisinopril", None, "")
    assert values.scrub("took lisinopril") == f"took {REDACTED}"
    values.add("Amlodipine")  # after a line: the next line sees it
    assert values.scrub("took AMLODIPINE, lisinopril") == f"took {REDACTED}, {REDACTED}"
    values.clear()  # forgets what waits as well as what is indexed
    values.add("Metformin")
    values.clear()
    assert values.scrub("Metformin and Lisinopril") == "Metformin and Lisinopril"
    # Registered with no line between, past the bound: the newest are kept, as when indexed.
    for i in range(250):
        values.add(f"reminder text {i:03d} for you")
    line = values.scrub("reminder text 149 for you / reminder text 150 for you")
    assert line == f"reminder text 149 for you / {REDACTED}"


def test_values_registered_by_other_threads_before_a_line_are_scrubbed(
    captured: io.StringIO,
) -> None:
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: mark_sensitive(f"Dose text number {i} for Quen"), range(2000)))
    logging.getLogger("x").error("failed: %s", "Dose text number 1999 for Quen")
    assert "1999" not in captured.getvalue()
    assert "Quen" not in captured.getvalue()


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


NAME = "Quendolyn Zarvis \ud800"


def _spelled(name: str) -> list[str]:
    """Every way a name shows in a log line: raw, repr-escaped, JSON-escaped, escaped twice."""
    return [
        name.replace("\ud800", ""),
        repr(name)[1:-1],
        json.dumps(name)[1:-1],
        repr(repr(name))[2:-2],
        json.dumps(repr(name))[1:-1],
    ]


def test_driver_messages_lose_their_values(captured: io.StringIO) -> None:
    log = logging.getLogger("asyncpg.test")
    lines = [
        f"invalid input for query argument $2: {NAME!r} ('utf-8' codec can't encode character)",
        "invalid input for query argument $1 in element #3 of executemany() sequence: 'Quendolyn'",
        "duplicate key value violates unique constraint\nDETAIL:  Key (address)=(Quendolyn) "
        "already exists.",
        "new row violates check constraint\nDETAIL:  Failing row contains (1, Quendolyn, UTC).",
        'invalid input syntax for type uuid: "Quendolyn"',
        'invalid input value for enum channel: "Quendolyn"',
        'malformed array literal: "Quendolyn"',
        'value "99999999999999999999Quendolyn" is out of range for type bigint',
        'invalid input syntax for type json\nDETAIL:  Token "Quendolyn" is invalid.',
        'syntax error at or near "Quendolyn"',
    ]
    for line in lines:
        log.error(line)
    try:
        raise ValueError(lines[0])
    except ValueError:
        log.exception("insert failed")
    text = captured.getvalue()
    assert "quendolyn" not in text.lower()
    # What went wrong is still said.
    for words in ("invalid input for query argument $2:", "Key (address)=(", "for type uuid:"):
        assert words in text


def test_registered_values_are_scrubbed_in_every_escaped_spelling(captured: io.StringIO) -> None:
    mark_sensitive(NAME, 'Ana "the" Müller\\x')
    log = logging.getLogger("x")
    for spelling in _spelled(NAME) + _spelled('Ana "the" Müller\\x'):
        log.warning("failed for %s here", spelling)
    log.warning("record %r", {"name": NAME})  # a repr inside a repr
    text = captured.getvalue()
    assert "quendolyn" not in text.lower() and "müller" not in text.lower()
    assert "m\\u00fcller" not in text.lower()
    assert all("[redacted]" in entry["message"] for entry in _lines(captured))


def test_redaction_matches_whole_words_only(captured: io.StringIO) -> None:
    mark_sensitive("stop", "Ana")  # a patient texted STOP; a patient called Ana
    log = logging.getLogger("x")
    log.info("stopping web process")
    log.info("banana analysis of Ana's reply: STOP.")
    first, second = (entry["message"] for entry in _lines(captured))
    assert first == "stopping web process"
    assert second == "banana analysis of [redacted]'s reply: [redacted]."


def test_a_lone_surrogate_is_logged_escaped_not_lost(captured: io.StringIO) -> None:
    # Only our handler sees this record: pytest's own log capture would keep the raw surrogate in
    # the test's report, which pytest-xdist cannot send from its worker process (no UTF-8 for it).
    [ours] = [h for h in logging.getLogger().handlers if getattr(h, "stream", None) is captured]
    log = logging.getLogger("medremind.test.surrogate")
    log.propagate = False
    log.addHandler(ours)
    try:
        log.warning("bad character %s in update", "\udcff")
    finally:
        log.removeHandler(ours)
        log.propagate = True
    assert "bad character \\udcff in update" in captured.getvalue()
    [entry] = _lines(captured)
    assert entry["message"] == "bad character \udcff in update"
