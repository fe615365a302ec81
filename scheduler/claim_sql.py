"""The claim's statements, put together from the fragments of ``core/sql/dispatch.sql``.

Three statements read a message in the claimed-row layout (``claim_columns`` over
``claim_joins``): the claim, the render-ahead pass (which also reads the versions of the rows it
read) and the details a versions-only claim reads for the messages it was not read ahead. The
claim and the versions-only claim lease alike (``claim_lease``). One text for each part, so
that the statements cannot drift apart. Each begins with a comment that names it where
``pg_stat_activity`` shows it (the claims' begin with "-- Claim").
"""

from __future__ import annotations

from functools import cache

from core.sql import query


def _part(name: str) -> str:
    return query("dispatch", name)


@cache
def claim() -> str:
    """Lease up to $2 due rows and return them in the claimed-row layout (CLAIM_COLUMNS)."""
    return (
        f"{_part('claim_lease')}\nselect {_part('claim_columns')}\n  from claimed m\n"
        f"{_part('claim_joins')}\n{_part('claim_order')}"
    )


@cache
def claim_versions() -> str:
    """Lease as :func:`claim` does, but return only the id, the lease, the attempts and the
    versions of the rows a claim reads (CLAIM_VERSION_COLUMNS): the message's as it was before
    the lease (``free``), its dose's, medicine's, appointment's, caregiver's and chat's."""
    return (
        f"{_part('claim_lease')}\n"
        "select m.id, m.lease_token, m.attempts, f.version as message_version,\n"
        f"{_part('claim_row_versions')}\n"
        "  from claimed m join free f on f.id = m.id\n"
        f"{_part('claim_joins')}\n{_part('claim_order')}"
    )


@cache
def render_ahead() -> str:
    """Pending messages due soon in the claimed-row layout, then their versions (the message's
    and those of :func:`claim_versions`)."""
    return (
        "-- Render ahead (scheduler/render_ahead.py)\n"
        f"select {_part('claim_columns')},\n"
        f"m.xmin as message_version, {_part('claim_row_versions')}\n"
        f"  from scheduled_messages m\n{_part('claim_joins')}\n{_part('render_ahead_where')}"
    )


@cache
def claim_details() -> str:
    """Messages leased by a versions-only claim, in the claimed-row layout."""
    return (
        "-- Claimed messages read in full after a versions-only claim\n"
        f"select {_part('claim_columns')}\n  from scheduled_messages m\n"
        f"{_part('claim_joins')}\n{_part('claim_details_where')}"
    )


__all__ = ["claim", "claim_details", "claim_versions", "render_ahead"]
