"""Analytic queueing formulas: Erlang B, Erlang C (M/M/c) and Erlang A (M/M/c+M).

These give the optimizer its starting staffing per interval and give the engine's tests textbook
values to check against. All rates share one time unit (the optimizer uses minutes): an arrival
rate per minute, a mean service time in minutes, a mean patience in minutes, a target wait in
minutes.

Numerical stability matters because a busy hall has loads of 20-40 Erlangs: the Erlang B recursion
(never a factorial) gives Erlang C, and Erlang A is computed from the birth-death chain in log space,
truncated where the remaining tail mass is below 1e-15.

Examples
--------
>>> round(erlang_c_wait_prob(2.0, 1.0, 3), 6)   # a = 2 Erlangs on 3 servers: C = 4/9
0.444444
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "ErlangA",
    "erlang_a",
    "erlang_b",
    "erlang_c_mean_wait",
    "erlang_c_service_level",
    "erlang_c_wait_prob",
]

_TAIL = 1e-15


def _check(arrival_rate: float, mean_service: float, servers: int) -> None:
    if not (math.isfinite(arrival_rate) and arrival_rate >= 0):
        raise ValueError(f"arrival_rate must be a finite number >= 0, got {arrival_rate!r}")
    if not (math.isfinite(mean_service) and mean_service > 0):
        raise ValueError(f"mean_service must be a finite number > 0, got {mean_service!r}")
    if int(servers) != servers or servers < 0:
        raise ValueError(f"servers must be a whole number >= 0, got {servers!r}")


def erlang_b(load: float, servers: int) -> float:
    """Blocking probability of M/M/c/c with offered load ``load`` Erlangs.

    The recursion B(k) = a B(k-1) / (k + a B(k-1)) stays in [0, 1] for any load, unlike the
    textbook ratio of a^c/c! to a partial exponential sum, which overflows past ~170 servers.
    """
    if not (math.isfinite(load) and load >= 0):
        raise ValueError(f"load must be a finite number >= 0, got {load!r}")
    b = 1.0
    for k in range(1, int(servers) + 1):
        b = load * b / (k + load * b)
    return b


def erlang_c_wait_prob(arrival_rate: float, mean_service: float, servers: int) -> float:
    """Probability an arrival waits in M/M/c (Erlang C).

    Returns 1.0 when the load reaches the servers (a >= c): the queue grows without bound, so in
    the limit everybody waits.
    """
    _check(arrival_rate, mean_service, servers)
    a = arrival_rate * mean_service
    c = int(servers)
    if a == 0:
        return 0.0
    if a >= c:
        return 1.0
    b = erlang_b(a, c)
    return c * b / (c - a * (1.0 - b))


def erlang_c_mean_wait(arrival_rate: float, mean_service: float, servers: int) -> float:
    """Mean wait in queue over all arrivals in M/M/c: C(c, a) · s / (c − a); ``inf`` when a >= c."""
    _check(arrival_rate, mean_service, servers)
    a = arrival_rate * mean_service
    c = int(servers)
    if a == 0:
        return 0.0
    if a >= c:
        return math.inf
    return erlang_c_wait_prob(arrival_rate, mean_service, c) * mean_service / (c - a)


def erlang_c_service_level(arrival_rate: float, mean_service: float, servers: int, target_wait: float) -> float:
    """Share of arrivals that wait at most ``target_wait`` in M/M/c: 1 − C · exp(−(c − a) t / s).

    0.0 when a >= c (the stationary wait is unbounded).
    """
    _check(arrival_rate, mean_service, servers)
    if not (target_wait >= 0):
        raise ValueError(f"target_wait must be >= 0, got {target_wait!r}")
    a = arrival_rate * mean_service
    c = int(servers)
    if a == 0:
        return 1.0
    if a >= c:
        return 0.0
    pw = erlang_c_wait_prob(arrival_rate, mean_service, c)
    if math.isinf(target_wait):
        return 1.0
    return 1.0 - pw * math.exp(-(c - a) * target_wait / mean_service)


@dataclass(frozen=True)
class ErlangA:
    """Stationary M/M/c+M (Erlang A) measures.

    Attributes
    ----------
    prob_wait : share of arrivals who find all servers busy (and so wait at all).
    prob_abandon : share of arrivals who run out of patience before service.
    mean_wait : mean time in queue over all arrivals (abandoners count up to when they leave).
    mean_wait_served : mean wait of the customers who are served.
    service_level : share of arrivals served within the target wait — abandoners never count as met,
        matching storeq's ``service_level`` KPI (served within target / (served + abandoned)).
    """

    prob_wait: float
    prob_abandon: float
    mean_wait: float
    mean_wait_served: float
    service_level: float


def _birth_death_log(arrival_rate: float, mu: float, theta: float, servers: int) -> np.ndarray:
    """Log stationary probabilities of the M/M/c+M chain, normalised, truncated at a negligible tail."""
    c = servers
    logs = [0.0]
    log_lam = math.log(arrival_rate)
    n = 0
    peak = 0.0
    # The chain decreases once the death rate passes lambda; stop when the term is 1e-15 of the peak
    # and still falling (the tail is then dominated by a geometric series far below the cut).
    limit = c + 200_000
    while n < limit:
        n += 1
        death = n * mu if n <= c else c * mu + (n - c) * theta
        nxt = logs[-1] + log_lam - math.log(death)
        logs.append(nxt)
        peak = max(peak, nxt)
        if n > c and death > arrival_rate and nxt - peak < math.log(_TAIL):
            break
    arr = np.asarray(logs)
    arr -= arr.max()
    total = math.log(float(np.exp(arr).sum()))
    return arr - total


def erlang_a(
    arrival_rate: float,
    mean_service: float,
    mean_patience: float,
    servers: int,
    target_wait: float,
) -> ErlangA:
    """Erlang A (M/M/c+M): Poisson arrivals, exponential service and exponential patience.

    Unlike Erlang C it is stable at any load (impatient customers leave), which is why it is the
    realistic start for a month-end hall whose customers give up after ~20 minutes.

    Parameters
    ----------
    arrival_rate : arrivals per time unit.
    mean_service : mean service time.
    mean_patience : mean patience; ``math.inf`` reduces to Erlang C (needs a < c for finite waits).
    servers : number of servers c.
    target_wait : the wait a customer must be served within to count toward the service level.

    Notes
    -----
    A customer who arrives to find j others waiting passes through stages k = j, ..., 0 (k still
    ahead). In stage k the line moves at rate c·mu + k·theta and the customer itself leaves at
    rate theta; each stage lasts Exp(c·mu + (k+1)·theta) whichever event ends it. Hence
    P(served | j) = prod_k r_k / (r_k + theta) and E[W; served | j] = P(served | j) · sum_k
    1 / (r_k + theta). P(served within t) solves the same stage chain forward in time.
    """
    _check(arrival_rate, mean_service, servers)
    if not (mean_patience > 0):
        raise ValueError(f"mean_patience must be > 0 (math.inf for none), got {mean_patience!r}")
    if not (target_wait >= 0):
        raise ValueError(f"target_wait must be >= 0, got {target_wait!r}")
    c = int(servers)
    if arrival_rate == 0:
        return ErlangA(0.0, 0.0, 0.0, 0.0, 1.0)
    if math.isinf(mean_patience):
        pw = erlang_c_wait_prob(arrival_rate, mean_service, c)
        mw = erlang_c_mean_wait(arrival_rate, mean_service, c)
        sl = erlang_c_service_level(arrival_rate, mean_service, c, target_wait)
        mws = mw
        return ErlangA(pw, 0.0, mw, mws, sl)
    if c == 0:
        # Nobody serves: every arrival waits and leaves after its patience.
        return ErlangA(1.0, 1.0, mean_patience, 0.0, 0.0)

    mu = 1.0 / mean_service
    theta = 1.0 / mean_patience
    logp = _birth_death_log(arrival_rate, mu, theta, c)
    p = np.exp(logp)
    prob_wait = float(p[c:].sum())
    queue = np.arange(len(p)) - c
    mean_queue = float((np.clip(queue, 0, None) * p).sum())
    prob_abandon = min(1.0, theta * mean_queue / arrival_rate)
    mean_wait = mean_queue / arrival_rate  # Little's law over all arrivals

    # Arrival finds n = c + j in system, i.e. j waiting ahead (PASTA).
    pj = p[c:]
    jmax = len(pj) - 1
    r = c * mu + np.arange(jmax + 1) * theta  # r_k: the line's speed with k ahead
    step = r / (r + theta)
    log_served_given_j = np.cumsum(np.log(step))  # stages 0..j
    served_given_j = np.exp(log_served_given_j)
    time_given_j = np.cumsum(1.0 / (r + theta))
    served_waiters = float((pj * served_given_j).sum())
    wait_served_mass = float((pj * served_given_j * time_given_j).sum())
    prob_served = 1.0 - prob_abandon
    mean_wait_served = wait_served_mass / prob_served if prob_served > 0 else 0.0

    if math.isinf(target_wait):
        served_within = served_waiters
    elif target_wait > 0:
        served_within = _served_within(pj, r, theta, target_wait)
    else:
        served_within = 0.0
    service_level = (1.0 - prob_wait) + served_within
    return ErlangA(
        prob_wait=prob_wait,
        prob_abandon=prob_abandon,
        mean_wait=mean_wait,
        mean_wait_served=mean_wait_served,
        service_level=min(1.0, max(0.0, service_level)),
    )


def _served_within(pj: np.ndarray, r: np.ndarray, theta: float, t: float) -> float:
    """Mass of waiting arrivals served within time t, by the stage chain (k ahead -> k-1 -> served).

    The generator is bidiagonal, so ``expm_multiply`` on a sparse matrix is cheap even with
    hundreds of stages; the extra last state accumulates the served mass.
    """
    if math.isinf(t):
        raise ValueError("t must be finite here")
    from scipy.sparse import diags
    from scipy.sparse.linalg import expm_multiply

    m = len(pj)
    # states 0..m-1 = k ahead; state m = served. Row vector dynamics: x' = x Q.
    # Transpose so that we can evolve a column vector: y' = Q^T y.
    main = np.concatenate([-(r + theta), [0.0]])
    # Q[k, k-1] = r_k for k >= 1 ; Q[0, m] = r_0 (served). In Q^T: (k-1, k) entries = r_k.
    upper = np.zeros(m)
    upper[: m - 1] = r[1:]
    qt = diags([main, upper], [0, 1], shape=(m + 1, m + 1), format="lil")
    qt[m, 0] = r[0]
    y0 = np.concatenate([pj, [0.0]])
    y = expm_multiply(qt.tocsc() * t, y0)
    return float(y[m])
