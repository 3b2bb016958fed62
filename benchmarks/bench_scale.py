"""Scale-out: a sweep of the flagship on local processes vs a Dask LocalCluster, and what one task costs.

Run from the repository root (a few minutes; on a loaded machine absolute times grow, the ratios
much less, since every side runs in the same session one after the other)::

    python benchmarks/bench_scale.py              # 200 variants × 100 replications
    python benchmarks/bench_scale.py --quick      # 40 variants × 20 replications (smoke check)

Figures, each next to its target:

1. **Sweep wall time**, ``storeq sweep``'s core (:func:`simulation.sweep.sweep`) over a grid of
   ``--variants`` variants of ``scenarios/telecom_month_end.yaml`` × ``--reps`` replications:
   local processes with 2 workers (the baseline), a ``LocalCluster`` of 2 single-thread worker
   processes on the same 2 cores (cluster start-up excluded, reported apart): **Dask overhead ≤ 15%**.
   The two results are checked identical.
2. **Speed-up 1 → 2 workers** on the LocalCluster (and on processes): **≥ 1.7×**.
3. **Per-task overhead**: 400 empty blocks through each executor; wall time / task. It bounds the
   block size worth sending (a block should take ≫ this).
4. **Client peak memory vs variant count**: the sweep streamed into a DuckDB results store, in a fresh
   process per count (``ru_maxrss``): flat means the client holds O(1) variants.
5. **CPU accounting**: client and worker CPU seconds of one sweep on each executor. Wall time on a
   machine shared with other work measures the neighbours; CPU time measures storeq: the Dask CPU
   overhead, and the Amdahl bound on the 1 → 2 speed-up from the client's (serial) share.
   ``--cpu-only`` runs just this.
6. The inputs for the 1,000-hall projection in docs/scale-out.md (seconds per replication per core,
   per-task overhead).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FLAGSHIP = ROOT / "scenarios" / "telecom_month_end.yaml"


def grid_for(n: int) -> dict[str, list[object]]:
    """About ``n`` variants of the flagship: staffing × kiosks × demand scale (≥ n, first n used)."""
    staffed = list(range(6, 14))  # 8 (the flagship hall has 14 counters)
    kiosks = [1, 2, 3, 4, 5]  # 5
    k = max(1, -(-n // (len(staffed) * len(kiosks))))
    scales = [round(0.9 + 0.05 * i, 2) for i in range(k)]
    return {"counters.staffed": staffed, "kiosks.count": kiosks, "demand.scale": scales}


def take(grid: dict[str, list[object]], n: int) -> dict[str, list[object]]:
    """Trim the slowest-varying key so the factorial has close to n variants (exactly n when it divides)."""
    keys = list(grid)
    inner = 1
    for k in keys[1:]:
        inner *= len(grid[k])
    first = max(1, n // inner)
    out = dict(grid)
    out[keys[0]] = list(grid[keys[0]])[:first] if first <= len(grid[keys[0]]) else grid[keys[0]]
    return out


def sweep_time(base: object, grid: dict[str, list[object]], reps: int, executor: object, workers: int = 1) -> tuple[float, list[dict]]:
    from simulation.sweep import sweep

    t0 = time.perf_counter()
    rows = [v.to_json() for v in sweep(base, grid, replications=reps, seed=1, workers=workers, executor=executor)]  # type: ignore[arg-type]
    return time.perf_counter() - t0, rows


def _cpu_now() -> float:
    return time.process_time()


def cpu_split(base: object, grid: dict[str, list[object]], reps: int, executor: object, workers: int = 2) -> tuple[float, float]:
    """CPU seconds of the client and of the workers for one sweep: load-independent, unlike wall time.

    On a machine shared with other work, wall time measures the neighbours; CPU time measures storeq.
    The client's share is the serial part (assembling blocks, CIs): with S client and W worker CPU
    seconds, N workers can at best finish in S + W / N (Amdahl), so the speed-up 1 → 2 is at most
    (S + W) / (S + W / 2), and the executor's overhead is its extra CPU over the processes run.
    """
    from simulation.executors import DaskExecutor

    c0 = _cpu_now()
    if isinstance(executor, DaskExecutor):
        w0 = sum(executor.client.run(_cpu_now).values())
        sweep_time(base, grid, reps, executor)
        w1 = sum(executor.client.run(_cpu_now).values())
        return _cpu_now() - c0, w1 - w0
    ch0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    sweep_time(base, grid, reps, executor, workers=workers)  # the pool is joined at the end: its CPU is counted
    ch1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return _cpu_now() - c0, (ch1.ru_utime + ch1.ru_stime) - (ch0.ru_utime + ch0.ru_stime)


def cpu_report(base: object, grid: dict[str, list[object]], reps: int) -> dict[str, float]:
    from simulation.executors import DaskExecutor

    s_p, w_p = cpu_split(base, grid, reps, "processes", workers=2)
    with DaskExecutor(workers=2) as ex:
        warm(ex)
        s_d, w_d = cpu_split(base, grid, reps, ex)
    out = {
        "client_cpu_processes_s": s_p, "worker_cpu_processes_s": w_p,
        "client_cpu_dask_s": s_d, "worker_cpu_dask_s": w_d,
        "speedup_bound_processes": (s_p + w_p) / (s_p + w_p / 2),
        "speedup_bound_dask": (s_d + w_d) / (s_d + w_d / 2),
        "dask_cpu_overhead_pct": 100 * ((s_d + w_d) / (s_p + w_p) - 1),
    }
    print(f"CPU accounting ({reps} replications per variant): processes client {s_p:.1f} s + workers {w_p:.1f} s; "
          f"Dask client {s_d:.1f} s + workers {w_d:.1f} s")
    print(f"  → Dask CPU overhead {out['dask_cpu_overhead_pct']:+.1f}% (target ≤ 15%); Amdahl bound on the 1→2 "
          f"speed-up: processes {out['speedup_bound_processes']:.2f}×, Dask {out['speedup_bound_dask']:.2f}× (target ≥ 1.7×)")
    return out


def _import_engine() -> bool:
    import importlib

    for name in ("simulation.runner", "simulation.sweep"):  # what a worker imports on its first block
        importlib.import_module(name)
    return True


def warm(ex: object) -> None:
    """Import the engine on every worker before timing: that is cluster start-up, reported apart."""
    ex.client.run(_import_engine)  # type: ignore[attr-defined]


def _noop(shared: object, block: int) -> int:
    return block


def task_overhead(executor: object, n: int = 400) -> float:
    """Seconds per empty block through ``executor.map_blocks`` (scheduling + transfer, no work)."""
    t0 = time.perf_counter()
    got = sum(1 for _ in executor.map_blocks(_noop, None, list(range(n))))  # type: ignore[attr-defined]
    assert got == n
    return (time.perf_counter() - t0) / n


_MEM_CHILD = r"""
import json, resource, sys, tempfile, os
sys.path.insert(0, {root!r})
from simulation import load_scenario
from simulation.sweep import sweep
from storeq import results_store as rs
n, reps = int(sys.argv[1]), int(sys.argv[2])
grid = json.loads(sys.argv[3])
base = load_scenario({flagship!r})
with tempfile.TemporaryDirectory() as d:
    db = os.path.join(d, "r.duckdb")
    with rs.recording(db, kind="sweep", command="bench", scenario=base, seed=1, replications=reps) as rec:
        count = 0
        for v in sweep(base, grid, replications=reps, seed=1, workers=2):
            rec.variant(v, v.to_json())
            count += 1
        rec.finish(output={{"variants": []}})
print(json.dumps({{"variants": count, "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def client_memory(n: int, reps: int) -> dict[str, float]:
    grid = take(grid_for(n), n)
    code = _MEM_CHILD.format(root=str(ROOT), flagship=str(FLAGSHIP))
    out = subprocess.run(
        [sys.executable, "-c", code, str(n), str(reps), json.dumps(grid)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--variants", type=int, default=200)
    ap.add_argument("--reps", type=int, default=100)
    ap.add_argument("--quick", action="store_true", help="40 variants × 20 replications")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    ap.add_argument("--cpu-only", action="store_true",
                    help="only the CPU accounting (client vs workers): meaningful on a loaded machine")
    args = ap.parse_args()
    if args.quick:
        args.variants, args.reps = 40, 20

    from simulation import load_scenario
    from simulation.executors import DaskExecutor, ProcessExecutor
    from simulation.sweep import variants

    base = load_scenario(FLAGSHIP)
    grid = take(grid_for(args.variants), args.variants)
    n = sum(1 for _ in variants(grid))
    print(f"storeq scale benchmark: {n} variants × {args.reps} replications of {FLAGSHIP.name}; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    figures: dict[str, object] = {"variants": n, "replications": args.reps, "cpus": os.cpu_count(),
                                  "load_average": os.getloadavg()[0]}
    if args.cpu_only:
        figures.update(cpu_report(base, grid, args.reps))
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2) + "\n")
        return

    # 1. processes, 2 workers (the baseline), then 1 worker
    t_p2, rows_p = sweep_time(base, grid, args.reps, "processes", workers=2)
    print(f"processes, 2 workers: {t_p2:8.1f} s   ({n * args.reps / t_p2:,.0f} replications/s)")
    t_p1, _ = sweep_time(base, grid, args.reps, "processes", workers=1)
    print(f"processes, 1 worker : {t_p1:8.1f} s   speed-up 1→2: {t_p1 / t_p2:.2f}× (target ≥ 1.7×)")

    # 2. LocalCluster, 2 workers, then 1 worker (cluster start-up timed apart)
    t0 = time.perf_counter()
    with DaskExecutor(workers=2) as ex2:
        warm(ex2)
        start2 = time.perf_counter() - t0
        t_d2, rows_d = sweep_time(base, grid, args.reps, ex2)
        over2 = task_overhead(ex2)
    same = json.dumps(rows_p, sort_keys=True) == json.dumps(rows_d, sort_keys=True)  # no wall-clock fields in variants
    print(f"LocalCluster, 2 workers: {t_d2:8.1f} s   (+{start2:.1f} s cluster start-up); "
          f"Dask overhead vs processes: {100 * (t_d2 / t_p2 - 1):+.1f}% (target ≤ 15%); identical results: {same}")
    with DaskExecutor(workers=1) as ex1:
        warm(ex1)
        t_d1, _ = sweep_time(base, grid, args.reps, ex1)
    print(f"LocalCluster, 1 worker : {t_d1:8.1f} s   speed-up 1→2: {t_d1 / t_d2:.2f}× (target ≥ 1.7×)")

    # 3. per-task overhead
    over_p = task_overhead(ProcessExecutor(2))
    print(f"per-task overhead: Dask {1000 * over2:.2f} ms/task, processes {1000 * over_p:.2f} ms/task "
          f"(one flagship block of {args.reps} replications ≈ {1000 * t_p1 / n:.0f} ms on one core)")

    # 4. client peak memory vs variant count (streamed into a results store)
    counts = [max(10, args.variants // 8), max(20, args.variants // 4), max(40, args.variants // 2), args.variants]
    mem = {}
    for c in counts:
        m = client_memory(c, max(5, args.reps // 10))
        mem[int(m["variants"])] = round(m["maxrss_mb"], 1)
    print("client peak memory (MB) by variants, streamed into DuckDB: "
          + ", ".join(f"{k}: {v}" for k, v in mem.items()))

    figures.update(cpu_report(base, grid, max(5, args.reps // 5)))

    per_rep = t_p1 / (n * args.reps)
    print(f"one replication of the flagship: {1000 * per_rep:.2f} ms on one core (from the 1-worker run)")
    figures.update({
        "processes_2_s": t_p2, "processes_1_s": t_p1, "speedup_processes": t_p1 / t_p2,
        "dask_2_s": t_d2, "dask_1_s": t_d1, "dask_startup_s": start2, "speedup_dask": t_d1 / t_d2,
        "dask_overhead_pct": 100 * (t_d2 / t_p2 - 1), "identical": same,
        "task_overhead_dask_ms": 1000 * over2, "task_overhead_processes_ms": 1000 * over_p,
        "client_peak_mb_by_variants": mem, "seconds_per_replication_core": per_rep,
        "maxrss_self_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    })
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
