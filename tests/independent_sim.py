"""An independent event-driven simulator of a one-line store, to check storeq's engine rule by rule.

Written from docs/model.md's rules alone, with plain Python and :mod:`heapq` (no SimPy, no storeq
code in the simulation itself): one FCFS counter queue served by a pool of identical counters whose
number follows a per-interval schedule, customers with patience (who leave at join + patience), doors
closing at the end of the last interval while the last interval's counters serve everyone inside and
patience keeps running; optionally non-preemptive priorities (segments) and balking. No kiosks or
cross-sell: an M/M/c+M store with a time-varying arrival rate when fed exponential draws, and the
flagship without its kiosks and cross-sell (:func:`counters_only_version`: its VIP shorthand with
``vip_serves: first`` and ``order: priority`` is one priority queue under a store-level cap).

It is fed the *same* customers storeq draws (:func:`storeq_inputs`: arrival times, counter times and
patience from ``simulation.engine.draw_customers``), so any difference per customer is a difference
of rules, not of random numbers (:func:`compare_days`).

The documented rules, and how this simulator implements each without storeq's lazy bookkeeping:

* a customer whose deadline equals the moment a counter frees (a service end or a staffing rise) is
  served: at one instant, events run staffing changes first, then service ends, then arrivals, then
  abandonments (an abandonment at ``t`` sees every counter that frees at ``t`` already called);
* a staffing change at an interval boundary happens before an arrival at the same instant;
* a counter starts a customer only while fewer are in service than staffed (a drop closes idle
  counters, then the next to finish; nobody is interrupted);
* served within target means wait <= target;
* service level per day = served within target / (served + abandoned), and a run reports the
  mean of the daily ratios (:func:`service_levels` gives the pooled ratio too).

Run ``python tests/independent_sim.py [days]`` to measure, on an M/M/c+M version of the flagship
store and on the flagship itself, every candidate cause of a storeq vs independent-simulator gap.
"""

from __future__ import annotations

import heapq
import math
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

# Event kinds, in the order they run at one instant (docs/model.md "ties" and "abandonment").
_STAFF, _END, _ARRIVE, _ABANDON = 0, 1, 2, 3


@dataclass
class IndependentDay:
    """Per customer: ``outcome`` ("served" / "abandoned"), ``start`` (NaN unless served), ``leave``."""

    outcome: list[str]
    start: list[float]
    leave: list[float]


def simulate(
    arrival: list[float],
    service: list[float],
    patience: list[float],
    staffed: list[int],
    interval_min: float,
    priority: list[int] | None = None,
    balk_at: int | None = None,
) -> IndependentDay:
    """Play one day: customers in arrival order, ``staffed[i]`` counters in interval ``i``.

    After the last interval the last staffing stays on until the store is empty. ``priority``: the
    calling order is (priority, ticket), lower first, non-preemptive (default: everyone equal, FCFS).
    ``balk_at``: an arriving customer who sees that many or more waiting leaves at once ("balked").
    """
    prio = priority if priority is not None else [0] * len(arrival)
    n = len(arrival)
    events: list[tuple[float, int, int, int]] = []  # (time, kind, sequence, customer or interval)
    seq = 0

    def push(t: float, kind: int, arg: int) -> None:
        nonlocal seq
        heapq.heappush(events, (t, kind, seq, arg))
        seq += 1

    for i in range(1, len(staffed)):
        if staffed[i] != staffed[i - 1]:
            push(i * interval_min, _STAFF, i)
    for c in range(n):
        push(arrival[c], _ARRIVE, c)

    outcome = ["inside"] * n
    start = [math.nan] * n
    leave = [math.nan] * n
    line: list[tuple[int, int, int]] = []  # heap of (priority, ticket, customer); the departed are skipped
    waiting: set[int] = set()
    capacity = staffed[0] if staffed else 0
    busy = 0

    def begin(c: int, t: float) -> None:
        nonlocal busy
        busy += 1
        start[c] = t
        outcome[c] = "in service"
        waiting.discard(c)
        push(t + service[c], _END, c)

    def call(t: float) -> None:
        while busy < capacity:
            while line and line[0][2] not in waiting:
                heapq.heappop(line)
            if not line:
                return
            begin(heapq.heappop(line)[2], t)

    while events:
        t, kind, _, arg = heapq.heappop(events)
        if kind == _STAFF:
            capacity = staffed[arg]
            call(t)
        elif kind == _END:
            busy -= 1
            outcome[arg] = "served"
            leave[arg] = t
            call(t)
        elif kind == _ARRIVE:
            if balk_at is not None and len(waiting) >= balk_at:
                outcome[arg] = "balked"
                leave[arg] = t
            elif busy < capacity:
                begin(arg, t)
            else:
                heapq.heappush(line, (prio[arg], arg, arg))  # customer numbers follow ticket order
                waiting.add(arg)
                if math.isfinite(patience[arg]):
                    push(t + patience[arg], _ABANDON, arg)
        elif arg in waiting:  # _ABANDON of someone still waiting
            waiting.discard(arg)
            outcome[arg] = "abandoned"
            leave[arg] = t
    # A schedule ending at zero counters: the waiting are the impatient (they left at their deadline,
    # handled above) or, with infinite patience, nobody may be left; say so rather than hide it.
    stuck = [c for c in range(n) if outcome[c] not in ("served", "abandoned", "balked")]
    if stuck:
        raise RuntimeError(f"{len(stuck)} customers never served (no counter after closing)")
    return IndependentDay(outcome, start, leave)


def service_levels(days: list[tuple[list[float], list[float], list[str]]], target: float) -> tuple[float, float]:
    """(mean of daily ratios, pooled ratio) of served within ``target`` / (served + abandoned).

    ``days`` holds (queue join, service start, outcome) per customer per day. The two differ because
    a day's ratio is not linear in its customers: days with more customers tend to have lower service
    levels, and the mean of daily ratios gives each day the same weight, the pooled ratio each customer.
    """
    ratios, num, den = [], 0, 0
    for join, st, out in days:
        k = sum(1 for j, s, o in zip(join, st, out, strict=True) if o == "served" and s - j <= target)
        d = sum(1 for o in out if o in ("served", "abandoned"))
        if d:
            ratios.append(k / d)
        num += k
        den += d
    return float(np.mean(ratios)), num / den


def storeq_inputs(scenario: Any, replication: int) -> tuple[Any, list[float], list[float], list[float]]:
    """The customers storeq draws for ``replication`` (the harness's only use of storeq, besides comparing)."""
    from simulation.engine import draw_customers, replication_streams

    cust = draw_customers(scenario, replication_streams(scenario.simulation.seed, replication))
    return cust, cust.arrival_min.tolist(), cust.counter_time.tolist(), cust.patience.tolist()


def compare_days(scenario: Any, log: Any, day: IndependentDay) -> list[int]:
    """Customers on whom storeq's log and the independent day disagree (outcome, start or leave time)."""
    from simulation.engine import OUTCOME_NAMES

    bad = []
    for c in range(len(day.outcome)):
        o = OUTCOME_NAMES[int(log.outcome[c])]
        s, lv = float(log.service_start[c]), float(log.leave_min[c])
        same_start = (math.isnan(s) and math.isnan(day.start[c])) or abs(s - day.start[c]) <= 1e-9
        if o != day.outcome[c] or not same_start or abs(lv - day.leave[c]) > 1e-9:
            bad.append(c)
    return bad


def mmc_version(scenario: Any) -> Any:
    """The flagship as an M/M/c+M store: its demand profile, hours, staffing and target; one segment with
    exponential patience (mean 25 min), one transaction with exponential counter time (mean 6 min), no
    kiosks, cross-sell or balking. Busy enough in the afternoon that a fifth or so abandon."""
    from simulation import scenario_from_dict

    st = scenario.store
    data = {
        "name": "flagship as M/M/c+M",
        "store": {"open": st.open, "close": st.close, "interval_min": st.interval_min, "target_wait_min": st.target_wait_min},
        "demand": {"arrivals_per_hour": [float(x) for x in scenario.demand.arrivals_per_hour]},
        "segments": [{"name": "all", "share": 1.0, "priority": 1, "patience": {"dist": "exponential", "mean": 25}}],
        "transactions": [{"name": "t", "share": 1.0, "counter_time": {"dist": "exponential", "mean": 6}}],
        "counters": {"staffed": [int(x) for x in scenario.staffed_schedule()]},
        "simulation": {"seed": scenario.simulation.seed},
    }
    return scenario_from_dict(data, "independent_sim")


def counters_only_version(scenario: Any) -> Any:
    """The flagship without kiosks and cross-sell: segments with priorities and lognormal patience,
    lognormal counter times, balking, the VIP shorthand, all as in the file."""
    from simulation import with_updates

    return with_updates(scenario, {"kiosks.count": 0, "cross_sell.policy": {"mode": "never"}}, "independent_sim")


def replay(sc: Any, replication: int) -> tuple[Any, IndependentDay, Any]:
    """storeq's draws for ``replication`` played by both simulators: (customers, independent day, storeq log)."""
    from simulation.engine import simulate_replication

    cust, arr, svc, pat = storeq_inputs(sc, replication)
    prio = [sc.segments[k].priority for k in cust.segment.tolist()]
    staffed = [int(x) for x in sc.staffed_schedule()]
    day = simulate(arr, svc, pat, staffed, float(sc.store.interval_min), prio, sc.balking.queue_at_least)
    return cust, day, simulate_replication(sc, replication, customers=cust)


def _measure(days: int) -> None:  # pragma: no cover - a measuring script, run by hand
    from simulation import load_scenario
    from simulation.engine import ABANDONED, SERVED, simulate_replication

    flagship = load_scenario("scenarios/telecom_month_end.yaml")
    for label, sc in (("M/M/c+M on the flagship's profile", mmc_version(flagship)),
                      ("flagship without kiosks and cross-sell", counters_only_version(flagship))):
        target = float(sc.store.target_wait_min)
        mismatched = total = 0
        ours: list[tuple[list[float], list[float], list[str]]] = []
        theirs: list[tuple[list[float], list[float], list[str]]] = []
        for r in range(days):
            cust, day, log = replay(sc, r)
            mismatched += len(compare_days(sc, log, day))
            total += len(day.outcome)
            theirs.append((cust.arrival_min.tolist(), day.start, day.outcome))
            names = ["served" if o == SERVED else "abandoned" if o == ABANDONED else "other" for o in log.outcome.tolist()]
            ours.append((log.queue_join.tolist(), log.service_start.tolist(), names))
        m_ind, p_ind = service_levels(theirs, target)
        m_sq, p_sq = service_levels(ours, target)
        print(f"{label}, {days} days, {total} customers: {mismatched} customers differ")
        print(f"  storeq      mean of daily ratios {100 * m_sq:.3f}%  pooled {100 * p_sq:.3f}%")
        print(f"  independent mean of daily ratios {100 * m_ind:.3f}%  pooled {100 * p_ind:.3f}%")
        print(f"  mean of daily - pooled: {100 * (m_sq - p_sq):+.3f} points")

    # The flagship itself (kiosks, VIPs, cross-sell, balking): the estimator gap and the tie counts
    # from storeq's own customer records.
    num = np.zeros(days)
    den = np.zeros(days)
    at_target = deadline_ties = after_close = 0
    ab_quick = np.zeros(days)  # abandoned with wait <= target (an alternative convention leaves them out)
    close = float(flagship.store.duration_min)
    for r in range(days):
        log = simulate_replication(flagship, r)
        joined = ~np.isnan(log.queue_join)
        cs = joined & (log.outcome == SERVED)
        ab = log.outcome == ABANDONED
        wait = log.service_start - log.queue_join
        num[r] = np.sum(cs & (wait <= flagship.store.target_wait_min))
        den[r] = cs.sum() + ab.sum()
        at_target += int(np.sum(cs & (wait == flagship.store.target_wait_min)))
        deadline_ties += int(np.sum(cs & (log.service_start == log.queue_join + log.customers.patience)))
        after_close += int(np.sum(ab & (log.leave_min > close)))
        ab_quick[r] = np.sum(ab & (log.leave_min - log.queue_join <= flagship.store.target_wait_min))
    daily = num / den
    pooled = num.sum() / den.sum()
    # Standard error of (mean of daily ratios - pooled ratio), linearising the pooled ratio.
    diff_terms = daily - (num - pooled * den) / den.mean()
    se = diff_terms.std(ddof=1) / math.sqrt(days)
    print(f"flagship, {days} days: mean of daily ratios {100 * daily.mean():.3f}%, pooled {100 * pooled:.3f}%,")
    print(f"  difference {100 * (daily.mean() - pooled):+.3f} points (SE {100 * se:.3f});"
          f" SE of the daily mean {100 * daily.std(ddof=1) / math.sqrt(days):.3f} points")
    print(f"  ties: wait exactly = target {at_target}; served exactly at the patience deadline {deadline_ties};"
          f" abandoned after closing {after_close} (counted in the day they arrived, in both simulators)")
    alt = num / (den - ab_quick)
    print(f"  other conventions: abandoned within target left out of the denominator {100 * alt.mean():.3f}%"
          f" ({100 * (alt.mean() - daily.mean()):+.3f} points; {int(ab_quick.sum())} such customers)")


if __name__ == "__main__":  # pragma: no cover
    _measure(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
