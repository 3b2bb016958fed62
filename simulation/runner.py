"""Replications on an executor: ``run()``, ``compare()`` and the streaming ``iter_jobs()``.

Replication ``r`` always uses child ``r`` of ``SeedSequence(seed)`` (see
:func:`simulation.engine.replication_streams`), and results are assembled in replication order, so
the same scenario and seed give identical numbers whatever the executor (local processes or Dask,
see :mod:`simulation.executors`) and the number of workers.

Work is described as *jobs* (:class:`Job`: a scenario, optionally with dotted-key updates applied in
the worker, a seed and a replication count) and cut into blocks of replications sized for the
executor (:func:`simulation.executors.plan_blocks`). Each block returns only the small
per-replication KPI arrays (customer records only with ``keep_customers=True``): start-up and
pickling stay a small share of the run, and memory does not grow with the number of customers.
"""

from __future__ import annotations

import numbers
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from .engine import simulate_replication
from .executors import Executor, ProcessExecutor, plan_blocks, using
from .results import CompareResult, DaySummary, RunResult, build_result, paired_differences, summarise_day
from .scenario import Scenario, with_updates

Progress = Callable[[int, int], None]
ExecutorArg = str | Executor


def _version() -> str:
    try:
        return metadata.version("storeq")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0+unknown"


@dataclass(frozen=True)
class Job:
    """Replications ``0 .. replications-1`` of one scenario.

    ``scenario`` indexes the scenarios shipped to every worker; ``updates`` (dotted key → value, as
    for :func:`simulation.scenario.with_updates`) are applied in the worker, so a sweep ships its base
    scenario once and each variant as a few bytes. The caller validates the updates first.
    """

    scenario: int
    seed: int
    replications: int
    updates: tuple[tuple[str, Any], ...] = ()
    keep_customers: bool = False


# The last variant built in this worker: consecutive blocks of one variant do not rebuild it.
_VARIANT: tuple[Scenario, str, Scenario] | None = None


def _scenario_for(base: Scenario, updates: tuple[tuple[str, Any], ...]) -> Scenario:
    global _VARIANT
    if not updates:
        return base
    key = repr(updates)
    if _VARIANT is not None and _VARIANT[0] is base and _VARIANT[1] == key:
        return _VARIANT[2]
    variant = with_updates(base, dict(updates), source="variant")
    _VARIANT = (base, key, variant)
    return variant


def simulate_block(shared: Sequence[Scenario], block: tuple[Job, int, int]) -> list[DaySummary]:
    """Worker entry point: simulate and summarise replications ``start .. stop-1`` of a job."""
    job, start, stop = block
    scenario = _scenario_for(shared[job.scenario], job.updates)
    out = []
    for r in range(start, stop):
        log = simulate_replication(scenario, r, job.seed)
        out.append(summarise_day(scenario, log, r, job.keep_customers))
    return out


def iter_jobs(
    scenarios: Sequence[Scenario],
    jobs: Sequence[Job],
    executor: ExecutorArg = "processes",
    scheduler: str | None = None,
    workers: int | None = 1,
    progress: Progress | None = None,
) -> Iterator[tuple[int, list[DaySummary]]]:
    """Yield ``(job index, summaries in replication order)`` for each job, in job order.

    Streams: a job is yielded as soon as it and every job before it are done, and the executor keeps
    only a bounded number of blocks ahead, so memory stays flat however many jobs there are.
    ``progress(done, total)`` counts replications, fed from completed blocks.
    """
    shared = tuple(scenarios)
    total = sum(j.replications for j in jobs)
    with using(executor, scheduler, workers) as ex:
        # In this process blocks cost nothing, so progress moves in ~1% steps; elsewhere ~4 per worker.
        in_process = isinstance(ex, ProcessExecutor) and ex.workers <= 1
        plan = plan_blocks((j.replications for j in jobs), 1 if in_process else ex.workers, 100 if in_process else 4)
        blocks = [(jobs[j], r.start, r.stop) for j, r in plan]
        remaining = [0] * len(jobs)
        for j, _ in plan:
            remaining[j] += 1
        parts: dict[int, dict[int, list[DaySummary]]] = {}
        next_job, done = 0, 0
        while next_job < len(jobs) and remaining[next_job] == 0:  # zero-replication jobs
            yield next_job, []
            next_job += 1
        it = ex.map_blocks(simulate_block, shared, blocks)
        try:
            for i, summaries in it:
                j, r = plan[i]
                parts.setdefault(j, {})[r.start] = summaries
                remaining[j] -= 1
                done += len(r)
                if progress is not None:
                    progress(done, total)
                while next_job < len(jobs) and remaining[next_job] == 0:
                    got = parts.pop(next_job, {})
                    yield next_job, [s for start in sorted(got) for s in got[start]]
                    next_job += 1
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()  # cancels pending blocks if we stop early (error, Ctrl+C, caller gave up)


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
    executor: ExecutorArg = "processes",
    scheduler: str | None = None,
) -> RunResult:
    """Simulate ``replications`` days of ``scenario`` and report KPIs with 95% confidence intervals.

    Parameters
    ----------
    scenario : Scenario
        The validated store day.
    replications, seed : int, optional
        Default to ``scenario.simulation.replications`` / ``.seed``.
    workers : int, optional
        Worker processes (1: in this process; 0 or None: one per CPU); with ``executor="dask"`` and no
        scheduler, the local cluster's workers. The output does not depend on it.
    keep_customers : bool
        Keep per-customer records in ``RunResult.customers`` (memory grows with customers × replications).
    progress : callable, optional
        ``progress(done, total)`` is called as blocks of replications finish.
    executor : {"processes", "dask"} or Executor
        Where blocks run (see :mod:`simulation.executors`); the output does not depend on it.
    scheduler : str, optional
        With ``executor="dask"``: a running scheduler's address (default: a local cluster).

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
    with using(executor, scheduler, w) as ex:
        ((_, summaries),) = iter_jobs([scenario], [Job(0, s, reps, keep_customers=keep_customers)], ex, progress=progress)
        w = ex.workers
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
    executor: ExecutorArg = "processes",
    scheduler: str | None = None,
) -> CompareResult:
    """Run scenarios on common random numbers and report paired differences against the first.

    All scenarios use the same seed (default: the first scenario's) and replication count, so
    replication r of each sees the same customers wherever the scenarios agree on demand.
    ``labels`` name the scenarios in the difference tables (default: their names, made unique).
    ``workers``, ``executor`` and ``scheduler`` are as for :func:`run`; (scenario, replications) blocks
    of all scenarios share one pool or cluster.
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
    jobs = [Job(i, s, reps) for i in range(len(scenarios))]
    with using(executor, scheduler, w) as ex:
        all_summaries = [summ for _, summ in iter_jobs(scenarios, jobs, ex, progress=progress)]
        w = ex.workers
    results = [
        build_result(sc, s, summ, _provenance(sc, s, reps, w, t0))
        for sc, summ in zip(scenarios, all_summaries, strict=True)
    ]
    diffs, idiffs = paired_differences(results, names)
    return CompareResult(results=results, labels=names, differences=diffs, interval_differences=idiffs)
