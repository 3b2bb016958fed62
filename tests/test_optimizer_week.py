"""Named-staff week roster: tiny weeks solved by hand, rest and fairness rules, the 15-person target."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import replace
from pathlib import Path

import pytest

from optimizer.io import load_staff, staff_from_text
from optimizer.requirement import ServiceTarget, analytic_requirement
from optimizer.roster import RosterInput
from optimizer.shifts import build_grid, build_templates
from optimizer.week import (
    _day_alone,
    _day_alone_bound,
    _day_pair_search,
    absence_bounds,
    build_week_model,
    day_bounds,
    solve_week_roster,
)
from optimizer.workload import workload
from simulation import load_scenario, scenario_from_dict, with_updates

REPO = Path(__file__).resolve().parent.parent

# 09:00-13:00, hourly grid, only 4 h shifts (each ends at closing, so each is a closing shift).
TINY = {
    "name": "tiny",
    "store": {"open": "09:00", "close": "13:00", "interval_min": 60},
    "demand": {"arrivals_per_hour": 10},
    "transactions": [{"name": "t", "share": 1.0, "counter_time": {"dist": "exponential", "mean": 3}}],
    "counters": {"staffed": 1, "physical": 3},
    "costs": {"staff_hour": 10},
    "shifts": {"lengths_hours": [4], "start_step_min": 60, "min_on_duty": 0},
}


def _day(need: list[int]) -> RosterInput:
    scn = scenario_from_dict(TINY, "tiny")
    return RosterInput(
        grid=build_grid(scn),
        templates=tuple(build_templates(scn)),
        need_no_pitch=tuple(need),
        need_pitch=tuple(need),
        pitch_value=(0.0,) * len(need),
        physical=3,
        min_on_duty=0,
        cost_per_hour=10.0,
        allow_pitch=False,
    )


def test_fair_closings_by_hand() -> None:
    # Two days, one counter all day each day: two 4 h shifts, cost 80. Bo alone could work both
    # (8 h <= 20 h), but then closings are 2 vs 0, a spread of 2 costing 2 x 10; splitting the days
    # gives spread 0, so the optimum is 80 with one shift each.
    staff = staff_from_text("staff:\n  - {name: Ana, max_hours: 20}\n  - {name: Bo, max_hours: 20}\n", "s.yaml")
    r = solve_week_roster([_day([1, 1, 1, 1]), _day([1, 1, 1, 1])], staff, time_limit_s=10, workers=1)
    assert r.status == "OPTIMAL"
    assert r.objective == pytest.approx(80.0)
    assert r.closings_by_person == {"Ana": 1, "Bo": 1}
    assert r.staffed == ((1, 1, 1, 1), (1, 1, 1, 1))
    assert {a.day for a in r.assignments} == {0, 1}


def test_day_bounds_by_hand_and_valid_for_the_week() -> None:
    # Each day alone: one counter needs one 4 h shift at 10/h = 40.00, two counters 80.00 (cents).
    # The week adds the rest rule (Bo cannot work both days), so its objective is far above the sum
    # of the day bounds, and with pitching free the reported bound is at least that sum.
    text = "min_rest_hours: 21\nstaff:\n  - {name: Bo, max_hours: 20}\n  - {name: Cy, max_hours: 20}\n"
    staff = staff_from_text(text, "s.yaml")
    assert day_bounds([_day([1, 1, 1, 1]), _day([2, 2, 2, 2])], staff, [0, 1], 5, 1, 1) == [4000, 8000]
    pitch_day = replace(_day([1, 1, 1, 1]), need_pitch=(2, 2, 2, 2), pitch_value=(30.0,) * 4, allow_pitch=True)
    week = [pitch_day, pitch_day]
    bounds = day_bounds(week, staff, [0, 1], 5, 1, 1)
    r = solve_week_roster(week, staff, time_limit_s=10, workers=1, pitch_mode="joint")
    assert r.objective is not None and r.bound is not None
    assert all(b is not None for b in bounds)
    assert sum(b for b in bounds if b is not None) / 100 <= r.bound + 1e-6 <= r.objective + 2e-6


def test_absence_bounds_by_hand_and_valid_for_the_week() -> None:
    # Two days needing 2 counters all day; Bo may work both days, Cy only one (max_days 1). Each day
    # alone: both work, 80.00. Without Cy: one 4 h shift (40.00) and one counter short for four
    # hours at the week's penalty (4 h x 10/h x 100 x 1000 = 4,000,000 cents each). Cy is the only
    # person the week cannot give every available day, so only Cy's days get absence bounds.
    text = "staff:\n  - {name: Bo, max_hours: 20}\n  - {name: Cy, max_hours: 20, max_days: 1}\n"
    staff = staff_from_text(text, "s.yaml")
    days = [_day([2, 2, 2, 2]), _day([2, 2, 2, 2])]
    assert day_bounds(days, staff, [0, 1], 5, 1, 1) == [8000, 8000]
    short_day = 4000 + 4 * 4_000_000
    assert absence_bounds(days, staff, [0, 1], 240, 5, 1, 1) == {(0, 1): short_day, (1, 1): short_day}
    # The week: one day is short whichever Cy works, so the optimum is Bo's two shifts, Cy's one,
    # four short counter-intervals and a closing spread of one (every shift closes; 1 x 10.00).
    r = solve_week_roster(
        days,
        staff,
        time_limit_s=10,
        workers=1,
        pitch_mode="joint",
        cuts=(day_bounds(days, staff, [0, 1], 5, 1, 1), absence_bounds(days, staff, [0, 1], 240, 5, 1, 1)),
    )
    assert r.status == "OPTIMAL"
    assert r.objective == pytest.approx((3 * 4000 + 4 * 4_000_000 + 1000) / 100)
    assert sum(sum(d) for d in r.shortfall) == 4


# 09:00-13:00, hourly grid, 2 h and 4 h shifts: a small pitch week with real choices. Weekly hours
# and days are tight, so the week's optimum (162.50) is above the sum of its days' own optima (152.50):
# the week's coupling, not only each day, must be proven.
SMALL_PITCH_STAFF = """
staff:
  - {name: Ana, min_hours: 8, max_hours: 8, max_days: 2}
  - {name: Bo, min_hours: 4, max_hours: 6, max_days: 2}
  - {name: Cy, max_hours: 4, max_days: 2, availability: {mon: ["09:00-13:00"], tue: ["11:00-13:00"], wed: ["09:00-13:00"]}}
  - {name: Di, max_hours: 4, availability: {mon: ["09:00-11:00"], tue: ["09:00-13:00"], wed: ["11:00-13:00"]}}
"""


def _pitch_day(need: list[int], need_pitch: list[int], value: list[float]) -> RosterInput:
    scn = scenario_from_dict(
        {**TINY, "shifts": {"lengths_hours": [2, 4], "start_step_min": 60, "min_on_duty": 0}}, "tiny"
    )
    return RosterInput(
        grid=build_grid(scn),
        templates=tuple(build_templates(scn)),
        need_no_pitch=tuple(need),
        need_pitch=tuple(need_pitch),
        pitch_value=tuple(value),
        physical=3,
        min_on_duty=0,
        cost_per_hour=10.0,
        allow_pitch=True,
    )


def _small_pitch_week() -> list[RosterInput]:
    return [
        _pitch_day([1, 1, 2, 1], [2, 2, 3, 2], [12.0, 8.0, 15.0, 4.0]),
        _pitch_day([1, 2, 2, 1], [2, 3, 3, 2], [6.0, 14.0, 14.0, 9.0]),
        _pitch_day([1, 1, 1, 1], [2, 2, 2, 2], [11.0, 11.0, 3.0, 12.0]),
    ]


def test_absence_bounds_are_the_day_without_that_person_once_per_kind() -> None:
    # Two people who may work the same shifts on a day are the same kind there: the day without
    # either is one model, solved once. Each bound must equal the day solved without that person.
    text = "staff:\n  - {name: Bo, max_hours: 20, max_days: 1}\n  - {name: Cy, max_hours: 20, max_days: 1}\n"
    staff = staff_from_text(text, "s.yaml")
    days = [_day([2, 2, 2, 2]), _day([1, 1, 1, 1]), _day([2, 2, 2, 2])]
    got = absence_bounds(days, staff, [0, 1, 2], 240, 5, 1, 1)
    assert set(got) == {(d, p) for d in range(3) for p in range(2)}
    for (d, p), bound in got.items():
        others = [q for q in staff.staff if q is not staff.staff[p]]
        assert bound == _day_alone_bound(_day_alone(days[d], others, d, 240), 5, 1, 1)


def test_pitch_week_bound_never_above_the_exact_optimum() -> None:
    """The two-phase pitch week's reported bound (the joint model's with day and absence cuts, or the
    sum of the day bounds) is a valid lower bound: at most the optimum of the same small week solved
    exactly (the joint model without cuts, to OPTIMAL); its objective is a real roster's, so at least
    the optimum; the day search never returns a worse roster than it started from."""
    staff = staff_from_text(SMALL_PITCH_STAFF, "s.yaml")
    week = _small_pitch_week()
    exact = solve_week_roster(week, staff, time_limit_s=20, workers=1, relative_gap=0.0, pitch_mode="joint")
    assert exact.status == "OPTIMAL" and exact.objective is not None
    assert sum(b for b in day_bounds(week, staff, [0, 1, 2], 5, 1, 1) if b is not None) / 100 < exact.objective - 1
    two = solve_week_roster(week, staff, time_limit_s=6, workers=1, relative_gap=0.0)
    assert two.objective is not None and two.bound is not None
    assert two.bound <= exact.objective + 1e-6 <= two.objective + 2e-6
    # The day search alone, from the no-pitch roster with no windows: never worse, never below the optimum.
    flat = solve_week_roster(week, staff, time_limit_s=5, workers=1, pitch_flags=[[False] * 4] * 3)
    assert flat.objective is not None
    wm = build_week_model(week, staff, ["mon", "tue", "wed"], [0, 1, 2], 240)
    searched = _day_pair_search(
        wm, flat.solution_keys, flat.pitch, day_bounds(week, staff, [0, 1, 2], 5, 1, 1), time.perf_counter() + 4, 1, 1
    )
    assert searched is not None
    keys, flags, cents = searched
    assert exact.objective - 1e-6 <= cents / 100 <= flat.objective + 1e-6
    # The roster it returns is a real one: re-solved with its windows fixed, it is worth what it said.
    again = solve_week_roster(week, staff, time_limit_s=5, workers=1, pitch_flags=flags, hint_keys=keys)
    assert again.objective is not None and again.objective <= cents / 100 + 1e-6


def test_fixed_pitch_objective_counts_the_switches_by_hand() -> None:
    # One 4 h shift (40.00) staffs every interval; pitching earns 5.00 an interval; each switch
    # between pitching and not costs a quarter staff-hour (2.50). Windows fixed at on/off/on/off:
    # margin 10.00, three switches 7.50, so the plan is worth 40 - 10 + 7.50 = 37.50, as the joint
    # model prices it (the fixed model has no pitch variables; the constant must carry both parts).
    day = replace(_day([1, 1, 1, 1]), pitch_value=(5.0,) * 4, allow_pitch=True)
    staff = staff_from_text("staff:\n  - {name: Bo, max_hours: 20}\n", "s.yaml")
    flags = [[True, False, True, False]]
    r = solve_week_roster([day], staff, time_limit_s=10, workers=1, pitch_flags=flags)
    assert r.pitch == ((True, False, True, False),)
    assert r.objective == pytest.approx(37.5)
    joint = solve_week_roster([day], staff, time_limit_s=10, workers=1, pitch_mode="joint")
    assert joint.objective == pytest.approx(40 - 20)  # pitching all day: no switch
    assert joint.objective <= r.objective


def test_rest_rule_leaves_a_day_short_and_says_so() -> None:
    # Only Bo works; with 21 h of rest required, 13:00 -> 09:00 next day (20 h) is too short, so
    # Bo works one of the two days and the other is short by 1 counter all day.
    text = "min_rest_hours: 21\nstaff:\n  - {name: Bo, max_hours: 20}\n"
    r = solve_week_roster(
        [_day([1, 1, 1, 1]), _day([1, 1, 1, 1])], staff_from_text(text, "s.yaml"), time_limit_s=10, workers=1
    )
    assert r.status == "OPTIMAL"
    assert len(r.assignments) == 1
    assert sum(sum(d) for d in r.shortfall) == 4
    assert any("needs 1 counters, has 0" in e for e in r.explanation)
    relaxed = staff_from_text("min_rest_hours: 11\nstaff:\n  - {name: Bo, max_hours: 20}\n", "s.yaml")
    r2 = solve_week_roster([_day([1, 1, 1, 1]), _day([1, 1, 1, 1])], relaxed, time_limit_s=10, workers=1)
    assert len(r2.assignments) == 2 and sum(sum(d) for d in r2.shortfall) == 0


def test_availability_days_off_and_contract_max() -> None:
    # Ana is off on Tuesday, Bo may work at most 4 h: Monday needs 2, Tuesday 1.
    # Monday: Ana + Bo; Tuesday: only Bo is available but has used his 4 h -> Tuesday is short.
    text = "staff:\n  - {name: Ana, days_off: [tue]}\n  - {name: Bo, max_hours: 4}\n"
    r = solve_week_roster(
        [_day([2, 2, 2, 2]), _day([1, 1, 1, 1])], staff_from_text(text, "s.yaml"), time_limit_s=10, workers=1
    )
    worked = {(a.name, a.day) for a in r.assignments}
    assert ("Ana", 1) not in worked
    assert r.hours_by_person["Bo"] <= 4
    assert sum(sum(d) for d in r.shortfall) == 4  # one counter short for four hours, whichever day


def test_cannot_close_is_respected() -> None:
    text = "staff:\n  - {name: Ana, can_close: false}\n  - {name: Bo}\n"
    r = solve_week_roster([_day([1, 1, 1, 1])], staff_from_text(text, "s.yaml"), time_limit_s=10, workers=1)
    assert [a.name for a in r.assignments] == ["Bo"]


def _flagship_week(allow_pitch: bool) -> list[RosterInput]:
    s = load_scenario(REPO / "scenarios" / "telecom_month_end.yaml")
    s = with_updates(
        s,
        {
            "demand.weekday_factors": [0.8, 0.75, 0.75, 0.8, 0.95, 1.0, 0.65],
            "shifts": {
                "lengths_hours": [4, 6, 8],
                "start_step_min": 30,
                "min_on_duty": 2,
                "break": {"for_shifts_over_hours": 6, "length_min": 30, "window_hours": [3, 5]},
            },
        },
    )
    target = ServiceTarget(0.8)
    days = []
    grid = build_grid(s)
    templates = tuple(build_templates(s))
    for d in range(7):
        sd = with_updates(s, {"store.date": (dt.date(2026, 11, 9) + dt.timedelta(days=d)).isoformat()})
        rn = analytic_requirement(sd, target, "erlang_a_lagged")
        rp = analytic_requirement(sd, target, "erlang_a_lagged", pitching=True)
        w = workload(sd)
        value = tuple(float(x * 30 * w.pitch_margin_per_customer) for x in w.counter_rate_per_min)
        days.append(
            RosterInput(
                grid, templates, rn.needed, rp.needed, value, sd.physical_counters, 2, sd.costs.staff_hour, allow_pitch
            )
        )
    return days


@pytest.mark.slow
def test_fifteen_people_week_to_one_percent_in_a_minute() -> None:
    """The issue's target: 15 people, 7 days, 30-minute intervals, gap < 1% within 60 s on 2 cores.

    Pitching fixed off (the rostering problem itself); the joint pitch week is checked below. The
    solver's 60 s limit is the time bound; how long it really takes is timed by
    benchmarks/bench_optimizer.py (``--only named``), never here, on a shared machine.
    """
    staff = load_staff(REPO / "scenarios" / "staff_week.yaml")
    days = _flagship_week(allow_pitch=False)
    r = solve_week_roster(days, staff, time_limit_s=60, workers=2, seed=1)
    assert r.feasible
    assert r.gap is not None and r.gap < 0.01
    assert all(a.hours <= 8 for a in r.assignments)
    per_day = {}
    for a in r.assignments:
        per_day[(a.name, a.day)] = per_day.get((a.name, a.day), 0) + 1
    assert max(per_day.values()) == 1
    for p in staff.staff:
        assert r.hours_by_person[p.name] <= p.max_hours + 1e-9


@pytest.mark.slow
def test_fifteen_people_week_with_pitch_windows_reports_its_gap() -> None:
    """With pitch windows decided jointly the bound is weaker; the result must still be a plan with an honest gap."""
    staff = load_staff(REPO / "scenarios" / "staff_week.yaml")
    r = solve_week_roster(_flagship_week(allow_pitch=True), staff, time_limit_s=30, workers=2, seed=1)
    assert r.feasible
    assert r.objective is not None and r.bound is not None and r.gap is not None
    assert r.bound <= r.objective + 1e-6
    assert r.gap == pytest.approx((r.objective - r.bound) / abs(r.objective))
    assert any("joint model" in e for e in r.explanation)


def test_time_out_returns_a_status_never_a_sentinel() -> None:
    """A solve cut short still returns a plan with its gap, or a status and an explanation."""
    staff = load_staff(REPO / "scenarios" / "staff_week.yaml")
    r = solve_week_roster(_flagship_week(allow_pitch=False), staff, time_limit_s=0.05, workers=1, seed=1)
    assert r.status in ("OPTIMAL", "FEASIBLE", "UNKNOWN")
    if r.feasible:
        assert r.objective is not None and r.bound is not None and r.gap is not None
        assert r.bound <= r.objective + 1e-6
        assert r.staff_cost == pytest.approx(r.staff_hours * 40)
    else:
        assert r.objective is None and r.assignments == ()
        assert any("no roster found" in e for e in r.explanation)


@pytest.mark.slow
def test_week_is_repaired_by_its_verification() -> None:
    """Stationary Erlang A misses some late-morning peaks of a 7-day small hall; as for a day, the
    week asks for one more counter where a day's simulated mean misses and re-rosters: fewer intervals
    miss afterwards than were asked for (seeded, 50 replications)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from test_optimizer_plan import small

    from optimizer import optimize_week

    staff = staff_from_text(
        "staff:\n" + "".join(f"  - {{name: P{i}, max_hours: 20, max_days: 5}}\n" for i in range(12)), "s.yaml"
    )
    days = [small(**{"demand.scale": 0.8 + 0.05 * d}) for d in range(7)]
    w = optimize_week(
        days, staff, ServiceTarget(0.8), method="erlang_a", pitch="never", replications=50, time_limit_s=5
    )
    asked = next(e for e in w.explanation if "asked for one more counter" in e)
    n_asked = asked.split(" at ", 1)[1].split(" and re-rostered")[0].count(",") + 1
    assert sum(len(d.verification.missed) for d in w.days) < n_asked
    assert w.roster.feasible and w.roster.gap is not None


def test_week_with_counter_groups_rosters_each_person_in_their_group() -> None:
    """Two independent groups (payments 1 counter, general 4 — see test_optimizer_plan's hand-worked
    instance), seven equal days, 3 payment staff and 10 general staff: each person works only their
    own group, and each group's staffing meets its own need every day."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from test_optimizer_plan import TWO_GROUPS

    from optimizer import optimize_week

    text = "staff:\n" + "".join(f"  - {{name: Pay{i}, max_hours: 15, group: payments}}\n" for i in range(3))
    text += "".join(f"  - {{name: Gen{i}, max_hours: 15, group: general}}\n" for i in range(10))
    text += "  - {name: Stray, max_hours: 15}\n"
    staff = staff_from_text(text, "s.yaml")
    days = [scenario_from_dict(TWO_GROUPS, "two")] * 7
    w = optimize_week(days, staff, ServiceTarget(0.7), method="erlang_a", replications=10, time_limit_s=10)
    assert w.roster.feasible
    groups = {a.name: a.group for a in w.roster.assignments}
    assert all(g == ("payments" if n.startswith("Pay") else "general") for n, g in groups.items())
    assert "Stray" not in groups and any("Stray" in e for e in w.explanation)
    # Erlang A (here Erlang C: nobody abandons): payments 1, general 4 in every interval of every day.
    assert all(day == (5, 5, 5) for day in w.roster.staffed)
    assert all(sum(d) == 0 for d in w.roster.shortfall)
    assert {s.get("group") for s in w.to_json()["shifts"]} == {"payments", "general"}


def test_a_week_day_without_customers_rosters_nobody() -> None:
    """A day with no customers (weekday factor 0: the store is shut) gets nobody: not the rules'
    minimum on duty (1 here), and not people pulled in by their contract minimum (each of these may
    work 3 h a day on 6 days but is contracted for 18 h, which only the shut day could complete)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from test_optimizer_plan import small

    from optimizer import optimize_week

    staff = staff_from_text(
        "staff:\n" + "".join(f"  - {{name: P{i}, min_hours: 18, max_hours: 21}}\n" for i in range(8)), "s.yaml"
    )
    days = [small() for _ in range(6)] + [small(**{"demand.scale": 0.0})]
    w = optimize_week(days, staff, ServiceTarget(0.8), method="erlang_a", pitch="never", replications=5, time_limit_s=5)
    assert w.roster.feasible
    assert w.roster.staffed[6] == (0,) * 6 and not any(a.day == 6 for a in w.roster.assignments)
    assert all(min(day) >= 1 for day in w.roster.staffed[:6])
    assert any("no customers expected, so nobody is rostered" in e for e in w.explanation)
