"""tests/clock/run_at.py: the embedded PostgreSQL's timeouts behave under it as without it.

Under libfaketime alone the server's timeouts read the real clock in their signal handler and
compared it with deadlines on the moved clock: with the clock moved forward two sessions locking
in opposite order waited forever (no deadlock error), moved back every pending timeout fired at
the first alarm. See tests/clock/wall_clock_offset.c.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.clock import run_at
from tests.clock.deadlock_probe import STATEMENT_TIMEOUT

ROOT = Path(__file__).resolve().parents[2]
RUN_AT = ROOT / "tests" / "clock" / "run_at.py"
# deadlock_timeout is 1 s; the rest is a loaded machine's slack.
DEADLOCK_WITHIN = 5.0


def _probe_at(instant: datetime) -> dict[str, Any]:
    """tests/clock/deadlock_probe.py under run_at.py at ``instant``; its JSON line."""
    command = [sys.executable, str(RUN_AT), instant.isoformat(), "--tz", "UTC", "--"]
    command += [sys.executable, "-m", "tests.clock.deadlock_probe"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, done.stdout + done.stderr
    return json.loads(lines[-1])


@pytest.mark.slow
@pytest.mark.skipif(run_at.missing() is not None, reason=str(run_at.missing()))
@pytest.mark.parametrize(
    "moved", [timedelta(days=400), timedelta(days=-400)], ids=["ahead", "back"]
)
def test_a_deadlock_is_an_error_and_a_statement_timeout_on_time_under_run_at(
    moved: timedelta,
) -> None:
    probe = _probe_at(datetime.now(UTC) + moved)

    deadlock = probe["deadlock"]
    assert "DeadlockDetectedError" in deadlock["results"], probe
    assert deadlock["seconds"] < DEADLOCK_WITHIN, probe
    # A lock wait's 3 s statement_timeout ends it at 3 s: the 1 s deadlock_timeout alarm before it
    # fired it too when the clock was moved back.
    timeout = probe["statement_timeout"]
    assert timeout["result"] == "QueryCanceledError", probe
    assert STATEMENT_TIMEOUT - 0.1 <= timeout["seconds"] < STATEMENT_TIMEOUT + DEADLOCK_WITHIN, (
        probe
    )
    # The server still sees the moved wall clock, the one the processes around it see: the
    # product's SQL compares now() with times the Python side computed (claims, leases, slots).
    server_now = datetime.fromisoformat(str(probe["server_now"]))
    client_now = datetime.fromisoformat(str(probe["client_now"]))
    assert abs(server_now - client_now) < timedelta(minutes=1), probe
