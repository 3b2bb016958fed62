"""Benchmark: ``region rank`` on a generated region (default 200 halls, 6 fixes, 100 replications each).

Target (issue 11): under 10 minutes on 2 cores with the process executor; peak memory under 2 GB.
Prints the time per store and per simulated day, and against a baseline measured in the same run:
the same halls simulated as they are only (``simulation.run``, no fixes, no customer records), so the
ratio shows what valuing six fixes per hall costs beyond the seven runs it needs.

    python benchmarks/bench_region.py                       # the full 200-store run
    python benchmarks/bench_region.py --stores 20           # a quick look
    python benchmarks/bench_region.py --executor dask       # a local Dask cluster of --workers processes

The halls are built from the bundled profiles through the store-table path (no demand fit, to time
the ranking alone): sizes, volumes and hours vary with a fixed seed, so every run sees the same region.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulation import run  # noqa: E402
from storeq.region.io import load_profiles  # noqa: E402
from storeq.region.model import Region, RegionSpec, Store  # noqa: E402
from storeq.region.profiles import TableRow, scenario_from_row  # noqa: E402
from storeq.region.rank import rank_region  # noqa: E402

HOURS = {"city_centre": ("09:00", "20:00"), "residential": ("08:30", "18:30"), "mall": ("10:00", "22:00"),
         "county_town": ("08:00", "17:00"), "university": ("09:00", "20:00")}


def generated_region(n: int, replications: int, seed: int = 7) -> Region:
    """``n`` halls of mixed profiles and sizes, 5 per district, with coordinates."""
    rng = np.random.default_rng(seed)
    profiles = load_profiles()
    names = sorted(profiles)
    stores = []
    for i in range(n):
        kind = names[i % len(names)]
        staffed = int(rng.integers(3, 9))
        o, c = HOURS[kind]
        hours = (int(c[:2]) * 60 + int(c[3:]) - int(o[:2]) * 60 - int(o[3:])) / 60
        txn = float(rng.uniform(4.5, 8.0))
        served = staffed * hours * 60 * float(rng.uniform(0.45, 0.62)) / (txn + 0.8)
        row = TableRow(name=f"Hall {i + 1:03d}", district=f"District {i // 5 + 1:02d}", counters=staffed + 2, staffed=staffed,
                       kiosks=int(rng.integers(0, 5)), served_per_day=round(served), avg_wait_min=5,
                       avg_transaction_min=round(txn, 1), open=o, close=c, profile=kind,
                       lat=31.0 + float(rng.uniform(0, 0.5)), lon=121.2 + float(rng.uniform(0, 0.5)))
        sc = scenario_from_row(row, profiles[kind], replications=replications, seed=1)
        stores.append(Store(name=row.name, district=row.district, scenario=sc, lat=row.lat, lon=row.lon))
    spec = RegionSpec.model_validate({"name": f"generated {n}", "stores": [
        {"name": s.name, "scenario": "(generated)", "district": s.district} for s in stores],
        "simulation": {"replications": replications, "seed": 1}})
    return Region(name=spec.name, stores=tuple(stores), spec=spec)


def _peak_mb() -> tuple[float, float]:
    """Peak resident memory of this process and of the largest worker process, MB (Linux: ru_maxrss in KB)."""
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return me, kids


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stores", type=int, default=200)
    ap.add_argument("--replications", type=int, default=100)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--executor", choices=["processes", "dask"], default="processes")
    ap.add_argument("--baseline-stores", type=int, default=None, help="halls in the baseline run (default: all)")
    args = ap.parse_args()

    region = generated_region(args.stores, args.replications)
    customers = sum(float(s.scenario.arrival_rates_per_hour().sum()) * s.scenario.store.interval_min / 60 for s in region.stores)
    print(f"region: {args.stores} halls, ~{customers / args.stores:,.0f} walk-ins per hall-day; "
          f"6 fixes × {args.replications} replications; {args.workers} workers, executor {args.executor}")

    from simulation.executors import make_executor

    t0 = time.perf_counter()
    with make_executor(args.executor, None, args.workers) as ex:
        res = rank_region(region, replications=args.replications, workers=args.workers, executor=ex)
    wall = time.perf_counter() - t0
    variants = sum(1 + sum(iv.delta is not None for iv in sr.interventions) for sr in res.stores)
    days = variants * args.replications
    me, kids = _peak_mb()
    full = wall * (200 / args.stores) * (100 / args.replications)  # the size: 200 halls × 100 replications
    print(f"rank: {wall:,.1f} s = {wall / args.stores:.2f} s per store, {1000 * wall / days:.2f} ms per simulated day "
          f"({variants} variants, {days:,} days)  target < 600 s for 200 halls × 100 replications: "
          f"{'OK' if full < 600 else 'MISSED'} (scaled: {full:,.0f} s)")
    print(f"peak memory: main process {me:,.0f} MB, largest worker {kids:,.0f} MB  (target < 2,048 MB)")
    classes = {k: sum(sr.klass == k for sr in res.stores) for k in ("very_busy", "busy", "normal")}
    print(f"classes: {classes}")

    n_base = args.baseline_stores or args.stores
    t0 = time.perf_counter()
    for s in region.stores[:n_base]:
        run(s.scenario, replications=args.replications, workers=args.workers)
    base = (time.perf_counter() - t0) / n_base
    per_variant = wall / variants
    print(f"baseline: simulation.run of each hall as it is: {base:.2f} s per store; "
          f"rank per variant {per_variant:.2f} s = {per_variant / base:.2f} × a plain run "
          "(customer records kept for served-within-target, all variants in one pool)")


if __name__ == "__main__":
    main()
