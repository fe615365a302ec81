"""CPU a hostile request costs at each public door of one real ``medremind web`` process.

Starts PostgreSQL (embedded, or ``BENCH_DATABASE_URL``), the lean loopback Bot API and
``python -m medremind.cli web`` at DEBUG, seeds a clinic with an API key and a Telegram patient,
then sends each case below ``--repeat`` times: the largest or most intricate input each door takes
(signed with the real secrets, so it gets past verification), and a few that it refuses. Prints a
JSON line per case: the answers' status codes, the web process's CPU per request and its
PostgreSQL backends' (from /proc: user + system), and the largest single request's web CPU. A door
whose cost grows with what a client sends, past what its body limit allows, shows here. The
Twilio API is pointed at the Bot API fake: the bot's SMS and WhatsApp replies fail there
(a "reply not delivered" warning each), so the Twilio cases measure the inbound work only.

Then a ``medremind worker`` (DEBUG too) sends what the cases queued. At the end both logs are
searched for the seeded person's name, phone number,
the medicine's name, the texts sent and the secrets; a line per hit is printed
(``{"privacy": ...}``), none when the log is clean.

    .venv/bin/python bench/hostile_doors.py --repeat 5
    .venv/bin/python bench/hostile_doors.py --only fhir   # the cases whose name has "fhir"
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.webhook import (  # noqa: E402
    _backend_pids,
    _cpu_seconds,
    _descendants,
    _FakeTelegramProcess,
    _free_port,
    _Postgres,
    _wait_up,
)
from core.migrate import migrate  # noqa: E402
from tests.fakes.fake_telegram import DEFAULT_TOKEN, text_update  # noqa: E402

SECRET = "hostile-doors-webhook-secret-0123456789"  # noqa: S105 (this tool's own)
TWILIO_TOKEN = "hostile-doors-twilio-auth-token-0123"  # noqa: S105
TWILIO_SID = "AC" + "0" * 32
BASE = "https://medremind.example.org"
# What must never appear in a log line: the seeded patient and what is sent about them.
NAME = "Zelda Quintanilla"
PHONE = "+14155550199"
MEDICINE = "Carbamazepinol"
BODY_MARK = "hostile-body-marker"
CHAT = 987654321

Case = tuple[str, str, str, dict[str, str], bytes]


def _twilio_signature(url: str, form: dict[str, str]) -> str:
    from twilio.request_validator import RequestValidator

    return RequestValidator(TWILIO_TOKEN).compute_signature(url, form)


def _twilio(name: str, form: dict[str, str], *, sign: bool = True) -> Case:
    url = BASE + "/twilio/inbound"
    headers = {"content-type": "application/x-www-form-urlencoded"}
    headers["x-twilio-signature"] = _twilio_signature(url, form) if sign else "forged"
    return name, "POST", "/twilio/inbound", headers, urlencode(form).encode()


def _telegram(name: str, update: dict[str, Any] | bytes) -> Case:
    body = update if isinstance(update, bytes) else json.dumps(update).encode()
    headers = {"content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET}
    return name, "POST", "/telegram/webhook", headers, body


def _api(name: str, method: str, path: str, key: str, body: Any = None) -> Case:
    headers = {"authorization": f"Bearer {key}", "content-type": "application/json"}
    data = b"" if body is None else json.dumps(body).encode()
    return name, method, "/api/v1" + path, headers, data


def _nested(depth: int) -> bytes:
    return b'{"update_id": 1, "message": ' + b'{"a": ' * depth + b"1" + b"}" * depth + b"}"


def _cases(key: str, patient: str) -> list[Case]:
    long_text = (BODY_MARK + " ") * 300
    entities = [{"type": "bold", "offset": i, "length": 1} for i in range(4000)]
    padded = text_update(CHAT, long_text[:4096])
    padded["message"]["entities"] = entities
    many_params = {f"P{i}": "x" for i in range(3000)}
    t24 = [f"{h:02d}:00:00" for h in range(24)]
    fhir = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "subject": {"reference": f"Patient/{patient}"},
        "medicationCodeableConcept": {"text": MEDICINE},
        "dosageInstruction": [
            {
                "timing": {
                    "repeat": {
                        "frequency": 24,
                        "period": 1,
                        "periodUnit": "d",
                        "count": 10**9,
                        "timeOfDay": t24,
                        "boundsPeriod": {"start": "1900-01-01"},
                    }
                }
            }
        ],
    }
    chained = "{{ patient_name" + '|replace("a", "aaaaaaaaaaaaaaaa")' * 200 + " }}"
    sms = {"From": PHONE, "To": "+15005550006", "AccountSid": TWILIO_SID, "MessageSid": "SM1"}
    return [
        _telegram("telegram_text", text_update(CHAT, f"{BODY_MARK} hello")),
        _telegram("telegram_4096_chars_4000_entities", padded),
        _telegram("telegram_nested_json_20000", _nested(20000)),
        _telegram("telegram_250kb_of_keys", {f"k{i}": i for i in range(20000)}),
        (
            "telegram_forged_secret",
            "POST",
            "/telegram/webhook",
            {"x-telegram-bot-api-secret-token": "x"},
            b"{}",
        ),
        _twilio("twilio_sms", {**sms, "Body": f"{BODY_MARK} TAKEN"}),
        _twilio("twilio_sms_1600_chars", {**sms, "Body": long_text[:1600]}),
        _twilio("twilio_3000_params", {**sms, "Body": BODY_MARK, **many_params}),
        _twilio("twilio_3000_params_forged", {**sms, "Body": BODY_MARK, **many_params}, sign=False),
        _twilio(
            "twilio_whatsapp",
            {**sms, "From": "whatsapp:" + PHONE, "To": "whatsapp:+15005550006", "Body": BODY_MARK},
        ),
        _api("api_fhir_24x1e9_from_1900", "POST", "/fhir/MedicationRequest", key, fhir),
        _api(
            "api_message_4096",
            "POST",
            "/messages",
            key,
            {"patient_id": patient, "text": long_text[:4096], "platform": "telegram"},
        ),
        _api("api_list_patients_max", "GET", "/patients?limit=100", key),
        _api(
            "api_template_validate_chained_replace",
            "POST",
            "/templates/validate",
            key,
            {"kind": "medication_reminder", "channel": "sms", "body": chained},
        ),
        _api("api_statistics_year", "GET", "/statistics?from=2025-12-06&to=2026-12-06", key),
        _api("api_forged_key", "GET", "/patients", "mr_live_forged"),
        (
            "app_sign_in_request",
            "POST",
            "/app/api/sign-in/request",
            {"content-type": "application/json", "origin": BASE},
            json.dumps({"address": PHONE}).encode(),
        ),
    ]


async def _seed(url: str) -> tuple[str, str]:
    conn = await asyncpg.connect(url, server_settings={"timezone": "UTC"})
    try:
        await migrate(conn)
        org = await conn.fetchval(
            "insert into organizations (name) values ('Hostile Clinic') returning id"
        )
        patient = await conn.fetchval(
            "insert into patients (organization_id, display_name, consent_at, channel_order,"
            " timezone) values ($1, $2, now(), '{telegram}', 'Europe/Madrid') returning id",
            org,
            NAME,
        )
        await conn.executemany(
            "insert into contact_points (patient_id, channel, address, verified)"
            " values ($1, $2, $3, true)",
            [(patient, "telegram", str(CHAT)), (patient, "sms", PHONE)],
        )
        await conn.execute(
            "insert into conversations (channel, chat_address, patient_id)"
            " values ('telegram', $1, $2)",
            str(CHAT),
            patient,
        )
        pool = await asyncpg.create_pool(url, min_size=1, max_size=1)
        try:
            from medremind.api_keys import create_api_key

            key = await create_api_key(pool, str(org), "hostile")
        finally:
            await pool.close()
        return key, str(patient)
    finally:
        await conn.close()


async def _measure(
    base: str, web_pid: int, conn: asyncpg.Connection, database: str, case: Case, repeat: int
) -> dict[str, Any]:
    name, method, path, headers, body = case
    statuses: list[int] = []
    web_total = pg_total = worst = 0.0
    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        for _ in range(repeat):
            pids = _descendants(web_pid)
            backends = await _backend_pids(conn, database)
            before = {p: _cpu_seconds(p) for p in pids + backends}
            response = await http.request(method, path, headers=headers, content=body)
            await asyncio.sleep(0.3)  # work after the answer (a webhook's processing)
            web = sum(_cpu_seconds(p) - before.get(p, 0.0) for p in _descendants(web_pid))
            backends = await _backend_pids(conn, database)
            pg = sum(_cpu_seconds(p) - before.get(p, 0.0) for p in backends)
            statuses.append(response.status_code)
            web_total += web
            pg_total += pg
            worst = max(worst, web)
    return {
        "case": name,
        "bytes": len(body),
        "statuses": sorted(set(statuses)),
        "web_cpu_ms": round(1000 * web_total / repeat, 1),
        "web_cpu_ms_max": round(1000 * worst, 1),
        "pg_cpu_ms": round(1000 * pg_total / repeat, 1),
    }


def _privacy(log: str, secrets: list[str]) -> list[dict[str, str]]:
    hits = []
    needles: dict[str, Callable[[str], bool]] = {
        "name": lambda line: NAME in line or "Quintanilla" in line,
        "phone": lambda line: PHONE in line or PHONE[1:] in line,
        "medicine": lambda line: MEDICINE.lower() in line.lower(),
        "body": lambda line: BODY_MARK in line,
        "secret": lambda line: any(s in line for s in secrets),
    }
    for line in log.splitlines():
        for what, found in needles.items():
            if found(line):
                hits.append({"privacy": what, "line": line[:300]})
    return hits


async def _drain(url: str, worker: subprocess.Popen[bytes]) -> None:
    """Let ``worker`` (at DEBUG) send what the cases queued that is due (a minute at most),
    then stop it."""
    conn = await asyncpg.connect(url)
    try:
        for _ in range(120):  # twice a second
            due = await conn.fetchval(
                "select count(*) from scheduled_messages"
                " where status in ('pending', 'processing') and scheduled_time <= now()"
            )
            if not due:
                break
            await asyncio.sleep(0.5)
        sent = await conn.fetchval(
            "select count(*) from scheduled_messages where sent_at is not null"
        )
        print(json.dumps({"worker_sent": sent}), flush=True)
    finally:
        await conn.close()
        worker.terminate()
        worker.wait(timeout=30)


def _start(command: str, env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """``medremind <command>`` with ``env``, its output (the log lines) in ``log_path``."""
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "medremind.cli", command],
            env=env,
            stdout=log,
            stderr=log,
            cwd=ROOT,
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", default="")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    fake = _FakeTelegramProcess()
    postgres = _Postgres()
    url = await postgres.__aenter__()
    tmp = Path(tempfile.mkdtemp(prefix="hostile-doors-"))
    web = None
    try:
        key, patient = await _seed(url)
        port = args.port or _free_port()
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "PORT": str(port),
            "MEDREMIND_DATA_DIR": str(tmp / "data"),
            "MEDREMIND_OUTBOX_DIR": str(tmp / "outbox"),
            "MEDREMIND_LOG_LEVEL": "DEBUG",
            "PUBLIC_BASE_URL": BASE,
            "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "TWILIO_ACCOUNT_SID": TWILIO_SID,
            "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
            "TWILIO_SMS_FROM": "+15005550006",
            "TWILIO_WHATSAPP_FROM": "whatsapp:+15005550006",
            "TWILIO_API_BASE_URL": fake.base_url,
            "PYTHONPATH": str(ROOT),
        }
        log_path = tmp / "web.log"
        web = _start("web", env, log_path)
        base = f"http://127.0.0.1:{port}"
        await _wait_up(base, web)
        conn = await asyncpg.connect(url)
        try:
            database = await conn.fetchval("select current_database()")
            for case in _cases(key, patient):
                if args.only and args.only not in case[0]:
                    continue
                started = time.perf_counter()
                result = await _measure(base, web.pid, conn, database, case, args.repeat)
                result["wall_s"] = round(time.perf_counter() - started, 2)
                print(json.dumps(result), flush=True)
        finally:
            await conn.close()
        web.terminate()
        web.wait(timeout=30)
        worker_log = tmp / "worker.log"
        await _drain(url, _start("worker", env, worker_log))
        for path in (log_path, worker_log):
            for hit in _privacy(path.read_text(errors="replace"), [SECRET, TWILIO_TOKEN, key]):
                print(json.dumps({**hit, "log": path.name}), flush=True)
    finally:
        if web is not None and web.poll() is None:
            web.kill()
            web.wait()
        fake.stop()
        await postgres.__aexit__()


if __name__ == "__main__":
    asyncio.run(main())
