"""``medremind check``'s circuit breakers: the fleet's open ones, read from
``provider_breakers`` (the table every worker and web process shares, scheduler/fleet_breakers.py).

One line per open breaker, however many processes hold it, and whichever process opened it (a
web process's bot replies open one too, with no worker running): channel, account label (no
phone number, login or token: :func:`~scheduler.breaker.account_label`), since when, until when
its messages wait, why (the provider refused the credentials, or keeps failing) and whether a
probe is out. Times are the database's, in UTC, so hosts' clocks do not matter. An open breaker
is a provider's outage, printed loudly, not a failed check.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from core.sql import query
from scheduler.breaker import account_label


async def read_breakers(conn: asyncpg.Connection, alive_seconds: float) -> list[Any]:
    """The open breakers, each with the database's now and how many workers are alive."""
    return list(await conn.fetch(query("breakers", "open_for_check"), alive_seconds))


def _utc(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def _line(row: Any) -> str:
    """One open breaker, as ``open_for_check`` returns it."""
    now: datetime = row["now"]
    where = f"{row['channel']} account {account_label(row['account'])}"
    if row["refused"]:
        why = f"the provider refused its credentials ({row['refused']})"
    else:
        why = f"the provider keeps failing ({row['failures']} consecutive failure(s))"
    if row["probe_until"] is not None and row["probe_until"] > now:
        probe = f"a probe is out (by {row['probe_by']}, answered by {_utc(row['probe_until'])})"
    elif row["open_until"] > now:
        probe = "no probe out"
    else:  # a worker with a message for the account asks for the probe at its next read
        probe = "no probe out yet: the next worker with a message for it sends one"
    if row["open_until"] > now:
        wait = (row["open_until"] - now).total_seconds()
        return (
            f"Breakers: OPEN - {where} since {_utc(row['opened_at'])}, its messages wait"
            f" (attempts unspent) until {_utc(row['open_until'])} (in {wait:.0f} s): {why};"
            f" {probe}"
        )
    return (
        f"Breakers: HALF-OPEN - {where} since {_utc(row['opened_at'])}, cooldown over at"
        f" {_utc(row['open_until'])}: {why}; {probe}"
    )


def breaker_lines(rows: Sequence[Any], alive_seconds: float) -> list[str]:
    """The report's lines: each open breaker, and a warning when no worker is alive to probe."""
    if not rows:
        return ["Breakers: all closed - none open in the fleet"]
    lines = [_line(row) for row in rows]
    if not rows[0]["workers"]:
        lines.append(
            f"Breakers: NO WORKER heard from in the last {alive_seconds:.0f} s - nothing probes"
            " the open breakers above (is `medremind worker` running?)"
        )
    return lines


__all__ = ["breaker_lines", "read_breakers"]
