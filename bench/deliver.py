"""The worker's per-message Python path without a database: CPU per message, one JSON line.

    .venv/bin/python bench/deliver.py                          # 4,000 claims x 5 rounds
    .venv/bin/python bench/deliver.py --code /tmp/main-before  # another checkout's code
    .venv/bin/python bench/deliver.py --profile /tmp/d.prof    # cProfile (CPU time) the rounds

The claims are the 08:00 burst's mix (``bench/render.py``: what scenario 11 of
``bench/dispatch.py`` claims), each with its patient's contact point on the channel of the mix.
Each round hands every claim to the dispatcher's :class:`~scheduler.delivery.Deliverer` (held
back? route, rate-limit pass, render, send through a recording adapter, the result) one after
the other in one task, as a sender of the dispatcher does when sends do not wait, then builds the
record statement's arguments from the results as a flush does (``scheduler.claims``, without
the round trip). The heap is settled first as ``medremind worker`` settles it, when the measured
code does (``medremind.runtime.settle_heap``). CPU time (``time.process_time``, the garbage
collector's runs included) per message of each round; the line gives the best and the median
round, and the collector's share (when the measured checkout's bench/dispatch.py can tell it).
Scenario 11 measures the same path with the claim, the record and the event loop's waits
around it, on a loaded box far less steadily. Run by hand; no test asserts timings.
"""

from __future__ import annotations

import argparse
import cProfile
import inspect
import json
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# This checkout's bench/render.py reads ``--code`` before anything of the project is imported.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.render import _code_root, burst_claims

# isort: split
# Only now: bench/render.py has put the measured checkout first on the path.
import bench.dispatch as dispatch_bench
from core.templating import TemplateRenderer
from medremind import runtime
from platforms.base import Channel
from scheduler.claims import Claim, ContactInfo, record_statement
from scheduler.dispatcher import Dispatcher

# The collector's clock, when the measured checkout's bench/dispatch.py has one.
GcClock = getattr(dispatch_bench, "GcClock", None)


def with_contacts(claims: list[tuple[Claim, Channel]]) -> list[Claim]:
    """The claims with a usable contact point on their channel, first in their order."""
    out = []
    for i, (claim, channel) in enumerate(claims):
        address = {
            Channel.TELEGRAM: str(500_000_000 + i),
            Channel.EMAIL: f"p{i}@example.org",
        }.get(channel, f"+1555{i:07d}")
        claim.channel_order = (str(channel),)
        claim.contacts = (ContactInfo(uuid.uuid4(), str(channel), address, True),)
        out.append(claim)
    return out


class _Recorded:
    """A connection that keeps the record statement's arguments and answers no rows."""

    async def fetch(self, statement: str, *args: Any, **options: Any) -> list[Any]:
        self.args = args
        return []


async def record_arguments(results: list[Any]) -> None:
    """What a flush builds before its statement: the outcomes and attempts, and the aligned
    arrays of ``scheduler.claims.record_statement`` (not sent)."""
    outcomes = [r.outcome for r in results]
    attempts = [a for r in results for a in r.attempts]
    await record_statement(_Recorded(), outcomes, attempts)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    senders = dispatch_bench.ClinicSenders()
    renderer = TemplateRenderer()
    extra: dict[str, Any] = (
        {"connect": None} if "connect" in inspect.signature(Dispatcher).parameters else {}
    )
    dispatcher = Dispatcher(
        None,  # no statement is run
        dict(senders.senders),
        renderer,
        config=dispatch_bench.unlimited(**dispatch_bench.BURST_CONFIG),
        **extra,
    )
    deliverer = dispatcher._deliverer
    # A send within a quarter second of its claim goes on the claim's read, as in the burst.
    deliverer.recheck = None
    due = datetime.now(UTC)
    lease_ends = time.monotonic() + 3600.0
    for claim in with_contacts(burst_claims(200, -1, due)):  # templates compiled, babel loaded
        await deliverer.deliver(claim, lease_ends, read_at=time.monotonic())

    settle = getattr(runtime, "settle_heap", None)
    if settle is not None:  # as ``medremind worker`` does once it is set up
        settle()
    profiler = cProfile.Profile(time.process_time) if args.profile else None
    per_round: list[float] = []
    gc_share: list[float] = []
    for round_ in range(args.rounds):
        claims = with_contacts(burst_claims(args.messages, round_, due))
        collector = GcClock() if GcClock is not None else None
        if profiler is not None:
            profiler.enable()
        started = time.process_time()
        results = [await deliverer.deliver(c, lease_ends) for c in claims]
        await record_arguments(results)
        spent = time.process_time() - started
        if profiler is not None:
            profiler.disable()
        per_round.append(spent / len(claims) * 1e6)
        if collector is not None:
            collector.stop()
            gc_share.append(sum(collector.seconds) / len(claims) * 1e6)
        sent = sum(1 for r in results if r.outcome.status == "sent")
        if sent != len(claims):
            raise RuntimeError(f"round {round_}: {sent} of {len(claims)} sent")
    if profiler is not None:
        profiler.dump_stats(args.profile)
    return {
        "bench": "deliver_burst_mix",
        "code": str(_code_root()),
        "messages": args.messages,
        "rounds": args.rounds,
        "us_per_message_best": round(min(per_round), 1),
        "us_per_message_median": round(statistics.median(per_round), 1),
        "gc_us_per_message_median": round(statistics.median(gc_share), 1) if gc_share else None,
        "profile": args.profile,
        "note": "Deliverer.deliver of the mix to recording adapters, and the record's arrays",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--code", default=None, help="measure the code of another checkout")
    parser.add_argument("--profile", default=None, help="cProfile (CPU time) into this file")
    args = parser.parse_args()
    from medremind.runtime import run_async

    print(json.dumps(run_async(run(args))), flush=True)


if __name__ == "__main__":
    main()
