"""``Allow`` and ``OPTIONS`` name every method a path takes, not the first route's.

Integrator run: ``OPTIONS /api/v1/patients`` answered 405 with ``Allow: POST`` (GET lists them
too), ``PUT /api/v1/patients/{id}`` was told ``Allow: GET`` (PATCH and DELETE are there too), and
the patient app's ``/app/api/settings`` (GET and POST) the same. Starlette took the first route
whose path matched; each path's methods are the union over its routes."""

from __future__ import annotations

import re
from collections import defaultdict

import httpx
from starlette.routing import compile_path

from medremind.web.api_v1.application import build_api, operations

SOME_ID = "00000000-0000-4000-8000-000000000001"


def _paths() -> dict[str, set[str]]:
    """Each API path (parameters filled in) and the methods of the operations it reaches (a
    literal path may reach one with a parameter: PUT /templates/preview is /templates/{name})."""
    routes = [(p, compile_path(p)[0], m) for p, m, _ in operations(build_api())]
    methods: dict[str, set[str]] = defaultdict(set)
    for template, _, _ in routes:
        path = re.sub(r"\{[^}]+\}", SOME_ID, template)
        for _, other, route_methods in routes:
            if other.match(path):
                methods["/api/v1" + path] |= route_methods
    return methods


def _allow(answer: httpx.Response) -> set[str]:
    return {m.strip() for m in answer.headers["allow"].split(",")}


async def test_options_and_405_name_every_method_of_the_path(client: httpx.AsyncClient) -> None:
    paths = _paths()
    assert paths["/api/v1/patients"] >= {"GET", "POST"}
    assert paths["/api/v1/openapi.json"] == {"GET"}
    for path, methods in paths.items():
        options = await client.options(path)
        assert options.status_code == 204, (path, options.text)
        assert _allow(options) == methods | {"OPTIONS"}, path
        refused = next(m for m in ("PUT", "DELETE", "PATCH", "POST") if m not in methods)
        answer = await client.request(refused, path)
        assert answer.status_code == 405, (path, refused, answer.text)
        assert _allow(answer) == methods | {"OPTIONS"}, path
        assert answer.json()["error"]["code"] == "method_not_allowed"
        assert ", ".join(sorted(methods | {"OPTIONS"})) in answer.json()["error"]["reason"]


async def test_the_outer_apps_paths_too(client: httpx.AsyncClient) -> None:
    settings = await client.options("/app/api/settings")
    assert settings.status_code == 204
    assert _allow(settings) == {"GET", "HEAD", "POST", "OPTIONS"}
    webhook = await client.get("/telegram/webhook")
    assert webhook.status_code == 405
    assert _allow(webhook) == {"POST", "OPTIONS"}
    # No route at the path: still a 404, not an empty Allow.
    assert (await client.options("/api/v1/nothing-here")).status_code == 404
    assert (await client.options("/nothing-here")).status_code == 404
