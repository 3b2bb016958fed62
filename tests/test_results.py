"""simulation.results: KPIs built by name from the catalogue, CIs, costs.

Small stores and few replications: these tests check the bookkeeping (which KPI lands where, sums
that must add up), not statistics.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from simulation import results as results_mod
from simulation import run, scenario_from_dict
from storeq import kpis as catalogue


def small(**over: Any) -> Any:
    data: dict[str, Any] = {
        "name": "tiny",
        "store": {"open": "09:00", "close": "11:00", "interval_min": 30, "target_wait_min": 5},
        "demand": {"arrivals_per_hour": [30, 50, 60, 20]},
        "segments": [
            {"name": "regular", "share": 0.8, "priority": 1, "patience": {"dist": "exponential", "mean": 15}},
            {"name": "vip", "share": 0.2, "priority": 0},
        ],
        "transactions": [
            {"name": "top_up", "share": 0.6, "counter_time": {"dist": "exponential", "mean": 3},
             "kiosk_time": {"dist": "exponential", "mean": 2}},
            {"name": "plan", "share": 0.4, "counter_time": {"dist": "exponential", "mean": 6}},
        ],
        "counters": {"staffed": [2, 3, 3, 2]},
        "kiosks": {"count": 1, "adoption": 0.5},
        "cross_sell": {"acceptance": 0.3, "margin": 20, "policy": {"mode": "always"}},
        "costs": {"staff_hour": 40},
        "simulation": {"replications": 6, "seed": 3},
    }
    data.update(over)
    return scenario_from_dict(data)


def test_every_catalogue_kpi_is_reported_at_its_levels() -> None:
    res = run(small())
    assert list(res.kpis.index) == list(catalogue.names("day"))
    assert res.kpi_names("interval") == catalogue.names("interval")
    assert res.kpi_names("segment") == catalogue.names("segment")
    j = res.to_json()
    assert list(j["kpis"]) == list(catalogue.names("day"))
    assert all(set(catalogue.names("interval")) <= set(row) for row in j["intervals"])
    assert set(j["by_segment"]["vip"]) == set(catalogue.names("segment"))


def test_a_new_kpi_is_one_catalogue_entry_and_one_computation(monkeypatch: pytest.MonkeyPatch) -> None:
    # The recipe the module docstring promises: a Kpi in storeq.kpis plus a computation (here a
    # DERIVED rule from other KPIs of the same level); nothing else changes.
    dummy = catalogue.Kpi("double_served", "count", "Twice served", "Twice served", "", "A test KPI.",
                          ("day", "interval", "segment"))
    monkeypatch.setitem(catalogue.CATALOGUE, dummy.name, dummy)
    monkeypatch.setitem(results_mod.DERIVED, dummy.name, lambda v: 2 * v["served"])
    res = run(small(), replications=3)
    assert res.kpis.loc["double_served", "mean"] == pytest.approx(2 * res.kpis.loc["served", "mean"])
    assert (res.days["double_served"] == 2 * res.days["served"]).all()
    iv = res.interval_reps
    assert (iv["double_served"] == 2 * iv["served"]).all()
    assert "double_served" in set(res.by_segment["kpi"])
    j = res.to_json()
    assert j["kpis"]["double_served"]["mean"] == pytest.approx(2 * j["kpis"]["served"]["mean"])
    assert "double_served" in j["intervals"][0] and "double_served" in j["by_segment"]["regular"]


def test_a_catalogue_entry_without_a_computation_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    ghost = catalogue.Kpi("ghost_kpi", "count", "Ghost", "Ghost", "", "Never computed.", ("interval",))
    monkeypatch.setitem(catalogue.CATALOGUE, ghost.name, ghost)
    with pytest.raises(KeyError, match=r"ghost_kpi.*'interval'"):
        run(small(), replications=2)


def test_paired_differences_follow_the_kpi_names() -> None:
    from simulation import compare

    sc = small()
    more = small(counters={"staffed": [3, 4, 4, 3]})
    cmp = compare([sc, more], replications=4)
    d = cmp.differences.set_index("kpi")
    assert list(d.index) == list(catalogue.names("day"))
    exp = cmp.results[1].days["staff_hours"] - cmp.results[0].days["staff_hours"]
    assert d.loc["staff_hours", "diff_mean"] == pytest.approx(float(exp.mean()))
    assert d.loc["staff_hours", "diff_mean"] == pytest.approx(4 * 0.5)  # four more counter-half-hours
    assert np.isfinite(cmp.interval_differences["diff_mean"]).any()


def test_proportion_intervals_stay_inside_0_1() -> None:
    # Plenty of counters: most days serve everyone within target (service level 1) and a few do not,
    # so the t interval of the daily proportions reaches above 1 and must be clipped there.
    sc = small(counters={"staffed": 7}, kiosks={"count": 0}, cross_sell={"policy": {"mode": "never"}})
    res = run(sc, replications=12, seed=2)
    days = res.days["service_level"]
    assert (days == 1).any() and (days < 1).any()  # the situation of issue 14 (1.000 [1.000, 1.013])
    shares = [k for k in res.kpi_names("day") if catalogue.kpi(k).unit == "share"]
    for frame in (res.kpis.loc[shares], res.intervals[res.intervals["kpi"].isin(shares)],
                  res.by_segment[res.by_segment["kpi"].isin(shares)]):
        lo, hi = frame["ci_low"].dropna(), frame["ci_high"].dropna()
        assert ((lo >= 0) & (hi <= 1)).all()
    # clipping is all that changes: the unclipped t interval still has the mean inside, and the
    # upper bound is exactly 1 where the t interval overshoots
    _, lo, hi = results_mod.mean_ci(res.days[["service_level"]].to_numpy())
    assert hi[0] > 1 and res.kpis.loc["service_level", "ci_high"] == 1.0
    assert res.kpis.loc["service_level", "ci_low"] == pytest.approx(lo[0])
    j = res.to_json()["kpis"]["service_level"]
    assert j["ci_high"] == 1.0 and j["ci_low"] <= j["mean"] <= 1.0


def test_costs_add_up_per_day_and_per_interval() -> None:
    sc = small(kiosks={"count": 2, "adoption": 0.5, "greeter": True},
               costs={"staff_hour": 40, "greeter_hour": 25, "kiosk_day": 90, "currency": "EUR"})
    res = run(sc, replications=3)
    k = res.kpis["mean"]
    # by hand: staffed [2, 3, 3, 2] half-hours = 5 staff hours → 200; greeter 2 h × 25 = 50; kiosks 2 × 90
    assert k["staff_cost"] == pytest.approx(200)
    assert k["greeter_cost"] == pytest.approx(50)
    assert k["kiosk_cost"] == pytest.approx(180)
    assert k["total_cost"] == pytest.approx(430)
    assert (res.days["net_margin"] == res.days["cross_sell_revenue"] - res.days["total_cost"]).all()
    assert res.days["cross_sell_revenue"].gt(0).all()  # so net margin is not just −cost
    iv = res.interval_reps
    assert (iv["total_cost"] == iv["staff_cost"] + iv["greeter_cost"] + iv["kiosk_cost"]).all()
    assert np.allclose(iv["net_margin"], iv["cross_sell_revenue"] - iv["total_cost"])
    assert iv[iv["replication"] == 0]["staff_cost"].tolist() == [40, 60, 60, 40]
    assert iv[iv["replication"] == 0]["kiosk_cost"].tolist() == pytest.approx([45] * 4)
    # the intervals add up to the day, for every money KPI and every replication
    by_rep = iv.groupby("replication")[["staff_cost", "greeter_cost", "kiosk_cost", "total_cost", "net_margin"]].sum()
    assert np.allclose(by_rep.to_numpy(), res.days[by_rep.columns].to_numpy())
    assert res.currency == "EUR" and res.to_json()["currency"] == "EUR"
    # a day cost is the same in every replication: its interval collapses on the mean
    assert res.kpis.loc["total_cost", "ci_low"] == res.kpis.loc["total_cost", "ci_high"] == pytest.approx(430)


def test_no_greeter_costs_nothing_and_currency_defaults_to_cny() -> None:
    res = run(small(costs={"staff_hour": 40, "greeter_hour": 25}), replications=2)
    assert res.kpis.loc["greeter_cost", "mean"] == 0 and res.kpis.loc["kiosk_cost", "mean"] == 0
    assert res.currency == "CNY" and res.to_json()["currency"] == "CNY"


def test_currency_must_be_a_short_code() -> None:
    from simulation import ScenarioError

    with pytest.raises(ScenarioError, match=r"costs\.currency.*1 to 8 characters"):
        small(costs={"currency": "Chinese yuan"})


def test_greeter_windows_are_paid_for_their_hours_only() -> None:
    # greeter 09:15-10:00 on 30-minute intervals: half of 09:00-09:30, all of 09:30-10:00 → 0.75 h × 20
    sc = small(kiosks={"count": 1, "adoption": 0.5, "greeter": ["09:15-10:00"]}, costs={"greeter_hour": 20})
    res = run(sc, replications=2)
    iv = res.interval_reps[res.interval_reps["replication"] == 0]
    assert iv["greeter_cost"].tolist() == pytest.approx([5, 10, 0, 0])
    assert res.kpis.loc["greeter_cost", "mean"] == pytest.approx(15)


def test_v1_store_has_one_regular_group_that_adds_up_to_the_store() -> None:
    sc = small(counters={"staffed": 3}, kiosks={"count": 0}, cross_sell={"policy": {"mode": "never"}})
    res = run(sc, replications=4, keep_customers=True)
    assert list(dict.fromkeys(res.by_group["group"])) == ["regular"]
    assert res.kpi_names("group") == catalogue.names("group")
    g = res.group_reps.set_index("replication")
    d = res.days.set_index("replication")
    cust = res.customers
    assert cust is not None
    counter_served = cust[(cust["outcome"] == "served") & cust["service_start_min"].notna()]
    assert (counter_served["group"] == "regular").all() and cust.loc[cust["counter_id"] < 0, "group"].isna().all()
    assert g["served"].tolist() == counter_served.groupby("replication").size().tolist()
    # one group, constant staffing: its utilization and staffing are the store's
    assert np.allclose(g["utilization"], d["utilization"]) and (g["staffed"] == 3).all()
    assert np.allclose(g["busy_counter_min"], d["utilization"] * 3 * 120)
    w = counter_served.groupby("replication")["wait_min"].mean()
    assert np.allclose(g["mean_wait_min"], w) and np.allclose(d["mean_wait_min"], w)


def test_counter_groups_report_each_groups_own_work() -> None:
    groups = [
        {"name": "general", "staffed": [2, 2, 3, 2]},
        {"name": "payments", "staffed": 1, "transactions": ["top_up"]},
    ]
    sc = small(counters={"groups": groups}, kiosks={"count": 0}, cross_sell={"policy": {"mode": "never"}})
    res = run(sc, replications=4, keep_customers=True)
    cust = res.customers
    assert cust is not None
    assert set(cust.loc[cust["group"] == "payments", "transaction"]) == {"top_up"}
    assert set(cust.loc[cust["group"] == "general", "transaction"]) == {"top_up", "plan"}
    gi = res.group_intervals.pivot_table(index=["group", "interval"], columns="kpi", values="mean")
    assert gi.loc["general", "staffed"].tolist() == [2, 2, 3, 2] and gi.loc["payments", "staffed"].tolist() == [1] * 4
    g = res.group_reps
    counter_served = cust[(cust["outcome"] == "served") & cust["service_start_min"].notna()]
    # each group's busy time is its customers' service time inside the opening hours (0-120 min)
    inside = counter_served.assign(busy=counter_served["service_end_min"].clip(upper=120) - counter_served["service_start_min"].clip(upper=120))
    expect = inside.groupby(["replication", "group"])["busy"].sum()
    got = g.set_index(["replication", "group"])["busy_counter_min"]
    assert np.allclose(got.loc[expect.index], expect)
    assert g.groupby("replication")["served"].sum().tolist() == counter_served.groupby("replication").size().tolist()
    # per interval sums to the day, per group
    ivs = res.group_intervals
    for grp in ("general", "payments"):
        day = res.by_group[(res.by_group["group"] == grp) & (res.by_group["kpi"] == "served")]["mean"].item()
        assert ivs[(ivs["group"] == grp) & (ivs["kpi"] == "served")]["mean"].sum() == pytest.approx(day)
    j = res.to_json()["by_group"]
    assert list(j) == ["general", "payments"]
    assert set(j["payments"]["kpis"]) == set(catalogue.names("group"))
    assert [r["start"] for r in j["payments"]["intervals"]] == ["09:00", "09:30", "10:00", "10:30"]
    assert j["payments"]["intervals"][2]["staffed"]["mean"] == 1
