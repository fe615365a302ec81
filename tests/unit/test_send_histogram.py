"""scheduler.metrics.SendHistogram is exposed as prometheus_client's Histogram is (issue 20)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Histogram, generate_latest

from scheduler import metrics
from scheduler.metrics import SendHistogram

BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)
# The _created sample's value is the moment each was made: compared by its presence only.
_CREATED = re.compile(r"^(\w+_created) \S+$", re.MULTILINE)


def _exposed(values: list[float], *, ours: bool) -> str:
    registry = CollectorRegistry()
    name, documentation = "t_lag_seconds", "Time from scheduled_time to the send"
    histogram: SendHistogram | Histogram = (
        SendHistogram(name, documentation, BUCKETS, registry)
        if ours
        else Histogram(name, documentation, buckets=BUCKETS, registry=registry)
    )
    for value in values:
        histogram.observe(value)
    return _CREATED.sub(r"\1 <time>", generate_latest(registry).decode())


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from([0.0, *BUCKETS, 3600.0001]),  # on and just past the bounds
            st.floats(min_value=0.0, max_value=1e6, allow_nan=False),
        ),
        max_size=60,
    )
)
def test_the_samples_are_those_of_a_prometheus_histogram(values: list[float]) -> None:
    assert _exposed(values, ours=True) == _exposed(values, ours=False)


def test_no_created_sample_when_prometheus_is_told_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMETHEUS_DISABLE_CREATED_SERIES", "true")
    assert "_created" not in _exposed([1.0], ours=True)


def test_the_send_lag_is_in_the_default_registry_and_unsorted_buckets_are_refused() -> None:
    from prometheus_client import REGISTRY

    before = REGISTRY.get_sample_value("medremind_send_lag_seconds_count") or 0.0
    metrics.LAG.observe(0.2)
    assert REGISTRY.get_sample_value("medremind_send_lag_seconds_count") == before + 1
    assert REGISTRY.get_sample_value("medremind_send_lag_seconds_bucket", {"le": "0.25"})
    with pytest.raises(ValueError, match="sorted"):
        SendHistogram("t_other", "t", (1.0, 0.5), None)
