"""Summarise the JSON lines ``tests/timeline.py`` wrote: the slowest tests and files, each
worker's busy and idle time and how long it waited for the last one, and where the CPU went.

A measured run of the suite and its summary::

    MEDREMIND_TEST_TIMELINE=/tmp/t.jsonl make test TEST_DIST="worksteal -p tests.timeline"
    .venv/bin/python tests/timeline_report.py /tmp/t.jsonl --top 60

``--sort cpu`` ranks tests and files by their CPU (their own, the processes they waited for and
the embedded PostgreSQL's) instead of their wall time: on the CI host's 2 busy cores, what a test
costs the run. ``--slow-list 3`` prints the tests that took 3 s or more instead, in the format of
``tests/slow_tests.txt`` (tests.slow_first), to remake it:
``.venv/bin/python tests/timeline_report.py /tmp/t.jsonl --slow-list 3 > tests/slow_tests.txt``."""

from __future__ import annotations

import argparse
import glob
import itertools
import json
from collections import defaultdict
from typing import Any


def _load(prefix: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for path in sorted(glob.glob(f"{prefix}.*")):
        with open(path, encoding="utf-8") as lines:
            records.extend(json.loads(line) for line in lines if line.strip())
    return records


def _workers(records: list[dict[str, Any]], tests: list[dict[str, Any]]) -> None:
    by_worker: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for test in tests:
        by_worker[test["worker"]].append(test)
    starts = {r["worker"]: r for r in records if r["event"] == "start"}
    ends = {r["worker"]: r for r in records if r["event"] == "end"}
    origin = min(r["t"] for r in starts.values())
    last = max(t["end"] for t in tests)
    print(f"\nworkers (seconds from the first process start; the suite's last test ended at "
          f"{last - origin:.0f})")  # fmt: skip
    print("worker  start  1st-test  last-end  tests  busy  idle-between  idle-after  cpu  children"
          "  postgres")  # fmt: skip
    for worker, mine in sorted(by_worker.items()):
        mine.sort(key=lambda t: t["start"])
        busy = sum(t["end"] - t["start"] for t in mine)
        gaps = sum(max(0.0, b["start"] - a["end"]) for a, b in itertools.pairwise(mine))
        end = ends.get(worker, {})
        start = starts.get(worker, {}).get("t", mine[0]["start"])
        print(
            f"{worker:6} {start - origin:6.0f} {mine[0]['start'] - origin:9.0f} "
            f"{mine[-1]['end'] - origin:9.0f} {len(mine):6} {busy:5.0f} {gaps:13.0f} "
            f"{last - mine[-1]['end']:11.0f} {end.get('cpu', float('nan')):4.0f} "
            f"{end.get('children_cpu', float('nan')) + end.get('forked_cpu', 0.0):9.0f} "
            f"{end.get('postgres_cpu', float('nan')):9.0f}"
        )
        tail = [t for t in mine if t["end"] > last - 120]
        if tail and last - mine[-1]["end"] < 5:
            print("  its last 120 s:", ", ".join(f"{t['id']} {t['end'] - t['start']:.0f}s"
                                                   for t in tail[-5:]))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("prefix")
    parser.add_argument("--top", type=int, default=60)
    parser.add_argument("--slow-list", type=float, default=0.0)
    # On a host whose cores are all busy (the suite's), CPU is what a test costs the run's wall.
    parser.add_argument("--sort", choices=("wall", "cpu"), default="wall")
    args = parser.parse_args()
    records = _load(args.prefix)
    tests = [r for r in records if r["event"] == "test"]
    for test in tests:
        test["wall"] = test["end"] - test["start"]
        test.setdefault("postgres_cpu", 0.0)  # a file written before it was recorded
        # The processes forked for it (tests.cli_processes) are its children too.
        test["children_cpu"] += test.get("forked_cpu", 0.0)
        test["all_cpu"] = test["cpu"] + test["children_cpu"] + test["postgres_cpu"]
    tests.sort(key=lambda t: -t["wall"])
    if args.slow_list:
        print(f"# The tests that took {args.slow_list:g} s or more in a measured run of the suite "
              "(tests/slow_first.py, tests/timeline_report.py): seconds, id.")  # fmt: skip
        for test in tests:
            if test["wall"] >= args.slow_list:
                print(f"{test['wall']:.1f} {test['id']}")
        return
    wall = sum(t["wall"] for t in tests)
    cpu = sum(t["cpu"] for t in tests)
    children = sum(t["children_cpu"] for t in tests)
    postgres = sum(t["postgres_cpu"] for t in tests)
    print(f"{len(tests)} tests: {wall:.0f} worker-seconds, their processes' CPU {cpu:.0f} s, "
          f"the processes they started and waited for {children:.0f} s, "
          f"the embedded PostgreSQL servers' {postgres:.0f} s")  # fmt: skip
    key = "all_cpu" if args.sort == "cpu" else "wall"
    tests.sort(key=lambda t: -t[key])
    print(f"\ntop {args.top} by {args.sort} (wall, own CPU, children's CPU, PostgreSQL's CPU):")
    for test in tests[: args.top]:
        print(f"{test['wall']:7.1f} {test['cpu']:6.1f} {test['children_cpu']:7.1f} "
              f"{test['postgres_cpu']:6.1f}  {test['id']}")  # fmt: skip
    files: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0, 0.0])
    for test in tests:
        entry = files[test["id"].split("::")[0]]
        entry[0] += 1
        entry[1] += test["wall"]
        entry[2] += test["cpu"]
        entry[3] += test["children_cpu"]
        entry[4] += test["postgres_cpu"]
    print(f"\ntop {args.top} files by {args.sort} (tests, wall, own CPU, children's CPU, "
          "PostgreSQL's CPU):")  # fmt: skip
    if args.sort == "cpu":
        ranked = sorted(files.items(), key=lambda kv: -sum(kv[1][2:]))
    else:
        ranked = sorted(files.items(), key=lambda kv: -kv[1][1])
    for path, (count, w, c, ch, pg) in ranked[: args.top]:
        print(f"{count:5.0f} {w:7.0f} {c:6.0f} {ch:7.0f} {pg:6.0f}  {path}")
    _workers(records, tests)


if __name__ == "__main__":
    main()
