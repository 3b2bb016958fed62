"""Counters required per interval for a service target: analytic start, then simulation-refined.

Analytic (stationary independent period, SIPP): each interval is treated as its own steady state
with Erlang C (nobody gives up) or Erlang A (exponential patience). The *lagged* variant feeds each
interval the demand that arrived one mean handling time earlier, because the work in progress at
time t is what arrived during the preceding service time (the lagged-PSA idea).

Neither sees queues carried over from a busy interval into the next, kiosks in front of the
counters, priority or balking. :func:`refine_requirement` therefore simulates the day with
``simulation.run`` under common random numbers (the same seed every iteration), raises staff where
an interval misses the target and lowers it where there is room, until it stops changing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from simulation import Scenario, with_updates

from .erlang import erlang_a, erlang_c_service_level
from .workload import workload

__all__ = [
    "Method",
    "RefinementStep",
    "Requirement",
    "ServiceTarget",
    "analytic_requirement",
    "interval_service",
    "pitch_policy",
    "refine_requirement",
]

Method = Literal["erlang_c", "erlang_a", "erlang_c_lagged", "erlang_a_lagged", "simulation"]
_MAX_SEARCH = 500  # counters; beyond this the ask is treated as impossible for the formula


@dataclass(frozen=True)
class ServiceTarget:
    """The service goal: ``service_level`` of customers served within ``target_wait_min``.

    ``max_abandon`` optionally caps the abandonment rate. ``target_wait_min=None`` uses the
    scenario's ``store.target_wait_min``.
    """

    service_level: float = 0.8
    target_wait_min: float | None = None
    max_abandon: float | None = None

    def __post_init__(self) -> None:
        if not (0.0 < self.service_level <= 1.0):
            raise ValueError(f"service_level must be in (0, 1], got {self.service_level!r}")
        if self.target_wait_min is not None and not (self.target_wait_min > 0 and math.isfinite(self.target_wait_min)):
            raise ValueError(f"target_wait_min must be a finite number > 0, got {self.target_wait_min!r}")
        if self.max_abandon is not None and not (0.0 <= self.max_abandon < 1.0):
            raise ValueError(f"max_abandon must be in [0, 1), got {self.max_abandon!r}")

    def wait_for(self, scenario: Scenario) -> float:
        return float(self.target_wait_min if self.target_wait_min is not None else scenario.store.target_wait_min)

    def describe(self, scenario: Scenario) -> str:
        text = f"{self.service_level:.0%} served within {self.wait_for(scenario):g} min"
        if self.max_abandon is not None:
            text += f", abandonment at most {self.max_abandon:.0%}"
        return text


@dataclass(frozen=True)
class RefinementStep:
    """One simulation of the refinement: the staffing tried and the intervals that missed."""

    iteration: int
    staffed: tuple[int, ...]
    missed: tuple[int, ...]
    raised: tuple[int, ...]
    lowered: tuple[int, ...]


@dataclass(frozen=True)
class Requirement:
    """Counters needed per interval.

    ``needed`` may exceed the hall (``physical``): that is how an impossible ask is recorded, so
    the roster can name the intervals and the limit instead of silently capping.
    """

    method: Method
    pitching: bool
    needed: tuple[int, ...]
    physical: int
    labels: tuple[str, ...]
    converged: bool = True
    iterations: int = 0
    history: tuple[RefinementStep, ...] = field(default=(), repr=False)
    service_level: tuple[float, ...] | None = None
    """Simulated service level per interval of the final staffing (refinement only)."""

    @property
    def over_capacity(self) -> tuple[int, ...]:
        """Intervals whose need exceeds the counters in the hall."""
        return tuple(i for i, n in enumerate(self.needed) if n > self.physical)

    @property
    def capped(self) -> tuple[int, ...]:
        return tuple(min(n, self.physical) for n in self.needed)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"interval": range(len(self.needed)), "start": list(self.labels), "required": list(self.needed)}
        )


def _meets(lam: float, handle: float, patience: float, c: int, wait: float, target: ServiceTarget, use_a: bool) -> bool:
    if lam <= 0:
        return True
    if not use_a or math.isinf(patience):
        return erlang_c_service_level(lam, handle, c, wait) >= target.service_level - 1e-12
    res = erlang_a(lam, handle, patience, c, wait)
    ok = res.service_level >= target.service_level - 1e-12
    if target.max_abandon is not None:
        ok = ok and res.prob_abandon <= target.max_abandon + 1e-12
    return ok


def _staff_for(lam: float, handle: float, patience: float, wait: float, target: ServiceTarget, use_a: bool) -> int:
    """Fewest servers meeting the target (service level only rises with servers)."""
    if lam <= 0:
        return 0
    a = lam * handle
    c = max(1, math.floor(a) - 1) if use_a else math.floor(a) + 1
    # Erlang A can meet a target below the load (impatient customers leave); start low, step up.
    c = max(1, min(c, int(a * 0.5)) if use_a else c)
    while c <= _MAX_SEARCH:
        if _meets(lam, handle, patience, c, wait, target, use_a):
            return c
        c += 1
    return _MAX_SEARCH + 1


def _lagged_rates(rate: np.ndarray, interval_min: float, lag: float) -> np.ndarray:
    """Average of the piecewise-constant rate over each interval shifted back by ``lag`` (0 before opening)."""
    n = len(rate)
    out = np.zeros(n)
    for i in range(n):
        a, b = i * interval_min - lag, (i + 1) * interval_min - lag
        total = 0.0
        for j in range(n):
            lo, hi = max(a, j * interval_min), min(b, (j + 1) * interval_min)
            if hi > lo:
                total += rate[j] * (hi - lo)
        out[i] = total / interval_min
    return out


def analytic_requirement(
    scenario: Scenario,
    target: ServiceTarget,
    method: Method = "erlang_a",
    pitching: bool = False,
) -> Requirement:
    """Counters needed per interval from Erlang C or Erlang A, optionally lagged.

    Parameters
    ----------
    scenario : the store day.
    target : service goal.
    method : ``erlang_c``, ``erlang_a``, ``erlang_c_lagged`` or ``erlang_a_lagged``.
    pitching : size for counters that pitch every pitchable customer (longer handling).

    Examples
    --------
    >>> req = analytic_requirement(s, ServiceTarget(0.8), "erlang_a")  # doctest: +SKIP
    >>> req.needed  # doctest: +SKIP
    (3, 4, 5, ...)
    """
    if method == "simulation":
        raise ValueError("use refine_requirement for the simulation-refined requirement")
    w = workload(scenario)
    handle = w.handle_min(pitching)
    rates = w.counter_rate_per_min
    if method.endswith("_lagged"):
        rates = _lagged_rates(rates, scenario.store.interval_min, handle)
    use_a = method.startswith("erlang_a")
    if use_a and target.max_abandon is not None and math.isinf(w.mean_patience_min):
        use_a = False  # nobody abandons: the cap holds trivially
    wait = target.wait_for(scenario)
    needed = tuple(_staff_for(float(lam), handle, w.mean_patience_min, wait, target, use_a) for lam in rates)
    return Requirement(
        method=method,
        pitching=pitching,
        needed=needed,
        physical=scenario.physical_counters,
        labels=tuple(scenario.interval_labels),
    )


def pitch_policy(pitching: bool) -> dict[str, object]:
    """The ``cross_sell.policy`` value for pitching always or never."""
    return {"mode": "always"} if pitching else {"mode": "never"}


def interval_service(res: object, scenario: Scenario, target: ServiceTarget) -> pd.DataFrame:
    """Per-interval service level and abandonment (mean and CI) from a run result.

    The engine's ``service_level`` KPI uses ``store.target_wait_min``; callers set the scenario's
    target wait to the target's before running, so the KPI is the one the target asks for.
    """
    frame: pd.DataFrame = res.intervals  # type: ignore[attr-defined]
    out = pd.DataFrame({"interval": range(scenario.n_intervals), "start": scenario.interval_labels})
    for kpi in ("service_level", "abandonment_rate", "served"):
        sub = frame[frame["kpi"] == kpi].set_index("interval")
        for col in ("mean", "ci_low", "ci_high"):
            out[f"{kpi}_{col}"] = [
                float(sub[col].get(i, np.nan)) if i in sub.index else np.nan for i in out["interval"]
            ]
    return out


def _misses(svc: pd.DataFrame, target: ServiceTarget) -> np.ndarray:
    sl = svc["service_level_mean"].to_numpy()
    miss = ~np.isnan(sl) & (sl < target.service_level)
    if target.max_abandon is not None:
        ab = svc["abandonment_rate_mean"].to_numpy()
        miss |= ~np.isnan(ab) & (ab > target.max_abandon)
    return miss


def _room(svc: pd.DataFrame, target: ServiceTarget, slack: float) -> np.ndarray:
    sl = svc["service_level_mean"].to_numpy()
    room = np.isnan(sl) | (sl >= min(1.0, target.service_level + slack))
    if target.max_abandon is not None:
        ab = svc["abandonment_rate_mean"].to_numpy()
        room &= np.isnan(ab) | (ab <= target.max_abandon * 0.5)
    return room


def refine_requirement(
    scenario: Scenario,
    target: ServiceTarget,
    start: Requirement | None = None,
    pitching: bool = False,
    replications: int = 30,
    seed: int | None = None,
    max_iterations: int = 12,
    slack: float = 0.05,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> Requirement:
    """Iterative staffing by simulation under common random numbers.

    Each iteration simulates the day with the current staffing (same seed, so a change in the
    result is the staffing's doing, not noise), raises every interval that misses the target by
    one counter, and — once nothing misses — lowers intervals whose service level is at least
    ``slack`` above the target by one, undoing any lowering that makes some interval miss. A
    lowered-and-undone interval is never lowered again, so the search cannot cycle.

    Returns the staffing as a Requirement (method ``simulation``) with ``converged`` telling
    whether it stopped changing within ``max_iterations``. Staff never exceeds the hall's
    counters; an interval that misses at the hall's size keeps ``needed = physical + 1`` so the
    roster reports it as over capacity.
    """
    from simulation import run  # imported here: the optimizer's analytic parts work without the engine

    wait = target.wait_for(scenario)
    base = with_updates(scenario, {"store.target_wait_min": wait, "cross_sell.policy": pitch_policy(pitching)})
    start = start or analytic_requirement(base, target, "erlang_a_lagged", pitching=pitching)
    physical = scenario.physical_counters
    floor = max(1, scenario.counters.vip)
    staff = np.clip(np.array(start.needed, dtype=int), floor, physical)
    seed = scenario.simulation.seed if seed is None else seed
    lower_floor = np.full(len(staff), floor)  # lowest staffing each interval may still try
    last_miss = np.zeros(len(staff), dtype=bool)
    last_simulated = staff.copy()
    prev_sl = np.full(len(staff), np.nan)
    history: list[RefinementStep] = []
    svc: pd.DataFrame | None = None
    converged = False
    pending_lower: np.ndarray | None = None
    for it in range(1, max_iterations + 1):
        trial = with_updates(base, {"counters.staffed": [int(x) for x in staff]})
        res = run(trial, replications=replications, seed=seed, workers=workers)
        svc = interval_service(res, trial, target)
        miss = _misses(svc, target)
        sl_now = svc["service_level_mean"].to_numpy(float)
        broke = False
        if pending_lower is not None:
            # A lowering breaks something if a new interval misses, or one already missing (over
            # capacity) gets clearly worse.
            worse = np.nan_to_num(prev_sl - sl_now, nan=0.0) > 0.02
            broke = bool((miss & ~last_miss).any() or (miss & last_miss & worse).any())
        last_miss, last_simulated, prev_sl = miss.copy(), staff.copy(), sl_now
        raised: list[int] = []
        lowered: list[int] = []
        if pending_lower is not None and broke:
            # The last lowering broke something: undo it and never try those intervals again.
            undo = np.flatnonzero(pending_lower)
            staff[undo] += 1
            lower_floor[undo] = staff[undo]
            raised = [int(i) for i in undo]
            pending_lower = None
            history.append(
                RefinementStep(
                    it, tuple(int(x) for x in staff), tuple(np.flatnonzero(miss).tolist()), tuple(raised), ()
                )
            )
            continue
        pending_lower = None
        if miss.any():
            for i in np.flatnonzero(miss):
                if staff[i] < physical:
                    staff[i] += 1
                    raised.append(int(i))
        if not raised:
            room = _room(svc, target, slack) & (staff > lower_floor) & ~miss
            if room.any():
                staff[room] -= 1
                lowered = [int(i) for i in np.flatnonzero(room)]
                pending_lower = room.copy()
        history.append(
            RefinementStep(
                it, tuple(int(x) for x in staff), tuple(np.flatnonzero(miss).tolist()), tuple(raised), tuple(lowered)
            )
        )
        if progress is not None:
            progress(it, max_iterations)
        if not raised and not lowered:
            converged = True
            break
    if pending_lower is not None:
        # Ran out of iterations right after a lowering that was never checked: keep the safe one.
        staff[pending_lower] += 1
    # Over capacity: still missing with every counter of the hall staffed, in the last simulation
    # of this very staffing (an early miss that later staffing cured does not count).
    over = last_miss & (staff >= physical) & (last_simulated == staff)
    needed = tuple(int(physical + 1) if over[i] else int(staff[i]) for i in range(len(staff)))
    sl = tuple(float(x) for x in svc["service_level_mean"]) if svc is not None else None
    return Requirement(
        method="simulation",
        pitching=pitching,
        needed=needed,
        physical=physical,
        labels=tuple(scenario.interval_labels),
        converged=converged,
        iterations=len(history),
        history=tuple(history),
        service_level=sl,
    )
