"""A pytest plugin run by hand (``make log-probe``), not by ``make test``: every test's log
records, at INFO and above, as production formats and redacts them (core.logs' JSON formatter and
redaction filter), are searched for the names, medicines and message texts the tests use; a test
whose logs hold one errors, naming the line.

The suite's own log tests (tests/web/test_log_redaction.py and the process ones) check the paths
they drive; this looks at every path the 2,500 tests drive. Run on 2026-12-05: nothing found.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from core.logs import JsonFormatter, RedactionFilter

# Values tests give patients, medicines and messages, and words of the bot's reminder texts; none
# may reach a log line (docs/operations.md, "Logs").
SENTINELS = (
    "Metformin", "Lisinopril", "Warfarin", "Aspirin", "Atorvastatin", "Insulin",
    "Levothyroxine", "Ibuprofen", "Amoxicillin", "Test Patient", "Quendolyn",
    "Time for your", "Did you take", "Well done",
)  # fmt: skip


@pytest.fixture(autouse=True)
def _logs_hold_no_sensitive_values() -> Iterator[None]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactionFilter())
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    if level == logging.NOTSET or level > logging.INFO:
        root.setLevel(logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    leaked = [line for line in stream.getvalue().splitlines() if any(s in line for s in SENTINELS)]
    if leaked:
        pytest.fail("a log line holds a name, medicine or message text:\n" + "\n".join(leaked[:5]))
