"""Day roster (CP-SAT): instances small enough to solve by hand, greedy baseline, impossible asks."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.roster import RosterInput, solve_day_roster
from optimizer.shifts import build_grid, build_templates, coverage_matrix, greedy_cover
from simulation import scenario_from_dict

HOURLY_4H = {
    "name": "tiny",
    "store": {"open": "09:00", "close": "13:00", "interval_min": 60, "target_wait_min": 5},
    "demand": {"arrivals_per_hour": 10},
    "transactions": [{"name": "t", "share": 1.0, "counter_time": {"dist": "exponential", "mean": 3}}],
    "counters": {"staffed": 1, "physical": 5},
    "costs": {"staff_hour": 10},
}


def _scenario(shifts: dict, **extra: object) -> object:
    data = {**HOURLY_4H, "shifts": shifts, **extra}
    return scenario_from_dict(data, "test")


def _input(
    scn, need, need_pitch=None, value=None, physical=5, min_on_duty=0, cost=10.0, switch_cost=0.0
) -> RosterInput:
    n = len(need)
    return RosterInput(
        grid=build_grid(scn),
        templates=tuple(build_templates(scn)),
        need_no_pitch=tuple(need),
        need_pitch=tuple(need_pitch if need_pitch is not None else need),
        pitch_value=tuple(value if value is not None else [0.0] * n),
        physical=physical,
        min_on_duty=min_on_duty,
        cost_per_hour=cost,
        allow_pitch=value is not None,
        switch_cost=switch_cost,
    )


def test_two_shift_lengths_by_hand() -> None:
    # Need 1, 2, 2, 1 counters 09-13 with 2 h and 4 h shifts at 10/h. Any cover needs at least
    # sum(need) = 6 staff-hours = 60; 09-13 (4 h) + 10-12 (2 h) reaches it, so the optimum is 60.
    scn = _scenario({"lengths_hours": [2, 4], "start_step_min": 60, "min_on_duty": 0})
    r = solve_day_roster(_input(scn, [1, 2, 2, 1]), time_limit_s=10, workers=1)
    assert r.status == "OPTIMAL"
    assert r.objective == pytest.approx(60.0)
    assert r.staff_hours == pytest.approx(6.0)
    assert r.staff_cost == pytest.approx(60.0)
    assert r.staffed == (1, 2, 2, 1)
    assert r.shortfall == (0, 0, 0, 0)
    assert r.gap == pytest.approx(0.0)
    assert r.explanation == ()


def test_breaks_force_a_second_person_with_staggered_breaks() -> None:
    # 09-17, need 1 all day, only 8 h shifts, each with a 1 h break starting 3-5 h in (12-14). One
    # person leaves the break hour uncovered, so the optimum is two 8 h shifts = 160, and their
    # breaks must fall in different hours.
    data = {
        **HOURLY_4H,
        "store": {"open": "09:00", "close": "17:00", "interval_min": 60},
        "shifts": {
            "lengths_hours": [8],
            "start_step_min": 60,
            "min_on_duty": 0,
            "break": {"for_shifts_over_hours": 6, "length_min": 60, "window_hours": [3, 5]},
        },
    }
    scn = scenario_from_dict(data, "test")
    r = solve_day_roster(_input(scn, [1] * 8), time_limit_s=10, workers=1)
    assert r.status == "OPTIMAL"
    assert r.objective == pytest.approx(160.0)
    breaks = [s.break_start for s in r.shifts for _ in range(s.count)]
    assert len(breaks) == 2 and len(set(breaks)) == 2
    assert set(breaks) <= {"12:00", "13:00", "14:00"}
    assert min(r.staffed) == 1


def test_pitch_decision_by_hand() -> None:
    # 1 h shifts at 10/h. Without pitching 1 counter per hour; pitching needs 2. Pitching earns 15
    # in the first hour (> 10 for the extra staff-hour) and 5 in the second (< 10). Optimum: pitch
    # only 09-10: cost 3 staff-hours = 30, minus 15 margin -> objective 15.
    data = {**HOURLY_4H, "store": {"open": "09:00", "close": "11:00", "interval_min": 60}}
    scn = scenario_from_dict({**data, "shifts": {"lengths_hours": [1], "start_step_min": 60, "min_on_duty": 0}}, "t")
    r = solve_day_roster(_input(scn, [1, 1], need_pitch=[2, 2], value=[15.0, 5.0]), time_limit_s=10, workers=1)
    assert r.status == "OPTIMAL"
    assert r.pitch == (True, False)
    assert r.objective == pytest.approx(15.0)
    assert r.staffed == (2, 1)
    assert r.pitch_value == pytest.approx(15.0)


def test_switch_cost_makes_whole_windows_by_hand() -> None:
    # Three 1 h intervals, 1 h shifts at 10/h; 1 counter without pitching, 2 with; pitching earns
    # 15, 9.5, 15. Without a switch cost: pitch hours 1 and 3 only -> 5 h = 50 - 30 = 20 (pitching
    # hour 2 too would be 60 - 39.5 = 20.5). With 2.5 per switch, (yes, no, yes) costs 20 + 5 = 25,
    # so pitching all day (20.5, no switch) wins.
    data = {**HOURLY_4H, "store": {"open": "09:00", "close": "12:00", "interval_min": 60}}
    scn = scenario_from_dict({**data, "shifts": {"lengths_hours": [1], "start_step_min": 60, "min_on_duty": 0}}, "t")
    free = solve_day_roster(_input(scn, [1, 1, 1], [2, 2, 2], [15.0, 9.5, 15.0]), time_limit_s=10, workers=1)
    assert free.pitch == (True, False, True) and free.objective == pytest.approx(20.0)
    whole = solve_day_roster(
        _input(scn, [1, 1, 1], [2, 2, 2], [15.0, 9.5, 15.0], switch_cost=2.5), time_limit_s=10, workers=1
    )
    assert whole.pitch == (True, True, True) and whole.objective == pytest.approx(20.5)


def test_over_capacity_named_with_partial_plan() -> None:
    # 10:00-11:00 needs 4 but the hall has 3: the rest is covered, that hour is short by 1.
    scn = _scenario({"lengths_hours": [1, 2, 4], "start_step_min": 60, "min_on_duty": 0})
    r = solve_day_roster(_input(scn, [2, 4, 3, 1], physical=3), time_limit_s=10, workers=1)
    assert r.status == "OPTIMAL"
    assert r.staffed == (2, 3, 3, 1)
    assert r.shortfall == (0, 1, 0, 0)
    assert any("10:00-11:00 needs 4 counters, the hall has 3" in e for e in r.explanation)


def test_uncovered_by_rules_named() -> None:
    # Shifts may start at 10:00 at the earliest, so 09:00-10:00 cannot be staffed at all.
    scn = _scenario({"lengths_hours": [3], "earliest_start": "10:00", "start_step_min": 60, "min_on_duty": 0})
    r = solve_day_roster(_input(scn, [1, 1, 1, 1]), time_limit_s=10, workers=1)
    assert r.shortfall[0] == 1
    assert r.staffed[1:] == (1, 1, 1)
    assert any(e.startswith("09:00-10:00") and "no allowed shift covers it" in e for e in r.explanation)


def test_min_on_duty_respected() -> None:
    # Need 0-1 counters but at least 2 must be on duty: cost 2 people × 4 h = 80.
    scn = _scenario({"lengths_hours": [4], "start_step_min": 60, "min_on_duty": 2})
    r = solve_day_roster(_input(scn, [0, 1, 1, 0], min_on_duty=2), time_limit_s=10, workers=1)
    assert r.staffed == (2, 2, 2, 2)
    assert r.objective == pytest.approx(80.0)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("physical", [10, 30])
def test_never_worse_than_greedy(seed: int, physical: int) -> None:
    """CP-SAT against the greedy cover of the same need: never more shortfall, never more cost.

    With a roomy hall (30) the greedy covers everything and the comparison is on cost. With 10
    counters the greedy can paint itself into a corner (long shifts fill the hall before a later
    gap is reached); CP-SAT must then leave no more counter-intervals short.
    """
    rng = np.random.default_rng(seed)
    data = {**HOURLY_4H, "store": {"open": "09:00", "close": "18:00", "interval_min": 30}}
    scn = scenario_from_dict(
        {**data, "shifts": {"lengths_hours": [4, 6, 8], "start_step_min": 30, "min_on_duty": 1}}, "t"
    )
    need = [int(v) for v in rng.integers(1, 9, size=18)]
    inp = _input(scn, need, physical=physical, min_on_duty=1, cost=40.0)
    r = solve_day_roster(inp, time_limit_s=10, workers=1)
    greedy = greedy_cover(inp.templates, inp.grid, need, physical, 40 / 60)
    cov = coverage_matrix(inp.templates, inp.grid)
    have = cov[greedy].sum(axis=0) if greedy else np.zeros(inp.grid.n_slots)
    greedy_short = int(np.clip(np.array(need) - have, 0, None).sum())
    greedy_cost = sum(inp.templates[k].length for k in greedy) / 60 * 40
    assert r.status == "OPTIMAL"
    assert sum(r.shortfall) <= greedy_short
    if physical == 30:
        assert greedy_short == 0 and sum(r.shortfall) == 0
    if sum(r.shortfall) == greedy_short:
        assert r.staff_cost <= greedy_cost + 1e-9
    assert max(r.staffed) <= physical


def test_equal_cost_optima_give_the_same_roster_every_time() -> None:
    # Need 1 counter all of 09-13 with 1 h or 2 h shifts starting on any hour: many rosters cost the
    # same (four 1 h shifts, two 2 h shifts, a 2 h and two 1 h...). The canonicalising pass must pick
    # the same one on every multi-worker solve: the fewest people (two 2 h shifts, 09-11 and 11-13).
    scn = _scenario({"lengths_hours": [1, 2], "start_step_min": 60, "min_on_duty": 0})
    rosters = [solve_day_roster(_input(scn, [1, 1, 1, 1]), time_limit_s=10, workers=2, seed=3) for _ in range(4)]
    picked = {tuple((s.start, s.end, s.count) for s in r.shifts) for r in rosters}
    assert picked == {(("09:00", "11:00", 1), ("11:00", "13:00", 1))}
    assert all(r.status == "OPTIMAL" and r.objective == pytest.approx(40.0) for r in rosters)


def test_forced_gap_goes_where_it_hurts_least_not_at_the_peak() -> None:
    # 09:00-15:00, hourly, need 2 counters all day, a hall of 2, only 4 h shifts. Each counter can
    # hold one 4 h shift in the 6 h day, so 4 counter-hours stay uncovered whatever the roster: a
    # linear penalty sees every placement as equal. Customers per hour a = 10, 20, 30, 40, 60, 20
    # (peak 13:00-14:00). Harm = sum a × (short/2)^2 for the two shift starts (hours after 09:00):
    #   (0,0) short 0,0,0,0,2,2 → 60 + 20          = 80   (the whole gap at the peak)
    #   (0,1) short 1,0,0,0,1,2 → 2.5 + 15 + 20    = 37.5
    #   (0,2) short 1,1,0,0,1,1 → (10+20+60+20)/4  = 27.5
    #   (1,1) short 2,0,0,0,0,2 → 10 + 20          = 30
    #   (2,2) short 2,2,0,0,0,0 → 10 + 20          = 30
    #   (1,2) short 2,1,0,0,0,1 → 10 + 5 + 5       = 20   ← best: 10-14 and 11-15, the peak fully staffed
    data = {
        **HOURLY_4H,
        "store": {"open": "09:00", "close": "15:00", "interval_min": 60},
        "shifts": {"lengths_hours": [4], "start_step_min": 60, "min_on_duty": 0},
    }
    scn = scenario_from_dict(data, "test")
    base = _input(scn, [2] * 6, physical=2)
    from dataclasses import replace

    r = solve_day_roster(replace(base, customers=(10, 20, 30, 40, 60, 20)), time_limit_s=10, workers=2)
    assert r.status == "OPTIMAL"
    assert sorted((s.start, s.end, s.count) for s in r.shifts) == [("10:00", "14:00", 1), ("11:00", "15:00", 1)]
    assert r.shortfall == (2, 1, 0, 0, 0, 1)
    # Each short interval is named on its own, with required, staffed, short by and its customers.
    assert len(r.explanation) == 3
    assert r.explanation[0].startswith("09:00-10:00 needs 2 counters")
    assert "staffed 0 (short by 2)" in r.explanation[0] and "about 10 customers" in r.explanation[0]
    assert r.explanation[1].startswith("10:00-11:00") and "staffed 1 (short by 1)" in r.explanation[1]
    assert r.explanation[2].startswith("14:00-15:00") and "about 20 customers" in r.explanation[2]


def test_no_pitching_where_the_hall_is_short() -> None:
    # 10:00-11:00 needs 4 without pitching, 4 with, in a hall of 3: pitching there would add work to a
    # hall already behind, so it is refused however much margin it promises; 09:00 pitches.
    scn = _scenario({"lengths_hours": [1, 2, 4], "start_step_min": 60, "min_on_duty": 0})
    r = solve_day_roster(_input(scn, [2, 4, 3, 1], value=[500.0] * 4, physical=3), time_limit_s=10, workers=1)
    assert r.shortfall[1] == 1
    assert r.pitch[1] is False
    assert r.pitch[0] is True


def test_a_short_interval_names_its_customers_in_plain_words() -> None:
    """A quarter-hour with under one expected customer must not read "about 0 customers"."""
    from optimizer.roster import _customers_then

    assert _customers_then(0.3) == "fewer than 1 customer expected at the counters then"
    assert _customers_then(1.2) == "about 1 customer reaches the counters then"
    assert _customers_then(12.4) == "about 12 customers reach the counters then"
