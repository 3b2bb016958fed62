"""Every behaviour of DESIGN.md "Model semantics", checked on random days.

Two kinds of check:

* **Invariants from the customer records** (exact, any seed): e.g. no service start while as many
  customers are in service as counters are staffed; a pitch exactly when the policy allowed it at the
  moment the main transaction ended; abandonment exactly at join + patience. These replay the
  semantics against the log, so they fail on any rule violation, not just on a drift of the mean.
* **Frequencies against their probabilities** (fixed seeds), each with its tolerance derived in the
  test from the binomial / Poisson standard error (4.5 standard errors: a false alarm has probability
  below 1e-5 per check, while a wrong rule, e.g. an adoption of 0.5 instead of 0.6, is off by > 10 SE).
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from simulation import KPI_NAMES, compare, run, scenario_from_dict
from simulation.engine import draw_customers, replication_streams

Z = 4.5  # standard errors allowed on frequency checks (see module docstring)

BASE: dict[str, Any] = {
    "name": "behaviour",
    "store": {"open": "09:00", "close": "13:00", "interval_min": 30, "target_wait_min": 5},
    "demand": {"arrivals_per_hour": [40, 80, 120, 60, 100, 140, 50, 30]},
    "segments": [
        {"name": "regular", "share": 0.7, "priority": 1, "patience": {"dist": "exponential", "mean": 15}},
        {"name": "vip", "share": 0.2, "priority": 0, "patience": {"dist": "exponential", "mean": 10}},
        {"name": "sensitive", "share": 0.1, "priority": 1, "pitch": False},
    ],
    "transactions": [
        {
            "name": "top_up",
            "share": 0.5,
            "counter_time": {"dist": "lognormal", "mean": 2.5, "cv": 0.5},
            "kiosk_time": {"dist": "lognormal", "mean": 1.5, "cv": 0.4},
        },
        {"name": "plan", "share": 0.5, "counter_time": {"dist": "gamma", "mean": 6, "cv": 0.7}},
    ],
    "counters": {"staffed": [3, 2, 5, 4, 3, 6, 2, 3], "vip": 1},
    "kiosks": {"count": 2, "adoption": 0.6, "greeter_adoption": 0.9, "failure": 0.1},
    "cross_sell": {
        "pitch_time": {"dist": "exponential", "mean": 3},
        "acceptance": 0.3,
        "margin": 20,
        "policy": {"mode": "queue_threshold", "threshold": 3},
    },
    "balking": {"queue_at_least": 6},
    "costs": {"staff_hour": 30},
    "simulation": {"replications": 4, "seed": 11, "warmup_min": 0},
}


def make(**over: Any) -> Any:
    """BASE with dotted-key overrides (``kiosks__count=0`` sets kiosks.count)."""
    data = copy.deepcopy(BASE)
    for key, value in over.items():
        node = data
        parts = key.split("__")
        for p in parts[:-1]:
            node = node[p]
        node[parts[-1]] = value
    return scenario_from_dict(data, "test")


def records(sc: Any, reps: int = 4, seed: int = 11) -> pd.DataFrame:
    res = run(sc, replications=reps, seed=seed, keep_customers=True)
    assert res.customers is not None
    return res.customers


def queue_leave(c: pd.DataFrame) -> np.ndarray:
    """When each customer stopped waiting at the counters: service start, or leaving on abandonment."""
    return np.where(c["outcome"] == "abandoned", c["leave_min"], c["service_start_min"])


def predrawn(sc: Any, seed: int, r: int) -> Any:
    return draw_customers(sc, replication_streams(seed, r))


# ---------------------------------------------------------------------------------------------
# arrivals
# ---------------------------------------------------------------------------------------------


def test_arrival_counts_per_interval_follow_the_profile() -> None:
    # Sharp steps (including a zero interval) expose a rate looked up once and carried across a
    # boundary. 600 days: the mean count per interval has SE sqrt(mean/600).
    rates = [0, 240, 12, 120, 0, 60, 300, 30]
    sc = make(demand={"arrivals_per_hour": rates, "scale": 1.5})
    reps = 600
    counts = np.zeros((reps, 8))
    for r in range(reps):
        c = predrawn(sc, 5, r)
        assert np.all(np.diff(c.arrival_min) >= 0) and (c.arrival_min < 240).all() and (c.arrival_min >= 0).all()
        counts[r] = np.bincount((c.arrival_min // 30).astype(int), minlength=8)
    expected = np.array(rates) * 1.5 / 2
    se = np.sqrt(np.maximum(expected, 1e-9) / reps)
    assert counts[:, 0].sum() == 0 and counts[:, 4].sum() == 0
    assert np.all(np.abs(counts.mean(axis=0) - expected) <= Z * se), (counts.mean(axis=0), expected)
    # Poisson: variance equals the mean (a fixed count per interval would fail this)
    var = counts[:, [1, 6]].var(axis=0, ddof=1)
    assert np.all(np.abs(var / expected[[1, 6]] - 1) < 0.25)  # SE of var/mean ≈ sqrt(2/600) ≈ 0.06


def test_interval_arrivals_kpi_applies_scale_and_day_factor() -> None:
    # 2026-11-27 is a Friday and the 27th: factor 1.2 (Friday) × 1.5 (27th) = 1.8.
    weekday = [1, 1, 1, 1, 1.2, 1, 1]
    sc = make(
        demand={"arrivals_per_hour": 60, "scale": 0.5, "weekday_factors": weekday, "day_of_month_factors": {27: 1.5}},
        store={"open": "09:00", "close": "13:00", "interval_min": 30, "target_wait_min": 5, "date": "2026-11-27"},
    )
    res = run(sc, replications=200, seed=2)
    per_interval = res.interval_reps.groupby("interval")[["arrivals", "diverted"]].mean().sum(axis=1)
    expected = 60 * 0.5 * 1.8 / 2  # 27 per 30 minutes
    assert np.all(np.abs(per_interval - expected) <= Z * math.sqrt(expected / 200))


def test_online_diversion_removes_only_kiosk_eligible_demand() -> None:
    sc = make(demand={"arrivals_per_hour": 120, "online_diversion": 0.4})
    res = run(sc, replications=60, seed=3, keep_customers=True)
    days = res.days
    assert (days["diverted"] > 0).all()
    c = res.customers
    assert c is not None
    # diverted customers never walk in: not in the records, not in arrivals
    assert len(c) == days["arrivals"].sum()
    # top_up (the only kiosk-eligible transaction) is half of demand: diverted ≈ 0.4 × 0.5 of all demand
    demand = days["arrivals"] + days["diverted"]
    p = 0.2
    share = days["diverted"].sum() / demand.sum()
    assert abs(share - p) <= Z * math.sqrt(p * (1 - p) / demand.sum())
    # walk-ins: top_up share falls to 0.3/0.8
    q = 0.3 / 0.8
    top = (c["transaction"] == "top_up").mean()
    assert abs(top - q) <= Z * math.sqrt(q * (1 - q) / len(c))


# ---------------------------------------------------------------------------------------------
# counters: priority, VIP counters, schedules
# ---------------------------------------------------------------------------------------------


def busy_at(c: pd.DataFrame, t: float, counter: int | None = None) -> int:
    """Customers in service at time t (started before t, ending after t)."""
    s, e = c["service_start_min"].to_numpy(), c["service_end_min"].to_numpy()
    m = (s < t) & (e > t)
    if counter is not None:
        m &= c["counter_id"].to_numpy() == counter
    return int(m.sum())


def test_schedule_no_overlap_nobody_interrupted_and_counter_ids_exclusive() -> None:
    sc = make(balking={"queue_at_least": None})
    staffed = sc.staffed_schedule()
    for rep in range(3):
        res = run(sc, replications=1, seed=40 + rep, keep_customers=True)
        c = res.customers
        assert c is not None
        served = c[c["service_start_min"].notna()]
        starts = served["service_start_min"].to_numpy()
        ends = served["service_end_min"].to_numpy()
        for t in np.unique(starts):
            # in service right after t, counting those starting at t
            n_in = int(np.sum((starts <= t) & (ends > t)))
            on_duty = staffed[min(int(t // 30), 7)]
            assert n_in <= on_duty, f"{n_in} in service at {t} with {on_duty} staffed"
        # nobody interrupted: service time is exactly counter time (+ pitch), from the pre-drawn customers
        pre = predrawn(sc, 40 + rep, 0)
        idx = served["customer"].to_numpy()
        dur = pre.counter_time[idx] + np.where(served["pitched"], pre.pitch_time[idx], 0.0)
        np.testing.assert_allclose(ends - starts, dur, rtol=0, atol=1e-9)
        assert served["counter_id"].between(0, sc.physical_counters - 1).all()
        # one customer at a time per counter
        for _, g in served.groupby("counter_id"):
            g = g.sort_values("service_start_min")
            assert np.all(g["service_start_min"].to_numpy()[1:] >= g["service_end_min"].to_numpy()[:-1] - 1e-9)


def test_priority_non_preemptive_fcfs_within_priority() -> None:
    sc = make(
        segments=[
            {"name": "regular", "share": 0.8, "priority": 1},
            {"name": "vip", "share": 0.2, "priority": 0},
        ],
        kiosks={"count": 0},
        balking={"queue_at_least": None},
        counters={"staffed": 3, "vip": 0},
    )
    res = run(sc, replications=3, seed=9, keep_customers=True)
    c = res.customers
    assert c is not None
    prio = c["segment"].map({"regular": 1, "vip": 0}).to_numpy()
    for _, day in c.assign(prio=prio).groupby("replication"):
        for _prio, g in day.groupby("prio"):
            g = g.sort_values("queue_join_min")
            # FCFS within a priority: start order = join order
            assert np.all(np.diff(g["service_start_min"].to_numpy()) >= 0)
        # priority: whenever a regular started, no VIP had been waiting since before that moment
        reg = day[day["prio"] == 1]
        vip = day[day["prio"] == 0]
        for t in reg["service_start_min"]:
            waiting_vip = (vip["queue_join_min"] < t) & (vip["service_start_min"] > t)
            assert not waiting_vip.any()
    w = res.by_segment.set_index(["segment", "kpi"])["mean"]
    assert w["vip", "mean_wait_min"] < 0.5 * w["regular", "mean_wait_min"]


def test_vip_counter_serves_top_priority_first_then_others() -> None:
    sc = make(counters={"staffed": 4, "vip": 1}, balking={"queue_at_least": None})
    c = records(sc, reps=3)
    for _, day in c.groupby("replication"):
        served = day[day["service_start_min"].notna()]
        for row in served.itertuples():
            t = row.service_start_min
            others = served[(served["service_start_min"] < t) & (served["service_end_min"] > t)]
            vip_busy = (others["counter_id"] == 0).any()
            regular_busy = int((others["counter_id"] > 0).sum())
            if row.segment == "vip" and row.counter_id != 0:
                assert vip_busy, f"VIP customer {row.customer} sent to a regular counter while the VIP counter was idle"
            if row.segment != "vip" and row.counter_id == 0:
                assert regular_busy == 3, f"customer {row.customer} took the VIP counter while a regular one was idle"
    # the VIP counter does serve others when no VIP waits (not reserved)
    assert ((c["counter_id"] == 0) & (c["segment"] != "vip")).any()


def test_vip_counter_never_closed_by_a_schedule_drop() -> None:
    sc = make(counters={"staffed": [4, 1, 4, 1, 4, 1, 4, 1], "vip": 1})
    c = records(sc, reps=2)
    served = c[c["service_start_min"].notna()]
    # in the 1-counter intervals, everyone who starts does so at the VIP counter (the one left open)
    for row in served.itertuples():
        if int(row.service_start_min // 30) % 2 == 1 and row.service_start_min < 240:
            assert row.counter_id == 0, row


# ---------------------------------------------------------------------------------------------
# kiosks
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("greeter", [False, True])
def test_kiosk_adoption_failure_and_fcfs(greeter: bool) -> None:
    sc = make(kiosks={"count": 2, "adoption": 0.6, "greeter_adoption": 0.9, "greeter": greeter, "failure": 0.1})
    c = records(sc, reps=30)
    eligible = c[c["transaction"] == "top_up"]
    p = 0.9 if greeter else 0.6
    share = eligible["used_kiosk"].mean()
    assert abs(share - p) <= Z * math.sqrt(p * (1 - p) / len(eligible))
    assert not c.loc[c["transaction"] == "plan", "used_kiosk"].any()
    k = c[c["used_kiosk"]]
    fail = k["kiosk_failed"].mean()
    assert abs(fail - 0.1) <= Z * math.sqrt(0.09 / len(k))
    # a failed visit joins the counter queue the moment it leaves the kiosk; a success never does
    failed = k[k["kiosk_failed"]]
    np.testing.assert_array_equal(failed["queue_join_min"], failed["kiosk_end_min"])
    assert k.loc[~k["kiosk_failed"], "queue_join_min"].isna().all()
    assert (k.loc[~k["kiosk_failed"], "outcome"] == "served").all()
    for _, day in k.groupby("replication"):
        day = day.sort_values("kiosk_join_min")
        assert np.all(np.diff(day["kiosk_start_min"].to_numpy()) >= 0)  # FCFS
        s, e = day["kiosk_start_min"].to_numpy(), day["kiosk_end_min"].to_numpy()
        for t in s:
            assert np.sum((s <= t) & (e > t)) <= 2  # never more than 2 kiosks in use


def test_no_kiosks_means_nobody_uses_one() -> None:
    res = run(make(kiosks={"count": 0}), replications=3, seed=1)
    assert (res.days["kiosk_share"] == 0).all()
    assert res.days["kiosk_mean_wait_min"].isna().all()


def test_kiosk_share_kpi_matches_records() -> None:
    sc = make()
    res = run(sc, replications=3, seed=7, keep_customers=True)
    c = res.customers
    assert c is not None
    share = c.groupby("replication")["used_kiosk"].mean().to_numpy()
    np.testing.assert_allclose(res.days["kiosk_share"], share)


# ---------------------------------------------------------------------------------------------
# cross-sell
# ---------------------------------------------------------------------------------------------


def _pitch_setup(policy: dict[str, Any]) -> tuple[Any, pd.DataFrame, np.ndarray]:
    sc = make(cross_sell={**BASE["cross_sell"], "policy": policy})
    c = records(sc, reps=1, seed=21)
    pre = predrawn(sc, 21, 0)
    served = c[c["service_start_min"].notna()]
    main_end = served["service_start_min"].to_numpy() + pre.counter_time[served["customer"].to_numpy()]
    return sc, served, main_end


def test_policy_always_pitches_every_eligible_counter_customer() -> None:
    _, served, _ = _pitch_setup({"mode": "always"})
    assert served.loc[served["segment"] != "sensitive", "pitched"].all()
    assert not served.loc[served["segment"] == "sensitive", "pitched"].any()


def test_policy_never_pitches_nobody() -> None:
    sc = make(cross_sell={**BASE["cross_sell"], "policy": {"mode": "never"}})
    res = run(sc, replications=3, seed=4)
    assert (res.days["pitches"] == 0).all() and (res.days["cross_sell_revenue"] == 0).all()


def test_policy_windows_decides_at_the_end_of_the_main_transaction() -> None:
    _, served, main_end = _pitch_setup({"mode": "windows", "suspend": ["10:00-11:00", "12:00-12:30"]})
    inside = ((main_end >= 60) & (main_end < 120)) | ((main_end >= 180) & (main_end < 210))
    eligible = (served["segment"] != "sensitive").to_numpy()
    np.testing.assert_array_equal(served["pitched"].to_numpy(), eligible & ~inside)
    assert inside.any() and (eligible & ~inside).any()


def test_policy_queue_threshold_uses_the_queue_at_that_moment() -> None:
    sc, served, main_end = _pitch_setup({"mode": "queue_threshold", "threshold": 3})
    c = records(sc, reps=1, seed=21)
    joined, left = c["queue_join_min"].to_numpy(), queue_leave(c)
    eligible = (served["segment"] != "sensitive").to_numpy()
    # Waiting at the decision: the customer who takes this counter when no pitch is made starts at
    # exactly that moment, after the decision, so a start at t still counts as waiting (left >= t).
    waiting = np.array([np.sum((joined <= t) & (left >= t)) for t in main_end])
    expect = eligible & (waiting < 3)
    np.testing.assert_array_equal(served["pitched"].to_numpy(), expect)
    assert expect.any() and (eligible & ~expect).any()  # both branches happened


def test_pitch_acceptance_and_revenue() -> None:
    sc = make(cross_sell={**BASE["cross_sell"], "policy": {"mode": "always"}})
    res = run(sc, replications=20, seed=8)
    d = res.days
    n = d["pitches"].sum()
    assert abs(d["pitch_accepted"].sum() / n - 0.3) <= Z * math.sqrt(0.21 / n)
    np.testing.assert_array_equal(d["cross_sell_revenue"], d["pitch_accepted"] * 20)
    seg = res.segment_reps[res.segment_reps["segment"] == "sensitive"]
    assert (seg["pitches"] == 0).all()


def test_suspending_pitches_shortens_waits_under_common_random_numbers() -> None:
    a = make(cross_sell={**BASE["cross_sell"], "policy": {"mode": "always"}}, balking={"queue_at_least": None})
    b = make(cross_sell={**BASE["cross_sell"], "policy": {"mode": "never"}}, balking={"queue_at_least": None})
    cmp = compare([a, b], replications=20, seed=5)
    d = cmp.differences.set_index("kpi")
    assert d.loc["mean_wait_min", "diff_ci_high"] < 0
    assert d.loc["arrivals", "diff_mean"] == 0  # same customers


# ---------------------------------------------------------------------------------------------
# abandonment, balking, closing, warm-up, conservation
# ---------------------------------------------------------------------------------------------


def test_abandonment_exactly_at_patience_and_served_within_it() -> None:
    sc = make(balking={"queue_at_least": None}, counters={"staffed": 2, "vip": 0})
    res = run(sc, replications=1, seed=13, keep_customers=True)
    c = res.customers
    assert c is not None
    pre = predrawn(sc, 13, 0)
    pat = pre.patience[c["customer"].to_numpy()]
    ab = (c["outcome"] == "abandoned").to_numpy()
    assert ab.sum() > 20
    np.testing.assert_allclose(c.loc[ab, "leave_min"], c.loc[ab, "queue_join_min"] + pat[ab], rtol=0, atol=1e-9)
    assert c.loc[ab, "service_start_min"].isna().all()
    served = c["service_start_min"].notna().to_numpy()
    assert np.all(
        c["wait_min"].to_numpy()[served & ~c["used_kiosk"].to_numpy()]
        <= pat[served & ~c["used_kiosk"].to_numpy()] + 1e-9
    )
    # sensitive customers (no patience) never abandon
    assert not (ab & (c["segment"] == "sensitive").to_numpy()).any()
    d = res.days.iloc[0]
    assert d["abandonment_rate"] == pytest.approx(ab.sum() / c["queue_join_min"].notna().sum())


def test_balking_only_when_queue_at_least_n() -> None:
    sc = make(balking={"queue_at_least": 4}, counters={"staffed": 2, "vip": 0})
    res = run(sc, replications=1, seed=17, keep_customers=True)
    c = res.customers
    assert c is not None
    joined, left = c["queue_join_min"].to_numpy(), queue_leave(c)

    def waiting(t: float) -> int:
        return int(np.sum((joined < t) & (left > t)))

    balked = c[c["outcome"] == "balked"]
    assert len(balked) > 5
    for t in balked["arrival_min"]:
        assert waiting(t) >= 4
    direct = c[(~c["used_kiosk"]) & (c["outcome"] != "balked")]
    for t in direct["arrival_min"]:
        assert waiting(t) < 4
    assert res.days["balked"].iloc[0] == len(balked)


def test_doors_close_and_last_interval_counters_serve_everyone_inside() -> None:
    # Overloaded, patient customers: a queue at closing that the last interval's 3 counters clear.
    sc = make(
        segments=[{"name": "regular", "share": 1.0, "priority": 1}],
        balking={"queue_at_least": None},
        counters={"staffed": 3, "vip": 0},
        demand={"arrivals_per_hour": 60},
    )
    res = run(sc, replications=2, seed=3, keep_customers=True)
    c = res.customers
    assert c is not None
    assert (c["arrival_min"] < 240).all()
    assert (c["outcome"] == "served").all()
    late = c[c["service_start_min"] >= 240]
    assert len(late) > 5  # people still inside at closing were served afterwards
    ends = c.groupby("replication")[["service_end_min", "kiosk_end_min"]].max().max(axis=1)
    np.testing.assert_allclose(res.days["last_departure_min"], ends)
    assert (res.days["last_departure_min"] > 240).all()
    for _, day in c.groupby("replication"):
        s, e = day["service_start_min"].to_numpy(), day["service_end_min"].to_numpy()
        for t in s[s >= 240]:
            assert np.sum((s <= t) & (e > t)) <= 3
    # staff hours are the schedule's opening hours only
    assert (res.days["staff_hours"] == 12).all()
    assert (res.days["staff_cost"] == 12 * 30).all()


def test_warmup_drops_early_customers_and_time() -> None:
    a = make()
    b = make(simulation={**BASE["simulation"], "warmup_min": 60})
    ra = run(a, replications=3, seed=6, keep_customers=True)
    rb = run(b, replications=3, seed=6)
    c = ra.customers
    assert c is not None
    late = c[c["arrival_min"] >= 60].groupby("replication").size().to_numpy()
    np.testing.assert_array_equal(rb.days["arrivals"], late)
    ivb = rb.interval_reps
    early = ivb[ivb["interval"] < 2]
    assert (early["arrivals"] == 0).all()
    assert early[["mean_wait_min", "utilization", "mean_queue_len"]].isna().all().all()
    # after the warm-up, interval KPIs are unchanged
    iva = ra.interval_reps
    cols = ["arrivals", "mean_wait_min", "utilization", "mean_queue_len"]
    np.testing.assert_allclose(iva.loc[iva["interval"] >= 2, cols], ivb.loc[ivb["interval"] >= 2, cols])
    assert (rb.days["staff_hours"] == ra.days["staff_hours"]).all()


@pytest.mark.parametrize(
    "over",
    [
        {},
        {"balking": {"queue_at_least": 1}},
        {"counters": {"staffed": [1, 0, 2, 0, 1, 3, 0, 1], "vip": 0}},
        {"demand": {"arrivals_per_hour": 200, "online_diversion": 0.5}},
        {"kiosks": {"count": 1, "adoption": 1.0, "failure": 1.0}},
    ],
    ids=["base", "balk_at_1", "gaps_in_schedule", "heavy_diverted", "all_kiosk_fail"],
)
def test_conservation_in_every_replication(over: dict[str, Any]) -> None:
    res = run(make(**over), replications=8, seed=23)
    d = res.days
    np.testing.assert_array_equal(d["arrivals"], d["served"] + d["abandoned"] + d["balked"])
    iv = res.interval_reps
    np.testing.assert_array_equal(iv["arrivals"], iv["served"] + iv["abandoned"] + iv["balked"])
    sg = res.segment_reps
    np.testing.assert_array_equal(sg["arrivals"], sg["served"] + sg["abandoned"] + sg["balked"])
    # per-interval and per-segment counts add up to the day
    for k in ("arrivals", "served", "abandoned", "balked", "diverted", "pitches"):
        np.testing.assert_array_equal(iv.groupby("replication")[k].sum(), d[k])
        np.testing.assert_array_equal(sg.groupby("replication")[k].sum(), d[k])


def test_common_random_numbers_same_customers_whatever_the_staffing() -> None:
    a = records(make(counters={"staffed": 2, "vip": 0}), reps=2, seed=31)
    b = records(make(counters={"staffed": 6, "vip": 1}), reps=2, seed=31)
    cols = ["replication", "customer", "segment", "transaction", "arrival_min", "used_kiosk"]
    pd.testing.assert_frame_equal(a[cols], b[cols])


def test_kpi_table_shape_and_ci() -> None:
    res = run(make(), replications=5, seed=1)
    assert list(res.kpis.index) == list(KPI_NAMES)
    assert list(res.kpis.columns) == ["mean", "ci_low", "ci_high"]
    k = res.kpis
    ok = k["ci_low"].notna()
    assert (k.loc[ok, "ci_low"] <= k.loc[ok, "mean"]).all() and (k.loc[ok, "mean"] <= k.loc[ok, "ci_high"]).all()
    # the CI is the Student t interval of the per-replication values
    x = res.days["mean_wait_min"].to_numpy()
    half = 2.7764451051977987 * x.std(ddof=1) / math.sqrt(5)  # t_{0.975, 4}
    assert k.loc["mean_wait_min", "ci_high"] == pytest.approx(x.mean() + half)
    j = res.to_json()
    assert set(j) >= {"scenario", "replications", "seed", "kpis", "by_segment", "intervals", "provenance"}
    assert len(j["intervals"]) == 8 and j["intervals"][0]["start"] == "09:00"
    assert set(j["by_segment"]) == {"regular", "vip", "sensitive"}


# ---------------------------------------------------------------------------------------------
# API details
# ---------------------------------------------------------------------------------------------


def test_progress_reaches_total_and_numpy_ints_accepted() -> None:
    seen: list[tuple[int, int]] = []
    res = run(make(), replications=np.int64(12), seed=np.int64(3), progress=lambda d, t: seen.append((d, t)))
    assert res.replications == 12 and seen[-1] == (12, 12)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    with pytest.raises(ValueError, match="replications"):
        run(make(), replications=0)


def test_compare_pairs_replications_and_beats_unpaired_precision() -> None:
    a = make(counters={"staffed": 3, "vip": 0})
    b = make(counters={"staffed": 4, "vip": 0})
    cmp = compare([a, b, a], replications=20, seed=12)
    assert cmp.labels == ["behaviour", "behaviour (2)", "behaviour (3)"]
    d = cmp.differences.set_index(["scenario", "kpi"])
    more = d.loc["behaviour (2)"]
    assert more.loc["mean_wait_min", "diff_ci_high"] < 0  # one more counter shortens waits
    # the identical scenario differs by exactly nothing (same customers, same days)
    same = d.loc["behaviour (3)"]
    assert (same["diff_mean"].fillna(0) == 0).all()
    # pairing: the difference's CI is narrower than an unpaired one built from the two runs' own CIs
    ra, rb = cmp.results[0].kpis, cmp.results[1].kpis
    unpaired = math.hypot(
        ra.loc["mean_wait_min", "ci_high"] - ra.loc["mean_wait_min", "mean"],
        rb.loc["mean_wait_min", "ci_high"] - rb.loc["mean_wait_min", "mean"],
    )
    paired = more.loc["mean_wait_min", "diff_ci_high"] - more.loc["mean_wait_min", "diff_mean"]
    assert paired < unpaired
    iv = cmp.interval_differences
    assert len(iv) == 2 * 8 * len(set(iv["kpi"])) and iv["start"].iloc[0] == "09:00"
    np.testing.assert_array_equal(iv.loc[iv["kpi"] == "staffed", "diff_mean"].to_numpy()[:8], 1.0)


def test_json_has_no_nan() -> None:
    import json

    res = run(make(kiosks={"count": 0}), replications=2, seed=1)
    text = json.dumps(res.to_json(), allow_nan=False)
    j = json.loads(text)
    assert j["kpis"]["kiosk_mean_wait_min"] == {"mean": None, "ci_low": None, "ci_high": None}
    assert j["replications"] == 2 and j["seed"] == 1
    assert j["provenance"]["scenario_hash"] == make(kiosks={"count": 0}).digest()
