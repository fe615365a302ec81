"""docs/integrators.md, run as written: its `sh` blocks in bash (the documented `medremind apikey
create`, then curl against a real ``medremind web``), its `python` blocks as the clinic's endpoint
(a loopback server that answers with the guide's ``handle``), a real ``medremind worker`` sending
the message over SMS to the loopback Twilio and posting the signed events.

Only the guide's `export` lines take the test's values (the service's address, the key the first
block printed, the loopback endpoint). The endpoint refuses its first request (an outage): the
retry carries the same ``webhook-id`` and is verified and handled once. Then the guide's secret
rotation: the next event verifies with the new secret, and with ``verify_either`` during the
switch, not with the old one.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
from datetime import time as dt_time
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web

from tests.factories import create_organization
from tests.fakes.endpoint import loopback_endpoint
from tests.process_env import service_env
from tests.web.conftest import web_env
from tests.web.processes import kill, start_worker, twilio_env

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "integrators.md"
_BLOCK = re.compile(r"^```(sh|python)\n(.*?)^```$", re.DOTALL | re.MULTILINE)


def _blocks(language: str) -> list[str]:
    return [text for lang, text in _BLOCK.findall(GUIDE.read_text("utf-8")) if lang == language]


def _run_sh(block: str, env: dict[str, str], state: Path) -> subprocess.CompletedProcess[str]:
    """One block in bash as written; the variables it sets are kept in ``state`` for the next."""
    script = f"set -euo pipefail -a\n. {state}\n{block}\nexport -p > {state}\n"
    done = subprocess.run(
        ["bash", "-c", script], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, f"{block}\nstdout: {done.stdout}\nstderr: {done.stderr}"
    return done


def _last_json(text: str) -> dict[str, Any]:
    """The answer ``tee /dev/stderr`` showed (the block's JSON output)."""
    decoded: dict[str, Any] = json.loads(text.strip().splitlines()[-1])
    return decoded


async def test_the_integrator_guide_runs_as_written(
    admin_conn, database_url, tmp_path, web_process, fake_twilio
):
    sh = _blocks("sh")
    python = _blocks("python")
    assert sh[0].startswith("medremind apikey create") and sh[1].startswith("export ")
    assert len(sh) == 7 and len(python) == 2, "the guide's blocks changed: update this test"
    await create_organization(
        admin_conn, name="My Clinic", default_quiet_start=dt_time(0), default_quiet_end=dt_time(0)
    )
    # The documented command finds `medremind` on PATH, as on an operator's machine.
    cli_env = service_env(**web_env(database_url, tmp_path))
    cli_env["PATH"] = f"{Path(sys.executable).parent}:{cli_env.get('PATH', '')}"
    state = tmp_path / "state.sh"
    state.write_text("")
    key = _run_sh(sh[0], cli_env, state).stdout.strip()
    assert re.fullmatch(r"mr_[0-9a-f]{12}_\S+", key), key

    guide: dict[str, Any] = {}
    for block in python:
        exec(compile(block, str(GUIDE), "exec"), guide)  # noqa: S102 - the guide's own code
    secret: list[str] = []
    requests: list[tuple[dict[str, str], bytes]] = []
    answers: list[int] = []

    async def endpoint(request: web.Request) -> web.Response:
        headers = {name.lower(): value for name, value in request.headers.items()}
        requests.append((headers, await request.read()))
        if len(requests) == 1:
            return web.Response(status=503, text="endpoint restarting")
        answers.append(guide["handle"](secret[-1], headers, requests[-1][1]))
        return web.Response(status=answers[-1])

    _, base = await web_process(MEDREMIND_WEBHOOK_ALLOW_PRIVATE="true")
    async with loopback_endpoint(endpoint, "/medremind/events") as port:
        env = dict(
            cli_env,
            MEDREMIND_URL=base,
            MEDREMIND_API_KEY=key,
            HOOK_URL=f"http://127.0.0.1:{port}/medremind/events",
        )
        exports = "\n".join(line for line in sh[1].splitlines() if not line.startswith("export "))
        _run_sh(exports, env, state)
        patient = _last_json(_run_sh(sh[2], env, state).stderr)
        assert patient["status"] == "active" and patient["display_name"] == "Ana García"
        # Run again (a retry after a lost answer), the same Idempotency-Key: nobody made twice.
        assert _last_json(_run_sh(sh[2], env, state).stderr)["id"] == patient["id"]
        hook = _last_json(_run_sh(sh[3], env, state).stderr)
        secret.append(hook["secret"])
        message = _last_json(_run_sh(sh[4], env, state).stderr)
        assert message["status"] == "pending" and message["warnings"] == []
        read = json.loads(_run_sh(sh[5], env, state).stdout)
        assert read["id"] == message["id"]

        worker = start_worker(
            database_url,
            tmp_path,
            **twilio_env(fake_twilio),
            MEDREMIND_WORKER_POLL_SECONDS="0.5",
            MEDREMIND_WEBHOOK_POLL_SECONDS="0.2",
            MEDREMIND_WEBHOOK_RETRY_SECONDS="1",
            MEDREMIND_WEBHOOK_ALLOW_PRIVATE="true",
        )
        try:
            sent = await _event(requests, message["id"], worker, tmp_path)
            # The refused first request came again, the same event: handled once, 200 both times.
            assert requests[0][0]["webhook-id"] == sent[0]["webhook-id"]
            assert answers and set(answers) == {200}
            assert guide["handle"](secret[-1], *sent) == 200  # a duplicate: acknowledged again
            tampered = sent[1].replace(b'"sms"', b'"xxx"')
            assert guide["handle"](secret[-1], sent[0], tampered) == 401
            assert not guide["verify"](secret[-1], sent[0], sent[1], tolerance=-1)
            status = json.loads(_run_sh(sh[5], env, state).stdout)
            assert status["status"] in ("sent", "delivered") and status["channel_used"] == "sms"

            rotated = _last_json(_run_sh(sh[6], env, state).stdout)
            assert rotated["id"] == hook["id"] and rotated["secret"] != hook["secret"]
            secret.append(rotated["secret"])
            async with httpx.AsyncClient(base_url=base, timeout=30) as http:
                again = await http.post(
                    "/api/v1/messages",
                    headers={"Authorization": f"Bearer {key}"},
                    json={"patient_id": patient["id"], "text": "And one more thing."},
                )
                assert again.status_code == 201, again.text
            after = await _event(requests, again.json()["id"], worker, tmp_path)
        finally:
            worker.terminate()
            await asyncio.to_thread(worker.wait, 30)
            kill(worker)
    assert guide["verify_either"]([rotated["secret"], hook["secret"]], *after)
    assert not guide["verify"](hook["secret"], *after)
    assert set(answers) == {200}


async def _event(
    requests: list[tuple[dict[str, str], bytes]],
    message_id: str,
    worker: subprocess.Popen,
    tmp_path: Path,
) -> tuple[dict[str, str], bytes]:
    """The request whose event says ``message_id`` was sent (after the endpoint answered it)."""
    deadline = time.monotonic() + 90
    while True:
        for headers, body in requests[1:]:
            data = json.loads(body)["data"]
            if data.get("message_id") == message_id and data.get("status") == "sent":
                return headers, body
        alive = worker.poll() is None and time.monotonic() < deadline
        assert alive, (tmp_path / "worker.log").read_text()[-3000:]
        await asyncio.sleep(0.1)
