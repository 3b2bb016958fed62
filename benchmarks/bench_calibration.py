"""Benchmark: calibrating a 1,000,000-row ticket log (target: < 60 s on 2 cores, < 2 GB peak memory).

    python benchmarks/bench_calibration.py [--rows 1000000] [--keep DIR]

The log is realistic, not random: 60 days of the flagship hall are simulated by synth-log, then
tiled (each copy shifted by 60 days) up to the row count, so the big log is several years of that
store. Calibration (read CSV → clean → fit → scenario YAML) runs in a fresh child process, so its
peak memory (ru_maxrss) is its own. The baseline is the same calibration on a 100,000-row slice,
measured in the same run: the ratio shows how close to linear the cost grows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHILD = """
import resource, sys, time
t0 = time.perf_counter()
from calibration import calibrate, clean, read_log
t1 = time.perf_counter()
raw = read_log(sys.argv[1])
t2 = time.perf_counter()
c = clean(raw, source=sys.argv[1])
del raw
t3 = time.perf_counter()
cal = calibrate(c)
t4 = time.perf_counter()
print(f"{len(c.tickets)} {t2 - t1:.2f} {t3 - t2:.2f} {t4 - t3:.2f} {t4 - t1:.2f} {cal.scenario.n_intervals}")
"""


def build_log(rows: int, path: Path) -> int:
    from calibration import synth_log, write_log
    from simulation import load_scenario

    s = load_scenario(ROOT / "scenarios" / "telecom_month_end.yaml")
    t0 = time.perf_counter()
    base = synth_log(s, 60, dt.date(2020, 1, 1), seed=11)
    print(f"synth-log: 60 days, {len(base):,} tickets in {time.perf_counter() - t0:.1f} s")
    cols = ["issued_at", "called_at", "service_start", "service_end"]
    parsed = {c: pd.to_datetime(base[c].replace("", None)) for c in cols}
    parts, k = [], 0
    while sum(map(len, parts)) < rows:
        part = base.copy()
        for c in cols:
            part[c] = (parsed[c] + pd.Timedelta(days=60 * k)).dt.strftime("%Y-%m-%d %H:%M:%S").fillna("")
        parts.append(part)
        k += 1
    log = pd.concat(parts, ignore_index=True).iloc[:rows]
    write_log(log, path)
    return len(log)


def run_child(path: Path) -> tuple[list[str], float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD, str(path)], check=True, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak_kb < before:  # pragma: no cover - maxrss is a high-water mark across children
        peak_kb = before
    return out.stdout.split(), wall, peak_kb / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--keep", type=Path, default=None, help="keep the generated logs in this folder")
    args = ap.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="storeq-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    big, small = folder / "log_big.csv", folder / "log_100k.csv"
    n = build_log(args.rows, big)
    pd.read_csv(big, dtype=str, keep_default_na=False, nrows=100_000).to_csv(small, index=False)
    print(f"log: {n:,} rows, {big.stat().st_size / 1e6:.0f} MB CSV at {big}")
    # baseline first (its child's peak memory is lower, so the high-water mark then belongs to the big run)
    res_s, wall_s, _ = run_child(small)
    res_b, wall_b, peak_b = run_child(big)
    print("                      rows      read   clean     fit   total(in-process)  wall(incl. start-up)")
    for label, r, w in (("baseline 100k", res_s, wall_s), ("full", res_b, wall_b)):
        print(f"{label:14s} {int(r[0]):>12,} {float(r[1]):8.2f} {float(r[2]):7.2f} {float(r[3]):7.2f} {float(r[4]):12.2f} s {w:14.2f} s")
    per_row_ratio = (float(res_b[4]) / int(res_b[0])) / (float(res_s[4]) / int(res_s[0]))
    print(f"peak memory of the full calibration (ru_maxrss): {peak_b:,.0f} MB")
    print(f"time per row, full vs 100k baseline: {per_row_ratio:.2f}x (1.0 = linear)")
    ok_t, ok_m = float(res_b[4]) < 60, peak_b < 2048
    print(f"target < 60 s: {'met' if ok_t else 'MISSED'}; target < 2 GB: {'met' if ok_m else 'MISSED'}")


if __name__ == "__main__":
    main()
