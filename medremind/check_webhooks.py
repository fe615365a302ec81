"""``medremind check``'s outgoing webhooks: can the workers sign them, which clinics' endpoints
are failing, and how far behind the deliveries are.

A subscription's signing secret is sealed with ``MEDREMIND_CREDENTIALS_KEY``: a deployment
without that key (or with another one) signs none of them, and every event of every clinic fails
after its retries, so that fails the check. A clinic's endpoint that is failing is printed (the
clinic fixes it, the retries go on), with its host only: a URL's path or query may hold the
receiver's token.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from core.credentials import CredentialsKeyMissing, SecretBox, SecretUnreadable, open_text
from core.sql import query


def _unreadable(box: SecretBox | None, secret: str) -> str | None:
    try:
        open_text(box, secret)
    except (CredentialsKeyMissing, SecretUnreadable) as exc:
        return str(exc)
    return None


def webhook_lines(
    subscriptions: Sequence[Any], backlog: Any, box: SecretBox | None
) -> tuple[list[str], bool]:
    """The report's lines on outgoing webhooks, and whether the deployment cannot sign them."""
    if not subscriptions:
        return ["Outgoing webhooks: no subscription"], False
    lines: list[str] = []
    why = [w for w in (_unreadable(box, s["secret"]) for s in subscriptions) if w is not None]
    if why:
        lines.append(
            f"Outgoing webhooks: CANNOT SIGN - the signing secret of {len(why)} of"
            f" {len(subscriptions)} subscription(s) cannot be opened ({why[0]}): their events"
            " all fail; give the worker the MEDREMIND_CREDENTIALS_KEY they were saved with"
        )
    for s in subscriptions:
        if s["retrying"]:
            answer = s["last_status_code"]
            last = f"HTTP {answer}" if answer is not None else "no HTTP answer"
            lines.append(
                f"Outgoing webhooks: FAILING - {s['clinic']}'s endpoint at"
                f" {urlsplit(s['url']).hostname}: {s['retrying']} delivery(ies) to be tried"
                f" again, the last attempt got {last} (GET /api/v1/webhooks/{{id}}/deliveries"
                " shows why)"
            )
    clinics = len({s["clinic"] for s in subscriptions})
    if not lines:
        lines.append(
            f"Outgoing webhooks: {len(subscriptions)} subscription(s) of {clinics} clinic(s),"
            " none failing"
        )
    if backlog["due"]:
        lines.append(
            f"Outgoing webhooks: {backlog['due']} due, the oldest"
            f" {backlog['oldest_seconds']:.0f} s late"
        )
    return lines, bool(why)


async def read_webhooks(conn: Any) -> tuple[list[Any], Any]:
    """The live subscriptions (with their retrying deliveries) and the due backlog."""
    subscriptions = await conn.fetch(query("webhooks", "subscriptions_for_check"))
    backlog = await conn.fetchrow(query("web", "webhook_backlog"))
    return list(subscriptions), backlog
