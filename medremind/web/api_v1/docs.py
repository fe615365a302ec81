"""``GET /api/v1/docs``: an interactive page (Swagger UI) over ``/api/v1/openapi.json``.

Swagger UI's files come from the ``swagger-ui-bundle-v2`` wheel (the connexion project's bundle
of the official distribution) and are served from here: no CDN, so the page works where the
clinic runs the service offline. The page has no inline script, so a strict CSP can forbid them.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from starlette.responses import FileResponse, HTMLResponse, Response
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

from medremind.web.errors import NotFound

# No API key, no error responses of the API's own: a page and its files.
router = APIRouter(tags=["docs"])

ASSETS_PREFIX = "/api/v1/docs/assets"
# The files the page loads, by name (nothing else in the folder is served).
_ASSETS = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-standalone-preset.js": "text/javascript",
    "favicon-32x32.png": "image/png",
}
_INIT = """window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/api/v1/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout",
  });
});
"""
_PAGE = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>MedRemind API</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link rel="stylesheet" href="{ASSETS_PREFIX}/swagger-ui.css">
  <link rel="icon" type="image/png" href="{ASSETS_PREFIX}/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{ASSETS_PREFIX}/swagger-ui-bundle.js"></script>
  <script src="{ASSETS_PREFIX}/swagger-ui-standalone-preset.js"></script>
  <script src="{ASSETS_PREFIX}/init.js"></script>
</body>
</html>
"""
_CACHE = {"Cache-Control": "public, max-age=86400"}


@router.get(
    "/docs",
    response_class=HTMLResponse,
    summary="This document as an interactive page (Swagger UI, served locally)",
    operation_id="apiDocs",
)
async def docs_page() -> Response:
    """Needs no key, like /api/v1/openapi.json."""
    return HTMLResponse(_PAGE)


@router.get("/docs/assets/{name}", include_in_schema=False)
async def docs_asset(name: str) -> Response:
    """One of Swagger UI's files, or the page's start-up script."""
    if name == "init.js":
        return Response(_INIT, media_type="text/javascript", headers=_CACHE)
    if name not in _ASSETS:
        raise NotFound("asset")
    return FileResponse(Path(swagger_ui_path) / name, media_type=_ASSETS[name], headers=_CACHE)
