"""The OpenAPI 3.1 document of ``/api/v1``, written by hand next to the handlers it describes.

Served at ``GET /api/v1/openapi.json``. ``tests/web`` runs schemathesis over it, so a handler that
drifts from this document, or answers 5xx to any input it allows, fails the build.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from core import template_language as _LANGUAGE
from medremind.web.api_v1.openapi_parts import (
    _BODY_ERRORS,
    _ID_PARAM,
    _IDEMPOTENCY,
    _NULLABLE_TIME,
    _TIME,
    _UUID,
    _body,
    _errors,
    _json,
    _ref,
)

_CHANNELS = ["telegram", "whatsapp", "sms", "email", "console"]
_STATUSES = ["pending", "processing", "sent", "delivered", "failed", "cancelled", "expired"]
_TEMPLATE_CHANNELS = ["default", *_CHANNELS]
_TEMPLATE_VARIABLES_DOC = (
    "Plain text with `{{ variable }}` placeholders and `{% if %}`/`{% elif %}`/`{% else %}`, "
    "checked without running it and rendered in a Jinja2 sandbox. Variables by kind: every kind "
    "has `patient_name`, `clinic_name`, `due_at` (and `locale`, `timezone`); "
    'medication_reminder, dose_followup, refill_reminder add `medicine_name` ("your medicine" '
    "unless the patient opted in to naming it) and `dose_text`; missed_dose_caregiver adds those "
    "and `caregiver_name`; appointment_* kinds add `starts_at`, `location`, `clinician_name`. "
    "Filters, with literal arguments: upper, lower, capitalize, title, trim, default (d), "
    "truncate, replace (non-empty text to find); on `due_at`/`starts_at`: time (short, medium), "
    "date (short, medium, long, full), datetime (short, medium), weekday. Expressions: `~`, "
    "`x if c else y`, ==, !=, in, not in, and, or, not, `is defined`/`undefined`/`none`. Refused: "
    "loops, `{% set %}`, macros, includes, arithmetic, attribute and item access, calls, `self`. "
    "Length is checked in the worst case: each variable at its longest ("
    + ", ".join(
        f"{name} {variable.max_units}"
        for name, variable in _LANGUAGE.VARIABLES.items()
        if variable.kind == _LANGUAGE.TEXT
    )
    + " characters; longer values are shortened when filled in), UCS-2 on SMS, plus the kind's "
    "numbered answers on SMS and WhatsApp."
)
_KINDS = [
    "medication_reminder",
    "dose_followup",
    "missed_dose_caregiver",
    "appointment_confirmation",
    "appointment_reminder",
    "appointment_cancelled",
    "appointment_rescheduled",
    "refill_reminder",
    "free_text",
    "system",
]


SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["status", "code", "reason"],
                "properties": {
                    "status": {"type": "integer"},
                    "code": {"type": "string"},
                    "reason": {"type": "string"},
                    "field": {"type": "string"},
                },
            }
        },
    },
    "MessageCreate": {
        "type": "object",
        "additionalProperties": False,
        "required": ["patient_id"],
        "description": "Give exactly one of `text` and `template`.",
        "properties": {
            "patient_id": _UUID,
            "text": {"type": "string", "minLength": 1, "maxLength": 4096},
            "template": {
                "type": "string",
                "minLength": 1,
                "maxLength": 100,
                "description": (
                    "A template of your organization (PUT /api/v1/templates/{name}), validated "
                    "for `kind` now, or a built-in kind's name; 422 otherwise."
                ),
            },
            "kind": {"type": "string", "enum": _KINDS, "default": "free_text"},
            "variables": {
                "type": "object",
                "maxProperties": 50,
                "additionalProperties": {"type": "string", "maxLength": 1000},
            },
            "platform": {"type": "string", "enum": [*_CHANNELS, "auto"], "default": "auto"},
            "scheduled_time": {**_TIME, "description": "Default now; not in the past."},
            "expires_at": {**_TIME, "description": "After scheduled_time; not in the past."},
            "priority": {"type": "integer", "minimum": 0, "maximum": 9, "default": 5},
            "urgent": {"type": "boolean", "default": False},
        },
    },
    "Message": {
        "type": "object",
        "required": ["id", "patient_id", "status", "platform", "kind", "scheduled_time"],
        "properties": {
            "id": _UUID,
            "patient_id": _UUID,
            "status": {"type": "string", "enum": _STATUSES},
            "platform": {"type": "string", "enum": [*_CHANNELS, "auto"]},
            "kind": {"type": "string", "enum": _KINDS},
            "template": {"type": ["string", "null"]},
            "text": {"type": ["string", "null"]},
            "variables": {"type": "object", "additionalProperties": {"type": "string"}},
            "scheduled_time": _TIME,
            "expires_at": _NULLABLE_TIME,
            "priority": {"type": "integer"},
            "urgent": {"type": "boolean"},
            "attempts": {"type": "integer"},
            "last_error": {"type": ["string", "null"]},
            "sent_at": _NULLABLE_TIME,
            "delivered_at": _NULLABLE_TIME,
            "channel_used": {"type": ["string", "null"]},
            "created_at": _TIME,
            "updated_at": _TIME,
        },
    },
    "MessageList": {
        "type": "object",
        "required": ["data", "next_offset"],
        "properties": {
            "data": {"type": "array", "items": _ref("Message")},
            "next_offset": {"type": ["integer", "null"]},
        },
    },
    "PatientCreate": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "display_name": {"type": "string", "minLength": 1, "maxLength": 50},
            "phone": {"type": "string", "description": "E.164, e.g. +14155550123"},
            "email": {"type": "string", "format": "email", "maxLength": 254},
            "timezone": {"type": "string", "description": "IANA name; default the clinic's"},
            "locale": {"type": "string", "description": "Language tag such as en or es-MX"},
            "channel_order": {
                "type": "array",
                "minItems": 1,
                "uniqueItems": True,
                "items": {"type": "string", "enum": _CHANNELS},
            },
            "external_id": {"type": "string", "minLength": 1, "maxLength": 100},
            "consent": {"type": "boolean", "default": False},
        },
    },
    "Patient": {
        "type": "object",
        "required": ["id", "locale", "timezone", "channel_order", "status", "contacts"],
        "properties": {
            "id": _UUID,
            "display_name": {"type": ["string", "null"]},
            "locale": {"type": "string"},
            "timezone": {"type": "string"},
            "channel_order": {"type": "array", "items": {"type": "string"}},
            "external_id": {"type": ["string", "null"]},
            "status": {"type": "string", "enum": ["invited", "active", "deleted"]},
            "consent_at": _NULLABLE_TIME,
            "created_at": _TIME,
            "erased_at": _NULLABLE_TIME,
            "erasure_reason": {"type": ["string", "null"]},
            "contacts": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "channel": {"type": "string", "enum": _CHANNELS},
                        "address": {"type": "string"},
                        "verified": {"type": "boolean"},
                        "opted_out": {"type": "boolean"},
                    },
                },
            },
        },
    },
    "InviteCreate": {
        "type": "object",
        "additionalProperties": False,
        "properties": {"expires_in_hours": {"type": "integer", "minimum": 1, "maximum": 720}},
    },
    "Invite": {
        "type": "object",
        "required": ["id", "patient_id", "token", "link", "expires_at"],
        "properties": {
            "id": _UUID,
            "patient_id": _UUID,
            "token": {"type": "string", "description": "Shown once; stored only as a hash."},
            "link": {
                "type": ["string", "null"],
                "description": "https://t.me/<bot>?start=<token> when the bot is known",
            },
            "expires_at": _TIME,
        },
    },
    "AppointmentCreate": {
        "type": "object",
        "additionalProperties": False,
        "required": ["patient_id", "starts_at"],
        "properties": {
            "patient_id": _UUID,
            "starts_at": {**_TIME, "description": "Not in the past."},
            "duration_minutes": {"type": "integer", "minimum": 1, "maximum": 1440},
            "location": {"type": "string", "minLength": 1, "maxLength": 80},
            "clinician_name": {"type": "string", "minLength": 1, "maxLength": 50},
            "reminder_offsets": {
                "type": "array",
                "maxItems": 10,
                "items": {"type": "integer", "minimum": 1, "maximum": 43200},
                "description": "Minutes before the start; default the clinic's (24 h and 2 h).",
            },
            "external_id": {"type": "string", "minLength": 1, "maxLength": 100},
        },
    },
    "AppointmentUpdate": {
        "type": "object",
        "additionalProperties": False,
        "minProperties": 1,
        "description": "A new `starts_at` reschedules: old reminders cancelled, new ones planned.",
        "properties": {
            "starts_at": _TIME,
            "duration_minutes": {"type": "integer", "minimum": 1, "maximum": 1440},
            "location": {"type": "string", "minLength": 1, "maxLength": 80},
            "clinician_name": {"type": "string", "minLength": 1, "maxLength": 50},
            "reminder_offsets": {
                "type": "array",
                "maxItems": 10,
                "items": {"type": "integer", "minimum": 1, "maximum": 43200},
            },
        },
    },
    "Appointment": {
        "type": "object",
        "required": ["id", "patient_id", "starts_at", "status"],
        "properties": {
            "id": _UUID,
            "patient_id": _UUID,
            "starts_at": _TIME,
            "duration_minutes": {"type": "integer"},
            "location": {"type": ["string", "null"]},
            "clinician_name": {"type": ["string", "null"]},
            "reminder_offsets": {"type": ["array", "null"], "items": {"type": "integer"}},
            "status": {
                "type": "string",
                "enum": [
                    "scheduled",
                    "confirmed",
                    "reschedule_requested",
                    "cancelled",
                    "completed",
                    "no_show",
                ],
            },
            "external_id": {"type": ["string", "null"]},
            "created_at": _TIME,
            "updated_at": _TIME,
        },
    },
    "TemplateValidate": {
        "type": "object",
        "additionalProperties": False,
        "required": ["body"],
        "properties": {
            "body": {"type": "string", "maxLength": 10000, "description": _TEMPLATE_VARIABLES_DOC},
            "channel": {"type": "string", "enum": _TEMPLATE_CHANNELS, "default": "default"},
            "kind": {"type": "string", "enum": _KINDS, "default": "free_text"},
            "subject": {"type": "string", "minLength": 1, "maxLength": 200},
        },
    },
    "TemplateValidation": {
        "type": "object",
        "required": ["ok", "problems", "preview", "length", "segments", "allowed_variables"],
        "properties": {
            "ok": {"type": "boolean"},
            "problems": {"type": "array", "items": {"type": "string"}},
            "preview": {
                "type": ["string", "null"],
                "description": "Rendered with sample values (only a template that can be saved "
                "gets a 200).",
            },
            "length": {"type": ["integer", "null"]},
            "segments": {"type": ["integer", "null"], "description": "SMS segments"},
            "encoding": {"type": ["string", "null"], "enum": ["GSM-7", "UCS-2", None]},
            "allowed_variables": {"type": "array", "items": {"type": "string"}},
        },
    },
    "TemplatePut": {
        "type": "object",
        "additionalProperties": False,
        "required": ["body"],
        "description": "One version of a template, by locale and channel; validated on save.",
        "properties": {
            "body": {"type": "string", "maxLength": 10000, "description": _TEMPLATE_VARIABLES_DOC},
            "channel": {"type": "string", "enum": _TEMPLATE_CHANNELS, "default": "default"},
            "kind": {"type": "string", "enum": _KINDS, "default": "free_text"},
            "locale": {"type": "string", "default": "en", "description": "Such as en or es-MX"},
            "subject": {"type": "string", "minLength": 1, "maxLength": 200},
        },
    },
    "Template": {
        "type": "object",
        "required": ["id", "name", "kind", "locale", "channel", "body"],
        "properties": {
            "id": _UUID,
            "name": {"type": "string"},
            "kind": {"type": "string"},
            "locale": {"type": "string"},
            "channel": {"type": "string", "enum": _TEMPLATE_CHANNELS},
            "body": {"type": "string"},
            "subject": {"type": ["string", "null"]},
            "created_at": _TIME,
            "updated_at": _TIME,
        },
    },
    "TemplateList": {
        "type": "object",
        "required": ["data"],
        "properties": {"data": {"type": "array", "items": _ref("Template")}},
    },
    "FhirMedicationRequest": {
        "type": "object",
        "required": ["resourceType", "subject", "medicationCodeableConcept", "dosageInstruction"],
        "description": "FHIR R4 MedicationRequest; dosageInstruction[0].timing is the schedule.",
        "properties": {
            "resourceType": {"const": "MedicationRequest"},
            "status": {"type": "string"},
            "subject": {
                "type": "object",
                "required": ["reference"],
                "properties": {"reference": {"type": "string", "pattern": "^Patient/"}},
            },
            "medicationCodeableConcept": {
                "type": "object",
                "properties": {"text": {"type": "string"}, "coding": {"type": "array"}},
            },
            "dosageInstruction": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["timing"],
                    "properties": {"timing": {"type": "object"}, "text": {"type": "string"}},
                },
            },
        },
    },
    "MedicationImported": {
        "type": "object",
        "required": ["medication_id", "schedule_id", "patient_id", "name", "schedule"],
        "properties": {
            "medication_id": _UUID,
            "schedule_id": _UUID,
            "patient_id": _UUID,
            "name": {"type": "string"},
            "dose": {"type": ["string", "null"]},
            "schedule": {"type": "object"},
        },
    },
    "FhirAppointment": {
        "type": "object",
        "required": ["resourceType", "status", "participant"],
        "description": (
            "FHIR R4 Appointment. `id` is kept as external_id: importing the same id again "
            "reschedules, status cancelled cancels."
        ),
        "properties": {
            "resourceType": {"const": "Appointment"},
            "id": {"type": "string", "maxLength": 64},
            "status": {"enum": ["proposed", "pending", "booked", "cancelled"]},
            "start": _TIME,
            "end": _TIME,
            "minutesDuration": {"type": "integer", "minimum": 1, "maximum": 1440},
            "participant": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "properties": {
                        "actor": {
                            "type": "object",
                            "properties": {
                                "reference": {"type": "string"},
                                "display": {"type": "string"},
                            },
                        }
                    },
                },
            },
        },
    },
}

_GET_ERRORS = (401, 404)


def build_document() -> dict[str, Any]:
    """The OpenAPI document (a fresh dict each call)."""
    # Imported here: those modules build on this one's helpers.
    from medremind.web.api_v1 import openapi_clinic_ops

    document = _core_document()
    for path, operations in openapi_clinic_ops.PATHS.items():
        document["paths"].setdefault(path, {}).update(operations)
    document["components"]["schemas"] = {**SCHEMAS, **openapi_clinic_ops.SCHEMAS}
    return document


def _core_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "MedRemind API",
            "version": "1.0.0",
            "description": (
                "Schedule messages, book appointments, register patients and import FHIR "
                "resources for your clinic. Authenticate with `Authorization: Bearer <key>` "
                "(created by `medremind apikey create --org ...`). Every error is JSON: "
                '`{"error": {"status", "code", "reason", "field"?}}`.'
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"apiKey": []}],
        "paths": {
            "/api/v1/messages": {
                "post": {
                    "operationId": "createMessage",
                    "summary": "Schedule a message for a patient",
                    "parameters": [_IDEMPOTENCY],
                    "requestBody": _body(_ref("MessageCreate")),
                    "responses": {
                        "201": _json(_ref("Message"), "Created (or the first response again)"),
                        **_errors(*_BODY_ERRORS),
                    },
                },
                "get": {
                    "operationId": "listMessages",
                    "summary": "List messages, newest first",
                    "parameters": [
                        {"name": "status", "in": "query", "schema": {"enum": _STATUSES}},
                        {"name": "patient_id", "in": "query", "schema": _UUID},
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 200},
                        },
                        {
                            "name": "offset",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 0, "maximum": 1000000},
                        },
                    ],
                    "responses": {
                        "200": _json(_ref("MessageList"), "A page of messages"),
                        **_errors(401, 422),
                    },
                },
            },
            "/api/v1/messages/{message_id}": {
                "get": {
                    "operationId": "getMessage",
                    "summary": "One message",
                    "parameters": [{"name": "message_id", **_ID_PARAM}],
                    "responses": {
                        "200": _json(_ref("Message"), "The message"),
                        **_errors(401, 404),
                    },
                }
            },
            "/api/v1/messages/{message_id}/cancel": {
                "post": {
                    "operationId": "cancelMessage",
                    "summary": "Cancel a pending message",
                    "parameters": [{"name": "message_id", **_ID_PARAM}],
                    "responses": {
                        "200": _json(_ref("Message"), "Cancelled"),
                        **_errors(401, 404, 409),
                    },
                }
            },
            "/api/v1/patients": {
                "post": {
                    "operationId": "createPatient",
                    "summary": "Register a patient",
                    "parameters": [_IDEMPOTENCY],
                    "requestBody": _body(_ref("PatientCreate")),
                    "responses": {
                        "201": _json(_ref("Patient"), "Created"),
                        **_errors(*_BODY_ERRORS),
                    },
                }
            },
            "/api/v1/patients/{patient_id}": {
                "get": {
                    "operationId": "getPatient",
                    "summary": "One patient with contact points",
                    "parameters": [{"name": "patient_id", **_ID_PARAM}],
                    "responses": {
                        "200": _json(_ref("Patient"), "The patient (or an erased one's tombstone)"),
                        **_errors(401, 404),
                    },
                },
                "delete": {
                    "operationId": "erasePatient",
                    "summary": "Erase the patient; the record stays as a tombstone",
                    "parameters": [{"name": "patient_id", **_ID_PARAM}],
                    "responses": {
                        "200": _json(_ref("Patient"), "The tombstone (no personal data)"),
                        **_errors(401, 404),
                    },
                },
            },
            "/api/v1/patients/{patient_id}/invites": {
                "post": {
                    "operationId": "createInvite",
                    "summary": "A one-time invite link for the patient (token shown once)",
                    "parameters": [{"name": "patient_id", **_ID_PARAM}],
                    "requestBody": {
                        "required": False,
                        "content": {"application/json": {"schema": _ref("InviteCreate")}},
                    },
                    "responses": {
                        "201": _json(_ref("Invite"), "Created"),
                        **_errors(400, 401, 404, 413, 415, 422),
                    },
                }
            },
            "/api/v1/appointments": {
                "post": {
                    "operationId": "createAppointment",
                    "summary": "Book an appointment (confirmation and reminders follow)",
                    "parameters": [_IDEMPOTENCY],
                    "requestBody": _body(_ref("AppointmentCreate")),
                    "responses": {
                        "201": _json(_ref("Appointment"), "Booked"),
                        **_errors(*_BODY_ERRORS),
                    },
                }
            },
            "/api/v1/appointments/{appointment_id}": {
                "get": {
                    "operationId": "getAppointment",
                    "summary": "One appointment",
                    "parameters": [{"name": "appointment_id", **_ID_PARAM}],
                    "responses": {
                        "200": _json(_ref("Appointment"), "The appointment"),
                        **_errors(*_GET_ERRORS),
                    },
                },
                "patch": {
                    "operationId": "updateAppointment",
                    "summary": "Change details or reschedule",
                    "parameters": [{"name": "appointment_id", **_ID_PARAM}],
                    "requestBody": _body(_ref("AppointmentUpdate")),
                    "responses": {
                        "200": _json(_ref("Appointment"), "Updated"),
                        **_errors(400, 401, 404, 409, 413, 415, 422),
                    },
                },
            },
            "/api/v1/appointments/{appointment_id}/cancel": {
                "post": {
                    "operationId": "cancelAppointment",
                    "summary": "Cancel (reminders withdrawn, the patient told)",
                    "parameters": [{"name": "appointment_id", **_ID_PARAM}],
                    "responses": {
                        "200": _json(_ref("Appointment"), "Cancelled"),
                        **_errors(401, 404, 409),
                    },
                }
            },
            "/api/v1/templates": {
                "get": {
                    "operationId": "listTemplates",
                    "summary": "Every version of your organization's templates",
                    "responses": {
                        "200": _json(_ref("TemplateList"), "The templates"),
                        **_errors(401),
                    },
                }
            },
            "/api/v1/templates/validate": {
                "post": {
                    "operationId": "validateTemplate",
                    "summary": "Check a template without saving it: problems, preview, length",
                    "description": (
                        "200 when the template can be saved (its preview, length and SMS "
                        "segments); 422 when it cannot, with `problems` listing every reason "
                        "(syntax, unknown variables, anything outside the template language, "
                        "worst-case length)."
                    ),
                    "requestBody": _body(_ref("TemplateValidate")),
                    "responses": {
                        "200": _json(_ref("TemplateValidation"), "The verdict"),
                        **_errors(400, 401, 413, 415, 422),
                    },
                }
            },
            "/api/v1/templates/{name}": {
                "put": {
                    "operationId": "putTemplate",
                    "summary": "Create or replace one locale and channel version of a template",
                    "parameters": [
                        {
                            "name": "name",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "minLength": 1, "maxLength": 100},
                        }
                    ],
                    "requestBody": _body(_ref("TemplatePut")),
                    "responses": {
                        "200": _json(_ref("Template"), "Replaced"),
                        "201": _json(_ref("Template"), "Created"),
                        **_errors(400, 401, 413, 415, 422),
                    },
                }
            },
            "/api/v1/fhir/MedicationRequest": {
                "post": {
                    "operationId": "importMedicationRequest",
                    "summary": "Import a FHIR MedicationRequest as a medication and schedule",
                    "parameters": [_IDEMPOTENCY],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/fhir+json": {"schema": _ref("FhirMedicationRequest")},
                            "application/json": {"schema": _ref("FhirMedicationRequest")},
                        },
                    },
                    "responses": {
                        "201": _json(_ref("MedicationImported"), "Imported"),
                        **_errors(*_BODY_ERRORS),
                    },
                }
            },
            "/api/v1/fhir/Appointment": {
                "post": {
                    "operationId": "importAppointment",
                    "summary": "Import a FHIR Appointment: book, reschedule or cancel",
                    "parameters": [_IDEMPOTENCY],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/fhir+json": {"schema": _ref("FhirAppointment")},
                            "application/json": {"schema": _ref("FhirAppointment")},
                        },
                    },
                    "responses": {
                        "200": _json(_ref("Appointment"), "Rescheduled or cancelled"),
                        "201": _json(_ref("Appointment"), "Booked"),
                        **_errors(*_BODY_ERRORS, 404),
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
            "responses": {
                f"E{code}": _json(_ref("Error"), text)
                for code, text in {
                    400: "Malformed or hostile JSON (nested deeper than 64, a lone surrogate,"
                    " NaN or an out-of-range number); error.field names where when it can",
                    401: "Missing or invalid API key",
                    404: "Not found in your organization",
                    409: "Conflict with the current state or a reused Idempotency-Key",
                    413: "Body larger than the route takes (256 KB on /api/v1)",
                    415: "Body is not JSON",
                    422: "A field is invalid; error.field names it",
                }.items()
            }
            | {
                "E429": {
                    **_json(
                        _ref("Error"),
                        "The API key made more requests than MEDREMIND_API_RATE_LIMIT a minute",
                    ),
                    "headers": {
                        "Retry-After": {
                            "description": "Seconds until the key may make another request",
                            "schema": {"type": "integer", "minimum": 1},
                        }
                    },
                }
            },
        },
    }


_DOCUMENT = build_document()


async def openapi_document(request: Request) -> JSONResponse:
    """``GET /api/v1/openapi.json`` (no key needed: it describes, it reveals nothing)."""
    return JSONResponse(_DOCUMENT)
