"""Inverse-transform sampling helpers: the Poisson count of an interval and the normal quantile.

Every random quantity of a customer is a fixed uniform pushed through an inverse CDF: a distribution's
own :meth:`~simulation.distributions.Exponential.ppf` for times and patience, and here the Poisson
inverse CDF for the number of arrivals in an interval.

Why not ``numpy``'s samplers: for common random numbers across *what-ifs that change a distribution
or the demand*, customer k must keep its uniforms, and its service time must move monotonically with
the distribution (a faster transaction mean shortens every customer's time by the same proportion; it
does not re-roll who is slow), and more demand must keep every customer of less demand. Inverse
transform is the textbook way to get that synchronisation.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtri


def norm_ppf(u: np.ndarray) -> np.ndarray:
    """Standard normal quantile, vectorised (``u = 0`` gives ``-inf``): scipy's ``ndtri``."""
    return ndtri(np.asarray(u, float))


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
