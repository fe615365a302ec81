"""Item 5 of issue 15: hostile JSON and text never answer 5xx, and API keys are rate limited.

Over a real ``medremind web`` process: 50,000-deep nesting, lone surrogates, NUL, huge and
non-finite numbers and non-UTF-8 bytes get a clear 400 (NUL: 422 naming the field) on the API;
the Telegram webhook (right secret) acknowledges them with 200 and counts them in
``medremind_webhook_dropped_total``; signed Twilio forms with such text are stored and answered
200. A key over ``MEDREMIND_API_RATE_LIMIT`` gets 429 with ``Retry-After``; another key does not.
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import httpx
from twilio.request_validator import RequestValidator

from core.db import Database
from tests.factories import create_patient
from tests.fakes.fake_telegram import text_update
from tests.fakes.fake_twilio import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, inbound_form
from tests.web.conftest import PUBLIC_BASE_URL, WEBHOOK_SECRET, count
from tests.web.processes import StartWeb, clinic_key, stop

DEEP = b"[" * 50_000 + b"]" * 50_000
JSON = {"Content-Type": "application/json"}
TELEGRAM = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET, **JSON}


def _api_cases(patient_id: str) -> list[tuple[str, bytes, int, str | None]]:
    """(name, body, expected status, expected field) for POST /api/v1/messages."""
    pid = f'"patient_id": "{patient_id}"'
    return [
        ("deep array", DEEP, 400, None),
        ("deep value", b'{"text": ' + DEEP + b"}", 400, None),
        ("lone surrogate", f'{{{pid}, "text": "Quendolyn \\ud800"}}'.encode(), 400, "text"),
        ("low surrogate", f'{{{pid}, "text": "x\\udfff y"}}'.encode(), 400, "text"),
        ("surrogate key", b'{"\\ud800": 1}', 400, "body"),
        ("surrogate bytes", f'{{{pid}, "text": "a\xed\xa0\x80"}}'.encode("latin-1"), 400, None),
        ("nul", f'{{{pid}, "text": "a\\u0000b"}}'.encode(), 422, "text"),
        ("huge exponent", f'{{{pid}, "text": 1e999}}'.encode(), 400, None),
        ("many digits", f'{{{pid}, "text": {"9" * 5000}}}'.encode(), 400, None),
        ("nan", f'{{{pid}, "text": NaN}}'.encode(), 400, None),
        ("infinity", b"[-Infinity]", 400, None),
        ("not utf-8", b'{"text": "\xff\xfe"}', 400, None),
    ]


def _telegram_cases() -> list[tuple[str, bytes, str | None]]:
    """(name, body, dropped problem or None when the update is stored)."""
    update = text_update(555000777, "hello")
    surrogate = json.dumps(update).replace("hello", "Quendolyn \\ud800")
    nul = json.dumps(text_update(555000778, "he\u0000llo"))
    return [
        ("deep", b'{"update_id": 1, "message": ' + DEEP + b"}", "depth"),
        ("lone surrogate", surrogate.encode(), "surrogate"),
        ("huge exponent", b'{"update_id": 1e999}', "number"),
        ("many digits", b'{"update_id": ' + b"9" * 5000 + b"}", "number"),
        ("nan", b'{"update_id": NaN}', "number"),
        ("not json", b"{not json", "syntax"),
        ("not an object", b"[1, 2]", "not_object"),
        ("nul is stripped and stored", nul.encode(), None),
    ]


def _signed_raw(path: str, pairs: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    """A form body with raw percent-escapes and the signature Twilio would send for it."""
    from urllib.parse import parse_qsl

    body = "&".join(f"{k}={v}" for k, v in pairs.items())
    parsed = dict(parse_qsl(body, keep_blank_values=True))
    signature = RequestValidator(DEFAULT_AUTH_TOKEN).compute_signature(
        PUBLIC_BASE_URL + path, parsed
    )
    return body.encode(), {
        "X-Twilio-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }


def _dropped(metrics: str, problem: str) -> float:
    found = re.search(
        rf'medremind_webhook_dropped_total{{channel="telegram",problem="{problem}"}} ([0-9.]+)',
        metrics,
    )
    return float(found.group(1)) if found else 0.0


async def test_hostile_json_is_400_on_the_api_and_dropped_on_webhooks_never_5xx(
    web_process: StartWeb, db: Database, admin_conn
):
    org, key = await clinic_key(db, admin_conn, "Hostile Clinic")
    _, limited_key = await clinic_key(db, admin_conn, "Limited Clinic")
    patient = await create_patient(admin_conn, org["id"])
    # A burst of 20 and next to no refill (one request per 1,000 s): what is refused does not
    # depend on how fast the requests go. At 60 a minute a loaded machine refilled a token during
    # the 25 requests below, and the next one was let through (200, not 429). Each key has 20:
    # the other key makes 14 requests in all.
    process, base = await web_process(
        MEDREMIND_API_RATE_LIMIT="0.06", MEDREMIND_API_RATE_BURST="20"
    )
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        auth = {"Authorization": f"Bearer {key}", **JSON}
        for name, body, status, field in _api_cases(str(patient["id"])):
            response = await http.post("/api/v1/messages", content=body, headers=auth)
            assert response.status_code == status, (name, response.text)
            error = response.json()["error"]
            assert error["reason"], name
            if field is not None:
                assert error.get("field") == field, (name, error)
        # The same on another route: a patient's name with a lone surrogate.
        response = await http.post(
            "/api/v1/patients",
            content=b'{"display_name": "Quendolyn Zarvis \\ud800", "timezone": "UTC"}',
            headers=auth,
        )
        assert response.status_code == 400, response.text
        assert response.json()["error"]["field"] == "display_name"
        assert "surrogate" in response.json()["error"]["reason"]

        before = (await http.get("/metrics")).text
        for name, body, _ in _telegram_cases():
            response = await http.post("/telegram/webhook", content=body, headers=TELEGRAM)
            assert response.status_code == 200, (name, response.text)
        after = (await http.get("/metrics")).text
        for name, _, problem in _telegram_cases():
            if problem is not None:
                assert _dropped(after, problem) > _dropped(before, problem), name
        assert await count(admin_conn, "inbound_messages") == 1

        # Signed Twilio forms with the same kinds of text: stored, 200, never 5xx.
        for text in (
            "%ED%A0%80",  # the UTF-8-style bytes of a lone surrogate
            "%00nul",
            quote("[" * 20_000),
            "9" * 5000,
            "%FF%FE",  # not UTF-8 once decoded
        ):
            form = inbound_form("+14155550199", "x")
            form["Body"] = text
            pairs = {k: (v if k == "Body" else quote(v)) for k, v in form.items()}
            body, headers = _signed_raw("/twilio/inbound", pairs)
            response = await http.post("/twilio/inbound", content=body, headers=headers)
            assert response.status_code == 200, (text[:20], response.text)
        assert await count(admin_conn, "inbound_messages") == 6
        # Signed forms that are no message or status at all: acknowledged and counted.
        for path, form, answer in (
            ("/twilio/inbound", {"AccountSid": DEFAULT_ACCOUNT_SID, "Body": "x"}, 200),
            ("/twilio/inbound", {"From": "+14155550199", "Body": "no sid"}, 200),
            ("/twilio/status", {"MessageStatus": "delivered"}, 204),
        ):
            body, headers = _signed_raw(path, {k: quote(v) for k, v in form.items()})
            response = await http.post(path, content=body, headers=headers)
            assert response.status_code == answer, (path, response.text)
        metrics = (await http.get("/metrics")).text
        for channel, problem in (
            ("twilio", "not_a_message"),
            ("twilio", "no_sid"),
            ("twilio_status", "not_a_status"),
        ):
            line = f'medremind_webhook_dropped_total{{channel="{channel}",problem="{problem}"}} 1.0'
            assert line in metrics, line
        assert await count(admin_conn, "inbound_messages") == 6

        # The rate limit: 20 at once, then 429 with Retry-After for this key only.
        limited = {"Authorization": f"Bearer {limited_key}"}
        statuses = [
            (await http.get("/api/v1/messages", headers=limited)).status_code for _ in range(25)
        ]
        assert statuses == [200] * 20 + [429] * 5, statuses
        response = await http.get("/api/v1/messages", headers=limited)
        assert response.status_code == 429
        assert int(response.headers["retry-after"]) >= 1
        assert "requests a minute" in response.json()["error"]["reason"]
        assert (await http.get("/api/v1/messages", headers=auth)).status_code == 200
    await stop(process, timeout=30)
