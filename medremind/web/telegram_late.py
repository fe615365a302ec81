"""When a message Telegram delivered late was written, on this process's clock.

Telegram keeps a bot's updates for a day while its webhook fails, then delivers them in a burst:
a patient's "taken", typed after the evening's reminder during an outage of ours, arrived the
next morning and was routed to the morning's reminder, open by then, recording a dose not taken
(found in session 24). A message's ``date`` is when Telegram took it; how long before its
receipt that was (by the wall clock, Telegram's time being real time) places it on the clock the
turn runs by, which tests and the planner move: :func:`written_at`. The conversation engine then
answers with the questions open at that time (bot.routing.open_questions).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

# Telegram delivers within seconds; a message older than this on arrival was held back.
LATE_SECONDS = 120.0


def written_at(update: dict[str, Any], received: datetime, wall: float) -> float | None:
    """When ``update``'s message was written as a Unix time on the clock that says ``received``
    (the receiving process's; ``wall``: ``time.time()`` at receipt); None when it came on time
    or names no time."""
    message = update.get("message")
    date = message.get("date") if type(message) is dict else None
    if type(date) is not int:
        return None
    delay = wall - date
    if delay < LATE_SECONDS:
        return None
    return received.timestamp() - delay


__all__ = ["LATE_SECONDS", "written_at"]
