"""A refused API key says what was wrong with the request, over a real ``medremind web``.

Every refusal answered ``missing or invalid API key (Authorization: Bearer <key>)``: an integrator
who sent the key in ``X-API-Key``, or without the word ``Bearer``, or with a quote or a line end
pasted along, was told the same as one whose key was revoked. What the request itself shows is
named now; a well-formed key the service does not take (unknown or revoked) is still one answer,
so the answer tells nobody which keys exist.
"""

from __future__ import annotations

import httpx

from tests.web.processes import clinic_key

REFUSALS = [
    ({}, "no API key: send the header Authorization: Bearer <key>"),
    ({"X-API-Key": "{key}"}, "goes in the Authorization header"),
    ({"Authorization": "{key}"}, "the word Bearer is missing"),
    ({"Authorization": "Token {key}"}, "must read 'Bearer <key>', not 'Token ...'"),
    ({"Authorization": "Bearer '{key}'"}, "is not a MedRemind API key"),
    ({"Authorization": "Bearer mr_0123456789ab_wrong"}, "not known, or was revoked"),
]


async def test_a_refused_key_names_what_is_wrong(db, admin_conn, web_process):
    _, key = await clinic_key(db, admin_conn, "Key Clinic")
    _, base = await web_process()
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        for headers, says in REFUSALS:
            sent = {name: value.format(key=key) for name, value in headers.items()}
            answer = await http.get("/api/v1/patients", headers=sent)
            assert answer.status_code == 401, (headers, answer.text)
            error = answer.json()["error"]
            assert says in error["reason"], (headers, error)
            assert error["field"] == "Authorization", error
            assert key.split("_")[2] not in answer.text  # the secret is never echoed
        good = await http.get("/api/v1/patients", headers={"Authorization": f"Bearer {key}"})
        assert good.status_code == 200, good.text
