"""The worker's outgoing webhook sender: claim due deliveries, sign, post, record, retry.

Events and their deliveries are written by database triggers in the transaction of the change they
report (migration 20260101008710), so a committed change always has its delivery row. This
module drains that table at least once per delivery, following the Standard Webhooks convention:

- ``webhook-id`` is the event's id (the same on every retry, so a receiver can de-duplicate);
- ``webhook-timestamp`` the attempt's Unix time; ``webhook-signature`` ``v1,<base64 HMAC-SHA256>``
  of ``id.timestamp.body`` with the subscription's ``whsec_`` secret (``standardwebhooks``);
- a 2xx answer delivers; anything else (or no answer within the timeout) is retried after the next
  wait of ``MEDREMIND_WEBHOOK_RETRY_SECONDS`` (with up to 10 % jitter), and fails after the last.

Claims are leases (``FOR UPDATE SKIP LOCKED``): any number of workers share the table, and a
delivery whose worker died is claimed again once its lease ran out.

Fairness: a pass keeps up to ``CONCURRENCY`` posts in flight and claims more as each one ends
(never more than it can start at once, so a claimed delivery never waits out its lease in the
worker), and a claim takes at most ``PER_SUBSCRIPTION`` of one subscription in flight over the
fleet (its live leases count; claims take turns under a transaction's advisory lock, so two
workers claiming at once cannot each take that many). A
clinic whose endpoint answers slowly or never (each attempt up to 15 s) holds that many posts;
the other clinics' webhooks go on in the rest. Before, a pass claimed the 50 oldest and waited
for all of them: a burst of 100 events to an endpoint that timed out held every other clinic's
webhooks for about 110 s (``bench/webhook_fairness.py``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import asyncpg
from standardwebhooks.webhooks import Webhook

from core.credentials import CredentialsKeyMissing, SecretBox, SecretUnreadable, open_text
from core.sql import query
from platforms.addresses import PublicResolver, refused_host

logger = logging.getLogger(__name__)

CONCURRENCY = 32  # posts in flight per worker (and its HTTP connections)
PER_SUBSCRIPTION = 8  # of one subscription (a clinic's endpoint) in flight over the fleet
RECLAIM_SECONDS = 1.0  # while posts are in flight, how often a pass looks for newly due ones
TIMEOUT_SECONDS = 10.0  # per attempt, connect to last byte (Standard Webhooks: 15 s at most)
RESOLVE_SECONDS = 5.0  # the address check's lookup before it: an attempt takes 15 s at most
LEASE_SECONDS = 60.0  # longer than an attempt, so a live sender never loses its claim
MAX_ANSWER_BYTES = 1024  # of the receiver's answer, kept in the log
MAX_ERROR_CHARS = 300


@dataclass(frozen=True, slots=True)
class Outcome:
    """One attempt: the HTTP status (None without an answer) and why it failed."""

    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def signed_headers(secret: str, msg_id: str, at: datetime, body: str) -> dict[str, str]:
    """The Standard Webhooks headers for ``body`` sent at ``at``."""
    signature = Webhook(secret).sign(msg_id=msg_id, timestamp=at, data=body)
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
        "user-agent": "MedRemind-Webhooks/1",
    }


def next_attempt_at(
    attempts: int, now: datetime, schedule: Sequence[float], jitter: Callable[[], float]
) -> datetime | None:
    """When to try again after ``attempts`` failed ones, or None when the schedule is spent."""
    if attempts > len(schedule):
        return None
    wait = schedule[attempts - 1]
    return now + timedelta(seconds=wait * (1 + 0.1 * jitter()))


async def refused_address(
    url: str, allow_private: bool, *, wait_seconds: float = RESOLVE_SECONDS
) -> str | None:
    """Why ``url`` may not be posted to (a private, loopback or link-local address, or a name
    not resolved within ``wait_seconds``), or None.

    Checked before each attempt, so a name that later resolves inside the network is refused too.
    """
    host = urlsplit(url).hostname or ""
    refused = await refused_host(host, allow_private, wait_seconds=wait_seconds)
    if refused is not None and refused.startswith("the address"):
        return "the endpoint's address is private, loopback or link-local"
    return refused


class WebhookSender:
    """Delivers due webhooks; ``run_once(now)`` is one pass (the worker calls it on a timer)."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        retry_schedule: Sequence[float],
        allow_private: bool = False,
        jitter: Callable[[], float] = random.random,
        box: SecretBox | None = None,
        resolve_seconds: float = RESOLVE_SECONDS,
    ) -> None:
        """``box``: opens the subscriptions' signing secrets (``MEDREMIND_CREDENTIALS_KEY``);
        ``resolve_seconds``: the address check's lookup before each attempt, at most."""
        self._pool = pool
        self._resolve_seconds = resolve_seconds
        self._box = box
        self._schedule = tuple(retry_schedule)
        self._allow_private = allow_private
        self._jitter = jitter
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS),
                # The addresses connected to are checked, not only those seen before: a name
                # may resolve elsewhere the second time (DNS rebinding).
                connector=aiohttp.TCPConnector(
                    limit=CONCURRENCY, resolver=PublicResolver(self._allow_private)
                ),
            )
        return self._session

    async def aclose(self) -> None:
        """Close the HTTP session; safe to call twice."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def _claim(self, now: datetime, free: int) -> list[asyncpg.Record]:
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(query("webhooks", "lock_claims"))
            rows: list[asyncpg.Record] = await conn.fetch(
                query("webhooks", "claim_deliveries"), now, free, LEASE_SECONDS, PER_SUBSCRIPTION
            )
        return rows

    async def run_once(self, now: datetime) -> int:
        """Deliver what is due until none is left that this worker may take (see the module
        docstring); returns how many deliveries were attempted. ``now`` is the pass's start;
        the pass's clock moves on from it, so what falls due while posts are in flight (to a
        slow endpoint) is taken in the same pass, not after it."""
        in_flight: set[asyncio.Task[None]] = set()
        attempted = 0
        started = time.monotonic()
        try:
            while True:
                free = CONCURRENCY - len(in_flight)
                at = now + timedelta(seconds=time.monotonic() - started)
                rows = await self._claim(at, free) if free > 0 else []
                attempted += len(rows)
                in_flight.update(asyncio.create_task(self._deliver(row)) for row in rows)
                if not in_flight:
                    return attempted
                done, in_flight = await asyncio.wait(
                    in_flight, timeout=RECLAIM_SECONDS, return_when=asyncio.FIRST_COMPLETED
                )
                for task in done:
                    task.result()  # a database error ends the pass, as before
        finally:
            # Ended by an error or cancelled (shutdown): the posts started are not left behind
            # running; an unrecorded one is claimed again when its lease runs out.
            for task in in_flight:
                task.cancel()
            await asyncio.gather(*in_flight, return_exceptions=True)

    async def _post(self, row: asyncpg.Record, at: datetime) -> Outcome:
        started = time.monotonic()

        def done(status: int | None, error: str | None) -> Outcome:
            # PostgreSQL's text takes no NUL: one in an endpoint's answer made the record raise
            # and end the pass, with the other clinics' posts in flight, pass after pass.
            if error is not None:
                error = error.replace("\x00", "\ufffd")
            return Outcome(status, error, int((time.monotonic() - started) * 1000))

        refused = await refused_address(
            row["url"], self._allow_private, wait_seconds=self._resolve_seconds
        )
        if refused is not None:
            return done(None, refused)
        try:
            secret = open_text(self._box, row["secret"])
        except (SecretUnreadable, CredentialsKeyMissing) as exc:
            return done(None, f"the subscription's signing secret cannot be read: {exc}")
        body = json.dumps(row["payload"], separators=(",", ":"), ensure_ascii=False)
        headers = signed_headers(secret, f"msg_{row['event_id'].hex}", at, body)
        try:
            async with self._http().post(
                row["url"], data=body.encode(), headers=headers, allow_redirects=False
            ) as response:
                answer = await response.content.read(MAX_ANSWER_BYTES)
                error = None
                if not 200 <= response.status < 300:
                    text = answer.decode("utf-8", "replace")[:MAX_ERROR_CHARS]
                    error = f"HTTP {response.status}: {text}".strip()
                return done(response.status, error)
        except TimeoutError:
            return done(None, f"no answer within {TIMEOUT_SECONDS:g} s")
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            return done(None, f"{type(exc).__name__}: {str(exc)[:MAX_ERROR_CHARS]}")

    async def _deliver(self, row: asyncpg.Record) -> None:
        at = datetime.now(UTC)  # the attempt's own time: receivers check the signed timestamp
        if row["disabled_at"] is not None:
            outcome = Outcome(None, "subscription deleted", 0)
        else:
            outcome = await self._post(row, at)
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                query("webhooks", "record_attempt"),
                row["id"],
                at,
                outcome.status_code,
                outcome.error,
                outcome.duration_ms,
            )
            if outcome.delivered:
                await conn.execute(
                    query("webhooks", "record_delivered"), row["id"], at, outcome.status_code
                )
                return
            final = "cancelled" if row["disabled_at"] is not None else "failed"
            retry = (
                None
                if final == "cancelled"
                else next_attempt_at(row["attempts"], at, self._schedule, self._jitter)
            )
            await conn.execute(
                query("webhooks", "record_failed"),
                row["id"],
                outcome.status_code,
                outcome.error,
                retry,
                final,
            )
        logger.info(
            "webhook attempt failed",
            extra={
                "delivery_id": str(row["id"]),
                "status_code": outcome.status_code,
                "retry": retry is not None,
            },
        )


def sender_from_settings(pool: asyncpg.Pool, settings: Any) -> WebhookSender:
    """The sender as ``MEDREMIND_WEBHOOK_*`` configure it."""
    return WebhookSender(
        pool,
        retry_schedule=settings.webhook_retry_schedule,
        allow_private=settings.webhook_allow_private,
        box=SecretBox.from_settings(settings),
    )
