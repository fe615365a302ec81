"""Turn a claimed row into an :class:`OutboundMessage` for one channel.

Free text without a template is sent as written. Everything else is rendered by the built-in
template named by ``template`` (or the row's ``kind``) in the patient's locale. The medicine is
named only when the patient opted in (``name_medicine_in_reminders``), and in caregiver alerts only
when the patient chose to share details. Bodies and medicine names are registered with
:func:`core.logs.mark_sensitive` before anything can log them.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from core.answer_buttons import default_options
from core.logs import mark_sensitive
from core.templating import TemplateRenderer
from platforms.base import Channel, OutboundMessage
from scheduler.claims import Claim

_FREE_KINDS = frozenset({"free_text", "system"})
# Variables only the dispatcher may set, whatever the row's payload says (privacy opt-ins).
_PROTECTED = ("name_medicine", "share_details")


def variables_for(claim: Claim) -> dict[str, Any]:
    """Template variables from the claim's joins, over the row's payload."""
    values: dict[str, Any] = {
        k: _from_json(k, v)
        for k, v in (claim.payload or {}).items()
        if k not in _PROTECTED and k != "options"
    }
    due_at = claim.dose_due_at or claim.scheduled_time
    values.setdefault("due_at", due_at)
    values["timezone"] = claim.timezone
    if claim.display_name:
        values.setdefault("patient_name", claim.display_name)
    if claim.organization_name:
        values.setdefault("clinic_name", claim.organization_name)
    if claim.message_content is not None:
        values.setdefault("body", claim.message_content)
    if claim.medicine_name:
        values.setdefault("medicine_name", claim.medicine_name)
    if claim.medicine_dose:
        values.setdefault("dose_text", claim.medicine_dose)
    if claim.appointment_starts_at is not None:
        values.setdefault("starts_at", claim.appointment_starts_at)
        if claim.appointment_location:
            values.setdefault("location", claim.appointment_location)
        if claim.appointment_clinician:
            values.setdefault("clinician_name", claim.appointment_clinician)
    values.setdefault("clinic_name", "your clinic")
    if claim.caregiver_id is not None:
        values["share_details"] = bool(claim.caregiver_share_details)
        values["name_medicine"] = bool(claim.caregiver_share_details)
        if claim.caregiver_name:
            values.setdefault("caregiver_name", claim.caregiver_name)
    else:
        values["name_medicine"] = claim.name_medicine_in_reminders
        values["share_details"] = False
    return values


def _from_json(key: str, value: Any) -> Any:
    """Payloads are JSON: turn ISO timestamps in ``*_at`` variables back into datetimes."""
    if key.endswith("_at") and isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def render_claim(
    renderer: TemplateRenderer | None, claim: Claim, channel: Channel
) -> OutboundMessage:
    """The message for ``claim`` on ``channel``.

    Raises the renderer's errors (``MessageTooLong``, ``UnknownTemplate``, Jinja's
    ``UndefinedError``): the dispatcher fails the row with that reason, no retry.
    """
    message_id = str(claim.id)
    if claim.template is None and claim.kind in _FREE_KINDS:
        text = claim.message_content or ""
        mark_sensitive(text)
        as_html = (
            html.escape(text, quote=False) if channel in (Channel.TELEGRAM, Channel.EMAIL) else None
        )
        subject = (
            (claim.organization_name or "Message from your clinic")[:120]
            if channel == Channel.EMAIL
            else None
        )
        return OutboundMessage(
            text=text, html=as_html, subject=subject, kind=claim.kind, message_id=message_id
        )
    if renderer is None:
        raise LookupError("no template renderer configured")
    values = variables_for(claim)
    mark_sensitive(claim.message_content, claim.medicine_name, claim.medicine_dose)
    payload_options = (claim.payload or {}).get("options")
    if payload_options is None:
        options = default_options(claim.kind, claim.dose_event_id, claim.appointment_id)
    else:
        options = [tuple(o) for o in payload_options if len(o) == 2]
    message = renderer.render(
        claim.template or claim.kind,
        claim.locale,
        channel,
        values,
        options=options,  # type: ignore[arg-type]
        message_id=message_id,
    )
    mark_sensitive(message.text)
    return message
