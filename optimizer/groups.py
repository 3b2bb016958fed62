"""Counter groups in the optimizer: a requirement per group, refined on the whole store.

A hall with ``counters.groups`` (payment-only counters beside full-service ones, advisers beside
tellers) is staffed group by group: each group has its own customers (those it is the most
specialised group for), its own need per interval and its own staff pool. The groups interact — a
``then: any`` group helps others when idle, customers of a full group are not served by another —
so the need is found by simulating the whole store: every group's staffing at once, each group's
service level measured on its own customers.

- :func:`home_groups`: which group each (transaction, segment) belongs to.
- :func:`group_service`: per group and interval, the service level of its own customers (mean and
  95% CI over replications) from a run's customer records.
- :func:`refine_group_requirements`: Erlang A per group on its own demand, then raise/lower by
  simulation under common random numbers until stable (the coarse search of
  :func:`optimizer.requirement.refine_requirement`, on the (group, interval) grid).
- :func:`groups_scenario`: the scenario with each group's staffing written in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from simulation import Scenario, with_updates
from simulation.executors import Executor, using
from simulation.routing import CounterGroup

from .requirement import RefinementStep, Requirement, ServiceTarget, _staff_for, pitch_policy

if TYPE_CHECKING:
    from simulation.runner import ExecutorArg

__all__ = [
    "GroupDemand",
    "group_demand",
    "group_service",
    "groups_scenario",
    "home_groups",
    "refine_group_requirements",
]


def home_groups(scenario: Scenario) -> dict[tuple[str, str], int]:
    """(transaction, segment) → index of the most specialised group that serves it as its own.

    "Most specialised" = the fewest (transaction, segment) pairs it serves: a payment-only group is
    the home of payments even though the general group could serve them too.
    """
    groups = scenario.counter_groups()
    size = [len(g.transactions or ()) * len(g.segments or ()) for g in groups]
    out: dict[tuple[str, str], int] = {}
    for t in scenario.transactions:
        for s in scenario.segments:
            own = [k for k, g in enumerate(groups) if g.serves(t.name, s.name)]
            if own:
                out[(t.name, s.name)] = min(own, key=lambda k: (size[k], k))
    return out


@dataclass(frozen=True)
class GroupDemand:
    """Counter arrivals per minute per interval, mean handling time and patience of one group's customers."""

    name: str
    rate_per_min: np.ndarray
    handle_min: float
    patience_min: float
    customers: tuple[float, ...]


def group_demand(scenario: Scenario) -> list[GroupDemand]:
    """Each group's own counter demand (after online diversion and kiosks), from the scenario's shares."""
    groups = scenario.counter_groups()
    home = home_groups(scenario)
    walk_ins = scenario.arrival_rates_per_hour() / 60.0
    k = scenario.kiosks
    use_kiosk = (k.greeter_adoption if k.greeter is True else k.adoption) if k.count > 0 else 0.0
    share = np.zeros(len(groups))
    minutes = np.zeros(len(groups))
    theta = np.zeros(len(groups))
    for t in scenario.transactions:
        if t.kiosk_time is not None:
            to_counter = (1.0 - scenario.demand.online_diversion) * (1.0 - use_kiosk + use_kiosk * k.failure)
        else:
            to_counter = 1.0
        for s in scenario.segments:
            g = home.get((t.name, s.name))
            if g is None:
                continue
            w = t.share * s.share * to_counter
            share[g] += w
            minutes[g] += w * t.counter_time.mean
            if s.patience is not None and s.patience.mean > 0:
                theta[g] += w / s.patience.mean
    out = []
    for g, grp in enumerate(groups):
        rate = np.asarray(walk_ins * share[g], dtype=float)
        handle = minutes[g] / share[g] if share[g] > 0 else 1.0
        patience = share[g] / theta[g] if theta[g] > 0 else math.inf
        cust = tuple(float(x * scenario.store.interval_min) for x in rate)
        out.append(GroupDemand(grp.name, rate, float(handle), float(patience), cust))
    return out


def groups_scenario(scenario: Scenario, staffed: Sequence[Sequence[int]], **updates: Any) -> Scenario:
    """``scenario`` with each group's ``staffed`` schedule replaced (in the file's own group form)."""
    raw: tuple[CounterGroup, ...] = scenario.counters.groups or ()
    groups = []
    for g, sched in zip(raw, staffed, strict=True):
        data = g.model_dump(exclude_none=True)
        data["staffed"] = [int(x) for x in sched]
        groups.append(data)
    return with_updates(scenario, {"counters.groups": groups, **updates}, source="optimized plan")


def group_service(res: Any, scenario: Scenario, target: ServiceTarget) -> list[pd.DataFrame]:
    """Per group, per interval: service level of the group's own customers (mean, 95% CI over
    replications) and their abandonment rate, from customer records (``keep_customers=True``).

    A customer counts in the interval where it joined the counter queue; within target = served at
    a counter after waiting at most the target wait; the denominator is served + abandoned, as in
    the store-level KPI.
    """
    from scipy import stats

    cust: pd.DataFrame = res.customers
    home = home_groups(scenario)
    names = [g.name for g in scenario.counter_groups()]
    n_int = scenario.n_intervals
    reps = int(res.replications)
    wait = target.wait_for(scenario)
    c = cust[cust["queue_join_min"].notna()].copy()
    c["home"] = [home.get((t, s), -1) for t, s in zip(c["transaction"], c["segment"], strict=True)]
    c["interval"] = np.clip((c["queue_join_min"] // scenario.store.interval_min).astype(int), 0, n_int - 1)
    c["within"] = (c["outcome"] == "served") & (c["wait_min"] <= wait + 1e-9)
    c["gone"] = c["outcome"] == "abandoned"
    c["counted"] = (c["outcome"] == "served") | c["gone"]
    agg = c.groupby(["home", "interval", "replication"])[["within", "gone", "counted"]].sum()
    t_q = float(stats.t.ppf(0.975, max(reps - 1, 1)))
    cells = {(int(a), int(b)) for a, b, _r in agg.index}
    out = []
    for g, name in enumerate(names):
        rows = []
        for i in range(n_int):
            sl = np.full(reps, np.nan)
            ab = np.full(reps, np.nan)
            if (g, i) in cells:
                sub = pd.DataFrame(agg.xs((g, i), level=("home", "interval")))
                idx = sub.index.to_numpy(int)
                counted = sub["counted"].to_numpy(float)
                with np.errstate(invalid="ignore", divide="ignore"):
                    sl[idx] = np.where(counted > 0, sub["within"].to_numpy(float) / counted, np.nan)
                    ab[idx] = np.where(counted > 0, sub["gone"].to_numpy(float) / counted, np.nan)
            rows.append(
                {
                    "group": name,
                    "interval": i,
                    **_mean_ci(sl, "service_level", t_q),
                    **_mean_ci(ab, "abandonment_rate", t_q),
                }
            )
        frame = pd.DataFrame(rows)
        frame.insert(2, "start", scenario.interval_labels)
        out.append(frame)
    return out


def _mean_ci(x: np.ndarray, name: str, t_q: float) -> dict[str, float]:
    v = x[~np.isnan(x)]
    if len(v) == 0:
        return {f"{name}_mean": math.nan, f"{name}_ci_low": math.nan, f"{name}_ci_high": math.nan}
    m = float(v.mean())
    half = t_q * float(v.std(ddof=1)) / math.sqrt(len(v)) if len(v) > 1 else 0.0
    return {f"{name}_mean": m, f"{name}_ci_low": max(0.0, m - half), f"{name}_ci_high": min(1.0, m + half)}


def _group_misses(frame: pd.DataFrame, target: ServiceTarget) -> np.ndarray:
    sl = frame["service_level_mean"].to_numpy(float)
    miss = ~np.isnan(sl) & (sl < target.service_level)
    if target.max_abandon is not None:
        ab = frame["abandonment_rate_mean"].to_numpy(float)
        miss |= ~np.isnan(ab) & (ab > target.max_abandon)
    return miss


def _group_room(frame: pd.DataFrame, target: ServiceTarget, slack: float) -> np.ndarray:
    sl = frame["service_level_mean"].to_numpy(float)
    return np.isnan(sl) | (sl >= min(1.0, target.service_level + slack))


def refine_group_requirements(
    scenario: Scenario,
    target: ServiceTarget,
    replications: int = 30,
    seed: int | None = None,
    max_iterations: int = 12,
    slack: float = 0.05,
    workers: int = 1,
    simulate: bool = True,
    executor: ExecutorArg = "processes",
    scheduler: str | None = None,
) -> list[Requirement]:
    """Counters needed per group and interval, refined on the whole store.

    Start: Erlang A per group on its own customers. Then (``simulate``) every iteration simulates
    the store with all groups' current staffing (common random numbers), raises each (group,
    interval) whose own customers miss the target, and once nothing misses lowers those at least
    ``slack`` above it, undoing a lowering that breaks anything (never retried). A group of at least
    one counter per interval keeps its customers served (the floor). The hall's counters cap the
    sum: a (group, interval) that misses while the hall is full is recorded as over capacity
    (``needed = staffed + 1``).

    ``executor``/``scheduler``: where the simulations run, as for :func:`.refine_requirement`.
    """
    from simulation import run

    if not isinstance(executor, Executor):
        with using(executor, scheduler, workers) as ex:
            return refine_group_requirements(
                scenario, target, replications, seed, max_iterations, slack, workers, simulate, executor=ex
            )

    wait = target.wait_for(scenario)
    base = with_updates(scenario, {"store.target_wait_min": wait, "cross_sell.policy": pitch_policy(False)})
    demands = group_demand(base)
    n = scenario.n_intervals
    staff = np.array(
        [
            [
                max(1, _staff_for(float(lam), d.handle_min, d.patience_min, wait, target, True))
                if d.rate_per_min.sum() > 0
                else 0
                for lam in d.rate_per_min
            ]
            for d in demands
        ],
        dtype=int,
    )
    floor = np.where(staff > 0, 1, 0)
    physical = scenario.physical_counters
    staff = _fit_hall(staff, floor, physical)
    lower_floor = floor.copy()
    history: list[RefinementStep] = []
    frames: list[pd.DataFrame] = []
    miss = np.zeros_like(staff, dtype=bool)
    pending: np.ndarray | None = None
    converged = not simulate
    seed = scenario.simulation.seed if seed is None else seed
    for it in range(1, (max_iterations if simulate else 0) + 1):
        trial = groups_scenario(base, staff.tolist())
        res = run(trial, replications=replications, seed=seed, workers=workers, keep_customers=True, executor=executor)
        frames = group_service(res, trial, target)
        new_miss = np.array([_group_misses(f, target) for f in frames])
        if pending is not None and (new_miss & ~miss).any():
            staff[pending] += 1
            lower_floor[pending] = staff[pending]
            pending = None
            miss = new_miss
            history.append(RefinementStep(it, tuple(staff.sum(axis=0).tolist()), (), (), ()))
            continue
        miss, pending = new_miss, None
        room_in_hall = staff.sum(axis=0) < physical
        raise_ = miss & room_in_hall[None, :]
        lowered = np.zeros_like(raise_)
        if raise_.any():
            staff[raise_] += 1
            staff = _fit_hall(staff, floor, physical)
        else:
            room = np.array([_group_room(f, target, slack) for f in frames]) & (staff > lower_floor) & ~miss
            if room.any():
                staff[room] -= 1
                pending, lowered = room, room
        history.append(
            RefinementStep(
                it,
                tuple(int(x) for x in staff.sum(axis=0)),
                tuple(int(i) for i in np.flatnonzero(miss.any(axis=0))),
                tuple(int(i) for i in np.flatnonzero(raise_.any(axis=0))),
                tuple(int(i) for i in np.flatnonzero(lowered.any(axis=0))),
            )
        )
        if not raise_.any() and not lowered.any():
            converged = True
            break
    if pending is not None:
        staff[pending] += 1
    over = miss & (staff.sum(axis=0) >= physical)[None, :]
    labels = tuple(scenario.interval_labels)
    out = []
    for g, d in enumerate(demands):
        needed = tuple(int(staff[g, i] + 1) if over[g, i] else int(staff[g, i]) for i in range(n))
        sl = tuple(float(x) for x in frames[g]["service_level_mean"]) if frames else None
        out.append(
            Requirement(
                method="simulation" if simulate else "erlang_a",
                pitching=False,
                needed=needed,
                physical=physical,
                labels=labels,
                converged=converged,
                iterations=len(history),
                history=tuple(history),
                service_level=sl,
                group=d.name,
            )
        )
    return out


def _fit_hall(staff: np.ndarray, floor: np.ndarray, physical: int) -> np.ndarray:
    """Trim the largest groups first until every interval fits the hall (never below the floor)."""
    staff = staff.copy()
    for i in range(staff.shape[1]):
        while staff[:, i].sum() > physical:
            spare = staff[:, i] - floor[:, i]
            if spare.max() <= 0:
                break
            staff[int(np.argmax(spare)), i] -= 1
    return staff
