"""A table of real built-in renders (kinds x channels x locales x options x medicine names), and
their output serialised for comparison byte for byte.

The expected output (``tests/unit/fixtures/render_golden.json``) was written by the renderer as
it was before renders were cached and split per channel (commit 6682931):

    .venv/bin/python -m tests.unit.render_cases > tests/unit/fixtures/render_golden.json

``tests/unit/test_render_golden.py`` renders the same table with the current code and compares.
Regenerate only for an intended change of a template's text, and say so in the commit.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from core.answer_buttons import default_options
from core.messages import Channel, Option
from core.templating import TemplateRenderer

GOLDEN = Path(__file__).parent / "fixtures" / "render_golden.json"

DOSE = UUID("0f0e0d0c-0b0a-4908-8706-050403020100")
APPOINTMENT = UUID("11111111-2222-4333-8444-555555555555")
DUE = datetime(2026, 3, 4, 8, 0, tzinfo=UTC)
STARTS = datetime(2026, 3, 9, 14, 30, tzinfo=UTC)

# (locale, timezone): a shipped locale, a region of one, locales whose templates fall back to
# English but whose dates Babel formats its own way (24-hour clocks, other month names), an
# unknown locale, and no timezone at all.
LOCALES: tuple[tuple[str, str | None], ...] = (
    ("en", "America/New_York"),
    ("en-GB", "Europe/London"),
    ("es", "Europe/Madrid"),
    ("es-MX", "America/Mexico_City"),
    ("pt-BR", "America/Sao_Paulo"),
    ("de", None),
    ("xx-YY", "Asia/Kolkata"),
)
CHANNELS = tuple(str(channel) for channel in Channel)
KINDS = (
    "medication_reminder",
    "dose_followup",
    "missed_dose_caregiver",
    "appointment_confirmation",
    "appointment_reminder",
    "appointment_cancelled",
    "appointment_rescheduled",
    "refill_reminder",
    "free_text",
    "join_invitation",
)


def _variables(kind: str, named: bool, long_body: bool) -> dict[str, Any]:
    """What the dispatcher passes (scheduler.rendering.variables_for), escaping-worthy names."""
    values: dict[str, Any] = {
        "due_at": DUE,
        "patient_name": "Ann <b>O'Neil</b> & Co",
        "clinic_name": "Centro de Salud San Blas",
        "medicine_name": "Metformin <XR>",
        "dose_text": "500 mg",
        "name_medicine": named,
        "share_details": named,
        "body": ("Bring your card. " * 40).strip() if long_body else "Bring your card & list.",
    }
    if kind.startswith("appointment"):
        values |= {
            "starts_at": STARTS,
            "previous_starts_at": datetime(2026, 3, 7, 9, 15, tzinfo=UTC),
            "location": "Room 4, 2nd floor",
            "clinician_name": "Dr. Ruiz",
        }
    if kind == "missed_dose_caregiver":
        values["caregiver_name"] = "Luis"
    if kind == "refill_reminder":
        values |= {"doses_left": 3, "refill_by": date(2026, 3, 10), "clinic_phone": "+1 555 0100"}
    if kind == "join_invitation":
        values |= {"inviting_clinic": "Centro Norte", "token": "JOIN-1234", "sender_name": "Eva"}
    return values


def _options(kind: str, choice: str) -> list[Any]:
    if choice == "none":
        return []
    if choice == "objects":
        return [Option(label="Yes", data="y"), Option(label="No, later", data="n")]
    return list(default_options(kind, DOSE, APPOINTMENT))


# Ready-made Option objects (labels not from the template) for two kinds: the table stays small.
_CHOICES = {
    "medication_reminder": ("default", "none", "objects"),
    "appointment_reminder": ("default", "none", "objects"),
}


def cases() -> Iterator[tuple[str, dict[str, Any]]]:
    """``(case id, arguments of TemplateRenderer.render)`` for every combination."""
    for kind in KINDS:
        for locale, zone in LOCALES:
            for channel in CHANNELS:
                for choice in _CHOICES.get(kind, ("default", "none")):
                    for named in (False, True):
                        for long_body in (False, True) if kind == "free_text" else (False,):
                            variables = _variables(kind, named, long_body)
                            if zone is not None:
                                variables["timezone"] = zone
                            case = "|".join(
                                (kind, locale, channel, choice, "named" if named else "generic")
                                + (("long",) if long_body else ())
                            )
                            yield (
                                case,
                                {
                                    "kind": kind,
                                    "locale": locale,
                                    "channel": channel,
                                    "variables": variables,
                                    "options": _options(kind, choice),
                                    "message_id": case,
                                },
                            )


def outcome(renderer: TemplateRenderer, arguments: dict[str, Any]) -> dict[str, Any]:
    """The rendered message as JSON-able fields, or the error it raised (type and text)."""
    args = dict(arguments)
    try:
        message = renderer.render(
            args.pop("kind"),
            args.pop("locale"),
            args.pop("channel"),
            args.pop("variables"),
            **args,
        )
    except Exception as exc:  # the error is part of the behaviour held byte for byte
        return {"error": type(exc).__name__, "detail": str(exc)}
    return json.loads(json.dumps(dataclasses.asdict(message)))


def label_outcomes(renderer: TemplateRenderer) -> dict[str, dict[str, str]]:
    """``TemplateRenderer.labels`` for every kind, locale and channel (clinician renders use it)."""
    return {
        f"{kind}|{locale}|{channel}": renderer.labels(kind, locale, channel)
        for kind in KINDS
        for locale, _ in LOCALES
        for channel in CHANNELS
    }


def table(renderer: TemplateRenderer) -> dict[str, Any]:
    """Every case's outcome and every kind's labels."""
    return {
        "renders": {case: outcome(renderer, arguments) for case, arguments in cases()},
        "labels": label_outcomes(renderer),
    }


def dumps(result: dict[str, Any]) -> str:
    """One line per case (readable diffs), keys sorted."""
    lines = []
    for section, entries in sorted(result.items()):
        body = ",\n".join(
            f"  {json.dumps(key, ensure_ascii=False)}: "
            + json.dumps(value, ensure_ascii=False, sort_keys=True)
            for key, value in sorted(entries.items())
        )
        lines.append(f" {json.dumps(section)}: {{\n{body}\n }}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


if __name__ == "__main__":
    sys.stdout.write(dumps(table(TemplateRenderer())))
