"""``GET /healthz`` (the process answers) and ``GET /readyz`` (database reachable, migrated)."""

from __future__ import annotations

import asyncio
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse

from core.migrate import MigrationError, discover
from core.sql import query
from medremind.web.state import web_state

logger = logging.getLogger(__name__)

# A readiness probe that hangs is worse than one that fails: the router stops waiting anyway.
READY_TIMEOUT_S = 3.0


async def healthz(request: Request) -> JSONResponse:
    """Liveness: no dependencies, so a database outage does not get the process restarted."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """Readiness: 200 when the database answers and every migration file is applied, else 503."""
    state = web_state(request)
    try:
        async with asyncio.timeout(READY_TIMEOUT_S):
            async with state.pool.acquire() as conn:
                rows = await conn.fetch(query("web", "migration_versions"))
    except Exception as exc:  # any failure to reach the database means "not ready"
        logger.warning("readiness: database unreachable", extra={"error_type": type(exc).__name__})
        return _not_ready("database unreachable")
    applied = {r["version"]: r["checksum"] for r in rows}
    try:
        files = discover()
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
