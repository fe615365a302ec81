"""The web's ``/metrics`` shows the outgoing webhook backlog.

Before: no metric said anything about outgoing webhooks: a fleet whose workers had stopped
sending them (or could not keep up) showed nothing to scrape or alert on, while clinics'
systems missed their events. Now ``medremind_outgoing_webhooks_due`` counts the deliveries due
and not being posted (a retry waiting for its time is not due; one whose sender's lease ran out
is), and ``medremind_outgoing_webhooks_due_oldest_age_seconds`` how late the oldest is. Over the
real app and database.
"""

from __future__ import annotations

import re
from typing import Any

import asyncpg
import httpx

from tests import factories


def _sample(metrics: str, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", metrics, re.M)
    assert found is not None, metrics[:2000]
    return float(found.group(1))


async def test_metrics_count_the_due_outgoing_webhooks(
    web: httpx.AsyncClient, admin_conn: asyncpg.Connection, org: Any
) -> None:
    await factories.create_webhook_event(
        admin_conn, org["id"], "https://hooks.example.org/in", "whsec_" + "A" * 32
    )
    emit = "select public.emit_webhook_event($1, 'message.status', '{}')"
    for _ in range(3):
        await admin_conn.execute(emit, org["id"])
    ids = [r["id"] for r in await admin_conn.fetch("select id from webhook_deliveries order by id")]
    await admin_conn.execute(
        "update webhook_deliveries set next_attempt_at = now() - interval '10 minutes'"
        " where id = $1",
        ids[0],
    )
    # A retry waiting for its time: not due.
    await admin_conn.execute(
        "update webhook_deliveries set attempts = 1, next_attempt_at = now() + interval '5 minutes'"
        " where id = $1",
        ids[1],
    )
    # Being posted (a live lease): not waiting.
    await admin_conn.execute(
        "update webhook_deliveries set status = 'delivering', attempts = 1,"
        " locked_until = now() + interval '1 minute' where id = $1",
        ids[2],
    )
    metrics = (await web.get("/metrics")).text
    assert _sample(metrics, "medremind_outgoing_webhooks_due") == 2
    assert _sample(metrics, "medremind_outgoing_webhooks_due_oldest_age_seconds") >= 600
