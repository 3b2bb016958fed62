"""Distribution fitting: service times by maximum likelihood with AIC, patience with censoring.

Service times: lognormal, gamma and exponential are each fitted by maximum likelihood, compared by
AIC (2k − 2 log L: the extra parameter must buy a real gain in fit), and the winner's fit quality is
given as the Kolmogorov–Smirnov distance between the data and the fitted law.

Patience is never seen directly. A customer who abandoned after waiting w tells us patience = w (an
event); a customer served after waiting w tells us only patience > w (right-censored). Fitting the
abandoners alone keeps exactly the impatient ones and underestimates patience, badly when few
abandon — so we use Kaplan–Meier and censored maximum likelihood. A no-show ticket (called, nobody
came) left at an unknown time before the call: patience < wait (left-censored), used by the
parametric fits.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

MIN_TIME_MIN = 1.0 / 120.0
"""Half a second: logs round to the second, so a zero duration means "under a second", not zero."""
MIN_LOGNORMAL_EVENTS = 20
"""A two-parameter patience law from fewer abandonments than this is noise; the exponential is kept."""
KS_SAMPLE = 200_000
"""KS on more points than this only costs time: its distance is already precise to ~0.003."""


@dataclasses.dataclass(frozen=True)
class DistFit:
    """One candidate law fitted to one sample."""

    dist: str
    mean: float
    cv: float
    loglik: float
    aic: float
    ks: float

    def spec(self) -> dict[str, float | str]:
        """The scenario-file form (exponential has no cv)."""
        if self.dist == "exponential":
            return {"dist": "exponential", "mean": _round(self.mean)}
        return {"dist": self.dist, "mean": _round(self.mean), "cv": _round(self.cv)}


@dataclasses.dataclass(frozen=True)
class ServiceFit:
    """Service-time fit for one transaction and channel: every candidate, and the AIC winner."""

    n: int
    sample_mean: float
    sample_cv: float
    candidates: tuple[DistFit, ...]

    @property
    def best(self) -> DistFit:
        return min(self.candidates, key=lambda f: f.aic)


def _round(x: float) -> float:
    return float(f"{x:.4g}")


def _ks(x_sorted: np.ndarray, cdf: np.ndarray) -> float:
    n = len(x_sorted)
    i = np.arange(1, n + 1)
    return float(max(np.max(i / n - cdf), np.max(cdf - (i - 1) / n)))


def fit_service(times: np.ndarray) -> ServiceFit:
    """Fit lognormal, gamma and exponential to positive durations (minutes) by maximum likelihood.

    All three have closed-form or one-dimensional MLEs, so this is fast on hundreds of thousands of
    times: lognormal from the mean and sd of log times; gamma's shape from the root of
    log k − ψ(k) = log x̄ − mean(log x) (scale then x̄/k); exponential's mean is x̄.
    """
    x = np.asarray(times, dtype=float)
    x = np.maximum(x[np.isfinite(x)], MIN_TIME_MIN)
    n = len(x)
    if n < 2:
        raise ValueError(f"need at least 2 durations to fit, got {n}")
    lx = np.log(x)
    slx = float(lx.sum())
    xbar = float(x.mean())
    xs = np.sort(x) if n <= KS_SAMPLE else np.sort(np.random.default_rng(0).choice(x, KS_SAMPLE, replace=False))
    out = []
    # lognormal
    mu, sigma = float(lx.mean()), float(lx.std())
    sigma = max(sigma, 1e-6)
    ll = float(-slx - n * math.log(sigma * math.sqrt(2 * math.pi)) - ((lx - mu) ** 2).sum() / (2 * sigma**2))
    cdf = stats.norm.cdf((np.log(xs) - mu) / sigma)
    out.append(DistFit("lognormal", math.exp(mu + sigma**2 / 2), math.sqrt(math.expm1(sigma**2)), ll, 4 - 2 * ll, _ks(xs, cdf)))
    # gamma
    s = math.log(xbar) - slx / n
    if s > 1e-12:
        k0 = (3 - s + math.sqrt((s - 3) ** 2 + 24 * s)) / (12 * s)  # Minka's start, within 1.5% of the root
        try:
            k = float(optimize.newton(lambda k: math.log(k) - special.digamma(k) - s, k0, fprime=lambda k: 1 / k - special.polygamma(1, k), maxiter=50))
        except (RuntimeError, OverflowError, ZeroDivisionError):
            k = math.nan  # near-constant durations: no finite gamma shape; the lognormal and exponential remain
        if math.isfinite(k) and k > 0:
            theta = xbar / k
            ll = float((k - 1) * slx - n * xbar / theta - n * k * math.log(theta) - n * special.gammaln(k))
            cdf = special.gammainc(k, xs / theta)
            out.append(DistFit("gamma", xbar, 1 / math.sqrt(k), ll, 4 - 2 * ll, _ks(xs, cdf)))
    # exponential
    ll = float(-n * math.log(xbar) - n)
    out.append(DistFit("exponential", xbar, 1.0, ll, 2 - 2 * ll, _ks(xs, -np.expm1(-xs / xbar))))
    return ServiceFit(n=n, sample_mean=xbar, sample_cv=float(x.std(ddof=1) / xbar), candidates=tuple(out))


# ---------------------------------------------------------------------------------------------
# patience with censoring
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PatienceFit:
    """Patience estimates for one group of counter tickets.

    ``km`` is the Kaplan–Meier survival curve (time, survival, at_risk, events). ``km_median`` is
    None when survival never drops to one half within the observed waits (patience mostly exceeds
    every wait seen — then only a parametric fit can extrapolate). ``naive_mean`` is the mean wait of
    abandoners alone: shown to make its bias visible, never used.
    """

    n: int
    events: int
    right_censored: int
    left_censored: int
    exposure_min: float
    km: pd.DataFrame
    km_median: float | None
    km_restricted_mean: float
    naive_mean: float
    exponential: DistFit
    lognormal: DistFit | None

    @property
    def best(self) -> DistFit:
        if self.lognormal is not None and self.lognormal.aic < self.exponential.aic:
            return self.lognormal
        return self.exponential


def kaplan_meier(times: np.ndarray, event: np.ndarray) -> pd.DataFrame:
    """Kaplan–Meier survival at each distinct event time (ties: events before censorings)."""
    t = np.asarray(times, float)
    e = np.asarray(event, bool)
    order = np.argsort(t, kind="stable")
    t, e = t[order], e[order]
    uniq, first = np.unique(t, return_index=True)
    at_risk = len(t) - first
    d = np.add.reduceat(e.astype(np.int64), first) if len(t) else np.zeros(0, np.int64)
    has = d > 0
    uniq, at_risk, d = uniq[has], at_risk[has], d[has]
    surv = np.cumprod(1.0 - d / at_risk)
    return pd.DataFrame({"time": uniq, "survival": surv, "at_risk": at_risk, "events": d})


def _km_summary(km: pd.DataFrame, t_max: float) -> tuple[float | None, float]:
    if km.empty:
        return None, t_max
    below = km.index[km["survival"] <= 0.5]
    median = float(km.loc[below[0], "time"]) if len(below) else None
    # area under the step curve up to the longest wait seen (a lower bound on the mean)
    times = np.concatenate([[0.0], km["time"].to_numpy(), [t_max]])
    surv = np.concatenate([[1.0], km["survival"].to_numpy()])
    rmean = float(np.sum(np.diff(times) * surv))
    return median, rmean


_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def _log_unique(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values (rounded to 1/100 s, far below a log's resolution) as logs, with their counts."""
    u, c = np.unique(np.round(v * 6000.0) / 6000.0, return_counts=True)
    return np.log(np.maximum(u, MIN_TIME_MIN)), c.astype(float)


def fit_patience(wait: np.ndarray, kind: np.ndarray) -> PatienceFit:
    """Fit patience from waits and what ended them.

    Parameters
    ----------
    wait : minutes from ticket to leaving (abandoned), to being called (served) or to the call that
        found nobody (no_show).
    kind : per ticket, "event" (abandoned), "right" (served: patience > wait) or "left"
        (no-show: patience < wait).

    The exponential MLE with right censoring has a closed form — events divided by total exposure
    (the sum of all waits) — used when there are no left-censored tickets; otherwise, like the
    lognormal, it is maximised numerically (scipy).
    """
    w = np.maximum(np.asarray(wait, float), MIN_TIME_MIN)
    kind = np.asarray(kind)
    ev, rc, lc = kind == "event", kind == "right", kind == "left"
    n_ev = int(ev.sum())
    exposure = float(w[ev | rc].sum())
    km = kaplan_meier(w[ev | rc], ev[ev | rc])
    km_median, km_rmean = _km_summary(km, float(w.max()) if len(w) else 0.0)
    naive = float(w[ev].mean()) if n_ev else float("nan")
    we, wr, wl = w[ev], w[rc], w[lc]

    def exp_nll(log_mean: float) -> float:
        m = math.exp(log_mean)
        ll = -n_ev * log_mean - we.sum() / m - wr.sum() / m
        if len(wl):
            ll += float(np.log(-np.expm1(-wl / m)).sum())
        return -ll

    if n_ev == 0:
        exp_mean = float("inf")
        exp_ll = 0.0
    elif not len(wl):
        exp_mean = exposure / n_ev
        exp_ll = -exp_nll(math.log(exp_mean))
    else:
        res = optimize.minimize_scalar(exp_nll, bounds=(math.log(1e-3), math.log(1e5)), method="bounded")
        exp_mean, exp_ll = math.exp(res.x), -float(res.fun)
    exp_fit = DistFit("exponential", exp_mean, 1.0, exp_ll, 2 - 2 * exp_ll, float("nan"))

    logn: DistFit | None = None
    if n_ev >= MIN_LOGNORMAL_EVENTS:
        # Logs time to the second, so waits repeat: the likelihood over distinct values weighted by
        # their counts is the same number at a fraction of the cost (700k waits → a few 10k values).
        (lwe, ce), (lwr, cr), (lwl, cl) = (_log_unique(v) for v in (we, wr, wl))

        def ln_nll(p: np.ndarray) -> float:
            mu, log_s = float(p[0]), float(p[1])
            s = math.exp(log_s)
            ze, zr, zl = (lwe - mu) / s, (lwr - mu) / s, (lwl - mu) / s
            ll = float((ce * (-0.5 * ze * ze - _LOG_SQRT_2PI - log_s - lwe)).sum())
            ll += float((cr * special.log_ndtr(-zr)).sum())
            if len(lwl):
                ll += float((cl * special.log_ndtr(zl)).sum())
            return -ll

        start = np.array([float(np.log(exp_mean)) if math.isfinite(exp_mean) else float(lwe.mean()), 0.0])
        res = optimize.minimize(ln_nll, start, method="Nelder-Mead", options={"xatol": 1e-6, "fatol": 1e-6, "maxiter": 2000})
        mu, s = float(res.x[0]), math.exp(float(res.x[1]))
        ll = -float(res.fun)
        if math.isfinite(ll) and s < 10:
            logn = DistFit("lognormal", math.exp(mu + s * s / 2), math.sqrt(math.expm1(s * s)), ll, 4 - 2 * ll, float("nan"))
    return PatienceFit(
        n=len(w),
        events=n_ev,
        right_censored=int(rc.sum()),
        left_censored=int(lc.sum()),
        exposure_min=exposure,
        km=km,
        km_median=km_median,
        km_restricted_mean=km_rmean,
        naive_mean=naive,
        exponential=exp_fit,
        lognormal=logn,
    )
