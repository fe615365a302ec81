"""Run the test suite (or any command) with every process's clock moved to a chosen instant.

    .venv/bin/python tests/clock/run_at.py 2027-03-28T00:30:00Z -- .venv/bin/pytest -q tests/web

libfaketime (Debian's ``faketime`` package) is preloaded into the command and everything it starts,
the embedded PostgreSQL server, the ``medremind`` subprocesses and the browser included, with one
fixed offset from the real clock, so all of them agree on the moved time and it keeps running.
``--tz`` sets the machine timezone (``TZ``) seen by those processes as well.

This is how the suite is checked to pass at any hour (issue 13): it is a tool run by hand, not part
of ``make test``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

_LIBRARIES = (
    Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"),
    Path("/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1"),
    Path("/usr/lib/faketime/libfaketimeMT.so.1"),
)


def _library() -> Path:
    for path in _LIBRARIES:
        if path.exists():
            return path
    raise SystemExit("libfaketime not found: apt-get install faketime (Debian's package)")


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise SystemExit(f"{text!r}: give the instant with its offset, e.g. 2027-03-28T00:30:00Z")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("instant", help="ISO 8601 instant with offset, e.g. 2026-12-31T23:59:00Z")
    parser.add_argument("--tz", help="TZ for the command, e.g. America/New_York (default: as is)")
    argv = sys.argv[1:] if argv is None else argv
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    command = argv[split + 1 :] or [".venv/bin/pytest", "-q"]
    offset = int((_instant(args.instant) - datetime.now(UTC)).total_seconds())
    env = dict(os.environ)
    env["LD_PRELOAD"] = str(_library())
    env["FAKETIME"] = f"{offset:+d}"  # seconds; the same offset in every process
    # The monotonic clock moves by the same offset (it only matters that it is steady): left real,
    # libfaketime turns an absolute clock_nanosleep deadline into a negative one (EINVAL).
    if args.tz:
        env["TZ"] = args.tz
    started = time.monotonic()
    zone = env.get("TZ", "")
    print(f"run_at: {args.instant} (offset {offset:+d} s, TZ={zone}): {' '.join(command)}")
    sys.stdout.flush()
    code = subprocess.call(command, env=env)
    print(f"run_at: exit {code} after {time.monotonic() - started:.0f} s")
    return code


if __name__ == "__main__":
    sys.exit(main())
