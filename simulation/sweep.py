"""Sweeps: the full factorial of scenario variants on common random numbers, streamed.

``storeq sweep hall.yaml --grid counters.staffed=6..12 --grid kiosks.count=2,3,4`` runs every
combination (7 × 3 = 21 variants) with the same seed and replication count, so replication ``r`` of
every variant sees the same customers wherever the variants agree on demand, and reports each
variant's KPIs with the paired difference to the first variant (the first value of every grid).

The base scenario is shipped to each worker once; a variant travels as its few dotted-key updates
and is rebuilt in the worker (:class:`simulation.runner.Job`). Variants are yielded in order as they
finish and nothing of a finished variant is kept but the first one's per-replication day KPIs, so
memory stays flat however many variants there are.

>>> grid = parse_grid(["counters.staffed=6..8", "kiosks.count=2,3"])  # doctest: +SKIP
>>> for v in sweep(base, grid, replications=20):  # doctest: +SKIP
...     print(v.index, v.updates, v.kpis.loc["mean_wait_min", "mean"], v.delta.loc["mean_wait_min", "diff_mean"])
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .executors import Executor
from .results import RunResult, build_result, paired_differences
from .runner import Job, Progress, _check, _provenance, iter_jobs
from .scenario import Scenario, ScenarioError, with_updates

# A sweep this large is a mistake in a --grid, not a plan: 7 keys of 10 values are 10 million variants.
MAX_VARIANTS = 100_000
_RANGE = re.compile(r"^\s*(-?\d+)\s*\.\.\s*(-?\d+)\s*(?:(?:by|step|:)\s*(\d+))?\s*$")


def _yaml_value(raw: str, key: str) -> Any:
    from .loader import parse_yaml_text  # the one safe YAML reader (limits on size and depth)

    return parse_yaml_text(raw, f"--grid {key}")


def parse_grid(items: Sequence[str]) -> dict[str, list[Any]]:
    """``["counters.staffed=6..8", "kiosks.count=2,3"]`` → ``{"counters.staffed": [6, 7, 8], "kiosks.count": [2, 3]}``.

    Values are comma-separated and read as YAML (``0.5``, ``true``, ``always``); ``A..B`` is every
    whole number from A to B inclusive (``A..B:STEP`` steps); a value starting with ``[`` is one YAML
    list of values (``counters.staffed=[[6,8],[7,9]]`` for per-interval schedules). Raises
    :class:`ScenarioError` naming the key and the value.
    """
    grid: dict[str, list[Any]] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ScenarioError("--grid", [("", f"expected KEY=V1,V2,... or KEY=A..B (e.g. counters.staffed=6..12), got {item!r}")])
        if key in grid:
            raise ScenarioError("--grid", [(key, "is given twice; put all its values in one --grid")])
        values: list[Any] = []
        if raw.strip().startswith("["):
            parsed = _yaml_value(raw, key)
            if not isinstance(parsed, list):
                raise ScenarioError("--grid", [(key, f"{raw!r} is not a YAML list of values")])
            values = parsed
        else:
            for part in raw.split(","):
                if not part.strip():
                    raise ScenarioError("--grid", [(key, f"empty value in {raw!r} (values are comma-separated)")])
                m = _RANGE.match(part)
                if m:
                    lo, hi, step = int(m[1]), int(m[2]), int(m[3] or 1)
                    if hi < lo or step < 1:
                        raise ScenarioError(
                            "--grid", [(key, f"range {part.strip()!r} is empty: write LOW..HIGH with LOW <= HIGH and a step >= 1")]
                        )
                    values.extend(range(lo, hi + 1, step))
                elif ".." in part:
                    raise ScenarioError("--grid", [(key, f"{part.strip()!r} is not a range of whole numbers like 6..12 (or 6..12:2)")])
                else:
                    values.append(_yaml_value(part.strip(), key))
        if not values:
            raise ScenarioError("--grid", [(key, f"no values in {raw!r}")])
        if len({repr(v) for v in values}) < len(values):
            raise ScenarioError("--grid", [(key, f"repeats a value in {raw!r}")])
        grid[key] = values
    n = int(np.prod([len(v) for v in grid.values()])) if grid else 0
    if n > MAX_VARIANTS:
        raise ScenarioError("--grid", [("", f"{n:,} variants is more than {MAX_VARIANTS:,}; split the sweep")])
    return grid


def variants(grid: Mapping[str, Sequence[Any]]) -> Iterator[dict[str, Any]]:
    """The full factorial, first key slowest: ``{key: value}`` per variant (the first is the baseline)."""
    keys = list(grid)
    for combo in itertools.product(*(grid[k] for k in keys)):
        yield dict(zip(keys, combo, strict=True))


def describe(updates: Mapping[str, Any]) -> str:
    """``counters.staffed=7, kiosks.count=3``: a variant as a person types it."""
    return ", ".join(f"{k}={v}" for k, v in updates.items())


def check_variants(base: Scenario, grid: Mapping[str, Sequence[Any]]) -> int:
    """Build and validate every variant before simulating any; returns how many there are.

    Raises :class:`ScenarioError` for the first invalid one, naming the keys and values (a bad value
    must fail in a second, not after an hour of simulation). Each variant is dropped once checked.
    """
    n = 0
    for v in variants(grid):
        # every combination, not each (key, value) once: cross-checks (vip <= staffed) span keys
        with_updates(base, v, source=f"--grid {describe(v)}")
        n += 1
    return n


@dataclass
class VariantResult:
    """One variant of a sweep: its updates, its day KPIs and the paired difference to the first.

    ``kpis``: index KPI name; mean, ci_low, ci_high. ``delta``: index KPI name; diff_mean, ci_low,
    ci_high (variant − first, replication by replication; zeros for the first). ``result`` is the
    full :class:`RunResult` (intervals, segments), dropped by the caller when not needed.
    """

    index: int
    updates: dict[str, Any]
    kpis: pd.DataFrame
    delta: pd.DataFrame
    result: RunResult

    def to_json(self) -> dict[str, Any]:
        """``{"set": {...}, "kpis": {kpi: {mean, ci_low, ci_high}}, "delta": {kpi: {diff_mean, ci_low, ci_high}}}``."""
        kpis = self.result.to_json()["kpis"]
        d = self.delta[["diff_mean", "ci_low", "ci_high"]].to_numpy(float)
        delta = {
            str(k): {"diff_mean": _num(d[i, 0]), "ci_low": _num(d[i, 1]), "ci_high": _num(d[i, 2])}
            for i, k in enumerate(self.delta.index)
        }
        return {"set": dict(self.updates), "kpis": kpis, "delta": delta}


def _num(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def sweep(
    base: Scenario,
    grid: Mapping[str, Sequence[Any]],
    replications: int | None = None,
    seed: int | None = None,
    workers: int | None = 1,
    executor: str | Executor = "processes",
    scheduler: str | None = None,
    progress: Progress | None = None,
    check: bool = True,
) -> Iterator[VariantResult]:
    """Run every variant of ``grid`` on common random numbers; yield them in order as they finish.

    Parameters are as for :func:`simulation.runner.run`; ``grid`` maps dotted keys to value lists
    (see :func:`parse_grid`). ``check=False`` skips validating every variant up front (the caller
    did). An empty grid is one variant: the base scenario.
    """
    reps = base.simulation.replications if replications is None else replications
    s = base.simulation.seed if seed is None else seed
    reps, w = _check(reps, workers)
    s = int(s)
    if check:
        check_variants(base, grid)
    updates = list(variants(grid)) if grid else [{}]
    jobs = [Job(0, s, reps, updates=tuple(u.items())) for u in updates]
    t0 = time.perf_counter()
    first: RunResult | None = None
    for j, summaries in iter_jobs([base], jobs, executor, scheduler, w, progress):
        scenario = with_updates(base, updates[j], source="variant") if updates[j] else base
        res = build_result(scenario, s, summaries, _provenance(scenario, s, reps, w, t0))
        if first is None:
            first = res  # the baseline: the only variant kept to the end (for the paired differences)
        # the one definition of a paired difference (and its CI, shares kept inside [-1, 1])
        diffs, _ = paired_differences([first, res], ["first", "variant"])
        delta = diffs.set_index("kpi")[["diff_mean", "diff_ci_low", "diff_ci_high"]]
        delta.columns = pd.Index(["diff_mean", "ci_low", "ci_high"])
        yield VariantResult(j, updates[j], res.kpis[["mean", "ci_low", "ci_high"]], delta, res)
