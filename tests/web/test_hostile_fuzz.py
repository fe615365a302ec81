"""A property-based run (hypothesis) of hostile JSON bodies against a real ``medremind web``:
``/api/v1`` never answers 5xx (a clear JSON 4xx instead), the Telegram webhook with its secret
always answers 200 (stored or dropped and counted), and a signed Twilio form with any text never
answers 5xx.

Bodies are JSON documents built from strings with lone surrogates, NUL and other control
characters, integers of up to 5,000 digits, floats including NaN, infinities and 1e999, wrapped
in 0 to 50,000 levels of nesting, and sometimes cut short or given a stray byte. The counts per
route and status are printed as one JSON line (``pytest -s``).
"""

from __future__ import annotations

import asyncio
import collections
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import hypothesis
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from core.db import Database
from tests.factories import create_patient
from tests.fakes.fake_twilio import DEFAULT_AUTH_TOKEN, inbound_form
from tests.web.conftest import PUBLIC_BASE_URL, WEBHOOK_SECRET
from tests.web.processes import StartWeb, clinic_key, stop

EXAMPLES = 120  # per target: about 700 requests, well under a minute


@dataclass(frozen=True)
class Raw:
    """A number written as JSON text (past Python's 4,300-digit limit, or out of range)."""

    text: str


HOSTILE_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),  # lone surrogates
        st.characters(max_codepoint=0x1F),  # NUL and control characters
        st.characters(),  # anything
    ),
    max_size=40,
)
NUMBERS = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40),
    st.integers(min_value=1, max_value=5000).map(lambda n: Raw("9" * n)),
    st.sampled_from([Raw("1e999"), Raw("-1e999"), Raw("1E400"), Raw("-0.0e-99999")]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.just(1e308),
)
LEAVES = st.one_of(st.none(), st.booleans(), NUMBERS, HOSTILE_TEXT)
DOCUMENTS = st.recursive(
    LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(HOSTILE_TEXT, children, max_size=4)
    ),
    max_leaves=12,
)


def _dump(value: Any) -> str:
    """JSON text as a hostile client writes it: numbers Python cannot even print, NaN."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, list):
        return "[" + ",".join(_dump(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{_dump(v)}" for k, v in value.items()) + "}"
    return json.dumps(value, allow_nan=True)


def _render(document: Any, depth: int, fields: dict[str, Any], damage: int) -> bytes:
    """JSON text of ``fields`` with ``document`` nested ``depth`` deep under "x", then damaged."""
    inner = "[" * depth + _dump(document) + "]" * depth
    body = json.dumps(fields)[:-1] + ', "x": ' + inner + "}" if fields else inner
    raw = body.encode("utf-8", "surrogatepass")
    if damage == 1:
        raw = raw[: len(raw) // 2]  # cut short
    elif damage == 2:
        raw = raw[:1] + b"\xff" + raw[1:]  # not UTF-8
    return raw


BODIES = st.builds(
    _render,
    DOCUMENTS,
    st.sampled_from([0, 1, 5, 70, 1000, 50_000]),
    st.sampled_from(
        [
            {},
            {"patient_id": "00000000-0000-0000-0000-000000000000", "text": "hi"},
            {"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": 1}}},
        ]
    ),
    st.sampled_from([0, 0, 0, 1, 2]),
)

API_ROUTES = (
    "/api/v1/messages",
    "/api/v1/patients",
    "/api/v1/appointments",
    "/api/v1/fhir/MedicationRequest",
    "/api/v1/templates/validate",
)


def _fuzz(base: str, key: str, patient_id: str) -> dict[str, dict[int, int]]:
    counts: dict[str, collections.Counter[int]] = collections.defaultdict(collections.Counter)
    settings = hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    api_headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    telegram_headers = {
        "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET,
        "Content-Type": "application/json",
    }
    validator = RequestValidator(DEFAULT_AUTH_TOKEN)
    with httpx.Client(base_url=base, timeout=30) as http:

        @settings
        @hypothesis.given(body=BODIES, route=st.sampled_from(API_ROUTES))
        def api(body: bytes, route: str) -> None:
            response = http.post(route, content=body, headers=api_headers)
            counts[route][response.status_code] += 1
            assert response.status_code < 500, (route, body[:200], response.text[:300])
            assert response.headers["content-type"].startswith("application/json")

        @settings
        @hypothesis.given(body=BODIES)
        def telegram(body: bytes) -> None:
            response = http.post("/telegram/webhook", content=body, headers=telegram_headers)
            counts["/telegram/webhook"][response.status_code] += 1
            assert response.status_code == 200, (body[:200], response.text[:300])

        @settings
        @hypothesis.given(text=HOSTILE_TEXT, name=HOSTILE_TEXT)
        def twilio(text: str, name: str) -> None:
            form = inbound_form("whatsapp:+14155550123", "", profile_name="x")
            pairs = {k: quote(v) for k, v in form.items()}
            pairs["Body"] = quote(text.encode("utf-8", "surrogatepass"))
            pairs["ProfileName"] = quote(name.encode("utf-8", "surrogatepass"))
            raw = "&".join(f"{k}={v}" for k, v in pairs.items())
            parsed = dict(httpx.QueryParams(raw))
            signature = validator.compute_signature(PUBLIC_BASE_URL + "/twilio/inbound", parsed)
            response = http.post(
                "/twilio/inbound",
                content=raw.encode(),
                headers={
                    "X-Twilio-Signature": signature,
                    "Content-Type": "application/x-www-form-urlencoded",
                },
            )
            counts["/twilio/inbound"][response.status_code] += 1
            assert response.status_code < 500, (raw[:200], response.text[:300])

        api()
        telegram()
        twilio()
    return {route: dict(statuses) for route, statuses in counts.items()}


async def test_hostile_bodies_never_answer_5xx(web_process: StartWeb, db: Database, admin_conn):
    org, key = await clinic_key(db, admin_conn, "Fuzz Clinic")
    patient = await create_patient(admin_conn, org["id"])
    process, base = await web_process()
    counts = await asyncio.to_thread(_fuzz, base, key, str(patient["id"]))
    print(json.dumps({"fuzz": "hostile_bodies", "requests": counts}, sort_keys=True))
    assert sum(sum(statuses.values()) for statuses in counts.values()) >= 3 * EXAMPLES
    stderr = await stop(process, timeout=30)
    assert "Traceback" not in stderr
