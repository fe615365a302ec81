"""``/api/v1``: the JSON API for clinics' own systems, authenticated by per-organization API keys.

Every handler takes the organization from the key and filters every query by it; a row of another
organization is indistinguishable from a missing one (404).
"""

from __future__ import annotations

from starlette.routing import Route

from medremind.web.api_v1 import (
    appointments,
    docs,
    fhir,
    listing,
    messages,
    openapi,
    outcomes,
    patients,
    statistics,
    templates,
    waitlist,
    webhooks_out,
)

PREFIX = "/api/v1"

ROUTES: list[Route] = [
    Route(f"{PREFIX}/openapi.json", openapi.openapi_document, methods=["GET"]),
    Route(f"{PREFIX}/docs", docs.docs_page, methods=["GET"]),
    Route(f"{PREFIX}/docs/assets/{{name}}", docs.docs_asset, methods=["GET"]),
    Route(f"{PREFIX}/messages", messages.create_message, methods=["POST"]),
    Route(f"{PREFIX}/messages", messages.list_messages, methods=["GET"]),
    Route(f"{PREFIX}/messages/{{message_id}}", messages.get_message, methods=["GET"]),
    Route(f"{PREFIX}/messages/{{message_id}}/cancel", messages.cancel_message, methods=["POST"]),
    Route(f"{PREFIX}/patients", patients.create_patient, methods=["POST"]),
    Route(f"{PREFIX}/patients", listing.list_patients, methods=["GET"]),
    Route(f"{PREFIX}/patients/{{patient_id}}", patients.get_patient, methods=["GET"]),
    Route(f"{PREFIX}/patients/{{patient_id}}", patients.erase_patient, methods=["DELETE"]),
    Route(f"{PREFIX}/patients/{{patient_id}}/invites", patients.create_invite, methods=["POST"]),
    Route(f"{PREFIX}/appointments", appointments.create_appointment, methods=["POST"]),
    Route(f"{PREFIX}/appointments", listing.list_appointments, methods=["GET"]),
    Route(
        f"{PREFIX}/appointments/{{appointment_id}}", appointments.get_appointment, methods=["GET"]
    ),
    Route(
        f"{PREFIX}/appointments/{{appointment_id}}",
        appointments.update_appointment,
        methods=["PATCH"],
    ),
    Route(
        f"{PREFIX}/appointments/{{appointment_id}}/cancel",
        appointments.cancel_appointment,
        methods=["POST"],
    ),
    Route(
        f"{PREFIX}/appointments/{{appointment_id}}/outcome",
        outcomes.set_outcome,
        methods=["POST"],
    ),
    Route(f"{PREFIX}/statistics", statistics.get_statistics, methods=["GET"]),
    Route(f"{PREFIX}/waitlist", waitlist.add_to_waitlist, methods=["POST"]),
    Route(f"{PREFIX}/waitlist", waitlist.list_waitlist, methods=["GET"]),
    Route(f"{PREFIX}/waitlist/{{entry_id}}", waitlist.remove_from_waitlist, methods=["DELETE"]),
    Route(f"{PREFIX}/webhooks", webhooks_out.create_webhook, methods=["POST"]),
    Route(f"{PREFIX}/webhooks", webhooks_out.list_webhooks, methods=["GET"]),
    Route(f"{PREFIX}/webhooks/{{webhook_id}}", webhooks_out.delete_webhook, methods=["DELETE"]),
    Route(
        f"{PREFIX}/webhooks/{{webhook_id}}/deliveries",
        webhooks_out.list_deliveries,
        methods=["GET"],
    ),
    Route(f"{PREFIX}/fhir/MedicationRequest", fhir.import_medication_request, methods=["POST"]),
    Route(f"{PREFIX}/fhir/Appointment", fhir.import_appointment, methods=["POST"]),
    Route(f"{PREFIX}/templates", templates.list_templates, methods=["GET"]),
    Route(f"{PREFIX}/templates/validate", templates.validate_template, methods=["POST"]),
    Route(f"{PREFIX}/templates/{{name}}", templates.put_template, methods=["PUT"]),
]
