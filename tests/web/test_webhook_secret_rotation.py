"""Rotating an outgoing webhook's signing secret loses no event.

The only way to a new secret was ``DELETE /webhooks/{id}`` and subscribing again (the API's own
409 said so): the delete cancelled every pending delivery (an endpoint that was down lost them)
and events raised before the new subscription existed were never sent. ``POST
/webhooks/{id}/secret`` now answers a new secret for the same subscription; deliveries still
pending are signed with it from their next attempt. Over real processes: ``medremind web`` (the
API) and ``medremind worker`` (the sender, fake Telegram), a loopback endpoint that refuses every
attempt until the clinic has rotated.
"""

from __future__ import annotations

import asyncio
import time

import httpx
from aiohttp import web
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from medremind.api_keys import create_api_key
from tests.factories import create_patient
from tests.fakes.endpoint import loopback_endpoint
from tests.web.processes import clinic_key, kill, start_telegram_worker


def _verifies(secret: str, headers: dict[str, str], body: bytes) -> bool:
    try:
        Webhook(secret).verify(body, headers)
    except WebhookVerificationError:
        return False
    return True


async def test_a_rotated_secret_signs_the_pending_deliveries(
    db, admin_conn, web_process, fake_telegram, database_url, tmp_path
):
    org, key = await clinic_key(db, admin_conn, "Rotating Clinic")
    other, other_key = await clinic_key(db, admin_conn, "Other Clinic")
    assert db.pool is not None
    clinician_key = await create_api_key(db.pool, str(org["id"]), "daily", role="clinician")
    patient = await create_patient(admin_conn, org["id"], contacts={"telegram": "5550101"})
    received: list[tuple[dict[str, str], bytes]] = []
    accepting = asyncio.Event()

    async def endpoint(request: web.Request) -> web.Response:
        received.append((dict(request.headers), await request.read()))
        return web.Response(status=200 if accepting.is_set() else 503, text="down for a while")

    _, base = await web_process(MEDREMIND_WEBHOOK_ALLOW_PRIVATE="true")
    auth = {"Authorization": f"Bearer {key}"}
    async with (
        loopback_endpoint(endpoint) as port,
        httpx.AsyncClient(base_url=base, headers=auth, timeout=30) as http,
    ):
        created = await http.post(
            "/api/v1/webhooks",
            json={"url": f"http://127.0.0.1:{port}/hook", "event_types": ["message.status"]},
        )
        assert created.status_code == 201, created.text
        hook = created.json()
        message = await http.post(
            "/api/v1/messages",
            json={"patient_id": str(patient["id"]), "text": "Lab results ready", "urgent": True},
        )
        assert message.status_code == 201, message.text
        worker = start_telegram_worker(
            database_url,
            tmp_path,
            fake_telegram,
            MEDREMIND_WEBHOOK_POLL_SECONDS="0.2",
            MEDREMIND_WEBHOOK_RETRY_SECONDS=",".join(["1"] * 20),  # the most waits it takes
            MEDREMIND_WEBHOOK_ALLOW_PRIVATE="true",
        )
        try:
            deadline = time.monotonic() + 90
            while not received:
                alive = worker.poll() is None and time.monotonic() < deadline
                assert alive, (tmp_path / "worker.log").read_text()[-3000:]
                await asyncio.sleep(0.1)
            assert _verifies(hook["secret"], *received[0])

            path = f"/api/v1/webhooks/{hook['id']}/secret"
            refused = await http.post(path, headers={"Authorization": f"Bearer {clinician_key}"})
            assert refused.status_code == 403, refused.text
            elsewhere = await http.post(path, headers={"Authorization": f"Bearer {other_key}"})
            assert elsewhere.status_code == 404, elsewhere.text
            rotated = await http.post(path)
            assert rotated.status_code == 200, rotated.text
            new = rotated.json()
            assert new["id"] == hook["id"] and new["url"] == hook["url"]
            assert new["secret"].startswith("whsec_") and new["secret"] != hook["secret"]
            accepting.set()

            delivered = None
            while delivered is None:
                assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()[-3000:]
                log = (await http.get(f"/api/v1/webhooks/{hook['id']}/deliveries")).json()
                delivered = next((d for d in log["data"] if d["status"] == "delivered"), None)
                await asyncio.sleep(0.2)
        finally:
            worker.terminate()
            await asyncio.to_thread(worker.wait, 30)
            kill(worker)

        # The delivery pending across the rotation went out, on the same subscription, signed
        # with the new secret only (the answered attempt), and the old secret no longer verifies.
        assert delivered["attempts"] >= 2
        answered_headers, answered_body = received[-1]
        assert _verifies(new["secret"], answered_headers, answered_body)
        assert not _verifies(hook["secret"], answered_headers, answered_body)
        assert answered_headers["webhook-id"] == received[0][0]["webhook-id"]
        listed = (await http.get("/api/v1/webhooks")).json()["data"]
        assert [h["id"] for h in listed] == [hook["id"]] and "secret" not in listed[0]
        # A deleted subscription has no secret to rotate.
        assert (await http.delete(f"/api/v1/webhooks/{hook['id']}")).status_code == 200
        gone = await http.post(f"/api/v1/webhooks/{hook['id']}/secret")
        assert gone.status_code == 404, gone.text
    audit = await admin_conn.fetch(
        "select action from audit_log where organization_id = $1 and entity = 'webhook'"
        " order by at",
        org["id"],
    )
    assert "webhook.rotate_secret" in [r["action"] for r in audit]
    assert other["id"] != org["id"]
