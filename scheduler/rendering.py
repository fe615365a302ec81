"""Turn a claimed row into an :class:`OutboundMessage` for one channel.

Free text without a template is sent as written. A ``template`` naming a clinician template of
the patient's organization (``message_templates``, looked up in the batch cache of
:mod:`scheduler.custom_templates`) is rendered in the sandbox; so is an automatic message (no
``template``, an automatic kind) for which the clinic has an automatic version in the patient's
language; everything else is rendered by the built-in template named by ``template`` (or the
row's ``kind``) in the patient's locale. An appointment's built-in texts show the clinic's time
beside the patient's when their zones differ then (:mod:`scheduler.appointment_times`), and so
does a clinic's own text that names ``clinic_zone``, ``your_time`` or ``your_day``. The
medicine is named only when the patient opted in (``name_medicine_in_reminders``), and in caregiver
alerts only when the patient chose to share details. Bodies and medicine names are registered with
:func:`core.logs.mark_sensitive` before anything can log them.
"""

from __future__ import annotations

import dataclasses
import html
from datetime import datetime
from typing import Any

from jinja2 import TemplateSyntaxError
from jinja2.exceptions import SecurityError, UndefinedError

from core.answer_buttons import default_options
from core.dose_shown import dose_shown
from core.dose_times import sprung_over
from core.logs import mark_sensitive
from core.template_language import variables_used
from core.templating import (
    FALLBACK_LOCALE,
    MessageTooLong,
    TemplateNotAllowed,
    TemplateRenderer,
    email_page,
)
from platforms.base import Channel, Option, OutboundMessage
from scheduler.appointment_times import (
    APPOINTMENT_KINDS,
    BOTH_TIMES_VARIABLES,
    clinic_time_values,
)
from scheduler.claims import Claim
from scheduler.custom_templates import (
    AUTOMATIC_KINDS,
    GENERIC_MEDICINE,
    CustomTemplate,
    NoVersionForChannel,
    TemplateCache,
    allowed_variables,
    cached_cache,
    pick_automatic,
    pick_version,
)
from scheduler.dose_day import DOSE_DAY_KINDS, due_day

_FREE_KINDS = frozenset({"free_text", "system"})
# A caregiver's "has now taken it" after a missed-dose alert (migration 20260101018180).
_CAREGIVER_UPDATE = "caregiver_dose_update"
# Variables only the dispatcher may set, whatever the row's payload says (privacy opt-ins, and
# the dose's day, which depends on the moment of the send).
_PROTECTED = ("name_medicine", "share_details", "due_day")


def variables_for(
    claim: Claim, now: datetime | None = None, channel: Channel | None = None
) -> dict[str, Any]:
    """Template variables from the claim's joins, over the row's payload, for a send at ``now``
    (default: the row's ``scheduled_time``) on ``channel``: a reminder or follow-up sent on
    another day than its dose's, in the patient's zone, gets ``due_day``
    (:mod:`scheduler.dose_day`; on SMS in GSM-7 letters)."""
    values: dict[str, Any] = {
        k: _from_json(k, v)
        for k, v in (claim.payload or {}).items()
        if k not in _PROTECTED and k != "options"
    }
    due_at = claim.dose_due_at or claim.scheduled_time
    if claim.dose_due_at is not None and claim.kind in DOSE_DAY_KINDS:
        # The time the patient set (the planner's payload), where the clocks sprang forward
        # over it: "your 2:30 AM dose", fired at 3:00 (core.dose_times).
        payload = claim.payload or {}
        set_time = sprung_over(
            due_at, claim.timezone, payload.get("local_date"), payload.get("local_time")
        )
        due_at = set_time or due_at
    values.setdefault("due_at", due_at)
    if claim.kind == _CAREGIVER_UPDATE:
        # Planned at the answer's moment (migration 20260101018180), which its payload keeps
        # through a quiet-hours deferral; a preview has only the time.
        values.setdefault("answered_at", claim.scheduled_time)
    values["timezone"] = claim.timezone
    if claim.dose_due_at is not None and claim.kind in DOSE_DAY_KINDS:
        day = due_day(
            claim.dose_due_at,
            claim.timezone,
            claim.locale,
            claim.scheduled_time if now is None else now,
            sms=channel == Channel.SMS,
        )
        if day is not None:  # absent on the dose's own day: the text is as it always was
            values["due_day"] = day
    if claim.display_name:
        values.setdefault("patient_name", claim.display_name)
    if claim.organization_name:
        values.setdefault("clinic_name", claim.organization_name)
    if claim.message_content is not None:
        values.setdefault("body", claim.message_content)
    if claim.medicine_name:
        values.setdefault("medicine_name", claim.medicine_name)
    if claim.medicine_dose:
        # As the bot says it: a number alone is that many pills ("Metformina, 1" read as a
        # medicine's number; core.dose_shown).
        values.setdefault("dose_text", dose_shown(claim.medicine_dose, claim.locale))
    if claim.appointment_starts_at is not None:
        values.setdefault("starts_at", claim.appointment_starts_at)
        if claim.appointment_location:
            values.setdefault("location", claim.appointment_location)
        if claim.appointment_clinician:
            values.setdefault("clinician_name", claim.appointment_clinician)
    values.setdefault("clinic_name", "your clinic")
    if claim.caregiver_id is not None:
        share = bool(claim.caregiver_share_details)
        if claim.kind == _CAREGIVER_UPDATE:
            # No more than the alert it follows said: the consent it was sent with, and the
            # caregiver's now (withdrawn since, the update names no medicine either).
            share = share and (claim.payload or {}).get("share_details") is True
        values["share_details"] = share
        values["name_medicine"] = share
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


class CustomTemplateFailed(ValueError):
    """A clinician template could not be rendered; the text names the template and the problem."""


def render_claim(
    renderer: TemplateRenderer | None,
    claim: Claim,
    channel: Channel,
    templates: TemplateCache | None = None,
    now: datetime | None = None,
) -> OutboundMessage:
    """The message for ``claim`` on ``channel``, sent at ``now`` (default: its
    ``scheduled_time``; it decides whether a reminder names its dose's day).

    ``templates`` holds the clinician templates of the batch; by default the cache that
    :func:`scheduler.custom_templates.prefetch_templates` filled for ``renderer``. Without one,
    ``template`` names a built-in template only.

    Raises the renderer's errors (``MessageTooLong``, ``UnknownTemplate``, Jinja's
    ``UndefinedError``) and :class:`CustomTemplateFailed`: the dispatcher fails the row with that
    reason, no retry.
    """
    message_id = str(claim.id)
    if claim.template is None and claim.kind in _FREE_KINDS:
        text = claim.message_content or ""
        mark_sensitive(text)
        as_html = (
            html.escape(text, quote=False) if channel in (Channel.TELEGRAM, Channel.EMAIL) else None
        )
        if as_html is not None and channel == Channel.EMAIL:
            # A page, as a template's e-mail is: its lines and paragraphs show in mail apps.
            as_html = email_page(as_html, claim.locale or FALLBACK_LOCALE)
        subject = (
            (claim.organization_name or "Message from your clinic")[:120]
            if channel == Channel.EMAIL
            else None
        )
        return OutboundMessage(
            text=text,
            html=as_html,
            subject=subject,
            kind=claim.kind,
            message_id=message_id,
            **_payload_choices(claim),
        )
    if renderer is None:
        raise LookupError("no template renderer configured")
    values = variables_for(claim, now, channel)
    mark_sensitive(claim.message_content, claim.medicine_name, claim.medicine_dose)
    payload_options = (claim.payload or {}).get("options")
    if payload_options is None:
        options = default_options(claim.kind, claim.dose_event_id, claim.appointment_id)
    else:
        options = [tuple(o) for o in payload_options if len(o) == 2]
    if claim.template is not None:
        cache = templates if templates is not None else cached_cache(renderer)
        versions = (
            cache.lookup(claim.patient_id, claim.template)
            if cache and claim.patient_id is not None
            else None
        )
        if versions:
            version = pick_version(versions, claim.locale, str(channel))
            if version is None:
                raise NoVersionForChannel(
                    f"template {claim.template!r} has no version for {channel} or 'default'"
                )
            return _render_custom(renderer, version, claim, channel, values, options)
    elif claim.kind in AUTOMATIC_KINDS:
        cache = templates if templates is not None else cached_cache(renderer)
        automatic = (
            cache.automatic(claim.organization_id, claim.kind)
            if cache and claim.organization_id is not None
            else None
        )
        version = pick_automatic(automatic or (), claim.locale, str(channel))
        if version is not None:
            return _render_custom(renderer, version, claim, channel, values, options)
    return _render_builtin(
        renderer, claim, channel, claim.template or claim.kind, values, options, message_id
    )


def render_or_fallback(
    renderer: TemplateRenderer | None,
    claim: Claim,
    channel: Channel,
    templates: TemplateCache | None = None,
    now: datetime | None = None,
) -> tuple[OutboundMessage, str | None]:
    """The message for ``claim`` on ``channel`` at ``now`` (:func:`render_claim`), and why it is
    not the one asked for (or None).

    A clinician template that cannot be rendered (stored around the checks, longer than the
    channel allows, or without a version for the channel) is replaced by the built-in text of the
    row's kind when there is one (a reminder still reaches the patient); free text has none, so
    its error is raised, as :func:`render_claim` raises it. ``MessageTooLong`` of the built-in
    text is raised too: the dispatcher then tries the patient's next channel.
    """
    try:
        return render_claim(renderer, claim, channel, templates, now), None
    except (CustomTemplateFailed, NoVersionForChannel) as exc:
        if renderer is None or claim.kind in _FREE_KINDS:
            raise
        values = variables_for(claim, now, channel)
        options = default_options(claim.kind, claim.dose_event_id, claim.appointment_id)
        message = _render_builtin(
            renderer, claim, channel, claim.kind, values, options, str(claim.id)
        )
        return message, f"{exc}; sent the built-in {claim.kind} text instead"


def only_this_channel(exc: BaseException) -> bool:
    """True when rendering failed for this channel only: the text is over its limit, or the
    clinician template has no version for it (another channel may take the message)."""
    return isinstance(exc, MessageTooLong | NoVersionForChannel) or (
        isinstance(exc, CustomTemplateFailed) and isinstance(exc.__cause__, MessageTooLong)
    )


def _render_builtin(
    renderer: TemplateRenderer,
    claim: Claim,
    channel: Channel,
    name: str,
    values: dict[str, Any],
    options: list[Any],
    message_id: str,
) -> OutboundMessage:
    values = _with_clinic_time(claim, channel, values)
    message = renderer.render(
        name, claim.locale, channel, values, options=options, message_id=message_id
    )
    mark_sensitive(message.text)
    return message


def _with_clinic_time(claim: Claim, channel: Channel, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with the clinic's time, labelled, and the patient's own beside it, for an
    appointment whose zones differ at its instant (scheduler.appointment_times); else as given."""
    if (
        claim.organization_timezone is not None
        and claim.organization_timezone != claim.timezone
        and claim.kind in APPOINTMENT_KINDS
        and isinstance(values.get("starts_at"), datetime)
    ):
        both = clinic_time_values(
            values["starts_at"],
            claim.timezone,
            claim.organization_timezone,
            claim.locale,
            sms=channel == Channel.SMS,
        )
        if both is not None:
            return {**values, **both}
    return values


def _names_both_times(version: CustomTemplate) -> bool:
    """Whether a clinic's template was written for two zones: it names the clinic's zone or the
    patient's time or day. Then its ``starts_at`` shows the clinic's wall clock, as the built-in
    texts do; a template naming none shows the patient's, as it always did."""
    used = variables_used(version.body) | variables_used(version.subject or "")
    return not used.isdisjoint(BOTH_TIMES_VARIABLES)


def _render_custom(
    renderer: TemplateRenderer,
    version: CustomTemplate,
    claim: Claim,
    channel: Channel,
    values: dict[str, Any],
    options: list[Any],
) -> OutboundMessage:
    """Render a clinician template in the sandbox; any failure names the template."""
    if _names_both_times(version):
        values = _with_clinic_time(claim, channel, values)
    values = _custom_values(version.kind, claim, values)
    resolved = _resolve_options(renderer, claim, channel, options)
    allowed = allowed_variables(version.kind)
    try:
        message = renderer.render_custom(
            version.body,
            values,
            channel,
            locale=claim.locale,
            kind=claim.kind,
            options=resolved,
            message_id=str(claim.id),
            allowed=allowed,
        )
        if version.subject and channel == Channel.EMAIL:
            subject = renderer.render_custom(
                version.subject, values, Channel.CONSOLE, allowed=allowed
            ).text
            message = dataclasses.replace(message, subject=" ".join(subject.split())[:120])
    except Exception as exc:  # any failure of clinician text fails the row, never the worker
        raise CustomTemplateFailed(f"{version.label}: {_problem(exc)}") from exc
    mark_sensitive(message.text, message.subject)
    return message


def _custom_values(kind: str, claim: Claim, values: dict[str, Any]) -> dict[str, Any]:
    """Variables a clinician template sees: the allowed ones, the medicine only if opted in."""
    out = dict(values)
    if not out.get("name_medicine"):
        language = claim.locale.replace("-", "_").split("_")[0].lower()
        out["medicine_name"] = GENERIC_MEDICINE.get(language, GENERIC_MEDICINE[FALLBACK_LOCALE])
        out["dose_text"] = ""
    # Allowed but unknown for this row (no location, no name): empty rather than a failed send.
    for name in allowed_variables(kind):
        if out.get(name) is None and not name.endswith("_at"):
            out[name] = ""
    return out


def _payload_choices(claim: Claim) -> dict[str, Any]:
    """Options with their final labels and a column count from a free-text row's payload: a bot
    reply stored by the turn (``bot.reply_rows``) keeps its buttons."""
    payload = claim.payload or {}
    pairs = payload.get("options")
    if not isinstance(pairs, list) or not pairs:
        return {}
    options = tuple(
        Option(label=str(pair[0]), data=str(pair[1]))
        for pair in pairs
        if isinstance(pair, list | tuple) and len(pair) == 2
    )
    columns = payload.get("columns")
    choices: dict[str, Any] = {
        "options": options,
        "columns": columns if isinstance(columns, int) else 1,
    }
    # A reply whose options are typed as their labels ("30" minutes) keeps its reply keys: sent
    # later by the worker, numbered ("2 60") they read as a menu the step does not take (a typed
    # "2" is two minutes there).
    keys = payload.get("reply_keys")
    if isinstance(keys, list) and len(keys) == len(options):
        choices["reply_keys"] = tuple(str(k) for k in keys)
    return choices


def _resolve_options(
    renderer: TemplateRenderer, claim: Claim, channel: Channel, options: list[Any]
) -> list[Option]:
    """Answer buttons labelled as the built-in template of the row's kind labels them."""
    try:
        labels = renderer.labels(claim.kind, claim.locale, str(channel))
    except Exception:  # no built-in labels: the keys themselves are readable
        labels = {}
    return [
        o if isinstance(o, Option) else Option(label=labels.get(o[0], o[0].title()), data=o[1])
        for o in options
    ]


def _problem(exc: BaseException) -> str:
    """What went wrong, for ``last_error``: never the template's text or the patient's data."""
    if isinstance(exc, UndefinedError):
        return f"undefined variable ({exc.message})"
    if isinstance(exc, TemplateNotAllowed):
        return f"not allowed in a template ({exc.message})"
    if isinstance(exc, SecurityError):
        return f"refused by the sandbox ({exc.message})"
    if isinstance(exc, TemplateSyntaxError):
        return f"syntax error on line {exc.lineno}: {exc.message}"
    if isinstance(exc, MessageTooLong):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
