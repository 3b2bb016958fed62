"""Engine speed: storeq's full engine against a bare SimPy model, and the flagship at 100 replications.

Run from the repository root::

    python benchmarks/bench_engine.py            # all figures
    python benchmarks/bench_engine.py --quick    # fewer repeats, for a smoke check

1. Customers simulated per second on one core, in the same process, on the same store day:
   M/M/9, 120 arrivals/hour, 4-minute exponential service, 10 hours (09:00-19:00), ``--days``
   replications each. storeq runs its whole engine (segments, transaction draws, named random streams,
   per-customer records, KPIs with CIs). The baseline is the idiomatic SimPy model a modeller would
   write by hand: one ``Environment``, one ``Resource(capacity=9)``, a source process and a customer
   process that records its wait. Best of ``--repeats`` runs each; ratio storeq / bare (target ≥ 1.5).
   The same day with its nine counters in two groups (7 + 2, the 2 helping when idle) shows what
   counter routing costs (a row, no target).
2. Wall time of 100 replications of ``scenarios/telecom_month_end.yaml`` with workers=2
   (target < 2 s on 2 cores) and workers=1, best of ``--repeats``, pool start-up included (that is
   what a user waits for).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

import simpy

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ARRIVALS_PER_HOUR = 120.0
SERVICE_MIN = 4.0
SERVERS = 9
HOURS = 10


# ---------------------------------------------------------------------------------------------
# the baseline: bare, idiomatic SimPy
# ---------------------------------------------------------------------------------------------


def bare_simpy_day(seed: int) -> int:
    """One M/M/9 day in plain SimPy; returns the number of customers served."""
    rng = random.Random(seed)
    env = simpy.Environment()
    counters = simpy.Resource(env, capacity=SERVERS)
    waits: list[float] = []
    close = HOURS * 60.0
    rate = ARRIVALS_PER_HOUR / 60.0

    def customer(env: simpy.Environment) -> simpy.events.ProcessGenerator:
        arrive = env.now
        with counters.request() as req:
            yield req
            waits.append(env.now - arrive)
            yield env.timeout(rng.expovariate(1.0 / SERVICE_MIN))

    def source(env: simpy.Environment) -> simpy.events.ProcessGenerator:
        while True:
            yield env.timeout(rng.expovariate(rate))
            if env.now >= close:
                return
            env.process(customer(env))

    env.process(source(env))
    env.run()  # doors close at `close`; everyone inside is served
    return len(waits)


def bench_bare(days: int, repeats: int) -> tuple[float, int]:
    best = float("inf")
    customers = 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        customers = sum(bare_simpy_day(seed) for seed in range(days))
        best = min(best, time.perf_counter() - t0)
    return best, customers


# ---------------------------------------------------------------------------------------------
# storeq
# ---------------------------------------------------------------------------------------------


def mm9_scenario(days: int):  # type: ignore[no-untyped-def]
    from simulation import scenario_from_dict

    return scenario_from_dict(
        {
            "name": "benchmark M/M/9",
            "store": {"open": "09:00", "close": f"{9 + HOURS}:00", "interval_min": 60},
            "demand": {"arrivals_per_hour": ARRIVALS_PER_HOUR},
            "transactions": [{"name": "t", "share": 1.0, "counter_time": {"dist": "exponential", "mean": SERVICE_MIN}}],
            "counters": {"staffed": SERVERS},
            "cross_sell": {"policy": {"mode": "never"}},
            "simulation": {"replications": days, "seed": 1},
        },
        "benchmark",
    )


def mm9_groups_scenario(days: int):  # type: ignore[no-untyped-def]
    """The same M/M/9 day with its counters in two groups (7 general, 2 for a 2/9 share of "pay"
    customers, then: any): the routing machinery's cost (classes, own-first calls, helping)."""
    from simulation import with_updates

    sc = mm9_scenario(days)
    tx = [
        {"name": "t", "share": 7 / 9, "counter_time": {"dist": "exponential", "mean": SERVICE_MIN}},
        {"name": "pay", "share": 2 / 9, "counter_time": {"dist": "exponential", "mean": SERVICE_MIN}},
    ]
    groups = [{"name": "general", "staffed": SERVERS - 2}, {"name": "pay", "staffed": 2, "transactions": ["pay"], "then": "any"}]
    return with_updates(sc, {"transactions": tx, "counters": {"groups": groups}})


def bench_storeq(days: int, repeats: int, groups: bool = False) -> tuple[float, int]:
    from simulation import run

    sc = mm9_groups_scenario(days) if groups else mm9_scenario(days)
    best = float("inf")
    customers = 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        res = run(sc, replications=days, seed=1, workers=1)
        best = min(best, time.perf_counter() - t0)
        customers = int(res.days["arrivals"].sum())
    return best, customers


def bench_flagship(workers: int, repeats: int, replications: int = 100) -> float:
    from simulation import load_scenario, run

    sc = load_scenario(ROOT / "scenarios" / "telecom_month_end.yaml")
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        run(sc, replications=replications, workers=workers)
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=int, default=50, help="replications of the M/M/9 day per side (default 50)")
    ap.add_argument("--repeats", type=int, default=3, help="best of this many runs (default 3)")
    ap.add_argument("--quick", action="store_true", help="10 days, 1 repeat")
    ap.add_argument("--bare-only", action="store_true", help="only the bare SimPy baseline")
    args = ap.parse_args(argv)
    days, repeats = (10, 1) if args.quick else (args.days, args.repeats)

    print(f"python {sys.version.split()[0]}, simpy {simpy.__version__}, {os.cpu_count()} cpus visible")
    print(f"M/M/{SERVERS}: {ARRIVALS_PER_HOUR:g}/h, Exp({SERVICE_MIN:g} min) service, {HOURS} h; "
          f"{days} days per side, best of {repeats}")
    # Part 1 runs pinned to one core (both sides are single-threaded; pinning keeps the OS from
    # moving them mid-measurement); the flagship part gets every core back for its workers.
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    if cores:
        os.sched_setaffinity(0, {min(cores)})
    t_bare, n_bare = bench_bare(days, repeats)
    rate_bare = n_bare / t_bare
    rows = [("bare SimPy customers/s (1 core)", f"{rate_bare:,.0f}", "baseline", f"{n_bare} customers in {t_bare:.3f} s")]
    if not args.bare_only:
        t_sq, n_sq = bench_storeq(days, repeats)
        rate_sq = n_sq / t_sq
        ratio = rate_sq / rate_bare
        t_g, n_g = bench_storeq(days, repeats, groups=True)
        if cores:
            os.sched_setaffinity(0, cores)
        rows.append(("storeq customers/s (1 core)", f"{rate_sq:,.0f}", "", f"{n_sq} customers in {t_sq:.3f} s"))
        rows.append(("ratio storeq / bare", f"{ratio:.2f}", ">= 1.5", "PASS" if ratio >= 1.5 else "MISS"))
        rows.append(("storeq, 2 counter groups (1 core)", f"{n_g / t_g:,.0f}", "", f"ratio to bare {n_g / t_g / rate_bare:.2f}"))
        t2 = bench_flagship(2, repeats)
        rows.append(("flagship 100 reps, workers=2 (s)", f"{t2:.2f}", "< 2", "PASS" if t2 < 2 else "MISS"))
        t1 = bench_flagship(1, repeats)
        rows.append(("flagship 100 reps, workers=1 (s)", f"{t1:.2f}", "", f"speed-up x{t1 / t2:.2f} with 2 workers"))
    w = max(len(r[0]) for r in rows)
    print(f"{'measure':<{w}}  {'figure':>12}  {'target':>9}  note")
    for name, fig, target, note in rows:
        print(f"{name:<{w}}  {fig:>12}  {target:>9}  {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
