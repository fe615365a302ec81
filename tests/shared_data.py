"""One migrated embedded PostgreSQL data directory for all the pytest-xdist workers of a run.

Each worker ran ``initdb`` and migrated a template database of its own (about 10 s of CPU each
on the 2-core CI host, all at once at the start). Now the first worker to ask makes the data
directory once, in a folder the xdist controller made for the run (``MEDREMIND_TEST_SHARED_DATA``,
deleted when the run ends), under a file lock the others wait on; each worker then starts its
own server on a copy of it (``cp -a``, as the server's system user owns the files). Every
worker's server and template are the same as before: a fresh cluster holding the migrated
template (and the roles the migrations create), with no flush to disk.

Not used on ``TEST_DATABASE_URL`` (a server that is not the suite's), nor without xdist.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from tests.embedded_server import server_at

VARIABLE = "MEDREMIND_TEST_SHARED_DATA"
_MADE_HERE = pytest.StashKey[Path]()


def make_run_folder(config: pytest.Config) -> None:
    """On the xdist controller of a run on the embedded servers (from ``pytest_configure``):
    the run's shared folder, in the environment its workers inherit."""
    if hasattr(config, "workerinput") or not config.getoption("numprocesses", None):
        return
    if os.environ.get("TEST_DATABASE_URL"):
        return
    folder = Path(tempfile.mkdtemp(prefix="medremind-test-shared-"))
    config.stash[_MADE_HERE] = folder
    os.environ[VARIABLE] = str(folder)


def remove_run_folder(config: pytest.Config) -> None:
    """On the controller (from ``pytest_unconfigure``): delete the run's shared folder."""
    folder = config.stash.get(_MADE_HERE, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
        os.environ.pop(VARIABLE, None)


def run_folder(config: pytest.Config) -> Path | None:
    """The run's shared folder on an xdist worker, or None (no xdist, or an external server)."""
    folder = os.environ.get(VARIABLE)
    if not folder or not hasattr(config, "workerinput") or os.environ.get("TEST_DATABASE_URL"):
        return None
    return Path(folder)


def migrated_copy(
    folder: Path, destination: Path, prepare: Callable[[str], Coroutine[Any, Any, None]]
) -> None:
    """Copy the run's migrated data directory to ``destination`` (which must not exist), making
    it first if no worker has: a server on it, ``prepare(admin_url)`` (settings, the migrated
    template), stopped."""
    pgdata = folder / "pgdata"
    with (folder / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not (folder / "ready").exists():
            shutil.rmtree(pgdata, ignore_errors=True)  # a worker that failed half-way
            with server_at(pgdata, delete=False) as url:
                asyncio.run(prepare(url))
            (folder / "ready").touch()
        # -a keeps the owner (the server's system user when run as root) and the modes
        subprocess.run(["cp", "-a", str(pgdata), str(destination)], check=True)
    (destination / "postmaster.pid").unlink(missing_ok=True)
