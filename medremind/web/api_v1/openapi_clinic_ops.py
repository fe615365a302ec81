"""The OpenAPI paths and schemas of the clinic operations routes (statistics, appointment
outcomes), merged into :func:`medremind.web.api_v1.openapi.build_document`."""

from __future__ import annotations

from typing import Any

from medremind.web.api_v1.listing import APPOINTMENT_STATUSES
from medremind.web.api_v1.openapi_parts import _ID_PARAM, _body, _errors, _json, _ref
from medremind.web.api_v1.statistics import TABLES
from medremind.web.api_v1.webhooks_out import EVENT_TYPES

_RATE = {"type": ["number", "null"], "minimum": 0, "maximum": 1}
_NUMBER = {"type": ["number", "null"]}
_COLUMN_TYPES: dict[str, dict[str, Any]] = {
    "day": {"type": "string", "format": "date"},
    "channel": {"type": "string"},
    "status": {"type": "string"},
    "kind": {"type": "string"},
    "reminder": {
        "type": "string",
        "enum": ["confirmed", "reminded_not_confirmed", "not_reminded"],
    },
    "band": {"type": "string", "enum": ["0-49%", "50-79%", "80-100%"]},
}


def _column(name: str) -> dict[str, Any]:
    if name in _COLUMN_TYPES:
        return _COLUMN_TYPES[name]
    if name.endswith("_rate") or name == "adherence":
        return _RATE
    if "seconds" in name:
        return _NUMBER
    return {"type": "integer", "minimum": 0}


def _table(columns: tuple[str, ...]) -> dict[str, Any]:
    return {
        "type": "array",
        "items": {
            "type": "object",
            "required": list(columns),
            "properties": {c: _column(c) for c in columns},
        },
    }


_TABLE_DOCS = {
    "messages_by_channel_status": "Messages scheduled in the period, by channel and status.",
    "delivery": (
        "Per channel: delivery_rate = sent or delivered / (those + failed + expired); "
        "seconds from the scheduled time to the send and to the carrier's delivery receipt."
    ),
    "messages_by_day": "Per day (the clinic's calendar).",
    "replies": (
        "Reminders and confirmation requests that reached the patient, and how many the patient "
        "answered (a dose answer, or confirm / reschedule / cancel)."
    ),
    "appointment_outcomes": "Appointments starting in the period by status (completed = attended).",
    "confirmation": "Appointments with a reminder sent, and how many the patient confirmed.",
    "no_show": "No-show rate among appointments with an outcome, by what the reminders achieved.",
    "adherence": "Doses due in the period and answered or missed; adherence = taken / all.",
    "adherence_by_day": "Adherence per day.",
    "adherence_by_patient": "Patients by their adherence in the period.",
}

SCHEMAS: dict[str, Any] = {
    "Statistics": {
        "type": "object",
        "required": ["organization_id", "from", "to", "timezone", "tables"],
        "properties": {
            "organization_id": {"type": "string", "format": "uuid"},
            "from": {"type": "string", "format": "date"},
            "to": {"type": "string", "format": "date"},
            "timezone": {"type": "string"},
            "tables": {
                "type": "object",
                "properties": {
                    name: {**_table(columns), "description": _TABLE_DOCS[name]}
                    for name, columns in TABLES.items()
                },
            },
        },
    },
    "AppointmentOutcome": {
        "type": "object",
        "additionalProperties": False,
        "required": ["outcome"],
        "properties": {
            "outcome": {
                "type": "string",
                "enum": ["attended", "no_show"],
                "description": "attended is stored as the status `completed`.",
            }
        },
    },
}

_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
_WEBHOOK_PROPERTIES: dict[str, Any] = {
    "id": {"type": "string", "format": "uuid"},
    "url": {"type": "string"},
    "description": {"type": ["string", "null"]},
    "event_types": {"type": "array", "items": {"type": "string", "enum": list(EVENT_TYPES)}},
    "created_at": {"type": "string", "format": "date-time"},
    "disabled_at": _NULLABLE_TIME,
}
SCHEMAS.update(
    {
        "WebhookCreate": {
            "type": "object",
            "additionalProperties": False,
            "required": ["url"],
            "properties": {
                "url": {
                    "type": "string",
                    "maxLength": 2000,
                    "pattern": "^https?://[^\\s@]+$",
                    "description": "Your endpoint; each event is POSTed to it as JSON.",
                },
                "event_types": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"type": "string", "enum": list(EVENT_TYPES)},
                    "description": "Default: every type.",
                },
                "description": {"type": "string", "minLength": 1, "maxLength": 200},
            },
        },
        "Webhook": {
            "type": "object",
            "required": ["id", "url", "event_types", "created_at"],
            "properties": _WEBHOOK_PROPERTIES,
        },
        "WebhookCreated": {
            "type": "object",
            "required": ["id", "url", "event_types", "created_at", "secret"],
            "properties": {
                **_WEBHOOK_PROPERTIES,
                "secret": {
                    "type": "string",
                    "description": (
                        "The signing secret (whsec_...), shown only here. Each POST carries "
                        "webhook-id, webhook-timestamp and webhook-signature (v1,<base64 "
                        "HMAC-SHA256 of id.timestamp.body>), the Standard Webhooks convention."
                    ),
                },
            },
        },
        "WebhookList": {
            "type": "object",
            "required": ["data"],
            "properties": {"data": {"type": "array", "items": _ref("Webhook")}},
        },
        "WebhookDeliveryList": {
            "type": "object",
            "required": ["data"],
            "properties": {
                "data": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["id", "event_id", "event_type", "status", "attempts"],
                        "properties": {
                            "id": {"type": "string", "format": "uuid"},
                            "event_id": {"type": "string", "format": "uuid"},
                            "event_type": {"type": "string", "enum": list(EVENT_TYPES)},
                            "status": {
                                "type": "string",
                                "enum": [
                                    "pending",
                                    "delivering",
                                    "delivered",
                                    "failed",
                                    "cancelled",
                                ],
                            },
                            "attempts": {"type": "integer"},
                            "next_attempt_at": {"type": "string", "format": "date-time"},
                            "last_status_code": {"type": ["integer", "null"]},
                            "last_error": {"type": ["string", "null"]},
                            "delivered_at": _NULLABLE_TIME,
                            "created_at": {"type": "string", "format": "date-time"},
                            "payload": {
                                "type": "object",
                                "description": "What was POSTed: type, timestamp, data.",
                            },
                            "log": {"type": "array", "items": {"type": "object"}},
                        },
                    },
                }
            },
        },
    }
)
_HHMM = {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"}
_WAITLIST_PROPERTIES: dict[str, Any] = {
    "days_of_week": {
        "type": "array",
        "minItems": 1,
        "maxItems": 7,
        "items": {"type": "integer", "minimum": 1, "maximum": 7},
        "description": "ISO days that suit the patient (1 = Monday); default any day.",
    },
    "earliest": {**_HHMM, "description": "In the patient's timezone; default any time."},
    "latest": {**_HHMM, "description": "The appointment must end by then."},
    "duration_minutes": {"type": "integer", "minimum": 1, "maximum": 1440},
    "note": {"type": "string", "minLength": 1, "maxLength": 200},
}
SCHEMAS.update(
    {
        "WaitlistCreate": {
            "type": "object",
            "additionalProperties": False,
            "required": ["patient_id"],
            "properties": {
                "patient_id": {"type": "string", "format": "uuid"},
                **_WAITLIST_PROPERTIES,
            },
        },
        "WaitlistEntry": {
            "type": "object",
            "required": ["id", "patient_id", "status", "created_at"],
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "patient_id": {"type": "string", "format": "uuid"},
                "days_of_week": {"type": ["array", "null"], "items": {"type": "integer"}},
                "earliest": {"type": ["string", "null"]},
                "latest": {"type": ["string", "null"]},
                "duration_minutes": {"type": ["integer", "null"]},
                "note": {"type": ["string", "null"]},
                "status": {"type": "string", "enum": ["waiting", "booked", "removed"]},
                "booked_appointment_id": {"type": ["string", "null"], "format": "uuid"},
                "created_at": {"type": "string", "format": "date-time"},
            },
        },
        "WaitlistList": {
            "type": "object",
            "required": ["data"],
            "properties": {"data": {"type": "array", "items": _ref("WaitlistEntry")}},
        },
    }
)
_WEBHOOK_ID = {"name": "webhook_id", **_ID_PARAM}
_UUID_SCHEMA = {"type": "string", "format": "uuid"}
_TIME_SCHEMA = {"type": "string", "format": "date-time"}
_PAGE_PARAMS: list[dict[str, Any]] = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
    {
        "name": "cursor",
        "in": "query",
        "schema": {"type": "string", "maxLength": 200},
        "description": "`next_cursor` of the previous page.",
    },
]


def _page_of(item: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["data", "next_cursor"],
        "properties": {
            "data": {"type": "array", "items": _ref(item)},
            "next_cursor": {"type": ["string", "null"], "description": "Null on the last page."},
        },
    }


SCHEMAS.update({"PatientPage": _page_of("Patient"), "AppointmentPage": _page_of("Appointment")})

_DATE_PARAM = {"type": "string", "format": "date"}

PATHS: dict[str, Any] = {
    "/api/v1/statistics": {
        "get": {
            "operationId": "getStatistics",
            "summary": "Messaging, appointment and adherence statistics for a period",
            "description": (
                "Days are the clinic's calendar days, `from` and `to` included (default: the "
                "last 30 days; at most 366). `format=csv` (or `Accept: text/csv`) with `table` "
                "answers that table as CSV."
            ),
            "parameters": [
                {"name": "from", "in": "query", "schema": _DATE_PARAM},
                {"name": "to", "in": "query", "schema": _DATE_PARAM},
                {"name": "format", "in": "query", "schema": {"enum": ["json", "csv"]}},
                {"name": "table", "in": "query", "schema": {"enum": list(TABLES)}},
            ],
            "responses": {
                "200": {
                    "description": "The statistics (JSON), or one table (CSV)",
                    "content": {
                        "application/json": {"schema": _ref("Statistics")},
                        "text/csv": {"schema": {"type": "string"}},
                    },
                },
                **_errors(401, 422),
            },
        }
    },
    "/api/v1/appointments/{appointment_id}/outcome": {
        "post": {
            "operationId": "setAppointmentOutcome",
            "summary": "Record whether the patient attended (from the start time on)",
            "parameters": [{"name": "appointment_id", **_ID_PARAM}],
            "requestBody": _body(_ref("AppointmentOutcome")),
            "responses": {
                "200": _json(_ref("Appointment"), "The appointment with its outcome"),
                **_errors(400, 401, 404, 409, 413, 415, 422),
            },
        }
    },
    "/api/v1/webhooks": {
        "post": {
            "operationId": "createWebhook",
            "summary": "Subscribe an endpoint of yours to events (the secret is shown once)",
            "description": (
                "Events: message.status (sent, delivered, failed, expired, cancelled), "
                "dose.answered, appointment.replied, contact.opted_out, contact.opted_in. "
                "Delivered at least once, signed, retried with backoff for about 30 hours."
            ),
            "requestBody": _body(_ref("WebhookCreate")),
            "responses": {
                "201": _json(_ref("WebhookCreated"), "Subscribed"),
                **_errors(400, 401, 409, 413, 415, 422),
            },
        },
        "get": {
            "operationId": "listWebhooks",
            "summary": "Your active webhook subscriptions",
            "responses": {"200": _json(_ref("WebhookList"), "The subscriptions"), **_errors(401)},
        },
    },
    "/api/v1/webhooks/{webhook_id}": {
        "delete": {
            "operationId": "deleteWebhook",
            "summary": "Stop a subscription; its pending deliveries are cancelled",
            "parameters": [_WEBHOOK_ID],
            "responses": {"200": _json(_ref("Webhook"), "Stopped"), **_errors(401, 404)},
        }
    },
    "/api/v1/webhooks/{webhook_id}/deliveries": {
        "get": {
            "operationId": "listWebhookDeliveries",
            "summary": "The delivery log: newest first, each with its attempts",
            "parameters": [
                _WEBHOOK_ID,
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 200},
                },
            ],
            "responses": {
                "200": _json(_ref("WebhookDeliveryList"), "The deliveries"),
                **_errors(401, 404, 422),
            },
        }
    },
    "/api/v1/waitlist": {
        "post": {
            "operationId": "addToWaitlist",
            "summary": "Put a patient on the waitlist with the times that suit them",
            "description": (
                "When an upcoming appointment is cancelled, its slot is offered (Accept / No "
                "thanks) to the fitting waiting patients; the first to accept is booked and "
                "the others are told it is gone."
            ),
            "requestBody": _body(_ref("WaitlistCreate")),
            "responses": {
                "201": _json(_ref("WaitlistEntry"), "Waiting"),
                **_errors(400, 401, 409, 413, 415, 422),
            },
        },
        "get": {
            "operationId": "listWaitlist",
            "summary": "Who is waiting, first come first",
            "responses": {"200": _json(_ref("WaitlistList"), "The waitlist"), **_errors(401)},
        },
    },
    "/api/v1/waitlist/{entry_id}": {
        "delete": {
            "operationId": "removeFromWaitlist",
            "summary": "Take a patient off the waitlist",
            "parameters": [{"name": "entry_id", **_ID_PARAM}],
            "responses": {"200": _json(_ref("WaitlistEntry"), "Removed"), **_errors(401, 404)},
        }
    },
    "/api/v1/docs": {
        "get": {
            "operationId": "apiDocs",
            "summary": "This document as an interactive page (Swagger UI, served locally)",
            "description": "Needs no key, like /api/v1/openapi.json.",
            "responses": {
                "200": {
                    "description": "The page",
                    "content": {"text/html": {"schema": {"type": "string"}}},
                }
            },
        }
    },
    "/api/v1/patients": {
        "get": {
            "operationId": "listPatients",
            "summary": "List or search your patients, oldest first, a page at a time",
            "parameters": [
                {
                    "name": "q",
                    "in": "query",
                    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                    "description": "A part of the name, or an exact external id or address.",
                },
                {
                    "name": "status",
                    "in": "query",
                    "schema": {"enum": ["invited", "active", "deleted"]},
                    "description": "Default: all but deleted (erased) patients.",
                },
                *_PAGE_PARAMS,
            ],
            "responses": {"200": _json(_ref("PatientPage"), "A page"), **_errors(401, 422)},
        }
    },
    "/api/v1/appointments": {
        "get": {
            "operationId": "listAppointments",
            "summary": "List appointments by start time, a page at a time",
            "parameters": [
                {
                    "name": "patient_id",
                    "in": "query",
                    "schema": {"type": "string", "format": "uuid"},
                },
                {
                    "name": "status",
                    "in": "query",
                    "schema": {"enum": list(APPOINTMENT_STATUSES)},
                },
                {
                    "name": "from",
                    "in": "query",
                    "schema": {"type": "string", "format": "date-time"},
                },
                {"name": "to", "in": "query", "schema": {"type": "string", "format": "date-time"}},
                *_PAGE_PARAMS,
            ],
            "responses": {"200": _json(_ref("AppointmentPage"), "A page"), **_errors(401, 422)},
        }
    },
}
