"""Erlang B / C / A against textbook values, closed forms and limiting cases."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from optimizer.erlang import (
    erlang_a,
    erlang_b,
    erlang_c_mean_wait,
    erlang_c_service_level,
    erlang_c_wait_prob,
)


def _erlang_c_direct(a: float, c: int) -> float:
    """Textbook ratio with factorials; fine for small c, used as an independent check."""
    top = a**c / math.factorial(c) * c / (c - a)
    bottom = sum(a**k / math.factorial(k) for k in range(c)) + top
    return top / bottom


def test_erlang_b_textbook() -> None:
    # B(c=2, a=1) = (1/2) / (1 + 1 + 1/2) = 0.2 exactly.
    assert erlang_b(1.0, 2) == pytest.approx(0.2, abs=1e-12)
    # B(c=3, a=2) = (8/6) / (1 + 2 + 2 + 8/6) = 4/19.
    assert erlang_b(2.0, 3) == pytest.approx(4 / 19, abs=1e-12)


def test_erlang_c_textbook_values() -> None:
    # a = 2 Erlangs on 3 servers: C = 4/9 (Kleinrock vol. 1 style worked example).
    assert erlang_c_wait_prob(2.0, 1.0, 3) == pytest.approx(4 / 9, abs=1e-12)
    # M/M/1 is C = rho.
    assert erlang_c_wait_prob(0.7, 1.0, 1) == pytest.approx(0.7, abs=1e-12)
    # M/M/1 mean wait Wq = rho / (mu - lambda) = 0.7 / 0.3.
    assert erlang_c_mean_wait(0.7, 1.0, 1) == pytest.approx(0.7 / 0.3, rel=1e-12)
    # Call-centre textbook case: 100 calls / 30 min, AHT 3 min -> 10 Erlangs; 11 agents give
    # C = 0.6821; the 20 s (1/3 min) service level with 14 agents is 1 - C(14, 10) e^{-(14-10)/9}.
    lam = 100 / 30
    assert erlang_c_wait_prob(lam, 3.0, 11) == pytest.approx(0.6821, abs=5e-4)
    expected = 1 - _erlang_c_direct(10.0, 14) * math.exp(-4 * (1 / 3) / 3.0)
    assert erlang_c_service_level(lam, 3.0, 14, 1 / 3) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize(("a", "c"), [(0.5, 1), (3.3, 5), (9.9, 12), (20.0, 25), (45.0, 50)])
def test_erlang_c_matches_direct_formula(a: float, c: int) -> None:
    assert erlang_c_wait_prob(a / 4.0, 4.0, c) == pytest.approx(_erlang_c_direct(a, c), rel=1e-10)


def test_erlang_c_large_and_unstable() -> None:
    # 900 Erlangs on 950 servers: the factorial form overflows; the recursion must not.
    pw = erlang_c_wait_prob(900.0, 1.0, 950)
    assert 0.0 < pw < 0.1
    assert erlang_c_wait_prob(5.0, 1.0, 5) == 1.0
    assert math.isinf(erlang_c_mean_wait(5.0, 1.0, 4))
    assert erlang_c_service_level(5.0, 1.0, 4, 10.0) == 0.0
    assert erlang_c_service_level(0.0, 1.0, 1, 0.0) == 1.0


def test_erlang_c_service_level_monotone() -> None:
    sl = [erlang_c_service_level(2.0, 5.0, c, 2.0) for c in range(11, 20)]
    assert all(b > a for a, b in itertools.pairwise(sl))


def test_erlang_a_equal_rates_is_poisson() -> None:
    # With patience mean = service mean the chain is M/M/inf: N ~ Poisson(a), so
    # P(wait) = P(N >= c) and E[(N-c)+] gives abandonment = theta E[Q] / lambda.
    lam, s, c = 1.2, 5.0, 6
    a = lam * s
    res = erlang_a(lam, s, s, c, 3.0)
    pois = np.array([math.exp(-a + n * math.log(a) - math.lgamma(n + 1)) for n in range(200)])
    assert res.prob_wait == pytest.approx(pois[c:].sum(), rel=1e-9)
    eq = float(((np.arange(200) - c).clip(0) * pois).sum())
    assert res.prob_abandon == pytest.approx(eq / s / lam, rel=1e-9)
    assert res.mean_wait == pytest.approx(eq / lam, rel=1e-9)


def test_erlang_a_tends_to_erlang_c_with_long_patience() -> None:
    lam, s, c, t = 2.0, 3.0, 8, 1.0
    res = erlang_a(lam, s, 1e7, c, t)
    assert res.prob_wait == pytest.approx(erlang_c_wait_prob(lam, s, c), rel=1e-4)
    assert res.mean_wait == pytest.approx(erlang_c_mean_wait(lam, s, c), rel=1e-4)
    assert res.service_level == pytest.approx(erlang_c_service_level(lam, s, c, t), rel=1e-4)
    inf = erlang_a(lam, s, math.inf, c, t)
    assert inf.prob_abandon == 0.0
    assert inf.service_level == pytest.approx(erlang_c_service_level(lam, s, c, t))


def test_erlang_a_internal_consistency() -> None:
    lam, s, patience, c = 3.0, 4.0, 10.0, 11  # 12 Erlangs on 11 servers: overloaded but stable
    res = erlang_a(lam, s, patience, c, 5.0)
    # Target 0: served within 0 = did not wait; target inf: everyone who is served.
    assert erlang_a(lam, s, patience, c, 0.0).service_level == pytest.approx(1 - res.prob_wait, abs=1e-12)
    assert erlang_a(lam, s, patience, c, math.inf).service_level == pytest.approx(1 - res.prob_abandon, abs=1e-9)
    assert erlang_a(lam, s, patience, c, 500.0).service_level == pytest.approx(1 - res.prob_abandon, abs=1e-9)
    # Served-customer wait: total queue time = served waits + abandoners' time in queue, and the
    # abandoners' mean time in queue cannot exceed the full mean wait of everyone who waits.
    assert 0.0 < res.mean_wait_served < res.mean_wait / res.prob_wait
    assert 1 - res.prob_wait < res.service_level < 1 - res.prob_abandon
    # Throughput balance: served rate = lambda (1 - P(ab)) <= c mu.
    assert lam * (1 - res.prob_abandon) <= c / s + 1e-9


def test_erlang_a_monte_carlo_small_case() -> None:
    """Check service level and served wait against a direct CTMC simulation of M/M/2+M.

    200,000 simulated customers give standard errors around 0.001 for the shares; the tolerance
    of 0.01 is ~10 standard errors, so the test fails only on a real formula error.
    """
    lam, s, patience, c, t = 1.0, 1.5, 2.0, 2, 0.5
    res = erlang_a(lam, s, patience, c, t)
    rng = np.random.default_rng(7)
    n = 200_000
    arrivals = np.cumsum(rng.exponential(1 / lam, n))
    service = rng.exponential(s, n)
    pat = rng.exponential(patience, n)
    free = [0.0] * c  # times the servers free up; FCFS with abandonment: customer i takes the
    served_within = 0
    waited = 0
    abandoned = 0
    wsum = 0.0
    nserved = 0
    for i in range(n):
        k = min(range(c), key=free.__getitem__)
        start = max(arrivals[i], free[k])
        w = start - arrivals[i]
        if w > 0:
            waited += 1
        if w > pat[i]:
            abandoned += 1
            continue
        free[k] = start + service[i]
        nserved += 1
        wsum += w
        if w <= t:
            served_within += 1
    assert res.prob_wait == pytest.approx(waited / n, abs=0.01)
    assert res.prob_abandon == pytest.approx(abandoned / n, abs=0.01)
    assert res.service_level == pytest.approx(served_within / n, abs=0.01)
    assert res.mean_wait_served == pytest.approx(wsum / nserved, rel=0.03)


def test_bad_inputs_named() -> None:
    with pytest.raises(ValueError, match="arrival_rate"):
        erlang_c_wait_prob(-1.0, 1.0, 2)
    with pytest.raises(ValueError, match="mean_service"):
        erlang_a(1.0, 0.0, 1.0, 2, 1.0)
    with pytest.raises(ValueError, match="servers"):
        erlang_c_wait_prob(1.0, 1.0, 2.5)  # type: ignore[arg-type]
