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
