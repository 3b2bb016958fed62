"""Differential test: the engine's dispatcher against an idiomatic SimPy model of the same rules.

The reference below is what a modeller would write from DESIGN.md with plain SimPy: a process per
customer, a ``PriorityResource`` for the counters, a ``Resource`` for the kiosks, reneging with
``request | timeout(patience)``, balking on ``len(queue)``. Fed the same pre-drawn customers, both
must produce the same log, customer by customer (no VIP counters). Staffing schedules are modelled
the way SimPy users model servers going off duty: "off-duty" requests at a priority above every
customer take counters as they free up (idle ones at once, busy ones when their customer leaves), and
are cancelled (still pending) or released (granted) when staff come back. Times are continuous, so
ties have probability zero. Routing variants: calling by ticket (one priority for all), windows and a
threshold together, greeter windows, and counter groups that split the customers by segment (one
PriorityResource per line, each with its own schedule), with demand.day_cv.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pytest
import simpy

from simulation import scenario_from_dict
from simulation.engine import ABANDONED, BALKED, DIVERTED, SERVED, draw_customers, replication_streams, simulate_day


def reference_day(sc: Any, cust: Any) -> dict[str, np.ndarray]:
    n = len(cust)
    env = simpy.Environment()
    # One PriorityResource per counter group. The reference handles groups that split the customers
    # by segment (each customer has exactly one group that serves it, no then: any): independent lines.
    groups = sc.counter_groups()
    line_of = {seg: k for k, g in enumerate(groups) for seg in g.segments}
    assert sc.counters.groups is None or all(sum(g.serves(t.name, seg.name) or g.then == "any" for g in groups) == 1
                                             for t in sc.transactions for seg in sc.segments)
    lines = []

    def staffing(counters: Any, schedule: list[int], cap: int, off_duty: list[Any]) -> Any:
        for i, staffed in enumerate(schedule):
            if i:
                yield env.timeout(sc.store.interval_min)
            change = (cap - staffed) - len(off_duty)
            for _ in range(change):
                off_duty.append(counters.request(priority=-1))
            for _ in range(-change):
                pending = [r for r in off_duty if not r.triggered]
                r = pending[-1] if pending else off_duty[0]
                off_duty.remove(r)
                if r.triggered:
                    counters.release(r)
                else:
                    r.cancel()

    for g in groups if sc.counters.groups is not None else [None]:
        schedule = [int(x) for x in (g.staffed_schedule(sc.n_intervals) if g is not None else sc.staffed_schedule())]
        cap = max(max(schedule), 1)
        res = simpy.PriorityResource(env, capacity=cap)
        lines.append(res)
        env.process(staffing(res, schedule, cap, []))

    def waiting() -> int:
        return sum(1 for res in lines for r in res.queue if r.priority >= 0)

    kiosks = simpy.Resource(env, capacity=max(sc.kiosks.count, 1))
    greeter = sc.greeter_windows_min()
    policy = sc.cross_sell.policy
    windows = sc.suspend_windows_min()
    by_ticket = sc.counters.calling_order == "ticket"  # tickets in issue order: one priority for all
    prio = [0 if by_ticket else sc.segments[s].priority for s in cust.segment]
    nan = math.nan
    rec = {
        k: np.full(n, nan) for k in ("queue_join", "service_start", "service_end", "leave", "kiosk_start", "kiosk_end")
    }
    outcome = np.full(n, DIVERTED)
    pitched = np.zeros(n, bool)

    def counter_visit(c: int, from_kiosk: bool) -> Any:
        q = sc.balking.queue_at_least
        if not from_kiosk and q is not None and waiting() >= q:
            outcome[c], rec["leave"][c] = BALKED, env.now
            return
        rec["queue_join"][c] = env.now
        counters = lines[line_of[sc.segments[cust.segment[c]].name]] if sc.counters.groups is not None else lines[0]
        req = counters.request(priority=prio[c])
        patience = cust.patience[c]
        if math.isinf(patience):
            yield req
        else:
            got = yield req | env.timeout(patience)
            if req not in got:
                req.cancel()
                outcome[c], rec["leave"][c] = ABANDONED, env.now
                return
        rec["service_start"][c] = env.now
        yield env.timeout(cust.counter_time[c])
        if sc.segments[cust.segment[c]].pitch and policy.mode != "never":
            go = True
            if policy.mode != "always":
                # suspend windows and a threshold may be given together: no pitch while either holds
                if policy.suspend:
                    go = not any(a <= env.now < b for a, b in windows)
                if go and policy.threshold is not None:
                    go = waiting() < policy.threshold
            if go:
                pitched[c] = True
                yield env.timeout(cust.pitch_time[c])
        counters.release(req)
        rec["service_end"][c] = env.now
        outcome[c], rec["leave"][c] = SERVED, env.now

    def customer(c: int) -> Any:
        yield env.timeout(cust.arrival_min[c])
        eligible = not math.isnan(cust.kiosk_time[c])
        if eligible and cust.u_divert[c] < sc.demand.online_diversion:
            return
        at_door = any(a <= cust.arrival_min[c] < b for a, b in greeter)
        adopt = sc.kiosks.greeter_adoption if at_door else sc.kiosks.adoption
        if eligible and sc.kiosks.count > 0 and cust.u_kiosk[c] < adopt:
            with kiosks.request() as kr:
                yield kr
                rec["kiosk_start"][c] = env.now
                yield env.timeout(cust.kiosk_time[c])
            rec["kiosk_end"][c] = env.now
            if cust.u_fail[c] < sc.kiosks.failure:
                yield from counter_visit(c, from_kiosk=True)
            else:
                outcome[c], rec["leave"][c] = SERVED, env.now
            return
        yield from counter_visit(c, from_kiosk=False)

    for c in range(n):
        env.process(customer(c))
    env.run()
    return {**rec, "outcome": outcome, "pitched": pitched}


BASE: dict[str, Any] = {
    "name": "reference",
    "store": {"open": "09:00", "close": "13:00", "interval_min": 30},
    "demand": {"arrivals_per_hour": [50, 90, 130, 110, 140, 100, 70, 40], "online_diversion": 0.1},
    "segments": [
        {"name": "regular", "share": 0.7, "priority": 2, "patience": {"dist": "lognormal", "mean": 12, "cv": 0.6}},
        {"name": "gold", "share": 0.15, "priority": 1, "patience": {"dist": "exponential", "mean": 10}},
        {"name": "vip", "share": 0.1, "priority": 0},
        {"name": "sensitive", "share": 0.05, "priority": 2, "pitch": False},
    ],
    "transactions": [
        {"name": "top_up", "share": 0.5, "counter_time": {"dist": "lognormal", "mean": 2.5, "cv": 0.5},
         "kiosk_time": {"dist": "gamma", "mean": 1.8, "cv": 0.5}},
        {"name": "plan", "share": 0.5, "counter_time": {"dist": "gamma", "mean": 6, "cv": 0.8}},
    ],
    "counters": {"staffed": 4},
    "kiosks": {"count": 2, "adoption": 0.6, "failure": 0.2},
    "cross_sell": {"pitch_time": {"dist": "exponential", "mean": 3}, "acceptance": 0.3, "margin": 5},
    "balking": {"queue_at_least": 7},
}  # fmt: skip


@pytest.mark.parametrize(
    "policy",
    [
        {"mode": "always"},
        {"mode": "never"},
        {"mode": "windows", "suspend": ["10:00-11:00", "12:15-13:00"]},
        {"mode": "queue_threshold", "threshold": 3},
    ],
    ids=["always", "never", "windows", "queue_threshold"],
)
@pytest.mark.parametrize("rep", [0, 1])
@pytest.mark.parametrize(
    "counters",
    [
        {"staffed": 4},
        {"staffed": [4, 2, 5, 3, 1, 4, 2, 3]},
        {"staffed": [3, 1, 0, 4, 2, 5, 1, 2]},
        {"staffed": [4, 2, 5, 3, 1, 4, 2, 3], "vip": 1},
    ],
    ids=["flat", "drops", "gap", "drops_vip"],
)
def test_engine_log_equals_plain_simpy_model(policy: dict[str, Any], rep: int, counters: dict[str, Any]) -> None:
    # With a VIP counter the times are still those of the plain model: a customer starts exactly when
    # fewer are in service than staffed, whichever counter is free; the VIP rule only picks the counter.
    data = copy.deepcopy(BASE)
    data["cross_sell"]["policy"] = policy
    data["counters"] = counters
    sc = scenario_from_dict(data, "reference")
    cust = draw_customers(sc, replication_streams(77, rep))
    got = simulate_day(sc, cust)
    ref = reference_day(sc, cust)
    np.testing.assert_array_equal(got.outcome, ref["outcome"])
    assert (got.outcome == ABANDONED).sum() > 5 and (got.outcome == BALKED).sum() > 0  # every rule is exercised
    assert got.kiosk_failed.sum() > 0 and (got.outcome == DIVERTED).sum() > 0
    np.testing.assert_array_equal(got.pitched, ref["pitched"])
    for ours, theirs in (
        ("queue_join", "queue_join"),
        ("service_start", "service_start"),
        ("service_end", "service_end"),
        ("leave_min", "leave"),
        ("kiosk_start", "kiosk_start"),
        ("kiosk_end", "kiosk_end"),
    ):
        np.testing.assert_allclose(getattr(got, ours), ref[theirs], rtol=0, atol=1e-9, err_msg=ours)


@pytest.mark.parametrize("rep", [0, 1])
@pytest.mark.parametrize(
    "updates",
    [
        {"counters": {"staffed": [4, 2, 5, 3, 1, 4, 2, 3], "order": "ticket"}},
        {"cross_sell.policy": {"mode": "windows", "suspend": ["10:00-11:00", "12:15-13:00"], "threshold": 3}},
        {"kiosks.greeter": ["09:30-10:30", "12:00-12:45"], "kiosks.greeter_adoption": 0.95},
        {"counters": {"groups": [
            {"name": "vip_line", "staffed": [1, 1, 2, 1, 1, 1, 0, 1], "segments": ["vip", "gold"]},
            {"name": "main", "staffed": [3, 2, 3, 3, 1, 4, 2, 3], "segments": ["regular", "sensitive"]},
        ]}},
        {"counters": {"groups": [
            {"name": "vip_line", "staffed": 1, "segments": ["vip", "gold"]},
            {"name": "main", "staffed": [3, 2, 3, 3, 1, 4, 2, 3], "segments": ["regular", "sensitive"]},
        ], "order": "ticket"}, "demand.day_cv": 0.2},
    ],
    ids=["ticket_order", "windows_and_threshold", "greeter_windows", "two_lines", "two_lines_ticket_day_cv"],
)
def test_routing_log_equals_plain_simpy_model(rep: int, updates: dict[str, Any]) -> None:
    # Calling by ticket is a PriorityResource with one priority; windows with a threshold stop pitching
    # while either holds; greeter windows pick each walk-in's adoption by its arrival time; counter
    # groups that split the customers by segment are independent lines, one PriorityResource each,
    # each with its own off-duty schedule (pitching's queue rule counts the waiting of both lines).
    from simulation import with_updates

    data = copy.deepcopy(BASE)
    data["cross_sell"]["policy"] = {"mode": "queue_threshold", "threshold": 3}
    sc = with_updates(scenario_from_dict(data, "reference"), updates)
    cust = draw_customers(sc, replication_streams(78, rep))
    got = simulate_day(sc, cust)
    ref = reference_day(sc, cust)
    np.testing.assert_array_equal(got.outcome, ref["outcome"])
    np.testing.assert_array_equal(got.pitched, ref["pitched"])
    assert (got.outcome == ABANDONED).sum() > 5 and got.pitched.sum() > 10
    for ours, theirs in (("queue_join", "queue_join"), ("service_start", "service_start"), ("service_end", "service_end"),
                         ("leave_min", "leave"), ("kiosk_start", "kiosk_start"), ("kiosk_end", "kiosk_end")):  # fmt: skip
        np.testing.assert_allclose(getattr(got, ours), ref[theirs], rtol=0, atol=1e-9, err_msg=ours)
    if sc.counters.groups is not None:  # each customer served at a counter of its own line
        seg_line = np.array([0 if s.name in ("vip", "gold") else 1 for s in sc.segments])[cust.segment]
        served = got.group >= 0
        np.testing.assert_array_equal(got.group[served], seg_line[served])
