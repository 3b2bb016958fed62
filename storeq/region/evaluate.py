"""Simulating a store for the regional planner: day KPIs, two regional KPIs, the busiest interval, paired deltas.

Two figures the planner needs are not store-manager KPIs, so they are computed here, per replication,
from the customer records of :func:`simulation.run` (``keep_customers=True``; the records are reduced
to a few numbers per replication at once and dropped, so memory stays flat over a region):

* ``served_within_target`` — customers per day served with at most ``store.target_wait_min`` of
  queueing in total (kiosk queue + counter queue). Kiosk-only customers count when their kiosk wait
  is within target, and demand moved online (``diverted``) counts as served without a wait, so moving
  a customer to a kiosk or the app never *lowers* the count for want of a counter visit. This is what
  a regional plan maximises.
* ``wait_hours`` — customer-hours spent queueing in the day (kiosk and counter queues, including the
  time of those who gave up): what the ``wait`` objective minimises.

Every variant of a store (an intervention, a combination, a move) runs on the store's seed, so
replication r of each sees the same customers (common random numbers) and :func:`delta` pairs them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from simulation import Scenario, run
from simulation.clock import format_clock
from simulation.results import diff_ci, kpi_ci

Progress = Callable[[int, int], None]

REGION_KPIS = ("served_within_target", "wait_hours")
DELTA_KPIS = ("served_within_target", "abandonment_rate", "mean_wait_min", "wait_hours", "service_level", "served",
              "cross_sell_revenue")
"""KPIs every intervention delta reports (the first three are the ones the brief names)."""
KPI_REPORT = ("served_within_target", "served", "arrivals", "service_level", "mean_wait_min", "p90_wait_min",
              "abandonment_rate", "utilization", "mean_queue_len", "kiosk_share", "wait_hours", "staff_hours",
              "cross_sell_revenue")
"""Day KPIs reported per store in a ranking."""


def triple(values: np.ndarray, kpi: str = "", diff: bool = False) -> dict[str, float | None]:
    """Mean and 95% CI over replications by the project's one CI rule, NaN as None (JSON-ready).

    ``kpi`` names the figure so its bounds hold (a share's CI inside [0, 1], a count's not below 0;
    :func:`simulation.results.kpi_ci`); ``diff`` for a paired difference (a share's inside [-1, 1]).
    """
    v = np.asarray(values, float)[:, None]
    m, lo, hi = (diff_ci if diff else kpi_ci)(v, [kpi])
    if not diff and kpi in REGION_KPIS:  # counts and hours: never below zero
        lo = np.maximum(lo, 0.0)

    def f(x: Any) -> float | None:
        out = float(np.asarray(x).ravel()[0])
        return None if not math.isfinite(out) else out

    return {"mean": f(m), "ci_low": f(lo), "ci_high": f(hi)}


@dataclass(frozen=True)
class Measured:
    """One store variant simulated: per-replication day KPIs and interval KPIs, the busiest interval."""

    scenario: Scenario
    seed: int
    reps: Mapping[str, np.ndarray]
    """KPI name → one value per replication (every day KPI plus REGION_KPIS)."""
    interval_sl: np.ndarray
    """replications × intervals service level (for "donors keep their target")."""
    peak: dict[str, Any]

    def mean(self, kpi: str) -> float:
        v = self.reps[kpi]
        return float(np.nanmean(v)) if np.any(~np.isnan(v)) else math.nan

    def kpi(self, kpi: str) -> dict[str, float | None]:
        return triple(self.reps[kpi], kpi)

    def kpis(self, names: Sequence[str] = KPI_REPORT) -> dict[str, dict[str, float | None]]:
        return {k: self.kpi(k) for k in names}

    def block_service_level(self, a: int, b: int) -> float:
        """Lowest mean interval service level over intervals [a, b) (NaN where nobody came is skipped)."""
        with np.errstate(all="ignore"):
            means = np.nanmean(self.interval_sl[:, a:b], axis=0) if self.interval_sl.size else np.array([])
        means = means[~np.isnan(means)]
        return float(means.min()) if len(means) else math.nan


def _per_replication(customers: pd.DataFrame, reps: int, target: float, warmup: float) -> tuple[np.ndarray, np.ndarray]:
    """served_within_target and wait_hours per replication from customer records."""
    c = customers[customers["arrival_min"] >= warmup]
    rep = c["replication"].to_numpy(np.int64)
    kiosk_wait = np.nan_to_num((c["kiosk_start_min"] - c["kiosk_join_min"]).to_numpy(float))
    start = c["service_start_min"].to_numpy(float)
    join = c["queue_join_min"].to_numpy(float)
    leave = c["leave_min"].to_numpy(float)
    outcome = c["outcome"].to_numpy(object)
    served = outcome == "served"
    counter_q = np.where(~np.isnan(join), np.where(~np.isnan(start), start, leave) - join, 0.0)
    counter_q = np.nan_to_num(counter_q)
    queued = kiosk_wait + counter_q
    within = served & (queued <= target + 1e-9)
    swt = np.bincount(rep[within], minlength=reps).astype(float)
    wh = np.bincount(rep, weights=queued, minlength=reps) / 60.0
    return swt, wh


def busiest_interval(scenario: Scenario, interval_values: np.ndarray, names: Sequence[str]) -> dict[str, Any]:
    """The interval with the lowest mean service level (ties: the longest mean wait), with its figures.

    ``names`` are the interval KPIs along the last axis of ``interval_values`` (the result's own).
    """
    ci = {k: i for i, k in enumerate(names)}
    with np.errstate(all="ignore"):
        sl = np.nanmean(interval_values[:, :, ci["service_level"]], axis=0)
        wait = np.nanmean(interval_values[:, :, ci["mean_wait_min"]], axis=0)
    order = sorted((i for i in range(len(sl)) if not math.isnan(sl[i])), key=lambda i: (sl[i], -np.nan_to_num(wait[i])))
    if not order:
        return {"start": None, "end": None}
    i = order[0]
    o, step = scenario.store.open_min, scenario.store.interval_min
    out: dict[str, Any] = {"start": format_clock(o + i * step), "end": format_clock(o + (i + 1) * step), "interval": i}
    for k in ("service_level", "mean_wait_min", "utilization", "mean_queue_len", "abandonment_rate", "arrivals", "staffed"):
        out[k] = triple(interval_values[:, i, ci[k]], k)
    return out


def _reduce(scenario: Scenario, seed: int, replications: int, res: Any) -> Measured:
    """A run's result reduced to what the planner keeps."""
    reps = {k: res.day_values[:, j].astype(float) for j, k in enumerate(res.kpi_names("day"))}
    customers = res.customers if res.customers is not None else pd.DataFrame()
    if len(customers):
        swt, wh = _per_replication(customers, replications, float(scenario.store.target_wait_min),
                                   float(scenario.simulation.warmup_min))
    else:
        swt, wh = np.zeros(replications), np.zeros(replications)
    # demand moved online by reminders is served by the app without queueing: it counts as served within
    # target, or a reminder campaign would look like it loses the customers it serves elsewhere
    reps["served_within_target"] = swt + np.nan_to_num(reps.get("diverted", np.zeros(replications)))
    reps["wait_hours"] = wh
    iv_names = res.kpi_names("interval")
    sl = res.interval_values[:, :, iv_names.index("service_level")].astype(float)
    return Measured(scenario=scenario, seed=seed, reps=reps, interval_sl=sl,
                    peak=busiest_interval(scenario, res.interval_values, iv_names))


def measure_many(
    scenarios: Sequence[Scenario],
    replications: int,
    seed: int,
    *,
    workers: int = 1,
    executor: Any = "processes",
    progress: Progress | None = None,
) -> Iterator[Measured]:
    """Simulate many store variants in one go (one pool or cluster for all), yielding them in order.

    Built on :func:`simulation.runner.iter_jobs`, the engine under ``run``/``compare``: replication r
    of every variant uses child r of ``SeedSequence(seed)`` exactly as ``run`` would, so each store's
    variants share their customers (common random numbers) and the numbers equal ``run``'s. Jobs
    stream back in order and are reduced at once, so memory stays flat over a 200-store region.
    ``executor`` is a name ("processes", "dask") or an :class:`simulation.executors.Executor`.
    """
    from simulation.results import build_result
    from simulation.runner import Job, iter_jobs

    jobs = [Job(scenario=i, seed=seed, replications=replications, keep_customers=True) for i in range(len(scenarios))]
    for j, summaries in iter_jobs(scenarios, jobs, executor=executor, workers=workers, progress=progress):
        sc = scenarios[j]
        res = build_result(sc, seed, summaries, {"seed": seed, "replications": replications})
        yield _reduce(sc, seed, replications, res)


def measure(
    scenario: Scenario,
    replications: int,
    seed: int,
    *,
    workers: int = 1,
    executor: Any = "processes",
    progress: Progress | None = None,
) -> Measured:
    """Simulate one store variant with :func:`simulation.run` and keep only what the planner needs."""
    res = run(scenario, replications=replications, seed=seed, workers=workers, keep_customers=True, progress=progress,
              executor=executor)
    return _reduce(scenario, seed, replications, res)


def delta(after: Measured, before: Measured, names: Sequence[str] = DELTA_KPIS) -> dict[str, dict[str, float | None]]:
    """Paired differences after − before (replication r with r) with 95% CIs."""
    return {k: triple(after.reps[k] - before.reps[k], k, diff=True) for k in names}


def total_delta(pairs: Sequence[tuple[Measured, Measured]], kpi: str) -> dict[str, float | None]:
    """The region-wide paired difference: per replication summed over stores, then mean and CI.

    Stores are simulated independently of each other; summing replication r over stores before the CI
    keeps whatever correlation the shared seed gives, so the interval is right either way.
    """
    if not pairs:
        return {"mean": 0.0, "ci_low": 0.0, "ci_high": 0.0}
    n = min(len(a.reps[kpi]) for a, _ in pairs)
    total = np.zeros(n)
    for after, before in pairs:
        total += after.reps[kpi][:n] - before.reps[kpi][:n]
    return triple(total, kpi, diff=True)


def operator_measures(m: Measured) -> dict[str, Any]:
    """The five measures operators rank halls by, as simulated."""
    sc = m.scenario
    staffed = sc.staffed_schedule()
    return {
        "counters": int(sc.physical_counters),
        "counters_staffed_max": int(staffed.max()),
        "customers_served": m.mean("served"),
        "kiosks": int(sc.kiosks.count),
        "avg_wait_min": m.mean("mean_wait_min"),
        "avg_transaction_min": round(float(sum(t.share * t.counter_time.mean for t in sc.transactions)), 3),
    }
