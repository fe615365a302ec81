"""The long tests first on each xdist worker (tests.slow_first), checked against the installed
pytest-xdist's own worksteal scheduler: its first split gives every worker a chunk that starts
with its share of the long tests."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from xdist.scheduler import WorkStealingScheduling  # type: ignore[import-untyped]

from tests.slow_first import (
    DIST,
    SLOW_TESTS,
    known_durations,
    order_slow_first,
    slow_first_chunks,
    worksteal_chunk_sizes,
)


class _Node:
    """What the scheduler reads of a worker, recording the test indices sent to it."""

    def __init__(self) -> None:
        self.shutting_down = False
        self.gateway = SimpleNamespace(id=f"gw{id(self)}")
        self.sent: list[int] = []

    def send_runtest_some(self, indices: list[int]) -> None:
        self.sent.extend(indices)

    def shutdown(self) -> None:
        """Told when there is nothing to steal (a short collection)."""
        self.shutting_down = True


def _first_split(collection: list[str], workers: int) -> list[list[str]]:
    """The chunks xdist's worksteal scheduler hands ``workers`` workers for ``collection``."""
    config: Any = SimpleNamespace(getvalue=lambda name: [f"{workers}*popen"])
    scheduler = WorkStealingScheduling(config)
    nodes = [_Node() for _ in range(workers)]
    for node in nodes:
        scheduler.add_node(node)
    for node in nodes:
        scheduler.add_node_collection(node, collection)
    scheduler.schedule()
    return [[collection[index] for index in node.sent] for node in nodes]


def test_the_chunk_sizes_are_the_schedulers() -> None:
    for total in (0, 1, 7, 2832, 2833):
        for workers in (1, 2, 3, 4, 5):
            chunks = _first_split([f"t{i}" for i in range(total)], workers)
            assert [len(chunk) for chunk in chunks] == worksteal_chunk_sizes(total, workers)


def test_each_worker_starts_with_its_share_of_the_long_tests_longest_first() -> None:
    ids = [f"t{i}" for i in range(103)]
    # Long tests bunched at the end of the collection, as a late test file would put them.
    durations: list[float | None] = [None] * 93 + [60, 5, 50, 10, 40, 20, 30, 8, 45, 12]
    ordered = slow_first_chunks(ids, durations, worksteal_chunk_sizes(len(ids), 4))
    assert sorted(ordered) == sorted(ids)
    seconds = dict(zip(ids, durations, strict=True))
    chunks = _first_split(ordered, 4)
    heads = [[s for test in chunk if (s := seconds[test]) is not None] for chunk in chunks]
    for chunk, head in zip(chunks, heads, strict=True):
        assert [seconds[test] for test in chunk[: len(head)]] == head  # long ones first
        assert head == sorted(head, reverse=True)
    # Longest first to the least loaded: 60+10, 50+12+8, 45+20+5, 40+30.
    assert sorted(sum(head) for head in heads) == [70, 70, 70, 70]
    # The short tests keep the collection's order inside each chunk.
    for chunk in chunks:
        short = [test for test in chunk if seconds[test] is None]
        assert short == sorted(short, key=ids.index)


def test_the_checked_in_list_reads() -> None:
    durations = known_durations(SLOW_TESTS)
    assert durations
    assert all(test_id.startswith("tests/") and "::" in test_id for test_id in durations)


def test_every_listed_test_is_still_there() -> None:
    """A renamed test drops out of the list unseen and runs among the short ones, wherever its
    file puts it (six ids had: two renamed functions, four changed parameters). Each id's file
    must exist and define its function (parameters are not checked: that needs a collection)."""
    root = SLOW_TESTS.parents[1]
    gone = []
    for test_id in known_durations(SLOW_TESTS):
        path, name = test_id.split("::", 1)
        function = name.split("[", 1)[0].split("::")[-1]
        source = root / path
        if not source.is_file() or f"def {function}(" not in source.read_text(encoding="utf-8"):
            gone.append(test_id)
    assert not gone, f"in tests/slow_tests.txt but no longer in the suite: {gone}"


def test_a_worker_orders_by_the_runs_dist_mode_not_its_own() -> None:
    """A worker's own --dist option is always "no"; the controller passes the run's."""
    slowest = max(known_durations().items(), key=lambda item: item[1])[0]
    items: Any = [SimpleNamespace(nodeid=f"tests/unit/test_x.py::t{i}") for i in range(10)]
    items.append(SimpleNamespace(nodeid=slowest))
    for dist, first in (("worksteal", slowest), ("load", slowest), ("loadfile", items[0].nodeid)):
        config: Any = SimpleNamespace(
            workerinput={"workercount": 2, DIST: dist}, getoption=lambda name, default=None: "no"
        )
        ordered = list(items)
        order_slow_first(config, ordered)
        assert ordered[0].nodeid == first, dist
        assert sorted(item.nodeid for item in ordered) == sorted(item.nodeid for item in items)
