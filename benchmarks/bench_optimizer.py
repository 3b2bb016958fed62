"""Optimizer benchmark: stationary Erlang C staffing vs storeq's simulation-refined plan, and the named-staff week.

    python benchmarks/bench_optimizer.py [--replications 100] [--time-limit 60]

On the flagship hall (``scenarios/telecom_month_end.yaml``) and a week of it, both plans are covered
by the same shift rules with the same CP-SAT roster model and then simulated with the same seed:

(a) stationary Erlang C per interval (SIPP, the textbook start), rostered;
(b) storeq: Erlang A lagged start, refined by simulation under common random numbers, rostered.

Printed per plan: staff hours, share of intervals whose simulated mean service level meets the target,
share whose 95% CI reaches it, and the intervals that miss. Pitching is off in (a) and (b) so the
comparison is about staffing; a third row shows storeq's plan with pitch windows decided jointly.

The named-staff week (``scenarios/staff_week.yaml``, 15 people, 7 days, 30-minute intervals) reports
status, objective, bound, gap and solve time on 2 CP-SAT workers, with pitching off and with pitch
windows decided jointly. Pitching off, the line is the week after its verification repair ("the roster
before the repair" gives the first solve's figures); with pitch windows decided jointly, the line is
the joint solve itself, without the repair (which re-rosters a different problem: windows fixed,
requirements raised), and "how" says which bound proved it (the joint model's, or the sum of the
days' own bounds). ``--named-weeks ordinary`` runs only the ordinary week.

Requirement (``--only requirement``): on the four bundled stores (the bank branch as one pool of its
desks, its counter groups removed), the simulation-refined requirement without and with the CI
descent, against an independent one-counter-at-a-time minimum judged on means (200 replications of
seed 2, from the descent's staffing), and the descent's staffing re-simulated on seed 3 with 400
replications (intervals whose mean misses, intervals whose whole CI is below the target).

Week: the flagship is a month-end weekday; the week scales it by weekday factors
Mon..Sun = 0.80, 0.75, 0.75, 0.80, 0.95, 1.00, 0.65 (the Saturday of month-end is the peak).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from optimizer import (
    ServiceTarget,
    analytic_requirement,
    load_staff,
    optimize_day,
    optimize_week,
    refine_requirement,
    verify,
)
from optimizer.plan import _plan_scenario, _roster_input, week_scenarios
from optimizer.requirement import interval_service
from optimizer.roster import solve_day_roster
from simulation import Scenario, load_scenario, run, with_updates
from simulation.scenario import ShiftRules

REPO = Path(__file__).resolve().parent.parent
RULES = {
    "lengths_hours": [4, 6, 8],
    "start_step_min": 30,
    "min_on_duty": 2,
    "break": {"for_shifts_over_hours": 6, "length_min": 30, "window_hours": [3, 5]},
}
WEEKDAY_FACTORS = [0.80, 0.75, 0.75, 0.80, 0.95, 1.00, 0.65]
ORDINARY = 0.8  # an ordinary (not month-end) week: demand 80% of the month-end week


def erlang_c_plan(
    s: Scenario, target: ServiceTarget, rules: ShiftRules, reps: int, seed: int, method: str = "erlang_c"
) -> tuple[float, object]:
    req = analytic_requirement(s, target, method, pitching=False)  # type: ignore[arg-type]
    data = _roster_input(s, rules, req, None, "never")
    roster = solve_day_roster(data, time_limit_s=20, workers=2, seed=seed)
    plan, _ = _plan_scenario(s, roster.staffed, roster.pitch, data.grid, rules, target.wait_for(s))
    return roster.staff_hours, verify(plan, target, replications=reps, seed=seed)


def descent_minimum(s: Scenario, target: ServiceTarget, start: tuple[int, ...], reps: int, seed: int) -> list[int]:
    """A local minimum found independently of storeq's search: one counter at a time, judged on means.

    From ``start``, first add a counter wherever an interval's mean misses (so a start that misses on
    this seed is not reported as its own minimum), then try removing one counter in each interval in
    turn (most room first); keep the removal when every interval's mean service level still meets the
    target, simulated with ``reps`` replications on a seed the optimizer never used. Repeat until a
    full pass keeps nothing.
    """
    base = with_updates(s, {"cross_sell.policy": {"mode": "never"}, "store.target_wait_min": target.wait_for(s)})
    staff = list(start)
    floor = max(1, s.counters.vip)

    def meets(st: list[int]) -> tuple[bool, np.ndarray]:
        trial = with_updates(base, {"counters.staffed": st})
        svc = interval_service(run(trial, replications=reps, seed=seed), trial, target)
        sl = svc["service_level_mean"].fillna(1.0).to_numpy()
        return bool((sl >= target.service_level).all()), sl

    ok, sl = meets(staff)
    while not ok:
        short = [i for i in range(len(staff)) if sl[i] < target.service_level and staff[i] < s.physical_counters]
        if not short:
            break  # over capacity: nothing to add
        for i in short:
            staff[i] += 1
        ok, sl = meets(staff)
    changed = True
    while changed and ok:
        changed = False
        for i in sorted(range(len(staff)), key=lambda k: -sl[k]):
            if staff[i] <= floor:
                continue
            trial = staff.copy()
            trial[i] -= 1
            good, sl_t = meets(trial)
            if good:
                staff, sl, changed = trial, sl_t, True
    return staff


def requirement_rows(target: ServiceTarget, reps: int) -> None:
    """Requirement hours: coarse search vs storeq's descent vs an independent descent minimum.

    The bank branch plans counter groups (no one-pool descent for groups); it is compared as one pool
    of its 7 desks (``counters.groups`` removed), which keeps its 15-minute grid and its demand.
    """
    print("== Requirement (no pitching): coarse search vs CI descent vs an independent descent minimum ==")
    print("   descent minimum: from the descent's staffing, one counter at a time, means over 200 replications")
    print("   on seed 2 (never used by the search); 're-sim': the descent's staffing on seed 3, 400 replications")
    print("   (an interval's standard error 0.01-0.015): intervals whose mean misses / whose CI is below the target")
    saved_total = coarse_total = 0.0
    stores = ("telecom_month_end", "telecom_mid_month", "bank_branch", "supermarket")
    for name in stores:
        s = load_scenario(REPO / "scenarios" / f"{name}.yaml")
        if s.counters.groups is not None:
            s = with_updates(s, {"counters.groups": None, "counters.staffed": s.physical_counters})
            name = f"{name} (one pool)"
        t0 = time.perf_counter()
        coarse = refine_requirement(s, target, replications=30, seed=1, descent=False)
        t1 = time.perf_counter()
        lean = refine_requirement(s, target, replications=30, seed=1)
        t2 = time.perf_counter()
        step = s.store.interval_min / 60
        h_coarse = sum(min(x, s.physical_counters) for x in coarse.needed) * step
        h_lean = sum(min(x, s.physical_counters) for x in lean.needed) * step
        start = tuple(min(x, s.physical_counters) for x in lean.needed)
        minimum = descent_minimum(s, target, start, 200, 2)
        h_min = sum(minimum) * step
        base = with_updates(s, {"cross_sell.policy": {"mode": "never"}, "store.target_wait_min": target.wait_for(s)})
        trial = with_updates(base, {"counters.staffed": list(start)})
        svc = interval_service(run(trial, replications=400, seed=3), trial, target)
        sl = svc["service_level_mean"].fillna(1.0)
        below = int((svc["service_level_ci_high"].fillna(1.0) < target.service_level).sum())
        resim = f"{int((sl < target.service_level).sum())} miss / {below} below, worst {sl.min():.3f}"
        saved_total += h_coarse - h_lean
        coarse_total += h_coarse
        print(
            f"  {name:<24} coarse {h_coarse:6.1f} h [{t1 - t0:4.1f} s]   descent {h_lean:6.1f} h [{t2 - t1:5.1f} s]   "
            f"descent minimum {h_min:6.1f} h   descent/minimum {h_lean / max(h_min, 1e-9):.3f}   "
            f"saved {h_coarse - h_lean:4.1f} h ({(h_coarse - h_lean) / max(h_coarse, 1e-9):.1%})   re-sim: {resim}"
        )
    print(
        f"  hours saved by the descent over the {len(stores)} stores: {saved_total:.1f} h "
        f"({saved_total / coarse_total:.1%})\n"
    )


def row(name: str, hours: float, v: object) -> str:
    return (
        f"{name:<38} {hours:7.1f} h   meet {v.share_meeting:6.1%}   within CI {v.share_within_ci:6.1%}   "  # type: ignore[attr-defined]
        f"day SL {v.kpis['service_level']['mean']:.1%}   misses: {', '.join(v.missed) or '-'}"  # type: ignore[attr-defined]
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--replications", type=int, default=100)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", choices=["requirement", "day", "week", "named"], default=None)
    ap.add_argument(
        "--named-weeks",
        choices=["both", "month-end", "ordinary"],
        default="both",
        help="which named-staff weeks to run",
    )
    args = ap.parse_args()
    reps, seed = args.replications, args.seed
    target = ServiceTarget(0.8)
    base = load_scenario(REPO / "scenarios" / "telecom_month_end.yaml")
    base = with_updates(base, {"shifts": RULES})
    rules = base.shifts
    assert rules is not None
    print(
        f"Target: {target.describe(base)}; {reps} replications, seed {seed}; hall of {base.physical_counters} counters"
    )
    print(f"Shift rules: {RULES}\n")
    week_base = with_updates(base, {"demand.weekday_factors": WEEKDAY_FACTORS, "store.date": "2026-11-23"})
    if args.only in (None, "requirement"):
        requirement_rows(target, reps)
    if args.only in (None, "day"):
        day_rows(base, target, rules, reps, seed)
    if args.only in (None, "week"):
        week_rows(week_base, target, rules, reps, seed)
    if args.only in (None, "named"):
        named_rows(week_base, target, reps, seed, args.time_limit, args.named_weeks)


def day_rows(base: Scenario, target: ServiceTarget, rules: ShiftRules, reps: int, seed: int) -> None:
    print("== One day: the flagship month-end weekday ==")
    t0 = time.perf_counter()
    hours_a, va = erlang_c_plan(base, target, rules, reps, seed)
    ta = time.perf_counter() - t0
    t0 = time.perf_counter()
    pb = optimize_day(base, target, pitch="never", replications=reps, seed=seed, tune_threshold=False)
    tb = time.perf_counter() - t0
    t0 = time.perf_counter()
    pc = optimize_day(base, target, pitch="decide", replications=reps, seed=seed, tune_threshold=True)
    tc = time.perf_counter() - t0
    print(row("(a) Erlang C (stationary), rostered", hours_a, va) + f"   [{ta:.1f} s]")
    for m in ("erlang_a", "erlang_a_lagged"):
        h, v = erlang_c_plan(base, target, rules, reps, seed, m)
        print(row(f"    for reference: {m}, rostered", h, v))
    print(row("(b) storeq refined, no pitching", pb.roster.staff_hours, pb.verification) + f"   [{tb:.1f} s]")
    print(row("(c) storeq refined + pitch windows", pc.roster.staff_hours, pc.verification) + f"   [{tc:.1f} s]")
    print(
        f"    (b)/(a) staff hours: {pb.roster.staff_hours / hours_a:.3f}; refinement converged: {pb.requirement_no_pitch.converged} "
        f"in {pb.requirement_no_pitch.iterations} simulations"
    )
    print(
        f"    (c) pitch rule: {pc.pitch_rule}; pitch margin {pc.verification.kpis['cross_sell_revenue']['mean']:.0f}/day; "
        f"staff cost {pc.roster.staff_cost:.0f}"
    )
    if pc.policies is not None:
        final = pc.policies[pc.policies["stage"] == "final"]
        for rec in final.to_dict(orient="records"):
            print(
                f"    policy {rec['policy']:<22} SL {rec['service_level']:.1%}  missed {rec['missed_intervals']}  "
                f"margin {rec['pitch_margin']:.0f}"
            )


def week_rows(week_base: Scenario, target: ServiceTarget, rules: ShiftRules, reps: int, seed: int) -> None:
    print("\n== A week of it (7 day scenarios, weekday factors) ==")
    tot_a = tot_b = 0.0
    meet_a: list[float] = []
    meet_b: list[float] = []
    ci_a: list[float] = []
    ci_b: list[float] = []
    t0 = time.perf_counter()
    for label, _wd, s in week_scenarios(week_base):
        ha, v_a = erlang_c_plan(s, target, rules, reps, seed)
        p = optimize_day(s, target, pitch="never", replications=reps, seed=seed, tune_threshold=False)
        tot_a += ha
        tot_b += p.roster.staff_hours
        n = len(v_a.intervals)  # type: ignore[attr-defined]
        meet_a += [v_a.share_meeting] * n  # type: ignore[attr-defined]
        ci_a += [v_a.share_within_ci] * n  # type: ignore[attr-defined]
        meet_b += [p.verification.share_meeting] * n
        ci_b += [p.verification.share_within_ci] * n
        print(
            f"  {label:<16} (a) {ha:6.1f} h meet {v_a.share_meeting:6.1%}   (b) {p.roster.staff_hours:6.1f} h meet "  # type: ignore[attr-defined]
            f"{p.verification.share_meeting:6.1%} within CI {p.verification.share_within_ci:6.1%}"
        )
    print(f"  week (a) Erlang C: {tot_a:.1f} h, intervals meeting {np.mean(meet_a):.1%}, within CI {np.mean(ci_a):.1%}")
    print(f"  week (b) storeq:   {tot_b:.1f} h, intervals meeting {np.mean(meet_b):.1%}, within CI {np.mean(ci_b):.1%}")
    print(f"  (b)/(a) staff hours: {tot_b / tot_a:.3f}   [{time.perf_counter() - t0:.1f} s]")


def named_rows(
    week_base: Scenario, target: ServiceTarget, reps: int, seed: int, time_limit: float, which: str = "both"
) -> None:
    print("\n== Named-staff week: 15 people, 7 days, 30-minute intervals, CP-SAT on 2 workers ==")
    print("   requirement per day simulation-refined; the gap is against the best proven bound; penalties for")
    print("   uncovered counter-intervals dominate the objective when the team cannot cover a peak, so the")
    print("   absolute gap and the gap relative to labour cost are printed too")
    staff = load_staff(REPO / "scenarios" / "staff_week.yaml")
    ordinary = with_updates(week_base, {"demand.weekday_factors": [f * ORDINARY for f in WEEKDAY_FACTORS]})
    weeks = [("month-end week", week_base), (f"ordinary week (x{ORDINARY})", ordinary)]
    weeks = [w for w in weeks if which == "both" or w[0].startswith(which)]
    for week_name, wb in weeks:
        for pitch in ("never", "decide"):
            t0 = time.perf_counter()
            # With pitch windows decided jointly, no verification repair: the row is the joint solve's
            # own status, objective, bound, gap and time (the repair re-rosters a different problem,
            # windows fixed and requirements raised), and "how" says which bound proved it.
            wp = optimize_week(
                wb,
                staff,
                target,
                method="simulation",
                pitch=pitch,
                replications=reps,
                seed=seed,
                time_limit_s=time_limit,
                solver_workers=2,
                repair_rounds=1 if pitch == "never" else 0,
            )
            r = wp.roster
            assert r.objective is not None and r.bound is not None and r.gap is not None
            missed = sum(len(d.verification.missed) for d in wp.days)
            short = sum(sum(d) for d in r.shortfall)
            print(
                f"  {week_name:<24} pitch={pitch:<7} status {r.status:<9} objective {r.objective:,.2f}  bound {r.bound:,.2f}  "
                f"gap {r.gap:.2%} (abs {r.objective - r.bound:,.2f} = {r.gap_labour:.2%} of labour cost)  "
                f"solve {r.solve_time_s:.1f} s  staff {r.staff_hours:.0f} h  short counter-intervals {short}  "
                f"intervals missing (simulated) {missed}  [total {time.perf_counter() - t0:.1f} s]"
            )
            for line in wp.explanation:
                if "before the repair" in line:  # the joint solve's own figures (the repair fixes the windows)
                    print("      " + line[line.index("the roster before the repair") :].rstrip(")"))
                if line.startswith("pitch windows searched"):  # how the joint week was found and what proved its bound
                    print("      how: " + line)


if __name__ == "__main__":
    main()
