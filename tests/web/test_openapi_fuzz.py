"""A bounded property-based run (schemathesis) over the OpenAPI document: no input it can
generate, valid or not, makes the API answer 5xx. The app runs in a real uvicorn server in a
thread (its own event loop and pool) on this test's database, seeded with a patient, a message
and an appointment so generated requests also reach existing rows."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import hypothesis
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase
from schemathesis.core.result import Err
from schemathesis.transport.requests import SameHostRedirectsSession

from medremind.web import create_app
from medremind.web.api_v1.application import build_document
from tests.factories import create_message, create_patient

MAX_EXAMPLES = 12  # per operation and mode: ~350 requests, a few seconds


class _ThreadServer(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # pragma: no cover - not the main thread anyway
        pass


def _declared(operation: Any, status: int) -> set[str]:
    """The media types the document declares for ``operation``'s ``status`` answer."""
    response = operation.definition.raw.get("responses", {}).get(str(status), {})
    return set(response.get("content", {}))


def _fuzz(base_url: str, headers: dict[str, str], seeds: dict[str, str]) -> list[str]:
    schema = schemathesis.openapi.from_dict(build_document())
    failures: list[str] = []
    # One session for every request, its connections kept alive: schemathesis makes (and closes)
    # a session per call otherwise, a new connection and adapter for each of ~1,600 requests.
    # Its own class, so redirects are followed as it would; cookies are dropped after each call
    # (no request may ride on another's).
    session = SameHostRedirectsSession()
    for result in schema.get_all_operations():
        if isinstance(result, Err):  # an operation schemathesis could not load: fail with why
            raise result.err()
        operation = result.ok()
        names = {p.name for p in operation.path_parameters}
        path_sets: list[dict[str, Any] | None] = [None]
        if names:
            path_sets.append({n: seeds[n] for n in names})
        raw = operation.definition.raw
        # An operation that takes nothing (the docs page) has no invalid input to generate.
        takes_input = any(raw.get(k) for k in ("parameters", "requestBody", "security"))
        modes = [schemathesis.GenerationMode.POSITIVE]
        if takes_input:
            modes.append(schemathesis.GenerationMode.NEGATIVE)
        for mode in modes:
            for path_parameters in path_sets:
                strategy = operation.as_strategy(
                    generation_mode=mode, path_parameters=path_parameters
                )

                @hypothesis.settings(
                    max_examples=MAX_EXAMPLES,
                    deadline=None,
                    database=None,
                    derandomize=True,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=list(HealthCheck),
                )
                @hypothesis.given(case=strategy)
                def check(case: schemathesis.Case) -> None:
                    try:
                        response = case.call(
                            base_url=base_url, session=session, headers=headers, timeout=10
                        )
                    finally:
                        session.cookies.clear()
                    if response.status_code >= 500:
                        failures.append(
                            f"{case.method} {case.formatted_path} -> {response.status_code}: "
                            f"{response.text[:300]} (body={case.body!r:.300})"
                        )
                    elif response.status_code != 204:
                        # Every answer, error or not, is JSON, or a media type the operation
                        # declares for it (a statistics table as CSV).
                        content_type = {k.lower(): v for k, v in response.headers.items()}
                        media = content_type["content-type"][0].split(";")[0]
                        assert media == "application/json" or media in _declared(
                            case.operation, response.status_code
                        ), f"{case.method} {case.formatted_path} answered {media}"

                check()
    session.close()
    return failures


async def test_no_5xx_for_any_generated_request(web_settings, admin_conn, org, auth):
    patient = await create_patient(admin_conn, org["id"])
    message = await create_message(
        admin_conn, patient["id"], scheduled_time=datetime.now(UTC) + timedelta(hours=1)
    )
    appointment = await admin_conn.fetchrow(
        "insert into appointments (organization_id, patient_id, starts_at)"
        " values ($1, $2, now() + interval '3 days') returning id",
        org["id"],
        patient["id"],
    )
    webhook = await admin_conn.fetchrow(
        "insert into webhook_subscriptions (organization_id, url, event_types, secret)"
        " values ($1, 'https://ehr.example.org/hooks', '{message.status}', 'whsec_c2VjcmV0')"
        " returning id",
        org["id"],
    )
    entry = await admin_conn.fetchrow(
        "insert into waitlist_entries (organization_id, patient_id) values ($1, $2) returning id",
        org["id"],
        patient["id"],
    )
    medication = await admin_conn.fetchrow(
        "insert into medications (patient_id, name) values ($1, 'Insulin') returning id",
        patient["id"],
    )
    seeds = {
        "patient_id": str(patient["id"]),
        "medication_id": str(medication["id"]),
        "message_id": str(message["id"]),
        "appointment_id": str(appointment["id"]),
        "name": "checkup",  # PUT /api/v1/templates/{name}
        "webhook_id": str(webhook["id"]),
        "entry_id": str(entry["id"]),
        "channel": "sms",  # /api/v1/provider-accounts/{channel}
    }
    app = create_app(web_settings, senders={}, resume_on_startup=False)
    server = _ThreadServer(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise AssertionError("test server did not start")
            await asyncio.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        failures = await asyncio.to_thread(_fuzz, f"http://127.0.0.1:{port}", auth, seeds)
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 30)
    assert failures == []
