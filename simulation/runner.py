"""Replications, in parallel worker processes: ``run()`` and ``compare()``.

Replication ``r`` always uses child ``r`` of ``SeedSequence(seed)`` (see
:func:`simulation.engine.replication_streams`), and results are assembled in replication order, so
the same scenario and seed give identical numbers whatever the number of workers.

Each worker simulates a contiguous block of replications and returns only the small per-replication
KPI arrays (customer records only with ``keep_customers=True``): process start-up and pickling stay a
small share of the run, and memory does not grow with the number of customers.
"""

from __future__ import annotations

import multiprocessing as mp
import numbers
import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from importlib import metadata
from typing import Any

from .engine import simulate_replication
from .results import CompareResult, DaySummary, RunResult, build_result, paired_differences, summarise_day
from .scenario import Scenario

Progress = Callable[[int, int], None]


def _version() -> str:
    try:
        return metadata.version("storeq")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0+unknown"


def _simulate_block(scenario: Scenario, seed: int, reps: Sequence[int], keep_customers: bool) -> list[DaySummary]:
    """Worker entry point: simulate and summarise replications ``reps``."""
    out = []
    for r in reps:
        log = simulate_replication(scenario, r, seed)
        out.append(summarise_day(scenario, log, r, keep_customers))
    return out


def _blocks(n: int, workers: int) -> list[range]:
    """Contiguous blocks: a few per worker, so progress moves and a slow block does not idle the rest."""
    # In-process, blocks cost nothing, so progress moves in 1% steps; with workers, 4 blocks each.
    per_worker = 4 if n >= workers * 8 else 1
    n_blocks = min(n, 100) if workers <= 1 else min(n, workers * per_worker)
    if n_blocks == 0:
        return []
    edges = [round(i * n / n_blocks) for i in range(n_blocks + 1)]
    return [range(edges[i], edges[i + 1]) for i in range(n_blocks) if edges[i + 1] > edges[i]]


def _pool(workers: int) -> ProcessPoolExecutor:
    # fork starts workers in milliseconds with everything imported; elsewhere use the platform default.
    ctx = mp.get_context("fork") if sys.platform.startswith("linux") else None
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx)


def _run_jobs(
    jobs: list[tuple[Scenario, int, int, bool]],
    workers: int,
    progress: Progress | None,
) -> list[list[DaySummary]]:
    """Run ``(scenario, seed, replications, keep)`` jobs; summaries per job, in replication order."""
    total = sum(j[2] for j in jobs)
    done = 0
    tasks: list[tuple[int, range]] = [(ji, b) for ji, job in enumerate(jobs) for b in _blocks(job[2], workers)]
    parts: dict[tuple[int, int], list[DaySummary]] = {}
    if workers <= 1 or len(tasks) <= 1:
        for ji, block in tasks:
            sc, seed, _, keep = jobs[ji]
            parts[(ji, block.start)] = _simulate_block(sc, seed, block, keep)
            done += len(block)
            if progress is not None:
                progress(done, total)
    else:
        with _pool(min(workers, len(tasks))) as ex:
            futures: dict[Future[list[DaySummary]], tuple[int, range]] = {}
            for ji, block in tasks:
                sc, seed, _, keep = jobs[ji]
                futures[ex.submit(_simulate_block, sc, seed, block, keep)] = (ji, block)
            pending = set(futures)
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for f in finished:
                    ji, block = futures[f]
                    parts[(ji, block.start)] = f.result()
                    done += len(block)
                    if progress is not None:
                        progress(done, total)
    out: list[list[DaySummary]] = [[] for _ in jobs]
    for (ji, _start), summaries in sorted(parts.items(), key=lambda kv: kv[0]):
        out[ji].extend(summaries)
    return out


def _whole(x: object) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _check(replications: int, workers: int | None) -> tuple[int, int]:
    """Validated (replications, workers); workers 0 or None means one per CPU."""
    if not _whole(replications) or replications < 1:
        raise ValueError(f"replications must be a whole number >= 1, got {replications!r}")
    if workers is None or (_whole(workers) and workers == 0):
        return int(replications), os.cpu_count() or 1
    if not _whole(workers) or workers < 0:
        raise ValueError(f"workers must be a whole number >= 1 (0 or None: one per CPU), got {workers!r}")
    return int(replications), int(workers)


def run(
    scenario: Scenario,
    replications: int | None = None,
    seed: int | None = None,
    workers: int | None = 1,
    keep_customers: bool = False,
    progress: Progress | None = None,
) -> RunResult:
    """Simulate ``replications`` days of ``scenario`` and report KPIs with 95% confidence intervals.

    Parameters
    ----------
    scenario : Scenario
        The validated store day.
    replications, seed : int, optional
        Default to ``scenario.simulation.replications`` / ``.seed``.
    workers : int, optional
        Worker processes (1: in this process; 0 or None: one per CPU). The output does not depend on it.
    keep_customers : bool
        Keep per-customer records in ``RunResult.customers`` (memory grows with customers × replications).
    progress : callable, optional
        ``progress(done, total)`` is called as blocks of replications finish.

    Examples
    --------
    >>> from simulation import load_scenario, run  # doctest: +SKIP
    >>> res = run(load_scenario("scenarios/telecom_month_end.yaml"), replications=20)  # doctest: +SKIP
    >>> res.kpis.loc["mean_wait_min", ["mean", "ci_low", "ci_high"]]  # doctest: +SKIP
    """
    reps = scenario.simulation.replications if replications is None else replications
    s = scenario.simulation.seed if seed is None else seed
    reps, w = _check(reps, workers)
    s = int(s)
    t0 = time.perf_counter()
    (summaries,) = _run_jobs([(scenario, s, reps, keep_customers)], w, progress)
    return build_result(scenario, s, summaries, _provenance(scenario, s, reps, w, t0))


def _provenance(scenario: Scenario, seed: int, reps: int, workers: int, t0: float) -> dict[str, Any]:
    return {
        "scenario_hash": scenario.digest(),
        "seed": seed,
        "replications": reps,
        "version": _version(),
        "runtime_s": round(time.perf_counter() - t0, 4),
        "workers": workers,
    }


def _labels(scenarios: Sequence[Scenario]) -> list[str]:
    """Scenario names, made unique (variants made with --set often share a name)."""
    labels: list[str] = []
    for s in scenarios:
        name, k = s.name, 2
        while name in labels:
            name = f"{s.name} ({k})"
            k += 1
        labels.append(name)
    return labels


def compare(
    scenarios: Sequence[Scenario],
    replications: int | None = None,
    seed: int | None = None,
    workers: int | None = 1,
    progress: Progress | None = None,
    labels: Sequence[str] | None = None,
) -> CompareResult:
    """Run scenarios on common random numbers and report paired differences against the first.

    All scenarios use the same seed (default: the first scenario's) and replication count, so
    replication r of each sees the same customers wherever the scenarios agree on demand.
    ``labels`` name the scenarios in the difference tables (default: their names, made unique).
    """
    if len(scenarios) < 1:
        raise ValueError("compare needs at least one scenario")
    first = scenarios[0]
    reps = first.simulation.replications if replications is None else replications
    s = first.simulation.seed if seed is None else seed
    reps, w = _check(reps, workers)
    s = int(s)
    names = list(labels) if labels is not None else _labels(scenarios)
    if len(names) != len(scenarios):
        raise ValueError(f"compare: {len(names)} labels for {len(scenarios)} scenarios")
    t0 = time.perf_counter()
    all_summaries = _run_jobs([(sc, s, reps, False) for sc in scenarios], w, progress)
    results = [
        build_result(sc, s, summ, _provenance(sc, s, reps, w, t0))
        for sc, summ in zip(scenarios, all_summaries, strict=True)
    ]
    diffs, idiffs = paired_differences(results, names)
    return CompareResult(results=results, labels=names, differences=diffs, interval_differences=idiffs)
