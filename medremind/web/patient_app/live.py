"""Live reminders over a WebSocket to the open patient app (the web side of ``websocket``).

``/app/ws`` takes the session cookie. While a socket is open its patient counts as online: a
``patient_app_connections`` row, refreshed every :data:`HEARTBEAT_SECONDS` (a process that dies
leaves rows that go stale on their own). The worker's sender (:mod:`platforms.websocket`) offers
a reminder as a ``websocket_deliveries`` row and NOTIFYs ``medremind_websocket``; the
:class:`LiveHub` of every web process wakes (and also at every reconnect of its LISTEN, and every
heartbeat, so a lost notification only delays), sends the offers of its own patients to their
sockets, and records the browser's acknowledgement, which the worker is waiting for.

A socket may only acknowledge its own patient's deliveries; frames are capped at
:data:`MAX_FRAME_BYTES` (uvicorn's ``ws_max_size``), a patient has at most
:data:`MAX_SOCKETS_PER_PATIENT` sockets on a process (more are closed with code 4429), and a
revoked or expired session is closed with code 4401 at the next heartbeat. A handshake's cookie
is checked as ``/app/api``'s are (:func:`.sessions.session_of`): one with no session is closed
with 4401, and one from an address held for forged cookies with 4429, without a lookup.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from core.sql import query
from medremind.web import json_input
from medremind.web.errors import ApiError
from medremind.web.patient_app.push import new_app_address
from medremind.web.patient_app.sessions import session_of
from medremind.web.state import WebState
from platforms.websocket import ONLINE_SECONDS
from scheduler.listener import DueListener
from scheduler.planning_followups import catch_up_before_return

logger = logging.getLogger(__name__)

NOTIFY_CHANNEL = "medremind_websocket"
HEARTBEAT_SECONDS = 15.0
# What a browser sends is an acknowledgement of a few dozen bytes.
MAX_FRAME_BYTES = 4096
# Close codes the app understands: 4401 = sign in again (do not reconnect).
CLOSE_SIGNED_OUT = 4401
CLOSE_OTHER_SITE = 4403
# A patient's open tabs and devices on one web process: each holds a socket and a connection row
# refreshed every heartbeat; past this a session could open sockets without end. The app retries
# a refused one with its backoff (it gets in once another closes).
MAX_SOCKETS_PER_PATIENT = 8
CLOSE_TOO_MANY = 4429
# Old sign-in links and sessions are deleted at the first heartbeat and then about hourly.
_HOUSEKEEPING_BEATS = 240
_DB_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)


@dataclass(eq=False)
class _Socket:
    websocket: WebSocket
    patient_id: UUID
    session_hash: str
    connection_id: UUID
    sent: set[UUID] = field(default_factory=set)


class LiveHub:
    """The open sockets of this web process, and the loops that feed them."""

    def __init__(self, state: WebState) -> None:
        self._state = state
        self._sockets: set[_Socket] = set()
        # The same sockets by patient: a delivery goes to every open tab of its patient.
        self._by_patient: dict[UUID, set[_Socket]] = {}
        # Handshakes of a patient between the check of MAX_SOCKETS_PER_PATIENT and registering.
        self._opening: dict[UUID, int] = {}
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._listener: DueListener | None = None
        self._beats = 0

    async def start(self) -> None:
        """Start listening and the heartbeat; safe to call twice."""
        if self._tasks:
            return
        self._listener = DueListener(
            self._state.database.connect,
            lambda _due: self._wake.set(),
            channel=NOTIFY_CHANNEL,
            keepalive=HEARTBEAT_SECONDS,
        )
        self._tasks = [
            asyncio.create_task(self._listener.run(), name="live-listen"),
            asyncio.create_task(self._pump(), name="live-pump"),
            asyncio.create_task(self._heartbeat(), name="live-heartbeat"),
        ]

    async def stop(self) -> None:
        """Close every socket and stop the loops; safe to call twice."""
        if self._listener is not None:
            self._listener.stop()
        for socket in list(self._sockets):
            with contextlib.suppress(Exception):
                await socket.websocket.close(1001)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def serve(self, websocket: WebSocket) -> None:
        """One patient's socket, from handshake to close."""
        state = self._state
        host = websocket.headers.get("host", "")
        origin = websocket.headers.get("origin")
        allowed = {f"http://{host}", f"https://{host}", state.settings.public_base_url}
        if origin is not None and origin not in allowed:
            await websocket.close(CLOSE_OTHER_SITE)
            return
        try:
            session_hash, row = await session_of(websocket)
        except ApiError as refused:
            await websocket.accept()
            # 4429 (an address held for forged cookies): the app retries with its backoff.
            await websocket.close(CLOSE_TOO_MANY if refused.status == 429 else CLOSE_SIGNED_OUT)
            return
        pool = state.pool
        await websocket.accept()
        patient_id = row["patient_id"]
        # Sockets still opening count too: many handshakes at once must not all get in.
        opening = self._opening.get(patient_id, 0)
        if len(self._by_patient.get(patient_id, ())) + opening >= MAX_SOCKETS_PER_PATIENT:
            await websocket.close(CLOSE_TOO_MANY)
            return
        self._opening[patient_id] = opening + 1
        try:
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute(query("websocket", "lock_patient_for_app_socket"), patient_id)
                # The app's channel may end an unreachable spell: the spell's pass first.
                await catch_up_before_return(conn, patient_id, state.clock(), state.settings)
                # Online first: the websocket channel leads the order once they use the app.
                await conn.fetchrow(
                    query("webpush", "ensure_app_contact"),
                    patient_id,
                    "websocket",
                    new_app_address(),
                )
                await conn.execute(
                    query("webpush", "put_channel_first"), patient_id, "websocket", None
                )
                connection_id = await conn.fetchval(
                    query("websocket", "open_connection"), patient_id
                )
            socket = _Socket(websocket, patient_id, session_hash, connection_id)
            self._sockets.add(socket)
            self._by_patient.setdefault(patient_id, set()).add(socket)
        finally:
            left = self._opening.pop(patient_id) - 1
            if left:
                self._opening[patient_id] = left
        self._wake.set()  # an offer may be waiting for exactly this socket
        try:
            while True:
                text = await websocket.receive_text()
                await self._on_frame(socket, text)
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            self._sockets.discard(socket)
            tabs = self._by_patient.get(patient_id)
            if tabs is not None:
                tabs.discard(socket)
                if not tabs:
                    del self._by_patient[patient_id]
            with contextlib.suppress(*_DB_ERRORS):
                await pool.execute(query("websocket", "close_connection"), connection_id)

    async def _on_frame(self, socket: _Socket, text: str) -> None:
        try:
            # Hostile JSON (too deep, NaN, ...) is UnsafeJson, a ValueError: ignored like any junk.
            frame: Any = json_input.decode(text.encode("utf-8", "surrogatepass"))
            delivery_id = UUID(frame["id"]) if frame.get("type") == "ack" else None
        except (ValueError, TypeError, KeyError, AttributeError):
            return  # not ours to answer: the app only sends acknowledgements
        if delivery_id is not None:
            await self._state.pool.execute(
                query("websocket", "acknowledge_delivery"), delivery_id, socket.patient_id
            )

    async def _pump(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if not self._sockets:
                continue
            try:
                await self._deliver()
            except _DB_ERRORS as exc:
                logger.warning("live delivery lookup failed", extra={"error": type(exc).__name__})

    async def _deliver(self) -> None:
        patients = list(self._by_patient)
        rows = await self._state.pool.fetch(query("websocket", "pending_deliveries"), patients)
        for row in rows:
            frame = json.dumps({"type": "reminder", "id": str(row["id"]), **row["payload"]})
            for socket in list(self._by_patient.get(row["patient_id"], ())):
                if row["id"] in socket.sent:
                    continue
                socket.sent.add(row["id"])
                if len(socket.sent) > 1000:  # offers live seconds; keep the memory bounded
                    socket.sent = {row["id"]}
                with contextlib.suppress(Exception):
                    await socket.websocket.send_text(frame)

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                await self._beat()
            except _DB_ERRORS as exc:
                logger.warning("live heartbeat failed", extra={"error": type(exc).__name__})
            self._wake.set()

    async def _beat(self) -> None:
        pool = self._state.pool
        sockets = list(self._sockets)
        if sockets:
            await pool.execute(query("websocket", "heartbeat"), [s.connection_id for s in sockets])
            valid = {
                r["token_hash"]
                for r in await pool.fetch(
                    query("patient_app", "live_sessions"),
                    [s.session_hash for s in sockets],
                    self._state.clock(),
                )
            }
            for socket in sockets:
                if socket.session_hash not in valid and (
                    socket.websocket.client_state == WebSocketState.CONNECTED
                ):
                    with contextlib.suppress(Exception):
                        await socket.websocket.close(CLOSE_SIGNED_OUT)
        await pool.execute(query("websocket", "forget_stale_connections"), ONLINE_SECONDS * 4)
        self._beats += 1
        if self._beats % _HOUSEKEEPING_BEATS == 1:
            await pool.execute(query("patient_app", "forget_old_sign_ins"), self._state.clock())


async def live_socket(websocket: WebSocket) -> None:
    """``/app/ws``."""
    hub: LiveHub = websocket.app.state.patient_live
    await hub.serve(websocket)


__all__ = ["MAX_FRAME_BYTES", "MAX_SOCKETS_PER_PATIENT", "LiveHub", "live_socket"]
