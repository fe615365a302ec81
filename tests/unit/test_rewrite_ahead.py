"""The test modules' assertion rewriting done once on the xdist controller (tests.rewrite_ahead):
run through pytest and pytest-xdist themselves on a two-file project, the controller writes the
rewritten module before the workers start, and the workers' failing assert still explains itself
(they ran the rewritten code)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

CONFTEST = """
from pathlib import Path
from tests.rewrite_ahead import rewrite_test_modules_ahead

def pytest_configure(config):
    written = rewrite_test_modules_ahead(config)
    if not hasattr(config, "workerinput"):
        Path(config.rootpath, "written.txt").write_text(str(written))
"""

TEST_MODULE = """
def test_explained():
    count = 1
    assert count == 2
"""


def test_the_controller_rewrites_and_the_workers_run_what_it_wrote(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "conftest.py").write_text(CONFTEST)
    (project / "test_explained.py").write_text(TEST_MODULE)
    # The run's own bytecode folder when it has one (.ci/run): a new one would compile pytest,
    # xdist and the standard library again in each of the three processes (~8 CPU-s).
    prefix = Path(sys.pycache_prefix or tmp_path / "pycache")
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "PYTHONPYCACHEPREFIX": str(prefix),
    }
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    # The conftest was rewritten when the controller imported it; the test module here.
    assert (project / "written.txt").read_text() == "1"
    cached = prefix / Path(*project.parts[1:])
    assert list(cached.glob("test_explained.*-pytest-*.pyc"))
    # The workers' assertion explains the failure: what they ran was rewritten.
    assert "assert 1 == 2" in run.stdout, run.stdout
