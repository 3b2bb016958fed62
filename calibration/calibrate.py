"""From a cleaned ticket log to a v1 scenario, with the evidence behind every number.

Each fit is a small pure function over the ticket table (vectorised: a million tickets take seconds):

- :func:`fit_arrivals` — a Poisson model ``count[day, interval] = base[interval] × weekday[day] ×
  day_of_month[day]`` fitted by maximum likelihood (iterative proportional fitting, which is the MLE
  of this log-linear model). Day-of-month factors are kept only where a day of the month stands out
  beyond noise (|z| > 3 against the other days of the same weekday, and > 10%), so one ordinary
  busy Tuesday does not become a "factor" (with 31 days tested, roughly one month-log in ten still
  flags a day by chance; the report lists every day's z).
- :func:`fit_shares` — segment and transaction shares of tickets, kiosk share of kiosk-eligible ones.
- service times and patience — :mod:`calibration.fitting`.
- :func:`fit_staffing` — counters on duty per interval from when each counter was active.

:func:`calibrate` ties them together: the fitted scenario is built as data, validated by the scenario
model and written by the one scenario YAML writer (:mod:`simulation.yamlwriter`), with a
comment on every number saying where it came from. No date of the run goes in: same log, same bytes.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Collection
from typing import Any

import numpy as np
import pandas as pd

from simulation import Scenario, format_clock, scenario_from_dict
from simulation.yamlwriter import emit

from .fitting import MIN_TIME_MIN, DistFit, PatienceFit, ServiceFit, fit_patience, fit_service
from .logformat import CleanLog, LogError

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MIN_SERVICE_N = 30
"""Below this many timed services a transaction's own fit is too noisy; the pooled fit is used."""
MIN_PATIENCE_EVENTS = 30
"""A segment needs this many abandonments for its own patience fit; otherwise all segments pooled."""
MIN_KIOSK_SHARE = 0.005
"""A transaction counts as kiosk-eligible when at least this share of its tickets used a kiosk."""
DOM_Z = 3.0
DOM_MIN_EFFECT = 0.10


@dataclasses.dataclass(frozen=True)
class ArrivalFit:
    """Arrival profile and day factors.

    ``base_per_hour``: arrivals per hour per interval on a day with factor 1 (the typical day).
    ``weekday`` (7, Monday first; NaN for weekdays not in the log) and ``day_of_month`` ({day: f}).
    ``counts``: observed tickets per (day, interval) — rows are days, columns intervals.
    """

    base_per_hour: np.ndarray
    weekday: np.ndarray
    day_of_month: dict[int, float]
    dom_table: pd.DataFrame
    counts: pd.DataFrame
    dispersion: float = 1.0
    """Day-to-day variance of ticket totals over the Poisson variance (1 = pure chance)."""
    day_cv: float = 0.0
    """Coefficient of variation of a day's demand factor beyond Poisson (``demand.day_cv``); 0 when the
    spread is not significant (:func:`fit_day_cv`)."""
    day_cv_raw: float = 0.0
    """The method-of-moments estimate before the significance gate (0 when negative)."""
    day_cv_p: float = 1.0
    """P-value of the day totals' Pearson chi-square under pure Poisson (small: over-dispersed)."""

    def day_cv_evidence(self) -> str:
        """One line saying how day_cv was found, for the scenario's comment and the report."""
        n = len(self.counts)
        if not math.isfinite(self.day_cv_p):
            return f"{n} days are too few to measure day-to-day spread beyond the weekday/day-of-month factors, so 0"
        if self.day_cv > 0:
            return (
                f"day totals spread beyond Poisson over {n} days (chi-square p = {self.day_cv_p:.2g}): method of moments on "
                f"daily totals after weekday/day-of-month factors, Var = mu + (cv mu)^2"
            )
        return (
            f"no day-to-day spread beyond Poisson at 5% over {n} days (chi-square p = {self.day_cv_p:.2g}; "
            f"moment estimate {self.day_cv_raw:.3f}), so 0"
        )

    def day_factor(self, day: pd.Timestamp) -> float:
        w = self.weekday[day.weekday()]
        return (1.0 if not np.isfinite(w) else float(w)) * self.day_of_month.get(day.day, 1.0)


def interval_index(minutes: np.ndarray, open_min: int, interval_min: int, n: int) -> np.ndarray:
    """Interval number for minutes after midnight (−1 outside opening hours)."""
    idx = np.floor((np.asarray(minutes, float) - open_min) / interval_min)
    idx = np.where(np.isfinite(idx) & (idx >= 0) & (idx < n), idx, -1)
    return idx.astype(np.int64)


def _day_counts(t: pd.DataFrame, open_min: int, interval_min: int, n: int) -> pd.DataFrame:
    idx = interval_index(t["issued_min"].to_numpy(), open_min, interval_min, n)
    days, day_code = np.unique(t["day"].to_numpy(), return_inverse=True)
    ok = idx >= 0
    flat = np.bincount(day_code[ok] * n + idx[ok], minlength=len(days) * n).reshape(len(days), n)
    return pd.DataFrame(flat, index=pd.DatetimeIndex(days, name="day"), columns=range(n))


DAY_CV_ALPHA = 0.05
"""day_cv is fitted only when the day totals are over-dispersed at this level (Pearson chi-square)."""


def fit_day_cv(totals: np.ndarray, expected: np.ndarray, params: int) -> tuple[float, float, float]:
    """``demand.day_cv`` from day totals beyond Poisson: (day_cv, raw estimate, p-value).

    The engine multiplies a day's demand by a gamma factor G (mean 1, cv c), so a day total N with
    expectation mu has Var N = mu + c² mu² (Poisson given G, plus G's spread). Method of moments on
    the residuals of the fitted factors: c² = (Σ (N − mu)² · n/(n − p) − Σ mu) / Σ mu², where the
    n/(n − p) undoes the shrinkage of residuals by the ``params`` fitted day factors (weekday factors,
    flagged days of the month). The estimate is kept only when the Pearson statistic Σ (N − mu)²/mu
    is significant against chi-square(n − p) at :data:`DAY_CV_ALPHA`; pure Poisson days otherwise
    yield a small positive estimate from noise alone.
    """
    from scipy.special import chdtrc

    tot = np.asarray(totals, float)
    mu = np.asarray(expected, float)
    ok = mu > 0
    tot, mu = tot[ok], mu[ok]
    n = len(tot)
    dof = n - params
    if dof < 3:
        return 0.0, 0.0, math.nan  # too few days beyond the fitted factors to measure a spread
    ss = float(((tot - mu) ** 2).sum()) * n / dof
    c2 = (ss - float(mu.sum())) / float((mu**2).sum())
    raw = math.sqrt(c2) if c2 > 0 else 0.0
    p_value = float(chdtrc(dof, float(((tot - mu) ** 2 / mu).sum())))
    return (raw if p_value < DAY_CV_ALPHA else 0.0), raw, p_value


def fit_arrivals(t: pd.DataFrame, open_min: int, interval_min: int, n: int) -> ArrivalFit:
    """Fit base profile × weekday × day-of-month by Poisson maximum likelihood (see module docstring)."""
    counts = _day_counts(t, open_min, interval_min, n)
    c = counts.to_numpy(float)
    days = pd.DatetimeIndex(counts.index)
    wd = days.day_of_week.to_numpy()
    dom = days.day.to_numpy()
    tot = c.sum(axis=1)
    present_wd = np.unique(wd)

    def ipf(flagged: set[int], iters: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        w = np.ones(7)
        m = np.ones(32)
        for _ in range(iters):
            f = w[wd] * m[dom]
            base = c.sum(axis=0) / f.sum()
            big_b = base.sum()
            w_new = w.copy()
            for k in present_wd:
                sel = wd == k
                w_new[k] = tot[sel].sum() / (big_b * m[dom[sel]].sum())
            m_new = np.ones(32)
            for j in flagged:
                sel = dom == j
                m_new[j] = tot[sel].sum() / (big_b * w_new[wd[sel]].sum())
            done = np.allclose(w_new, w, rtol=1e-10) and np.allclose(m_new, m, rtol=1e-10)
            w, m = w_new, m_new
            if done:
                break
        # weekday factors average 1 over the weekdays seen, so `base` is an ordinary day's profile
        scale = w[present_wd].mean()
        w = w / scale
        base = c.sum(axis=0) / (w[wd] * m[dom]).sum()
        return base, w, m

    def peers(flagged: set[int]) -> tuple[np.ndarray, np.ndarray]:
        """Each day's expected total from the *other* days of its weekday (leave-one-out) and its variance.

        Leaving the day out matters: with four Mondays in a month, a busy month-end Monday would
        otherwise raise its own weekday factor and hide a quarter of its effect.
        """
        m_of = np.ones(32)
        if flagged:
            _, _, m_fit = ipf(flagged)
            m_of = m_fit
        norm = tot / m_of[dom]  # other days' totals with their own (flagged) factors taken out
        exp = np.zeros(len(tot))
        var = np.zeros(len(tot))
        for k in present_wd:
            idx = np.flatnonzero(wd == k)
            for d in idx:
                others = idx[(idx != d) & ~np.isin(dom[idx], [dom[d]])]
                if len(others):
                    exp[d] = float(norm[others].mean())
                    var[d] = exp[d] * (1 + 1 / len(others))
        return exp, var

    flagged: set[int] = set()
    table = pd.DataFrame()
    for _ in range(4):  # flag, refit, re-flag
        exp_d, var_d = peers(flagged)
        has = var_d > 0
        z_d = np.where(has, (tot - exp_d) / np.sqrt(np.where(has, var_d, 1.0)), 0.0)
        unflagged = has & ~np.isin(dom, list(flagged))
        # Over-dispersion from the median squared residual (0.455 is the median of chi-square(1)),
        # so the very days that stand out do not inflate the noise they are judged against. Real
        # logs are over-dispersed (weather, promotions): widen, never narrow.
        raw_phi = float(np.median(z_d[unflagged] ** 2)) / 0.455 if unflagged.sum() > 5 else 1.0
        phi = max(raw_phi, 1.0)
        rows = []
        for j in np.unique(dom):
            sel = (dom == j) & has
            obs, exp, var = float(tot[sel].sum()), float(exp_d[sel].sum()), float(var_d[sel].sum())
            ratio = obs / exp if exp > 0 else 1.0
            z = (obs - exp) / math.sqrt(phi * var) if var > 0 else 0.0
            rows.append({"day_of_month": int(j), "days": int((dom == j).sum()), "observed": obs, "expected_from_same_weekdays": exp, "ratio": ratio, "z": z})
        table = pd.DataFrame(rows)
        big = (table["z"].abs() > DOM_Z) & ((table["ratio"] - 1).abs() > DOM_MIN_EFFECT)
        new = {int(j) for j in table.loc[big, "day_of_month"]}
        if new == flagged:
            break
        flagged = new
    base, w, m = ipf(flagged)
    table["factor"] = [float(m[j]) if j in flagged else 1.0 for j in table["day_of_month"]]
    weekday = np.where(np.isin(np.arange(7), present_wd), w, np.nan)
    per_hour = base * 60.0 / interval_min
    expected = base.sum() * w[wd] * m[dom]
    day_cv, day_cv_raw, day_cv_p = fit_day_cv(tot, expected, len(present_wd) + len(flagged))
    return ArrivalFit(
        per_hour, weekday, {j: float(m[j]) for j in sorted(flagged)}, table, counts, raw_phi, day_cv, day_cv_raw, day_cv_p
    )


@dataclasses.dataclass(frozen=True)
class Shares:
    segments: dict[str, float]
    transactions: dict[str, float]
    kiosk_eligible: tuple[str, ...]
    kiosk_adoption: float | None
    kiosk_tickets: int
    eligible_tickets: int


def _shares(counts: pd.Series) -> dict[str, float]:
    counts = counts[counts > 0].sort_values(ascending=False)
    total = float(counts.sum())
    out = {str(k): round(float(v) / total, 4) for k, v in counts.items()}
    first = next(iter(out))
    out[first] = round(out[first] + (1.0 - sum(out.values())), 6)  # file shares must add to 1 exactly
    return out


def fit_shares(t: pd.DataFrame) -> Shares:
    """Shares of tickets by segment and transaction; kiosk share of kiosk-eligible transactions."""
    seg = _shares(t["segment"].value_counts(sort=False))
    tx = _shares(t["transaction"].value_counts(sort=False))
    by = pd.crosstab(t["transaction"], t["channel"])
    kiosk = by["kiosk"] if "kiosk" in by else pd.Series(0, index=by.index)
    share = kiosk / by.sum(axis=1)
    eligible = tuple(str(x) for x in share.index[share >= MIN_KIOSK_SHARE] if str(x) in tx)
    n_k = int(kiosk[list(eligible)].sum()) if eligible else 0
    n_e = int(by.loc[list(eligible)].to_numpy().sum()) if eligible else 0
    return Shares(seg, tx, eligible, (n_k / n_e) if n_e else None, n_k, n_e)


def _durations(t: pd.DataFrame, channel: str) -> pd.DataFrame:
    sel = (t["channel"] == channel) & (t["outcome"] == "served") & t["times_ok"]
    d = t.loc[sel, ["transaction"]].copy()
    d["minutes"] = (t.loc[sel, "end_min"] - t.loc[sel, "start_min"]).to_numpy()
    return d[np.isfinite(d["minutes"]) & (d["minutes"] >= 0)]


def fit_services(t: pd.DataFrame, channel: str, names: list[str]) -> dict[str, tuple[ServiceFit, bool]]:
    """Service fit per transaction on one channel; (fit, own) — own False when the pooled fit was used."""
    d = _durations(t, channel)
    out: dict[str, tuple[ServiceFit, bool]] = {}
    pooled: ServiceFit | None = None
    groups = {str(k): g["minutes"].to_numpy() for k, g in d.groupby("transaction", observed=True)}
    for name in names:
        x = groups.get(name, np.zeros(0))
        if len(x) >= MIN_SERVICE_N:
            out[name] = (fit_service(x), True)
        else:
            if pooled is None and len(d) >= 2:
                pooled = fit_service(d["minutes"].to_numpy())
            if pooled is not None:
                out[name] = (pooled, False)
    return out


def patience_data(t: pd.DataFrame) -> pd.DataFrame:
    """Counter tickets as patience observations: wait and kind (event / right / left)."""
    sel = (t["channel"] == "counter") & t["times_ok"]
    d = t.loc[sel]
    outcome = d["outcome"].to_numpy()
    called = d["called_min"].to_numpy()
    start = d["start_min"].to_numpy()
    end_wait = np.where(np.isfinite(called), called, start)
    wait = end_wait - d["issued_min"].to_numpy()
    kind = np.select([outcome == "abandoned", outcome == "served", outcome == "no_show"], ["event", "right", "left"], "")
    ok = np.isfinite(wait) & (kind != "")
    return pd.DataFrame({"segment": d["segment"].to_numpy()[ok], "wait": np.maximum(wait[ok], MIN_TIME_MIN), "kind": kind[ok]})


def fit_patiences(t: pd.DataFrame, segments: list[str]) -> tuple[dict[str, tuple[PatienceFit, bool]], PatienceFit | None]:
    """Patience per segment (own fit when it has enough abandonments, else the pooled fit)."""
    d = patience_data(t)
    if d.empty or not (d["kind"] == "event").any():
        return {}, None
    pooled = fit_patience(d["wait"].to_numpy(), d["kind"].to_numpy())
    out: dict[str, tuple[PatienceFit, bool]] = {}
    for name in segments:
        g = d[d["segment"] == name]
        if int((g["kind"] == "event").sum()) >= MIN_PATIENCE_EVENTS:
            out[name] = (fit_patience(g["wait"].to_numpy(), g["kind"].to_numpy()), True)
        else:
            out[name] = (pooled, False)
    return out, pooled


@dataclasses.dataclass(frozen=True)
class StaffingFit:
    staffed: np.ndarray
    """Typical counters on duty per interval (median over days)."""
    per_day: pd.DataFrame
    """Counters on duty per (day, interval)."""
    physical: int
    method: str


IDLE_BRIDGE_MIN = 30.0
"""An idle spell shorter than this between two services (or after opening) is on duty, not closed."""
IDLE_BRIDGE_LONG_MIN = 120.0
"""A longer idle spell is on duty only if nobody waited during it, and only up to this long."""


def staffing_notes(st: StaffingFit) -> list[str]:
    """Weekdays staffed differently from the typical day (a scenario has one schedule)."""
    notes = []
    per_day = st.per_day
    days = pd.DatetimeIndex(per_day.index)
    for k, label in enumerate(WEEKDAY_NAMES):
        sel = days.day_of_week == k
        if sel.sum() < 2:
            continue
        med = np.floor(np.median(per_day.to_numpy()[sel], axis=0) + 0.5).astype(int)
        diff = med - st.staffed
        if (diff != 0).mean() >= 0.25:  # a quarter of the day or more differs
            more = int(diff.sum())
            notes.append(
                f"{label}s are staffed differently from the typical day ({'+' if more >= 0 else ''}{more} counter-intervals; "
                f"median {' '.join(map(str, med))}): the scenario has one schedule, so set counters.staffed for {label}s if you plan them"
            )
    return notes


def _waiting_minutes(t: pd.DataFrame, day0: pd.Timestamp) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """Customer-minutes spent waiting at the counters between two times (minutes since day0's midnight).

    Built once from every counter ticket's wait (issue to call, or to leaving for abandoners) as the
    integral of the queue length, so each question is two binary searches.
    """
    sel = (t["channel"] == "counter") & t["times_ok"] & t["outcome"].isin(["served", "abandoned"])
    d = t.loc[sel]
    off = np.asarray((pd.DatetimeIndex(d["day"].to_numpy()) - day0).days, float) * 1440.0
    a = d["issued_min"].to_numpy(float) + off
    called = d["called_min"].to_numpy(float)
    b = np.where(np.isfinite(called), called, d["start_min"].to_numpy(float)) + off
    ok = np.isfinite(a) & np.isfinite(b) & (b > a)
    times = np.concatenate([a[ok], b[ok]])
    delta = np.concatenate([np.ones(ok.sum()), -np.ones(ok.sum())])
    order = np.argsort(times, kind="stable")
    times, delta = times[order], delta[order]
    queue = np.cumsum(delta)
    integral = np.concatenate([[0.0], np.cumsum(queue[:-1] * np.diff(times))]) if len(times) else np.zeros(0)

    def at(x: np.ndarray) -> np.ndarray:
        if not len(times):
            return np.zeros(len(x))
        k = np.searchsorted(times, x, side="right") - 1
        kk = np.clip(k, 0, None)
        return np.where(k < 0, 0.0, integral[kk] + queue[kk] * (x - times[kk]))

    return lambda lo, hi: at(hi) - at(lo)


def fit_staffing(
    t: pd.DataFrame, open_min: int, interval_min: int, n: int, counters: Collection[str] | None = None, force_last: bool = True,
    waiting: pd.Series | None = None,
) -> StaffingFit:
    """Counters on duty per interval from counter activity.

    Each counter's day is a timeline of services. An idle spell between two services counts as on
    duty when it is under 30 minutes, or under two hours with nobody waiting at the counters
    meanwhile; the spell from opening to its first service, or from its last service to closing,
    only in the second case — a staffed
    counter does not sit idle while tickets wait, so a spell with customers waiting was a closure,
    and at low load a staffed counter waits for customers. A counter is on duty in an interval when
    it started a service there, or its on-duty time covers at least half of the interval. So a
    counter that closes at 15:00 and finishes its customer at 15:05 is not counted for 15:00-15:30,
    a counter away while customers waited is not counted, and one long handset sale keeps its
    counter counted. The typical day is the median over days. A counter idle for over two hours is
    taken as closed, so at very low load this can still undercount.

    ``counters`` limits the count to those counters (one counter group) and ``waiting`` (a mask over
    the tickets) to the customers they could have served when asking whether anyone waited: an
    adviser idle while only cash customers queue is still on duty. ``force_last``: staff the last interval with at least one
    counter (someone must serve whoever is inside at closing; a group whose customers another group
    also serves need not).
    """
    sel = (t["channel"] == "counter") & (t["outcome"] == "served") & t["times_ok"] & t["counter_id"].notna()
    if counters is not None:
        sel &= t["counter_id"].isin(list(counters))
    d = t.loc[sel, ["day", "counter_id", "start_min", "end_min"]]
    d = d[np.isfinite(d["start_min"]) & np.isfinite(d["end_min"])]
    days = pd.DatetimeIndex(np.unique(t["day"].to_numpy()))
    if d.empty:
        zero = pd.DataFrame(np.zeros((len(days), n), int), index=days, columns=range(n))
        return StaffingFit(np.ones(n, int), zero, 1, "no counter ids in the log: one counter assumed")
    d = d.sort_values(["day", "counter_id", "start_min"], kind="stable")
    day_a, ctr_a = d["day"].to_numpy(), d["counter_id"].to_numpy()
    start, end = d["start_min"].to_numpy(float), d["end_min"].to_numpy(float)
    same_next = np.r_[(day_a[1:] == day_a[:-1]) & (ctr_a[1:] == ctr_a[:-1]), False]
    first = np.r_[True, ~same_next[:-1]]
    next_start = np.r_[start[1:], np.nan]
    # on-duty segments: each service, stretched over an idle spell to the next one when the spell is
    # short, or longer but with nobody waiting (a staffed counter does not idle while tickets wait)
    close_min = open_min + n * interval_min
    day0 = days.min()
    off = np.asarray((pd.DatetimeIndex(day_a) - day0).days, float) * 1440.0
    waited = _waiting_minutes(t if waiting is None else t[waiting.to_numpy(bool)], day0)

    def quiet(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (b - a < IDLE_BRIDGE_LONG_MIN) & (waited(np.nan_to_num(a) + off, np.nan_to_num(b) + off) <= 1.0)

    # between two services the counter was there on both sides: a short spell is bridged even if
    # someone waited (a quick errand); before the first or after the last service only a quiet one
    seg_end = np.where(same_next & ((next_start - end < IDLE_BRIDGE_MIN) | quiet(end, next_start)), np.maximum(next_start, end), end)
    seg_end = np.where(~same_next & quiet(end, np.full(len(end), float(close_min))), np.maximum(end, close_min), seg_end)
    seg_start = np.where(first & quiet(np.full(len(start), float(open_min)), start), np.minimum(start, open_min), start)
    s_idx = interval_index(start, open_min, interval_min, n)
    on = pd.DataFrame({"day": day_a, "counter": ctr_a, "interval": s_idx})
    a = np.clip(seg_start, open_min, close_min)
    b = np.clip(seg_end, open_min, close_min)
    ia = np.clip(((a - open_min) // interval_min).astype(np.int64), 0, n - 1)
    ib = np.clip(((b - open_min) // interval_min).astype(np.int64), 0, n - 1)
    reps = ib - ia + 1
    row = np.repeat(np.arange(len(a)), reps)
    iv = np.repeat(ia, reps) + (np.arange(len(row)) - np.repeat(np.cumsum(reps) - reps, reps))
    lo = open_min + iv * interval_min
    cover = np.clip(np.minimum(b[row], lo + interval_min) - np.maximum(a[row], lo), 0, None)
    pieces = pd.DataFrame({"day": day_a[row], "counter": ctr_a[row], "interval": iv, "cover": cover})
    cov = pieces.groupby(["day", "counter", "interval"], as_index=False).agg(cover=("cover", "sum"))
    half = cov.loc[cov["cover"] >= interval_min / 2, ["day", "counter", "interval"]]
    on = pd.concat([on[on["interval"] >= 0], half]).drop_duplicates()
    per_day = on.groupby(["day", "interval"]).size().unstack(fill_value=0).reindex(index=days, columns=range(n), fill_value=0)
    typical = np.floor(np.median(per_day.to_numpy(), axis=0) + 0.5).astype(int)
    if typical[-1] == 0 and force_last:
        typical[-1] = 1  # someone must serve whoever is inside at closing
    physical = int(max(d.groupby("day")["counter_id"].nunique().max(), typical.max()))
    return StaffingFit(
        typical, per_day, physical,
        f"distinct counters that started a service in the interval or were on duty half of it (idle spells under "
        f"{IDLE_BRIDGE_MIN:g} min, or under {IDLE_BRIDGE_LONG_MIN:g} min with nobody waiting, count as on duty); median over days",
    )


@dataclasses.dataclass(frozen=True)
class Calibration:
    """Everything :func:`calibrate` found, and the scenario it wrote."""

    scenario: Scenario
    yaml_text: str
    clean: CleanLog
    open_min: int
    close_min: int
    interval_min: int
    arrivals: ArrivalFit
    shares: Shares
    counter_fits: dict[str, tuple[ServiceFit, bool]]
    kiosk_fits: dict[str, tuple[ServiceFit, bool]]
    patience: dict[str, tuple[PatienceFit, bool]]
    patience_pooled: PatienceFit | None
    priorities: dict[str, int]
    staffing: StaffingFit
    kiosk_count: int
    vip_counters: int
    service_by_interval: pd.DataFrame
    """Counter service by interval vs the all-day fits (observed_mean, expected_mean, ratio, z)."""
    notes: tuple[str, ...]
    pitch: PitchModel | None = None
    """Cross-selling read from the log (main times, pitch length, threshold), when it shows."""
    groups: tuple[GroupCandidate, ...] = ()
    """Counter groups the log shows (empty: one pool serving everyone, the v1 ``staffed``/``vip`` form)."""

    def counter_group_of(self) -> dict[str, str]:
        """Counter id → group name (empty without groups)."""
        return {c: g.name for g in self.groups for c in g.counters}

    @property
    def days(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(self.arrivals.counts.index)

    def interval_labels(self) -> list[str]:
        return [format_clock(self.open_min + i * self.interval_min) for i in range(self.arrivals.counts.shape[1])]

    def profiles(self) -> pd.DataFrame:
        """Arrivals per hour per interval: the typical day (factor 1), the observed mean and the busiest day."""
        c = self.arrivals.counts
        per_hour = 60.0 / self.interval_min
        busiest = pd.Timestamp(c.index[int(np.argmax(c.sum(axis=1).to_numpy()))])
        return pd.DataFrame(
            {
                "interval": range(c.shape[1]),
                "start": self.interval_labels(),
                "typical_per_hour": self.arrivals.base_per_hour,
                "observed_mean_per_hour": c.mean(axis=0).to_numpy() * per_hour,
                "busiest_day_per_hour": c.loc[busiest].to_numpy(float) * per_hour,
                "staffed_typical": self.staffing.staffed,
            }
        ).assign(busiest_day=busiest.date().isoformat())

    def service_table(self) -> pd.DataFrame:
        """Every candidate fit per (channel, transaction), winner flagged."""
        rows = []
        groups = [("counter", self.counter_fits), ("kiosk", self.kiosk_fits)]
        if self.pitch is not None:
            groups.insert(1, ("counter_main", self.pitch.counter_fits))  # main transaction alone (the scenario's counter_time)
        for channel, fits in groups:
            for tx, (fit, own) in fits.items():
                for c in fit.candidates:
                    rows.append(
                        {
                            "channel": channel, "transaction": tx, "n": fit.n, "own_fit": own,
                            "sample_mean": fit.sample_mean, "sample_cv": fit.sample_cv,
                            "dist": c.dist, "mean": c.mean, "cv": c.cv, "loglik": c.loglik, "aic": c.aic,
                            "delta_aic": c.aic - fit.best.aic, "ks": c.ks, "chosen": c is fit.best,
                        }
                    )
        return pd.DataFrame(rows)

    def patience_table(self) -> pd.DataFrame:
        """Censored vs naive patience per segment (and pooled)."""
        rows = []
        items = list(self.patience.items())
        if self.patience_pooled is not None:
            items.append(("(all segments)", (self.patience_pooled, True)))
        for seg, (p, own) in items:
            rows.append(
                {
                    "segment": seg, "own_fit": own, "tickets": p.n, "abandoned": p.events,
                    "served_censored": p.right_censored, "no_show": p.left_censored,
                    "exposure_min": p.exposure_min,
                    "exponential_mean": p.exponential.mean,
                    "lognormal_mean": p.lognormal.mean if p.lognormal else np.nan,
                    "lognormal_cv": p.lognormal.cv if p.lognormal else np.nan,
                    "chosen": p.best.dist, "km_median": p.km_median if p.km_median is not None else np.nan,
                    "km_restricted_mean": p.km_restricted_mean, "naive_abandoners_mean": p.naive_mean,
                }
            )
        return pd.DataFrame(rows)

    def summary(self) -> dict[str, Any]:
        """A JSON-ready account for the CLI: data used, what was skipped, the main fitted numbers."""
        c = self.clean
        return {
            "source": c.source,
            "rows_read": c.rows_read,
            "tickets_used": len(c.tickets),
            "rows_skipped": c.rows_skipped,
            "issues": [r for r in c.issues.to_dict("records") if r["rows"]],
            "days": len(self.days),
            "first_day": self.days.min().date().isoformat(),
            "last_day": self.days.max().date().isoformat(),
            "hours": f"{format_clock(self.open_min)}-{format_clock(self.close_min)}",
            "arrivals_per_hour": [round(float(x), 2) for x in self.arrivals.base_per_hour],
            "weekday_factors": [None if not np.isfinite(x) else round(float(x), 3) for x in self.arrivals.weekday],
            "day_of_month_factors": {str(k): round(v, 3) for k, v in self.arrivals.day_of_month.items()},
            "segments": self.shares.segments,
            "transactions": self.shares.transactions,
            "kiosk_adoption": self.shares.kiosk_adoption,
            "staffed": [int(x) for x in self.staffing.staffed],
            "vip_counters": self.vip_counters,
            "cross_sell": None if self.pitch is None else {
                "pitch_mean": self.pitch.pitch_mean, "pitch_cv": self.pitch.pitch_cv,
                "queue_threshold": self.pitch.threshold, "suspend_windows": list(self.pitch.windows),
                "never_pitched": list(self.pitch.never_pitched),
            },
            "kiosks": self.kiosk_count,
            "service": self.service_table().query("chosen").drop(columns=["chosen"]).to_dict("records"),
            "patience": self.patience_table().to_dict("records"),
            "notes": list(self.notes),
        }


def _round4(x: float) -> float:
    return float(f"{x:.4g}")


def demand_notes(arr: ArrivalFit) -> list[str]:
    """Plain warnings about demand the scenario's fixed profile cannot carry: a trend, extra spread."""
    notes = []
    tot = arr.counts.sum(axis=1)
    days = pd.DatetimeIndex(tot.index)
    if len(days) >= 28 and (days.max() - days.min()).days >= 56:
        # growth: day totals with weekday/day-of-month factors taken out, regressed on time
        adj = tot.to_numpy(float) / np.array([max(arr.day_factor(d), 1e-9) for d in days])
        ok = adj > 0
        x = (days - days.min()).days.to_numpy(float)[ok]
        y = np.log(adj[ok])
        slope, icpt = np.polyfit(x, y, 1)
        resid = y - (slope * x + icpt)
        se = math.sqrt(float(resid.var(ddof=2)) / float(((x - x.mean()) ** 2).sum())) if len(x) > 2 else math.inf
        change = math.expm1(slope * float(x.max()))
        if abs(change) > 0.10 and abs(slope / se) > 4:
            word = "grew" if change > 0 else "fell"
            notes.append(
                f"demand {word} {abs(change):.0%} from {days.min().date()} to {days.max().date()} (after weekday and "
                "day-of-month effects); the scenario is the average over the log, so consider --days for the recent period"
            )
    if arr.dispersion > 2.0:
        notes.append(
            f"day totals vary {arr.dispersion:.1f}x more than chance alone (weather, promotions, events): demand.day_cv "
            f"{arr.day_cv:.3f} gives the scenario's replications that spread; the report's day-by-day view shows which days"
        )
    return notes


def service_by_interval(
    t: pd.DataFrame, fits: dict[str, tuple[ServiceFit, bool]], open_min: int, interval_min: int, n: int
) -> tuple[pd.DataFrame, list[tuple[float, int, int, float]]]:
    """Counter service time by interval of the day, against what the transaction mix predicts.

    A scenario has one service law per transaction all day. When a hall suspends cross-selling at
    peak hours, or rushes at closing time, the log's service times vary with the clock; the
    calibrated model then overstates waits where service was quicker. This finds blocks of
    consecutive intervals whose mean service differs from the all-day fit by more than 15%
    (|z| > 4.5): (z, first interval, last interval, ratio) each, strongest first.
    """
    d = _durations(t, "counter")
    sel = (t["channel"] == "counter") & (t["outcome"] == "served") & t["times_ok"]
    start = t.loc[sel, "start_min"].to_numpy(float)
    dur_all = (t.loc[sel, "end_min"] - t.loc[sel, "start_min"]).to_numpy(float)
    ok = np.isfinite(dur_all) & (dur_all >= 0)
    idx = interval_index(start[ok], open_min, interval_min, n)
    tx = d["transaction"].astype(str).to_numpy()
    mean_of = {k: f.best.mean for k, (f, _) in fits.items()}
    var_of = {k: (f.best.mean * f.best.cv) ** 2 for k, (f, _) in fits.items()}
    exp_mean = np.array([mean_of.get(x, np.nan) for x in tx])
    exp_var = np.array([var_of.get(x, np.nan) for x in tx])
    frame = pd.DataFrame({"interval": idx, "obs": d["minutes"].to_numpy(float), "exp": exp_mean, "var": exp_var})
    frame = frame[(frame["interval"] >= 0) & np.isfinite(frame["exp"])]
    g = frame.groupby("interval").agg(n=("obs", "size"), obs=("obs", "sum"), exp=("exp", "sum"), var=("var", "sum")).reindex(range(n))
    table = pd.DataFrame(
        {
            "interval": range(n),
            "start": [format_clock(open_min + i * interval_min) for i in range(n)],
            "services": g["n"].fillna(0).astype(int).to_numpy(),
            "observed_mean": (g["obs"] / g["n"]).to_numpy(),
            "expected_mean": (g["exp"] / g["n"]).to_numpy(),
        }
    )
    table["ratio"] = table["observed_mean"] / table["expected_mean"]
    table["z"] = ((g["obs"] - g["exp"]) / np.sqrt(g["var"])).to_numpy()
    # Scan every block of consecutive intervals (a lunch window is several intervals, each too small
    # to judge alone); |z| > 4.5 keeps the false alarm rate low over the ~n²/2 blocks tried.
    so = np.r_[0.0, np.nan_to_num(g["obs"].to_numpy(float)).cumsum()]
    se = np.r_[0.0, np.nan_to_num(g["exp"].to_numpy(float)).cumsum()]
    sv = np.r_[0.0, np.nan_to_num(g["var"].to_numpy(float)).cumsum()]
    used = np.zeros(n, bool)
    blocks: list[tuple[float, int, int, float]] = []
    for _ in range(3):
        best: tuple[float, int, int] | None = None
        for i in range(n):
            for j in range(i, n):
                if used[i : j + 1].any():
                    break
                v = sv[j + 1] - sv[i]
                if v <= 0:
                    continue
                o, e = so[j + 1] - so[i], se[j + 1] - se[i]
                z = (o - e) / math.sqrt(v)
                if abs(z) > 4.5 and abs(o / e - 1) > 0.15 and (best is None or abs(z) > abs(best[0])):
                    best = (z, i, j)
        if best is None:
            break
        z, i, j = best
        used[i : j + 1] = True
        blocks.append((z, i, j, float((so[j + 1] - so[i]) / (se[j + 1] - se[i]))))
    return table, blocks


def _block_notes(blocks: list[tuple[float, int, int, float]], open_min: int, interval_min: int, explained: bool) -> list[str]:
    notes = []
    for z, i, j, ratio in blocks:
        word, why, effect = ("shorter", "cross-selling suspended then, or a rush", "run high") if z < 0 else ("longer", "more pitching or harder cases then", "run low")
        notes.append(
            f"counter service is {word} {format_clock(open_min + i * interval_min)}-{format_clock(open_min + (j + 1) * interval_min)} "
            f"({ratio:.0%} of the all-day fit, z {z:.1f}; "
            + ("the cross-selling model in the scenario accounts for this)" if explained else f"{why}?): the scenario uses all-day service times, so its waits there {effect}")
        )
    return notes


@dataclasses.dataclass(frozen=True)
class PitchModel:
    """Cross-selling read from the log: main-transaction times, the pitch's length, when it happens.

    ``counter_fits`` are the main transaction alone (services with pitching surely off: a deep queue
    past the threshold, or a segment never pitched to); ``pitch`` is lognormal (mean, cv) of the
    extra minutes; ``threshold`` is the queue length from which pitching stops (None: always
    pitched); ``never_pitched`` the segments served without a pitch.
    """

    counter_fits: dict[str, tuple[ServiceFit, bool]]
    pitch_mean: float
    pitch_cv: float
    threshold: int | None
    never_pitched: tuple[str, ...]
    evidence: str
    windows: tuple[str, ...] = ()
    """Suspension windows ("HH:MM-HH:MM") when pitching stops by the clock rather than the queue."""


def _queue_at(t: pd.DataFrame, day0: pd.Timestamp) -> Callable[[np.ndarray], np.ndarray]:
    """Customers waiting at the counters at given times (minutes since day0's midnight)."""
    sel = (t["channel"] == "counter") & t["times_ok"] & t["outcome"].isin(["served", "abandoned"])
    d = t.loc[sel]
    off = np.asarray((pd.DatetimeIndex(d["day"].to_numpy()) - day0).days, float) * 1440.0
    called = d["called_min"].to_numpy(float)
    a = np.sort(d["issued_min"].to_numpy(float) + off)
    b = np.sort(np.where(np.isfinite(called), called, d["start_min"].to_numpy(float)) + off)
    return lambda x: np.searchsorted(a, x, "right") - np.searchsorted(b, x, "right")


def _welch(x: np.ndarray, y: np.ndarray) -> float:
    return float((x.mean() - y.mean()) / math.sqrt(x.var(ddof=1) / len(x) + y.var(ddof=1) / len(y)))


def _never_pitched(ratio: np.ndarray, seg: np.ndarray, notes: list[str]) -> list[str]:
    """Segments served markedly faster than the others for the same transactions (never pitched to)."""
    never = []
    for name in np.unique(seg):
        x, y = ratio[seg == name], ratio[seg != name]
        if len(x) >= 100 and len(y) >= 100 and x.mean() < 0.85 * y.mean() and _welch(x, y) < -6:
            never.append(str(name))
            notes.append(f"segment {name!r} is served {1 - x.mean() / y.mean():.0%} faster than the others for the same transactions: never pitched to")
    return never


def _queue_step(r: np.ndarray, q: np.ndarray, notes: list[str]) -> int | None:
    """The queue length from which service is markedly shorter (the best step over all lengths), or None."""
    best: tuple[float, int] | None = None
    for n_q in range(1, int(min(q.max(initial=0), 60)) + 1):
        lo, hi = r[q < n_q], r[q >= n_q]
        if len(lo) < 100 or len(hi) < 100:
            continue
        z = _welch(hi, lo)
        if best is None or z < best[0]:
            best = (z, n_q)
    if best is None:
        return None
    z, n_q = best
    lo, hi = r[q < n_q], r[q >= n_q]
    if not (z < -6 and hi.mean() < 0.85 * lo.mean()):
        return None
    notes.append(
        f"counter service is {1 - hi.mean() / lo.mean():.0%} shorter when {n_q} or more wait (counted as each service "
        f"ends, t {z:.0f}): cross-selling suspended from a queue of about {n_q + 1}"
    )
    return n_q


def service_vs_queue(
    t: pd.DataFrame, fits: dict[str, tuple[ServiceFit, bool]], windows: list[tuple[int, int]] | None = None
) -> tuple[list[str], PitchModel | None]:
    """Is counter service shorter when the queue is long, or for one segment? Signs of cross-selling.

    A hall that stops pitching while N or more wait has counter times that drop above a queue
    length (the best step over all lengths, |t| > 6 and more than 15%); a segment that is never
    pitched to is served markedly faster for the same transactions. When either shows, the pitch is
    modelled (:class:`PitchModel`): main times from services where pitching was surely off (queue
    at least 6 past the step, or a never-pitched segment), the pitch's length from the difference to
    services at short queues. The queue is counted when each service ends (the log has no moment the
    main transaction ended), so the step sits about one below the policy's threshold.
    """
    s = t.loc[(t["channel"] == "counter") & (t["outcome"] == "served") & t["times_ok"]]
    if s.empty:
        return [], None
    day0 = pd.Timestamp(t["day"].min())
    s_off = np.asarray((pd.DatetimeIndex(s["day"].to_numpy()) - day0).days, float) * 1440.0
    dur_all = (s["end_min"] - s["start_min"]).to_numpy(float)
    ok = np.isfinite(dur_all) & (dur_all >= 0)
    queue = _queue_at(t, day0)(s["end_min"].to_numpy(float)[ok] + s_off[ok])
    dur = dur_all[ok]
    tx = s["transaction"].astype(str).to_numpy()[ok]
    seg = s["segment"].astype(str).to_numpy()[ok]
    end_clock = s["end_min"].to_numpy(float)[ok]
    mean_of = {k: f.best.mean for k, (f, _) in fits.items()}
    ratio = dur / np.array([mean_of.get(x, np.nan) for x in tx])
    good = np.isfinite(ratio)
    ratio, queue, seg, tx, dur, end_clock = ratio[good], queue[good], seg[good], tx[good], dur[good], end_clock[good]
    notes: list[str] = []
    never = _never_pitched(ratio, seg, notes)
    pitched = ~np.isin(seg, never)
    step = _queue_step(ratio[pitched], queue[pitched], notes)
    # Without a queue step, blocks of the day with shorter service are suspension windows (the
    # policy is judged when the main transaction ends, close to when an unpitched service ends).
    wins = [] if step is not None else list(windows or [])
    in_win = np.zeros(len(end_clock), bool)
    for lo_c, hi_c in wins:
        in_win |= (end_clock >= lo_c) & (end_clock < hi_c)
    if step is None and not never and not wins:
        return notes, None
    # main times: pitching surely off (deep queue, a suspension window, or a never-pitched segment)
    if step is not None:
        off_mask = ~pitched | (queue >= step + 6)
        on_mask = pitched & (queue <= max(step - 3, 0))
    else:
        off_mask = ~pitched | in_win
        on_mask = pitched & ~in_win
    main: dict[str, tuple[ServiceFit, bool]] = {}
    diffs, vars_, weights = [], [], []
    for name in fits:
        x_off, x_on = dur[off_mask & (tx == name)], dur[on_mask & (tx == name)]
        if len(x_off) >= MIN_SERVICE_N and len(x_on) >= MIN_SERVICE_N:
            main[name] = (fit_service(x_off), True)
            diffs.append(float(x_on.mean() - x_off.mean()))
            vars_.append(float(x_on.var(ddof=1) - x_off.var(ddof=1)))
            weights.append(len(x_on))
    if not diffs:
        notes.append("too few services with pitching surely off to separate the pitch from the main transaction; pitches stay folded into counter_time")
        return notes, None
    w = np.array(weights, float)
    p_mean = float(np.average(diffs, weights=w))
    p_var = float(np.average(vars_, weights=w))
    if p_mean <= 0.1:
        return notes, None
    p_cv = float(np.clip(math.sqrt(max(p_var, 0.0)) / p_mean, 0.1, 2.0))
    for name, (f, _) in fits.items():
        if name not in main:  # too few clean services of its own: the all-day fit less the pitch
            b = f.best
            mean = max(b.mean - p_mean * float(on_mask[tx == name].mean() if (tx == name).any() else 0.0), 0.2 * b.mean)
            main[name] = (dataclasses.replace(f, candidates=(DistFit(b.dist, mean, b.cv, b.loglik, b.aic, b.ks),)), False)
    win_txt = tuple(f"{format_clock(a_)}-{format_clock(b_)}" for a_, b_ in wins)
    where = (
        [f"queue of {step + 6}+ at service end"] if step is not None else []
    ) + ([f"services ending {', '.join(win_txt)}"] if win_txt else []) + ([f"segments {', '.join(never)}"] if never else [])
    how = (
        f"main times from {int(off_mask.sum()):,} services with pitching surely off ({'; '.join(where)}); pitch = the extra time "
        + ("at short queues" if step is not None else "outside those hours" if win_txt else "of the other segments")
        + f", {p_mean:.1f} min mean over {int(w.sum()):,} services"
    )
    if win_txt:
        notes.append(f"counter service is shorter {', '.join(win_txt)}: read as cross-selling suspended then (policy windows)")
    return notes, PitchModel(main, p_mean, p_cv, None if step is None else step + 1, tuple(never), how, win_txt)


def infer_priorities(t: pd.DataFrame, segments: list[str]) -> dict[str, int]:
    """Priority 0 for segments that are called ahead of customers who took their ticket earlier.

    A ticket log does not record queue rules, only their effect. Under first-come-first-served the
    calling order is the ticket order; a priority tier overtakes. Per served counter ticket,
    ``overtake = rank by issue time − rank by call time`` within its day; a segment whose mean
    overtake is above 0.2 places with a t-statistic over 4 gets priority 0. (Comparing mean waits
    instead would mistake a tier that comes at quiet hours for a priority tier.) At very low load
    nobody is overtaken and every segment stays at priority 1, which then changes nothing either.
    """
    out = dict.fromkeys(segments, 1)
    sel = (t["channel"] == "counter") & (t["outcome"] == "served") & t["times_ok"]
    d = t.loc[sel, ["day", "segment", "issued_min", "called_min", "start_min"]]
    if d.empty or len(segments) < 2:
        return out
    call = np.where(np.isfinite(d["called_min"].to_numpy(float)), d["called_min"].to_numpy(float), d["start_min"].to_numpy(float))
    key = d["day"].to_numpy()
    issue_rank = pd.Series(d["issued_min"].to_numpy(float)).groupby(key).rank(method="first").to_numpy()
    call_rank = pd.Series(call).groupby(key).rank(method="first").to_numpy()
    g = pd.Series(issue_rank - call_rank).groupby(d["segment"].astype(str).to_numpy())
    stats_of = {str(k): (float(m), float(sd), int(c)) for k, m, sd, c in zip(g.mean().index, g.mean().to_numpy(), g.std().to_numpy(), g.size().to_numpy(), strict=True)}
    for seg in segments:
        if seg not in stats_of or stats_of[seg][2] < 30:
            continue
        m, sd, k = stats_of[seg]
        if m > 0.2 and sd > 0 and m / (sd / math.sqrt(k)) > 4:
            out[seg] = 0
    if all(v == 0 for v in out.values()):  # everyone "overtaking" is nobody overtaking
        return dict.fromkeys(segments, 1)
    return out


def infer_vip_counters(t: pd.DataFrame, priorities: dict[str, int], max_vip: int) -> tuple[int, str, tuple[str, ...]]:
    """VIP counters: counters that serve the top-priority segment far more often than the others do.

    The engine (and a real hall) sends a top-priority customer to an idle VIP counter first, so a
    VIP counter's share of top-priority customers is well above the other counters'. A counter
    counts when its share is at least twice the rest's and the difference is over 4 binomial
    standard errors. Returns the count (capped at the fewest counters ever staffed), the evidence
    and the counters' ids.
    """
    top = [s for s, p in priorities.items() if p == min(priorities.values())]
    if not top or len(set(priorities.values())) < 2 or max_vip < 1:
        return 0, "no priority segment, so no VIP counter to find", ()
    sel = (t["channel"] == "counter") & (t["outcome"] == "served") & t["counter_id"].notna()
    d = pd.DataFrame({"counter": t.loc[sel, "counter_id"].to_numpy(), "top": t.loc[sel, "segment"].isin(top).to_numpy()})
    if d.empty:
        return 0, "no counter ids", ()
    g = d.groupby("counter")["top"].agg(["sum", "size"])
    found = []
    for ctr, r in g.iterrows():
        rest_n = int(g["size"].sum() - r["size"])
        if rest_n == 0 or r["size"] < 30:
            continue
        p_rest = float((g["sum"].sum() - r["sum"]) / rest_n)
        p_c = float(r["sum"] / r["size"])
        se = math.sqrt(max(p_rest * (1 - p_rest), 1e-9) / r["size"])
        if p_c >= 2 * p_rest and (p_c - p_rest) / se > 4:
            found.append((str(ctr), p_c, p_rest))
    if not found:
        return 0, f"no counter serves {'/'.join(top)} customers markedly more often than the others", ()
    found = found[:max_vip]
    ev = ", ".join(f"{c} served {pc:.0%} {'/'.join(top)}" for c, pc, _ in found)
    return len(found), f"{ev} vs {found[0][2]:.0%} at the other counters", tuple(c for c, _, _ in found)


ABSENCE_P = 1e-6
"""A counter never serving a transaction (or segment) is a routing rule, not chance, when a counter
serving the hall's mix would have served none of it with at most this probability."""


@dataclasses.dataclass(frozen=True)
class GroupCandidate:
    """Counters the log shows serving only some transactions or segments (``None``: all of them)."""

    name: str
    counters: tuple[str, ...]
    transactions: tuple[str, ...] | None
    segments: tuple[str, ...] | None
    tickets: int
    evidence: str
    then: str = "none"
    staffed: tuple[int, ...] = ()


def _served_only(
    counts: pd.Series, n_c: int, hall: pd.Series, order: list[str]
) -> tuple[tuple[str, ...] | None, list[tuple[str, float]]]:
    """What a counter serves: ``None`` (everything) unless it never served something it surely would
    have at the hall's mix (:data:`ABSENCE_P`); then the names it did serve, and what it missed with
    how many a general counter would have served."""
    missed = [(x, float(hall[x]) * n_c) for x in order if counts.get(x, 0) == 0 and (1 - float(hall[x])) ** n_c < ABSENCE_P]
    if not missed:
        return None, []
    return tuple(x for x in order if counts.get(x, 0) > 0), missed


def infer_counter_groups(t: pd.DataFrame, shares: Shares) -> list[GroupCandidate]:
    """Counter groups the log shows: counters that only ever served some transactions or segments.

    Each counter's served counter tickets are compared with the whole hall's mix: a transaction (or
    segment) it never served although a counter serving everyone would almost surely have served
    some at its volume (chance below :data:`ABSENCE_P`) makes the counter a specialised one, serving
    what it did serve. Counters with the same restriction form one group; the others are
    ``general``. An empty list means the log shows one pool of counters serving everyone.
    """
    sel = (t["channel"] == "counter") & (t["outcome"] == "served") & t["counter_id"].notna()
    d = pd.DataFrame({"counter": t.loc[sel, "counter_id"].astype(str).to_numpy(), "tx": t.loc[sel, "transaction"].astype(str).to_numpy(),
                      "seg": t.loc[sel, "segment"].astype(str).to_numpy()})
    if d["counter"].nunique() < 2:
        return []
    tx_order = [x for x in shares.transactions if x in set(d["tx"])]
    seg_order = [x for x in shares.segments if x in set(d["seg"])]
    hall_tx = d["tx"].value_counts(normalize=True)
    hall_seg = d["seg"].value_counts(normalize=True)
    keyed: dict[tuple[tuple[str, ...] | None, tuple[str, ...] | None], list[tuple[str, int, list[tuple[str, float]]]]] = {}
    for ctr, g in d.groupby("counter", sort=True):
        n_c = len(g)
        only_tx, miss_tx = _served_only(g["tx"].value_counts(), n_c, hall_tx, tx_order)
        only_seg, miss_seg = _served_only(g["seg"].value_counts(), n_c, hall_seg, seg_order)
        keyed.setdefault((only_tx, only_seg), []).append((str(ctr), n_c, miss_tx + miss_seg))
    if list(keyed) == [(None, None)]:
        return []
    out: list[GroupCandidate] = []
    names: set[str] = set()
    for (only_tx, only_seg), members in sorted(keyed.items(), key=lambda kv: (kv[0] != (None, None), str(kv[0]))):
        ctrs = tuple(c for c, _, _ in members)
        n = sum(k for _, k, _ in members)
        if only_tx is None and only_seg is None:
            name, evidence = "general", f"{', '.join(ctrs)}: {n:,} tickets of every kind"
        else:
            name = "+".join([*(only_seg or ()), *(only_tx or ())])[:60]
            missed: dict[str, float] = {}
            for _, _, miss in members:
                for x, e in miss:
                    missed[x] = missed.get(x, 0.0) + e
            served = ", ".join([*(only_tx or ()), *(only_seg or ())])
            evidence = (
                f"{', '.join(ctrs)}: {n:,} tickets, only {served}; never "
                + ", ".join(f"{x} (~{e:.0f} expected at the hall's mix)" for x, e in missed.items())
            )
        base, k = name, 2
        while name in names:
            name, k = f"{base}_{k}", k + 1
        names.add(name)
        out.append(GroupCandidate(name, ctrs, only_tx, only_seg, n, evidence))
    return out


def _group_staffing(
    t: pd.DataFrame, groups: list[GroupCandidate], vip_ids: tuple[str, ...], top: tuple[str, ...],
    open_min: int, interval_min: int, n: int,
) -> list[GroupCandidate]:
    """Each group's counters on duty per interval; VIP-first counters among the general ones become a
    ``vip`` group (VIPs first, then anyone), as the v1 shorthand would have said."""
    out = []
    general = [g for g in groups if g.transactions is None and g.segments is None]
    for g in groups:
        parts = [g]
        if g in general and vip_ids:
            vip = tuple(c for c in g.counters if c in vip_ids)
            rest = tuple(c for c in g.counters if c not in vip_ids)
            if vip and rest:
                parts = [
                    dataclasses.replace(g, name="vip", counters=vip, segments=top, then="any",
                                        evidence=f"{', '.join(vip)}: serve {'/'.join(top)} customers first, then anyone"),
                    dataclasses.replace(g, counters=rest),
                ]
        for p in parts:
            # the general counters (or, without them, every group) keep someone on duty at closing
            force = p.name == "general" or not general
            own = pd.Series(True, index=t.index)
            if p.transactions is not None:
                own &= t["transaction"].astype(str).isin(p.transactions)
            if p.segments is not None and p.then != "any":
                own &= t["segment"].astype(str).isin(p.segments)
            st = fit_staffing(t, open_min, interval_min, n, counters=p.counters, force_last=force, waiting=own)
            out.append(dataclasses.replace(p, staffed=tuple(int(x) for x in st.staffed)))
    return out


def calibrate(clean: CleanLog, interval_min: int = 30, name: str | None = None) -> Calibration:
    """Fit a scenario to a cleaned log (see the module docstring for each step)."""
    t = clean.tickets
    open_min, close_min = int(t.attrs["open_min"]), int(t.attrs["close_min"])
    if (close_min - open_min) % interval_min:
        raise ValueError(
            f"the log was cleaned for hours {format_clock(open_min)}-{format_clock(close_min)}, which {interval_min}-minute "
            f"intervals do not divide; pass the same interval_min to clean() and calibrate()"
        )
    n = (close_min - open_min) // interval_min
    notes: list[str] = []
    arrivals = fit_arrivals(t, open_min, interval_min, n)
    shares = fit_shares(t)
    tx_names = list(shares.transactions)
    seg_names = list(shares.segments)
    counter_fits = fit_services(t, "counter", tx_names)
    missing = [x for x in tx_names if x not in counter_fits]
    if missing:
        raise LogError(
            clean.source,
            f"no served counter ticket with both service_start and service_end for {', '.join(missing)}, so counter service "
            "times cannot be fitted; the export needs those columns (map them with --map, see docs/ticket-log.md)",
        )
    notes.extend(demand_notes(arrivals))
    kiosk_fits = fit_services(t, "kiosk", list(shares.kiosk_eligible))
    by_interval, blocks = service_by_interval(t, counter_fits, open_min, interval_min, n)
    shorter = sorted((open_min + i * interval_min, open_min + (j + 1) * interval_min) for z, i, j, _ in blocks if z < 0)
    pitch_notes, pitch = service_vs_queue(t, counter_fits, shorter)
    notes.extend(_block_notes(blocks, open_min, interval_min, explained=pitch is not None))
    notes.extend(pitch_notes)
    patience, pooled = fit_patiences(t, seg_names)
    if pooled is None:
        gave_up = int(t["outcome"].isin(["abandoned", "no_show"]).sum())
        notes.append(
            "no abandoned ticket with the time it was closed (called_at), so patience is left unlimited"
            + (f" although {gave_up:,} tickets gave up: add close times to the export to fit it" if gave_up else "")
        )
    priorities = infer_priorities(t, seg_names)
    staffing = fit_staffing(t, open_min, interval_min, n)
    notes.extend(staffing_notes(staffing))
    vip, vip_evidence, vip_ids = infer_vip_counters(t, priorities, int(staffing.staffed.min()))
    candidates = infer_counter_groups(t, shares)
    top = tuple(x for x, p in priorities.items() if p == min(priorities.values())) if len(set(priorities.values())) > 1 else ()
    groups = tuple(_group_staffing(t, candidates, vip_ids if top else (), top, open_min, interval_min, n)) if candidates else ()
    kiosk_count = _kiosk_count(t, shares)
    written = _scenario_data(
        clean, name, open_min, close_min, interval_min, arrivals, shares, counter_fits, kiosk_fits, patience, priorities, staffing, kiosk_count, vip, vip_evidence, notes, pitch, groups
    )
    # the data is validated by the scenario model, then written as it stands (only the keys the fit
    # decided, each with its comment) by the one scenario writer; the test reads it back to this scenario
    scenario = scenario_from_dict(written.data, "calibrated scenario")
    yaml_text = emit(written.data, written.above, written.trailing, written.header)
    return Calibration(
        scenario, yaml_text, clean, open_min, close_min, interval_min, arrivals, shares, counter_fits, kiosk_fits,
        patience, pooled, priorities, staffing, kiosk_count, vip, by_interval, tuple(notes), pitch, groups,
    )


def _kiosk_count(t: pd.DataFrame, shares: Shares) -> int:
    """Kiosks: distinct kiosk ids when the log names them, else the most sessions ever at once."""
    k = t[(t["channel"] == "kiosk") & t["times_ok"]]
    if k.empty:
        return 0
    ids = k["counter_id"].dropna()
    if len(ids) > 0.5 * len(k):
        return int(ids.nunique())
    k = k[np.isfinite(k["start_min"]) & np.isfinite(k["end_min"])]
    day_off = (k["day"] - k["day"].min()).dt.days.to_numpy() * 1440.0
    ev_t = np.concatenate([k["start_min"].to_numpy() + day_off, k["end_min"].to_numpy() + day_off])
    ev_d = np.concatenate([np.ones(len(k)), -np.ones(len(k))])
    order = np.lexsort((ev_d, ev_t))  # at equal times an end comes before a start
    return int(max(np.cumsum(ev_d[order]).max(), 1)) if len(k) else 0


@dataclasses.dataclass
class _Written:
    """The calibrated scenario as data plus the comments that say where each number came from."""

    data: dict[str, Any] = dataclasses.field(default_factory=dict)
    above: dict[str, str] = dataclasses.field(default_factory=dict)
    trailing: dict[str, str] = dataclasses.field(default_factory=dict)
    header: list[str] = dataclasses.field(default_factory=list)

    def note(self, path: str, text: str) -> None:
        """A comment line above ``path`` (several notes on one path stack up)."""
        self.above[path] = f"{self.above[path]}\n{text}" if path in self.above else text


def _scenario_data(
    clean: CleanLog,
    name: str | None,
    open_min: int,
    close_min: int,
    interval_min: int,
    arr: ArrivalFit,
    shares: Shares,
    counter_fits: dict[str, tuple[ServiceFit, bool]],
    kiosk_fits: dict[str, tuple[ServiceFit, bool]],
    patience: dict[str, tuple[PatienceFit, bool]],
    priorities: dict[str, int],
    staffing: StaffingFit,
    kiosk_count: int,
    vip: int,
    vip_evidence: str,
    notes: list[str],
    pitch: PitchModel | None = None,
    groups: tuple[GroupCandidate, ...] = (),
) -> _Written:
    """The fitted scenario as plain data for the scenario model, with a comment on every number.

    Nothing here formats YAML: :func:`calibrate` validates the data with the scenario model and
    writes it with the one YAML writer (:func:`simulation.yamlwriter.emit`). No clock or date of the
    run goes in, so the same log gives the same bytes.
    """
    t = clean.tickets
    w = _Written()
    days = pd.DatetimeIndex(arr.counts.index)
    span = f"{days.min().date()} to {days.max().date()}"
    w.header.append(f"Calibrated by `storeq calibrate` from {clean.source}:")
    w.header.append(f"{len(t):,} tickets used of {clean.rows_read:,} rows read, {len(days)} days ({span}).")
    w.header.extend(f"  skipped/partial: {line}" for line in clean.summary_lines())
    w.header.extend(f"Note: {note}" for note in notes)
    w.header.append("Every number below says where it came from. Change what you know better (costs, greeter).")

    d = w.data
    d["name"] = name or "Calibrated from " + clean.source
    d["store"] = {"open": format_clock(open_min), "close": format_clock(close_min), "interval_min": interval_min, "target_wait_min": 10}
    w.trailing["store.open"] = "median first ticket of the day, to the quarter hour"
    w.trailing["store.close"] = f"whole {interval_min}-min intervals covering the median last ticket"
    w.trailing["store.target_wait_min"] = "not in a log: the service target you report against"

    d["demand"] = _demand_data(w, arr, interval_min)
    d["segments"] = _segments_data(w, shares, patience, priorities, pitch)
    d["transactions"] = _transactions_data(w, shares, counter_fits, kiosk_fits, pitch)
    d["counters"] = _counters_data(w, staffing, vip, vip_evidence, groups)
    d["kiosks"] = _kiosks_data(w, shares, kiosk_count)
    d["cross_sell"] = _cross_sell_data(w, pitch)
    d["costs"] = {"staff_hour": 0}
    w.trailing["costs.staff_hour"] = "not in a log: set your loaded hourly cost"
    d["simulation"] = {"replications": 100, "seed": 1, "warmup_min": 0}
    return w


def _demand_data(w: _Written, arr: ArrivalFit, interval_min: int) -> dict[str, Any]:
    """demand: the typical day's profile, day factors and day_cv, each with its evidence."""
    days = pd.DatetimeIndex(arr.counts.index)
    demand: dict[str, Any] = {"arrivals_per_hour": [round(float(x), 1) for x in arr.base_per_hour], "scale": 1.0, "online_diversion": 0.0}
    demand["day_cv"] = round(arr.day_cv, 3)
    w.note("demand.day_cv", f"Each day's demand x a gamma factor (mean 1) with this cv: {arr.day_cv_evidence()}.")
    w.note(
        "demand.arrivals_per_hour",
        f"Tickets issued per hour per {interval_min}-min interval on a typical day (weekday factors average 1,\n"
        "no day-of-month factor): Poisson maximum likelihood of count = profile x weekday x day-of-month.\n"
        "Kiosk tickets count (they walked in); customers who balked never took a ticket and are not here.",
    )
    w.trailing["demand.online_diversion"] = "the log only sees walk-ins"
    # A weekday absent from a log spanning two weeks or more is a closing day (factor 0); in a shorter
    # log it was simply not seen (factor 1, said in the comment).
    closed = (days.max() - days.min()).days + 1 >= 14
    demand["weekday_factors"] = [round(float(x), 3) if np.isfinite(x) else (0.0 if closed else 1.0) for x in arr.weekday]
    seen = ", ".join(f"{WEEKDAY_NAMES[i]} {int((days.day_of_week == i).sum())}" for i in range(7))
    missing = [WEEKDAY_NAMES[i] for i in range(7) if not np.isfinite(arr.weekday[i])]
    why = f" No ticket on any {', '.join(missing)} in {len(days)} days: closed (0)." if closed else f" Not in the log (1.0): {', '.join(missing)}."
    w.note("demand.weekday_factors", f"Monday first; days in the log per weekday: {seen}." + (why if missing else ""))
    dom_path = "demand.day_of_month_factors" if arr.day_of_month else "demand.weekday_factors"
    if arr.day_of_month:
        demand["day_of_month_factors"] = {int(k): round(float(v), 3) for k, v in arr.day_of_month.items()}
        w.note(dom_path, f"Days of the month that stand out beyond noise (|z| > {DOM_Z:g} and > {DOM_MIN_EFFECT:.0%}) after weekday effects.")
    else:
        w.trailing["demand.weekday_factors"] = "no day of the month stood out beyond noise, so no day_of_month_factors"
    t_ = arr.dom_table
    near = t_[(t_["z"].abs() > 2) & ~t_["day_of_month"].isin(list(arr.day_of_month))]
    if len(near):
        w.note(
            dom_path,
            "Close but not applied (2 < |z| <= 3): "
            + ", ".join(f"day {int(r['day_of_month'])} x{r['ratio']:.2f} (z {r['z']:.1f})" for r in near.to_dict("records"))
            + "; add them to day_of_month_factors if you know the reason.",
        )
    return demand


def _segments_data(
    w: _Written, shares: Shares, patience: dict[str, tuple[PatienceFit, bool]], priorities: dict[str, int], pitch: PitchModel | None
) -> list[dict[str, Any]]:
    """segments: shares, inferred priorities, censored patience fits."""
    segs = []
    w.note(
        "segments",
        "share = share of tickets; priority 0 where that tier is called ahead of earlier tickets (the log shows\n"
        "the effect of priority, not the rule); patience fitted with censoring:\n"
        "abandoned tickets are events, served tickets' waits are censored (patience > wait); AIC picks the law.",
    )
    for i, (seg, share) in enumerate(shares.segments.items()):
        row: dict[str, Any] = {"name": seg, "share": share, "priority": priorities.get(seg, 1)}
        p = patience.get(seg)
        if p is None:
            w.trailing[f"segments[{i}]"] = "no abandonment seen: waits forever"
        else:
            fit, own = p
            row["patience"] = fit.best.spec()
            w.trailing[f"segments[{i}]"] = (
                f"{fit.events} abandoned / {fit.right_censored} served (censored)"
                + ("" if own else " - all segments pooled (too few abandonments of its own)")
                + f"; naive abandoners-only mean {fit.naive_mean:.1f} min"
            )
        if pitch is not None and seg in pitch.never_pitched:
            row["pitch"] = False
        segs.append(row)
    return segs


def _transactions_data(
    w: _Written, shares: Shares, counter_fits: dict[str, tuple[ServiceFit, bool]],
    kiosk_fits: dict[str, tuple[ServiceFit, bool]], pitch: PitchModel | None,
) -> list[dict[str, Any]]:
    """transactions: shares and fitted counter (and kiosk) times."""
    txs = []
    w.note(
        "transactions",
        "share = share of tickets. counter_time = service_end - service_start of served counter tickets, kiosk_time\n"
        "the same at kiosks; lognormal, gamma and exponential fitted by maximum likelihood, lowest AIC kept\n"
        "(KS = Kolmogorov-Smirnov distance of the winner; under ~0.05 is a close fit).",
    )
    if pitch is not None:
        w.note("transactions", f"Cross-selling shows in the log, so counter_time is the main transaction alone: {pitch.evidence}.")
    for i, (tx, share) in enumerate(shares.transactions.items()):
        cf, own = (pitch.counter_fits if pitch is not None else counter_fits)[tx]
        b = cf.best
        row = {"name": tx, "share": share, "counter_time": b.spec()}
        if pitch is not None and not own:
            note = f"counter: the all-day fit (n={cf.n}) less the average pitch: too few pitch-free services of its own"
        else:
            note = f"counter: n={cf.n}, {b.dist} by AIC, KS {b.ks:.3f}" + ("" if own else " (pooled: too few of its own)")
        if tx in kiosk_fits:
            kf, kown = kiosk_fits[tx]
            row["kiosk_time"] = kf.best.spec()
            note += f"; kiosk: n={kf.n}, {kf.best.dist}, KS {kf.best.ks:.3f}" + ("" if kown else " (pooled)")
        w.trailing[f"transactions[{i}]"] = note
        txs.append(row)
    return txs


def _counters_data(
    w: _Written, staffing: StaffingFit, vip: int, vip_evidence: str, groups: tuple[GroupCandidate, ...]
) -> dict[str, Any]:
    """counters: the groups the log shows, or the v1 staffed/vip form."""
    counters: dict[str, Any]
    if groups:
        rows = []
        for i, g in enumerate(groups):
            row = {"name": g.name, "staffed": list(g.staffed)}
            if g.transactions is not None:
                row["transactions"] = list(g.transactions)
            if g.segments is not None:
                row["segments"] = list(g.segments)
            if g.then != "none":
                row["then"] = g.then
            rows.append(row)
            w.trailing[f"counters.groups[{i}]"] = g.evidence
        # each group's typical day is its own median, so their sum may top the busiest day's count
        together = int(np.sum([g.staffed for g in groups], axis=0).max())
        counters = {"groups": rows, "physical": max(staffing.physical, together)}
        w.note(
            "counters.groups",
            "Counter groups read from the log: a counter that never served some transactions or segments, though a\n"
            f"counter serving the hall's mix would surely have served some (chance < {ABSENCE_P:g}), serves only what it\n"
            f"did serve. staffed: each group's counters on duty per interval ({staffing.method}).",
        )
    else:
        counters = {"staffed": [int(x) for x in staffing.staffed], "vip": vip, "physical": staffing.physical}
        w.note("counters.staffed", f"Counters on duty per interval: {staffing.method}.")
        w.trailing["counters.vip"] = vip_evidence
    w.trailing["counters.physical"] = "most distinct counters serving on any one day"
    return counters


def _kiosks_data(w: _Written, shares: Shares, kiosk_count: int) -> dict[str, Any]:
    """kiosks: how many and how often used (net of failures)."""
    kiosks: dict[str, Any]
    if kiosk_count and shares.kiosk_adoption is not None:
        kiosks = {"count": kiosk_count, "adoption": round(shares.kiosk_adoption, 4), "greeter": False, "failure": 0.0}
        w.trailing["kiosks.count"] = "distinct kiosk ids, or the most kiosk sessions at once"
        w.trailing["kiosks.adoption"] = (
            f"{shares.kiosk_tickets:,} kiosk tickets of {shares.eligible_tickets:,} "
            f"for kiosk-able transactions ({', '.join(shares.kiosk_eligible)})"
        )
        w.trailing["kiosks.greeter"] = "not in a log"
        w.trailing["kiosks.failure"] = "failed kiosk visits reappear as counter tickets, so adoption above is net of them"
    else:
        kiosks = {"count": 0}
        w.trailing["kiosks.count"] = "no kiosk tickets in the log"

    return kiosks


def _cross_sell_data(w: _Written, pitch: PitchModel | None) -> dict[str, Any]:
    """cross_sell: the pitch read from the log, or never."""
    cross_sell: dict[str, Any]
    if pitch is None:
        cross_sell = {"policy": {"mode": "never"}}
        w.trailing["cross_sell.policy"] = "any pitching happened inside the logged counter times, which already include it"
    else:
        cs: dict[str, Any] = {
            "pitch_time": {"dist": "lognormal", "mean": _round4(pitch.pitch_mean), "cv": _round4(pitch.pitch_cv)},
            "acceptance": 0.0,
            "margin": 0,
        }
        w.note("cross_sell.pitch_time", f"Read from the log: {pitch.evidence}.")
        w.trailing["cross_sell.acceptance"] = "a log shows the pitch's time, not its take-up: set yours"
        w.trailing["cross_sell.margin"] = "and the margin per accepted offer"
        if pitch.threshold is not None:
            cs["policy"] = {"mode": "queue_threshold", "threshold": pitch.threshold}
            w.trailing["cross_sell.policy"] = "service drops once about this many wait"
        elif pitch.windows:
            cs["policy"] = {"mode": "windows", "suspend": list(pitch.windows)}
            w.trailing["cross_sell.policy"] = "service is shorter in these hours"
        else:
            cs["policy"] = {"mode": "always"}
            w.trailing["cross_sell.policy"] = "pitched at every queue length (only some segments are not)"
        cross_sell = cs
    return cross_sell
