"""Decode a JSON request body that a hostile client wrote, or say clearly what is wrong with it.

The standard library's ``json.loads`` accepts what later breaks the process or the database:
50,000-deep nesting (``RecursionError`` in the decoder, or in any recursive code after it), lone
UTF-16 surrogates (``"\\ud800"``: valid JSON syntax, but no UTF-8 encoding exists, so asyncpg
fails on the string), ``NaN``/``Infinity`` and ``1e999`` (not JSON; jsonb refuses them), numbers
of thousands of digits (``ValueError`` past Python's digit limit). :func:`decode` turns each into
:class:`UnsafeJson` naming the problem and, where there is one, the JSON path; the API answers it
400, the provider webhooks acknowledge and drop it with a counter.

The checks after decoding cost a walk over the document only when cheap byte scans say it could
matter (more brackets than the depth limit, a surrogate escape or byte, a NUL), so the Telegram
webhook's usual update is not walked at all.
"""

from __future__ import annotations

import json
import math
import re
from itertools import accumulate, repeat
from operator import sub
from typing import Any

# Deeper than any Telegram update, Twilio payload or FHIR resource we take, and shallow enough
# for every recursive consumer after us (json.dumps for jsonb, pydantic, our validators).
MAX_DEPTH = 64

# The most fields an object of an API body may have (the strict decoder's): four times the
# largest the API takes (a message's 50 template values). 15,000 unknown fields, under the size
# cap, cost 0.13 s of CPU a request in pydantic's error per field and FastAPI's handling of it.
MAX_FIELDS = 200

# A surrogate in the raw bytes: an escape \uD800-\uDFFF, or its UTF-8-style bytes (ED A0-BF),
# which json.loads decodes with 'surrogatepass'. Paired escapes are fine; the walk tells.
_SURROGATE_BYTES = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class UnsafeJson(ValueError):
    """A body we will not take: ``problem`` (a short label for metrics), ``reason``, ``where``."""

    def __init__(self, problem: str, reason: str, where: str | None = None):
        super().__init__(reason)
        self.problem = problem
        self.reason = reason
        self.where = where


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise UnsafeJson("number", f"number {text[:20]} is out of range for a double")
    return value


def _constant(name: str) -> Any:
    raise UnsafeJson("number", f"{name} is not a JSON number")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object whose keys are all different; :class:`UnsafeJson` naming the first repeated.

    Parsers disagree on ``{"a": 1, "a": 2}`` (first, last, or refused): a gateway in front of
    the API could check one value while we store the other. And one of at most
    :data:`MAX_FIELDS` fields (see there)."""
    if len(pairs) > MAX_FIELDS:
        raise UnsafeJson(
            "fields",
            f"a JSON object in the body has {len(pairs)} fields, more than the {MAX_FIELDS} any"
            " object of this API takes: send only the fields the operation names"
            " (GET /api/v1/openapi.json lists them)",
        )
    value = dict(pairs)
    if len(value) == len(pairs):
        return value
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise UnsafeJson(
                "duplicate_key",
                "this field is given twice in one JSON object; give each field once",
                _printable(key),
            )
        seen.add(key)
    return value  # not reached: some key was repeated


# Built once: json.loads with keyword arguments builds a decoder per call (measured: doubles the
# cost of decoding a Telegram button update). The API's checks repeated keys; the webhooks'
# (the hot path, written by Telegram) does not pay for that.
_DECODER = json.JSONDecoder(parse_float=_finite, parse_constant=_constant)
_STRICT_DECODER = json.JSONDecoder(
    parse_float=_finite, parse_constant=_constant, object_pairs_hook=_unique_keys
)


def decode(
    body: bytes, *, max_depth: int = MAX_DEPTH, nul: bool = True, unique_keys: bool = False
) -> Any:
    """The JSON value of ``body``; :class:`UnsafeJson` when it is not one we take.

    ``nul``: whether strings may hold NUL (False: refused, with its path). ``unique_keys``: an
    object naming a key twice is refused, naming it, and so is one of more than
    :data:`MAX_FIELDS` fields. The caller checks the value's type
    (object, array) itself.
    """
    decoder = _STRICT_DECODER if unique_keys else _DECODER
    try:
        # As json.loads reads bytes: UTF-8/16/32 detected, surrogates passed through (caught below).
        value = decoder.decode(body.decode(json.detect_encoding(body), "surrogatepass"))
    except UnsafeJson:
        raise
    except RecursionError:
        raise UnsafeJson("depth", f"JSON nested deeper than {max_depth} levels") from None
    except UnicodeDecodeError:
        raise UnsafeJson("encoding", "body is not UTF-8 JSON") from None
    except json.JSONDecodeError as exc:
        raise UnsafeJson("syntax", f"body is not valid JSON ({exc.msg})") from None
    except ValueError:
        # Python's int() digit limit (4,300): json.loads raises a plain ValueError.
        raise UnsafeJson("number", "a number in the body has too many digits") from None
    deep = body.count(b"[") + body.count(b"{") > max_depth and _deeper_than(body, max_depth)
    surrogates = _SURROGATE_BYTES.search(body) is not None
    nuls = not nul and (b"\\u0000" in body or b"\x00" in body)
    if deep or surrogates or nuls:
        _walk(value, max_depth, nul, strings=surrogates or nuls)
    return value


# A JSON string in the raw bytes (the body decoded, so every one is well formed).
_STRING_BYTES = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
# Brackets as 2 (opening) and 0 (closing); every other byte deleted.
_BRACKETS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[{]}")


def _deeper_than(body: bytes, max_depth: int) -> bool:
    """Whether the decoded ``body`` nests deeper than ``max_depth``, from its bytes alone: its
    brackets outside strings, counted in C. A body of many small objects (a Telegram update
    padded with 5,500 entities, 240 KB) is then not walked node by node: ~6 ms of CPU instead of
    ~11 ms. A body in UTF-16 or UTF-32 (JSON allows them) is walked instead."""
    if json.detect_encoding(body) != "utf-8":
        return True
    brackets = _STRING_BYTES.sub(b"", body).translate(_BRACKETS, _NOT_BRACKETS)
    depths = accumulate(map(sub, brackets, repeat(1)))
    return max(depths, default=0) > max_depth


# Where a node is, built only for an error: None for the document, else (parent, key or index).
_Where = tuple["_Where", str | int] | None


def _walk(value: Any, max_depth: int, nul: bool, *, strings: bool = True) -> None:
    """Raise :class:`UnsafeJson` for the first string or container over the limits (no recursion:
    the document may be deeper than Python's stack).

    ``strings``: check strings and keys too (False: the bytes hold no surrogate and no NUL, so
    only the depth can be wrong). A node's path is formatted only for the error: an update
    padded with thousands of small objects (its many brackets bring it here) cost ~70 ms of
    CPU in path strings alone (session 24)."""
    stack: list[tuple[Any, _Where, int]] = [(value, None, 0)]
    while stack:
        item, where, depth = stack.pop()
        if type(item) is str:
            if strings:
                _check_string(item, where, nul)
        elif isinstance(item, dict | list):
            if depth >= max_depth:
                raise UnsafeJson(
                    "depth", f"JSON nested deeper than {max_depth} levels", _path(where) or None
                )
            if isinstance(item, dict):
                for key, child in item.items():
                    if strings:
                        _check_string(key, where, nul)
                    stack.append((child, (where, key), depth + 1))
            else:
                stack.extend((child, (where, i), depth + 1) for i, child in enumerate(item))


def _path(where: _Where) -> str:
    """``where`` as the error names it: ``message.entities[3].type``."""
    parts: list[str | int] = []
    while where is not None:
        where, step = where
        parts.append(step)
    path = ""
    for step in reversed(parts):
        if isinstance(step, int):
            path += f"[{step}]"
        else:
            path = f"{path}.{step}" if path else step
    return path


def _check_string(text: str, where: _Where, nul: bool) -> None:
    """Refuse ``text``: the string at ``where``, or a key of the object there."""
    if _SURROGATE.search(text) is not None:
        raise UnsafeJson(
            "surrogate",
            "a string holds an unpaired UTF-16 surrogate (such as \\ud800), which is no"
            " character; send valid Unicode",
            _printable(_path(where)) or "body",
        )
    if not nul and "\x00" in text:
        raise UnsafeJson(
            "nul", "must not contain NUL characters", _printable(_path(where)) or "body"
        )


def _printable(path: str) -> str:
    """A path safe to echo back and log (keys are client text too)."""
    return _SURROGATE.sub("\ufffd", path.replace("\x00", "\ufffd"))[:200]
