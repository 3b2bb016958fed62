"""Inverse-transform sampling: every random quantity of a customer is a fixed uniform pushed through
an inverse CDF.

Why not ``Distribution.sample``: for common random numbers across *what-ifs that change a
distribution or the demand*, customer k must keep its uniforms, and its service time must move
monotonically with the distribution (a faster transaction mean shortens every customer's time by the
same proportion; it does not re-roll who is slow). Inverse transform is the textbook way to get that
synchronisation. The inverse CDFs below are exact for every distribution in
:mod:`simulation.distributions` (the normal quantile is Wichura's AS241, the algorithm behind
``statistics.NormalDist.inv_cdf``; the gamma quantile is scipy's ``gammaincinv``, imported only when
a gamma distribution is used). Tests check each against the distribution's analytic mean and variance.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

# AS241 PPND16 coefficients, lowest power first: central region, near tail, far tail.
_A = (3.387132872796366608, 133.14166789178437745, 1971.5909503065514427, 13731.693765509461125,
      45921.953931549871457, 67265.770927008700853, 33430.575583588128105, 2509.0809287301226727)  # fmt: skip
_B = (1.0, 42.313330701600911252, 687.1870074920579083, 5394.1960214247511077,
      21213.794301586595867, 39307.89580009271061, 28729.085735721942674, 5226.495278852545925)  # fmt: skip
_C = (1.42343711074968357734, 4.6303378461565452959, 5.7694972214606914055, 3.64784832476320460504,
      1.27045825245236838258, 0.24178072517745061177, 0.0227238449892691845833, 7.7454501427834140764e-4)  # fmt: skip
_D = (1.0, 2.05319162663775882187, 1.6763848301838038494, 0.68976733498510000455,
      0.14810397642748007459, 0.0151986665636164571966, 5.475938084995344946e-4, 1.05075007164441684324e-9)  # fmt: skip
_E = (6.6579046435011037772, 5.4637849111641143699, 1.7848265399172913358, 0.29656057182850489123,
      0.026532189526576123093, 0.0012426609473880784386, 2.71155556874348757815e-5, 2.01033439929228813265e-7)  # fmt: skip
_F = (1.0, 0.59983220655588793769, 0.13692988092273580531, 0.0148753612908506148525,
      7.868691311456132591e-4, 1.8463183175100546818e-5, 1.4215117583164458887e-7, 2.04426310338993978564e-15)  # fmt: skip


def _ratio(x: np.ndarray, num: tuple[float, ...], den: tuple[float, ...]) -> np.ndarray:
    # Horner in place: this runs for every lognormal draw of every replication.
    p = np.full_like(x, num[-1])
    q = np.full_like(x, den[-1])
    for a, b in zip(num[-2::-1], den[-2::-1], strict=True):
        p *= x
        p += a
        q *= x
        q += b
    p /= q
    return p


def norm_ppf(u: np.ndarray) -> np.ndarray:
    """Standard normal quantile (Wichura 1988, AS241 PPND16; about 1e-16 relative accuracy).

    The same algorithm as ``statistics.NormalDist.inv_cdf``, vectorised; ``u = 0`` gives ``-inf``.
    """
    u = np.asarray(u, float)
    q = u - 0.5
    out = np.empty_like(u)
    central = np.abs(q) <= 0.425
    qc = q[central]
    out[central] = qc * _ratio(0.180625 - qc * qc, _A, _B)
    tail = ~central
    if tail.any():
        qt = q[tail]
        # u = 0 (probability 2**-53 from Generator.random) is the -inf quantile, set below.
        r = np.sqrt(-np.log(np.maximum(np.where(qt < 0, u[tail], 1.0 - u[tail]), 1e-300)))
        near = r <= 5.0
        val = np.empty_like(r)
        val[near] = _ratio(r[near] - 1.6, _C, _D)
        val[~near] = _ratio(r[~near] - 5.0, _E, _F)
        out[tail] = np.where(qt < 0, -val, val)
    out[u <= 0.0] = -np.inf
    return out


def lognormal_from_z(dist: Any, z: np.ndarray) -> np.ndarray:
    """Lognormal with the distribution's mean and cv at standard normal quantiles ``z``."""
    sigma2 = math.log1p(dist.cv**2)
    return np.exp(math.log(dist.mean) - sigma2 / 2 + math.sqrt(sigma2) * z)


def inverse_cdf(dist: Any, u: np.ndarray) -> np.ndarray:
    """Quantiles of ``dist`` (any distribution of :mod:`simulation.distributions`) at uniforms ``u`` in [0, 1)."""
    u = np.asarray(u, float)
    kind = getattr(dist, "dist", None)
    if kind == "exponential":
        return -dist.mean * np.log1p(-u)
    if kind == "lognormal":
        return lognormal_from_z(dist, norm_ppf(u))
    if kind == "gamma":
        from scipy.special import gammaincinv  # only scenarios with a gamma distribution pay for the import

        shape = 1.0 / dist.cv**2
        return np.asarray(gammaincinv(shape, u), float) * (dist.mean / shape)
    if kind == "deterministic":
        return np.full(u.shape, float(dist.value))
    if kind == "uniform":
        return dist.low + (dist.high - dist.low) * u
    if kind == "triangular":
        a, c, b = float(dist.low), float(dist.mode), float(dist.high)
        split = (c - a) / (b - a)
        left = a + np.sqrt(u * (b - a) * (c - a))
        right = b - np.sqrt((1.0 - u) * (b - a) * (b - c))
        return np.where(u < split, left, right)
    if kind == "empirical":
        values = np.asarray(dist.values, float)
        return values[np.minimum((u * len(values)).astype(np.int64), len(values) - 1)]
    raise TypeError(f"no inverse CDF for distribution {kind!r}")


def poisson_inverse(mean: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Poisson counts with the given means at uniforms ``u`` (inverse CDF, vectorised over intervals).

    Monotone in the mean for a fixed uniform: more demand never gives fewer customers, which is what
    lets a busier variant of a day keep every customer of the quieter one. The CDF is summed over a
    window of ±12 standard deviations around the mean (the mass outside is below 1e-30).
    """
    mean = np.asarray(mean, float)
    u = np.asarray(u, float)
    out = np.zeros(mean.shape, np.int64)
    pos = mean > 0
    if not pos.any():
        return out
    mu = mean[pos]
    sd = np.sqrt(mu)
    lo = np.maximum(0, np.floor(mu - 12 * sd - 5)).astype(np.int64)
    hi = np.ceil(mu + 12 * sd + 10).astype(np.int64)
    width = int((hi - lo).max()) + 1
    k = lo[:, None] + np.arange(width)[None, :]
    log_mu = np.log(mu)
    first = lo * log_mu - mu - np.array([math.lgamma(int(x) + 1) for x in lo])
    steps = log_mu[:, None] - np.log(np.maximum(k[:, 1:], 1))
    logp = np.concatenate([first[:, None], first[:, None] + np.cumsum(steps, axis=1)], axis=1)
    cdf = np.cumsum(np.exp(logp), axis=1)
    n = lo + (cdf <= u[pos][:, None]).sum(axis=1)
    out[pos] = np.minimum(n, lo + width - 1)
    return out
