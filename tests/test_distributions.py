"""Distributions: sampled moments agree with the analytic mean and variance they advertise.

Tolerance: with n = 200,000 draws the standard error of the sample mean is sd/sqrt(n) ≈ 0.0022·sd,
so 5 standard errors (a false alarm about once in 3.5 million) is the bound for the mean. The sample
variance's standard error is sqrt((kurtosis_excess + 2)/n)·var; lognormal with cv=0.5 has excess
kurtosis ≈ 5.9, giving ≈ 0.0063·var per standard error: we allow 5 of those, 4% of var rounded up.
"""

import math

import numpy as np
import pytest

from simulation.distributions import Deterministic, Empirical, Exponential, Gamma, Lognormal, Triangular, Uniform

N = 200_000

CASES = [
    Exponential(mean_=4.0),
    Lognormal(mean_=2.5, cv_=0.5),
    Gamma(mean_=6.0, cv_=0.6),
    Uniform(low=1.0, high=3.0),
    Triangular(low=1.0, mode=2.0, high=6.0),
    Empirical(values=(1.0, 2.0, 2.0, 7.0)),
]


@pytest.mark.parametrize("dist", CASES, ids=lambda d: d.dist)
def test_sampled_moments_match_analytic(dist):
    x = dist.sample(np.random.default_rng(20261123), N)
    sd = math.sqrt(dist.var)
    assert abs(x.mean() - dist.mean) < 5 * sd / math.sqrt(N)
    assert abs(x.var() - dist.var) < 0.04 * dist.var
    assert (x >= 0).all()


def test_mean_cv_parameterisation_is_what_people_write():
    d = Lognormal(mean_=2.5, cv_=0.5)
    assert d.mean == 2.5 and d.cv == 0.5 and d.var == pytest.approx(1.5625)
    g = Gamma(mean_=6.0, cv_=0.6)
    assert g.var == pytest.approx((6 * 0.6) ** 2)


def test_deterministic_is_constant():
    x = Deterministic(value=3.0).sample(np.random.default_rng(0), 10)
    assert (x == 3.0).all() and Deterministic(value=3.0).var == 0.0


def test_spec_round_trips_file_form():
    from pydantic import TypeAdapter

    from simulation.distributions import Distribution

    adapter = TypeAdapter(Distribution)
    for d in [*CASES, Deterministic(value=1.5)]:
        assert adapter.validate_python(d.spec()) == d


def test_bad_parameters_are_refused():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="greater than low"):
        Uniform(low=3, high=1)
    with pytest.raises(ValidationError, match="low <= mode <= high"):
        Triangular(low=1, mode=5, high=4)
    with pytest.raises(ValidationError):
        Lognormal(mean_=-1, cv_=0.5)
