"""Benchmark of clinician templates: the cost of checking one (at save) and of rendering one (at
send), p50 and p99, and of checking the issue's hostile templates.

    .venv/bin/python bench/templates.py --repeat 2000

Prints one JSON line per measurement. Uses only the public ``TemplateRenderer`` methods
(``validate_custom`` and ``render_custom``), so running it with an older checkout first on
``PYTHONPATH`` measures "before". Hostile templates are checked ``--hostile-repeat`` times each
(default 3): before the template language, each check ran the template. A check is of a new text
each time (as at save, no cache helps); a render of the same text (as in the worker). Run by
hand; no test asserts timings.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from core.templating import TemplateRenderer

ALLOWED = ["patient_name", "clinic_name", "due_at", "medicine_name", "dose_text"]
VALUES: dict[str, Any] = {
    "patient_name": "María José Fernández",
    "clinic_name": "Centro de Salud San Blas Norte",
    "due_at": datetime(2025, 3, 4, 20, 0, tzinfo=UTC),
    "medicine_name": "Metformin",
    "dose_text": "500 mg",
}
TEMPLATES = {
    "short": "Hi {{ patient_name }}, {{ clinic_name }} here.",
    "reminder": (
        "{% if patient_name %}Hi {{ patient_name|title }}{% else %}Hello{% endif %}: time for "
        "{{ medicine_name }} ({{ dose_text|default('your dose') }}) at {{ due_at|time }}. "
        "{{ clinic_name|upper }}"
    ),
}
HOSTILE = {
    "multiply": "{{ patient_name * 10**6 }}",
    "replace_empty": "{{ patient_name|replace('', 'xxxxxxxxxxxxxxxxxxxx') }}",
    "nested_loops": (
        "{% for a in patient_name ~ clinic_name %}{% for b in patient_name ~ clinic_name %}"
        "{% for c in patient_name ~ clinic_name %}x{% endfor %}{% endfor %}{% endfor %}"
    ),
}


def _timed(action: Callable[[int], object], repeat: int) -> dict[str, float]:
    samples = []
    for i in range(repeat):
        started = time.perf_counter()
        action(i)
        samples.append((time.perf_counter() - started) * 1e6)
    samples.sort()
    return {
        "n": repeat,
        "p50_us": round(statistics.median(samples), 1),
        "p99_us": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))], 1),
    }


def _check(renderer: TemplateRenderer, source: str) -> Callable[[int], object]:
    # A new text each time, as at save: no cache of an earlier check helps.
    return lambda i: renderer.validate_custom(f"{source} {i}", "sms", ALLOWED)


def _render(renderer: TemplateRenderer, source: str) -> Callable[[int], object]:
    # The same text each time, as in the worker (many patients, one template).
    return lambda i: renderer.render_custom(source, VALUES, "sms")


def main() -> None:
    """Measure and print JSON lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2000)
    parser.add_argument("--hostile-repeat", type=int, default=3)
    args = parser.parse_args()
    renderer = TemplateRenderer()
    for name, source in TEMPLATES.items():
        for what, action in (("check", _check), ("render", _render)):
            line: dict[str, object] = {"bench": f"template_{what}", "template": name}
            print(json.dumps(line | _timed(action(renderer, source), args.repeat)), flush=True)
    for name, source in HOSTILE.items():
        timed = _timed(_check(renderer, source), args.hostile_repeat)
        refused = bool(renderer.validate_custom(source, "sms", ALLOWED))
        line = {"bench": "template_check_hostile", "template": name, "refused": refused}
        print(json.dumps(line | timed), flush=True)


if __name__ == "__main__":
    main()
