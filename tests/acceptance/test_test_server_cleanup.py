"""The test suite's own embedded PostgreSQL leaves nothing behind in the temporary directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_session_server_leaves_no_directory_in_tmp(
    tmp_path: Path, outside_tmp_path: Path
) -> None:
    """``pg_admin_url`` deleted its server's ``pgdata`` but left the ``mkdtemp`` parent
    (``/tmp/medremind-test-pg-*``), one empty directory per test session, forever."""
    tmp = outside_tmp_path  # the server's user must reach it (see outside_tmp_path)
    (tmp_path / "test_uses_server.py").write_text(
        "def test_server(pg_admin_url: str) -> None:\n"
        "    assert pg_admin_url.startswith('postgresql://')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"}
    env["TMPDIR"] = str(tmp)
    result = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.conftest",
            "-c", str(REPO / "pyproject.toml"), "--rootdir", str(REPO),
            "--basetemp", str(tmp_path / "basetemp"), str(tmp_path / "test_uses_server.py"),
        ],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    assert [p.name for p in tmp.iterdir() if p.name.startswith("medremind-test-pg-")] == []
