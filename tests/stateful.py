"""The hypothesis settings of the stateful property tests (``tests/**/test_*_stateful.py``)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings


def stateful_settings(examples: int, steps: int) -> settings:
    """``examples`` sequences of up to ``steps`` steps: derandomized (the same sequences every
    run, as CI runs them) unless ``MEDREMIND_STATEFUL_EXAMPLES`` asks for a bigger, random search;
    no deadline (each step talks to PostgreSQL and the loopback fakes), no example database."""
    return settings(
        max_examples=examples,
        stateful_step_count=steps,
        deadline=None,
        database=None,
        derandomize=os.environ.get("MEDREMIND_STATEFUL_EXAMPLES") is None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
