"""A cursor is the client's to send back, so it can be anything: every list answers a forged one
with a 422 naming ``cursor``, never a 500.

Found by attack: a cursor decoding to ``["patients", "<a time>", 5]`` (a number where the row's
id goes) reached ``uuid.UUID(5)``, which raises AttributeError, not the ValueError the decoder
turned into a 422, and every paged list answered 500 ("internal error").
"""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx

from tests.web.processes import clinic_key

AT = "2026-01-01T00:00:00+00:00"
# JSON that is no cursor this API gave out, in each place of its three fields.
FORGED: list[Any] = [
    ["{listing}", AT, 5],
    ["{listing}", AT, [1]],
    ["{listing}", AT, {"id": 1}],
    ["{listing}", AT, True],
    ["{listing}", AT, 1.5],
    ["{listing}", 5, "00000000-0000-0000-0000-000000000000"],
    ["{listing}", [AT], "00000000-0000-0000-0000-000000000000"],
    [["{listing}"], AT, "00000000-0000-0000-0000-000000000000"],
    [AT, 5],
    5,
    "x",
    None,
]


def _cursor(fields: Any, listing: str) -> str:
    raw = json.dumps(fields).replace("{listing}", listing).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def test_forged_cursors_are_a_422_naming_the_cursor_on_every_list(
    db, admin_conn, web_process
):
    _, key = await clinic_key(db, admin_conn, "Cursor Clinic")
    _, base = await web_process()
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
        created = await http.post(
            "/api/v1/webhooks",
            json={"url": "https://hooks.example.com/in", "event_types": ["message.status"]},
        )
        assert created.status_code == 201, created.text
        deliveries = f"webhooks/{created.json()['id']}/deliveries"
        for listing in ("messages", "patients", "appointments", deliveries):
            for fields in FORGED:
                cursor = _cursor(fields, listing)
                answer = await http.get(f"/api/v1/{listing}", params={"cursor": cursor})
                assert answer.status_code == 422, (listing, fields, answer.text)
                assert answer.json()["error"]["field"] == "cursor", answer.text
