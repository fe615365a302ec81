"""``medremind check``'s breaker lines (medremind.check_breakers) for each state a row of
``provider_breakers`` can be in: a table of rows as ``open_for_check`` returns them, no clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from medremind.check_breakers import breaker_lines

NOW = datetime(2026, 12, 6, 22, 0, tzinfo=UTC)


def _row(**changes: Any) -> dict[str, Any]:
    row = {
        "account": "sms:+15005550006",
        "channel": "sms",
        "opened_at": NOW - timedelta(seconds=40),
        "open_until": NOW + timedelta(seconds=20),
        "failures": 5,
        "refused": None,
        "probe_by": None,
        "probe_until": None,
        "now": NOW,
        "workers": 2,
    }
    return row | changes


@pytest.mark.parametrize(
    ("row", "line"),
    [
        (
            _row(),
            "Breakers: OPEN - sms account sms:…0006 since 2026-12-06 21:59:20 UTC, its messages"
            " wait (attempts unspent) until 2026-12-06 22:00:20 UTC (in 20 s): the provider keeps"
            " failing (5 consecutive failure(s)); no probe out",
        ),
        (
            _row(
                account="telegram:7123456789",
                channel="telegram",
                open_until=NOW - timedelta(seconds=2),
                refused="Telegram rejected the bot token",
                probe_by="host-a:123",
                probe_until=NOW + timedelta(seconds=60),
            ),
            "Breakers: HALF-OPEN - telegram account telegram:…6789 since 2026-12-06 21:59:20 UTC,"
            " cooldown over at 2026-12-06 21:59:58 UTC: the provider refused its credentials"
            " (Telegram rejected the bot token); a probe is out (by host-a:123, answered by"
            " 2026-12-06 22:01:00 UTC)",
        ),
        (
            # The probe's grant ran out unanswered (its worker died): the next asks again.
            _row(
                open_until=NOW - timedelta(seconds=2),
                probe_by="host-a:123",
                probe_until=NOW - timedelta(seconds=1),
            ),
            "Breakers: HALF-OPEN - sms account sms:…0006 since 2026-12-06 21:59:20 UTC, cooldown"
            " over at 2026-12-06 21:59:58 UTC: the provider keeps failing (5 consecutive"
            " failure(s)); no probe out yet: the next worker with a message for it sends one",
        ),
    ],
)
def test_each_state_is_one_line_without_the_accounts_number(row: dict[str, Any], line: str) -> None:
    assert breaker_lines([row], 60) == [line]


def test_open_breakers_with_no_worker_alive_say_nothing_probes_them() -> None:
    lines = breaker_lines([_row(workers=0)], 60)
    assert lines[-1] == (
        "Breakers: NO WORKER heard from in the last 60 s - nothing probes the open breakers"
        " above (is `medremind worker` running?)"
    )
    assert breaker_lines([], 60) == ["Breakers: all closed - none open in the fleet"]
