"""The web process starts without the Twilio SDK's REST and HTTP modules or pywebpush (both import
requests and urllib3: ~0.1 s of CPU a process start, and the suite starts many web processes).
They are imported where a Twilio request or a push is made (platforms.twilio_client,
platforms.webpush), and the tests of those (tests/integration/test_twilio_adapters.py,
tests/dispatch/test_webpush.py, the clinic account checks) run through them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# What `medremind web` imports before it serves (medremind.cli runs medremind.web_workers).
PROBE = """
import sys
import medremind.cli, medremind.web_workers, medremind.web.app
slow = ("twilio.rest", "twilio.http", "twilio.base.version", "pywebpush", "requests")
print(",".join(name for name in slow if name in sys.modules))
"""


def test_the_web_process_imports_neither_the_twilio_client_nor_pywebpush() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"imported at start: {done.stdout.strip()}"
