"""The claim and the render-ahead read, put together from the fragments of
``core/sql/dispatch.sql``.

Both read a message in the claimed-row layout (``claim_columns`` over ``claim_joins``): the claim
for the rows it leases (``claim_lease``), the render-ahead pass for the rows due soon
(``render_ahead_where``). One text for the columns and one for the joins, so that what the worker
renders ahead cannot drift from what it claims. Each statement begins with a comment that names
it where ``pg_stat_activity`` shows it.
"""

from __future__ import annotations

from core.sql import query


def _part(name: str) -> str:
    # Read at each call, not cached here: core.sql caches the file, and bench/dispatch_sql.py
    # swaps a variant's fragments in for its batches.
    return query("dispatch", name)


def claim() -> str:
    """Lease up to $2 due rows and return them in the claimed-row layout (CLAIM_COLUMNS)."""
    return (
        f"-- Claim (scheduler/claim_sql.py)\n{_part('claim_lease')}\n"
        f"select {_part('claim_columns')}\n  from claimed m\n"
        f"{_part('claim_joins')}\n{_part('claim_order')}"
    )


def render_ahead() -> str:
    """Pending messages due soon, in the claimed-row layout, without a lease."""
    return (
        "-- Render ahead (scheduler/render_ahead.py)\n"
        f"select {_part('claim_columns')}\n  from scheduled_messages m\n"
        f"{_part('claim_joins')}\n{_part('render_ahead_where')}"
    )


__all__ = ["claim", "render_ahead"]
