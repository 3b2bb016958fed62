"""Benchmark: the named-staff week for a hall with counter groups (one joint model across groups).

    python benchmarks/bench_week_groups.py [--method simulation|erlang_a] [--replications 100] [--time-limit 60]
                                           [--only pitch|skills]

Store: ``scenarios/bank_branch.yaml`` (private banking, advisers, tellers; 7 desks; 15-minute grid;
shut on Sunday) with ``scenarios/staff_bank_week.yaml`` (13 people, each in one group). The week is
planned twice with the same seed: the pitch rule decided jointly (``--pitch decide``, the default)
and ``--pitch never``. Per plan: solver status, objective, bound and gap of the week model (after
any repair: then the re-rostering's, the first solve's in the repair lines; the gap also against
the labour cost, since penalties for needs beyond the hall dominate the objective), the wall time of the whole plan (requirements, roster,
verification, repair), staff hours and cost, the simulated pitch margin per open day (mean of the
verified days' ``cross_sell_revenue``), margin − staff cost per open day against ``never``, and the
(day, group, interval) cells whose own customers miss the target on the verification.

Skills (``--only skills``, also in the default run): the week with two tellers (Emil, Fenna) away and
the pitch rule decided, once with each person in their own group and once with every adviser also able
to work the tellers' desks (``group: [advisers, tellers]``): hours, cost, counter-intervals short of
the need and verified misses, and how many shifts went to the tellers.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from optimizer import ServiceTarget, load_staff, optimize_week
from optimizer.staff import StaffRules
from simulation import load_scenario

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--method", default="simulation", choices=["simulation", "erlang_a"])
    ap.add_argument("--replications", type=int, default=100)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--workers", type=int, default=1, help="simulation processes")
    ap.add_argument("--only", choices=["pitch", "skills"], help="only the pitch comparison, or only the skills one")
    args = ap.parse_args()
    bank = load_scenario(REPO / "scenarios" / "bank_branch.yaml")
    staff = load_staff(REPO / "scenarios" / "staff_bank_week.yaml")

    def plan(label: str, people: StaffRules, pitch: str) -> tuple[Any, float, float]:
        started = time.perf_counter()
        week = optimize_week(
            bank, people, ServiceTarget(0.8), method=args.method, pitch=pitch, replications=args.replications,  # type: ignore[arg-type]
            time_limit_s=args.time_limit, workers=args.workers, seed=1,
        )  # fmt: skip
        elapsed = time.perf_counter() - started
        r = week.roster
        open_days = [d for d in week.days if sum(d.requirement_no_pitch.needed) > 0]
        margin = sum(d.verification.kpis["cross_sell_revenue"]["mean"] for d in open_days) / max(len(open_days), 1)
        missed = sum(len(gp.missed) for d in week.days for gp in d.groups)
        cells = sum(len(gp.service) for d in open_days for gp in d.groups)
        cost_day = r.staff_cost / max(len(open_days), 1)
        gap = "-" if r.gap is None else f"{r.gap:.2%}"
        gap_l = "-" if r.gap_labour is None else f"{r.gap_labour:.2%}"
        short = sum(map(sum, r.shortfall))
        print(
            f"{label}: {r.status}, objective {r.objective or 0:,.0f}, bound {r.bound or 0:,.0f}, gap {gap} "
            f"({gap_l} of labour cost; {short} counter-intervals short of the need, most where it exceeds the hall); "
            f"plan {elapsed:.0f} s (solve {r.solve_time_s:.1f} s); staff {r.staff_hours:g} h, {r.staff_cost:,.0f} "
            f"{bank.costs.currency} a week; pitching in {sum(map(sum, r.pitch))} of {sum(map(len, r.pitch))} intervals; "
            f"simulated pitch margin {margin:,.0f} a day; group cells missing {missed} of {cells}"
        )
        for e in week.explanation:
            if e.startswith("after verification"):
                print(f"    {e[:420]}")
        return week, margin, cost_day

    if args.only in (None, "pitch"):
        _, m_d, c_d = plan("pitch decide", staff, "decide")
        _, m_n, c_n = plan("pitch never ", staff, "never")
        print(
            f"decide vs never, per open day: margin {m_d - m_n:+,.0f}, staff {c_d - c_n:+,.0f}, "
            f"margin − staff {(m_d - c_d) - (m_n - c_n):+,.0f} {bank.costs.currency}"
        )
    if args.only in (None, "skills"):
        # The file's week is covered by each group's own people (skills change nothing there: measured
        # 306 h either way, no adviser at a teller's desk). Two tellers away all week makes the
        # tellers thin: then the advisers' second skill is what covers the tellers' desks.
        away = {"Emil", "Fenna"}
        thin = StaffRules(tuple(p for p in staff.staff if p.name not in away), staff.min_rest_hours, staff.fair_closing_weight)
        skilled = replace(thin, staff=tuple(replace(p, also=("tellers",)) if p.group == "advisers" else p for p in thin.staff))
        plan("Emil, Fenna away, own group only      ", thin, "decide")
        week, _, _ = plan("Emil, Fenna away, advisers also tellers", skilled, "decide")
        advisers = {p.name for p in staff.staff if p.group == "advisers"}
        crossed = [a for a in week.roster.assignments if a.name in advisers and a.group == "tellers"]
        print(f"advisers' shifts at the tellers' desks: {len(crossed)} ({sum(a.hours for a in crossed):g} h)")


if __name__ == "__main__":
    main()
