"""Regenerate the golden outputs: ``python tests/golden/regenerate.py``.

Golden files pin the exact bytes of ``storeq run`` / ``compare`` / ``optimize`` JSON on the bundled
stores (provenance's wall-clock fields removed), so a refactor that should not change behaviour is
checked to change nothing. Regenerate only when a change of output is intended, and say why in the
commit (tests/test_golden.py compares).
"""

from __future__ import annotations

import json
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
}

VOLATILE = {"runtime_s", "wall_s", "started", "workers", "time_s", "solve_time_s", "wall_time_s"}


def scrub(obj: object) -> object:
    """Drop wall-clock fields (they differ on every run); everything else must match to the byte."""
    if isinstance(obj, dict):
        return {k: scrub(v) for k, v in obj.items() if k not in VOLATILE}
    if isinstance(obj, list):
        return [scrub(v) for v in obj]
    return obj


def produce(args: list[str]) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "storeq", *args], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    return json.dumps(scrub(json.loads(out)), indent=1, sort_keys=True) + "\n"


if __name__ == "__main__":
    for name, args in CASES.items():
        (HERE / f"{name}.json").write_text(produce(args))
        print(f"wrote {name}.json")
