"""Peak memory of 1,000 replications of the flagship hall (target < 1 GB).

Run from the repository root::

    python benchmarks/bench_memory.py                    # 1,000 replications, workers=2
    python benchmarks/bench_memory.py --workers 1 --replications 200
    python benchmarks/bench_memory.py --keep-customers   # also hold every customer record (what --out writes)

The run happens in a child process so that the figures belong to the run alone (not to this
script's imports). Three figures:

* peak RSS of the largest single process of the run (``getrusage(RUSAGE_CHILDREN)`` here: Linux reports
  the largest of the child and the descendants it waited for, not their sum);
* peak RSS of the largest of its own worker processes (``RUSAGE_CHILDREN`` inside the child);
* peak total RSS of the whole process tree, sampled from ``/proc`` every 20 ms — the figure the
  target is about, since worker processes hold memory at the same time as the main process.
  (Shared pages are counted once per process, so this over-states a little.)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_MB = 1024.0


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                out += [int(x) for x in fh.read().split()]
    except OSError:
        pass
    return out


def _tree_rss_kb(pid: int) -> int:
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        total += _rss_kb(p)
        stack += _children(p)
    return total


def child(replications: int, workers: int, keep_customers: bool) -> None:
    """Runs in the measured process: the flagship, then its own and its workers' peaks as JSON."""
    sys.path.insert(0, str(ROOT))
    from simulation import load_scenario, run

    sc = load_scenario(ROOT / "scenarios" / "telecom_month_end.yaml")
    t0 = time.perf_counter()
    res = run(sc, replications=replications, workers=workers, keep_customers=keep_customers)
    wall = time.perf_counter() - t0
    print(json.dumps({
        "wall_s": wall,
        "replications": int(res.replications),
        "customers": int(res.days["arrivals"].sum()),
        "self_peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "workers_peak_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    }))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--replications", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--keep-customers", action="store_true", help="keep per-customer records (as --out does)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.replications, args.workers, args.keep_customers)
        return 0

    cmd = [sys.executable, __file__, "--child", "--replications", str(args.replications), "--workers", str(args.workers)]
    if args.keep_customers:
        cmd.append("--keep-customers")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss_kb(proc.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    done.set()
    sampler.join()
    if proc.returncode != 0:
        print(f"the measured run failed with exit code {proc.returncode}", file=sys.stderr)
        return 1
    info = json.loads(out.strip().splitlines()[-1])
    main_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    worker_mb = info["workers_peak_kb"] / 1024
    tree_mb = max(peak[0] / 1024, main_mb)  # a peak shorter than the sampling step still counts once
    print(f"flagship (scenarios/telecom_month_end.yaml): {info['replications']} replications, workers={args.workers}, "
          f"{info['customers']:,} customers, {info['wall_s']:.1f} s"
          + (", customer records kept" if args.keep_customers else ""))
    rows = [
        ("peak RSS, largest single process (MB)", f"{main_mb:,.0f}", "", "getrusage(RUSAGE_CHILDREN) here"),
        ("peak RSS, largest worker (MB)", f"{worker_mb:,.0f}", "", "getrusage(RUSAGE_CHILDREN) inside the run"),
        ("peak RSS, whole process tree (MB)", f"{tree_mb:,.0f}", f"< {TARGET_MB:,.0f}",
         "PASS" if tree_mb < TARGET_MB else "MISS"),
    ]
    w = max(len(r[0]) for r in rows)
    print(f"{'measure':<{w}}  {'figure':>8}  {'target':>8}  note")
    for name, fig, target, note in rows:
        print(f"{name:<{w}}  {fig:>8}  {target:>8}  {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
