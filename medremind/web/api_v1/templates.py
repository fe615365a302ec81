"""``/api/v1/templates``: the clinic's own message templates, validated before they are saved.

A template is plain text with ``{{ variable }}`` placeholders, a few filters and ``{% if %}``
(:mod:`core.template_language`), rendered by the worker in Jinja2's sandbox. Saving one checks it
with :meth:`core.templating.TemplateRenderer.validate_custom` without running it: syntax, unknown
variables, anything outside the language (loops, arithmetic, ``self``, ``name.upper``, calls,
``replace('', ...)``), and its worst-case length (every variable at its longest, UCS-2 on SMS, plus
the kind's numbered answers) against the channel's limit (for ``default``, against SMS, WhatsApp
and Telegram, since a default version may go out on any of them). The variables a template may
use depend on its kind (:data:`scheduler.custom_templates.ALLOWED_VARIABLES`): every kind has
``patient_name``, ``clinic_name`` and ``due_at`` (plus ``locale`` and ``timezone``); medication
kinds add ``medicine_name`` and ``dose_text`` (``medicine_name`` reads "your medicine" unless the
patient opted in to naming it); appointment kinds add ``starts_at``, ``location`` and
``clinician_name``; ``missed_dose_caregiver`` adds ``caregiver_name``.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import asyncpg
from starlette.requests import Request
from starlette.responses import Response

from core.logs import mark_sensitive
from core.sql import query
from core.templating import KINDS, TemplateRenderer, count_segments
from medremind.web.api_v1 import validation as v
from medremind.web.api_v1.common import json_body, json_response, organization, row_dict
from medremind.web.errors import ValidationFailed, error_body
from medremind.web.state import web_state
from scheduler.custom_templates import GENERIC_MEDICINE, allowed_variables

MAX_BODY_LENGTH = 10_000  # the table's check constraint
MAX_NAME_LENGTH = 100
MAX_SUBJECT_LENGTH = 200
TEMPLATE_CHANNELS = ("default", *v.CHANNELS)
# A default version may be sent on any channel: its length is checked against the strict ones.
_DEFAULT_CHECKED = ("sms", "whatsapp", "telegram")
TEMPLATE_KINDS = (*KINDS, "system")
OUTPUT_FIELDS = (
    "id",
    "name",
    "kind",
    "locale",
    "channel",
    "body",
    "subject",
    "created_at",
    "updated_at",
)
_VALIDATE_FIELDS = frozenset({"body", "channel", "kind", "subject"})
_PUT_FIELDS = frozenset({"body", "channel", "kind", "locale", "subject"})

# Realistic, longish samples, so a template that fits with them fits with most real values.
_SAMPLES: dict[str, Any] = {
    "patient_name": "Alexandra Example",
    "clinic_name": "Riverside Family Clinic",
    "due_at": datetime(2025, 1, 15, 20, 0, tzinfo=UTC),
    "starts_at": datetime(2025, 1, 16, 9, 30, tzinfo=UTC),
    "location": "Room 12, second floor",
    "clinician_name": "Dr Sample Clinician",
    "medicine_name": GENERIC_MEDICINE["en"],
    "dose_text": "500 mg",
    "caregiver_name": "Sam Example",
}


@functools.cache
def _renderer(sms_max_segments: int) -> TemplateRenderer:
    return TemplateRenderer(sms_max_segments=sms_max_segments)


def renderer_for(request: Request) -> TemplateRenderer:
    """The renderer with this deployment's SMS segment limit."""
    return _renderer(web_state(request).settings.sms_max_segments)


def samples_for(kind: str, *, exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Sample values of the variables ``kind`` allows (the preview and length check use them)."""
    return {n: _SAMPLES.get(n, f"Sample {n}") for n in allowed_variables(kind) if n not in exclude}


def check_source(
    renderer: TemplateRenderer, source: str, channel: str, samples: Mapping[str, Any], kind: str
) -> list[str]:
    """Problems of ``source`` for ``channel`` (``default``: every strict channel), or [].

    Only the names of ``samples`` matter here: the check never runs the template with them.
    """
    channels = _DEFAULT_CHECKED if channel == "default" else (channel,)
    problems: list[str] = []
    for chan in channels:
        for problem in renderer.validate_custom(source, chan, samples, kind=kind):
            if problem not in problems:
                problems.append(problem)
    return problems


def preview_text(renderer: TemplateRenderer, source: str, samples: Mapping[str, Any]) -> str:
    """``source`` rendered in the sandbox with ``samples`` (call only once it validated)."""
    return renderer.render_custom(source, samples, "console", allowed=samples).text


def template_json(row: Mapping[str, Any]) -> dict[str, Any]:
    """A template version as the API shows it."""
    return row_dict(row, OUTPUT_FIELDS)


def _name(request: Request) -> str:
    name = request.path_params["name"]
    if not name.strip() or len(name) > MAX_NAME_LENGTH or any(ord(c) < 32 for c in name):
        raise ValidationFailed(
            "name", f"must be 1 to {MAX_NAME_LENGTH} printable characters, not only spaces"
        )
    return name


def _body_source(body: Mapping[str, Any]) -> str:
    source = body.get("body")
    if not isinstance(source, str):
        raise ValidationFailed("body", "is required: the template text")
    if len(source) > MAX_BODY_LENGTH:
        raise ValidationFailed("body", f"must be at most {MAX_BODY_LENGTH} characters")
    return source


async def validate_template(request: Request) -> Response:
    """``POST /api/v1/templates/validate``: preview, length and SMS segments of a template that
    can be saved; 422 with ``problems`` (every one, each naming its line) for one that cannot."""
    await organization(request)
    body = v.require_object(await json_body(request))
    v.reject_unknown(body, _VALIDATE_FIELDS)
    source = _body_source(body)
    channel = v.choice(body.get("channel", "default"), "channel", TEMPLATE_CHANNELS)
    kind = v.choice(body.get("kind", "free_text"), "kind", TEMPLATE_KINDS)
    subject = v.string(body, "subject", max_length=MAX_SUBJECT_LENGTH)
    renderer = renderer_for(request)
    samples = samples_for(kind)
    problems = check_source(renderer, source, channel, samples, kind)
    if subject is not None:
        problems += [f"subject: {p}" for p in renderer.validate_custom(subject, "email", samples)]
    allowed = sorted(allowed_variables(kind))
    if problems:
        # The same answer PUT gives (it could not be saved), with every problem listed.
        error = error_body(422, "; ".join(problems), field="body")
        return json_response(
            {**error, "ok": False, "problems": problems, "allowed_variables": allowed}, 422
        )
    preview = preview_text(renderer, source, samples)
    encoding, segments = count_segments(preview)
    return json_response(
        {
            "ok": True,
            "problems": [],
            "preview": preview,
            "length": len(preview),
            "segments": segments,
            "encoding": encoding,
            "allowed_variables": allowed,
        }
    )


async def put_template(request: Request) -> Response:
    """``PUT /api/v1/templates/{name}``: create or replace one locale and channel version."""
    org_id = await organization(request)
    name = _name(request)
    body = v.require_object(await json_body(request))
    v.reject_unknown(body, _PUT_FIELDS)
    source = _body_source(body)
    channel = v.choice(body.get("channel", "default"), "channel", TEMPLATE_CHANNELS)
    kind = v.choice(body.get("kind", "free_text"), "kind", TEMPLATE_KINDS)
    locale = v.locale(body.get("locale", "en"), "locale")
    subject = v.string(body, "subject", max_length=MAX_SUBJECT_LENGTH)
    renderer = renderer_for(request)
    samples = samples_for(kind)
    where = f"template {name!r} ({locale}, {channel})"
    problems = check_source(renderer, source, channel, samples, kind)
    if problems:
        raise ValidationFailed("body", f"{where}: " + "; ".join(problems))
    if subject is not None:
        problems = renderer.validate_custom(subject, "email", samples)
        if problems:
            raise ValidationFailed("subject", f"{where}: " + "; ".join(problems))
    mark_sensitive(source, subject)
    async with web_state(request).pool.acquire() as conn:
        row = await conn.fetchrow(
            query("templates", "upsert_template"),
            org_id,
            name,
            kind,
            locale,
            channel,
            source,
            subject,
        )
    return json_response(template_json(row), 201 if row["created"] else 200)


async def list_templates(request: Request) -> Response:
    """``GET /api/v1/templates``: every version of every template of the caller's clinic."""
    org_id = await organization(request)
    async with web_state(request).pool.acquire() as conn:
        rows = await conn.fetch(query("templates", "list_templates"), org_id)
    return json_response({"data": [template_json(r) for r in rows]})


async def check_message_template(
    conn: asyncpg.Connection,
    renderer: TemplateRenderer,
    org_id: uuid.UUID,
    name: str,
    kind: str,
) -> None:
    """422 naming ``template`` unless it is the clinic's (and every version validates for a
    message of ``kind``) or a built-in kind."""
    rows = await conn.fetch(query("templates", "templates_by_name"), org_id, name)
    if not rows:
        if name in KINDS:
            return
        raise ValidationFailed(
            "template",
            f"no template {name!r} in your organization and no built-in template of that name "
            f"(built-in: {', '.join(KINDS)})",
        )
    # A message from the API is linked to no appointment, so starts_at cannot be filled.
    samples = samples_for(kind, exclude=frozenset({"starts_at"}))
    for row in rows:
        problems = check_source(renderer, row["body"], row["channel"], samples, kind)
        if problems:
            raise ValidationFailed(
                "template",
                f"template {name!r} ({row['locale']}, {row['channel']}) cannot be sent as "
                f"{kind}: " + "; ".join(problems),
            )


__all__ = [
    "TEMPLATE_CHANNELS",
    "TEMPLATE_KINDS",
    "check_message_template",
    "check_source",
    "list_templates",
    "put_template",
    "samples_for",
    "validate_template",
]
