"""Inverse-transform sampling and the common-random-numbers coupling it buys.

Each distribution's ``ppf`` (inverse CDF) is compared with scipy.stats' quantile functions (exact to
~1e-10, no statistics needed), the normal quantile with the standard library's; the coupling tests check exact properties: a busier day contains every customer of the
quieter one, and a faster transaction shortens every customer's time by the same factor.
"""

from __future__ import annotations

import copy
from statistics import NormalDist
from typing import Any

import numpy as np
import pytest
from scipy import stats

from simulation import compare, scenario_from_dict
from simulation.distributions import Deterministic, Empirical, Exponential, Gamma, Lognormal, Triangular, Uniform
from simulation.engine import draw_customers, replication_streams
from simulation.sampling import norm_ppf, poisson_inverse

U = np.concatenate([np.random.default_rng(0).random(5000), [0.0, 1e-12, 0.02425, 0.5, 0.97575, 1 - 1e-12]])


def test_norm_ppf_matches_the_standard_librarys_normal_quantile() -> None:
    ref = np.array([NormalDist().inv_cdf(x) if x > 0 else -np.inf for x in U])
    got = norm_ppf(U)
    assert got[U == 0] == -np.inf
    np.testing.assert_allclose(got[U > 0], ref[U > 0], rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize(
    ("dist", "ref"),
    [
        (Exponential(mean=4.0), stats.expon(scale=4.0)),
        (Lognormal(mean=2.5, cv=0.5), stats.lognorm(s=np.sqrt(np.log1p(0.25)), scale=2.5 / np.sqrt(1.25))),
        (Gamma(mean=6.0, cv=0.7), stats.gamma(a=1 / 0.49, scale=6.0 * 0.49)),
        (Gamma(mean=3.0, cv=1.8), stats.gamma(a=1 / 3.24, scale=3.0 * 3.24)),
        (Uniform(low=1.0, high=4.0), stats.uniform(loc=1.0, scale=3.0)),
        (Triangular(low=1.0, mode=2.0, high=6.0), stats.triang(c=0.2, loc=1.0, scale=5.0)),
        (Triangular(low=1.0, mode=1.0, high=6.0), stats.triang(c=0.0, loc=1.0, scale=5.0)),
    ],
    ids=["exponential", "lognormal", "gamma", "gamma_cv_above_1", "uniform", "triangular", "triangular_mode_low"],
)
def test_ppf_matches_scipy(dist: Any, ref: Any) -> None:
    u = U[(U > 0) & (U < 1 - 1e-9)]
    np.testing.assert_allclose(dist.ppf(u), ref.ppf(u), rtol=1e-9, atol=1e-12)
    # and the sampled moments agree with the distribution's own analytic ones
    x = dist.ppf(np.random.default_rng(1).random(200_000))
    se = np.sqrt(dist.var / len(x))
    assert abs(x.mean() - dist.mean) < 4.5 * se


def test_ppf_deterministic_and_empirical() -> None:
    assert (Deterministic(value=3.0).ppf(U) == 3.0).all()
    e = Empirical(values=(1.0, 2.0, 7.0))
    got = e.ppf(U)
    np.testing.assert_array_equal(got, np.array([1.0, 2.0, 7.0])[np.minimum((U * 3).astype(int), 2)])


def test_sample_is_ppf_of_the_generators_uniforms() -> None:
    # sample() is built on ppf: the same generator state gives ppf of the same uniforms, for every kind.
    for d in (Exponential(mean=4.0), Lognormal(mean=2.5, cv=0.5), Gamma(mean=6.0, cv=0.7), Empirical(values=(3.0, 1.0))):
        np.testing.assert_array_equal(d.sample(np.random.default_rng(5), 50), d.ppf(np.random.default_rng(5).random(50)))


@pytest.mark.parametrize("mu", [0.0, 1e-3, 0.7, 5.0, 37.5, 62.5, 800.0, 20_000.0])
def test_poisson_inverse_matches_scipy(mu: float) -> None:
    u = U[(U > 0) & (U < 1 - 1e-9)][-600:]  # scipy maps u = 0 to -1 by convention; the tail values are kept
    got = poisson_inverse(np.full(len(u), mu), u)
    np.testing.assert_array_equal(got, stats.poisson.ppf(u, mu) if mu > 0 else 0)


def test_poisson_inverse_is_monotone_in_the_mean() -> None:
    u = np.random.default_rng(3).random(400)
    lo = poisson_inverse(np.full(400, 30.0), u)
    hi = poisson_inverse(np.full(400, 33.0), u)
    assert (hi >= lo).all() and (hi > lo).any()


BASE: dict[str, Any] = {
    "name": "coupling",
    "store": {"open": "09:00", "close": "12:00", "interval_min": 30},
    "demand": {"arrivals_per_hour": [40, 80, 120, 60, 100, 50]},
    "segments": [
        {"name": "regular", "share": 0.8, "priority": 1, "patience": {"dist": "lognormal", "mean": 20, "cv": 0.6}},
        {"name": "vip", "share": 0.2, "priority": 0, "patience": {"dist": "exponential", "mean": 15}},
    ],
    "transactions": [
        {
            "name": "top_up",
            "share": 0.5,
            "counter_time": {"dist": "lognormal", "mean": 2.5, "cv": 0.5},
            "kiosk_time": {"dist": "lognormal", "mean": 1.5, "cv": 0.4},
        },
        {"name": "plan", "share": 0.5, "counter_time": {"dist": "lognormal", "mean": 6, "cv": 0.6}},
    ],
    "counters": {"staffed": 3},
    "kiosks": {"count": 1, "adoption": 0.5, "failure": 0.1},
    "cross_sell": {"pitch_time": {"dist": "gamma", "mean": 3, "cv": 0.8}, "acceptance": 0.3, "margin": 5,
                   "policy": {"mode": "always"}},
}  # fmt: skip


def make(**over: Any) -> Any:
    data = copy.deepcopy(BASE)
    for key, value in over.items():
        node = data
        parts = key.split("__")
        for p in parts[:-1]:
            node = node[p]
        node[parts[-1]] = value
    return scenario_from_dict(data, "test")


FIELDS = ("segment", "transaction", "counter_time", "kiosk_time", "patience", "u_divert", "u_kiosk", "u_fail",
          "pitch_time", "u_accept")  # fmt: skip


def _by_time(c: Any) -> dict[float, tuple[Any, ...]]:
    return {float(t): tuple(float(getattr(c, f)[k]) for f in FIELDS) for k, t in enumerate(c.arrival_min)}


@pytest.mark.parametrize("r", range(5))
def test_busier_day_keeps_every_customer_of_the_quieter_one(r: int) -> None:
    quiet = draw_customers(make(), replication_streams(8, r))
    busy = draw_customers(make(demand={"arrivals_per_hour": [40, 80, 120, 60, 100, 50], "scale": 1.25}),
                          replication_streams(8, r))  # fmt: skip
    a, b = _by_time(quiet), _by_time(busy)
    assert len(b) > len(a)
    for t, attrs in a.items():
        np.testing.assert_equal(b[t], attrs)  # same moment, same person (NaN kiosk times compare equal)


def test_changing_one_interval_leaves_the_others_alone() -> None:
    a = draw_customers(make(), replication_streams(2, 0))
    b = draw_customers(make(demand={"arrivals_per_hour": [40, 80, 10, 60, 100, 50]}), replication_streams(2, 0))
    ka = {t: v for t, v in _by_time(a).items() if not 60 <= t < 90}
    kb = {t: v for t, v in _by_time(b).items() if not 60 <= t < 90}
    assert set(ka) == set(kb) and len(ka) > 50
    for t in ka:
        np.testing.assert_equal(kb[t], ka[t])


def test_faster_transaction_scales_every_customers_time() -> None:
    base = make()
    faster = make(transactions=[BASE["transactions"][0], {**BASE["transactions"][1],
                                "counter_time": {"dist": "lognormal", "mean": 4.5, "cv": 0.6}}])  # fmt: skip
    a = draw_customers(base, replication_streams(4, 1))
    b = draw_customers(faster, replication_streams(4, 1))
    np.testing.assert_array_equal(a.arrival_min, b.arrival_min)
    plan = a.transaction == 1
    np.testing.assert_allclose(b.counter_time[plan], a.counter_time[plan] * 0.75, rtol=1e-12)
    np.testing.assert_array_equal(b.counter_time[~plan], a.counter_time[~plan])


def test_demand_what_if_is_paired_customer_by_customer() -> None:
    # With the coupling, 10% more demand gives at least as many arrivals in every replication.
    cmp = compare([make(), make(demand={"arrivals_per_hour": [40, 80, 120, 60, 100, 50], "scale": 1.1})],
                  replications=30, seed=6)  # fmt: skip
    more = cmp.results[1].days["arrivals"].to_numpy() - cmp.results[0].days["arrivals"].to_numpy()
    assert (more >= 0).all() and more.sum() > 0
    d = cmp.differences.set_index("kpi")
    assert d.loc["arrivals", "diff_ci_low"] > 0
