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
  :func:`optimizer.requirement.refine_requirement`, on the (group, interval) grid), then a firm-up and
  a descent (:func:`descend_groups`) that removes one counter at a time where the group's own
  customers still meet the target with their CI.
- :func:`groups_scenario`: the scenario with each group's staffing written in.
- :func:`solve_group_rosters`: one CP-SAT model with every group's roster, the hall's counters
  shared per slot and one store-wide pitch flag per interval (cross-selling is a store policy).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from ortools.sat.python import cp_model

from simulation import Scenario, format_clock, with_updates
from simulation.executors import Executor, using
from simulation.routing import CounterGroup

from .requirement import RefinementStep, Requirement, ServiceTarget, _staff_for, day_factor_quantile, pitch_policy
from .roster import (
    DayRoster,
    RosterInput,
    _cents,
    _explain,
    add_pitch_windows,
    add_shift_costs,
    add_staff_limits,
    canonical_solution,
    seeded_solver,
    shift_counts,
    shortfall_unit_costs,
    status_name,
    template_counts,
    tie_break,
)
from .shifts import coverage_matrix, greedy_cover, interval_staffed

if TYPE_CHECKING:
    from simulation.runner import ExecutorArg

__all__ = [
    "GroupDemand",
    "GroupJudged",
    "JointRoster",
    "descend_groups",
    "group_demand",
    "group_service",
    "groups_scenario",
    "home_groups",
    "judge_groups",
    "refine_group_requirements",
    "solve_group_rosters",
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
    pitch_share: float = 0.0
    """Share of the group's own customers in segments that may be pitched (``pitch: true``)."""


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
    pitchable = np.zeros(len(groups))
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
            if s.pitch:
                pitchable[g] += w
            if s.patience is not None and s.patience.mean > 0:
                theta[g] += w / s.patience.mean
    out = []
    for g, grp in enumerate(groups):
        rate = np.asarray(walk_ins * share[g], dtype=float)
        handle = minutes[g] / share[g] if share[g] > 0 else 1.0
        patience = share[g] / theta[g] if theta[g] > 0 else math.inf
        cust = tuple(float(x * scenario.store.interval_min) for x in rate)
        pitch_share = pitchable[g] / share[g] if share[g] > 0 else 0.0
        out.append(GroupDemand(grp.name, rate, float(handle), float(patience), cust, float(pitch_share)))
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
    replications), their abandonment rate, the share of days on which they met the target, and
    whether the cell meets it (``meets``: on the means, as :func:`_group_misses` judges), from
    customer records (``keep_customers=True``).

    A customer counts in the interval where it joined the counter queue; within target = served at
    a counter after waiting at most the target wait; the denominator is served + abandoned, as in
    the store-level KPI. The share of days (``days_meeting_*``, a 95% Wilson interval) is that of
    the one-pool search (:func:`.requirement.days_meeting_share`) on the group's own customers: a
    day (replication) meets when their service level that day reaches the target (and abandonment
    stays within the cap); a day with none of them in the interval counts as meeting.
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
            day_ok = np.isnan(sl) | (sl >= target.service_level)
            if target.max_abandon is not None:
                day_ok &= np.isnan(ab) | (ab <= target.max_abandon)
            rows.append(
                {
                    "group": name,
                    "interval": i,
                    **_mean_ci(sl, "service_level", t_q),
                    **_mean_ci(ab, "abandonment_rate", t_q),
                    **_share_of_days(day_ok),
                }
            )
        frame = pd.DataFrame(rows)
        frame.insert(2, "start", scenario.interval_labels)
        frame["meets"] = ~_group_misses(frame, target)
        out.append(frame)
    return out


def _share_of_days(ok: np.ndarray) -> dict[str, float]:
    """Share of days meeting with its 95% Wilson interval (a proportion of days: it stays in [0, 1]
    and does not collapse to a point at 0 or 1 as a normal interval would)."""
    n = max(len(ok), 1)
    p = float(ok.mean()) if len(ok) else 1.0
    z = 1.959963984540054
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return {
        "days_meeting_mean": p,
        "days_meeting_ci_low": min(max(centre - half, 0.0), 1.0),
        "days_meeting_ci_high": min(max(centre + half, 0.0), 1.0),
    }


def _mean_ci(x: np.ndarray, name: str, t_q: float) -> dict[str, float]:
    v = x[~np.isnan(x)]
    if len(v) == 0:
        return {f"{name}_mean": math.nan, f"{name}_ci_low": math.nan, f"{name}_ci_high": math.nan}
    m = float(v.mean())
    half = t_q * float(v.std(ddof=1)) / math.sqrt(len(v)) if len(v) > 1 else 0.0
    return {f"{name}_mean": m, f"{name}_ci_low": max(0.0, m - half), f"{name}_ci_high": min(1.0, m + half)}


def _group_misses(frame: pd.DataFrame, target: ServiceTarget) -> np.ndarray:
    """(group) cells that miss on their means: service level, abandonment cap and, with
    ``days_meeting``, the share of days meeting (as the one-pool search's ``_misses``)."""
    sl = frame["service_level_mean"].to_numpy(float)
    miss = ~np.isnan(sl) & (sl < target.service_level)
    if target.max_abandon is not None:
        ab = frame["abandonment_rate_mean"].to_numpy(float)
        miss |= ~np.isnan(ab) & (ab > target.max_abandon)
    if target.days_meeting is not None:
        miss |= frame["days_meeting_mean"].to_numpy(float) < target.days_meeting - 1e-12
    return np.asarray(miss, dtype=bool)


def _group_room(frame: pd.DataFrame, target: ServiceTarget, slack: float) -> np.ndarray:
    """Cells the coarse search may lower: ``slack`` above the target on the service level, at most
    half the abandonment cap and, with ``days_meeting``, ``slack`` above it on the share of days (as
    the one-pool search's ``_room``)."""
    sl = frame["service_level_mean"].to_numpy(float)
    room = np.isnan(sl) | (sl >= min(1.0, target.service_level + slack))
    if target.max_abandon is not None:
        ab = frame["abandonment_rate_mean"].to_numpy(float)
        room &= np.isnan(ab) | (ab <= target.max_abandon * 0.5)
    if target.days_meeting is not None:
        room &= frame["days_meeting_mean"].to_numpy(float) >= min(1.0, target.days_meeting + slack)
    return np.asarray(room, dtype=bool)


HOLDOUT_SEED_OFFSET = 104_729
"""The hold-out seed of the group descent is the search seed plus this (a prime far from the small
seeds people and benchmarks use), so it is never the search's own seed."""


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
    pitching: bool = False,
    descent: bool = True,
    max_replications: int | None = None,
) -> list[Requirement]:
    """Counters needed per group and interval, refined on the whole store.

    1. Start: Erlang A per group on its own customers (with ``pitching``, their handling time
       includes the pitch for the pitchable share).
    2. Coarse search (``simulate``): every iteration simulates the store with all groups' current
       staffing (common random numbers), raises each (group, interval) whose own customers miss the
       target, and once nothing misses lowers those at least ``slack`` above it, undoing a lowering
       that breaks anything (never retried).
    3. Firm-up and descent (``descent``, once the coarse search converged): the staffing is judged
       with as many replications as the CIs need (up to ``max_replications``, default 4 ×
       ``replications``), a cell whose mean misses gets one more counter where the hall has room,
       then :func:`descend_groups` removes one counter at a time wherever the group's own customers
       — and every group's in the intervals after it — still meet the target with their CI. The
       coarse search's batch lowering freezes a whole batch when one cell breaks; the descent
       retries those cells one by one. A hold-out check then judges the result on another seed
       (``seed + HOLDOUT_SEED_OFFSET``, ``max_replications``) and gives a counter back wherever a
       cell's mean misses there: the descent keeps what passed on its own seed, some by luck.

    ``target.days_meeting``: every judgement above is also on the share of simulated days on which
    the group's own customers met the target in the interval (:func:`group_service`), as the
    one-pool search judges the store's: a cell misses when that share's mean is below
    ``days_meeting``, has room only ``slack`` above it, and the descent keeps a removal only where
    its Wilson interval is at or above it. With ``demand.day_cv`` > 0 this asks for more counters
    than the mean target: busy days come often enough that the mean hides them.

    A group of at least one counter per interval keeps its customers served (the floor). The
    hall's counters cap the sum per interval: a (group, interval) that misses while the hall is full
    is recorded as over capacity (``needed = staffed + 1``). ``pitching``: every counter pitches all
    day (the need with pitching), otherwise nobody does.

    ``executor``/``scheduler``: where the simulations run, as for :func:`.refine_requirement`.
    """
    from simulation import run

    if not isinstance(executor, Executor):
        with using(executor, scheduler, workers) as ex:
            return refine_group_requirements(
                scenario, target, replications, seed, max_iterations, slack, workers, simulate, executor=ex,
                pitching=pitching, descent=descent, max_replications=max_replications,
            )  # fmt: skip

    wait = target.wait_for(scenario)
    base = with_updates(scenario, {"store.target_wait_min": wait, "cross_sell.policy": pitch_policy(pitching)})
    demands = group_demand(base)
    pitch_min = scenario.cross_sell.pitch_time.mean if pitching else 0.0
    n = scenario.n_intervals
    # Without simulation the Erlang A answer is the requirement: with --days-meeting it sizes for that
    # share's busiest day (the simulated search starts from the mean day and judges the share itself).
    factor = 1.0 if simulate else day_factor_quantile(scenario, target)
    staff = np.array(
        [
            [
                max(
                    1,
                    _staff_for(
                        float(lam) * factor, d.handle_min + pitch_min * d.pitch_share, d.patience_min, wait, target, True
                    ),
                )
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
    service_levels: list[tuple[float, ...]] | None = (
        [tuple(float(x) for x in f["service_level_mean"]) for f in frames] if frames else None
    )
    if simulate and descent and converged:
        top = max_replications or 4 * replications
        staff, firm_steps, firm = _firm_up_groups(
            base, staff, target, physical, seed, replications, top, workers, executor
        )
        keep = np.where(over, staff, floor)
        staff, steps, judged = descend_groups(
            base, staff, target, keep, seed, replications, top, workers, judged=firm, executor=executor
        )
        # Hold-out check: the descent tried many removals on one seed and kept those that passed
        # there, so a few pass by luck (on a 15-minute grid a group may see one customer a cell).
        # The kept staffing is judged on a seed the search never used; a cell whose mean misses
        # there gets its counter back (where the hall has room), as the firm-up does.
        staff, hold_steps, held = _firm_up_groups(
            base, staff, target, physical, seed + HOLDOUT_SEED_OFFSET, top, top, workers, executor
        )
        if hold_steps:
            judged = held
        history += [
            RefinementStep(len(history) + k + 1, st.staffed, st.missed, st.raised, st.lowered)
            for k, st in enumerate([*firm_steps, *steps, *hold_steps])
        ]
        over = ~judged.mean_ok(target) & (staff.sum(axis=0) >= physical)[None, :]
        service_levels = [tuple(float(x) for x in row) for row in judged.service_level]
    labels = tuple(scenario.interval_labels)
    out = []
    for g, d in enumerate(demands):
        needed = tuple(int(staff[g, i] + 1) if over[g, i] else int(staff[g, i]) for i in range(n))
        out.append(
            Requirement(
                method="simulation" if simulate else "erlang_a",
                pitching=pitching,
                needed=needed,
                physical=physical,
                labels=labels,
                converged=converged,
                iterations=len(history),
                history=tuple(history),
                service_level=service_levels[g] if service_levels else None,
                group=d.name,
                day_factor=factor,
            )
        )
    return out


# ---------------------------------------------------------------------------------------------
# the descent on the (group, interval) grid
# ---------------------------------------------------------------------------------------------
# The acceptance rule is the one-pool descent's earlier rule (keep a removal where the cell and the
# next two still meet with their CI; batch re-check; give back the nearest removal of a cell that
# broke) on a 2-D grid, judged per group on its own customers from the customer records. The one-pool
# descent (optimizer.requirement.descend) has since moved to settling each removal with up to 64x
# the replications; the groups' descent keeps the 4x budget plus a hold-out check on an unseen seed.


@dataclass(frozen=True)
class GroupJudged:
    """One staffing of every group simulated, with the replications it took to decide the cells asked about.

    ``staff`` and every array below are (groups × intervals); a cell with no customers of the group
    has NaN means and counts as meeting (nobody to serve).
    """

    staff: np.ndarray
    frames: list[pd.DataFrame]
    replications: int

    def _col(self, name: str) -> np.ndarray:
        return np.array([f[name].to_numpy(float) for f in self.frames])

    @property
    def service_level(self) -> np.ndarray:
        return self._col("service_level_mean")

    def mean_ok(self, target: ServiceTarget) -> np.ndarray:
        return ~np.array([_group_misses(f, target) for f in self.frames])

    def ci_ok(self, target: ServiceTarget) -> np.ndarray:
        """Meets the target with its CI: the 95% CI's lower end at or above the target (with
        ``days_meeting``: the share of days' Wilson interval too, as the one-pool search)."""
        lo = self._col("service_level_ci_low")
        ok = np.isnan(lo) | (lo >= target.service_level)
        if target.max_abandon is not None:
            hi = self._col("abandonment_rate_ci_high")
            ok &= np.isnan(hi) | (hi <= target.max_abandon)
        if target.days_meeting is not None:
            # A cell none of the group's customers ever reach has nothing to judge (NaN service
            # level): it meets, as on the means, however few days showed it.
            ok &= np.isnan(lo) | (self._col("days_meeting_ci_low") >= target.days_meeting)
        return np.asarray(ok, dtype=bool)

    def ci_miss(self, target: ServiceTarget) -> np.ndarray:
        """Misses with its CI: the whole CI below the target (or above the abandonment cap, or the
        share of days' whole interval below ``days_meeting``)."""
        hi = self._col("service_level_ci_high")
        miss = ~np.isnan(hi) & (hi < target.service_level)
        if target.max_abandon is not None:
            lo = self._col("abandonment_rate_ci_low")
            miss |= ~np.isnan(lo) & (lo > target.max_abandon)
        if target.days_meeting is not None:
            miss |= self._col("days_meeting_ci_high") < target.days_meeting
        return np.asarray(miss, dtype=bool)

    @property
    def days_meeting(self) -> np.ndarray:
        """Share of days each cell's own customers met the target (groups × intervals)."""
        return self._col("days_meeting_mean")


def judge_groups(
    base: Scenario,
    staff: np.ndarray,
    target: ServiceTarget,
    seed: int,
    replications: int,
    max_replications: int,
    check: Sequence[tuple[int, int]] | None,
    workers: int = 1,
    executor: ExecutorArg = "processes",
) -> GroupJudged:
    """Simulate every group's ``staff`` (same seed: common random numbers) until the CI decides each
    (group, interval) cell in ``check`` (None: all), doubling the replications, at most ``max_replications``.

    A clear cell is decided on the first run; a borderline one earns more days before its verdict.
    """
    from simulation import run

    reps = replications
    while True:
        trial = groups_scenario(base, staff.tolist())
        res = run(trial, replications=reps, seed=seed, workers=workers, keep_customers=True, executor=executor)
        judged = GroupJudged(staff.copy(), group_service(res, trial, target), reps)
        decided = judged.ci_ok(target) | judged.ci_miss(target)
        cells = [(g, i) for g in range(staff.shape[0]) for i in range(staff.shape[1])] if check is None else check
        if all(decided[g, i] for g, i in cells) or reps >= max_replications:
            return judged
        reps = min(2 * reps, max_replications)


def _after_reach(i: int, n: int, reach: int = 2) -> range:
    """Intervals a change at ``i`` can affect: it and the next ``reach`` (queues carry forward)."""
    return range(i, min(n, i + reach + 1))


def _cell_still_fine(before: GroupJudged, after: GroupJudged, g: int, j: int, target: ServiceTarget) -> bool:
    """Cell (g, j) after a removal: meets with its CI if it did before; otherwise meets on its means
    (share of days included, with ``days_meeting``) and its service level is not clearly worse."""
    if before.ci_ok(target)[g, j]:
        return bool(after.ci_ok(target)[g, j])
    b, a = before.service_level[g, j], after.service_level[g, j]
    return bool(np.isnan(a) or (after.mean_ok(target)[g, j] and not (a < b - 0.02)))


def _firm_up_groups(
    base: Scenario,
    staff: np.ndarray,
    target: ServiceTarget,
    physical: int,
    seed: int,
    replications: int,
    max_replications: int,
    workers: int,
    executor: ExecutorArg = "processes",
    rounds: int = 4,
) -> tuple[np.ndarray, list[RefinementStep], GroupJudged]:
    """Raise cells whose mean misses once the CIs have had the replications they need, where the
    hall has room (the worst-served group of an interval first)."""
    staff = staff.copy()
    steps: list[RefinementStep] = []
    judged = judge_groups(base, staff, target, seed, replications, max_replications, None, workers, executor)
    for _ in range(rounds):
        miss = ~judged.mean_ok(target)
        raised: list[int] = []
        for i in np.flatnonzero(miss.any(axis=0)):
            order = sorted(np.flatnonzero(miss[:, i]), key=lambda g: judged.service_level[g, i])
            for g in order:
                if staff[:, i].sum() < physical:
                    staff[g, i] += 1
                    raised.append(int(i))
        if not raised:
            break
        raised = sorted(set(raised))
        steps.append(
            RefinementStep(len(steps) + 1, tuple(int(x) for x in staff.sum(axis=0)), tuple(raised), tuple(raised), ())
        )
        judged = judge_groups(base, staff, target, seed, judged.replications, max_replications, None, workers, executor)
    return staff, steps, judged


def descend_groups(
    base: Scenario,
    staff: np.ndarray,
    target: ServiceTarget,
    keep: np.ndarray,
    seed: int,
    replications: int,
    max_replications: int,
    workers: int = 1,
    max_passes: int = 8,
    judged: GroupJudged | None = None,
    executor: ExecutorArg = "processes",
) -> tuple[np.ndarray, list[RefinementStep], GroupJudged]:
    """Remove counters one (group, interval) at a time while every group's own customers still meet
    the target with their CI.

    Classes: one group at a time, its intervals interleaved by i mod 3, so one simulation tests a
    removal in every third interval of that group. A removal at (g, i) shows in i and the two
    intervals after it — in every group, since groups help each other (``then: any``) and share the
    customers several groups may serve — so it is kept when all those cells are still fine (met with
    their CI if they did before; otherwise not clearly worse), and otherwise that cell is frozen at
    its staffing. Trying one group per simulation keeps the verdict attributable: a broken cell of
    another group is that group's removal's doing. Each accepted batch is re-simulated as a whole and
    any cell that broke gives its nearest removal back. Stops when a full pass removes nothing; no
    cell goes below ``keep`` (the floor, or the staffing of an over-capacity cell). Only removals:
    the groups' sum per interval never grows, so the hall's size holds.
    """
    n_groups, n = staff.shape
    staff = staff.copy()
    frozen = staff <= keep
    steps: list[RefinementStep] = []
    if judged is not None and np.array_equal(judged.staff, staff):
        current = judged
    else:
        current = judge_groups(base, staff, target, seed, replications, max_replications, None, workers, executor)
    every = [(h, j) for h in range(n_groups) for j in range(n)]
    for _pass in range(max_passes):
        removed_any = False
        # A cell that does not meet its target with its CI now cannot after losing a counter.
        frozen |= ~current.ci_ok(target)
        for g in range(n_groups):
            for cls in range(3):
                frozen |= staff <= keep  # never below the floor, however many passes lowered a cell
                cand = [i for i in range(cls, n, 3) if not frozen[g, i]]
                if not cand:
                    continue
                trial = staff.copy()
                trial[g, cand] -= 1
                check = sorted({(h, j) for i in cand for j in _after_reach(i, n) for h in range(n_groups)})
                after = judge_groups(
                    base, trial, target, seed, current.replications, max_replications, check, workers, executor
                )
                kept = []
                for i in cand:
                    cells = [(h, j) for j in _after_reach(i, n) for h in range(n_groups)]
                    if all(_cell_still_fine(current, after, h, j, target) for h, j in cells):
                        kept.append(i)
                    else:
                        frozen[g, i] = True
                if not kept:
                    continue
                staff[g, kept] -= 1
                gave_back: list[int] = []
                if len(kept) == len(cand):  # the trial was exactly this staffing: its simulation stands
                    current = after
                else:
                    before = current
                    while True:
                        current = judge_groups(
                            base, staff, target, seed, before.replications, max_replications, every, workers, executor
                        )
                        broke = [(h, j) for h, j in every if not _cell_still_fine(before, current, h, j, target)]
                        fix = sorted(
                            {
                                max((i for i in kept if i <= j and i not in gave_back and j - i <= 2), default=-1)
                                for _h, j in broke
                            }
                            - {-1}
                        )
                        if not fix:
                            break
                        for i in fix:
                            staff[g, i] += 1
                            frozen[g, i] = True
                            gave_back.append(i)
                lowered = sorted(set(kept) - set(gave_back))
                removed_any = removed_any or bool(lowered)
                steps.append(
                    RefinementStep(
                        len(steps) + 1,
                        tuple(int(x) for x in staff.sum(axis=0)),
                        tuple(int(j) for j in np.flatnonzero((~current.mean_ok(target)).any(axis=0))),
                        tuple(sorted(gave_back)),
                        tuple(lowered),
                    )
                )
        if not removed_any:
            break
    return staff, steps, current


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


# ---------------------------------------------------------------------------------------------
# one CP-SAT model with every group's roster and a store-wide pitch rule
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JointRoster:
    """Every group's roster from one model: per-group results share the pitch flags and the status.

    ``objective``, ``bound`` and ``gap`` are the whole model's (labour − pitch margin + penalties);
    each group's :class:`DayRoster` carries its own labour and shortfall cost as ``objective`` and
    no bound (a bound exists only for the whole model).
    """

    rosters: tuple[DayRoster, ...]
    pitch: tuple[bool, ...]
    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    pitch_value: float
    solve_time_s: float


def solve_group_rosters(
    groups: Sequence[RosterInput],
    physical: int,
    min_on_duty: int,
    pitch_value: Sequence[float],
    pitch: Literal["decide", "always", "never"] = "decide",
    time_limit_s: float = 20.0,
    workers: int = 2,
    seed: int = 1,
) -> JointRoster:
    """The cheapest shifts for every group at once, with one pitch flag per interval for the store.

    Cross-selling is a store policy (a suspend window applies to every counter), so an interval
    pitches for all groups or for none: where it pitches, every group must cover its need *with*
    pitching (``need_pitch``), elsewhere its need without. The flag earns the store's expected
    margin ``pitch_value[i]`` and is chosen only where that pays for the extra staff summed over the
    groups, and never (``decide``) where any group is left short. The hall's counters bound the
    groups' sum per slot (one hard constraint, instead of fixed shares per group); ``min_on_duty``
    counts everybody on the floor. Each group's shortfall is priced as in the one-pool roster
    (:func:`.roster.shortfall_unit_costs`, convex and weighted by its customers), and the same
    canonicalising pass makes a rerun return the same rosters.

    ``groups``: one :class:`RosterInput` per group (its grid, templates, needs, customers, cost);
    their ``physical``, ``min_on_duty`` and ``pitch_value`` are ignored (the store's are the arguments).
    """
    started = time.perf_counter()
    first = groups[0]
    g_grid = first.grid
    n_int = g_grid.n_intervals
    cov = coverage_matrix(first.templates, g_grid)
    longest = max((t.length for t in first.templates), default=60)
    penalty = max(1, _cents(longest / 60 * max(first.cost_per_hour, 1.0)) * 1000)
    model = cp_model.CpModel()
    datas = [replace(d, physical=physical, min_on_duty=0, allow_pitch=pitch != "never") for d in groups]
    xs: list[list[cp_model.IntVar]] = []
    floors: list[list[cp_model.IntVar]] = []
    terms: list[tuple[int, cp_model.IntVar]] = []
    for d in datas:
        x, cost_terms = add_shift_costs(model, d)
        xs.append(x)
        floors.append(add_staff_limits(model, d, x, cov))
        terms += cost_terms
    for s in range(g_grid.n_slots):
        model.add(sum(f[s] for f in floors) <= physical)
    flags = []
    for i in range(n_int):
        p = model.new_bool_var(f"pitch[{format_clock(g_grid.open_min + i * g_grid.per_interval * g_grid.slot_min)}]")
        if pitch == "never" or (pitch == "decide" and pitch_value[i] <= 0):
            model.add(p == 0)
        elif pitch == "always":
            model.add(p == 1)
        terms.append((-_cents(pitch_value[i]), p))
        flags.append(p)
    for gi, d in enumerate(datas):
        terms += _add_group_coverage(model, d, gi, floors[gi], flags, penalty, short_blocks_pitch=pitch == "decide")
    store = replace(datas[0], allow_pitch=pitch == "decide")
    terms += add_pitch_windows(model, store, flags)
    if min_on_duty > 0:
        for s in range(g_grid.n_slots):
            lack = model.new_int_var(
                0, min_on_duty, f"below_min_on_duty[{format_clock(g_grid.open_min + s * g_grid.slot_min)}]"
            )
            model.add(sum(f[s] for f in floors) + lack >= min_on_duty)
            terms.append((penalty, lack))
    objective_expr = sum(c * v for c, v in terms)
    model.minimize(objective_expr)
    for d, x in zip(datas, xs, strict=True):
        greedy = greedy_cover(d.templates, g_grid, d.need_no_pitch, physical, d.cost_per_hour / 60)
        counts = template_counts(greedy, len(d.templates))
        for k, v in enumerate(x):
            model.add_hint(v, int(counts[k]))
    for p in flags:
        model.add_hint(p, 0)
    solver = seeded_solver(workers, time_limit_s, seed)
    code = solver.solve(model)
    status = status_name(code)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        elapsed = time.perf_counter() - started
        empty = tuple(_no_roster(d, status, time_limit_s, elapsed) for d in datas)
        return JointRoster(empty, (False,) * n_int, status, None, None, None, 0.0, elapsed)
    bound = solver.best_objective_bound / 100
    all_x = [v for x in xs for v in x]
    chosen = canonical_solution(model, objective_expr, solver, [*all_x, *flags], tie_break(all_x, flags), seed)
    pitched = tuple(bool(chosen.value(p)) for p in flags)
    elapsed = time.perf_counter() - started
    rosters = [
        _read_group_roster(
            d,
            [chosen.value(v) for v in x],
            [chosen.value(v) for v in floors[gi]],
            pitched,
            pitch_value,
            penalty,
            status,
            elapsed,
            cov,
        )
        for gi, (d, x) in enumerate(zip(datas, xs, strict=True))
    ]
    objective = chosen.value(objective_expr) / 100
    return JointRoster(
        rosters=tuple(rosters),
        pitch=pitched,
        status=status,
        objective=objective,
        bound=bound,
        gap=abs(objective - bound) / max(abs(objective), 1.0),
        pitch_value=float(sum(pitch_value[i] for i in range(n_int) if pitched[i])),
        solve_time_s=elapsed,
    )


def _add_group_coverage(
    model: cp_model.CpModel,
    d: RosterInput,
    gi: int,
    on_floor: Sequence[cp_model.IntVar],
    flags: Sequence[cp_model.IntVar],
    penalty: int,
    short_blocks_pitch: bool,
) -> list[tuple[int, cp_model.IntVar]]:
    """One group's coverage under the store's pitch flags: staffed + short ≥ need (with or without
    pitching), the shortfall priced per missing counter (convex, as :func:`.roster.add_coverage`)."""
    g = d.grid
    unit_costs = shortfall_unit_costs(d, penalty)
    terms: list[tuple[int, cp_model.IntVar]] = []
    for i in range(g.n_intervals):
        label = f"{gi}:{format_clock(g.open_min + i * g.per_interval * g.slot_min)}"
        lo, hi = d.need_no_pitch[i], max(d.need_pitch[i], d.need_no_pitch[i])
        sh = model.new_int_var(0, hi, f"short[{label}]")
        for s in range(i * g.per_interval, (i + 1) * g.per_interval):
            model.add(on_floor[s] + sh >= lo + (hi - lo) * flags[i])
        if short_blocks_pitch:
            model.add(sh == 0).only_enforce_if(flags[i])  # no pitching where any group is short
        units = [model.new_bool_var(f"short[{label}]#{k + 1}") for k in range(hi)]
        if units:
            model.add(sh == sum(units))
            for k in range(1, len(units)):
                model.add_implication(units[k], units[k - 1])  # the cheap units first
            terms += [(unit_costs[i][k], u) for k, u in enumerate(units)]
    return terms


def _no_roster(d: RosterInput, status: str, time_limit_s: float, elapsed: float) -> DayRoster:
    n = d.grid.n_intervals
    return DayRoster(
        status=status,
        objective=None,
        bound=None,
        gap=None,
        shifts=(),
        staffed=(0,) * n,
        pitch=(False,) * n,
        required=d.need_no_pitch,
        shortfall=d.need_no_pitch,
        staff_hours=0.0,
        staff_cost=0.0,
        pitch_value=0.0,
        solve_time_s=elapsed,
        explanation=(f"CP-SAT returned {status} within {time_limit_s:g} s: no roster found",),
    )


def _read_group_roster(
    d: RosterInput,
    counts_: Sequence[int],
    slots: Sequence[int],
    pitched: Sequence[bool],
    pitch_value: Sequence[float],
    penalty: int,
    status: str,
    elapsed: float,
    cov: np.ndarray,
) -> DayRoster:
    """One group's roster from the joint solution (its labour and shortfall cost as ``objective``)."""
    g_grid = d.grid
    n_int = g_grid.n_intervals
    counts = np.asarray(counts_, dtype=int)
    staffed = [int(v) for v in interval_staffed(np.asarray(slots, dtype=int), g_grid)]
    required = [max(d.need_pitch[i], d.need_no_pitch[i]) if pitched[i] else d.need_no_pitch[i] for i in range(n_int)]
    shortfall = [max(0, required[i] - staffed[i]) for i in range(n_int)]
    hours = float(sum(counts[k] * t.length for k, t in enumerate(d.templates)) / 60)
    unit_costs = shortfall_unit_costs(d, penalty)
    short_cost = sum(sum(unit_costs[i][: shortfall[i]]) for i in range(n_int)) / 100
    return DayRoster(
        status=status,
        objective=hours * d.cost_per_hour + short_cost,
        bound=None,
        gap=None,
        shifts=shift_counts(d.templates, counts, g_grid.open_min),
        staffed=tuple(staffed),
        pitch=tuple(bool(p) for p in pitched),
        required=tuple(int(v) for v in required),
        shortfall=tuple(shortfall),
        staff_hours=hours,
        staff_cost=hours * d.cost_per_hour,
        pitch_value=float(sum(pitch_value[i] for i in range(n_int) if pitched[i])),
        solve_time_s=elapsed,
        explanation=tuple(_explain(d, required, staffed, status, cov)),
    )
