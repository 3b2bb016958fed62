"""Optimizer benchmark for halls with counter groups: the descent on the (group, interval) grid and
the store-wide pitch windows.

    python benchmarks/bench_groups.py [--only requirement|pitch|days] [--replications 100]

Stores: ``scenarios/bank_branch.yaml`` (private banking, advisers, tellers) and the flagship
``scenarios/telecom_month_end.yaml`` with the counter groups its comments describe (a VIP counter
that then serves anyone, two payments-only counters, six general), the same hall of 14.

Requirement rows (pitching off), per store: staff-hours of the per-group requirement from
(a) the coarse raise/lower search alone, (b) with the firm-up and CI descent (what ``optimize``
uses), (c) an independent one-at-a-time descent minimum: starting from (b), add a counter where a
group's own customers miss on their mean, then remove one counter per (group, interval) at a time,
most room first, keeping a removal when every group's own customers still meet the target in every
interval on their means over 200 replications on seed 2 (never used by the search), until a full
pass keeps nothing. "re-sim": (b) simulated on seed 3 with 100 replications: the (group,
interval) cells whose mean misses, and those whose whole 95% CI is below the target (a real miss;
a lean staffing has cells at the boundary whose mean lands below on some seeds by chance). Hours count each interval's staffing capped at
the hall (a cell over capacity is the hall's limit, not staff that can be rostered).

Pitch rows, per store: the day plan with the pitch windows decided store-wide (``--pitch decide``)
vs ``--pitch never``, both verified with the same seed: the windows, staff cost, the simulated pitch
margin (mean, 95% CI) and margin − staff cost, and the intervals where any group's customers miss.

Days rows, per store with day-to-day demand spread (the bank branch's own ``day_cv: 0.10``; the
flagship with groups given ``day_cv: 0.1``): the per-group requirement (with the descent) for the
mean target vs ``days_meeting=0.9`` (each group's own customers meeting the target in each interval
on 90% of days), hours per group, and each staffing re-simulated on seed 3 (100 replications): the
(group, interval) cells whose customers meet the target on fewer than 90% of days.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from optimizer import ServiceTarget, optimize_day
from optimizer.groups import group_service, groups_scenario, refine_group_requirements
from optimizer.requirement import pitch_policy
from simulation import Scenario, load_scenario, run, scenario_from_dict, with_updates

REPO = Path(__file__).resolve().parent.parent
TELECOM_GROUPS = [
    {"name": "vip", "staffed": 1, "segments": ["vip"], "then": "any"},
    {"name": "payments", "staffed": 2, "transactions": ["top_up", "bill_payment"]},
    {"name": "general", "staffed": 6},
]


def stores() -> list[tuple[str, Scenario]]:
    bank = load_scenario(REPO / "scenarios" / "bank_branch.yaml")
    tel = load_scenario(REPO / "scenarios" / "telecom_month_end.yaml")
    data = tel.model_dump(mode="json", exclude_none=True, by_alias=True)
    data["counters"] = {"physical": tel.physical_counters, "groups": TELECOM_GROUPS}
    return [("bank_branch", bank), ("telecom_month_end+groups", scenario_from_dict(data, "telecom with groups"))]


def capped_hours(s: Scenario, staff: np.ndarray) -> float:
    """Staff-hours with each interval's total capped at the hall."""
    per_interval = np.minimum(staff.sum(axis=0), s.physical_counters)
    return float(per_interval.sum() * s.store.interval_min / 60)


def fit(staff: np.ndarray, physical: int) -> np.ndarray:
    """Trim the largest group of an interval over the hall (never below 1): what can be staffed."""
    staff = staff.copy()
    for i in range(staff.shape[1]):
        while staff[:, i].sum() > physical and staff[:, i].max() > 1:
            staff[int(np.argmax(staff[:, i])), i] -= 1
    return staff


def cell_means(base: Scenario, staff: np.ndarray, target: ServiceTarget, reps: int, seed: int) -> np.ndarray:
    trial = groups_scenario(base, staff.tolist())
    res = run(trial, replications=reps, seed=seed, keep_customers=True)
    return np.array([f["service_level_mean"].fillna(1.0).to_numpy(float) for f in group_service(res, trial, target)])


def resimulate(base: Scenario, staff: np.ndarray, target: ServiceTarget) -> str:
    """Seed 3, 100 replications: cells whose mean misses, and those whose whole 95% CI is below target.

    A lean staffing has cells at the boundary, whose mean lands below the target on some seeds by
    chance; a cell whose whole CI is below it is a real miss.
    """
    trial = groups_scenario(base, staff.tolist())
    frames = group_service(run(trial, replications=100, seed=3, keep_customers=True), trial, target)
    sl = np.array([f["service_level_mean"].fillna(1.0).to_numpy(float) for f in frames])
    hi = np.array([f["service_level_ci_high"].fillna(1.0).to_numpy(float) for f in frames])
    below = int((sl < target.service_level).sum())
    clear = int((hi < target.service_level).sum())
    if below == 0:
        return f"all {sl.size} cells meet"
    return f"{below} of {sl.size} cells' means below (lowest {sl.min():.3f}), {clear} with the whole CI below"


def descent_minimum(s: Scenario, target: ServiceTarget, start: np.ndarray, reps: int, seed: int) -> np.ndarray:
    """A local minimum found independently of storeq's search (see the module docstring)."""
    base = with_updates(s, {"cross_sell.policy": pitch_policy(False), "store.target_wait_min": target.wait_for(s)})
    staff = start.copy()
    sl = cell_means(base, staff, target, reps, seed)
    for _ in range(6):
        miss = sl < target.service_level
        room = staff.sum(axis=0) < s.physical_counters
        add = miss & room[None, :]
        if not add.any():
            break
        staff[add] += 1
        sl = cell_means(base, staff, target, reps, seed)
    ok_now = sl >= target.service_level  # cells over capacity (cannot be met) are left as they are
    changed = True
    while changed:
        changed = False
        order = sorted(np.ndindex(*staff.shape), key=lambda gi: -sl[gi])
        for g, i in order:
            if staff[g, i] <= 1:
                continue
            trial = staff.copy()
            trial[g, i] -= 1
            sl_t = cell_means(base, trial, target, reps, seed)
            if ((sl_t >= target.service_level) | ~ok_now).all():
                staff, sl, changed = trial, sl_t, True
    return staff


def requirement_rows(target: ServiceTarget) -> None:
    print("== Group requirement (no pitching): coarse search vs CI descent vs an independent descent minimum ==")
    for name, s in stores():
        t0 = time.perf_counter()
        coarse = refine_group_requirements(s, target, replications=30, seed=1, descent=False)
        t1 = time.perf_counter()
        lean = refine_group_requirements(s, target, replications=30, seed=1)
        t2 = time.perf_counter()
        c = fit(np.array([r.needed for r in coarse]), s.physical_counters)
        b = fit(np.array([r.needed for r in lean]), s.physical_counters)
        minimum = descent_minimum(s, target, b, 200, 2)
        t3 = time.perf_counter()
        base = with_updates(s, {"cross_sell.policy": pitch_policy(False), "store.target_wait_min": target.wait_for(s)})
        resim = resimulate(base, b, target)
        h_c, h_b, h_m = capped_hours(s, c), capped_hours(s, b), capped_hours(s, minimum)
        print(
            f"  {name:<26} re-sim of the coarse staffing, seed 3: {resimulate(base, c, target)}\n"
            f"  {name:<26} coarse {h_c:6.1f} h [{t1 - t0:5.1f} s]   descent {h_b:6.1f} h [{t2 - t1:5.1f} s]   "
            f"minimum {h_m:6.1f} h [{t3 - t2:5.1f} s]   descent/minimum {h_b / max(h_m, 1e-9):.3f}   "
            f"saved {h_c - h_b:4.1f} h ({(h_c - h_b) / max(h_c, 1e-9):.1%})   re-sim seed 3: {resim}"
        )
        print(f"  {name:<26} re-sim of the descent minimum, seed 3: {resimulate(base, minimum, target)}")
        step = s.store.interval_min / 60
        for g, r in enumerate(lean):
            print(
                f"      {r.group:<16} coarse {c[g].sum() * step:5.1f} h   descent {b[g].sum() * step:5.1f} h   "
                f"minimum {minimum[g].sum() * step:5.1f} h"
            )
    print()


def pitch_rows(target: ServiceTarget, reps: int, seed: int) -> None:
    print(f"== Store-wide pitch windows vs --pitch never ({reps} replications, seed {seed}) ==")
    for name, s in stores():
        plans = {}
        for mode in ("decide", "never"):
            t0 = time.perf_counter()
            plan = optimize_day(s, target, pitch=mode, replications=reps, seed=seed, tune_threshold=False)  # type: ignore[arg-type]
            plans[mode] = (plan, time.perf_counter() - t0)
        for mode, (plan, secs) in plans.items():
            m = plan.verification.kpis["cross_sell_revenue"]
            cost = plan.roster.staff_cost
            missed = [f"{g.name} {x}" for g in plan.groups for x in g.missed]
            print(
                f"  {name:<26} {mode:<6} [{secs:5.1f} s]  {plan.pitch_rule:<44} staff {cost:7.0f}   "
                f"margin {m['mean']:7.1f} [{m['ci_low']:.1f}, {m['ci_high']:.1f}]   margin - staff {m['mean'] - cost:+8.1f}   "
                f"misses: {', '.join(missed) or '-'}"
            )
        d, n = plans["decide"][0], plans["never"][0]
        gain = (d.verification.kpis["cross_sell_revenue"]["mean"] - d.roster.staff_cost) - (
            -n.roster.staff_cost + n.verification.kpis["cross_sell_revenue"]["mean"]
        )
        print(f"  {'':<26} decide - never: {gain:+.1f} a day (margin - staff cost)")
        print(f"  {'':<26} why: {d.explanation[0]}")
    print()


def days_rows(target: ServiceTarget) -> None:
    days = ServiceTarget(target.service_level, target.target_wait_min, target.max_abandon, days_meeting=0.9)
    print("== Group requirement for the mean target vs --days-meeting 0.9 (day-to-day demand spread) ==")
    for name, s in stores():
        if s.demand.day_cv <= 0:
            s = with_updates(s, {"demand.day_cv": 0.1})
        base = with_updates(s, {"cross_sell.policy": pitch_policy(False), "store.target_wait_min": target.wait_for(s)})
        found = {}
        for label, t in (("mean", target), ("days 0.9", days)):
            t0 = time.perf_counter()
            reqs = refine_group_requirements(s, t, replications=30, seed=1)
            found[label] = (fit(np.array([r.needed for r in reqs]), s.physical_counters), time.perf_counter() - t0)
        for label, (staff, secs) in found.items():
            trial = groups_scenario(base, staff.tolist())
            frames = group_service(run(trial, replications=100, seed=3, keep_customers=True), trial, days)
            share = np.array([f["days_meeting_mean"].to_numpy(float) for f in frames])
            below = int((share < 0.9).sum())
            step = s.store.interval_min / 60
            per_group = "   ".join(f"{r.name} {staff[g].sum() * step:5.1f} h" for g, r in enumerate(s.counter_groups()))
            print(
                f"  {name:<26} {label:<9} {capped_hours(s, staff):6.1f} h [{secs:5.1f} s]   {per_group}   "
                f"re-sim seed 3: {below} of {share.size} cells below 90% of days (lowest {share.min():.2f})"
            )
    print()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--replications", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", choices=["requirement", "pitch", "days"], default=None)
    args = ap.parse_args()
    target = ServiceTarget(0.8)
    print(f"Target: {target.service_level:.0%} of each group's own customers within the store's target wait\n")
    if args.only in (None, "requirement"):
        requirement_rows(target)
    if args.only in (None, "pitch"):
        pitch_rows(target, args.replications, args.seed)
    if args.only in (None, "days"):
        days_rows(target)


if __name__ == "__main__":
    main()
