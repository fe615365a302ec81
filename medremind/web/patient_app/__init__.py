"""The patient web app: a small installable page (PWA) and its JSON API under ``/app``.

Plain HTML, CSS and JavaScript from ``static/`` (no build step); the service worker is served
from ``/app/sw.js`` so its scope is the app. Every ``/app/api`` call but sign-in needs the
session cookie (:mod:`.sessions`); bodies go through the web's body cap and hostile-JSON checks
(:func:`medremind.web.api_v1.common.json_body`).
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route, WebSocketRoute

from medremind.web.errors import ApiError
from medremind.web.patient_app import live, push, settings, sign_in, today

STATIC_DIR = Path(__file__).resolve().parent / "static"
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".webmanifest": "application/manifest+json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
# The page runs only our own scripts and talks only to us (the WebSocket too); no framing.
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
        " connect-src 'self' ws: wss:; manifest-src 'self'; worker-src 'self';"
        " frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def _file(name: str, *, cache: bool = True) -> Response:
    path = STATIC_DIR / name
    headers = dict(_HEADERS)
    # The shell and the worker must update at once; icons and styles may be cached a day.
    headers["Cache-Control"] = "public, max-age=86400" if cache else "no-cache"
    return FileResponse(path, media_type=_TYPES[path.suffix], headers=headers)


async def index(request: Request) -> Response:
    """The app's page."""
    return _file("index.html", cache=False)


async def service_worker(request: Request) -> Response:
    """The service worker, at the app's root so its scope is ``/app/``."""
    response = _file("sw.js", cache=False)
    response.headers["Service-Worker-Allowed"] = "/app/"
    return response


async def manifest(request: Request) -> Response:
    """The web app manifest (what installing the app shows)."""
    return _file("manifest.webmanifest")


# The files /app/static/{name} serves (and the access log names: medremind.web.middleware).
STATIC_NAMES = frozenset(
    p.name for p in STATIC_DIR.iterdir() if p.suffix in _TYPES and p.name != "sw.js"
)


async def static(request: Request) -> Response:
    """One of the app's static files (a fixed list: no path reaches outside the folder)."""
    name = request.path_params["name"]
    if name not in STATIC_NAMES:
        raise ApiError(404, "not found")
    return _file(name, cache=not name.endswith((".js", ".html")))


ROUTES: list[Route | WebSocketRoute] = [
    Route("/app/", index, methods=["GET"]),
    Route("/app/sw.js", service_worker, methods=["GET"]),
    Route("/app/manifest.webmanifest", manifest, methods=["GET"]),
    Route("/app/static/{name}", static, methods=["GET"]),
    Route("/app/api/sign-in/request", sign_in.request_link, methods=["POST"]),
    Route("/app/api/sign-in", sign_in.redeem_link, methods=["POST"]),
    Route("/app/api/sign-out", sign_in.sign_out, methods=["POST"]),
    Route("/app/api/today", today.today, methods=["GET"]),
    Route("/app/api/doses/{dose_id}/answer", today.answer_dose, methods=["POST"]),
    Route(
        "/app/api/appointments/{appointment_id}/answer",
        today.answer_appointment,
        methods=["POST"],
    ),
    Route("/app/api/settings", settings.get_settings, methods=["GET"]),
    Route("/app/api/settings", settings.update_settings, methods=["POST"]),
    Route("/app/api/delete-me", settings.delete_me, methods=["POST"]),
    Route("/app/api/push/subscribe", push.subscribe, methods=["POST"]),
    Route("/app/api/push/unsubscribe", push.unsubscribe, methods=["POST"]),
    Route("/app/api/push/answer", push.push_answer, methods=["POST"]),
    WebSocketRoute("/app/ws", live.live_socket),
]

__all__ = ["ROUTES", "STATIC_NAMES"]
