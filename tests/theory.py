"""Queueing-theory values the engine's statistical tests are checked against.

Erlang C (M/M/c) and Erlang A (M/M/c+M) live in :mod:`optimizer.erlang`, which the optimizer
uses for its starting staffing; they are re-exported here so the tests read one module, and are
not written twice. This module adds the results only the tests need:

* Pollaczek–Khinchine: mean wait in M/G/1 (any service distribution, one counter).
* Cobham: per-class mean waits with non-preemptive priority, in M/G/1 (any service
  distributions per class) and in M/M/c (one exponential service time for every class).
* Open Jackson networks: the traffic equations and the product-form station measures, with the
  kiosk → counter store as a ready-made instance (kiosk failures feed the counters).
* A relaxation time for M/M/c, used to check that a test's warm-up is long enough.

All rates are per minute and all times in minutes, as in the engine.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from optimizer.erlang import (
    erlang_a,
    erlang_c_mean_wait,
    erlang_c_service_level,
    erlang_c_wait_prob,
)

__all__ = [
    "MMCK",
    "JacksonStation",
    "cobham_mg1",
    "cobham_mmc",
    "erlang_a",
    "erlang_c_mean_wait",
    "erlang_c_service_level",
    "erlang_c_wait_prob",
    "jackson_open",
    "kiosk_counter_network",
    "mmc_number_in_system_pmf",
    "mmc_relaxation_time",
    "mmck",
    "mt_m_inf_interval_busy",
    "pk_mean_wait",
]


def pk_mean_wait(arrival_rate: float, mean_service: float, var_service: float) -> float:
    """Mean wait in queue of M/G/1 (Pollaczek–Khinchine): λ E[S²] / (2 (1 − ρ)).

    E[S²] = var + mean², so the wait grows with the service time's variability at a fixed load:
    the reason a lognormal top-up with cv 1 queues worse than a scripted (deterministic) one.

    >>> round(pk_mean_wait(0.5, 1.0, 1.0), 6)   # M/M/1, ρ = 0.5: ρ / (μ (1 − ρ)) = 1
    1.0
    """
    rho = arrival_rate * mean_service
    if not 0 <= rho < 1:
        raise ValueError(f"M/G/1 needs load rho = lambda * E[S] in [0, 1), got {rho!r}")
    second = var_service + mean_service**2
    return arrival_rate * second / (2.0 * (1.0 - rho))


def cobham_mg1(
    arrival_rates: Sequence[float], mean_services: Sequence[float], second_moments: Sequence[float]
) -> list[float]:
    """Per-class mean waits in M/G/1 with non-preemptive priority (Cobham, 1954).

    Classes are given highest priority first. With W0 = Σ λ_i E[S_i²] / 2 (the mean residual work
    an arrival finds in service) and σ_k = Σ_{i≤k} ρ_i, class k waits W0 / ((1 − σ_{k−1})(1 − σ_k)).
    """
    lam = np.asarray(arrival_rates, float)
    rho = lam * np.asarray(mean_services, float)
    if rho.sum() >= 1:
        raise ValueError(f"total load must be below 1, got {rho.sum()!r}")
    w0 = float((lam * np.asarray(second_moments, float)).sum()) / 2.0
    sigma = np.concatenate([[0.0], np.cumsum(rho)])
    return [w0 / ((1 - sigma[k]) * (1 - sigma[k + 1])) for k in range(len(lam))]


def cobham_mmc(arrival_rates: Sequence[float], mean_service: float, servers: int) -> list[float]:
    """Per-class mean waits in M/M/c with non-preemptive priority and one service rate for all classes.

    Classes highest priority first. An arrival finds all c busy with the Erlang C probability, and
    then the next departure comes after Exp(c μ) whatever the classes in service, so the M/G/1
    argument carries over with W0 = C(c, a) / (c μ) (Cobham; Gross & Harris, multi-server
    non-preemptive priority): W_k = W0 / ((1 − σ_{k−1})(1 − σ_k)), σ_k = Σ_{i≤k} λ_i / (c μ).
    """
    lam = np.asarray(arrival_rates, float)
    c = int(servers)
    total = float(lam.sum())
    if total * mean_service >= c:
        raise ValueError(f"load {total * mean_service!r} must be below the {c} servers")
    w0 = erlang_c_wait_prob(total, mean_service, c) * mean_service / c
    sigma = np.concatenate([[0.0], np.cumsum(lam * mean_service / c)])
    return [w0 / ((1 - sigma[k]) * (1 - sigma[k + 1])) for k in range(len(lam))]


def mmc_number_in_system_pmf(arrival_rate: float, mean_service: float, servers: int, nmax: int) -> np.ndarray:
    """P(N = n), n = 0..nmax, for stationary M/M/c (the marginal of each Jackson station)."""
    a = arrival_rate * mean_service
    c = int(servers)
    if a >= c:
        raise ValueError(f"M/M/c needs load a < c, got a={a!r}, c={c}")
    logs = np.empty(nmax + 1)
    logs[0] = 0.0
    for n in range(1, nmax + 1):
        logs[n] = logs[n - 1] + math.log(a) - math.log(min(n, c))
    # the geometric tail past nmax, summed exactly, so the normalisation is not truncated
    tail = math.exp(logs[nmax]) * (a / c) / (1 - a / c)
    p = np.exp(logs)
    return p / (p.sum() + tail)


@dataclass(frozen=True)
class JacksonStation:
    """Stationary measures of one M/M/c station in an open Jackson network."""

    arrival_rate: float
    mean_service: float
    servers: int
    utilization: float
    prob_wait: float
    mean_wait: float
    mean_queue: float
    mean_in_system: float


def jackson_open(
    external_rates: Sequence[float],
    routing: Sequence[Sequence[float]],
    mean_services: Sequence[float],
    servers: Sequence[int],
) -> list[JacksonStation]:
    """Open Jackson network of M/M/c stations: solve λ = γ + λ P, then each station is M/M/c.

    Jackson's theorem: the stationary joint distribution is the product of the stations' M/M/c
    marginals, as if each station had Poisson input at its total rate λ_i — so the means below are
    exact and the stations' queue lengths are independent at a random time.
    """
    gamma = np.asarray(external_rates, float)
    p = np.asarray(routing, float)
    n = len(gamma)
    if p.shape != (n, n) or (p < 0).any() or (p.sum(axis=1) > 1 + 1e-12).any():
        raise ValueError("routing must be a square sub-stochastic matrix, one row per station")
    lam = np.linalg.solve(np.eye(n) - p.T, gamma)
    out = []
    for i in range(n):
        s, c = float(mean_services[i]), int(servers[i])
        wq = erlang_c_mean_wait(float(lam[i]), s, c)
        out.append(
            JacksonStation(
                arrival_rate=float(lam[i]),
                mean_service=s,
                servers=c,
                utilization=float(lam[i]) * s / c,
                prob_wait=erlang_c_wait_prob(float(lam[i]), s, c),
                mean_wait=wq,
                mean_queue=float(lam[i]) * wq,
                mean_in_system=float(lam[i]) * (wq + s),
            )
        )
    return out


def kiosk_counter_network(
    arrival_rate: float,
    kiosk_eligible_share: float,
    adoption: float,
    failure: float,
    kiosk_mean: float,
    kiosks: int,
    counter_mean: float,
    counters: int,
) -> tuple[JacksonStation, JacksonStation]:
    """The store's kiosk → counter routing as a two-station Jackson network: (kiosk, counter).

    Walk-ins arrive at rate λ. A share e·a (kiosk-eligible × adoption) goes to the kiosks, the rest
    straight to the counters; a kiosk visit fails with probability f and the customer then queues at
    the counters. Exponential kiosk and counter times (one mean each, whatever the transaction) make
    both stations M/M/c, so counter arrivals total λ (1 − e a) + λ e a f.
    """
    to_kiosk = arrival_rate * kiosk_eligible_share * adoption
    kiosk, counter = jackson_open(
        external_rates=[to_kiosk, arrival_rate - to_kiosk],
        routing=[[0.0, failure], [0.0, 0.0]],
        mean_services=[kiosk_mean, counter_mean],
        servers=[kiosks, counters],
    )
    return kiosk, counter


def mmc_relaxation_time(arrival_rate: float, mean_service: float, servers: int) -> float:
    """Approximate relaxation time of M/M/c from empty: 1 / (c μ (1 − √ρ)²).

    Exact for M/M/1 (Morse: the spectral gap of the chain is μ (1 − √ρ)²); for c servers the queue
    behaves like an M/M/1 with rate c μ whenever all servers are busy, which is where the slow
    transient lives. After a warm-up of k relaxation times the remaining start-up deficit in the mean
    wait is of order e^{−k} of its initial size, so tests use warm-ups of at least 4 of them.
    """
    rho = arrival_rate * mean_service / servers
    if not 0 < rho < 1:
        raise ValueError(f"needs 0 < rho < 1, got {rho!r}")
    return mean_service / (servers * (1 - math.sqrt(rho)) ** 2)


@dataclass(frozen=True)
class MMCK:
    """Stationary M/M/c/K measures (K = most customers inside, in service plus waiting)."""

    prob_block: float
    """Share of arrivals who find K inside and do not join (PASTA)."""
    prob_wait_joined: float
    """Share of joining customers who wait at all."""
    mean_wait_joined: float
    """Mean wait of the customers who join."""
    mean_queue: float
    utilization: float


def mmck(arrival_rate: float, mean_service: float, servers: int, capacity: int) -> MMCK:
    """M/M/c/K by its birth-death chain: the store with balking and infinite patience.

    A customer who sees ``queue_at_least`` = N or more waiting does not join, so at most c + N are
    inside: M/M/c/K with K = c + N. Stable at any load, which is why a balking hall never "explodes".
    """
    c, k = int(servers), int(capacity)
    if k < c:
        raise ValueError(f"capacity {k} must be at least the {c} servers")
    a = arrival_rate * mean_service
    logs = np.zeros(k + 1)
    for i in range(1, k + 1):
        logs[i] = logs[i - 1] + math.log(a) - math.log(min(i, c))
    p = np.exp(logs - logs.max())
    p /= p.sum()
    n = np.arange(k + 1)
    lq = float((np.clip(n - c, 0, None) * p).sum())
    joined = arrival_rate * (1 - p[k])
    busy = float((np.minimum(n, c) * p).sum())
    return MMCK(
        prob_block=float(p[k]),
        prob_wait_joined=float(p[c:k].sum() / (1 - p[k])),
        mean_wait_joined=lq / joined,
        mean_queue=lq,
        utilization=busy / c,
    )


def mt_m_inf_interval_busy(rates_per_min: Sequence[float], interval_min: float, mean_service: float) -> np.ndarray:
    """Mean number in service, averaged over each interval, in M_t/M/∞ starting empty.

    With exponential service the mean m(t) solves m' = λ(t) − m / s; on an interval of constant λ it
    relaxes from its start value toward λ s: m(a + u) = λ s + (m(a) − λ s) e^{−u/s}. The interval
    average is λ s + (m(a) − λ s) (s / L)(1 − e^{−L/s}). (Eick, Massey and Whitt's M_t/G/∞.)
    A store with far more counters staffed than ever busy is this model: nobody waits.
    """
    s, length = float(mean_service), float(interval_min)
    decay = math.exp(-length / s)
    m = 0.0
    out = []
    for lam in rates_per_min:
        target = lam * s
        out.append(target + (m - target) * (s / length) * (1 - decay))
        m = target + (m - target) * decay
    return np.asarray(out)
