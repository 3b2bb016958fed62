"""Metamorphic tests under common random numbers (STYLE.md "Tests, in layers", layer 3).

Two scenarios that share a seed see the same customers: the engine pre-draws every customer's
arrival, segment, transaction, counter and kiosk times, patience, pitch length and decision
uniforms by customer number (``simulation/engine.py``). So a change to staffing, policy, kiosks or
diversion can be compared customer by customer.

Which relations hold *pathwise* (for every customer of every replication) and which only *on the
mean* is a matter of queueing theory, and the tests are split accordingly:

Pathwise, in a FCFS store (one priority level) without abandonment or balking. Customer n starts at
the earliest t ≥ max(its queue join, the previous start) at which fewer of the earlier customers are
still in service than counters are staffed. If every earlier customer leaves no later (induction)
and staffing is no lower at every t, that t is still feasible, so customer n starts no later. Hence:

* one more counter (in any interval) never raises any customer's wait;
* removing work never raises any wait: no pitch (``never``) vs any policy, pitching by threshold vs
  ``always`` (same pre-drawn pitch length per customer, pitched in a subset of visits);
* online diversion of more demand (a subset of the same customers walks in) never raises any wait;
* more kiosks never raise any customer's kiosk wait (the kiosk line is FCFS, who uses a kiosk does
  not depend on the count).

Only on the mean (paired 95% CI from ``compare``), because pathwise monotonicity fails:

* with **priorities**, an extra counter changes which class is at a counter when the next
  high-priority customer arrives, and non-preemptive service lets a low-priority customer that now
  starts earlier hold a counter a high-priority one would have had;
* with **abandonment**, an extra counter serves customers who would have abandoned; they add work
  for those behind them, and they enter the served customers' mean wait with long waits (the mean is
  over a different set of customers);
* with **balking**, the same: customers who would have balked now join;
* with the **queue-threshold** pitch policy, an extra counter shortens the queue, so more visits are
  pitched and last longer;
* **more demand** (``demand.scale``) keeps every customer of the quieter day (an interval's count is
  the Poisson inverse CDF of one uniform and each customer keeps its own uniforms, so the busier day
  is a superset), but the extra customers are tested on the busy hall, where priorities, patience
  and balking break pathwise monotonicity as above;
* **more kiosks** change when failed kiosk visits reach the counters, not who does.

These failures are real, not hypothetical: on the busy hall below (30 replications, seed 11, 8 → 9
counters, balking off, no pitching unless said), of the customers served at a counter in both runs
391 of 15,527 wait longer with priorities alone, 174 of 13,605 with patience alone, and 462 of 15,527
with threshold pitching alone — while no replication's mean wait rises (re-measured with the current
engine; the earlier figures came from an older drawing of the customers).

Counter routing and the newer knobs, on the mean: pooling beats splitting when the split lines carry
the same kind of work (nine counters on one line against 7 + 2); splitting payment counters off the
busy hall raises the 90th percentile wait and lowers the service level (its mean wait may fall: a fast
lane for short visits is shortest-job-first); calling by ticket raises the VIPs' waits; the combined
pitch rule pitches less than either of its parts; and ``day_cv`` widens the spread of daily arrivals
without moving their mean.

On the mean, a relation "X never raises the mean wait" is tested where the effect is large (the
paired CI must lie entirely on the expected side: a no-op or reversed engine fails), and where the
expected effect is zero (more kiosks for the counters) the paired CI must not lie entirely on the
wrong side.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from simulation import compare, load_scenario, run, scenario_from_dict, with_updates

EPS = 1e-9
FLAGSHIP = "scenarios/telecom_month_end.yaml"

# A busy month-end telecom hall with everything that breaks pathwise monotonicity: a VIP tier with
# priority and a VIP counter, patience, a complaint-sensitive tier, balking, kiosks and pitching
# suspended while 8 or more wait. Kept here, not read from scenarios/, so that retuning the
# flagship cannot quietly change what these tests test (one test also runs the flagship itself).
BUSY_HALL: dict[str, Any] = {
    "name": "busy hall",
    "store": {"open": "09:00", "close": "18:00", "interval_min": 30, "target_wait_min": 10},
    "demand": {"arrivals_per_hour": [40, 55, 70, 85, 80, 70, 65, 75, 95, 115, 125, 120, 105, 85, 65, 50, 40, 30]},
    "segments": [
        {"name": "regular", "share": 0.82, "priority": 1, "patience": {"dist": "exponential", "mean": 25}},
        {"name": "vip", "share": 0.10, "priority": 0, "patience": {"dist": "lognormal", "mean": 20, "cv": 0.6}},
        {"name": "sensitive", "share": 0.08, "priority": 1, "patience": {"dist": "exponential", "mean": 15},
         "pitch": False},
    ],
    "transactions": [
        {"name": "top_up", "share": 0.3, "counter_time": {"dist": "lognormal", "mean": 2.5, "cv": 0.5},
         "kiosk_time": {"dist": "lognormal", "mean": 1.5, "cv": 0.4}},
        {"name": "bill_payment", "share": 0.2, "counter_time": {"dist": "lognormal", "mean": 3, "cv": 0.5},
         "kiosk_time": {"dist": "lognormal", "mean": 2, "cv": 0.4}},
        {"name": "plan_change", "share": 0.2, "counter_time": {"dist": "lognormal", "mean": 6, "cv": 0.6}},
        {"name": "new_line", "share": 0.12, "counter_time": {"dist": "lognormal", "mean": 12, "cv": 0.5}},
        {"name": "handset", "share": 0.1, "counter_time": {"dist": "lognormal", "mean": 15, "cv": 0.6}},
        {"name": "complaint", "share": 0.08, "counter_time": {"dist": "lognormal", "mean": 10, "cv": 0.8}},
    ],
    "counters": {"staffed": 8, "vip": 1},
    "kiosks": {"count": 3, "adoption": 0.5, "greeter_adoption": 0.85, "greeter": False, "failure": 0.05},
    "cross_sell": {"pitch_time": {"dist": "lognormal", "mean": 5, "cv": 0.5}, "acceptance": 0.2, "margin": 25,
                   "policy": {"mode": "queue_threshold", "threshold": 8}},
    "balking": {"queue_at_least": 40},
    "costs": {"staff_hour": 40},
    "simulation": {"replications": 60, "seed": 11},
}

# A FCFS hall: time-varying demand on a 15-minute grid (morning peak), two counter transactions
# and a kiosk-able one whose failures (20%) feed the counters; a staffing schedule that dips at lunch.
FCFS_STORE: dict[str, Any] = {
    "name": "fcfs hall",
    "store": {"open": "09:00", "close": "13:00", "interval_min": 15, "target_wait_min": 5},
    "demand": {"arrivals_per_hour": [40, 60, 80, 100, 110, 120, 120, 110, 100, 90, 90, 100, 110, 90, 70, 50]},
    "segments": [{"name": "all", "share": 1.0, "priority": 1}],
    "transactions": [
        {"name": "top_up", "share": 0.4, "counter_time": {"dist": "lognormal", "mean": 2.5, "cv": 0.5},
         "kiosk_time": {"dist": "lognormal", "mean": 1.5, "cv": 0.4}},
        {"name": "plan", "share": 0.4, "counter_time": {"dist": "gamma", "mean": 6, "cv": 0.7}},
        {"name": "new_line", "share": 0.2, "counter_time": {"dist": "lognormal", "mean": 12, "cv": 0.5}},
    ],
    "counters": {"staffed": [7] * 4 + [8] * 6 + [6] * 2 + [8] * 4},
    "kiosks": {"count": 1, "adoption": 0.6, "failure": 0.2},
    "cross_sell": {"pitch_time": {"dist": "lognormal", "mean": 4, "cv": 0.5}, "acceptance": 0.2, "margin": 20,
                   "policy": {"mode": "never"}},
    "simulation": {"replications": 40, "seed": 8},
}


def _fcfs(**updates: Any) -> Any:
    base = scenario_from_dict(FCFS_STORE, "fcfs hall")
    return with_updates(base, updates) if updates else base


def _paired(a: Any, b: Any) -> pd.DataFrame:
    """Customers of two runs side by side: same replication and customer number."""
    ca, cb = a.customers, b.customers
    m = ca.merge(cb, on=["replication", "customer"], suffixes=("_a", "_b"), how="outer", indicator=True)
    return m


def _assert_same_customers(m: pd.DataFrame) -> None:
    assert (m["_merge"] == "both").all(), "common random numbers: both runs must see the same walk-ins"
    np.testing.assert_array_equal(m["arrival_min_a"], m["arrival_min_b"])
    np.testing.assert_array_equal(m["segment_a"], m["segment_b"])


def _assert_waits_not_higher(m: pd.DataFrame, col: str = "wait_min") -> int:
    """Every customer's ``col`` in run b ≤ run a; returns how many got strictly better."""
    a, b = m[f"{col}_a"].to_numpy(float), m[f"{col}_b"].to_numpy(float)
    both = ~np.isnan(a) & ~np.isnan(b)
    assert (np.isnan(a) == np.isnan(b)).all(), f"{col} defined for different customers"
    worse = both & (b > a + EPS)
    assert not worse.any(), f"{worse.sum()} customers waited longer, e.g. {m.loc[worse, ['replication', 'customer', f'{col}_a', f'{col}_b']].head()}"
    return int((both & (b < a - EPS)).sum())


# ---------------------------------------------------------------------------------------------
# pathwise
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "staffed",
    [
        [8] * 4 + [9] * 6 + [7] * 2 + [9] * 4,  # one more counter all day
        [7] * 4 + [8] * 6 + [7] * 2 + [8] * 4,  # one more only over lunch, where the queue builds
    ],
    ids=["all-day", "lunch-only"],
)
def test_one_more_counter_never_raises_any_wait_fcfs(staffed: list[int]) -> None:
    a = run(_fcfs(), keep_customers=True)
    b = run(_fcfs(**{"counters.staffed": staffed}), keep_customers=True)
    m = _paired(a, b)
    _assert_same_customers(m)
    assert (m["outcome_a"] == "served").all() and (m["outcome_b"] == "served").all()
    better = _assert_waits_not_higher(m)
    assert better > 0.05 * len(m), "one more counter should shorten a fair share of waits"
    da, db = a.days.set_index("replication"), b.days.set_index("replication")
    # consequences per replication: the mean, the share who waited and the service level
    assert (db["mean_wait_min"] <= da["mean_wait_min"] + EPS).all()
    assert (db["prob_wait"] <= da["prob_wait"] + EPS).all()
    assert (db["service_level"] >= da["service_level"] - EPS).all()
    assert (db["mean_queue_len"] <= da["mean_queue_len"] + EPS).all()
    # the kiosks do not depend on the counters at all
    np.testing.assert_array_equal(m["kiosk_end_min_a"], m["kiosk_end_min_b"])


@pytest.mark.parametrize(
    "policy",
    [
        {"mode": "always"},
        {"mode": "queue_threshold", "threshold": 3},
        {"mode": "windows", "suspend": ["10:00-11:30"]},
    ],
    ids=["always", "threshold", "windows"],
)
def test_not_pitching_never_raises_any_wait_fcfs(policy: dict[str, Any]) -> None:
    never = run(_fcfs(), keep_customers=True)
    pitching = run(_fcfs(**{"cross_sell.policy": policy}), keep_customers=True)
    m = _paired(pitching, never)  # b = never
    _assert_same_customers(m)
    better = _assert_waits_not_higher(m)
    assert better > 0.05 * len(m)
    assert (m["pitched_b"] == False).all()  # noqa: E712 - a numpy bool column
    assert m["pitched_a"].any()


def test_threshold_pitching_never_raises_any_wait_against_always_fcfs() -> None:
    always = run(_fcfs(**{"cross_sell.policy": {"mode": "always"}}), keep_customers=True)
    threshold = run(_fcfs(**{"cross_sell.policy": {"mode": "queue_threshold", "threshold": 3}}), keep_customers=True)
    m = _paired(always, threshold)
    _assert_same_customers(m)
    assert _assert_waits_not_higher(m) > 0
    # the threshold only suspends: whoever it pitches, always pitches too
    assert not (m["pitched_b"].astype(bool) & ~m["pitched_a"].astype(bool)).any()
    assert (threshold.days["cross_sell_revenue"].to_numpy() <= always.days["cross_sell_revenue"].to_numpy() + EPS).all()


def test_more_online_diversion_never_raises_any_wait_fcfs() -> None:
    # no kiosks here: diverted customers are kiosk-eligible ones, and with kiosks the remaining
    # customers' kiosk failures would reach the counters at other times
    base = _fcfs(**{"kiosks.count": 0})
    a = run(base, keep_customers=True)
    b = run(with_updates(base, {"demand.online_diversion": 0.3}), keep_customers=True)
    m = _paired(a, b)
    only_a = m["_merge"] == "left_only"
    assert (m["_merge"] != "right_only").all(), "diversion must remove customers, never add them"
    assert only_a.sum() > 0
    # the diverted are top-ups only
    assert (m.loc[only_a, "transaction_a"] == "top_up").all()
    kept = m[~only_a]
    np.testing.assert_array_equal(kept["arrival_min_a"], kept["arrival_min_b"])
    assert _assert_waits_not_higher(kept) > 0
    da, db = a.days.set_index("replication"), b.days.set_index("replication")
    assert (db["arrivals"] + db["diverted"] == da["arrivals"]).all()


def test_more_kiosks_never_raise_any_kiosk_wait() -> None:
    # A busy kiosk corner: everyone eligible uses it (adoption 1), 1 vs 2 kiosks.
    base = _fcfs(**{"kiosks.adoption": 1.0})
    a = run(base, keep_customers=True)
    b = run(with_updates(base, {"kiosks.count": 2}), keep_customers=True)
    m = _paired(a, b)
    _assert_same_customers(m)
    np.testing.assert_array_equal(m["used_kiosk_a"], m["used_kiosk_b"])
    np.testing.assert_array_equal(m["kiosk_failed_a"], m["kiosk_failed_b"])
    for side in ("a", "b"):
        m[f"kiosk_wait_{side}"] = m[f"kiosk_start_min_{side}"] - m[f"kiosk_join_min_{side}"]
    assert _assert_waits_not_higher(m, "kiosk_wait") > 0
    da, db = a.days.set_index("replication"), b.days.set_index("replication")
    assert (db["kiosk_mean_wait_min"] <= da["kiosk_mean_wait_min"] + EPS).all()
    assert (db["kiosk_share"] == da["kiosk_share"]).all()


# ---------------------------------------------------------------------------------------------
# on the mean, under priorities, abandonment, balking and the queue-threshold policy
# ---------------------------------------------------------------------------------------------


def _hall_compare(updates: dict[str, Any], base_updates: dict[str, Any] | None = None,
                  replications: int = 60) -> tuple[Any, pd.DataFrame]:
    """Paired differences variant − base on the busy hall (95% CIs over replications)."""
    hall = scenario_from_dict(BUSY_HALL, "busy hall")
    base = with_updates(hall, base_updates) if base_updates else hall
    variant = with_updates(base, updates)
    cmp = compare([base, variant], replications=replications, seed=11, labels=["base", "variant"])
    d = cmp.differences
    return cmp, d[d["scenario"] == "variant"].set_index("kpi")


@pytest.mark.slow
def test_one_more_counter_lowers_mean_wait_hall() -> None:
    # Priority, patience, balking and queue-threshold pitching: the relation holds on the mean only.
    # At 8 → 9 counters the month-end afternoon queue shrinks by minutes, so the paired 95% CI of the
    # difference must lie below 0 (not merely include it).
    _, d = _hall_compare({"counters.staffed": 9})
    assert d.loc["staff_hours", "diff_mean"] == pytest.approx(9.0)
    assert d.loc["mean_wait_min", "diff_ci_high"] < 0
    assert d.loc["abandonment_rate", "diff_ci_high"] < 0
    assert d.loc["service_level", "diff_ci_low"] > 0
    assert d.loc["mean_queue_len", "diff_ci_high"] < 0


@pytest.mark.slow
def test_one_more_counter_than_the_flagship_lowers_mean_wait() -> None:
    flagship = load_scenario(FLAGSHIP)
    more = with_updates(flagship, {"counters.staffed": (flagship.staffed_schedule() + 1).tolist()})
    cmp = compare([flagship, more], replications=60, seed=3, labels=["base", "variant"])
    d = cmp.differences.set_index("kpi")
    assert d.loc["mean_wait_min", "diff_ci_high"] < 0
    assert d.loc["service_level", "diff_ci_low"] > 0


@pytest.mark.slow
def test_more_demand_raises_mean_wait_hall() -> None:
    # 15% more walk-ins on a day already near capacity: the mean wait must rise, significantly.
    _, d = _hall_compare({"demand.scale": 1.15})
    assert d.loc["arrivals", "diff_ci_low"] > 0
    assert d.loc["mean_wait_min", "diff_ci_low"] > 0
    assert d.loc["abandonment_rate", "diff_ci_low"] > 0


@pytest.mark.slow
def test_suspending_pitches_lowers_mean_wait_hall() -> None:
    # never vs always: pitching adds ~5 minutes to the 92% of visits that may be pitched
    cmp, d = _hall_compare({"cross_sell.policy": {"mode": "never"}}, base_updates={"cross_sell.policy": {"mode": "always"}})
    assert d.loc["mean_wait_min", "diff_ci_high"] < 0
    assert d.loc["cross_sell_revenue", "diff_ci_high"] < 0
    assert (cmp.results[1].days["pitches"] == 0).all()
    # the hall's own policy (suspend while 8 or more wait) still pitches; never is faster
    _, d = _hall_compare({"cross_sell.policy": {"mode": "never"}})
    assert d.loc["mean_wait_min", "diff_ci_high"] < 0
    # and suspending in the afternoon peak windows beats pitching always
    _, d = _hall_compare({"cross_sell.policy": {"mode": "windows", "suspend": ["14:30-17:30"]}},
                             base_updates={"cross_sell.policy": {"mode": "always"}})
    assert d.loc["mean_wait_min", "diff_ci_high"] < 0


@pytest.mark.slow
def test_more_kiosks_do_not_raise_counter_queue_hall() -> None:
    # From 3 to 5 kiosks the same customers use them and the same visits fail (pre-drawn uniforms);
    # only the moment failures reach the counters moves (earlier). The expected counter effect is ~0,
    # so the paired CI must not lie entirely above 0; kiosk waits fall on every replication.
    cmp, d = _hall_compare({"kiosks.count": 5})
    assert d.loc["mean_wait_min", "diff_ci_low"] <= 0
    assert d.loc["mean_queue_len", "diff_ci_low"] <= 0
    ka = cmp.results[0].days["kiosk_mean_wait_min"].to_numpy()
    kb = cmp.results[1].days["kiosk_mean_wait_min"].to_numpy()
    assert (kb <= ka + EPS).all()
    # 0 kiosks: every kiosk user goes to the counters instead, a significant rise
    _, d0 = _hall_compare({"kiosks.count": 0})
    assert d0.loc["mean_wait_min", "diff_ci_low"] > 0


@pytest.mark.slow
def test_patience_and_greeter_hall() -> None:
    # Twice the patience: fewer give up (on the mean; those who stay make the others wait longer).
    _, d = _hall_compare({"segments.regular.patience": {"dist": "exponential", "mean": 50}})
    assert d.loc["abandonment_rate", "diff_ci_high"] < 0
    # A greeter raises kiosk adoption 0.5 → 0.85 (monotone coupling: a superset of kiosk users).
    cmp, d = _hall_compare({"kiosks.greeter": True})
    assert (cmp.results[1].days["kiosk_share"].to_numpy() >= cmp.results[0].days["kiosk_share"].to_numpy() - EPS).all()
    assert d.loc["mean_wait_min", "diff_ci_high"] < 0


# ---------------------------------------------------------------------------------------------
# counter routing, the combined pitch rule and day-to-day demand spread
# ---------------------------------------------------------------------------------------------


def _paired_segment_ci(cmp: Any, segment: str, kpi: str = "mean_wait_min") -> tuple[float, float, float]:
    """Mean and 95% Student-t interval of variant − base for one segment's KPI, paired by replication."""
    from scipy import stats

    a, b = (r.segment_reps for r in cmp.results)
    va = a[a["segment"] == segment].set_index("replication")[kpi]
    vb = b[b["segment"] == segment].set_index("replication")[kpi]
    diff = (vb - va).dropna().to_numpy(float)
    m = float(diff.mean())
    half = float(stats.t.ppf(0.975, len(diff) - 1) * diff.std(ddof=1) / np.sqrt(len(diff)))
    return m, m - half, m + half


def test_pooling_beats_splitting() -> None:
    # The classic result: nine counters serving one line beat the same nine split 7 + 2 when the two
    # lines carry the same kind of work (here: one service-time law for both transactions, payments
    # 2/9 of the demand, so each line is loaded like the pool, ρ ≈ 0.85). Paired over 40 four-hour days.
    same = {"dist": "lognormal", "mean": 4, "cv": 0.5}
    data = {
        **FCFS_STORE,
        "demand": {"arrivals_per_hour": 115},
        "transactions": [
            {"name": "top_up", "share": 2 / 9, "counter_time": same},
            {"name": "plan", "share": 7 / 9, "counter_time": same},
        ],
        "kiosks": {"count": 0},
        "counters": {"staffed": 9},
    }
    pooled = scenario_from_dict(data, "pooled")
    split = with_updates(pooled, {"counters": {"groups": [
        {"name": "general", "staffed": 7, "transactions": ["plan"]},
        {"name": "payments", "staffed": 2, "transactions": ["top_up"]},
    ]}})  # fmt: skip
    d = compare([pooled, split], labels=["pooled", "split"]).differences.set_index("kpi")
    assert d.loc["staff_hours", "diff_mean"] == pytest.approx(0.0)
    assert d.loc["mean_wait_min", "diff_ci_low"] > 0
    assert d.loc["p90_wait_min", "diff_ci_low"] > 0
    assert d.loc["service_level", "diff_ci_high"] < 0


@pytest.mark.slow
def test_payment_counters_split_off_the_hall_hurt_the_long_visits() -> None:
    # The hall's 9 counters pooled against 7 general + 2 payment-only (top-ups, bill payments). Here the
    # two lines carry different work: the payment line is a fast lane for short visits (shortest job
    # first), so the mean wait over everyone can even fall; but the general line's long visits wait
    # longer, so the 90th percentile wait rises and fewer are served within the target (paired CIs).
    pooled = {"counters": {"staffed": 9}}
    split = {"counters": {"groups": [
        {"name": "general", "staffed": 7},
        {"name": "payments", "staffed": 2, "transactions": ["top_up", "bill_payment"]},
    ]}}  # fmt: skip
    _, d = _hall_compare(split, base_updates=pooled)
    assert d.loc["staff_hours", "diff_mean"] == pytest.approx(0.0)
    assert d.loc["p90_wait_min", "diff_ci_low"] > 0
    assert d.loc["service_level", "diff_ci_high"] < 0


@pytest.mark.slow
def test_ticket_order_raises_vip_waits_hall() -> None:
    # Calling tickets in issue order takes the VIPs' priority away: their mean wait rises significantly
    # (paired by replication), while the regulars' falls.
    cmp, _ = _hall_compare({"counters.order": "ticket"})
    _, lo, _ = _paired_segment_ci(cmp, "vip")
    assert lo > 0
    _, _, hi = _paired_segment_ci(cmp, "regular")
    assert hi < 0


@pytest.mark.slow
def test_combined_pitch_rule_pitches_less_than_each_part_hall() -> None:
    # "Not 14:30-17:30, and never when 8 wait": pitching stops while either holds, so it pitches less
    # than the windows alone and than the queue rule alone (paired 95% CIs below 0).
    windows = {"cross_sell.policy": {"mode": "windows", "suspend": ["14:30-17:30"]}}
    threshold = {"cross_sell.policy": {"mode": "queue_threshold", "threshold": 8}}
    both = {"cross_sell.policy": {"mode": "windows", "suspend": ["14:30-17:30"], "threshold": 8}}
    for part in (windows, threshold):
        _, d = _hall_compare(both, base_updates=part)
        assert d.loc["pitches", "diff_ci_high"] < 0, part


def test_day_cv_widens_the_spread_of_daily_arrivals_not_their_mean() -> None:
    # 150 days of the FCFS store (about 360 walk-ins a day) with and without a day-to-day spread of 25%.
    # Theory: a Poisson count has variance μ; with the day's rate × a gamma factor (mean 1, CV c) it is
    # μ + c² μ² (≈ 362 → 8,530 here), the mean unchanged. Tolerances: the sample SD of 150 days is
    # within ±20% of the truth (its SE is ≈ 6% for the Poisson side, ≈ 8% for the gamma-mixed one); the
    # mean difference is paired (common random numbers: the same uniforms), so its interval is narrow.
    base = _fcfs(**{"simulation.replications": 150})
    spread = with_updates(base, {"demand.day_cv": 0.25})
    a, b = run(base), run(spread)
    mu = float(base.arrival_rates_per_hour().sum()) * base.store.interval_min / 60
    na, nb = a.days["arrivals"].to_numpy(float), b.days["arrivals"].to_numpy(float)
    assert na.std(ddof=1) == pytest.approx(np.sqrt(mu), rel=0.2)
    assert nb.std(ddof=1) == pytest.approx(np.sqrt(mu + (0.25 * mu) ** 2), rel=0.2)
    # the mean does not move: the day factor has mean 1 (99.9% interval of the mean, gamma-mixed side)
    half = 3.3 * nb.std(ddof=1) / np.sqrt(len(nb))
    assert abs(nb.mean() - mu) < half and abs(na.mean() - mu) < 3.3 * np.sqrt(mu / len(na))
    # day_cv 0 is the v1 day, replication by replication
    np.testing.assert_array_equal(run(with_updates(base, {"demand.day_cv": 0.0})).days["arrivals"], a.days["arrivals"])
