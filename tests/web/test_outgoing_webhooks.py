"""Outgoing webhooks over real processes: a clinic subscribes a loopback receiver through the API
(``medremind web``), a message goes out through the worker (``medremind worker``, fake Telegram),
and the worker posts the signed ``message.status`` event; the receiver answers the first attempt
500 and the retry 200, and verifies the Standard Webhooks signature of both with the
``standardwebhooks`` library. Dose answers and opt-outs reach it too; another clinic's events
never do; the delivery log shows both attempts; a deleted subscription receives nothing more."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiohttp import web
from standardwebhooks.webhooks import Webhook

from tests.factories import create_dose_event, create_medication, create_patient
from tests.fakes.fake_telegram import DEFAULT_TOKEN
from tests.web.processes import clinic_key, kill, start_worker


@dataclass
class Receiver:
    """A loopback endpoint that records every request and fails the first ``fail_first``."""

    fail_first: int = 1
    requests: list[tuple[dict[str, str], bytes, int]] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        status = 500 if len(self.requests) < self.fail_first else 200
        self.requests.append((dict(request.headers), body, status))
        return web.Response(status=status, text="receiver says no" if status == 500 else "ok")

    async def wait_for(self, predicate: Any, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not predicate(self.requests):
            assert time.monotonic() < deadline, f"receiver got only {len(self.requests)}"
            await asyncio.sleep(0.1)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    recorder = Receiver()
    app = web.Application()
    app.router.add_post("/hooks", recorder.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    recorder.url = f"http://{host}:{port}/hooks"
    try:
        yield recorder
    finally:
        await runner.cleanup()


def _types(requests: list[tuple[dict[str, str], bytes, int]]) -> list[str]:
    return [json.loads(body)["type"] for _, body, _ in requests]


async def test_signed_webhook_retried_after_500(
    db, admin_conn, web_process, fake_telegram, database_url, tmp_path, receiver
):
    org, key = await clinic_key(db, admin_conn, "Hook Clinic")
    other, other_key = await clinic_key(db, admin_conn, "Quiet Clinic")
    patient = await create_patient(admin_conn, org["id"], contacts={"telegram": "5550001"})
    stranger = await create_patient(admin_conn, other["id"], contacts={"telegram": "5550002"})
    # The receiver is on loopback: allowed as a clinic's LAN would be, on web and worker alike.
    _, base = await web_process(MEDREMIND_WEBHOOK_ALLOW_PRIVATE="true")
    auth = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        refused = await http.post(
            "/api/v1/webhooks", headers=auth, json={"url": "ftp://x", "event_types": []}
        )
        assert refused.status_code == 422 and refused.json()["error"]["field"] == "url"
        created = await http.post(
            "/api/v1/webhooks",
            headers=auth,
            json={
                "url": receiver.url,
                "event_types": ["message.status", "dose.answered", "contact.opted_out"],
                "description": "EHR bridge",
            },
        )
        assert created.status_code == 201, created.text
        hook = created.json()
        assert hook["secret"].startswith("whsec_")
        listed = (await http.get("/api/v1/webhooks", headers=auth)).json()["data"]
        assert [h["id"] for h in listed] == [hook["id"]] and "secret" not in listed[0]
        # The other clinic sees none of it, and cannot delete it.
        other_auth = {"Authorization": f"Bearer {other_key}"}
        assert (await http.get("/api/v1/webhooks", headers=other_auth)).json()["data"] == []
        gone = await http.delete(f"/api/v1/webhooks/{hook['id']}", headers=other_auth)
        assert gone.status_code == 404

        for who, headers in ((patient, auth), (stranger, other_auth)):
            message = await http.post(
                "/api/v1/messages",
                headers=headers,
                json={"patient_id": str(who["id"]), "text": "Lab results ready", "urgent": True},
            )
            assert message.status_code == 201, message.text
            if who is patient:
                message_id = message.json()["id"]

    worker = start_worker(
        database_url,
        tmp_path,
        TELEGRAM_BOT_TOKEN=DEFAULT_TOKEN,
        TELEGRAM_API_BASE_URL=fake_telegram.base_url,
        MEDREMIND_WORKER_POLL_SECONDS="0.5",
        MEDREMIND_WEBHOOK_POLL_SECONDS="0.2",
        MEDREMIND_WEBHOOK_RETRY_SECONDS="1,1,1",
        MEDREMIND_WEBHOOK_ALLOW_PRIVATE="true",
    )
    try:
        await receiver.wait_for(lambda r: len(r) >= 2)
        # A patient's dose answer and an SMS opt-out, as the bot and the dispatcher record them.
        _, schedule = await create_medication(admin_conn, patient["id"])
        dose = await create_dose_event(admin_conn, schedule, datetime.now(UTC) - timedelta(hours=1))
        await admin_conn.execute(
            "update dose_events set status = 'taken', answered_at = now(),"
            " answered_channel = 'telegram' where id = $1",
            dose["id"],
        )
        await admin_conn.execute(
            "update contact_points set opted_out_at = now() where patient_id = $1", patient["id"]
        )
        await receiver.wait_for(lambda r: {"dose.answered", "contact.opted_out"} <= set(_types(r)))
    finally:
        worker.terminate()
        await asyncio.to_thread(worker.wait, 30)
        kill(worker)

    verifier = Webhook(hook["secret"])
    first, second = receiver.requests[0], receiver.requests[1]
    assert (first[2], second[2]) == (500, 200)
    assert first[0]["webhook-id"] == second[0]["webhook-id"]  # the same event, retried
    for headers, body, _ in receiver.requests:
        verifier.verify(body, headers)  # raises unless the signature is ours
        assert headers["webhook-signature"].startswith("v1,")
        assert headers["Content-Type"] == "application/json"
        assert "Lab results" not in body.decode()  # no message text leaves in events
    forged = dict(second[0], **{"webhook-signature": "v1,AAAA"})
    with pytest.raises(Exception, match="signature"):
        verifier.verify(second[1], forged)
    status = verifier.verify(second[1], second[0])
    assert status["type"] == "message.status"
    assert status["data"]["message_id"] == message_id
    assert status["data"]["status"] == "sent" and status["data"]["channel"] == "telegram"
    assert str(stranger["id"]) not in b"".join(b for _, b, _ in receiver.requests).decode()
    by_type = {p["type"]: p for p in (verifier.verify(b, h) for h, b, _ in receiver.requests)}
    assert by_type["dose.answered"]["data"]["dose_event_id"] == str(dose["id"])
    assert by_type["dose.answered"]["data"]["status"] == "taken"
    assert by_type["contact.opted_out"]["data"] == {
        "patient_id": str(patient["id"]),
        "channel": "telegram",
        "at": by_type["contact.opted_out"]["data"]["at"],
    }

    async with httpx.AsyncClient(base_url=base, headers=auth, timeout=30) as http:
        log = (await http.get(f"/api/v1/webhooks/{hook['id']}/deliveries")).json()["data"]
        retried = next(d for d in log if d["payload"]["data"].get("message_id") == message_id)
        assert (retried["status"], retried["attempts"], retried["last_status_code"]) == (
            "delivered",
            2,
            200,
        )
        assert [a["status_code"] for a in retried["log"]] == [500, 200]
        # Over: no next attempt (it showed the retry's time, past, as if one were due).
        assert retried["next_attempt_at"] is None
        assert "receiver says no" in (retried["log"][0]["error"] or "")
        deleted = await http.delete(f"/api/v1/webhooks/{hook['id']}")
        assert deleted.status_code == 200 and deleted.json()["disabled_at"] is not None
        assert (await http.get("/api/v1/webhooks")).json()["data"] == []
    # No subscription left: a new status change writes no event at all.
    events = await admin_conn.fetchval("select count(*) from webhook_events")
    await admin_conn.execute(
        "update scheduled_messages set status = 'cancelled' where status = 'pending'"
    )
    await admin_conn.execute(
        "update contact_points set opted_out_at = null where patient_id = $1", patient["id"]
    )
    assert await admin_conn.fetchval("select count(*) from webhook_events") == events


async def test_an_endpoint_on_a_private_address_is_refused_when_subscribing(
    db, admin_conn, web_process
):
    """A webhook to a loopback or private IP was accepted, and then every delivery failed
    ("the endpoint's address is private ...") and was retried for a day and more. Such a URL is
    a 422 naming the setting now; a name is resolved only when delivering; the operator's
    MEDREMIND_WEBHOOK_ALLOW_PRIVATE lets a clinic's network in. An address written as the
    resolver also reads it (127.1, 0x7f000001, 2130706433, octal 0177.0.0.1, or with a trailing
    dot: 10.0.0.1., localhost.; or in letters IDNA maps to those) is one too."""
    _, key = await clinic_key(db, admin_conn, "Private Hook Clinic")
    auth = {"Authorization": f"Bearer {key}"}
    private = [
        "http://127.0.0.1:9/hook",
        "http://localhost:8080/hook",
        "http://[::1]/hook",
        "https://10.0.0.5/hook",
        "http://169.254.169.254/latest/meta-data",
        # IPv4 as the resolver also reads it (inet_aton): 127.0.0.1 and 10.0.0.1 again. These
        # were taken (201) and every delivery then refused by the worker's resolver.
        "https://127.1/hook",
        "https://0x7f000001/hook",
        "https://2130706433/hook",
        "https://0177.0.0.1/hook",
        "https://0x0a.1/hook",
        # A name's root dot, as the resolver also reads it: taken (201) until 2026-12-06.
        "https://10.0.0.1./hook",
        "https://localhost./hook",
        "https://127.0.0.1./hook",
        # IPv6 standing for an inside IPv4 address (NAT64, 6to4), site-local and multicast:
        # Python calls them global, and they were taken (201) until 2026-12-07.
        "https://[64:ff9b::a9fe:a9fe]/latest/meta-data",
        "https://[2002:7f00:1::]/hook",
        "https://[fec0::1]/hook",
        "https://224.0.0.1/hook",
        # Written in other letters that IDNA maps to these (full-width digits, ideographic full
        # stops, a circled letter): the resolver reads 127.0.0.1 and localhost, and every
        # delivery was refused, while the subscription was taken (201) until 2026-12-07.
        "http://\uff11\uff12\uff17.0.0.1/hook",
        "http://127\u30020\u30020\u30021/hook",
        "http://10.0.0.1\u3002/hook",
        "http://\u24dbocalhost/hook",
    ]
    _, base = await web_process()
    async with httpx.AsyncClient(base_url=base, headers=auth, timeout=30) as http:
        for url in private:
            refused = await http.post("/api/v1/webhooks", json={"url": url})
            assert refused.status_code == 422, (url, refused.text)
            error = refused.json()["error"]
            assert error["field"] == "url"
            assert "private, loopback or link-local" in error["reason"]
            assert "MEDREMIND_WEBHOOK_ALLOW_PRIVATE=true" in error["reason"]
        public = await http.post("/api/v1/webhooks", json={"url": "https://ehr.example.org/h"})
        assert public.status_code == 201, public.text
    _, lan = await web_process(MEDREMIND_WEBHOOK_ALLOW_PRIVATE="true")
    async with httpx.AsyncClient(base_url=lan, headers=auth, timeout=30) as http:
        allowed = await http.post("/api/v1/webhooks", json={"url": private[0]})
        assert allowed.status_code == 201, allowed.text
