"""Regenerate the golden outputs: ``python tests/golden/regenerate.py``.

Golden files pin the exact bytes of ``storeq run`` / ``compare`` / ``optimize`` JSON on the bundled
stores (provenance's wall-clock fields removed) and of run/compare tables (runtime removed) and CSV,
so a refactor that should not change behaviour is checked to change nothing. Regenerate only when a
change of output is intended, only the cases it changes (``regenerate.py NAME ...``), and say why in
the commit (tests/test_golden.py compares).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]

CASES: dict[str, list[str]] = {
    "run_month_end": ["run", "scenarios/telecom_month_end.yaml", "-n", "20", "--format", "json"],
    "run_mid_month": ["run", "scenarios/telecom_mid_month.yaml", "-n", "20", "--format", "json"],
    "run_bank": ["run", "scenarios/bank_branch.yaml", "-n", "20", "--format", "json"],
    "run_supermarket": ["run", "scenarios/supermarket.yaml", "-n", "20", "--format", "json"],
    "compare_month_end": [
        "compare", "scenarios/telecom_month_end.yaml", "--set", "counters.staffed=10", "-n", "20", "--format", "json",
    ],
    "optimize_month_end": [
        "optimize", "scenarios/telecom_month_end.yaml", "--replications", "20", "--search-replications", "10",
        "--format", "json",
    ],
    # the people's and the scripts' outputs too: table and CSV bytes are held like the JSON
    "run_month_end_table": ["run", "scenarios/telecom_month_end.yaml", "-n", "20", "--format", "table"],
    "run_month_end_csv": ["run", "scenarios/telecom_month_end.yaml", "-n", "20", "--format", "csv"],
    "compare_month_end_table": [
        "compare", "scenarios/telecom_month_end.yaml", "--set", "counters.staffed=10", "-n", "20", "--format", "table",
    ],
    "compare_month_end_csv": [
        "compare", "scenarios/telecom_month_end.yaml", "--set", "counters.staffed=10", "-n", "20", "--format", "csv",
    ],
}

VOLATILE = {"runtime_s", "wall_s", "started", "workers", "time_s", "solve_time_s", "wall_time_s"}


def scrub(obj: object) -> object:
    """Drop wall-clock fields (they differ on every run); everything else must match to the byte."""
    if isinstance(obj, dict):
        return {k: scrub(v) for k, v in obj.items() if k not in VOLATILE}
    if isinstance(obj, list):
        return [scrub(v) for v in obj]
    return obj


def fmt(args: list[str]) -> str:
    return args[args.index("--format") + 1]


def path(name: str) -> Path:
    """The golden file of a case: ``NAME.json``, ``NAME.csv`` or ``NAME.txt`` (table)."""
    return HERE / f"{name}.{ {'json': 'json', 'csv': 'csv'}.get(fmt(CASES[name]), 'txt') }"


def produce(args: list[str]) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "storeq", *args], cwd=REPO, capture_output=True, text=True, check=True,
        env={**os.environ, "COLUMNS": "110"},
    ).stdout
    if fmt(args) == "json":
        return json.dumps(scrub(json.loads(out)), indent=1, sort_keys=True) + "\n"
    return re.sub(r", \d+(\.\d+)? s;", ", (runtime) s;", out)  # the table's wall-clock runtime


if __name__ == "__main__":
    # python tests/golden/regenerate.py [NAME ...]: all cases, or only those named
    for name in sys.argv[1:] or list(CASES):
        path(name).write_text(produce(CASES[name]))
        print(f"wrote {path(name).name}")
