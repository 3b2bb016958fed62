"""Counters required per interval for a service target: analytic start, then simulation-refined.

Analytic (stationary independent period, SIPP): each interval is treated as its own steady state
with Erlang C (nobody gives up) or Erlang A (exponential patience). The *lagged* variant feeds each
interval the demand that arrived one mean handling time earlier, because the work in progress at
time t is what arrived during the preceding service time (the lagged-PSA idea).

Neither sees queues carried over from a busy interval into the next, kiosks in front of the
counters, priority or balking. :func:`refine_requirement` therefore simulates the day with
``simulation.run`` under common random numbers (the same seed every iteration), raises staff where
an interval misses the target and lowers it where there is room, until it stops changing; then a
descent removes one counter at a time wherever the intervals it touches are still shown, by their
95% CIs, to meet the target (:func:`descend`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from simulation import Scenario, with_updates
from simulation.executors import Executor, using

if TYPE_CHECKING:
    from simulation.results import DaySummary
    from simulation.runner import ExecutorArg

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
    days_meeting: float | None = None
    """Require each interval to meet the target on this share of simulated days (not only on
    average): with ``demand.day_cv`` > 0 busy days come often enough that the mean hides them."""

    def __post_init__(self) -> None:
        if self.days_meeting is not None and not (0.0 < self.days_meeting <= 1.0):
            raise ValueError(f"days_meeting must be in (0, 1], got {self.days_meeting!r}")
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
        if self.days_meeting is not None:
            text += f", in each interval on {self.days_meeting:.0%} of days"
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
    group: str | None = None
    """The counter group this requirement is for (``counters.groups``); None: the whole store."""
    day_factor: float = 1.0
    """The day's demand factor an Erlang method sized for: above 1 with ``days_meeting`` and
    ``demand.day_cv`` > 0 (that share's quantile of the day factor), else 1 (the mean day)."""

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
    factor = day_factor_quantile(scenario, target)
    rates = w.counter_rate_per_min * factor
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
        day_factor=factor,
    )


DAYS_MEETING_QUANTILE_CAP = 0.999
"""``days_meeting`` 1 would size for the unbounded busiest day: the Erlang methods stop at this share."""


def day_factor_quantile(scenario: Scenario, target: ServiceTarget) -> float:
    """The day demand factor an Erlang method sizes for so an interval meets on ``days_meeting`` of days.

    A day's arrivals are the forecast × one gamma factor (mean 1, CV ``demand.day_cv``; see
    :func:`simulation.engine.day_demand_factor`), the same for every interval of the day, and the
    Erlang service level only falls as arrivals rise. So the counters that meet the target at the
    factor's ``days_meeting`` quantile meet it (in steady state) on at least that share of days, and
    fewer miss on more. Within-day randomness (a few customers per interval) is not in the formula:
    the verification still judges the share of days by simulation. 1 without ``days_meeting`` or
    without day-to-day spread (the mean day, as before).
    """
    cv = scenario.demand.day_cv
    if target.days_meeting is None or cv <= 0:
        return 1.0
    from simulation.distributions import Gamma

    share = min(target.days_meeting, DAYS_MEETING_QUANTILE_CAP)
    return float(Gamma(mean_=1.0, cv_=cv).ppf(np.array([share]))[0])


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
    share, lo, hi = days_meeting_share(res, scenario, target)
    out["days_meeting_mean"], out["days_meeting_ci_low"], out["days_meeting_ci_high"] = share, lo, hi
    return out


def days_meeting_share(res: object, scenario: Scenario, target: ServiceTarget) -> tuple[np.ndarray, ...]:
    """Per interval: the share of simulated days (replications) on which it met the target, with a
    95% Wilson interval (a proportion of days: it stays inside [0, 1]). A day with no customers in
    the interval counts as meeting."""
    reps: pd.DataFrame = res.interval_reps  # type: ignore[attr-defined]
    n_int = scenario.n_intervals
    sl = reps.pivot(index="replication", columns="interval", values="service_level").reindex(columns=range(n_int))
    ok = sl.isna() | (sl >= target.service_level)
    if target.max_abandon is not None:
        ab = reps.pivot(index="replication", columns="interval", values="abandonment_rate").reindex(
            columns=range(n_int)
        )
        ok &= ab.isna() | (ab <= target.max_abandon)
    n = max(len(ok), 1)
    p = ok.to_numpy(bool).mean(axis=0) if len(ok) else np.ones(n_int)
    z = 1.959963984540054
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return p, np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def _misses(svc: pd.DataFrame, target: ServiceTarget) -> np.ndarray:
    sl = svc["service_level_mean"].to_numpy()
    miss = ~np.isnan(sl) & (sl < target.service_level)
    if target.max_abandon is not None:
        ab = svc["abandonment_rate_mean"].to_numpy()
        miss |= ~np.isnan(ab) & (ab > target.max_abandon)
    if target.days_meeting is not None:
        miss |= svc["days_meeting_mean"].to_numpy(float) < target.days_meeting - 1e-12
    return miss


def _room(svc: pd.DataFrame, target: ServiceTarget, slack: float) -> np.ndarray:
    sl = svc["service_level_mean"].to_numpy()
    room = np.isnan(sl) | (sl >= min(1.0, target.service_level + slack))
    if target.max_abandon is not None:
        ab = svc["abandonment_rate_mean"].to_numpy()
        room &= np.isnan(ab) | (ab <= target.max_abandon * 0.5)
    if target.days_meeting is not None:
        room &= svc["days_meeting_mean"].to_numpy(float) >= min(1.0, target.days_meeting + slack)
    return room


# ---------------------------------------------------------------------------------------------
# the descent: remove a counter wherever no interval is shown to miss its target
# ---------------------------------------------------------------------------------------------

_Z95 = 1.959963984540054
DESCENT_PRECISION = 0.012
"""The descent stops adding days to a borderline removal once every undecided interval's 95% CI is
narrower than ± this: the interval is at the target within 1.2 points and keeps its counter."""


@dataclass(frozen=True)
class _Judged:
    """One staffing simulated, with the replications it took to decide the intervals asked about."""

    staff: np.ndarray
    svc: pd.DataFrame
    replications: int

    def mean_ok(self, target: ServiceTarget) -> np.ndarray:
        return ~_misses(self.svc, target)

    def ci_ok(self, target: ServiceTarget) -> np.ndarray:
        """Meets the target with its CI: the 95% CI's lower end at or above the target."""
        lo = self.svc["service_level_ci_low"].to_numpy(float)
        ok = np.isnan(lo) | (lo >= target.service_level)
        if target.max_abandon is not None:
            hi = self.svc["abandonment_rate_ci_high"].to_numpy(float)
            ok &= np.isnan(hi) | (hi <= target.max_abandon)
        if target.days_meeting is not None:
            ok &= self.svc["days_meeting_ci_low"].to_numpy(float) >= target.days_meeting
        return ok

    def ci_miss(self, target: ServiceTarget) -> np.ndarray:
        """Misses with its CI: the whole CI below the target (or above the abandonment cap)."""
        hi = self.svc["service_level_ci_high"].to_numpy(float)
        miss = ~np.isnan(hi) & (hi < target.service_level)
        if target.max_abandon is not None:
            lo = self.svc["abandonment_rate_ci_low"].to_numpy(float)
            miss |= ~np.isnan(lo) & (lo > target.max_abandon)
        if target.days_meeting is not None:
            miss |= self.svc["days_meeting_ci_high"].to_numpy(float) < target.days_meeting
        return miss

    def undecided(self, target: ServiceTarget) -> np.ndarray:
        """Neither shown to meet nor shown to miss: the CI straddles the target."""
        return ~(self.ci_ok(target) | self.ci_miss(target))

    def futile(self, target: ServiceTarget, budget: int) -> np.ndarray:
        """Undecided, and unlikely to be shown to meet even at ``budget`` days (a futility stop, as
        in group-sequential trials): to be shown to meet then, the mean must reach the target plus
        the CI half-width those days would give; one standard error of today's mean short of that
        is futile (about a one-in-six chance to make it). Judged on the service level only."""
        mean = self.service_level
        lo = self.svc["service_level_ci_low"].to_numpy(float)
        hw_now = np.nan_to_num(mean - lo)
        hw_then = hw_now * math.sqrt(self.replications / max(budget, self.replications))
        return ~np.isnan(mean) & (mean + hw_now / _Z95 < target.service_level + hw_then)

    def half_width(self, target: ServiceTarget) -> np.ndarray:
        """The widest 95% CI half-width among the figures the target judges (0 where there are none)."""
        kpis = ["service_level"]
        if target.max_abandon is not None:
            kpis.append("abandonment_rate")
        if target.days_meeting is not None:
            kpis.append("days_meeting")
        widths = [
            (self.svc[f"{k}_ci_high"].to_numpy(float) - self.svc[f"{k}_ci_low"].to_numpy(float)) / 2 for k in kpis
        ]
        return np.nan_to_num(np.max(widths, axis=0), nan=0.0)

    @property
    def service_level(self) -> np.ndarray:
        return self.svc["service_level_mean"].to_numpy(float)


class _Days:
    """The search's simulated days, kept per staffing, all on one seed (common random numbers).

    Replication r of a staffing is the same simulated day whatever the count asked for (the seed tree
    fixes it), so asking a staffing for more replications simulates only the new days: the doubling
    of the stopping rule costs the final count, not the sum of the counts on the way, and a staffing
    tried twice (a removal given back) is not simulated again. Results are those of
    ``simulation.run`` with the same seed and count.
    """

    def __init__(
        self,
        base: Scenario,
        target: ServiceTarget,
        seed: int,
        workers: int,
        executor: ExecutorArg,
        precision: float = DESCENT_PRECISION,
    ) -> None:
        self.base, self.target, self.seed, self.workers, self.executor = base, target, int(seed), workers, executor
        self.precision = precision
        self._days: dict[tuple[int, ...], list[DaySummary]] = {}
        self._trials: dict[tuple[int, ...], Scenario] = {}

    def judge(self, staff: np.ndarray, replications: int) -> _Judged:
        """``staff`` judged on at least ``replications`` days (all the days simulated so far)."""
        from simulation.results import build_result

        key = tuple(int(x) for x in staff)
        trial = self._trials.get(key)
        if trial is None:
            trial = self._trials[key] = with_updates(self.base, {"counters.staffed": list(key)})
        days = self._days.setdefault(key, [])
        if len(days) < replications:
            days.extend(self._simulate(trial, len(days), replications))
        res = build_result(trial, self.seed, days, {"seed": self.seed, "replications": len(days)})
        return _Judged(np.array(key), interval_service(res, trial, self.target), len(days))

    def _simulate(self, trial: Scenario, start: int, stop: int) -> list[DaySummary]:
        """Replications ``start .. stop-1`` of ``trial``, as ``simulation.run`` would simulate them."""
        from simulation.executors import plan_blocks
        from simulation.runner import Job, simulate_block

        with using(self.executor, None, self.workers) as ex:
            job = Job(0, self.seed, stop)
            blocks = [(job, start + r.start, start + r.stop) for _, r in plan_blocks([stop - start], ex.workers)]
            got = dict(ex.map_blocks(simulate_block, (trial,), blocks))
        return [day for i in sorted(got) for day in got[i]]

    def decide(
        self,
        staff: np.ndarray,
        replications: int,
        budget: int,
        groups: Sequence[Sequence[int]],
        exempt: np.ndarray | None = None,
    ) -> _Judged:
        """Judge ``staff``, doubling the replications until the 95% CIs settle every group of
        intervals, at most ``budget`` days.

        A group (the intervals one removal can affect) is settled when one of them is shown to miss
        the target or is futile (:meth:`_Judged.futile`): the removal fails whatever the others do;
        or when all are shown to meet it; or when every undecided CI is narrower than ±``precision``.
        ``exempt`` intervals (over capacity: judged on "not clearly worse") do not hold a group open.
        The replication count is the stopping rule's, not a fixed one: a clear verdict comes on the
        first days, a borderline one earns more days before it.
        """
        skip = np.zeros(len(staff), bool) if exempt is None else exempt
        reps = replications
        while True:
            judged = self.judge(staff, reps)
            ok, miss = judged.ci_ok(self.target) | skip, judged.ci_miss(self.target) & ~skip
            miss |= judged.futile(self.target, budget) & ~skip & ~ok
            # A group is open while none of its intervals misses and some are undecided; an
            # undecided interval whose CI is already narrower than ±precision is at the target
            # within that precision: more days would not make the removal worth having.
            open_ = [j for g in groups if not any(miss[j] for j in g) for j in g if not ok[j]]
            precise = judged.half_width(self.target) <= self.precision
            if all(precise[j] for j in open_) or judged.replications >= budget:
                return judged
            reps = min(2 * judged.replications, budget)


def _each(n: int) -> list[range]:
    """Every interval on its own (a group each): judge the whole day."""
    return [range(j, j + 1) for j in range(n)]


def _neighbourhood(i: int, n: int, reach: int = 2) -> range:
    """Intervals a change at ``i`` can affect: it and the next ``reach`` (queues carry forward)."""
    return range(i, min(n, i + reach + 1))


def _holds(before: _Judged, after: _Judged, j: int, target: ServiceTarget) -> bool:
    """Interval ``j`` after a removal still meets its target: the descent's acceptance rule.

    It must be shown to meet (its 95% CI's lower end at or above the target), however many days that
    took. An interval that missed on its mean before (over capacity at the hall's size) must not get
    clearly worse instead.
    """
    if not before.mean_ok(target)[j]:
        b, a = before.service_level[j], after.service_level[j]
        return bool(np.isnan(a) or not (a < b - 0.02))
    return bool(after.ci_ok(target)[j])


def descend(
    base: Scenario,
    staff: np.ndarray,
    target: ServiceTarget,
    floor: int,
    seed: int,
    replications: int,
    max_replications: int,
    workers: int = 1,
    max_passes: int = 8,
    keep: np.ndarray | None = None,
    judged: _Judged | None = None,
    executor: ExecutorArg = "processes",
    days: _Days | None = None,
) -> tuple[np.ndarray, list[RefinementStep], _Judged]:
    """Remove counters one interval at a time while every interval they touch is shown to meet its target.

    Intervals are tried in three interleaved classes (i mod 3), so one simulation tests a removal
    in every third interval at once: a removal at i shows in i and the two intervals after it (queues
    carry forward), and those neighbourhoods do not overlap within a class. Every trial is simulated
    on the search's seed (common random numbers), with replications doubling from ``replications``
    until each removal is settled by the 95% CIs of its neighbourhood: shown to fail (an interval's
    CI below the target, or futile: see :meth:`_Judged.futile`) or shown to hold (every CI above
    it), or tied (every open CI narrower than ±``days.precision``), at most ``max_replications`` days
    (only the new days are simulated, see :class:`_Days`). A removal stands only when it is shown
    to hold (:func:`_holds`); one that fails, or is still undecided at the budget, leaves the
    interval frozen at its staffing: a local minimum, as fewer counters elsewhere only raise its
    need. Kept removals are re-simulated together and a neighbour that broke gets its counter back.
    Stops when a full pass removes nothing.

    Why the CI and not the mean: a removal accepted on its mean (or on the mean plus one standard
    error) at the budget is a removal that leaves the interval at the target within noise, and over
    the dozens of removals of a day some of those sit below it: re-simulated on another seed they
    miss (docs/optimizer.md). Why many days: the CI's half-width is what the rule leaves unused
    above the target, so the budget (:func:`refine_requirement`'s default: 64 × ``replications``,
    spent only on borderline removals) is what brings the descent to within about 2% of a one-at-a-time minimum.
    """
    n = len(staff)
    staff = staff.copy()
    days = days or _Days(base, target, seed, workers, executor)
    frozen = staff <= (floor if keep is None else np.maximum(keep, floor))
    steps: list[RefinementStep] = []
    reuse = judged is not None and np.array_equal(judged.staff, staff)
    current = judged if reuse and judged is not None else days.decide(staff, replications, max_replications, _each(n))
    for _pass in range(max_passes):
        removed_any = False
        # An interval that misses on its mean now cannot meet after losing a counter.
        frozen |= ~current.mean_ok(target)
        for cls in range(3):
            cand = [i for i in range(cls, n, 3) if not frozen[i]]
            if not cand:
                continue
            trial = staff.copy()
            trial[cand] -= 1
            exempt = ~current.mean_ok(target)
            after = days.decide(trial, replications, max_replications, [_neighbourhood(i, n) for i in cand], exempt)
            kept = []
            for i in cand:
                if all(_holds(current, after, j, target) for j in _neighbourhood(i, n)):
                    kept.append(i)
                else:
                    frozen[i] = True
            if not kept:
                continue
            staff[kept] -= 1
            if len(kept) == len(cand):  # the trial was exactly this staffing: its simulation stands
                current, gave_back = after, list[int]()
            else:
                current, gave_back = _recheck(days, staff, kept, current, target, replications, max_replications)
            for i in gave_back:
                staff[i] += 1
                frozen[i] = True
            lowered = sorted(set(kept) - set(gave_back))
            removed_any = removed_any or bool(lowered)
            steps.append(
                RefinementStep(
                    len(steps) + 1,
                    tuple(int(x) for x in staff),
                    tuple(int(j) for j in np.flatnonzero(~current.mean_ok(target))),
                    tuple(gave_back),
                    tuple(lowered),
                )
            )
        if not removed_any:
            break
    return staff, steps, current


def _recheck(
    days: _Days,
    staff: np.ndarray,
    kept: Sequence[int],
    before: _Judged,
    target: ServiceTarget,
    replications: int,
    budget: int,
) -> tuple[_Judged, list[int]]:
    """The accepted removals together: a neighbour that broke gets its nearest removal back."""
    n = len(staff)
    gave_back: list[int] = []
    trial = staff.copy()
    while True:
        hoods = [_neighbourhood(i, n) for i in kept if i not in gave_back]
        now = days.decide(trial, replications, budget, hoods, ~before.mean_ok(target))
        broke = sorted({j for hood in hoods for j in hood if not _holds(before, now, j, target)})
        fix = sorted(
            {max((i for i in kept if i <= j and i not in gave_back and j - i <= 2), default=-1) for j in broke} - {-1}
        )
        if not fix:
            return now, gave_back
        for i in fix:
            trial[i] += 1
            gave_back.append(i)


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
    descent: bool = True,
    max_replications: int | None = None,
    executor: ExecutorArg = "processes",
    scheduler: str | None = None,
    precision: float = DESCENT_PRECISION,
) -> Requirement:
    """Iterative staffing by simulation under common random numbers, then a descent to a local minimum.

    1. Coarse search: each iteration simulates the day with the current staffing (same seed, so a
       change in the result is the staffing's doing, not noise), raises every interval that misses
       the target by one counter, and — once nothing misses — lowers intervals whose service level
       is at least ``slack`` above the target by one, undoing a lowering that makes some interval
       miss (never retried, so the search cannot cycle).
    2. Firm-up (``descent=True``): the staffing is judged with as many replications as its CIs need
       (doubling, up to 4 × ``replications``); an interval whose mean misses gets one more counter.
    3. Descent (:func:`descend`): one counter removed at a time wherever the interval and its
       neighbours are then shown to meet the target by their 95% CIs (replications doubling until
       the CIs decide, up to ``max_replications``, default 64 × ``replications``), until a full
       pass removes nothing. The coarse
       search's batch lowering freezes every interval of a batch that broke; the descent retries
       them one by one, which is where the requirement used to be 3-10% too high.
    4. Last look: the whole day on the days it has had; an interval whose mean misses (a queue
       carried past the two intervals a removal was checked on) gets a counter back.

    Returns the staffing as a Requirement (method ``simulation``) with ``converged`` telling
    whether the coarse search stopped changing within ``max_iterations``. Staff never exceeds the
    hall's counters; an interval that misses at the hall's size keeps ``needed = physical + 1`` so
    the roster reports it as over capacity.

    ``executor``/``scheduler`` say where the simulations run (see :func:`simulation.run`); a name
    opens one executor for the whole search (a Dask cluster is started once, not per simulation),
    an open :class:`~simulation.executors.Executor` is reused and left open. Results do not depend on it.
    """
    if not isinstance(executor, Executor):
        with using(executor, scheduler, workers) as ex:
            return refine_requirement(
                scenario, target, start, pitching, replications, seed, max_iterations, slack, workers,
                progress, descent, max_replications, executor=ex, precision=precision,
            )  # fmt: skip
    wait = target.wait_for(scenario)
    base = with_updates(scenario, {"store.target_wait_min": wait, "cross_sell.policy": pitch_policy(pitching)})
    # The simulation's own start is the mean day's Erlang A (the search judges the share of days itself).
    start = start or analytic_requirement(base, replace(target, days_meeting=None), "erlang_a_lagged", pitching=pitching)
    physical = scenario.physical_counters
    floor = max(1, scenario.counters.vip)
    staff = np.clip(np.array(start.needed, dtype=int), floor, physical)
    seed = scenario.simulation.seed if seed is None else seed
    coarse = _coarse_search(
        base, staff, target, floor, physical, replications, seed, max_iterations, slack, workers, progress, executor
    )
    staff, history = coarse.staff, list(coarse.history)
    # Over capacity: still missing with every counter of the hall staffed, in the last simulation
    # of this very staffing (an early miss that later staffing cured does not count).
    over = coarse.last_miss & (staff >= physical) & (coarse.last_simulated == staff)
    sl: tuple[float, ...] | None = coarse.service_level
    if descent and coarse.converged:
        top = max_replications or 64 * replications
        days = _Days(base, target, seed, workers, executor, precision)
        # The firm-ups judge means over the whole day: 4 x the search's days (the descent's own
        # budget goes to the borderline removals, where it buys counters).
        firm_top = min(top, 4 * replications)
        staff, firm_steps, firm = _firm_up(days, staff, target, physical, replications, firm_top)
        frozen_floor = np.where(over, staff, floor)
        staff, steps, judged = descend(
            base, staff, target, floor, seed, replications, top, workers,
            keep=frozen_floor, judged=firm, executor=executor, days=days,
        )  # fmt: skip
        # The descent judged each removal on its neighbourhood; a queue can carry further. The whole
        # day, on the days it has had, decides: an interval whose mean now misses gets a counter back.
        staff, last_steps, judged = _firm_up(days, staff, target, physical, replications, firm_top, skip=over)
        history += [
            replace(st, iteration=len(history) + k + 1) for k, st in enumerate([*firm_steps, *steps, *last_steps])
        ]
        over = ~judged.mean_ok(target) & (staff >= physical)
        sl = tuple(float(x) for x in judged.service_level)
    needed = tuple(int(physical + 1) if over[i] else int(staff[i]) for i in range(len(staff)))
    return Requirement(
        method="simulation",
        pitching=pitching,
        needed=needed,
        physical=physical,
        labels=tuple(scenario.interval_labels),
        converged=coarse.converged,
        iterations=len(history),
        history=tuple(history),
        service_level=sl,
    )


def _firm_up(
    days: _Days,
    staff: np.ndarray,
    target: ServiceTarget,
    physical: int,
    replications: int,
    max_replications: int,
    rounds: int = 4,
    skip: np.ndarray | None = None,
) -> tuple[np.ndarray, list[RefinementStep], _Judged]:
    """Raise intervals whose mean misses once the CIs have had the replications they need
    (``skip``: intervals left alone, e.g. over capacity)."""
    staff = staff.copy()
    steps: list[RefinementStep] = []
    n = len(staff)
    judged = days.decide(staff, replications, max_replications, _each(n))
    for _ in range(rounds):
        miss = ~judged.mean_ok(target) & (staff < physical)
        if skip is not None:
            miss &= ~skip
        if not miss.any():
            break
        staff[miss] += 1
        raised = tuple(int(i) for i in np.flatnonzero(miss))
        steps.append(RefinementStep(len(steps) + 1, tuple(int(x) for x in staff), raised, raised, ()))
        judged = days.decide(staff, judged.replications, max_replications, _each(n))
    return staff, steps, judged


@dataclass(frozen=True)
class _Coarse:
    staff: np.ndarray
    history: tuple[RefinementStep, ...]
    converged: bool
    last_miss: np.ndarray
    last_simulated: np.ndarray
    service_level: tuple[float, ...] | None


def _coarse_search(
    base: Scenario,
    staff: np.ndarray,
    target: ServiceTarget,
    floor: int,
    physical: int,
    replications: int,
    seed: int,
    max_iterations: int,
    slack: float,
    workers: int,
    progress: Callable[[int, int], None] | None,
    executor: ExecutorArg = "processes",
) -> _Coarse:
    """Raise where the mean misses, lower in batches where there is ``slack``; see refine_requirement."""
    from simulation import run  # imported here: the optimizer's analytic parts work without the engine

    staff = staff.copy()
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
        res = run(trial, replications=replications, seed=seed, workers=workers, executor=executor)
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
    sl = tuple(float(x) for x in svc["service_level_mean"]) if svc is not None else None
    return _Coarse(staff, tuple(history), converged, last_miss, last_simulated, sl)
