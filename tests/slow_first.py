"""The suite's known long tests first on every pytest-xdist worker, so that none of them starts
when the others have run out of work (the run's tail).

``make test`` runs ``--dist worksteal``: the scheduler splits the collected tests, in order, into
one contiguous chunk per worker, and a worker that has run its chunk steals the back half of the
longest queue left. A test of a minute that happened to sit near the end of a chunk started when
the other workers were already idle, and the run waited for it alone. Here each chunk starts with
its share of the long tests (``tests/slow_tests.txt``, longest first, each to the chunk with the
least of them so far), and the rest of the chunk keeps the collection's order; steals take the back
of a queue, the short tests. Under another ``--dist`` that hands tests out from the front of one
list (``load``), the long tests simply come first; ``loadfile``, ``loadscope`` and ``loadgroup``
keep their order, as does a run without xdist (one process: the order changes nothing).

``tests/slow_tests.txt`` holds a line ``<seconds> <test id>`` for each test that took a few
seconds or more in a measured run; a test not in it counts as short. Remake it from a run of the
suite with ``tests/timeline.py`` (the command is in ``tests/timeline_report.py``).
"""

from __future__ import annotations

import heapq
from pathlib import Path
from typing import Any, TypeVar

import pytest

SLOW_TESTS = Path(__file__).with_name("slow_tests.txt")
T = TypeVar("T")
# The key of the run's --dist mode in a worker's workerinput.
DIST = "medremind_dist"


def known_durations(path: Path = SLOW_TESTS) -> dict[str, float]:
    """The measured seconds of each test id in ``path`` (``<seconds> <id>`` lines; ``#`` starts
    a comment line)."""
    durations = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            seconds, test_id = line.split(" ", 1)
            durations[test_id] = float(seconds)
    return durations


def worksteal_chunk_sizes(total: int, workers: int) -> list[int]:
    """The sizes of the chunks xdist's worksteal scheduler first hands its ``workers``: each
    takes ``len(pending) // workers_left`` of what is left (xdist/scheduler/worksteal.py,
    ``check_schedule``)."""
    sizes = []
    for index in range(workers):
        size = total // (workers - index)
        sizes.append(size)
        total -= size
    return sizes


def slow_first_chunks(items: list[T], durations: list[float | None], sizes: list[int]) -> list[T]:
    """``items`` reordered so that chunk k (the next ``sizes[k]`` items) starts with its share of
    the long ones (``durations`` not None), longest first, shares balanced by their total, and
    goes on with short ones in their given order."""
    slow = sorted(
        (index for index, seconds in enumerate(durations) if seconds is not None),
        key=lambda index: -(durations[index] or 0.0),
    )
    chunks: list[list[int]] = [[] for _ in sizes]
    loads = [(0.0, chunk) for chunk in range(len(sizes))]
    heapq.heapify(loads)
    for index in slow:
        while True:
            load, chunk = heapq.heappop(loads)
            if len(chunks[chunk]) < sizes[chunk]:
                break  # a chunk full of long tests takes no more
        chunks[chunk].append(index)
        heapq.heappush(loads, (load + (durations[index] or 0.0), chunk))
    short = iter(index for index, seconds in enumerate(durations) if seconds is None)
    for indices, size in zip(chunks, sizes, strict=True):
        indices.extend(next(short) for _ in range(size - len(indices)))
    return [items[index] for indices in chunks for index in indices]


def tell_the_worker_the_dist_mode(node: Any) -> None:
    """On the xdist controller (``pytest_configure_node``): the run's ``--dist`` in the worker's
    ``workerinput`` (a worker's own ``--dist`` option is always "no")."""
    node.workerinput[DIST] = node.config.getoption("dist")


def order_slow_first(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Reorder ``items`` in place (from ``pytest_collection_modifyitems``) for the run's
    ``--dist`` mode, as the module's docstring says."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is None:
        return  # no xdist (or its controller, which does not collect)
    dist = workerinput.get(DIST, "no")
    durations = known_durations()
    measured = [durations.get(item.nodeid) for item in items]
    if dist == "worksteal":
        sizes = worksteal_chunk_sizes(len(items), int(workerinput["workercount"]))
        items[:] = slow_first_chunks(items, measured, sizes)
    elif dist == "load":
        order = sorted(range(len(items)), key=lambda index: -(measured[index] or 0.0))
        items[:] = [items[index] for index in order]
