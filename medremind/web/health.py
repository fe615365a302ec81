"""``GET /healthz`` (the process answers) and ``GET /readyz`` (database reachable, migrated)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from core.migrate import Migration, MigrationError, discover
from core.sql import query
from medremind.web.state import web_state

logger = logging.getLogger(__name__)

# A readiness probe that hangs is worse than one that fails: the router stops waiting anyway.
READY_TIMEOUT_S = 3.0


async def healthz(request: Request) -> JSONResponse:
    """Liveness: no dependencies, so a database outage does not get the process restarted."""
    return JSONResponse({"status": "ok"})


# /readyz answers anyone: the database is asked at most once per this many seconds per process,
# by one probe at a time (a load balancer probes every few seconds; a flood of probes would
# otherwise hold every pool connection), and the migration files are read once.
READY_REUSE_S = 2.0


class _Readiness:
    """The applied migrations as the database last told them, shared by the probes of a moment."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._read_at = -READY_REUSE_S
        self._applied: dict[str, str] | None = None
        self._files: list[Migration] | None = None

    async def applied(self, state: Any) -> dict[str, str] | None:
        """``{version: checksum}``, or None when the database did not answer."""
        async with self._lock:
            loop = asyncio.get_running_loop()
            if loop.time() - self._read_at >= READY_REUSE_S:
                try:
                    async with asyncio.timeout(READY_TIMEOUT_S):
                        async with state.pool.acquire() as conn:
                            rows = await conn.fetch(query("web", "migration_versions"))
                    self._applied = {r["version"]: r["checksum"] for r in rows}
                except Exception as exc:  # any failure to reach the database: "not ready"
                    logger.warning(
                        "readiness: database unreachable", extra={"error_type": type(exc).__name__}
                    )
                    self._applied = None
                self._read_at = loop.time()
            return self._applied

    def files(self) -> list[Migration]:
        """The migration files shipped with this process (read and hashed once)."""
        if self._files is None:
            self._files = discover()
        return self._files


async def readyz(request: Request) -> JSONResponse:
    """Readiness: 200 when the database answers and every migration file is applied, else 503."""
    state = web_state(request)
    readiness = getattr(request.app.state, "readiness", None)
    if readiness is None:  # one per app (tests run several apps in one process)
        readiness = request.app.state.readiness = _Readiness()
    applied = await readiness.applied(state)
    if applied is None:
        return _not_ready("database unreachable")
    try:
        files = readiness.files()
    except MigrationError:
        return _not_ready("migration files are malformed")
    missing = [m.version for m in files if m.version not in applied]
    changed = [m.version for m in files if applied.get(m.version, m.checksum) != m.checksum]
    if missing:
        return _not_ready(f"{len(missing)} migration(s) pending")
    if changed:
        return _not_ready(f"{len(changed)} applied migration(s) changed since")
    return JSONResponse({"status": "ready", "migrations": len(applied)})


def _not_ready(reason: str) -> JSONResponse:
    return JSONResponse(
        {"status": "not_ready", "error": {"status": 503, "code": "unavailable", "reason": reason}},
        status_code=503,
    )
