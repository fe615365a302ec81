"""The worker's render step alone, on the 08:00 burst's mix: CPU per message, one JSON line each.

    .venv/bin/python bench/render.py                          # 4,000 claims x 5 rounds
    .venv/bin/python bench/render.py --code /tmp/main-before  # another checkout's code
    .venv/bin/python bench/render.py --general                # compiled templates off

Each claim is what scenario 11 of ``bench/dispatch.py`` claims (``make_clinic`` and
``insert_reminders``): of 20 patients 12 on Telegram, 5 on SMS, 2 on WhatsApp, 1 on e-mail; five
locales and zones; a third opted in to medicine names; of 20 messages 17 medication reminders, a
dose follow-up, an appointment reminder and a free text; a new patient name on every claim (as at
08:00, no two messages alike). Each is rendered as the dispatcher renders it
(``scheduler.rendering.render_or_fallback`` for the channel routing picked), with the clinic's
automatic templates looked up and none found. CPU time (``time.process_time``) per message of each
round; the line gives the best and the median round, overall and per kind; a second line the
built-in renders alone (``TemplateRenderer.render``). ``--general`` measures
the general (Jinja) renderer in the same process: before/after in one run. Run by hand; no test
asserts timings.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(os.environ.get("BENCH_CODE_ROOT") or Path(__file__).resolve().parents[1]).resolve()


def _code_root() -> Path:
    """``--code DIR`` before anything of the project is imported (the code measured)."""
    argv = sys.argv[1:]
    if "--code" in argv:
        return Path(argv[argv.index("--code") + 1]).resolve()
    return ROOT


sys.path.insert(0, str(_code_root()))
os.environ["BENCH_CODE_ROOT"] = str(_code_root())  # bench/dispatch.py measures the same code

from bench.dispatch import CLINIC_LOCALES as LOCALES  # noqa: E402 (the burst's own mix)
from bench.dispatch import MEDICINES  # noqa: E402
from core.answer_buttons import default_options  # noqa: E402
from core.templating import TemplateRenderer  # noqa: E402
from platforms.base import Channel  # noqa: E402
from scheduler.claims import Claim  # noqa: E402
from scheduler.custom_templates import AUTOMATIC_KINDS, cache_for  # noqa: E402
from scheduler.rendering import render_or_fallback, variables_for  # noqa: E402

CLINICS = tuple(uuid.uuid4() for _ in range(3))
CLINIC_NAMES = (
    "Centro de Salud San Blas",
    "Northside Family Practice",
    "Clínica Vida",
)  # make_clinic


def _channel(i: int) -> Channel:
    slot = i % 20
    if slot < 12:
        return Channel.TELEGRAM
    if slot < 17:
        return Channel.SMS
    return Channel.WHATSAPP if slot < 19 else Channel.EMAIL


def _kind(i: int) -> str:
    return {17: "dose_followup", 18: "free_text", 13: "appointment_reminder"}.get(
        i % 20, "medication_reminder"
    )


def burst_claims(count: int, round_: int, due: datetime) -> list[tuple[Claim, Channel]]:
    """``count`` claims of the burst's mix, each with the channel routing gives it."""
    out = []
    for i in range(count):
        kind = _kind(i)
        locale, zone = LOCALES[i % 5]
        clinic = i % 3
        claim = Claim(
            id=uuid.uuid4(),
            patient_id=uuid.uuid4(),
            lease_token=uuid.uuid4(),
            scheduled_time=due,
            platform="auto",
            kind=kind,
            attempts=0,
            max_attempts=5,
            message_content="Bring your card on Monday." if kind == "free_text" else None,
            dose_event_id=None if kind in ("free_text", "appointment_reminder") else uuid.uuid4(),
            appointment_id=uuid.uuid4() if kind == "appointment_reminder" else None,
            locale=locale,
            timezone=zone,
            display_name=f"Patient {round_}-{i}",
            name_medicine_in_reminders=i % 3 == 0,
            organization_name=CLINIC_NAMES[clinic],
            organization_id=CLINICS[clinic],
            medicine_name=MEDICINES[i % 5],
            medicine_dose="500 mg",
            dose_due_at=due,
            appointment_starts_at=due + timedelta(days=1),
            appointment_location="Room 4" if kind == "appointment_reminder" else None,
            appointment_clinician="Dr. Ruiz" if kind == "appointment_reminder" else None,
        )
        out.append((claim, _channel(i)))
    return out


def main() -> None:
    """Render the burst's claims round after round; print JSON lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--code", default=None, help="measure the code of another checkout")
    parser.add_argument("--general", action="store_true", help="compiled templates off")
    args = parser.parse_args()

    renderer = TemplateRenderer()
    if args.general:
        if not hasattr(renderer, "compiled"):
            parser.error("this code has no compiled templates to turn off")
        renderer.compiled = False
    cache = cache_for(renderer)  # the clinics have no automatic versions, as in the bench's burst
    for clinic in CLINICS:
        for kind in AUTOMATIC_KINDS:
            cache.put_automatic(clinic, kind, ())
    due = datetime(2026, 3, 4, 8, 0, tzinfo=UTC)
    warm = burst_claims(200, -1, due)
    for claim, channel in warm:
        render_or_fallback(renderer, claim, channel)

    per_round: list[float] = []
    per_kind: dict[str, list[float]] = {}
    renderer_only: list[float] = []
    for round_ in range(args.rounds):
        claims = burst_claims(args.messages, round_, due)
        started = time.process_time()
        for claim, channel in claims:
            render_or_fallback(renderer, claim, channel)
        per_round.append((time.process_time() - started) / len(claims) * 1e6)
        # Each kind alone, on claims with names not seen yet (one timer per kind, not per message).
        by_kind: dict[str, list[tuple[Claim, Channel]]] = {}
        for claim, channel in burst_claims(args.messages, args.rounds + round_, due):
            by_kind.setdefault(claim.kind, []).append((claim, channel))
        for kind, group in by_kind.items():
            started = time.process_time()
            for claim, channel in group:
                render_or_fallback(renderer, claim, channel)
            spent = time.process_time() - started
            per_kind.setdefault(kind, []).append(spent / len(group) * 1e6)
        # The built-in renders alone (TemplateRenderer.render), their arguments made beforehand:
        # no variables from the claim, no answer buttons, no registration of sensitive values.
        calls = [
            (claim, channel, variables_for(claim), default_options(*_option_args(claim)))
            for claim, channel in burst_claims(args.messages, 2 * args.rounds + round_, due)
            if claim.kind != "free_text"
        ]
        started = time.process_time()
        for claim, channel, values, options in calls:
            renderer.render(claim.kind, claim.locale, channel, values, options=options)
        renderer_only.append((time.process_time() - started) / len(calls) * 1e6)

    line: dict[str, Any] = {
        "bench": "render_burst_mix",
        "code": str(_code_root()),
        "path": "general" if args.general else "default",
        "messages": args.messages,
        "rounds": args.rounds,
        "us_per_message_best": round(min(per_round), 1),
        "us_per_message_median": round(statistics.median(per_round), 1),
        "us_per_message_by_kind_median": {
            kind: round(statistics.median(values), 1) for kind, values in sorted(per_kind.items())
        },
    }
    print(json.dumps(line), flush=True)
    line = {
        "bench": "render_builtin_only",
        "code": str(_code_root()),
        "path": "general" if args.general else "default",
        "us_per_message_best": round(min(renderer_only), 1),
        "us_per_message_median": round(statistics.median(renderer_only), 1),
        "note": "TemplateRenderer.render of the mix's templated messages, arguments made before",
    }
    print(json.dumps(line), flush=True)


def _option_args(claim: Claim) -> tuple[str, Any, Any]:
    return claim.kind, claim.dose_event_id, claim.appointment_id


if __name__ == "__main__":
    main()
