"""Reading a whole ``/api/v1`` list page by page, as an integrator's sync loop does."""

from __future__ import annotations

from typing import Any

import httpx


async def all_pages(
    http: httpx.AsyncClient,
    path: str,
    params: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Every row of ``GET path?params``, following ``next_cursor`` (at most 20 pages); each
    page must be a 200."""
    rows: list[dict[str, Any]] = []
    cursor = None
    for _ in range(20):
        query = {**params, **({"cursor": cursor} if cursor else {})}
        answer = await http.get(path, params=query, headers=headers)
        assert answer.status_code == 200, answer.text
        rows += answer.json()["data"]
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            return rows
    raise AssertionError("too many pages")
