"""The fit report: the calibrated scenario simulated against the log it came from.

The comparison is like with like. Every observed day is simulated with its own date (so its weekday
and day-of-month factors apply), ``replications`` times; simulated customers become ticket rows
(:func:`calibration.synth.customer_tickets`) and go through the *same* metric code as the log's
tickets. Per interval, four metrics:

- ``arrivals_per_hour`` — tickets issued;
- ``mean_wait_min`` — ticket to call, served counter tickets;
- ``over_target_share`` — share of served counter tickets that waited longer than the target;
- ``abandonment_rate`` — abandoned (and no-show) counter tickets / counter tickets.

Each replication is one simulated version of *all* the observed days, so the observed value is one
draw from the distribution of replication values if the model is right. The verdict uses that: an
interval fits when the observation lies inside the simulated 95% prediction interval
(mean ± t·sd·√(1 + 1/R)); the 95% confidence interval of the simulated mean is shown too.

Everything here is pure (frames, verdict lines, matplotlib Figure objects, HTML text); files are
written by :mod:`calibration.io`.
"""

from __future__ import annotations

import dataclasses
import html
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from simulation import Scenario, format_clock, with_updates
from simulation.executors import Executor, using

from .calibrate import Calibration, interval_index
from .synth import customer_tickets

if TYPE_CHECKING:
    from simulation.runner import ExecutorArg

METRICS = {
    "arrivals_per_hour": "arrivals per hour",
    "mean_wait_min": "mean wait (min)",
    "over_target_share": "share waiting over target",
    "abandonment_rate": "abandonment rate",
}
MAX_REPORT_DAYS = 31
"""More days than this add run time, not insight: a spread-out sample of the log's days is simulated."""


def interval_sums(t: pd.DataFrame, group: np.ndarray, open_min: int, interval_min: int, n: int, target: float) -> pd.DataFrame:
    """Additive per-(group, interval) tallies from ticket rows; metrics are ratios of their sums."""
    idx = interval_index(t["issued_min"].to_numpy(), open_min, interval_min, n)
    counter = (t["channel"] == "counter").to_numpy()
    outcome = t["outcome"].astype(str).to_numpy()
    ok = np.asarray(t["times_ok"], dtype=bool)
    called = t["called_min"].to_numpy(float)
    start = t["start_min"].to_numpy(float)
    wait = np.where(np.isfinite(called), called, start) - t["issued_min"].to_numpy(float)
    served_c = counter & (outcome == "served") & ok & np.isfinite(wait)
    frame = pd.DataFrame(
        {
            "group": group,
            "interval": idx,
            "arrivals": 1,
            "served_counter": served_c.astype(int),
            "wait_sum": np.where(served_c, wait, 0.0),
            "over_target": (served_c & (wait > target)).astype(int),
            "counter_tickets": counter.astype(int),
            "abandoned": (counter & np.isin(outcome, ["abandoned", "no_show"])).astype(int),
        }
    )
    frame = frame[frame["interval"] >= 0]
    return frame.groupby(["group", "interval"], as_index=False).sum()


def _metrics(sums: pd.DataFrame, n_days: int, interval_min: int) -> pd.DataFrame:
    """Metrics per interval from sums over days (ratios of sums: pooled over the days)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return pd.DataFrame(
            {
                "interval": sums["interval"].to_numpy(),
                "arrivals_per_hour": sums["arrivals"].to_numpy() / n_days * 60.0 / interval_min,
                "mean_wait_min": sums["wait_sum"].to_numpy() / sums["served_counter"].to_numpy(),
                "over_target_share": sums["over_target"].to_numpy() / sums["served_counter"].to_numpy(),
                "abandonment_rate": sums["abandoned"].to_numpy() / sums["counter_tickets"].to_numpy(),
            }
        )


def _full(sums: pd.DataFrame, n: int, groups: list[Any]) -> pd.DataFrame:
    """Every (group, interval) present, zeros where nothing happened."""
    idx = pd.MultiIndex.from_product([groups, range(n)], names=["group", "interval"])
    return sums.set_index(["group", "interval"]).reindex(idx, fill_value=0).reset_index()


@dataclasses.dataclass(frozen=True)
class FitReport:
    """Observed vs simulated, per interval and for the whole day, with a plain verdict."""

    intervals: pd.DataFrame
    """metric, interval, start, observed, sim_mean, sim_ci_low, sim_ci_high, sim_pi_low, sim_pi_high, fits."""
    day: pd.DataFrame
    """The same columns (no interval) for whole-day values."""
    verdict: tuple[str, ...]
    days_simulated: tuple[str, ...]
    replications: int
    seed: int
    target_wait_min: float
    by_day: pd.DataFrame
    """Per simulated day: day, metric (arrivals, mean_wait_min, ...), observed vs simulated bands, fits."""
    scenario_name: str = ""
    by_segment: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)
    """Per segment, whole period: segment, metric (mean_wait_min, abandonment_rate), observed vs simulated bands, fits."""
    by_group: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)
    """Per counter group the log shows (empty without groups): group, metric (mean_wait_min, served_share),
    observed vs simulated bands, fits. Observed: tickets by the group of the counter that served them."""


def _band(values: np.ndarray) -> tuple[float, float, float, float, float]:
    """mean, 95% CI of the mean and 95% prediction interval of one more value, over replications."""
    v = values[np.isfinite(values)]
    r = len(v)
    if r == 0:
        return (math.nan,) * 5
    m = float(v.mean())
    if r < 2:
        return m, m, m, m, m
    sd = float(v.std(ddof=1))
    tq = float(stats.t.ppf(0.975, r - 1))
    ci = tq * sd / math.sqrt(r)
    pi = tq * sd * math.sqrt(1 + 1 / r)
    return m, m - ci, m + ci, m - pi, m + pi


def _clip(metric: str, band: tuple[float, ...]) -> tuple[float, ...]:
    """Counts and waits are never negative, shares never above 1: the normal band must not say so."""
    hi = 1.0 if metric in ("over_target_share", "abandonment_rate") else math.inf
    return tuple(float(np.clip(x, 0.0, hi)) if np.isfinite(x) else x for x in band)


def _report_days(days: pd.DatetimeIndex, max_days: int) -> pd.DatetimeIndex:
    if len(days) <= max_days:
        return days
    pick = np.unique(np.round(np.linspace(0, len(days) - 1, max_days)).astype(int))
    return days[pick]


def fit_report(
    cal: Calibration,
    replications: int = 20,
    seed: int = 1,
    workers: int = 1,
    max_days: int = MAX_REPORT_DAYS,
    scenario: Scenario | None = None,
    progress: Callable[[int, int], None] | None = None,
    executor: ExecutorArg = "processes",
    scheduler: str | None = None,
) -> FitReport:
    """Simulate the calibrated scenario on the log's days and compare, interval by interval.

    ``scenario`` defaults to the calibrated one; pass an edited one to see whether a change fits
    better (e.g. a VIP counter the log could not show). ``executor``/``scheduler`` say where the
    replications run (see :func:`simulation.run`): a name opens one executor for every log day (a
    Dask cluster is started once), an open Executor is reused and left open. The report does not
    depend on it.
    """
    from simulation import run

    if not isinstance(executor, Executor):
        with using(executor, scheduler, workers) as ex:
            return fit_report(cal, replications, seed, workers, max_days, scenario, progress, executor=ex)

    if replications < 2:
        raise ValueError(f"replications must be at least 2 to give a spread to compare against, got {replications}")
    sc = scenario or cal.scenario
    o, iv, n = cal.open_min, cal.interval_min, cal.scenario.n_intervals
    if (sc.store.open_min, sc.store.interval_min, sc.n_intervals) != (o, iv, n):
        raise ValueError("the scenario's opening hours and intervals must match the calibrated ones to compare")
    target = float(sc.store.target_wait_min)
    days = _report_days(cal.days, max_days)
    t = cal.clean.tickets
    sel = t["day"].isin(days).to_numpy()
    obs_t = t[sel]
    obs_sums = interval_sums(obs_t, np.zeros(len(obs_t), int), o, iv, n, target)
    obs_sums = _full(obs_sums, n, [0])
    observed = _metrics(obs_sums, len(days), iv)
    seeds = np.random.SeedSequence(seed).generate_state(len(days))
    sim_parts = []
    seg_parts: list[pd.DataFrame] = []
    grp_parts: list[pd.DataFrame] = []
    # per-group waits are checked when the log shows groups and the compared scenario has them by name
    group_of = cal.counter_group_of()
    check_groups = bool(group_of) and set(group_of.values()) <= {g.name for g in sc.counter_groups()}
    by_day_rows = []
    obs_by_day = interval_sums(obs_t, obs_t["day"].to_numpy(), o, iv, n, target).drop(columns="interval").groupby("group").sum()
    for k, day in enumerate(days):
        s_d = with_updates(sc, {"store.date": day.date().isoformat()}, source="fit report")
        res = run(
            s_d, replications=replications, seed=int(seeds[k]), workers=workers, keep_customers=True, executor=executor
        )
        assert res.customers is not None
        st = customer_tickets(res.customers, o)
        part = interval_sums(st, st["replication"].to_numpy(), o, iv, n, target)
        sim_parts.append(part)
        seg_key = st["replication"].astype(str).to_numpy() + "|" + st["segment"].astype(str).to_numpy()
        seg_parts.append(interval_sums(st, seg_key, o, iv, n, target).drop(columns="interval").groupby("group").sum())
        if check_groups:
            served = st["group"].notna().to_numpy()
            g_key = st["replication"].astype(str).to_numpy()[served] + "|" + st["group"].astype(str).to_numpy()[served]
            grp_parts.append(interval_sums(st[served], g_key, o, iv, n, target).drop(columns="interval").groupby("group").sum())
        per_rep_day = _full(part.groupby("group", as_index=False).sum().assign(interval=0), 1, list(range(replications)))
        sim_m = _metrics(per_rep_day, 1, 60)  # one "interval" of 60 min per day: arrivals_per_hour = arrivals that day
        ob_row = obs_by_day.loc[[day]].reset_index(drop=True).assign(group=0, interval=0) if day in obs_by_day.index else None
        ob_m = _metrics(ob_row, 1, 60) if ob_row is not None else None
        for metric in METRICS:
            m, cl, ch, pl, ph = _clip(metric, _band(sim_m[metric].to_numpy(float)))
            ob = float(ob_m[metric].iloc[0]) if ob_m is not None else math.nan
            fits = not (np.isfinite(ob) and np.isfinite(m)) or bool(pl - 1e-9 <= ob <= ph + 1e-9)
            by_day_rows.append({"day": day.date().isoformat(), "metric": "arrivals" if metric == "arrivals_per_hour" else metric, "observed": ob, "sim_mean": m, "sim_ci_low": cl, "sim_ci_high": ch, "sim_pi_low": pl, "sim_pi_high": ph, "fits": fits})
        if progress is not None:
            progress(k + 1, len(days))
    sim_sums = pd.concat(sim_parts).groupby(["group", "interval"], as_index=False).sum()
    sim_sums = _full(sim_sums, n, list(range(replications)))
    per_rep = _metrics(sim_sums, len(days), iv).assign(rep=sim_sums["group"].to_numpy())

    labels = [format_clock(o + i * iv) for i in range(n)]
    rows = []
    for metric in METRICS:
        wide = per_rep.pivot(index="rep", columns="interval", values=metric)
        for i in range(n):
            m, cl, ch, pl, ph = _clip(metric, _band(wide[i].to_numpy(float)))
            ob = float(observed.loc[observed["interval"] == i, metric].iloc[0])
            # nothing to compare (e.g. nobody served at a counter in that interval) is not a miss
            fits = not (np.isfinite(ob) and np.isfinite(m)) or bool(pl - 1e-9 <= ob <= ph + 1e-9)
            rows.append({"metric": metric, "interval": i, "start": labels[i], "observed": ob, "sim_mean": m, "sim_ci_low": cl, "sim_ci_high": ch, "sim_pi_low": pl, "sim_pi_high": ph, "fits": fits})
    table = pd.DataFrame(rows)

    obs_day = _metrics(obs_sums.drop(columns="interval").groupby("group", as_index=False).sum().assign(interval=-1), len(days), iv * n)
    sim_day_sums = sim_sums.drop(columns="interval").groupby("group", as_index=False).sum().assign(interval=-1)
    sim_day = _metrics(sim_day_sums, len(days), iv * n)
    drows = []
    for metric in METRICS:
        m, cl, ch, pl, ph = _clip(metric, _band(sim_day[metric].to_numpy(float)))
        ob = float(obs_day[metric].iloc[0])
        if metric == "arrivals_per_hour":  # whole day: arrivals per day reads better than per hour
            f = n * iv / 60.0
            ob, m, cl, ch, pl, ph = (x * f for x in (ob, m, cl, ch, pl, ph))
        drows.append({"metric": "arrivals_per_day" if metric == "arrivals_per_hour" else metric, "observed": ob, "sim_mean": m, "sim_ci_low": cl, "sim_ci_high": ch, "sim_pi_low": pl, "sim_pi_high": ph, "fits": bool(pl - 1e-9 <= ob <= ph + 1e-9)})
    day_table = pd.DataFrame(drows)
    by_day = pd.DataFrame(by_day_rows)
    by_segment = _segment_table(obs_t, pd.concat(seg_parts).groupby(level=0).sum(), replications, o, iv, n, target)
    by_group = pd.DataFrame()
    if check_groups:
        by_group = _group_table(obs_t, group_of, pd.concat(grp_parts).groupby(level=0).sum(), replications, o, iv, n, target)
    label = "calibrated scenario" if scenario is None else f"scenario {sc.name!r}"
    verdict = _verdict(table, day_table, target, label) + _day_verdict(by_day) + _segment_verdict(by_segment) + _group_verdict(by_group)
    if scenario is None and cal.pitch is None:  # the notes describe the calibrated scenario's all-day service times
        verdict += [f"Likely cause of misses there: {n}." for n in cal.notes if n.startswith("counter service is")]
    return FitReport(table, day_table, tuple(verdict), tuple(d.date().isoformat() for d in days), replications, seed, target, by_day, sc.name, by_segment, by_group)


def _fmt(metric: str, x: float) -> str:
    if not np.isfinite(x):
        return "n/a"
    if metric in ("over_target_share", "abandonment_rate"):
        return f"{x:.1%}"
    return f"{x:.1f}"


def _runs(labels: list[str]) -> str:
    return ", ".join(labels[:6]) + (f" and {len(labels) - 6} more" if len(labels) > 6 else "")


def _verdict(table: pd.DataFrame, day: pd.DataFrame, target: float, label: str = "calibrated scenario") -> list[str]:
    """Plain sentences: overall, then per metric where it fits and where it does not (and which way)."""
    lines = []
    misses = table[~table["fits"]]
    total = int((table["observed"].notna() & table["sim_mean"].notna()).sum())
    share_fit = 1 - len(misses) / max(total, 1)
    overall = "fits the log well" if share_fit >= 0.9 else ("fits the log in most places" if share_fit >= 0.75 else "does not fit the log well")
    lines.append(
        f"Overall the {label} {overall}: {total - len(misses)} of {total} interval values lie inside the "
        "simulated 95% prediction interval (about 1 in 20 would miss by chance alone)."
    )
    for r in day.to_dict("records"):
        metric = str(r["metric"])
        if not r["fits"]:
            word = "does NOT match"
        elif r["sim_ci_low"] <= r["observed"] <= r["sim_ci_high"]:
            word = "matches"
        else:
            side = "higher" if r["sim_mean"] > r["observed"] else "lower"
            word = f"within the day-to-day spread, but the model's average is {side} than the log (borderline)"
        lines.append(
            f"Whole day, {metric.replace('_', ' ')}: observed {_fmt(metric, r['observed'])}, simulated {_fmt(metric, r['sim_mean'])} "
            f"(95% CI {_fmt(metric, r['sim_ci_low'])}-{_fmt(metric, r['sim_ci_high'])}) — {word}."
        )
    for metric, label in METRICS.items():
        m = table[table["metric"] == metric]
        miss = m[~m["fits"]]
        if miss.empty:
            lines.append(f"{label.capitalize()}: fits in every interval.")
            continue
        high = miss[miss["observed"] > miss["sim_mean"]]["start"].tolist()
        low = miss[miss["observed"] < miss["sim_mean"]]["start"].tolist()
        parts = []
        if high:
            parts.append(f"the log is higher than the model at {_runs(high)}")
        if low:
            parts.append(f"lower at {_runs(low)}")
        lines.append(f"{label.capitalize()}: fits in {len(m) - len(miss)} of {len(m)} intervals; " + "; ".join(parts) + ".")
    wait = table[(table["metric"] == "mean_wait_min") & ~table["fits"]]
    if len(wait) and (wait["observed"] > wait["sim_mean"]).mean() > 0.7:
        lines.append(
            "Waits in the log are longer than the model's where it misses: fewer counters may have been serving than the "
            "activity suggests (breaks, back-office work), or service included work the log does not time."
        )
    elif len(wait) and (wait["observed"] < wait["sim_mean"]).mean() > 0.7:
        lines.append(
            "Waits in the log are shorter than the model's where it misses: counters may have been added at peaks "
            "without serving continuously, or a priority/VIP rule the log cannot show was in use."
        )
    return lines


SEGMENT_METRICS = ("mean_wait_min", "abandonment_rate")


def _segment_table(
    obs_t: pd.DataFrame, sim: pd.DataFrame, replications: int, o: int, iv: int, n: int, target: float
) -> pd.DataFrame:
    """Mean wait and abandonment per segment over all compared days: do priorities and patience fit?"""
    obs = interval_sums(obs_t, obs_t["segment"].astype(str).to_numpy(), o, iv, n, target).drop(columns="interval").groupby("group").sum()
    keys = sim.index.to_series().str.split("|", n=1, expand=True)
    sim = sim.assign(rep=keys[0].to_numpy(), segment=keys[1].to_numpy())
    rows = []
    for seg in obs.index:
        ob = _metrics(obs.loc[[seg]].reset_index(drop=True).assign(group=0, interval=0), 1, 60)
        part = sim[sim["segment"] == seg].drop(columns=["rep", "segment"])
        sm = _metrics(part.reset_index(drop=True).assign(group=0, interval=0), 1, 60) if len(part) else None
        for metric in SEGMENT_METRICS:
            vals = sm[metric].to_numpy(float) if sm is not None else np.array([])
            if len(vals) < replications:  # a replication where the segment never came: nothing to average
                vals = np.concatenate([vals, np.full(replications - len(vals), np.nan)])
            m, cl, ch, pl, ph = _clip(metric, _band(vals))
            o_v = float(ob[metric].iloc[0])
            fits = not (np.isfinite(o_v) and np.isfinite(m)) or bool(pl - 1e-9 <= o_v <= ph + 1e-9)
            rows.append({"segment": str(seg), "metric": metric, "observed": o_v, "sim_mean": m, "sim_ci_low": cl, "sim_ci_high": ch, "sim_pi_low": pl, "sim_pi_high": ph, "fits": fits})
    return pd.DataFrame(rows)


def _group_table(
    obs_t: pd.DataFrame, group_of: dict[str, str], sim: pd.DataFrame, replications: int, o: int, iv: int, n: int, target: float
) -> pd.DataFrame:
    """Per counter group: mean wait of the tickets its counters served, and its share of the served
    counter tickets. Do the groups' staffing and routing carry the waits the log shows?"""
    served = (obs_t["channel"] == "counter") & (obs_t["outcome"] == "served") & obs_t["counter_id"].isin(list(group_of))
    ob_t = obs_t[served]
    obs = interval_sums(ob_t, ob_t["counter_id"].map(group_of).astype(str).to_numpy(), o, iv, n, target)
    obs = obs.drop(columns="interval").groupby("group").sum()
    keys = sim.index.to_series().str.split("|", n=1, expand=True)
    sim = sim.assign(rep=keys[0].to_numpy(), grp=keys[1].to_numpy())
    sim_total = sim.groupby("rep")["served_counter"].sum()
    obs_total = float(obs["served_counter"].sum())
    rows = []
    for grp in obs.index:
        o_wait = float(obs.loc[grp, "wait_sum"] / obs.loc[grp, "served_counter"]) if obs.loc[grp, "served_counter"] else math.nan
        o_share = float(obs.loc[grp, "served_counter"]) / obs_total if obs_total else math.nan
        part = sim[sim["grp"] == grp].set_index("rep").reindex(sim_total.index)
        with np.errstate(divide="ignore", invalid="ignore"):
            s_wait = (part["wait_sum"] / part["served_counter"]).to_numpy(float)
            s_share = (part["served_counter"].fillna(0) / sim_total).to_numpy(float)
        for metric, ob, vals in (("mean_wait_min", o_wait, s_wait), ("served_share", o_share, s_share)):
            if len(vals) < replications:
                vals = np.concatenate([vals, np.full(replications - len(vals), np.nan)])
            m, cl, ch, pl, ph = _clip(metric, _band(vals))
            fits = not (np.isfinite(ob) and np.isfinite(m)) or bool(pl - 1e-9 <= ob <= ph + 1e-9)
            rows.append({"group": str(grp), "metric": metric, "observed": ob, "sim_mean": m, "sim_ci_low": cl, "sim_ci_high": ch, "sim_pi_low": pl, "sim_pi_high": ph, "fits": fits})
    return pd.DataFrame(rows)


def _group_verdict(by_group: pd.DataFrame) -> list[str]:
    if by_group.empty:
        return []
    miss = by_group[~by_group["fits"]]
    if miss.empty:
        return [f"By counter group: mean wait and share of customers served fit for every group ({', '.join(dict.fromkeys(by_group['group']))})."]
    out = []
    for r in miss.to_dict("records"):
        side = "higher" if r["observed"] > r["sim_mean"] else "lower"
        what = "mean wait" if r["metric"] == "mean_wait_min" else "share of counter customers served"
        ob, sm = (f"{r['observed']:.1f} min", f"{r['sim_mean']:.1f} min") if r["metric"] == "mean_wait_min" else (f"{r['observed']:.1%}", f"{r['sim_mean']:.1%}")
        out.append(
            f"By counter group, {r['group']}: {what} {ob} in the log is {side} than the model's {sm} — check the group's "
            "staffing and which customers it serves (then: any lets it help others)."
        )
    return out


def _segment_verdict(by_segment: pd.DataFrame) -> list[str]:
    if by_segment.empty:
        return []
    miss = by_segment[~by_segment["fits"]]
    if miss.empty:
        return [f"By segment: mean wait and abandonment fit for every segment ({', '.join(sorted(set(by_segment['segment'])))})."]
    out = []
    for r in miss.to_dict("records"):
        side = "higher" if r["observed"] > r["sim_mean"] else "lower"
        out.append(
            f"By segment, {r['segment']}: {str(r['metric']).replace('_', ' ')} {_fmt(str(r['metric']), r['observed'])} in the log is {side} "
            f"than the model's {_fmt(str(r['metric']), r['sim_mean'])} — check its priority and patience."
        )
    return out


def _day_verdict(by_day: pd.DataFrame) -> list[str]:
    """Which days the model misses (the month-end, a promotion, a short-staffed day), per metric."""
    out = []
    for metric, label in (("arrivals", "arrivals"), ("mean_wait_min", "mean wait"), ("abandonment_rate", "abandonment")):
        m = by_day[by_day["metric"] == metric]
        miss = m[~m["fits"]]
        if miss.empty:
            out.append(f"Day by day, {label}: every one of the {len(m)} days lies inside the simulated 95% prediction interval.")
            continue
        high = miss[miss["observed"] > miss["sim_mean"]]["day"].tolist()
        low = miss[miss["observed"] < miss["sim_mean"]]["day"].tolist()
        parts = ([f"higher in the log on {_runs(high)}"] if high else []) + ([f"lower on {_runs(low)}"] if low else [])
        out.append(f"Day by day, {label}: {len(m) - len(miss)} of {len(m)} days fit; " + "; ".join(parts) + ".")
    return out


# ---------------------------------------------------------------------------------------------
# charts and HTML (pure: Figure objects and text; io.write_report saves them)
# ---------------------------------------------------------------------------------------------


def report_figures(cal: Calibration, report: FitReport | None) -> dict[str, Any]:
    """Matplotlib figures (Agg, no global pyplot state): fit per interval, arrival profiles, patience, service times."""
    from matplotlib.figure import Figure

    figs: dict[str, Any] = {}
    if report is not None:
        fig = Figure(figsize=(12, 8))
        axes = fig.subplots(2, 2)
        for ax, (metric, label) in zip(axes.ravel(), METRICS.items(), strict=True):
            m = report.intervals[report.intervals["metric"] == metric]
            x = m["interval"].to_numpy()
            ax.fill_between(x, m["sim_pi_low"], m["sim_pi_high"], color="tab:blue", alpha=0.12, label="simulated 95% prediction")
            ax.fill_between(x, m["sim_ci_low"], m["sim_ci_high"], color="tab:blue", alpha=0.35, label="simulated mean 95% CI")
            ax.plot(x, m["sim_mean"], color="tab:blue", lw=1.5, label="simulated mean")
            miss = ~m["fits"].to_numpy()
            ax.plot(x, m["observed"], "o-", color="black", ms=4, lw=1, label="log")
            ax.plot(x[miss], m["observed"].to_numpy()[miss], "o", color="tab:red", ms=7, label="outside prediction")
            ax.set_title(label)
            ax.set_xticks(x[:: max(1, len(x) // 9)], m["start"].to_numpy()[:: max(1, len(x) // 9)], rotation=45)
            ax.grid(alpha=0.3)
        axes[0, 0].legend(fontsize=8)
        fig.suptitle(f"Log vs calibrated scenario ({len(report.days_simulated)} days x {report.replications} replications)")
        fig.tight_layout()
        figs["fit_intervals"] = fig
        fig = Figure(figsize=(12, 4))
        axes = fig.subplots(1, 2)
        for ax, (metric, label) in zip(axes, (("arrivals", "tickets per day"), ("mean_wait_min", "mean wait per day (min)")), strict=True):
            m = report.by_day[report.by_day["metric"] == metric]
            x = np.arange(len(m))
            ax.fill_between(x, m["sim_pi_low"], m["sim_pi_high"], color="tab:blue", alpha=0.15, label="simulated 95% prediction")
            ax.plot(x, m["sim_mean"], color="tab:blue", label="simulated mean")
            ax.plot(x, m["observed"], "o-", color="black", ms=3, lw=1, label="log")
            miss = ~m["fits"].to_numpy()
            ax.plot(x[miss], m["observed"].to_numpy()[miss], "o", color="tab:red", ms=6, label="outside prediction")
            step = max(1, len(x) // 10)
            ax.set_xticks(x[::step], [d[5:] for d in m["day"].to_numpy()[::step]], rotation=45)
            ax.set_title(label)
            ax.grid(alpha=0.3)
        axes[0].legend(fontsize=8)
        fig.tight_layout()
        figs["fit_days"] = fig
    prof = cal.profiles()
    fig = Figure(figsize=(10, 4))
    ax = fig.subplots()
    x = prof["interval"].to_numpy()
    ax.plot(x, prof["typical_per_hour"], lw=2, label="typical day (fitted, factor 1)")
    ax.plot(x, prof["observed_mean_per_hour"], "--", label="observed mean day")
    ax.plot(x, prof["busiest_day_per_hour"], ":", lw=2, label=f"busiest day ({prof['busiest_day'].iloc[0]})")
    ax.set_xticks(x[:: max(1, len(x) // 9)], prof["start"].to_numpy()[:: max(1, len(x) // 9)])
    ax.set_ylabel("tickets per hour")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    figs["arrivals_profile"] = fig
    if cal.patience_pooled is not None:
        p = cal.patience_pooled
        fig = Figure(figsize=(7, 4))
        ax = fig.subplots()
        ax.step(np.r_[0, p.km["time"]], np.r_[1, p.km["survival"]], where="post", label="Kaplan-Meier (censored)")
        tt = np.linspace(0, max(float(p.km["time"].max()) if len(p.km) else 1.0, 1.0) * 1.2, 200)
        chosen = p.best.dist
        ax.plot(tt, np.exp(-tt / p.exponential.mean), label=f"exponential, censored MLE: mean {p.exponential.mean:.1f} min" + (" (chosen)" if chosen == "exponential" else ""))
        if p.lognormal is not None:
            s2 = math.log1p(p.lognormal.cv**2)
            mu = math.log(p.lognormal.mean) - s2 / 2
            with np.errstate(divide="ignore"):
                surv = stats.norm.sf((np.log(tt) - mu) / math.sqrt(s2))
            ax.plot(tt, surv, label=f"lognormal, censored MLE: mean {p.lognormal.mean:.1f}, cv {p.lognormal.cv:.2f}" + (" (chosen)" if chosen == "lognormal" else ""))
        if np.isfinite(p.naive_mean):
            ax.plot(tt, np.exp(-tt / p.naive_mean), "--", color="tab:red", label=f"naive, abandoners only: mean {p.naive_mean:.1f} min (biased)")
        ax.set_xlabel("minutes waited")
        ax.set_ylabel("share still willing to wait")
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        figs["patience"] = fig
    return figs


def _table_html(df: pd.DataFrame, floatfmt: str = "{:.3g}") -> str:
    def cell(v: Any) -> str:
        if isinstance(v, float | np.floating):
            return "" if not np.isfinite(v) else floatfmt.format(v)
        return html.escape(str(v))

    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in df.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def report_html(cal: Calibration, report: FitReport | None, images: list[str]) -> str:
    """A self-contained HTML page (images referenced by file name next to it)."""
    c = cal.clean
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>storeq calibration report</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;}table{border-collapse:collapse;font-size:13px;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}th{background:#f3f3f3}li{margin:.3em 0}.bad{color:#b00}</style></head><body>",
        f"<h1>Calibration report: {html.escape(c.source)}</h1>",
        f"<p>{len(c.tickets):,} tickets used of {c.rows_read:,} rows read; {len(cal.days)} days "
        f"({cal.days.min().date()} to {cal.days.max().date()}); hours {format_clock(cal.open_min)}-{format_clock(cal.close_min)}.</p>",
    ]
    if report is not None:
        parts.append("<h2>Verdict</h2><ul>" + "".join(f"<li>{html.escape(v)}</li>" for v in report.verdict) + "</ul>")
        parts.append(f"<p>Simulated: {html.escape(report.scenario_name)}, {len(report.days_simulated)} days x {report.replications} replications, seed {report.seed}. "
                     f"Target wait {report.target_wait_min:g} min.</p>")
        parts.append("<h3>Whole day</h3>" + _table_html(report.day))
    issues = c.issues[c.issues["rows"] > 0]
    parts.append("<h2>Data cleaning</h2>" + (_table_html(issues) if len(issues) else "<p>No problem rows.</p>"))
    for img in images:
        parts.append(f"<h2>{html.escape(img.replace('_', ' ').removesuffix('.png'))}</h2><img src='{html.escape(img)}' style='max-width:100%'>")
    parts.append("<h2>Arrival profiles</h2>" + _table_html(cal.profiles()))
    parts.append("<h2>Day-of-month check</h2>" + _table_html(cal.arrivals.dom_table))
    if cal.notes:
        parts.insert(5, "<h2>Notes</h2><ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in cal.notes) + "</ul>")
    parts.append("<h2>Service-time fits</h2>" + _table_html(cal.service_table()))
    parts.append("<h2>Counter service by time of day (vs the all-day fits)</h2>" + _table_html(cal.service_by_interval))
    parts.append("<h2>Patience (censored vs naive)</h2>" + _table_html(cal.patience_table()))
    if report is not None:
        parts.append("<h2>Per interval</h2>" + _table_html(report.intervals))
        parts.append("<h2>Per day</h2>" + _table_html(report.by_day))
        parts.append("<h2>Per segment</h2>" + _table_html(report.by_segment))
    if report is not None and not report.by_group.empty:
        parts.append("<h2>Per counter group</h2>" + _table_html(report.by_group))
    parts.append("<h2>Calibrated scenario</h2><pre>" + html.escape(cal.yaml_text) + "</pre></body></html>")
    return "".join(parts)
