"""The engine against queueing theory (STYLE.md "Tests, in layers", layer 2).

Two parts:

1. The test-side formulas in ``tests/theory.py`` against textbook values and limiting cases, so a
   wrong formula cannot hide an engine bug (or invent one).
2. The engine against theory:

   ============================  =====================================================================
   model                         compared
   ============================  =====================================================================
   M/M/4, ρ 0.75 (Erlang C)      P(wait>0), mean wait, service level, p90 wait, mean queue, utilization
   M/M/3+M, a 3.2 (Erlang A)     P(abandon), mean wait of served, P(wait>0|served), service level,
                                 mean queue
   M/G/1 lognormal cv 1, M/D/1   mean wait (Pollaczek–Khinchine), utilization
   M/M/2, 2 priority classes     per-class mean waits (Cobham), both classes vs Erlang C
   M/G/1, 2 priority classes     per-class mean waits (Cobham, lognormal service)
   kiosks → counters             kiosk and counter mean waits, counter queue, mean number at each
                                 station, Cov(N_kiosk, N_counter) = 0, P(both empty) (Jackson)
   balking, M/M/3/8              P(balk), mean wait and P(wait>0) of joined, mean queue, utilization
   M_t/M/∞ (the month-end day)   time-average busy counters in each of the 18 intervals
   two counter groups            each group's mean wait against its own M/M/c (Erlang C)
   vip_serves: only, 1 VIP       VIPs' mean wait against M/M/1, the others' against M/M/2
   order: ticket, 2 priorities   each class's mean wait against one FCFS M/M/2 (Erlang C)
   ============================  =====================================================================

How the simulation is compared with theory
------------------------------------------
*Steady state.* The formulas (all but M_t/M/∞) are stationary; a store day starts empty. Each runs a
24-hour day (00:00-24:00) at a constant arrival rate and discards the first ``warmup_min`` minutes
(``simulation.warmup_min``: customers arriving before it leave the customer KPIs, and the time before
it leaves the time averages). Every warm-up is at least 4 relaxation times 1 / (c μ (1 − √ρ)²)
(:func:`theory.mmc_relaxation_time`, checked in each test), so the start-up deficit left is of order
e^-4 of its initial size at the start of the measured window and decays from there; averaged over
the measured window (≥ 15 relaxation times) it is below 0.2% of the value, far inside the CIs below.

*Closing time.* Doors close at 24:00 and everyone inside is served. Under FCFS (every scenario but
the priority one) a customer's wait depends only on the customers ahead, so closing changes no
counted wait. With priority, a low-priority customer still waiting at closing is no longer overtaken
by high-priority arrivals that would have come after it; its wait W can shrink by at most W − u (u =
time from its arrival to closing), so the mean over a measured window T shrinks by at most
(1/T) ∫ E[(W − u)+] du ≤ E[W²] / (2T). That one-sided allowance is added for the low-priority class.

*Estimator.* Each replication gives one estimate (its day KPI); replications are independent, so a
Student-t interval over replications is exact up to normality (≥ 60 replications each). The ratio
estimator (sum of waits / customers) is biased by O(1/n) with n ≈ 1,000 customers per replication,
negligible here.

*Multiplicity.* This module makes ``N_COMPARISONS`` simulation-vs-theory comparisons. At 95% each,
about one in three runs of a correct engine would fail one of them; so each comparison uses a
Bonferroni interval at level 1 − 0.05 / N_COMPARISONS (family-wise error 5%). This is the only
widening besides the stated bias allowances; each test also checks that the engine's own 95% CI is
the Student-t interval of its per-replication values. Replication counts are set so the intervals
stay narrow (each test asserts its half-widths: ≤ 5% of the value for mean waits, less for
probabilities): a 10% error in any mean wait fails the test.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pytest
import theory
from scipy import stats

from simulation import run, scenario_from_dict

N_COMPARISONS = 56
FAMILY_ALPHA = 0.05
LEVEL = 1 - FAMILY_ALPHA / N_COMPARISONS


# ---------------------------------------------------------------------------------------------
# 1. the formulas themselves
# ---------------------------------------------------------------------------------------------


def test_pk_reduces_to_mm1_and_md1() -> None:
    lam, s = 0.2, 4.0  # ρ = 0.8
    rho = lam * s
    # M/M/1: Wq = ρ s / (1 − ρ) = 16
    assert theory.pk_mean_wait(lam, s, s**2) == pytest.approx(rho * s / (1 - rho), rel=1e-12)
    assert theory.pk_mean_wait(lam, s, s**2) == pytest.approx(16.0, rel=1e-12)
    # M/D/1: half of M/M/1 (Kleinrock vol. 1): Wq = ρ s / (2 (1 − ρ)) = 8
    assert theory.pk_mean_wait(lam, s, 0.0) == pytest.approx(8.0, rel=1e-12)
    # agrees with Erlang C at c = 1
    assert theory.pk_mean_wait(lam, s, s**2) == pytest.approx(theory.erlang_c_mean_wait(lam, s, 1), rel=1e-12)
    with pytest.raises(ValueError, match="load"):
        theory.pk_mean_wait(0.25, 4.0, 1.0)


def test_cobham_mg1_textbook_and_conservation() -> None:
    # Two classes, exponential service mean 1, λ1 = 0.2, λ2 = 0.4 (ρ = 0.6): W0 = (0.2·2 + 0.4·2)/2 = 0.6
    # W1 = 0.6 / (1 · 0.8) = 0.75, W2 = 0.6 / (0.8 · 0.4) = 1.875 (worked by hand).
    w = theory.cobham_mg1([0.2, 0.4], [1.0, 1.0], [2.0, 2.0])
    assert w == pytest.approx([0.75, 1.875], rel=1e-12)
    # Kleinrock's conservation law: with one service distribution for all classes the λ-weighted
    # mean wait equals FCFS (P-K): (0.2·0.75 + 0.4·1.875)/0.6 = 1.5 = 0.6 / (1 − 0.6)
    assert (0.2 * w[0] + 0.4 * w[1]) / 0.6 == pytest.approx(theory.pk_mean_wait(0.6, 1.0, 1.0), rel=1e-12)
    # one class is plain P-K
    assert theory.cobham_mg1([0.3], [2.0], [10.0])[0] == pytest.approx(theory.pk_mean_wait(0.3, 2.0, 6.0))


def test_cobham_mmc_conservation_and_single_server() -> None:
    lam, s, c = [0.105, 0.245], 4.0, 2
    w = theory.cobham_mmc(lam, s, c)
    fcfs = theory.erlang_c_mean_wait(sum(lam), s, c)
    assert np.dot(lam, w) / sum(lam) == pytest.approx(fcfs, rel=1e-12)
    assert w[0] < fcfs < w[1]
    # c = 1 with exponential service is Cobham's M/G/1 with E[S²] = 2 s²
    assert theory.cobham_mmc([0.05, 0.1], 4.0, 1) == pytest.approx(
        theory.cobham_mg1([0.05, 0.1], [4.0, 4.0], [32.0, 32.0]), rel=1e-12
    )
    # M/M/2, ρ = 0.7: C = 2ρ²/(1+ρ) = 0.98/1.7; W0 = C s / c; σ1 = 0.21
    w0 = 0.98 / 1.7 * 4.0 / 2
    assert w == pytest.approx([w0 / 0.79, w0 / (0.79 * 0.3)], rel=1e-12)


def test_mmc_pmf_matches_erlang_c() -> None:
    lam, s, c = 0.7, 3.0, 3
    p = theory.mmc_number_in_system_pmf(lam, s, c, 400)
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    assert p[c:].sum() == pytest.approx(theory.erlang_c_wait_prob(lam, s, c), rel=1e-9)
    n = np.arange(len(p))
    assert (np.clip(n - c, 0, None) * p).sum() == pytest.approx(lam * theory.erlang_c_mean_wait(lam, s, c), rel=1e-9)
    # M/M/1: geometric
    q = theory.mmc_number_in_system_pmf(0.5, 1.0, 1, 50)
    assert q[:5] == pytest.approx([0.5, 0.25, 0.125, 0.0625, 0.03125], rel=1e-12)


def test_jackson_tandem_feedback_and_kiosk_network() -> None:
    # Tandem M/M/1 → M/M/1 (Burke): each station is M/M/1 at rate γ; L = ρ / (1 − ρ).
    a, b = theory.jackson_open([0.5, 0.0], [[0, 1], [0, 0]], [1.0, 1.5], [1, 1])
    assert a.arrival_rate == b.arrival_rate == pytest.approx(0.5)
    assert a.mean_in_system == pytest.approx(1.0)  # ρ = 0.5
    assert b.mean_in_system == pytest.approx(0.75 / 0.25)  # ρ = 0.75
    # M/M/1 with Bernoulli feedback p = 0.5: λ = γ / (1 − p)
    (f,) = theory.jackson_open([0.2], [[0.5]], [2.0], [1])
    assert f.arrival_rate == pytest.approx(0.4)
    assert f.mean_in_system == pytest.approx(0.8 / 0.2)
    # The store: λ = 1/min, half kiosk-eligible, 80% adoption, 25% failures.
    kiosk, counter = theory.kiosk_counter_network(1.0, 0.5, 0.8, 0.25, 3.5, 2, 3.0, 3)
    assert kiosk.arrival_rate == pytest.approx(0.4)
    assert counter.arrival_rate == pytest.approx(0.6 + 0.1)
    assert kiosk.utilization == pytest.approx(0.7) and counter.utilization == pytest.approx(0.7)
    # M/M/2, ρ = 0.7: Wq = C s / (c − a) with C = 0.98/1.7
    assert kiosk.mean_wait == pytest.approx(0.98 / 1.7 * 3.5 / 0.6, rel=1e-12)
    # no failures: the counters see only the non-kiosk walk-ins
    _, c0 = theory.kiosk_counter_network(1.0, 0.5, 0.8, 0.0, 3.5, 2, 3.0, 3)
    assert c0.arrival_rate == pytest.approx(0.6)


def test_mmck_limits() -> None:
    # K = c: Erlang B; M/M/1/1 blocks a / (1 + a)
    assert theory.mmck(0.5, 2.0, 1, 1).prob_block == pytest.approx(0.5)
    assert theory.mmck(2.0, 1.0, 3, 3).prob_block == pytest.approx(4 / 19, rel=1e-12)  # B(3, 2) = 4/19
    # K → ∞ at a < c: Erlang C
    big = theory.mmck(0.7, 3.0, 3, 600)
    assert big.prob_block < 1e-12
    assert big.mean_wait_joined == pytest.approx(theory.erlang_c_mean_wait(0.7, 3.0, 3), rel=1e-9)
    assert big.prob_wait_joined == pytest.approx(theory.erlang_c_wait_prob(0.7, 3.0, 3), rel=1e-9)
    # M/M/1/2, a = 1: states equally likely (1/3 each); one waiting in state 2 only
    m = theory.mmck(1.0, 1.0, 1, 2)
    assert m.prob_block == pytest.approx(1 / 3) and m.mean_queue == pytest.approx(1 / 3)
    assert m.mean_wait_joined == pytest.approx((1 / 3) / (2 / 3))
    assert m.utilization == pytest.approx(2 / 3)


def test_mt_m_inf_busy() -> None:
    s, length = 4.0, 30.0
    # constant rate from empty: m(t) = λ s (1 − e^{−t/s}); first interval average by hand
    got = theory.mt_m_inf_interval_busy([1.0, 1.0, 1.0], length, s)
    assert got[0] == pytest.approx(4.0 * (1 - (4 / 30) * (1 - math.exp(-7.5))), rel=1e-12)
    assert got[-1] == pytest.approx(4.0, rel=1e-3)
    # a step down relaxes toward the new level from above
    down = theory.mt_m_inf_interval_busy([2.0] * 10 + [0.5], length, s)
    assert 2.0 < down[-1] < 8.0
    # numerical check of the closed form with a fine Euler integration of m' = λ − m / s
    rates = [0.5, 2.0, 1.0, 0.0]
    dt = 1e-3
    m, avg = 0.0, []
    for lam in rates:
        acc = 0.0
        for _ in range(int(length / dt)):
            acc += m * dt
            m += (lam - m / s) * dt
        avg.append(acc / length)
    assert theory.mt_m_inf_interval_busy(rates, length, s) == pytest.approx(avg, rel=2e-3)


def test_relaxation_time_mm1() -> None:
    # M/M/1, μ = 1, ρ = 0.81: 1 / (1 − 0.9)² = 100
    assert theory.mmc_relaxation_time(0.81, 1.0, 1) == pytest.approx(100.0)
    with pytest.raises(ValueError):
        theory.mmc_relaxation_time(1.0, 1.0, 1)


# ---------------------------------------------------------------------------------------------
# 2. the engine against theory
# ---------------------------------------------------------------------------------------------

DAY = {"open": "00:00", "close": "24:00", "interval_min": 60}
DAY_MIN = 24 * 60


def _scenario(
    *,
    per_hour: float,
    counters: int,
    transactions: list[dict[str, Any]],
    segments: list[dict[str, Any]] | None = None,
    kiosks: dict[str, Any] | None = None,
    routing: dict[str, Any] | None = None,
    warmup_min: float,
    replications: int,
    seed: int,
    target_wait_min: float = 10.0,
    name: str = "theory",
) -> Any:
    """A stationary store day: constant demand, fixed staffing, no pitching, balking or diversion."""
    data: dict[str, Any] = {
        "name": name,
        "store": {**DAY, "target_wait_min": target_wait_min},
        "demand": {"arrivals_per_hour": per_hour},
        "segments": segments or [{"name": "all", "share": 1.0, "priority": 1}],
        "transactions": transactions,
        "counters": routing if routing is not None else {"staffed": counters, "vip": 0},
        "cross_sell": {"policy": {"mode": "never"}},
        "simulation": {"replications": replications, "seed": seed, "warmup_min": warmup_min},
    }
    if kiosks is not None:
        data["kiosks"] = kiosks
    return scenario_from_dict(data, name)


def _t_interval(values: Sequence[float] | np.ndarray, level: float) -> tuple[float, float, float]:
    """Mean and Student-t interval over independent replications."""
    x = np.asarray(values, float)
    m = float(x.mean())
    half = float(stats.t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))
    return m, m - half, m + half


def _check_engine_ci(res: Any, kpi: str) -> None:
    """The engine's reported 95% CI is the Student-t interval of its per-replication values."""
    m, lo, hi = _t_interval(res.days[kpi], 0.95)
    row = res.kpis.loc[kpi]
    assert row["mean"] == pytest.approx(m, rel=1e-9, abs=1e-12)
    assert row["ci_low"] == pytest.approx(lo, rel=1e-9, abs=1e-12)
    assert row["ci_high"] == pytest.approx(hi, rel=1e-9, abs=1e-12)


def _assert_theory_in_ci(
    label: str,
    values: Sequence[float] | np.ndarray,
    expected: float,
    *,
    allowance_low: float = 0.0,
    allowance_high: float = 0.0,
    max_rel_half_width: float | None = None,
) -> None:
    """``expected`` must lie in the Bonferroni interval of ``values``, widened only by the allowances.

    ``allowance_low`` widens the interval downwards (the simulation may be biased high by that much),
    ``allowance_high`` upwards (biased low). ``max_rel_half_width`` guards the test's power: an
    interval so wide that it could not catch a 10% error is itself a failure.
    """
    m, lo, hi = _t_interval(values, LEVEL)
    msg = (
        f"{label}: theory {expected:.5g} vs simulated {m:.5g} "
        f"[{lo:.5g}, {hi:.5g}] at level {LEVEL:.4f} (allowances -{allowance_low:.3g} / +{allowance_high:.3g})"
    )
    print(msg)  # the figures behind every comparison: `pytest -s` or `-rP` shows them
    assert lo - allowance_low <= expected <= hi + allowance_high, msg
    if max_rel_half_width is not None:
        assert (hi - lo) / 2 <= max_rel_half_width * abs(expected), "interval too wide to test anything: " + msg


def _conserved(res: Any) -> None:
    d = res.days
    assert (d["arrivals"] == d["served"] + d["abandoned"] + d["balked"]).all()


def _exp(mean: float) -> dict[str, Any]:
    return {"dist": "exponential", "mean": mean}


@pytest.mark.slow
def test_mmc_against_erlang_c() -> None:
    # M/M/4, 45 arrivals/hour, 4-minute exponential service: a = 3 Erlangs, ρ = 0.75.
    lam, s, c, target = 0.75, 4.0, 4, 2.0
    warmup = 300.0
    assert warmup >= 4 * theory.mmc_relaxation_time(lam, s, c)  # τ ≈ 56 min
    sc = _scenario(
        per_hour=lam * 60, counters=c, transactions=[{"name": "t", "share": 1.0, "counter_time": _exp(s)}],
        warmup_min=warmup, replications=1600, seed=20261123, target_wait_min=target,
    )
    res = run(sc)
    _conserved(res)
    d = res.days
    assert (d["abandoned"] == 0).all() and (d["balked"] == 0).all()
    for kpi in ("mean_wait_min", "prob_wait", "service_level"):
        _check_engine_ci(res, kpi)
    pw = theory.erlang_c_wait_prob(lam, s, c)
    wq = theory.erlang_c_mean_wait(lam, s, c)
    _assert_theory_in_ci("P(wait>0)", d["prob_wait"], pw, max_rel_half_width=0.02)
    _assert_theory_in_ci("mean wait", d["mean_wait_min"], wq, max_rel_half_width=0.05)
    _assert_theory_in_ci("service level", d["service_level"], theory.erlang_c_service_level(lam, s, c, target),
                         max_rel_half_width=0.02)
    # P(W > t) = C e^{−(c μ − λ) t}, so the 90th percentile is ln(C / 0.1) / (c μ − λ) (C > 0.1 here).
    # Each replication's sample quantile of ~900 waits is biased by O(1/n), far inside the interval.
    p90 = math.log(pw / 0.1) / (c / s - lam)
    _assert_theory_in_ci("p90 wait", d["p90_wait_min"], p90, max_rel_half_width=0.05)
    # time averages over [warm-up, close]: Lq = λ Wq (Little), busy share = a / c
    _assert_theory_in_ci("mean queue", d["mean_queue_len"], lam * wq, max_rel_half_width=0.05)
    _assert_theory_in_ci("utilization", d["utilization"], lam * s / c, max_rel_half_width=0.01)


@pytest.mark.slow
def test_mmc_abandonment_against_erlang_a() -> None:
    # M/M/3+M: 48 arrivals/hour on 3 counters of 4 minutes (a = 3.2 > c: only impatience keeps it
    # stable), exponential patience of 10 minutes. FCFS, one segment.
    lam, s, c, patience, target = 0.8, 4.0, 3, 10.0, 2.0
    warmup = 300.0
    # Relaxation: the fluid model of an overloaded M/M/c+M, q' = λ − c μ − θ q, returns to its
    # equilibrium queue (λ − c μ)/θ at rate θ, i.e. with time constant 1/θ = 10 minutes, and the
    # abandonment drift (n − c) θ only speeds up the diffusion around it; a 300-minute warm-up is
    # 30 time constants.
    assert warmup >= 30 * patience
    ea = theory.erlang_a(lam, s, patience, c, target)
    sc = _scenario(
        per_hour=lam * 60, counters=c,
        segments=[{"name": "all", "share": 1.0, "priority": 1, "patience": _exp(patience)}],
        transactions=[{"name": "t", "share": 1.0, "counter_time": _exp(s)}],
        warmup_min=warmup, replications=800, seed=4242, target_wait_min=target,
    )
    res = run(sc)
    _conserved(res)
    d = res.days
    assert (d["balked"] == 0).all()
    for kpi in ("abandonment_rate", "mean_wait_min", "service_level"):
        _check_engine_ci(res, kpi)
    _assert_theory_in_ci("P(abandon)", d["abandonment_rate"], ea.prob_abandon, max_rel_half_width=0.03)
    _assert_theory_in_ci("mean wait of served", d["mean_wait_min"], ea.mean_wait_served, max_rel_half_width=0.05)
    # prob_wait is over served customers; every abandoner waited, so P(W > 0 | served) =
    # (P(wait) − P(abandon)) / (1 − P(abandon)).
    pw_served = (ea.prob_wait - ea.prob_abandon) / (1 - ea.prob_abandon)
    _assert_theory_in_ci("P(wait>0 | served)", d["prob_wait"], pw_served, max_rel_half_width=0.02)
    _assert_theory_in_ci("service level", d["service_level"], ea.service_level, max_rel_half_width=0.02)
    # the time-average queue counts abandoners until they leave: Lq = λ × mean wait of all arrivals
    _assert_theory_in_ci("mean queue", d["mean_queue_len"], lam * ea.mean_wait, max_rel_half_width=0.03)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("label", "service", "per_hour"),
    [
        # lognormal, mean 3, cv 1: E[S²] = 18, ρ = 0.6 → Wq = 0.2·18 / 0.8 = 4.5 min
        ("lognormal", {"dist": "lognormal", "mean": 3.0, "cv": 1.0}, 12.0),
        # deterministic 3.5 min, ρ = 0.7 → Wq = 0.2·12.25 / 0.6 ≈ 4.08 min
        ("deterministic", {"dist": "deterministic", "value": 3.5}, 12.0),
    ],
)
def test_mg1_against_pollaczek_khinchine(label: str, service: dict[str, Any], per_hour: float) -> None:
    sc = _scenario(
        per_hour=per_hour, counters=1, transactions=[{"name": "t", "share": 1.0, "counter_time": service}],
        warmup_min=360.0, replications=1600, seed=17, name=f"M/G/1 {label}",
    )
    dist = sc.transactions[0].counter_time
    lam = per_hour / 60
    # M/G/1 relaxes about (1 + cv²)/2 times as slowly as M/M/1 at the same load (heavy-traffic scaling).
    tau = theory.mmc_relaxation_time(lam, dist.mean, 1) * (1 + dist.cv**2) / 2
    assert sc.simulation.warmup_min >= 4 * tau
    res = run(sc)
    _conserved(res)
    _check_engine_ci(res, "mean_wait_min")
    d = res.days
    _assert_theory_in_ci(f"P-K mean wait ({label})", d["mean_wait_min"], theory.pk_mean_wait(lam, dist.mean, dist.var),
                         max_rel_half_width=0.05)
    _assert_theory_in_ci(f"utilization ({label})", d["utilization"], lam * dist.mean, max_rel_half_width=0.01)


@pytest.mark.slow
def test_two_class_priority_against_cobham() -> None:
    # M/M/2 with two classes, non-preemptive priority: 21 arrivals/hour, 4-minute service (ρ = 0.7),
    # 30% "vip" (priority 0) served before 70% "regular" (priority 1), FCFS within a class.
    lam, s, c = 0.35, 4.0, 2
    shares = {"vip": 0.3, "regular": 0.7}
    warmup = 360.0
    # The low class sees the queue of both; its relaxation is governed by the total load.
    assert warmup >= 4 * theory.mmc_relaxation_time(lam, s, c)  # τ ≈ 75 min
    sc = _scenario(
        per_hour=lam * 60, counters=c,
        segments=[{"name": "vip", "share": 0.3, "priority": 0}, {"name": "regular", "share": 0.7, "priority": 1}],
        transactions=[{"name": "t", "share": 1.0, "counter_time": _exp(s)}],
        warmup_min=warmup, replications=1200, seed=99,
    )
    res = run(sc, keep_customers=True)
    _conserved(res)
    w_vip, w_reg = theory.cobham_mmc([lam * shares["vip"], lam * shares["regular"]], s, c)
    seg = res.segment_reps
    measured_min = DAY_MIN - warmup
    cust = res.customers
    served = cust[(cust["outcome"] == "served") & (cust["arrival_min"] >= warmup)]
    for name, expected, closing in (("vip", w_vip, False), ("regular", w_reg, True)):
        values = seg.loc[seg["segment"] == name].sort_values("replication")["mean_wait_min"].to_numpy()
        assert len(values) == res.replications
        allowance = 0.0
        if closing:
            # closing-time bias bound E[W²] / (2T) (module docstring), E[W²] from the class's waits
            w = served.loc[served["segment"] == name, "wait_min"].to_numpy()
            allowance = float(np.mean(w**2)) / (2 * measured_min)
            assert allowance < 0.02 * expected  # the bound is small, or the test would be weak
        _assert_theory_in_ci(f"Cobham {name}", values, expected, allowance_high=allowance, max_rel_half_width=0.05)
    # both classes together are FCFS M/M/2 (conservation law); the closing bias enters with the
    # regular class's weight
    fcfs = theory.erlang_c_mean_wait(lam, s, c)
    w = served.loc[served["segment"] == "regular", "wait_min"].to_numpy()
    _assert_theory_in_ci("all classes vs Erlang C", res.days["mean_wait_min"], fcfs,
                         allowance_high=shares["regular"] * float(np.mean(w**2)) / (2 * measured_min),
                         max_rel_half_width=0.05)


@pytest.mark.slow
def test_two_class_priority_single_counter_against_cobham_mg1() -> None:
    # M/G/1 with lognormal service (mean 3, cv 0.5: E[S²] = 11.25), 13.2 arrivals/hour (ρ = 0.66),
    # 40% priority 0 before 60% priority 1. Cobham: W0 = λ E[S²] / 2, W_k = W0 / ((1 − σ_{k−1})(1 − σ_k)).
    lam, warmup = 0.22, 360.0
    service = {"dist": "lognormal", "mean": 3.0, "cv": 0.5}
    sc = _scenario(
        per_hour=lam * 60, counters=1,
        segments=[{"name": "high", "share": 0.4, "priority": 0}, {"name": "low", "share": 0.6, "priority": 1}],
        transactions=[{"name": "t", "share": 1.0, "counter_time": service}],
        warmup_min=warmup, replications=1600, seed=1954, name="M/G/1 priority",
    )
    dist = sc.transactions[0].counter_time
    tau = theory.mmc_relaxation_time(lam, dist.mean, 1) * (1 + dist.cv**2) / 2  # ≈ 53 min
    assert warmup >= 4 * tau
    second = dist.var + dist.mean**2
    w_high, w_low = theory.cobham_mg1([0.4 * lam, 0.6 * lam], [dist.mean] * 2, [second] * 2)
    res = run(sc, keep_customers=True)
    _conserved(res)
    seg = res.segment_reps
    cust = res.customers
    served = cust[(cust["outcome"] == "served") & (cust["arrival_min"] >= warmup)]
    for name, expected, closing in (("high", w_high, False), ("low", w_low, True)):
        values = seg.loc[seg["segment"] == name].sort_values("replication")["mean_wait_min"].to_numpy()
        allowance = 0.0
        if closing:  # closing-time bias bound E[W²] / (2T), as in the M/M/2 test
            w = served.loc[served["segment"] == name, "wait_min"].to_numpy()
            allowance = float(np.mean(w**2)) / (2 * (DAY_MIN - warmup))
            assert allowance < 0.02 * expected
        _assert_theory_in_ci(f"Cobham M/G/1 {name}", values, expected, allowance_high=allowance, max_rel_half_width=0.05)


def _time_average_counts(cust: pd.DataFrame, t0: float, t1: float) -> dict[str, float]:
    """Time averages over [t0, t1] of N_kiosk, N_counter, their product and P(both empty).

    N_kiosk counts customers between joining the kiosk queue and leaving the kiosk; N_counter those
    between joining the counter queue and leaving the counter (Jackson's "number at the station").
    """
    events: list[tuple[np.ndarray, np.ndarray, int]] = []
    k = cust[cust["used_kiosk"].astype(bool)]
    events.append((k["kiosk_join_min"].to_numpy(float), k["kiosk_end_min"].to_numpy(float), 0))
    q = cust[cust["queue_join_min"].notna()]
    events.append((q["queue_join_min"].to_numpy(float), q["service_end_min"].to_numpy(float), 1))
    times, dk, dc = [], [], []
    for start, end, station in events:
        for arr, sign in ((start, 1), (end, -1)):
            times.append(arr)
            z = np.zeros(len(arr))
            dk.append(np.full(len(arr), sign) if station == 0 else z)
            dc.append(np.full(len(arr), sign) if station == 1 else z)
    t = np.concatenate(times)
    order = np.argsort(t, kind="stable")
    t = t[order]
    nk = np.cumsum(np.concatenate(dk)[order])
    nc = np.cumsum(np.concatenate(dc)[order])
    # state after each event holds until the next event
    t_next = np.append(t[1:], np.inf)
    lo = np.clip(t, t0, t1)
    hi = np.clip(t_next, t0, t1)
    dt = hi - lo
    span = t1 - t0
    return {
        "n_kiosk": float((nk * dt).sum() / span),
        "n_counter": float((nc * dt).sum() / span),
        "product": float((nk * nc * dt).sum() / span),
        "both_empty": float((((nk == 0) & (nc == 0)) * dt).sum() / span),
    }


@pytest.mark.slow
def test_kiosk_counter_routing_against_jackson() -> None:
    # 60 walk-ins/hour; half are top-ups a kiosk can do, 80% of those use one of 2 kiosks
    # (Exp(3.5 min): ρ = 0.7); 1 in 4 kiosk visits fails and the customer goes on to the counters.
    # Every counter time is Exp(3 min) on 3 counters: counter arrivals 0.6 + 0.1 = 0.7/min, ρ = 0.7.
    lam, e, a, f = 1.0, 0.5, 0.8, 0.25
    ks, kc, cs, cc = 3.5, 2, 3.0, 3
    kiosk, counter = theory.kiosk_counter_network(lam, e, a, f, ks, kc, cs, cc)
    warmup = 360.0
    assert warmup >= 4 * max(theory.mmc_relaxation_time(kiosk.arrival_rate, ks, kc),
                             theory.mmc_relaxation_time(counter.arrival_rate, cs, cc))
    sc = _scenario(
        per_hour=lam * 60, counters=cc,
        transactions=[
            {"name": "top_up", "share": e, "counter_time": _exp(cs), "kiosk_time": _exp(ks)},
            {"name": "other", "share": 1 - e, "counter_time": _exp(cs)},
        ],
        kiosks={"count": kc, "adoption": a, "greeter": False, "failure": f},
        warmup_min=warmup, replications=800, seed=314, name="kiosk network",
    )
    res = run(sc, keep_customers=True)
    _conserved(res)
    d = res.days
    _check_engine_ci(res, "kiosk_mean_wait_min")
    _assert_theory_in_ci("kiosk mean wait", d["kiosk_mean_wait_min"], kiosk.mean_wait, max_rel_half_width=0.05)
    _assert_theory_in_ci("counter mean wait", d["mean_wait_min"], counter.mean_wait, max_rel_half_width=0.05)
    _assert_theory_in_ci("counter mean queue", d["mean_queue_len"], counter.mean_queue, max_rel_half_width=0.05)
    # Product form: the numbers at the two stations are independent at a random time, so
    # E[N_k N_c] − E[N_k] E[N_c] = 0, and each has its M/M/c mean. Measured from the customer
    # records over [warm-up + 60, close]: customers who arrived before the warm-up may be dropped
    # from the records, and none of them is still inside an hour later (sojourns are minutes).
    per_rep = [
        _time_average_counts(g, warmup + 60, DAY_MIN) for _, g in res.customers.groupby("replication", sort=True)
    ]
    nk = np.array([r["n_kiosk"] for r in per_rep])
    nc = np.array([r["n_counter"] for r in per_rep])
    prod = np.array([r["product"] for r in per_rep])
    _assert_theory_in_ci("kiosk number in system", nk, kiosk.mean_in_system, max_rel_half_width=0.03)
    _assert_theory_in_ci("counter number in system", nc, counter.mean_in_system, max_rel_half_width=0.03)
    # Per replication, the time average of (N_k − L_k)(N_c − L_c) around the theory means: its
    # expectation is Cov(N_k, N_c) + (E N_k − L_k)(E N_c − L_c), i.e. exactly 0 under the product
    # form (the means are checked just above). Centring on each replication's own time averages
    # instead would bias it by −Cov(time averages), which is not small over one day.
    lk, lc = kiosk.mean_in_system, counter.mean_in_system
    centred = prod - lc * nk - lk * nc + lk * lc
    _assert_theory_in_ci("Cov(N_kiosk, N_counter)", centred, 0.0)
    # power: the interval must exclude a correlation of 0.03 between the two stations' numbers
    pmf_k = theory.mmc_number_in_system_pmf(kiosk.arrival_rate, ks, kc, 400)
    pmf_c = theory.mmc_number_in_system_pmf(counter.arrival_rate, cs, cc, 400)
    n = np.arange(401)
    sd_k = math.sqrt(float((pmf_k * (n - lk) ** 2).sum()))
    sd_c = math.sqrt(float((pmf_c * (n - lc) ** 2).sum()))
    _, lo, hi = _t_interval(centred, LEVEL)
    assert (hi - lo) / 2 < 0.03 * sd_k * sd_c
    _assert_theory_in_ci("P(both stations empty)", [r["both_empty"] for r in per_rep], pmf_k[0] * pmf_c[0],
                         max_rel_half_width=0.05)


@pytest.mark.slow
def test_balking_against_mmck() -> None:
    # Balking with infinite patience is M/M/c/K: on 3 counters of 4 minutes, 54 arrivals/hour
    # (a = 3.6 > c: only balking keeps it finite), customers who see 5 or more waiting leave, so at
    # most K = 3 + 5 are inside. Relaxation: the chain has 9 states and fills from empty in about
    # (K − c) / (λ − c μ) ≈ 33 minutes; the 300-minute warm-up is 9 of those.
    lam, s, c, n_balk = 0.9, 4.0, 3, 5
    m = theory.mmck(lam, s, c, c + n_balk)
    sc = _scenario(
        per_hour=lam * 60, counters=c, transactions=[{"name": "t", "share": 1.0, "counter_time": _exp(s)}],
        warmup_min=300.0, replications=400, seed=2718, name="balking",
    )
    sc = scenario_from_dict({**sc.to_dict(), "balking": {"queue_at_least": n_balk}}, "balking")
    res = run(sc)
    _conserved(res)
    d = res.days
    assert (d["abandoned"] == 0).all()
    _assert_theory_in_ci("P(balk)", d["balked"] / d["arrivals"], m.prob_block, max_rel_half_width=0.03)
    _assert_theory_in_ci("mean wait of joined", d["mean_wait_min"], m.mean_wait_joined, max_rel_half_width=0.03)
    _assert_theory_in_ci("P(wait>0 | joined)", d["prob_wait"], m.prob_wait_joined, max_rel_half_width=0.02)
    _assert_theory_in_ci("mean queue", d["mean_queue_len"], m.mean_queue, max_rel_half_width=0.03)
    _assert_theory_in_ci("utilization", d["utilization"], m.utilization, max_rel_half_width=0.01)


@pytest.mark.slow
def test_time_varying_demand_against_mt_m_inf() -> None:
    # The flagship's month-end demand profile (30-minute intervals, 09:00-18:00) with 4-minute
    # exponential service and 30 counters: at most ~8 are busy on average, P(more than 30 busy) is of
    # order 1e-9, so nobody waits and the hall is M_t/M/∞. The time-average number in service in each
    # interval, utilization × 30, must follow the M_t/M/∞ mean, interval by interval: this checks the
    # per-interval arrivals (rates must switch exactly at the boundaries), service across interval
    # boundaries, and the per-interval time averages. No warm-up: the formula starts empty too.
    rates_per_hour = [40, 55, 70, 85, 80, 70, 65, 75, 95, 115, 125, 120, 105, 85, 65, 50, 40, 30]
    s, c = 4.0, 30
    data = {
        "name": "M_t/M/inf",
        "store": {"open": "09:00", "close": "18:00", "interval_min": 30},
        "demand": {"arrivals_per_hour": rates_per_hour},
        "transactions": [{"name": "t", "share": 1.0, "counter_time": _exp(s)}],
        "counters": {"staffed": c},
        "cross_sell": {"policy": {"mode": "never"}},
        "simulation": {"replications": 800, "seed": 1618},
    }
    res = run(scenario_from_dict(data, "M_t/M/inf"))
    _conserved(res)
    assert (res.days["mean_wait_min"] == 0).all() and (res.days["mean_queue_len"] == 0).all()
    busy = theory.mt_m_inf_interval_busy(np.asarray(rates_per_hour) / 60, 30.0, s)
    reps = res.interval_reps
    for i, expected in enumerate(busy):
        values = reps.loc[reps["interval"] == i].sort_values("replication")["utilization"].to_numpy() * c
        assert len(values) == res.replications
        _assert_theory_in_ci(f"busy counters, interval {i}", values, float(expected), max_rel_half_width=0.05)


# ---------------------------------------------------------------------------------------------
# counter routing (DESIGN.md "Counter routing")
# ---------------------------------------------------------------------------------------------


# The routing tests measure one segment's wait (a third to two thirds of the customers), so their
# intervals are wider per replication than the whole-store ones above; 6% half-widths (still a 10%
# error in a mean wait fails) keep them to about a minute of CPU together.
ROUTING_HALF_WIDTH = 0.06


def _segment_waits(res: Any, name: str) -> np.ndarray:
    seg = res.segment_reps
    values = seg.loc[seg["segment"] == name].sort_values("replication")["mean_wait_min"].to_numpy()
    assert len(values) == res.replications
    return values


@pytest.mark.slow
def test_two_independent_groups_are_two_erlang_c_queues() -> None:
    # Group "a" (3 counters) serves segment a only, group "b" (2 counters) segment b only: two
    # separate M/M/c queues. λ_a = 0.5/min, λ_b = 0.25/min, 4-minute service: a = 2 on 3 counters
    # (ρ 0.67, Wq 1.78 min) and a = 1 on 2 counters (ρ 0.5, Wq 1.33 min). FCFS in each: no closing bias.
    lam, s = 0.75, 4.0
    warmup = 300.0
    assert warmup >= 4 * max(theory.mmc_relaxation_time(0.5, s, 3), theory.mmc_relaxation_time(0.25, s, 2))
    sc = _scenario(
        per_hour=lam * 60, counters=0,
        segments=[{"name": "a", "share": 2 / 3, "priority": 1}, {"name": "b", "share": 1 / 3, "priority": 1}],
        transactions=[{"name": "t", "share": 1.0, "counter_time": _exp(s)}],
        routing={"groups": [{"name": "a", "staffed": 3, "segments": ["a"]}, {"name": "b", "staffed": 2, "segments": ["b"]}]},
        warmup_min=warmup, replications=800, seed=4711, name="two groups",
    )
    res = run(sc)
    _conserved(res)
    _assert_theory_in_ci("group a vs Erlang C M/M/3", _segment_waits(res, "a"), theory.erlang_c_mean_wait(0.5, s, 3), max_rel_half_width=ROUTING_HALF_WIDTH)
    _assert_theory_in_ci("group b vs Erlang C M/M/2", _segment_waits(res, "b"), theory.erlang_c_mean_wait(0.25, s, 2), max_rel_half_width=ROUTING_HALF_WIDTH)


@pytest.mark.slow
def test_vip_only_counter_is_an_mm1_for_vips() -> None:
    # staffed 3, vip 1, vip_serves: only: VIPs have their own line at the one VIP counter, an M/M/1
    # (λ 0.3/min, 2-minute service: ρ 0.6, Wq = ρ s / (1 − ρ) = 3 min); the others are an M/M/2
    # (λ 0.6/min: a = 1.2, ρ 0.6). Both FCFS within their line: no closing bias.
    s = 2.0
    warmup = 240.0
    assert warmup >= 4 * max(theory.mmc_relaxation_time(0.3, s, 1), theory.mmc_relaxation_time(0.6, s, 2))
    sc = _scenario(
        per_hour=0.9 * 60, counters=0,
        segments=[{"name": "vip", "share": 1 / 3, "priority": 0}, {"name": "regular", "share": 2 / 3, "priority": 1}],
        transactions=[{"name": "t", "share": 1.0, "counter_time": _exp(s)}],
        routing={"staffed": 3, "vip": 1, "vip_serves": "only"},
        warmup_min=warmup, replications=600, seed=1909, name="VIP only",
    )
    res = run(sc)
    _conserved(res)
    _assert_theory_in_ci("VIPs vs M/M/1", _segment_waits(res, "vip"), 0.6 * s / (1 - 0.6), max_rel_half_width=ROUTING_HALF_WIDTH)
    _assert_theory_in_ci("regulars vs M/M/2", _segment_waits(res, "regular"), theory.erlang_c_mean_wait(0.6, s, 2), max_rel_half_width=ROUTING_HALF_WIDTH)


@pytest.mark.slow
def test_ticket_order_ignores_priorities_one_fcfs_mmc() -> None:
    # The Cobham M/M/2 above (30% priority 0, 70% priority 1, λ 0.35/min, 4 minutes) with order: ticket:
    # tickets are called in issue order, so both classes wait as in one FCFS M/M/2 (Erlang C, 2.88 min).
    lam, s, c = 0.35, 4.0, 2
    warmup = 360.0
    assert warmup >= 4 * theory.mmc_relaxation_time(lam, s, c)
    sc = _scenario(
        per_hour=lam * 60, counters=c,
        segments=[{"name": "vip", "share": 0.3, "priority": 0}, {"name": "regular", "share": 0.7, "priority": 1}],
        transactions=[{"name": "t", "share": 1.0, "counter_time": _exp(s)}],
        routing={"staffed": c, "order": "ticket"},
        warmup_min=warmup, replications=900, seed=1873, name="ticket order",
    )
    res = run(sc)
    _conserved(res)
    fcfs = theory.erlang_c_mean_wait(lam, s, c)
    _assert_theory_in_ci("ticket order: vip vs FCFS Erlang C", _segment_waits(res, "vip"), fcfs, max_rel_half_width=ROUTING_HALF_WIDTH)
    _assert_theory_in_ci("ticket order: regular vs FCFS Erlang C", _segment_waits(res, "regular"), fcfs, max_rel_half_width=ROUTING_HALF_WIDTH)
