"""The optimizer for halls with counter groups: the descent on the (group, interval) grid, the
store-wide pitch windows, the share of days meeting per group (``--days-meeting``) and the store-wide
minimum on duty.

One small two-group hall (6 hourly intervals, a midday peak): payments-only counters beside general
ones that never help each other, so each group is its own queue and the numbers can be read by hand.
Few replications and fixed seeds keep every test short; tolerances are stated where they are used.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from optimizer import ServiceTarget, optimize_day
from optimizer.groups import (
    GroupJudged,
    descend_groups,
    group_service,
    groups_scenario,
    judge_groups,
    refine_group_requirements,
)
from optimizer.requirement import pitch_policy
from simulation import Scenario, run, scenario_from_dict, with_updates

HALL = {
    "name": "Two groups, midday peak",
    "store": {"open": "09:00", "close": "15:00", "interval_min": 60, "target_wait_min": 5},
    "demand": {"arrivals_per_hour": [20, 30, 80, 80, 30, 20]},
    "segments": [{"name": "all", "share": 1.0, "priority": 1}],
    "transactions": [
        {"name": "pay", "share": 0.5, "counter_time": {"dist": "exponential", "mean": 2}},
        {"name": "other", "share": 0.5, "counter_time": {"dist": "exponential", "mean": 6}},
    ],
    "counters": {
        "groups": [
            {"name": "payments", "staffed": 1, "transactions": ["pay"]},
            {"name": "general", "staffed": 4, "transactions": ["other"]},
        ],
        "physical": 10,
    },
    # Pitching: 3 more minutes a visit, half accept, 100 margin each — at 20 customers an hour that is
    # about 1,000 an hour of margin against 40 an hour per extra person, so it pays wherever the hall
    # has the counters for it.
    "cross_sell": {
        "pitch_time": {"dist": "exponential", "mean": 3},
        "acceptance": 0.5,
        "margin": 100,
        "policy": {"mode": "never"},
    },
    "costs": {"staff_hour": 40},
    "shifts": {"lengths_hours": [1, 2, 3, 4, 5, 6], "start_step_min": 60, "min_on_duty": 1},
    "simulation": {"replications": 20, "seed": 7},
}
TARGET = ServiceTarget(0.8)


def hall(**updates: object) -> Scenario:
    s = scenario_from_dict(HALL, "two-group hall")
    return with_updates(s, dict(updates)) if updates else s


def test_descent_lowers_an_overstaffed_group_and_the_result_still_meets_on_another_seed() -> None:
    # Start every cell one counter above the coarse search's staffing: there is room everywhere, so
    # the descent must take counters away (at least back to about the coarse total), and what it
    # keeps must still meet the target when simulated on a seed it never saw.
    s = hall()
    coarse = refine_group_requirements(s, TARGET, replications=20, seed=3, descent=False)
    start = np.array([r.needed for r in coarse]) + 1
    base = with_updates(s, {"cross_sell.policy": pitch_policy(False)})
    keep = np.ones_like(start)
    staff, steps, judged = descend_groups(base, start, TARGET, keep, seed=3, replications=20, max_replications=80)
    assert staff.sum() < start.sum() and steps
    assert (staff <= start).all() and (staff >= 1).all()
    # Each group is lowered somewhere: the payments group (load ≤ 1.4 Erlangs) never needs 1 + its
    # coarse staffing, and neither does general off-peak.
    assert all((staff[g] < start[g]).any() for g in range(2))
    # Every cell the descent left meets with its CI on the search seed...
    assert judged.ci_ok(TARGET).all()
    # ...and its mean meets on another seed with more days. Tolerance 0.03: a cell accepted at the
    # CI's lower end ≥ 0.80 on 20-80 days can sit a few points lower on a fresh 100-day sample.
    fresh = groups_scenario(base, staff.tolist())
    res = run(fresh, replications=100, seed=2024, keep_customers=True)
    for frame in group_service(res, fresh, TARGET):
        sl = frame["service_level_mean"].to_numpy(float)
        assert np.nanmin(sl) >= TARGET.service_level - 0.03, frame


def test_refinement_with_descent_needs_no_more_than_the_coarse_search() -> None:
    s = hall()
    coarse = refine_group_requirements(s, TARGET, replications=20, seed=3, descent=False)
    fine = refine_group_requirements(s, TARGET, replications=20, seed=3)
    # The firm-up may add a counter where more days show a miss; on this seed it does not, and the
    # descent takes one off general's first peak hour (coarse 6, 6 → 5, 6).
    assert sum(sum(r.needed) for r in fine) <= sum(sum(r.needed) for r in coarse)
    # Never beyond the hall: the groups' staffing summed per interval fits its 10 counters.
    assert max(sum(r.needed[i] for r in fine) for i in range(6)) <= 10
    # The descent re-judged the staffing: the requirement carries the CI-decided service levels.
    assert all(r.service_level is not None and r.method == "simulation" for r in fine)
    # The descent's judge is reproducible (common random numbers): same staffing, same verdict.
    staff = np.array([r.needed for r in fine])
    base = with_updates(s, {"cross_sell.policy": pitch_policy(False)})
    a = judge_groups(base, staff, TARGET, 3, 20, 80, None)
    b = judge_groups(base, staff, TARGET, 3, 20, 80, None)
    assert a.replications == b.replications
    np.testing.assert_array_equal(a.service_level, b.service_level)


def test_profitable_pitching_gets_windows_outside_the_peak_and_none_where_staff_is_short() -> None:
    # Erlang A needs (analytic, so the test is quick and exact):
    #   peak 11:00-13:00, 80 walk-ins/h: payments 40/h × 2 min (1.3 Erlangs) → 2 counters, general
    #   40/h × 6 min (4 Erlangs) → 6: 8 without pitching; pitching adds 3 minutes a visit (3.3 and
    #   6 Erlangs) → more than the hall's 10.
    #   off-peak: a few counters either way, and pitching earns ~1,000/h for ~40/h a person.
    # So the store pitches off-peak and suspends pitching 11:00-13:00 for every counter.
    plan = optimize_day(hall(), TARGET, method="erlang_a", replications=30, tune_threshold=False, seed=5)
    peak = [2, 3]
    assert not any(plan.roster.pitch[i] for i in peak)
    assert all(plan.roster.pitch[i] for i in (0, 1, 4, 5))
    assert plan.pitch_windows == ("11:00-13:00",)
    policy = plan.scenario.cross_sell.policy
    assert policy.mode == "windows" and tuple(policy.suspend) == ("11:00-13:00",)
    # One rule for every group: each group's roster carries the same flags.
    assert all(g.roster.pitch == plan.roster.pitch for g in plan.groups)
    # No pitching where any group is short, and pitching never leaves a group below its pitch need.
    for g in plan.groups:
        for i, pitched in enumerate(plan.roster.pitch):
            if pitched:
                assert g.roster.shortfall[i] == 0
    # The hall's size holds: the groups' staffing summed per interval never exceeds its counters.
    assert max(plan.roster.staffed) <= 10
    # Verified by simulation with the windows: the pitches earn margin and the plan says why.
    assert plan.verification.kpis["cross_sell_revenue"]["mean"] > 0
    text = " ".join(plan.explanation)
    assert "one pitch rule for every counter" in text and "more counters than the hall's 10" in text
    assert plan.requirement_pitch is not None
    assert sum(plan.requirement_no_pitch.needed[i] for i in peak) == 16
    assert all(plan.requirement_pitch.needed[i] > 10 for i in peak)


def test_pitch_never_keeps_the_group_by_group_plan() -> None:
    # --pitch never: no windows, pitching off in the plan's scenario, every group rostered (in one
    # model, pitching off) exactly as a store whose pitching earns nothing.
    never = optimize_day(
        hall(), TARGET, method="erlang_a", replications=20, tune_threshold=False, seed=5, pitch="never"
    )
    worthless = optimize_day(
        hall(**{"cross_sell.margin": 0}), TARGET, method="erlang_a", replications=20, tune_threshold=False, seed=5
    )
    assert never.pitch_windows == () and never.pitch_rule == "no pitches all day"
    assert never.scenario.cross_sell.policy.mode == "never"
    assert never.requirement_pitch is None and not any(never.roster.pitch)
    assert [g.roster.staffed for g in never.groups] == [g.roster.staffed for g in worthless.groups]
    assert [g.roster.shifts for g in never.groups] == [g.roster.shifts for g in worthless.groups]
    assert any("--pitch never" in e for e in never.explanation)
    assert never.verification.kpis["cross_sell_revenue"]["mean"] == 0


def test_simulated_group_plan_with_pitch_windows_meets_on_its_own_verification() -> None:
    # The full path: simulation-refined needs with and without pitching (descent included), one
    # joint roster, verification and repair. Every group's own customers meet on the verification's
    # mean, or the interval is named in the explanation.
    plan = optimize_day(hall(), TARGET, search_replications=20, replications=60, tune_threshold=False, seed=5)
    assert plan.pitch_windows and not any(plan.roster.pitch[i] for i in (2, 3))
    named = " ".join(plan.explanation)
    for g in plan.groups:
        for label in g.missed:
            assert label in named


def test_a_group_missing_while_pitching_in_a_full_hall_stops_the_pitching_there() -> None:
    # Verification found payments' customers at 75% in 10:00-11:00 while the store pitched and all
    # 10 counters were staffed: no counter can be added, so the repair takes pitching away there (its
    # margin set aside) instead; general misses at 14:00 with room in the hall: one more counter.
    from optimizer.plan import _group_repairs
    from optimizer.roster import RosterInput
    from optimizer.shifts import build_grid, build_templates

    s = hall()
    grid = build_grid(s)
    templates = tuple(build_templates(s))

    def data(need: tuple[int, ...]) -> RosterInput:
        return RosterInput(grid, templates, need, tuple(v + 1 for v in need), (0.0,) * 6, 10, 0, 40.0)

    inputs = [data((1, 1, 2, 2, 1, 1)), data((2, 3, 6, 6, 3, 2))]
    staffed = [(2, 4, 2, 2, 2, 2), (3, 6, 6, 6, 4, 3)]
    joint = SimpleNamespace(
        rosters=[SimpleNamespace(staffed=x) for x in staffed], pitch=(True, True, False, False, True, True)
    )

    def frame(sl: list[float]) -> pd.DataFrame:
        return pd.DataFrame({"service_level_mean": sl})

    service = [frame([0.9, 0.75, 0.9, 0.9, 0.9, 0.9]), frame([0.9, 0.9, 0.9, 0.9, 0.9, 0.7])]
    allowed = [True] * 6
    new, asked, stopped = _group_repairs(s, TARGET, ["payments", "general"], inputs, joint, service, allowed, True)
    assert allowed == [True, False, True, True, True, True]
    assert stopped == ["payments 10:00-11:00"]
    assert asked == ["general 14:00-15:00"]
    # general pitches at 14:00: its need with pitching rises to one above what it had
    assert new[1].need_pitch[5] == 4 and new[1].need_no_pitch == inputs[1].need_no_pitch
    assert new[0] == inputs[0]


def test_group_service_counts_the_share_of_days_each_groups_customers_meet_the_target() -> None:
    # Hand-made customer records, payments' customers in 09:00-10:00 over 4 days (target: 80% within
    # 5 min): day 0 two served after 1 min (100%: meets); day 1 one served after 10 min (0%); day 2
    # none of them (nobody to serve: counts as meeting, as for the whole store); day 3 one served
    # after 2 min and one gave up (50%). Service level over the days with customers: (1 + 0 + 0.5) / 3
    # = 0.5; share of days meeting: days 0 and 2 = 2 / 4.
    s = hall()
    rows = [
        (0, "pay", "served", 1.0),
        (0, "pay", "served", 1.0),
        (1, "pay", "served", 10.0),
        (3, "pay", "served", 2.0),
        (3, "pay", "abandoned", 7.0),
        *[(r, "other", "served", 0.0) for r in range(4)],  # general meets every day
    ]
    customers = pd.DataFrame(
        [
            {"replication": r, "transaction": t, "segment": "all", "outcome": o, "wait_min": w, "queue_join_min": 10.0}
            for r, t, o, w in rows
        ]
    )
    frames = group_service(SimpleNamespace(customers=customers, replications=4), s, TARGET)
    pay, general = frames[0].iloc[0], frames[1].iloc[0]
    assert pay["service_level_mean"] == 0.5 and pay["days_meeting_mean"] == 0.5
    assert general["days_meeting_mean"] == 1.0
    # 95% Wilson interval of 2 of 4 days: 0.5 ± 0.35, inside [0, 1].
    assert abs(pay["days_meeting_ci_low"] - 0.150) < 0.001 and abs(pay["days_meeting_ci_high"] - 0.850) < 0.001
    # An interval nobody reaches meets on every day; `meets` judges the whole target.
    assert frames[0]["days_meeting_mean"].iloc[1:].eq(1.0).all()
    assert not pay["meets"] and general["meets"]
    # Asked for 90% of days, general's 4 of 4 days meet on the mean but 4 days cannot show it with
    # the CI (Wilson low 0.51): undecided, so the descent's judge would add days before deciding.
    days = ServiceTarget(0.8, days_meeting=0.9)
    judged = GroupJudged(
        np.ones((2, 6), int), group_service(SimpleNamespace(customers=customers, replications=4), s, days), 4
    )
    assert judged.mean_ok(days)[1, 0] and not judged.ci_ok(days)[1, 0] and not judged.ci_miss(days)[1, 0]
    # Intervals no customer of either group reaches have nothing to judge: shown to meet.
    assert judged.ci_ok(days)[:, 1:].all()


def test_days_meeting_asks_each_group_for_at_least_the_mean_targets_staff_and_the_plan_meets_it() -> None:
    # Day-to-day demand spread (day_cv 0.2): each group's customers must meet 80% within 5 min on 90%
    # of days in every interval, not only on average. The group search judges every (group,
    # interval) on that share, so no group gets fewer staff hours than for the mean target and the
    # store gets strictly more (on this seed: 33 h → 42 h; the mean plan has payments meeting on only
    # about 72% of days at 10:00).
    s = hall(**{"demand.day_cv": 0.2})
    mean_t, days_t = TARGET, ServiceTarget(0.8, days_meeting=0.9)
    kw = {"search_replications": 20, "replications": 60, "tune_threshold": False, "seed": 5, "pitch": "never"}
    mean_plan = optimize_day(s, mean_t, **kw)  # type: ignore[arg-type]
    days_plan = optimize_day(s, days_t, **kw)  # type: ignore[arg-type]
    for m, d in zip(mean_plan.groups, days_plan.groups, strict=True):
        assert d.roster.staff_hours >= m.roster.staff_hours, (m.name, m.roster.staffed, d.roster.staffed)
    assert days_plan.roster.staff_hours > mean_plan.roster.staff_hours
    # The mean target's plan leaves some group's cell below 90% of days: what --days-meeting is for.
    assert any((g.frame()["share_of_days_meeting"] < 0.9).any() for g in mean_plan.groups)
    # The verification reports the share of days per group, in the JSON and the groups table, and
    # judges on it: every cell the plan says meets has its customers meeting on ≥ 90% of the 60 days
    # (any other is named among the missed intervals).
    js = days_plan.to_json()["groups"]
    for g, gj in zip(days_plan.groups, js, strict=True):
        f = g.frame()
        assert f["meets_target"].tolist() == [row["meets_target"] for row in gj["intervals"]]
        assert all(row["share_of_days_meeting"] is not None for row in gj["intervals"])
        assert (f.loc[f["meets_target"], "share_of_days_meeting"] >= 0.9).all()
        assert set(f.loc[~f["meets_target"], "start"]) == set(g.missed)
    assert "share_of_days_meeting" in days_plan.frames()["groups"].columns
    # ...and on a seed the plan never saw (200 days), every cell's share of days stays within 0.05
    # of 90% (a binomial share of 200 days at 0.9 has a standard error of 0.021; the search judged
    # on 20-80 days, so a boundary cell may land a little lower).
    fresh = run(days_plan.scenario, replications=200, seed=2024, keep_customers=True)
    for frame in group_service(fresh, days_plan.scenario, days_t):
        assert frame["days_meeting_mean"].min() >= 0.9 - 0.05, frame


def test_min_on_duty_counts_everybody_on_the_floor_with_pitch_never() -> None:
    # Erlang A needs at 09:00: payments 1, general 2 — three people, below the shift rules' minimum
    # of 4 on duty. The minimum is a store-wide count of people on the floor: the groups together
    # staff exactly 4 there (not the busiest group 4 on its own plus the others, 5), every group
    # covers its own need, and no interval has more than max(4, the groups' needs summed) — 1-hour
    # shifts exist, so nothing forces more.
    s = hall(**{"shifts.min_on_duty": 4})
    plan = optimize_day(s, TARGET, method="erlang_a", replications=20, tune_threshold=False, seed=5, pitch="never")
    need = [sum(g.roster.required[i] for g in plan.groups) for i in range(6)]
    assert need[0] < 4
    assert plan.roster.staffed[0] == 4
    assert all(g.roster.staffed[i] >= g.roster.required[i] for g in plan.groups for i in range(6))
    assert list(plan.roster.staffed) == [max(4, n) for n in need]
    assert plan.roster.staff_hours == sum(max(4, n) for n in need)


def test_coarse_search_lowers_a_cell_only_with_room_on_every_part_of_the_target() -> None:
    # As the one-pool search: room = service level `slack` above the target, abandonment at most half
    # its cap, and (with --days-meeting) the share of days `slack` above the share asked for.
    from optimizer.groups import _group_misses, _group_room

    frame = pd.DataFrame(
        {
            "service_level_mean": [0.95, 0.95, 0.95, 0.95, 0.82],
            "abandonment_rate_mean": [0.02, 0.04, 0.02, 0.02, 0.02],
            "days_meeting_mean": [0.96, 0.96, 0.93, 0.88, 0.96],
        }
    )
    target = ServiceTarget(0.8, max_abandon=0.05, days_meeting=0.9)
    assert _group_room(frame, target, 0.05).tolist() == [True, False, False, False, False]
    assert _group_misses(frame, target).tolist() == [False, False, False, True, False]
    # Without --days-meeting the share of days is reported but judges nothing.
    assert not _group_misses(frame, ServiceTarget(0.8, max_abandon=0.05)).any()


def test_simulated_staffing_stays_in_the_hall_and_says_where_it_differs() -> None:
    """A partial plan can short a small group to 0 while the hall is full; the verification simulates
    that group with one counter (its customers need someone), taken from the group with most counters
    then, never beyond the hall (before, 4 + 1 > 4 and the simulated scenario was refused)."""
    from types import SimpleNamespace

    from optimizer.plan import _simulated_staffing

    rosters = [SimpleNamespace(staffed=(1, 0, 1)), SimpleNamespace(staffed=(2, 4, 2))]
    staffed, notes = _simulated_staffing(rosters, [1, 1], 4, ["payments", "general"], ["09:00", "10:00", "11:00"])
    assert staffed == [[1, 1, 1], [2, 3, 2]]
    assert notes == [
        "the roster leaves payments with no counter at 10:00; the simulated scenario staffs 1 there "
        "(its customers need someone serving)",
        "the hall is full at 10:00 (general): the group named gave up one counter in the simulation to the "
        "group the roster left with none",
    ]
    # With room in the hall, only the floor is added; a group without customers (floor 0) stays at 0.
    staffed, notes = _simulated_staffing(rosters, [1, 0], 6, ["payments", "general"], ["09:00", "10:00", "11:00"])
    assert staffed == [[1, 1, 1], [2, 4, 2]] and len(notes) == 1


def test_erlang_group_requirement_with_days_meeting_is_the_mean_of_a_quantile_scaled_day() -> None:
    # Without simulation the group requirement is Erlang A per group; with --days-meeting and
    # day_cv > 0 it is sized for that share's quantile of the day factor: the same counters as the
    # mean day of a demand scaled by that quantile (before the hall cap, which 10 counters do not reach).
    from optimizer.requirement import day_factor_quantile

    s = with_updates(scenario_from_dict(HALL, "hall"), {"demand.day_cv": 0.25})
    t = ServiceTarget(0.8, days_meeting=0.9)
    q = day_factor_quantile(s, t)
    days = refine_group_requirements(s, t, simulate=False)
    scaled = refine_group_requirements(with_updates(s, {"demand.scale": q}), TARGET, simulate=False)
    mean = refine_group_requirements(s, TARGET, simulate=False)
    assert [r.needed for r in days] == [r.needed for r in scaled]
    assert all(r.day_factor == q for r in days) and all(r.day_factor == 1.0 for r in mean)
    assert sum(map(sum, (r.needed for r in days))) > sum(map(sum, (r.needed for r in mean)))
