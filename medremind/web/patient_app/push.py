"""Push subscriptions from the patient app, and answers from a notification's buttons.

``POST /app/api/push/subscribe`` stores the browser's ``PushSubscription`` on the patient's
``webpush`` contact point (made, or made usable again, on the way) and puts ``webpush`` in the
patient's channel order (after ``websocket``, else first): a patient who turns on notifications
in the app wants reminders there. ``POST /app/api/push/unsubscribe`` retires it.

``POST /app/api/push/answer`` is what the service worker posts when the patient presses Taken or
Snooze on a notification: no session is needed (the lock screen has none), the action's HMAC
token (:mod:`platforms.push_actions`) is the authority for exactly that answer.
"""

from __future__ import annotations

import functools
import secrets
import time
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from core.answer_buttons import parse_appointment_data, parse_dose_data
from core.sql import query
from medremind.web.api_v1.common import json_body
from medremind.web.errors import ApiError, ValidationFailed
from medremind.web.patient_app.sessions import check_origin, current_patient
from medremind.web.patient_app.today import record_appointment, record_dose
from medremind.web.patient_app.vapid import vapid_key
from medremind.web.state import web_state
from platforms.push_actions import ActionSigner
from scheduler.planning_followups import catch_up_before_return

_DEVICE_LABEL_MAX = 100


# The browsers' push services (Chrome/Edge/Android: FCM; Firefox: Mozilla autopush; Safari:
# Apple; legacy Edge: WNS). The worker POSTs to a subscription's endpoint, so an endpoint
# anywhere else (an internal host, a cloud metadata service) is refused rather than fetched.
PUSH_SERVICE_DOMAINS = (
    "fcm.googleapis.com",
    "android.googleapis.com",
    "push.services.mozilla.com",
    "push.apple.com",
    "notify.windows.com",
)


def _endpoint(value: object) -> str:
    """A push service URL: https, on a known browser push service's host."""
    if not isinstance(value, str) or len(value) > 2048:
        raise ValidationFailed("endpoint", "must be the subscription's endpoint URL")
    parts = urlsplit(value)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or parts.port not in (None, 443):
        raise ValidationFailed("endpoint", "must be an https URL of a push service")
    if not any(host == d or host.endswith("." + d) for d in PUSH_SERVICE_DOMAINS):
        raise ValidationFailed(
            "endpoint",
            "is not a browser push service's address (" + ", ".join(PUSH_SERVICE_DOMAINS) + ")",
        )
    return value


def _key(keys: object, name: str, low: int, high: int) -> str:
    value = keys.get(name) if isinstance(keys, dict) else None
    if not isinstance(value, str) or not low <= len(value) <= high:
        raise ValidationFailed(f"keys.{name}", "is missing or not a base64url key")
    if not all(c.isalnum() or c in "-_=" for c in value):
        raise ValidationFailed(f"keys.{name}", "is not base64url")
    return value.rstrip("=")


def new_app_address() -> str:
    """An opaque address for a browser channel's contact point (no personal data)."""
    return "app-" + secrets.token_hex(16)


async def subscribe(request: Request) -> Response:
    """Store this browser's push subscription for the signed-in patient."""
    patient = await current_patient(request)
    body = await json_body(request)
    if not isinstance(body, dict):
        raise ValidationFailed("body", "must be the PushSubscription as JSON")
    endpoint = _endpoint(body.get("endpoint"))
    keys = body.get("keys")
    p256dh = _key(keys, "p256dh", 80, 100)
    auth = _key(keys, "auth", 16, 30)
    label = body.get("device")
    device = label[:_DEVICE_LABEL_MAX] if isinstance(label, str) else None
    state = web_state(request)
    async with state.pool.acquire() as conn, conn.transaction():
        # A usable channel may end an unreachable spell: the spell's pass first, as the bot does.
        await catch_up_before_return(conn, patient.patient_id, state.clock(), state.settings)
        contact = await conn.fetchrow(
            query("webpush", "ensure_app_contact"),
            patient.patient_id,
            "webpush",
            new_app_address(),
        )
        await conn.execute(
            query("webpush", "put_subscription"), contact["id"], endpoint, p256dh, auth, device
        )
        await conn.execute(
            query("webpush", "put_channel_first"), patient.patient_id, "webpush", "websocket"
        )
    return JSONResponse({"status": "subscribed"}, status_code=201)


async def unsubscribe(request: Request) -> Response:
    """Retire this browser's subscription (notifications turned off in the app)."""
    patient = await current_patient(request)
    body = await json_body(request)
    endpoint = body.get("endpoint") if isinstance(body, dict) else None
    if not isinstance(endpoint, str) or len(endpoint) > 2048:
        raise ValidationFailed("endpoint", "must be the subscription's endpoint URL")
    await web_state(request).pool.execute(
        query("webpush", "remove_subscription"), patient.patient_id, endpoint
    )
    return JSONResponse({"status": "unsubscribed"})


async def push_answer(request: Request) -> Response:
    """A notification button: ``{"data": "d:<hex>:t", "token": "..."}``."""
    check_origin(request)
    body = await json_body(request)
    if not isinstance(body, dict):
        raise ValidationFailed("body", "must be a JSON object")
    data, token = body.get("data"), body.get("token")
    if not isinstance(data, str) or not isinstance(token, str) or len(token) > 100:
        raise ValidationFailed("token", "data and token of the notification's action required")
    signer = action_signer(request)
    if signer is None or not signer.verify(data, token, time.time()):
        raise ApiError(403, "this notification's button has expired: open the app to answer")
    state = web_state(request)
    dose = parse_dose_data(data)
    if dose is not None:
        owner = await state.pool.fetchval(query("patient_app", "dose_patient"), dose.dose_event_id)
        if owner is None:
            raise ApiError(404, "dose not found")
        result = await record_dose(
            request, dose.dose_event_id, dose.answer, dose.snooze_minutes or 15, owner
        )
        return JSONResponse(result)
    appointment = parse_appointment_data(data)
    if appointment is not None:
        owner = await state.pool.fetchval(
            query("patient_app", "appointment_patient"), appointment.appointment_id
        )
        if owner is None:
            raise ApiError(404, "appointment not found")
        status = await record_appointment(
            request, appointment.appointment_id, appointment.action, owner
        )
        return JSONResponse({"appointment": str(appointment.appointment_id), "status": status})
    raise ValidationFailed("data", "is not a reminder's button")


@functools.lru_cache(maxsize=4)
def _signer(secret: bytes) -> ActionSigner:
    return ActionSigner(secret)


def action_signer(request: Request) -> ActionSigner | None:
    """The signer of notification buttons, from the VAPID key (None without one)."""
    key = vapid_key(web_state(request).settings)
    return _signer(key.secret_bytes()) if key is not None else None
