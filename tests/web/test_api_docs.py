"""``GET /api/v1/docs`` over a real web process: the interactive page loads only this server's
files (no CDN: clinics run the service offline), every one of them is served, and the page's
start-up points Swagger UI at ``/api/v1/openapi.json``, which lists the routes."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from medremind.web.api_v1.application import build_document
from tests.chromium_binary import CHROMIUM
from tests.dashboard.browser_server import browser_env
from tests.process_env import service_env

ROOT = Path(__file__).resolve().parents[2]


async def test_docs_page_is_served_locally(web_process):
    _, base = await web_process()
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        page = await http.get("/api/v1/docs")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert sources and all(s.startswith("/api/v1/docs/assets/") for s in sources), sources
        assert "<script>" not in page.text  # no inline script
        for source in sources:
            asset = await http.get(source)
            assert asset.status_code == 200, source
            assert len(asset.content) > 100, source
        bundle = await http.get("/api/v1/docs/assets/swagger-ui-bundle.js")
        assert "SwaggerUIBundle" in bundle.text
        assert bundle.headers["content-type"].startswith("text/javascript")
        init = await http.get("/api/v1/docs/assets/init.js")
        assert '"/api/v1/openapi.json"' in init.text
        missing = await http.get("/api/v1/docs/assets/index.html")
        assert missing.status_code == 404 and missing.json()["error"]["status"] == 404
        escape = await http.get("/api/v1/docs/assets/..%2F..%2F__init__.py")
        assert escape.status_code == 404
        document = (await http.get("/api/v1/openapi.json")).json()
        for path in ("/api/v1/statistics", "/api/v1/webhooks", "/api/v1/waitlist", "/api/v1/docs"):
            assert path in document["paths"]


@pytest.mark.skipif(
    shutil.which("node") is None
    or not os.access(CHROMIUM, os.X_OK)
    or not (ROOT / "dashboard" / "node_modules" / "playwright-core").is_dir(),
    reason="needs node, chromium and the dashboard's playwright-core (make dashboard-test)",
)
async def test_docs_page_renders_in_a_browser(web_process):
    """Swagger UI draws every operation with nothing fetched from another host."""
    _, base = await web_process()
    with browser_env(CHROMIUM) as browser:
        done = subprocess.run(
            ["node", "e2e/api-docs.e2e.mjs"],
            cwd=ROOT / "dashboard",
            env=service_env(
                DOCS_URL=f"{base}/api/v1/docs",
                **browser,
                SCREENSHOT_DIR=str(ROOT / "test-artifacts" / "screenshots"),
            ),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stdout + done.stderr
    document = build_document()
    expected = sum(len(methods) for methods in document["paths"].values())
    assert json.loads(done.stdout.strip().splitlines()[-1])["operations"] == expected
