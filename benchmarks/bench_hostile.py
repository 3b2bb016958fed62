"""How fast hostile scenario files are answered: storeq's reader against plain PyYAML, same run.

    .venv/bin/python benchmarks/bench_hostile.py

For each file: seconds until storeq's ``scenario_from_yaml`` refuses (or accepts) it, and seconds for
the baseline — ``yaml.load(text, yaml.SafeLoader)`` alone, the pure-Python parse the project used
before, without any validation — and their ratio. The baseline is skipped (``-``) where it would
not finish in bounded memory or would crash (alias bombs expand on validation, not on parse).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from simulation import ScenarioError, scenario_from_yaml

ROOT = Path(__file__).resolve().parents[1]
BASE = (ROOT / "scenarios" / "supermarket.yaml").read_text()


def _files() -> dict[str, str]:
    segs = "".join(f"  - {{name: s{i}, share: -1, priority: x, patience: {{dist: exponential, mean: -{i}}}}}\n" for i in range(900))
    return {
        "valid supermarket (3 KB)": BASE,
        "60 KB, 900 invalid segments": BASE.split("segments:")[0] + "segments:\n" + segs + "transactions:" + BASE.split("transactions:", 1)[1],
        "10,000 invalid arrivals (43 KB)": BASE.replace("arrivals_per_hour:", "arrivals_per_hour: [" + ", ".join(["-1"] * 9999) + "]\n  old:", 1),
        "300,000 list items (1.2 MB)": "demand: {arrivals_per_hour: [" + ", ".join(["-1"] * 300_000) + "]}\n",
        "nested 900 deep": "name: " + "[" * 900 + "]" * 900 + "\n",
    }


def _time(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    with contextlib.suppress(ScenarioError, yaml.YAMLError, RecursionError):
        fn()
    return time.perf_counter() - t0


def main() -> None:
    print(f"{'file':34s} {'storeq s':>9s} {'PyYAML s':>9s} {'ratio':>7s}  answer")
    for name, text in _files().items():
        ours = _time(lambda t=text: scenario_from_yaml(t, "bench.yaml"))
        base = _time(lambda t=text: yaml.load(t, Loader=yaml.SafeLoader))
        try:
            scenario_from_yaml(text, "bench.yaml")
            answer = "valid"
        except ScenarioError as exc:
            answer = f"{len(exc.problems)} problem(s): {exc.problems[0][1][:50]}"
        print(f"{name:34s} {ours:9.3f} {base:9.3f} {base / ours:6.1f}x  {answer}")


if __name__ == "__main__":
    main()
