"""Workload, requirement (analytic and simulation-refined), end-to-end day plans and the CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from small_store import TWO_GROUPS

from optimizer import ServiceTarget, analytic_requirement, optimize_day, refine_requirement, workload
from optimizer.requirement import Requirement, interval_service
from simulation import load_scenario, run, scenario_from_dict, scenario_from_yaml, with_updates
from storeq.cli.optimize import optimize

REPO = Path(__file__).resolve().parent.parent

# Three hours on a 30-minute grid with a peak in the middle; small enough for quick simulations.
SMALL = {
    "name": "Small hall",
    "store": {"open": "09:00", "close": "12:00", "interval_min": 30, "target_wait_min": 5},
    "demand": {"arrivals_per_hour": [30, 50, 80, 80, 50, 30]},
    "segments": [
        {"name": "regular", "share": 0.9, "priority": 1, "patience": {"dist": "exponential", "mean": 15}},
        {"name": "vip", "share": 0.1, "priority": 0, "patience": {"dist": "exponential", "mean": 15}, "pitch": False},
    ],
    "transactions": [
        {"name": "quick", "share": 0.6, "counter_time": {"dist": "exponential", "mean": 3}},
        {"name": "long", "share": 0.4, "counter_time": {"dist": "exponential", "mean": 8}},
    ],
    "counters": {"staffed": 4, "physical": 12},
    "cross_sell": {"pitch_time": {"dist": "exponential", "mean": 3}, "acceptance": 0.3, "margin": 30},
    "costs": {"staff_hour": 40},
    "shifts": {"lengths_hours": [1, 2, 3], "start_step_min": 30, "min_on_duty": 1},
    "simulation": {"replications": 30, "seed": 3},
}


def small(**updates: object) -> object:
    s = scenario_from_dict(SMALL, "small")
    return with_updates(s, updates) if updates else s


def test_workload_by_hand() -> None:
    # 60/h walk-ins; A (share 0.5, 4 min, kiosk-able) and B (0.5, 10 min). 20% of kiosk-able demand
    # goes online, 60% of the rest use a kiosk and 10% of those fail back to the counter:
    # A at counters = 0.5 * 0.8 * (0.4 + 0.06) = 0.184, B = 0.5 -> 0.684 per minute.
    # Handling = (0.184 * 4 + 0.5 * 10) / 0.684; pitch adds 3 min * 0.75 (pitchable share).
    # Patience: rates add, 0.75/10 + 0.25/20 = 0.0875 -> 11.43 min. Margin 0.75 * 0.5 * 20 = 7.5.
    data = {
        "demand": {"arrivals_per_hour": 60, "online_diversion": 0.2},
        "segments": [
            {"name": "a", "share": 0.75, "patience": {"dist": "exponential", "mean": 10}},
            {"name": "b", "share": 0.25, "patience": {"dist": "exponential", "mean": 20}, "pitch": False},
        ],
        "transactions": [
            {
                "name": "A",
                "share": 0.5,
                "counter_time": {"dist": "exponential", "mean": 4},
                "kiosk_time": {"dist": "exponential", "mean": 2},
            },
            {"name": "B", "share": 0.5, "counter_time": {"dist": "exponential", "mean": 10}},
        ],
        "counters": {"staffed": 5},
        "kiosks": {"count": 1, "adoption": 0.6, "failure": 0.1},
        "cross_sell": {"pitch_time": {"dist": "deterministic", "value": 3}, "acceptance": 0.5, "margin": 20},
    }
    w = workload(scenario_from_dict(data, "w"))
    assert w.counter_rate_per_min == pytest.approx([0.684] * 18)
    handle = (0.184 * 4 + 0.5 * 10) / 0.684
    assert w.handle_min_no_pitch == pytest.approx(handle)
    assert w.handle_min_pitch == pytest.approx(handle + 2.25)
    assert w.mean_patience_min == pytest.approx(1 / 0.0875)
    assert w.pitch_margin_per_customer == pytest.approx(7.5)


def test_analytic_requirement_properties() -> None:
    s = load_scenario(REPO / "scenarios" / "telecom_month_end.yaml")
    t = ServiceTarget(0.8)
    c = analytic_requirement(s, t, "erlang_c")
    a = analytic_requirement(s, t, "erlang_a")
    cp = analytic_requirement(s, t, "erlang_c", pitching=True)
    busier = analytic_requirement(with_updates(s, {"demand.scale": 1.2}), t, "erlang_c")
    # Abandonment shortens queues, so Erlang A never asks for more than Erlang C; pitching lengthens
    # service, so it never asks for less; more demand never needs fewer counters.
    assert all(x <= y for x, y in zip(a.needed, c.needed, strict=True))
    assert all(x >= y for x, y in zip(cp.needed, c.needed, strict=True))
    assert all(x >= y for x, y in zip(busier.needed, c.needed, strict=True))
    lag = analytic_requirement(s, t, "erlang_c_lagged")
    # The lagged start sees less load in the first interval (nothing arrived before opening).
    assert lag.needed[0] <= c.needed[0]
    capped = analytic_requirement(with_updates(s, {"counters.physical": 9}), t, "erlang_c")
    assert capped.over_capacity and all(capped.needed[i] > 9 for i in capped.over_capacity)


def test_abandonment_cap_raises_requirement() -> None:
    s = small()
    loose = analytic_requirement(s, ServiceTarget(0.5), "erlang_a")
    strict = analytic_requirement(s, ServiceTarget(0.5, max_abandon=0.01), "erlang_a")
    assert sum(strict.needed) > sum(loose.needed)


def test_service_target_validation() -> None:
    with pytest.raises(ValueError, match="service_level must be in"):
        ServiceTarget(1.5)
    with pytest.raises(ValueError, match="max_abandon"):
        ServiceTarget(0.8, max_abandon=1.0)


def test_refinement_raises_staff_where_the_engine_shows_a_miss() -> None:
    s = small()
    t = ServiceTarget(0.8)
    low = Requirement("erlang_a", False, (2, 2, 2, 2, 2, 2), 12, tuple(s.interval_labels))
    # max_replications: the descent's budget (default 64 x 30 days) is not what this test is about.
    ref = refine_requirement(s, t, start=low, replications=30, seed=5, max_iterations=15, max_replications=120)
    first_missed = set(ref.history[0].missed)
    assert first_missed, "2 counters at 80/h must miss the target"
    for i in first_missed:
        assert ref.needed[i] > 2
    assert ref.converged
    # The refined staffing meets the target in every interval on the same seed (search setting).
    check = run(
        with_updates(s, {"counters.staffed": list(ref.needed), "cross_sell.policy": {"mode": "never"}}),
        replications=30,
        seed=5,
    )
    svc = interval_service(check, s, t)
    assert (svc["service_level_mean"].fillna(1.0) >= 0.8).all()


def test_refinement_lowers_staff_where_there_is_room() -> None:
    s = small()
    high = Requirement("erlang_a", False, (12,) * 6, 12, tuple(s.interval_labels))
    ref = refine_requirement(
        s, ServiceTarget(0.8), start=high, replications=30, seed=5, max_iterations=20, max_replications=120
    )
    assert sum(ref.needed) < 12 * 6
    assert any(step.lowered for step in ref.history)


def test_refinement_marks_an_impossible_interval() -> None:
    s = small(**{"counters.physical": 3, "counters.staffed": 3})
    ref = refine_requirement(s, ServiceTarget(0.9), replications=20, seed=5, max_iterations=6)
    assert ref.over_capacity, "80/h needs more than 3 counters for 90% within 5 min"
    assert all(ref.needed[i] == 4 for i in ref.over_capacity)


def test_optimize_day_end_to_end() -> None:
    s = small()
    plan = optimize_day(
        s, ServiceTarget(0.8), replications=100, search_replications=20, time_limit_s=10, thresholds=(2, 6)
    )
    assert plan.status == "OPTIMAL"
    assert plan.verification.replications == 100
    staffed = plan.scenario.staffed_schedule().tolist()
    assert staffed == [max(v, 1) for v in plan.roster.staffed]
    assert max(staffed) <= 12
    # The scenario carries the pitch policy matching the per-interval decisions.
    pol = plan.scenario.cross_sell.policy
    if all(plan.roster.pitch):
        assert pol.mode == "always"
    elif not any(plan.roster.pitch):
        assert pol.mode == "never"
    else:
        assert pol.mode == "windows" and list(pol.suspend) == list(plan.pitch_windows)
        assert plan.pitch_rule == "no pitches " + ", ".join(plan.pitch_windows)
    data = json.loads(json.dumps(plan.to_json()))
    for key in (
        "status",
        "objective",
        "bound",
        "gap",
        "staff_hours",
        "staff_cost",
        "pitch_windows",
        "shifts",
        "intervals",
        "verification",
    ):
        assert key in data
    assert len(data["intervals"]) == 6
    for row in data["intervals"]:
        assert set(row) >= {"start", "required", "staffed", "pitch", "service_level"}
        assert set(row["service_level"]) == {"mean", "ci_low", "ci_high"}
    assert data["staff_cost"] == pytest.approx(data["staff_hours"] * 40)
    assert set(plan.frames()) >= {"roster", "plan", "verification"}
    assert plan.policies is not None and set(plan.policies["stage"]) == {"screen", "final"}


def test_optimize_day_impossible_ask_explained() -> None:
    s = small(**{"counters.physical": 3, "counters.staffed": 3})
    plan = optimize_day(
        s, ServiceTarget(0.9), pitch="never", search_replications=10, replications=100, tune_threshold=False
    )
    assert plan.roster.feasible
    assert any("the hall has 3" in e for e in plan.explanation)
    assert sum(plan.roster.shortfall) > 0
    assert plan.verification.missed  # and the simulation confirms the miss by name
    assert all(re_ok(label) for label in plan.verification.missed)


def re_ok(label: str) -> bool:
    import re

    return re.fullmatch(r"\d\d:\d\d-\d\d:\d\d", label) is not None


def test_cli_json_and_out(tmp_path: Path) -> None:
    path = tmp_path / "small.yaml"
    from simulation import scenario_to_yaml

    path.write_text(scenario_to_yaml(small()))
    out = tmp_path / "out"
    res = CliRunner().invoke(
        optimize,
        [
            str(path),
            "--format",
            "json",
            "--search-replications",
            "10",
            "--replications",
            "100",
            "--time-limit",
            "5",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["status"] == "OPTIMAL" and len(data["intervals"]) == 6
    for name in ("roster.csv", "plan.csv", "verification.csv", "plan.json", "scenario.yaml"):
        assert (out / name).exists()
    again = scenario_from_yaml((out / "scenario.yaml").read_text(), "scenario.yaml")
    assert again.staffed_schedule().tolist() == [r["staffed"] if r["staffed"] > 0 else 1 for r in data["intervals"]]


def test_cli_bad_staff_file_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "small.yaml"
    from simulation import scenario_to_yaml

    path.write_text(scenario_to_yaml(small()))
    staff = tmp_path / "team.yaml"
    staff.write_text("staff:\n  - {name: Ana, max_hours: lots}\n")
    res = CliRunner().invoke(optimize, [str(path), "--staff", str(staff), "--format", "json"])
    assert res.exit_code == 2
    assert "team.yaml: staff[0](Ana).max_hours: must be a number of hours, got 'lots'" in res.stderr
    assert res.stdout == ""


def test_cli_bad_target_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "small.yaml"
    from simulation import scenario_to_yaml

    path.write_text(scenario_to_yaml(small()))
    res = CliRunner().invoke(optimize, [str(path), "--service-level", "1.5"])
    assert res.exit_code == 2
    assert "1.5" in res.stderr


def test_pitch_always_and_never_modes() -> None:
    s = small()
    always = optimize_day(s, ServiceTarget(0.8), pitch="always", search_replications=10, tune_threshold=False)
    never = optimize_day(s, ServiceTarget(0.8), pitch="never", search_replications=10, tune_threshold=False)
    assert all(always.roster.pitch) and always.scenario.cross_sell.policy.mode == "always"
    assert not any(never.roster.pitch) and never.scenario.cross_sell.policy.mode == "never"
    assert never.pitch_rule == "no pitches all day"
    # Pitching lengthens service (3 more minutes for 90% of customers): it needs more counter-hours.
    assert sum(always.roster.required) > sum(never.roster.required)


def test_verification_repair_fixes_an_analytic_plan_that_misses() -> None:
    """Stationary Erlang A misses the month-end afternoon; the repair rounds add counters where the
    100-replication verification misses until it no longer does (seeded, so the outcome is fixed)."""
    s = load_scenario(REPO / "scenarios" / "telecom_month_end.yaml")
    t = ServiceTarget(0.8)
    raw = optimize_day(s, t, method="erlang_a", pitch="never", tune_threshold=False, repair_rounds=0)
    fixed = optimize_day(s, t, method="erlang_a", pitch="never", tune_threshold=False, repair_rounds=3)
    assert raw.verification.missed, "stationary Erlang A should miss the carry-over peak on this hall"
    assert len(fixed.verification.missed) < len(raw.verification.missed)
    assert fixed.roster.staff_hours > raw.roster.staff_hours
    assert any("asked for one more counter" in e for e in fixed.explanation)


def test_cli_week_from_seven_scenarios(tmp_path: Path) -> None:
    from simulation import scenario_to_yaml

    paths = []
    for d in range(7):
        p = tmp_path / f"day{d}.yaml"
        p.write_text(scenario_to_yaml(small(**{"demand.scale": 0.8 + 0.05 * d})))
        paths.append(str(p))
    staff = tmp_path / "team.yaml"
    staff.write_text("staff:\n" + "".join(f"  - {{name: P{i}, max_hours: 20, max_days: 5}}\n" for i in range(12)))
    out = tmp_path / "out"
    args = [*paths, "--staff", str(staff), "--format", "json", "--search-replications", "10", "--replications", "30"]
    args += ["--time-limit", "3"]
    res = CliRunner().invoke(optimize, [*args, "--out", str(out)])
    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["status"] in ("OPTIMAL", "FEASIBLE") and data["gap"] is not None
    assert {s["day"] for s in data["shifts"]} <= {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
    assert len(data["intervals"]) == 7 * 6
    assert len(list(out.glob("scenario_day*.yaml"))) == 7
    roster = (out / "roster.csv").read_text().splitlines()
    assert roster[0].startswith("name,day,start,end")
    bad = CliRunner().invoke(optimize, [paths[0], paths[1], "--staff", str(staff)])
    assert bad.exit_code == 2 and "seven day scenarios" in bad.stderr


def _final_policies(w_margin: float, q_margin: float, w_missed: int, q_missed: int) -> pd.DataFrame:
    row = {"stage": "final", "replications": 100, "service_level_ci_low": 0.0, "service_level_ci_high": 1.0}
    return pd.DataFrame(
        [
            {
                **row,
                "policy": "windows (optimized)",
                "pitch_margin": w_margin,
                "missed_intervals": w_missed,
                "service_level": 0.906,
            },
            {
                **row,
                "policy": "queue_threshold 2",
                "pitch_margin": q_margin,
                "missed_intervals": q_missed,
                "service_level": 0.924,
            },
        ]
    )


def test_policy_verdict_never_contradicts_its_own_figures() -> None:
    from optimizer.plan import policy_verdict

    # The threshold earns more and misses no more intervals: it is the better policy.
    assert policy_verdict(_final_policies(1006, 1129, 0, 0)).startswith("queue_threshold 2 earns more at the same")
    # It earns more but misses more intervals: said as it is, and the windows stand.
    v = policy_verdict(_final_policies(1006, 1129, 0, 2))
    assert v.startswith("queue_threshold 2 earns more but misses the target in 2 interval(s)") and "windows stand" in v
    # The windows earn more.
    assert policy_verdict(_final_policies(1200, 1129, 0, 0)).startswith("the pitch windows earn more")


def test_impossible_ask_keeps_the_peak_staffed_and_beats_the_flat_roster() -> None:
    # Issue 14: 99% within 1 minute in a hall of 6 is impossible all day. A linear shortfall penalty
    # let the solver leave the peak with one counter; the harm-weighted penalty spreads what the
    # shift rules cannot cover over the quiet ends. The afternoon peak (14:00-16:00) keeps most of the
    # hall, and the day's simulated service level is at least the simple 3 + 3 early/late roster's
    # with the same hours (same seed: common random numbers, so the comparison is paired).
    s = with_updates(
        load_scenario(REPO / "scenarios" / "telecom_month_end.yaml"), {"counters.staffed": 6, "counters.physical": 6}
    )
    plan = optimize_day(
        s, ServiceTarget(0.99, target_wait_min=1), search_replications=10, replications=30, tune_threshold=False
    )
    peak = [i for i, label in enumerate(s.interval_labels) if "14:00" <= label < "16:00"]
    assert min(plan.roster.staffed[i] for i in peak) >= 5
    alt = plan.alternative
    assert alt is not None and alt.staff_hours <= plan.roster.staff_hours
    assert plan.verification.kpis["service_level"]["mean"] >= alt.verification.kpis["service_level"]["mean"]
    assert any("expected to wait longer than 1 min or leave" in e for e in plan.explanation)
    # Every short interval is named on its own line, with staffed and short-by.
    import re

    named = [e for e in plan.explanation if re.match(r"\d\d:\d\d-\d\d:\d\d needs \d+ counters.*short by \d+", e)]
    assert len(named) == sum(1 for v in plan.roster.shortfall if v > 0)
    # A repair the shift rules cannot honour is said once, not repeated round after round.
    repairs = [e for e in plan.explanation if e.startswith("after verification")]
    assert len(repairs) == len(set(repairs))


def test_cli_accepts_a_hall_smaller_than_todays_staffing(tmp_path: Path) -> None:
    # The file staffs 4 all day; --set counters.physical=3 asks about a smaller hall. Today's
    # staffing is what the plan replaces, so the optimizer accepts it and says so; `storeq run`'s
    # validation (staffed > physical) is unchanged.
    from simulation import ScenarioError, scenario_to_yaml

    path = tmp_path / "small.yaml"
    path.write_text(scenario_to_yaml(small()))
    res = CliRunner().invoke(
        optimize,
        [str(path), "--set", "counters.physical=3", "--method", "erlang_a", "--replications", "2", "--format", "json"],
    )
    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    assert max(r["staffed"] for r in data["intervals"]) <= 3
    assert "capped at 3" in data["explanation"][0]
    with pytest.raises(ScenarioError, match=r"counters\.physical"):
        load_scenario(path, ["counters.physical=3"])


def test_descent_is_leaner_and_holds_on_another_seed() -> None:
    # The descent removes counters one interval at a time (common random numbers) while the interval
    # and its neighbours are shown to meet the target by their CIs; it must never need more than the
    # coarse search, and its staffing must still meet the target in every interval when re-simulated
    # with a different seed (400 replications: worst interval 0.814, standard error 0.009, 1.5 clear;
    # at 100 replications its standard error, 0.02, would be as large as the margin).
    s = small()
    t = ServiceTarget(0.8)
    coarse = refine_requirement(s, t, replications=20, seed=5, descent=False)
    lean = refine_requirement(s, t, replications=20, seed=5)
    assert sum(lean.needed) <= sum(coarse.needed)
    assert any(step.lowered for step in lean.history[coarse.iterations :]) or lean.needed == coarse.needed
    trial = with_updates(s, {"counters.staffed": list(lean.needed), "cross_sell.policy": {"mode": "never"}})
    svc = interval_service(run(trial, replications=400, seed=99), trial, t)
    assert (svc["service_level_mean"].fillna(1.0) >= 0.8).all()


def _one_at_a_time_minimum(s: object, t: ServiceTarget, start: tuple[int, ...], reps: int, seed: int) -> list[int]:
    """A local minimum found independently of the descent (benchmarks/bench_optimizer.py's rule): add
    a counter wherever an interval's mean misses, then remove one counter at a time, keeping a
    removal when every interval's mean still meets the target (``reps`` replications of ``seed``)."""
    base = with_updates(s, {"cross_sell.policy": {"mode": "never"}, "store.target_wait_min": t.wait_for(s)})

    def levels(st: list[int]) -> pd.Series:
        trial = with_updates(base, {"counters.staffed": st})
        return interval_service(run(trial, replications=reps, seed=seed), trial, t)["service_level_mean"].fillna(1.0)

    staff = list(start)
    sl = levels(staff)
    while (sl < t.service_level).any():
        staff = [x + int(v < t.service_level) for x, v in zip(staff, sl, strict=True)]
        sl = levels(staff)
    changed = True
    while changed:
        changed = False
        for i in sorted(range(len(staff)), key=lambda k: -sl[k]):
            trial = staff.copy()
            trial[i] -= 1
            if trial[i] >= 1 and ((got := levels(trial)) >= t.service_level).all():
                staff, sl, changed = trial, got, True
    return staff


# The small hall on a 15-minute grid (12 intervals, about 50 counter-intervals in all), so that 2%
# of the requirement is about one counter-interval.
FINE = {"store.interval_min": 15, "demand.arrivals_per_hour": [30, 30, 50, 50, 80, 80, 80, 80, 50, 50, 30, 30]}


@pytest.mark.slow  # 15-40 s: the independent minimum alone is ~15 simulations of 200 days
def test_descent_is_within_two_percent_of_a_one_at_a_time_minimum() -> None:
    # Issue 14: the refined requirement must be within about 2% of a local minimum found independently
    # (one counter at a time, means over 200 replications of seed 6, which the search never uses)
    # while its own plan still meets the target in every interval re-simulated on seed 7. Tolerance:
    # 2% of the minimum, rounded up to whole counter-intervals (one here). The minimum judges on means,
    # so it is if anything optimistic: the descent keeps a removal only where the CI shows it holds.
    s = small(**FINE)
    t = ServiceTarget(0.8)
    lean = refine_requirement(s, t, replications=20, seed=5)
    minimum = _one_at_a_time_minimum(s, t, lean.needed, reps=200, seed=6)
    assert sum(lean.needed) <= math.ceil(1.02 * sum(minimum)), (lean.needed, minimum)
    # 400 replications: the standard error of an interval's service level is about 0.01 here (worst
    # interval 0.84, four clear), so a plan at the target by its CI is not called a miss by the
    # re-simulation's own noise.
    trial = with_updates(s, {"counters.staffed": list(lean.needed), "cross_sell.policy": {"mode": "never"}})
    svc = interval_service(run(trial, replications=400, seed=7), trial, t)
    assert (svc["service_level_mean"].fillna(1.0) >= 0.8).all(), svc["service_level_mean"].round(3).tolist()


def test_days_meeting_needs_more_staff_than_the_mean_when_days_vary() -> None:
    # With day_cv = 0.3 a busy day (demand ×1.3 or more) comes about one day in six: the mean target
    # is met by a staffing that misses on those days, so asking each interval to meet the target on
    # 90% of days must add counters somewhere, and never remove any (same seed, common random numbers).
    s = small(**{"demand.day_cv": 0.3})
    mean = refine_requirement(s, ServiceTarget(0.8), replications=20, seed=5, descent=False)
    days = refine_requirement(s, ServiceTarget(0.8, days_meeting=0.9), replications=20, seed=5, descent=False)
    assert sum(days.needed) > sum(mean.needed)
    assert all(d >= m for d, m in zip(days.needed, mean.needed, strict=True))
    # Verification reports both: the mean service level and the share of days meeting it.
    trial = with_updates(s, {"counters.staffed": list(days.needed), "cross_sell.policy": {"mode": "never"}})
    svc = interval_service(run(trial, replications=20, seed=5), trial, ServiceTarget(0.8, days_meeting=0.9))
    assert (svc["days_meeting_mean"] >= 0.9).all()
    assert {"service_level_mean", "days_meeting_ci_low", "days_meeting_ci_high"} <= set(svc.columns)




def test_erlang_with_days_meeting_sizes_for_that_quantile_of_the_day_factor() -> None:
    from scipy.stats import gamma

    from optimizer.requirement import day_factor_quantile

    s = small(**{"demand.day_cv": 0.3})
    t = ServiceTarget(0.8, days_meeting=0.9)
    # The day factor is gamma with mean 1 and CV 0.3: shape 1/0.09, scale 0.09 (scipy, not storeq's own).
    q = day_factor_quantile(s, t)
    assert q == pytest.approx(gamma.ppf(0.9, a=1 / 0.09, scale=0.09), rel=1e-9)
    # Metamorphic: sizing for 90% of days is sizing the mean day of a demand scaled by that quantile.
    for method in ("erlang_a", "erlang_c_lagged"):
        days = analytic_requirement(s, t, method)  # type: ignore[arg-type]
        scaled = analytic_requirement(with_updates(s, {"demand.scale": q}), ServiceTarget(0.8), method)  # type: ignore[arg-type]
        assert days.needed == scaled.needed and days.day_factor == q
    mean = analytic_requirement(s, ServiceTarget(0.8), "erlang_a")
    more = analytic_requirement(s, ServiceTarget(0.8, days_meeting=0.97), "erlang_a")
    days = analytic_requirement(s, t, "erlang_a")
    assert sum(mean.needed) < sum(days.needed) <= sum(more.needed)
    assert all(m <= d <= x for m, d, x in zip(mean.needed, days.needed, more.needed, strict=True))
    # Without day-to-day spread, or without the share, the mean day as before; a share of 1 is finite.
    assert analytic_requirement(small(), t, "erlang_a").needed == analytic_requirement(small(), ServiceTarget(0.8), "erlang_a").needed
    assert day_factor_quantile(s, ServiceTarget(0.8)) == 1.0
    assert math.isfinite(day_factor_quantile(s, ServiceTarget(0.8, days_meeting=1.0)))


BIG = {
    "name": "Big hall",
    "store": {"open": "09:00", "close": "13:00", "interval_min": 60, "target_wait_min": 2},
    "demand": {"arrivals_per_hour": [400, 600, 600, 400], "day_cv": 0.2},
    "segments": [{"name": "regular", "share": 1.0, "priority": 1}],
    "transactions": [{"name": "quick", "share": 1.0, "counter_time": {"dist": "exponential", "mean": 3}}],
    "counters": {"staffed": 30, "physical": 60},
    "simulation": {"replications": 30, "seed": 3},
}


@pytest.mark.slow
def test_erlang_sized_for_90_percent_of_days_meets_on_90_percent_of_simulated_days() -> None:
    # 400-600 customers an hour, hour-long intervals: within-day noise is small beside day_cv 0.2, so
    # the steady-state argument holds. 200 simulated days per interval: the share's standard error at
    # 0.9 is sqrt(0.9 * 0.1 / 200) = 0.021, so each interval must reach 0.9 - 3 SE = 0.836 (it
    # measured 0.925-0.97). Sized for the mean day, the same store meets on well under 80% of days
    # in every interval (measured 0.56-0.72): the busy days' queues are what the mean hides.
    s = scenario_from_dict(BIG, "big")
    judge = ServiceTarget(0.8, days_meeting=0.9)
    shares = {}
    for label, t in (("mean", ServiceTarget(0.8)), ("days", judge)):
        req = analytic_requirement(s, t, "erlang_c")
        trial = with_updates(s, {"counters.staffed": list(req.needed)})
        shares[label] = interval_service(run(trial, replications=200, seed=11), trial, judge)["days_meeting_mean"]
    assert (shares["days"] >= 0.9 - 3 * math.sqrt(0.9 * 0.1 / 200)).all(), shares["days"].tolist()
    assert (shares["mean"] < 0.8).all(), shares["mean"].tolist()


def test_two_groups_staffed_as_worked_by_hand() -> None:
    # Two groups that never help each other: each is its own queue.
    # payments: 30/h, 1 minute each, load 0.5 — one counter (M/D/1 at 50%: waits past 5 min are rare).
    # general: 30/h, 6 minutes exponential, load 3 Erlangs; target 70% within 5 min. Erlang C:
    #   c = 3 is unstable (load = servers); c = 4: P(wait) = 0.51, P(W > 5) = 0.51 · e^(−(4−3)·5/6) = 0.22
    #   → 78% ≥ 70%; so 4 counters in steady state (hours 2 and 3). The first hour starts from an
    #   empty hall, so 3 may already do there. Every shift is 1-3 h on the hour, so the cheapest
    #   roster staffs exactly that: 1 payments person 09-12 and 4 (or 3 + 1) general.
    s = scenario_from_dict(TWO_GROUPS, "two")
    plan = optimize_day(s, ServiceTarget(0.7), search_replications=20, replications=30, tune_threshold=False)
    by_name = {g.name: g for g in plan.groups}
    assert by_name["payments"].requirement.needed == (1, 1, 1)
    assert by_name["general"].requirement.needed[1:] == (4, 4)
    assert by_name["general"].requirement.needed[0] in (3, 4)
    assert by_name["payments"].roster.staffed == (1, 1, 1)
    assert by_name["general"].roster.staffed[1:] == (4, 4)
    assert plan.roster.staff_hours == pytest.approx(3 + sum(by_name["general"].requirement.needed))
    assert not by_name["payments"].missed and not by_name["general"].missed
    data = plan.to_json()
    assert [g["name"] for g in data["groups"]] == ["payments", "general"]
    assert {sh["group"] for sh in data["shifts"]} == {"payments", "general"}


def test_cli_days_meeting_reported_beside_the_mean(tmp_path: Path) -> None:
    from simulation import scenario_to_yaml

    path = tmp_path / "small.yaml"
    path.write_text(scenario_to_yaml(small(**{"demand.day_cv": 0.2})))
    args = [str(path), "--method", "erlang_a", "--replications", "10", "--days-meeting", "0.9", "--format", "json"]
    res = CliRunner().invoke(optimize, args)
    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["target"]["days_meeting"] == 0.9
    for row in data["intervals"]:
        share = row["share_of_days_meeting"]
        assert 0.0 <= share <= 1.0
        # An interval meets only when both hold: the mean service level and the share of days.
        if row["meets_target"]:
            assert share >= 0.9 and row["service_level"]["mean"] >= 0.8
    bad = CliRunner().invoke(optimize, [str(path), "--days-meeting", "1.5"])
    assert bad.exit_code == 2


def test_workload_follows_greeter_windows() -> None:
    """A greeter at the door 14:00-18:00 sends more top-ups to the kiosks only then: the counter load
    equals the no-greeter store's before 14:00 and the all-day greeter's from 14:00 on."""
    hall = load_scenario(REPO / "scenarios" / "telecom_month_end.yaml")
    without = workload(with_updates(hall, {"kiosks.greeter": False})).counter_rate_per_min
    all_day = workload(with_updates(hall, {"kiosks.greeter": True})).counter_rate_per_min
    windows = workload(with_updates(hall, {"kiosks.greeter": ["14:00-18:00"]})).counter_rate_per_min
    labels = list(hall.interval_labels)
    i = labels.index("14:00")
    assert all_day[0] < without[0]  # the greeter does move customers off the counters
    assert list(windows[:i]) == list(without[:i])
    assert list(windows[i:]) == list(all_day[i:])


@pytest.mark.parametrize("groups", [False, True], ids=["one_pool", "counter_groups"])
def test_a_day_without_customers_rosters_nobody(groups: bool) -> None:
    """A shut day (no customers: weekday factor 0) gets no staff: the rules' minimum on duty (1 in
    both stores) is not applied, the explanation says why, and the plan is still verified (simulated
    with one counter per group so its scenario loads)."""
    base = scenario_from_dict(TWO_GROUPS, "two") if groups else small()
    shut = with_updates(base, {"demand.scale": 0.0})
    plan = optimize_day(shut, ServiceTarget(0.8), method="erlang_a", replications=5, time_limit_s=5)
    assert plan.roster.staff_hours == 0 and sum(plan.roster.staffed) == 0
    assert any("no customers expected this day (the store is shut)" in e for e in plan.explanation)
    assert plan.verification.missed == ()


def test_cli_table_says_where_each_group_fares_worst(tmp_path: Path) -> None:
    """The group lines of the table name the misses and how close the rest come: each group's lowest
    service level and share of days meeting the target, with their intervals, equal to the JSON's."""
    from simulation import scenario_to_yaml

    path = tmp_path / "two.yaml"
    path.write_text(scenario_to_yaml(scenario_from_dict(TWO_GROUPS, "two")))
    args = [str(path), "--method", "erlang_a", "--replications", "20", "--time-limit", "5", "--days-meeting", "0.8"]
    table = CliRunner().invoke(optimize, [*args, "--format", "table"])
    data = json.loads(CliRunner().invoke(optimize, [*args, "--format", "json"]).stdout)
    assert table.exit_code == 0, table.stderr
    for g in data["groups"]:
        low = min(g["intervals"], key=lambda r: r["share_of_days_meeting"])
        line = next(x for x in table.stdout.splitlines() if x.startswith(f"Group {g['name']}:"))
        assert f"lowest share of days meeting it {low['share_of_days_meeting']:.1%} at {low['start']}" in line


def test_share_of_intervals_meeting_counts_the_whole_target() -> None:
    """The share of intervals meeting agrees with the intervals named as missing: an interval whose
    mean service level passes but whose share of days (or abandonment) fails counts as missing (the
    CLI said '100% of intervals meet the target; missed: 12:45-13:00, ...' on the bank week)."""
    from optimizer.plan import Verification

    frame = pd.DataFrame(
        {
            "service_level_mean": [0.95, 0.90, math.nan, 0.85],
            "service_level_ci_high": [0.97, 0.93, math.nan, 0.90],
            "meets": [True, False, True, False],
            "clearly_misses": [False, True, False, False],
        }
    )
    v = Verification(100, 1, 0.8, frame, ("10:00-11:00", "12:00-13:00"), ("10:00-11:00",), {})
    assert v.share_meeting == pytest.approx(1 / 3)  # 3 intervals with customers, one meets
    assert v.share_within_ci == pytest.approx(2 / 3)
    # A frame made without the whole-target columns is judged on the service level alone.
    bare = Verification(100, 1, 0.88, frame.drop(columns=["meets", "clearly_misses"]), (), (), {})
    assert bare.share_meeting == pytest.approx(2 / 3) and bare.share_within_ci == pytest.approx(1.0)


def test_cli_staff_file_without_the_stores_groups(tmp_path: Path) -> None:
    """A staff file in which nobody names one of a group store's counter groups is refused at once
    (exit 2, naming the groups), not planned into an empty week after minutes of simulation; on a
    store without groups, people's `group:` is ignored and the plan says so."""
    from simulation import scenario_to_yaml

    two = tmp_path / "two.yaml"
    two.write_text(scenario_to_yaml(scenario_from_dict(TWO_GROUPS, "two")))
    staff = tmp_path / "team.yaml"
    staff.write_text("staff:\n  - {name: Ana, max_hours: 20}\n  - {name: Bo, max_hours: 20, group: tellers}\n")
    res = CliRunner().invoke(optimize, [str(two), "--staff", str(staff), "--format", "json"])
    assert res.exit_code == 2 and res.stdout == ""
    assert "team.yaml: staff: nobody has a group: naming one of this store's counter groups (payments, general)" in res.stderr
    assert "(the file names tellers)" in res.stderr

    one = tmp_path / "small.yaml"
    one.write_text(scenario_to_yaml(small()))
    staff.write_text("staff:\n" + "".join(f"  - {{name: P{i}, max_hours: 20, group: tellers}}\n" for i in range(8)))
    args = ["--staff", str(staff), "--method", "erlang_a", "--replications", "5", "--time-limit", "5", "--format", "json"]
    res = CliRunner().invoke(optimize, [str(one), *args])
    assert res.exit_code == 0, res.stderr
    assert any("gives counter groups (tellers) but this store has none" in e for e in json.loads(res.stdout)["explanation"])


def test_a_smaller_hall_caps_each_groups_staffing_to_load() -> None:
    """`--set counters.physical=3` on a group store (today 1 payments + 4 general counters) is a fair
    question for the optimizer: today's staffing is the plan being replaced, so each group is capped
    at its share of the smaller hall (largest first, never below one) and the scenario loads."""
    from optimizer.plan import staffing_to_replace

    base = scenario_from_dict(TWO_GROUPS, "two")
    upd, notes = staffing_to_replace(base, {"counters.physical": 3})
    assert [g["staffed"] for g in upd["counters.groups"]] == [[1, 1, 1], [2, 2, 2]]
    assert with_updates(base, upd).counters.physical == 3
    assert notes and "capped at 3" in notes[0]
    # Fewer counters than groups with customers: left to the loader, which refuses it by name.
    assert staffing_to_replace(base, {"counters.physical": 1}) == ({"counters.physical": 1}, [])
