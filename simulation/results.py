"""KPIs, confidence intervals and tidy frames: the one place where results are computed.

Per replication, :func:`summarise_day` turns a :class:`~simulation.engine.DayLog` into three small
arrays (day KPIs, interval × KPI, segment × KPI) with numpy only, inside the worker process, so a
1,000-replication run holds a few megabytes, not millions of customer records. :func:`build_result`
stacks them and computes means and 95% Student t confidence intervals (:func:`mean_ci`) once; a
proportion's interval is clipped to [0, 1] (:func:`kpi_ci`).

KPIs are built by name: each level's computation returns a mapping KPI name → values, and which
KPIs exist at each level (and in which order they are reported) comes from the one catalogue,
:mod:`storeq.kpis`. Adding a KPI is one ``Kpi`` entry there plus one computation here: a key in the
mapping of the level's computation (:func:`_customer_kpis` for customer KPIs, :func:`summarise_day`
for time averages and schedule figures), or a :data:`DERIVED` rule when it is a function of other
KPIs of the same level. A catalogue entry without a computation fails loudly (:func:`_pack`).

KPI definitions (DESIGN.md "KPIs"), with the precise conventions:

* **wait** = counter service start − joining the counter queue, for customers served at a counter,
  including those who came on from a failed kiosk visit. ``mean_wait_min`` and ``p90_wait_min``
  (linear-interpolated 90th percentile) are per replication, then averaged over replications.
  ``prob_wait``: share of counter-served customers whose wait was > 0.
* **service_level** = counter customers served within ``target_wait_min`` (wait <= target) /
  (counter customers served + counter customers who abandoned). Balked customers and kiosk-only
  customers are not in it.
* **abandonment_rate** = abandoned / customers who joined the counter queue (balkers never joined).
* **utilization** = busy counter-minutes / staffed counter-minutes over the opening hours (after
  warm-up). A counter that finishes its last customer after a schedule drop is on duty while it does,
  so that overtime counts as staffed too: utilization never exceeds 1.
* **mean_queue_len**: time-average number waiting at the counters over the opening hours (after
  warm-up). Time after closing is not in it (it is in ``last_departure_min``).
* **kiosk_share** = arrivals who used a kiosk (including failed visits that went on to a counter) /
  arrivals; **kiosk_mean_wait_min** = mean of kiosk start − kiosk queue join over kiosk users.
* **cross_sell_revenue** = accepted pitches × margin; ``pitches``, ``pitch_accepted`` are counts.
* **staff_hours** = staffed counter-hours of the schedule over the opening hours (the whole day,
  warm-up included, because it is paid); ``staff_cost`` = staff_hours × ``costs.staff_hour``.
  Overtime of the last interval's counters after closing is not included: it shows in
  ``last_departure_min``.
* **greeter_cost** = hours the greeter is at the door (``kiosks.greeter``: all opening hours when
  true, its windows when a list) × ``costs.greeter_hour``; **kiosk_cost** = ``kiosks.count`` ×
  ``costs.kiosk_day`` (per interval: spread by the interval's share of the opening hours);
  **total_cost** = staff_cost + greeter_cost + kiosk_cost; **net_margin** = cross_sell_revenue −
  total_cost. Every money KPI is in ``costs.currency`` (:attr:`RunResult.currency`, ``currency``
  in the JSON).
* **last_departure_min**: when the last walk-in left, minutes since opening (NaN on a day without
  walk-ins).
* counts: ``arrivals`` (walk-ins), ``served`` (once each: kiosk, counter or both), ``abandoned``,
  ``balked``, ``diverted`` (moved online, never walked in).

Customer KPIs per interval use the interval the customer *arrived* in (diverted demand: the interval
it would have arrived in); per segment, the customer's segment. With ``warmup_min`` > 0, customers who
arrive before it are left out of every customer statistic and time averages start at it; intervals
entirely inside the warm-up have NaN customer KPIs and time averages.

A KPI that has no data in a replication (e.g. the mean wait of a segment nobody from arrived in) is
NaN there; means and CIs use the replications where it is defined.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import stdtrit

from storeq import kpis as catalogue
from storeq.kpis import Level

from .engine import ABANDONED, BALKED, DIVERTED, OUTCOME_NAMES, SERVED, DayLog
from .scenario import Scenario

Values = dict[str, np.ndarray]
"""KPI name → values (one per interval, segment or group; a 0-d array at day level)."""

DERIVED: dict[str, Callable[[Mapping[str, np.ndarray]], np.ndarray]] = {
    "total_cost": lambda v: v["staff_cost"] + v["greeter_cost"] + v["kiosk_cost"],
    "net_margin": lambda v: v["cross_sell_revenue"] - v["total_cost"],
}
"""KPIs computed from other KPIs of the same level, in dependency order (see :func:`_derive`)."""


def kpi_names(level: Level) -> tuple[str, ...]:
    """The KPIs reported at ``level``, in report order: read from the catalogue (:mod:`storeq.kpis`)."""
    return catalogue.names(level)


KPI_NAMES: tuple[str, ...] = kpi_names("day")
"""Day-level KPIs, in report order (the catalogue's, as imported; :func:`kpi_names` reads it live)."""

INTERVAL_KPI_NAMES: tuple[str, ...] = kpi_names("interval")
"""Per-interval KPIs: customer KPIs by arrival interval, time averages over the interval's clock time."""

SEGMENT_KPI_NAMES: tuple[str, ...] = kpi_names("segment")
"""Per-segment KPIs (customer KPIs only)."""

CUSTOMER_COLUMNS = (
    "replication",
    "customer",
    "segment",
    "transaction",
    "arrival_min",
    "used_kiosk",
    "kiosk_join_min",
    "kiosk_start_min",
    "kiosk_end_min",
    "kiosk_failed",
    "queue_join_min",
    "service_start_min",
    "service_end_min",
    "counter_id",
    "group",
    "pitched",
    "accepted",
    "outcome",
    "wait_min",
    "leave_min",
)


# ---------------------------------------------------------------------------------------------
# per replication (runs in the worker)
# ---------------------------------------------------------------------------------------------


@dataclass
class DaySummary:
    """One replication's KPIs: ``day`` (one value per ``names["day"]``), ``intervals`` (n_intervals ×
    ``names["interval"]``), ``segments`` (n_segments × ``names["segment"]``); ``customers`` only when
    asked for. ``names`` records which KPIs the columns hold, in order (the catalogue's at the time)."""

    day: np.ndarray
    intervals: np.ndarray
    segments: np.ndarray
    customers: dict[str, np.ndarray] | None = None
    names: dict[str, tuple[str, ...]] = field(default_factory=dict)
    groups: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))
    """n_groups × ``names["group"]``: each counter group's KPIs over the day."""
    group_intervals: np.ndarray = field(default_factory=lambda: np.empty((0, 0, 0)))
    """n_groups × n_intervals × ``names["group"]``: the same per interval."""


def _div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.full(np.shape(num), np.nan)
    np.divide(num, den, out=out, where=np.asarray(den) > 0)
    return out


def _group_p90(group: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Per-group 90th percentile (numpy's default linear interpolation), vectorised."""
    out = np.full(n_groups, np.nan)
    if len(values) == 0:
        return out
    order = np.lexsort((values, group))
    g, v = group[order], values[order]
    counts = np.bincount(g, minlength=n_groups)
    first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    has = counts > 0
    pos = 0.9 * (counts[has] - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, counts[has] - 1)
    base = first[has]
    out[has] = v[base + lo] + (pos - lo) * (v[base + hi] - v[base + lo])
    return out


def _customer_kpis(
    group: np.ndarray, n_groups: int, log: DayLog, keep: np.ndarray, target: float, margin: float
) -> Values:
    """Customer KPIs for each group (customers grouped by ``group``), from those selected by ``keep``."""
    g = group[keep]
    outcome = log.outcome[keep]
    joined = ~np.isnan(log.queue_join[keep])
    served = outcome == SERVED
    counter_served = joined & served
    abandoned = outcome == ABANDONED
    wait = (log.service_start - log.queue_join)[keep]

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(g[mask], minlength=n_groups).astype(float)

    def total(mask: np.ndarray, w: np.ndarray) -> np.ndarray:
        return np.bincount(g[mask], weights=w[mask], minlength=n_groups)

    arrivals = count(outcome != DIVERTED)
    n_cs = count(counter_served)
    n_ab = count(abandoned)
    used_kiosk = log.used_kiosk[keep]
    kiosk_wait = (log.kiosk_start - log.kiosk_join)[keep]
    n_acc = count(log.accepted[keep])
    return {
        "mean_wait_min": _div(total(counter_served, wait), n_cs),
        "p90_wait_min": _group_p90(g[counter_served], wait[counter_served], n_groups),
        "prob_wait": _div(count(counter_served & (wait > 0)), n_cs),
        "service_level": _div(count(counter_served & (wait <= target)), n_cs + n_ab),
        "abandonment_rate": _div(n_ab, count(joined)),
        "kiosk_share": _div(count(used_kiosk), arrivals),
        "kiosk_mean_wait_min": _div(total(used_kiosk, kiosk_wait), count(used_kiosk)),
        "cross_sell_revenue": n_acc * margin,
        "arrivals": arrivals,
        "served": count(served),
        "abandoned": n_ab,
        "balked": count(outcome == BALKED),
        "diverted": count(outcome == DIVERTED),
        "pitches": count(log.pitched[keep]),
        "pitch_accepted": n_acc,
    }


def _derive(values: Values, wanted: tuple[str, ...]) -> Values:
    """Add the :data:`DERIVED` KPIs that ``wanted`` asks for (in DERIVED's order, so one may use another)."""
    for name, fn in DERIVED.items():
        if name in wanted and name not in values:
            values[name] = np.asarray(fn(values), float)
    return values


def _pack(values: Values, level: Level, rows: int | None) -> tuple[np.ndarray, tuple[str, ...]]:
    """The catalogue's KPIs for ``level`` as columns (a 1-d array when ``rows`` is None), and their names.

    Every KPI the catalogue lists at this level must have been computed: a catalogue entry without
    a computation is a programming error, named here rather than shown as a silent gap.
    """
    names = kpi_names(level)
    _derive(values, names)
    missing = [k for k in names if k not in values]
    if missing:
        raise KeyError(
            f"storeq/kpis.py lists {', '.join(missing)} at level {level!r} but simulation/results.py computes no "
            "value for it (add it to the level's computation or to DERIVED)"
        )
    if rows is None:
        return np.array([values[k] for k in names], float), names
    out = np.empty((rows, len(names)))
    for j, k in enumerate(names):
        out[:, j] = values[k]
    return out, names


def _overlap_rows(starts: np.ndarray, ends: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Overlap of each span [starts_k, ends_k) with each window [lo_i, hi_i): spans × windows."""
    ov = np.minimum(ends[:, None], hi[None, :]) - np.maximum(starts[:, None], lo[None, :])
    return np.clip(ov, 0.0, None, out=ov)


def _overlap(starts: np.ndarray, ends: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Total overlap of the spans [starts, ends) with each window [lo_i, hi_i)."""
    if len(starts) == 0:
        return np.zeros(len(lo))
    ov = np.minimum(ends[:, None], hi[None, :]) - np.maximum(starts[:, None], lo[None, :])
    return np.clip(ov, 0.0, None).sum(axis=0)


def _excess_busy(
    starts: np.ndarray, ends: np.ndarray, lo: np.ndarray, hi: np.ndarray, staffed: np.ndarray
) -> np.ndarray:
    """Counter-minutes in each window during which more counters were busy than staffed.

    This only happens after a schedule drop, while closing counters finish their last customer.
    """
    times = np.concatenate([starts, ends])
    delta = np.concatenate([np.ones(len(starts)), -np.ones(len(ends))])
    order = np.lexsort((delta, times))  # at a tie, a finish before a start
    times, level = times[order], np.cumsum(delta[order])
    seg_lo, seg_hi, lev = times[:-1], times[1:], level[:-1]
    ov = np.clip(np.minimum(seg_hi[:, None], hi[None, :]) - np.maximum(seg_lo[:, None], lo[None, :]), 0.0, None)
    return (np.clip(lev[:, None] - staffed[None, :], 0.0, None) * ov).sum(axis=0)


def cost_values(scenario: Scenario) -> Values:
    """Staff, greeter and kiosk costs per interval (they add up to the day's).

    Staff: staffed counter-hours of the schedule × ``staff_hour``; greeter: hours at the door ×
    ``greeter_hour``; kiosks: ``count`` × ``kiosk_day``, spread over the intervals by their length
    (a day's lease, so it is the same whatever the demand). Warm-up time is paid, so it is included.
    """
    sc = scenario
    length = float(sc.store.interval_min)
    hours = sc.staffed_schedule().astype(float) * length / 60.0
    kiosk_day = sc.kiosks.count * sc.costs.kiosk_day
    return {
        "staff_hours": hours,
        "staff_cost": hours * sc.costs.staff_hour,
        # share of each interval with a greeter at the door (true: all day; windows: their overlap)
        "greeter_cost": np.asarray(sc.greeter_schedule().values, float) * length / 60.0 * sc.costs.greeter_hour,
        "kiosk_cost": np.full(sc.n_intervals, kiosk_day * length / sc.store.duration_min),
    }


@dataclass(frozen=True)
class _DayFrame:
    """What summarising needs from the scenario alone: the same for every replication of it."""

    length: float
    m: int
    warm: float
    close: float
    target: float
    margin: float
    lo: np.ndarray
    """Start of each interval's counted time (after warm-up), minutes since opening."""
    hi: np.ndarray
    eff: np.ndarray
    """Counted minutes of each interval."""
    staffed: np.ndarray
    costs: Values
    group_staffed: np.ndarray
    """n_groups × n_intervals."""


_LAST_FRAME: list[tuple[Scenario, _DayFrame]] = []
"""The last scenario's frame: a run summarises many replications of one scenario, and building the
frame (counter groups, greeter windows, clocks) costs as much as summarising a small day."""


def _day_frame(sc: Scenario) -> _DayFrame:
    last = _LAST_FRAME[0] if _LAST_FRAME else None  # one read: another thread (the app) may swap it meanwhile
    if last is not None and last[0] is sc:
        return last[1]
    length = float(sc.store.interval_min)
    warm = float(sc.simulation.warmup_min)
    lo = np.maximum(sc.interval_starts.astype(float), warm)
    hi = sc.interval_starts.astype(float) + length
    groups = sc.counter_groups()
    frame = _DayFrame(
        length=length, m=sc.n_intervals, warm=warm, close=float(sc.store.duration_min),
        target=float(sc.store.target_wait_min), margin=float(sc.cross_sell.margin),
        lo=lo, hi=hi, eff=np.clip(hi - lo, 0.0, None), staffed=sc.staffed_schedule().astype(float),
        costs=cost_values(sc),
        group_staffed=np.array([g.staffed for g in groups], float).reshape(len(groups), sc.n_intervals),
    )
    _LAST_FRAME[:] = [(sc, frame)]  # a strong reference, so ``is`` cannot match a new object at the old address
    return frame


def _group_kpis(
    f: _DayFrame, log: DayLog, keep: np.ndarray, interval: np.ndarray, service: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
) -> tuple[Values, Values]:
    """Counter-group KPIs (groups of ``Scenario.counter_groups()``, rows), per day and per group × interval.

    Time figures (staffed, busy counter-minutes, utilization) are over the opening hours after
    warm-up, as for the store; customer figures (served, mean wait) count the customers each group's
    counters served, by the interval they arrived in.
    """
    lo, hi, eff, m = f.lo, f.hi, f.eff, f.m
    staffed = f.group_staffed
    n_g = len(staffed)
    s_start, s_end, s_group, ov = service  # every counter service, its group, its overlap with each interval
    busy = np.zeros((n_g, m))
    area = staffed * eff
    for g in range(n_g):
        mine = s_group == g
        if mine.any():
            busy[g] = ov[mine].sum(axis=0)
            if np.any(np.diff(staffed[g]) < 0):  # closing counters finishing their customer are on duty
                area[g] = area[g] + _excess_busy(s_start[mine], s_end[mine], lo, hi, staffed[g])
    served = keep & (log.outcome == SERVED) & ~np.isnan(log.service_start) & (log.group >= 0)
    key = log.group[served] * m + interval[served]
    n_served = np.bincount(key, minlength=n_g * m).astype(float).reshape(n_g, m)
    wait = (log.service_start - log.queue_join)[served]
    wait_sum = np.bincount(key, weights=wait, minlength=n_g * m).reshape(n_g, m)
    per_interval: Values = {
        "utilization": _div(busy, area).ravel(),
        "staffed": staffed.ravel(),
        "busy_counter_min": busy.ravel(),
        "served": n_served.ravel(),
        "mean_wait_min": _div(wait_sum, n_served).ravel(),
    }
    day: Values = {
        "utilization": _div(busy.sum(axis=1), area.sum(axis=1)),
        "staffed": _div((staffed * eff).sum(axis=1), np.full(n_g, eff.sum())),  # time-average over the day
        "busy_counter_min": busy.sum(axis=1),
        "served": n_served.sum(axis=1),
        "mean_wait_min": _div(wait_sum.sum(axis=1), n_served.sum(axis=1)),
    }
    return day, per_interval


def summarise_day(scenario: Scenario, log: DayLog, replication: int = 0, keep_customers: bool = False) -> DaySummary:
    """Day, interval and segment KPIs of one replication (definitions in the module docstring)."""
    sc = scenario
    cust = log.customers
    f = _day_frame(sc)
    m, warm, lo, hi, eff, staffed = f.m, f.warm, f.lo, f.hi, f.eff, f.staffed
    target, margin = f.target, f.margin
    keep = cust.arrival_min >= warm
    interval = np.minimum((cust.arrival_min // f.length).astype(np.int64), m - 1)

    # Time averages over [max(start, warm-up), end) of each interval.
    joined = ~np.isnan(log.queue_join)
    q_end = np.where(log.outcome == ABANDONED, log.leave_min, log.service_start)
    queue_area = _overlap(log.queue_join[joined], q_end[joined], lo, hi)
    in_service = ~np.isnan(log.service_start)
    s_start, s_end = log.service_start[in_service], log.service_end[in_service]
    service_ov = _overlap_rows(s_start, s_end, lo, hi)  # once for the store and its counter groups
    busy_area = service_ov.sum(axis=0)
    staffed_area = staffed * eff
    if np.any(np.diff(staffed) < 0) and len(s_start):
        staffed_area = staffed_area + _excess_busy(s_start, s_end, lo, hi, staffed)
    costs = f.costs
    hours = costs["staff_hours"]

    iv_values = _customer_kpis(interval, m, log, keep, target, margin)
    iv_values.update(
        costs,
        utilization=_div(busy_area, staffed_area),
        mean_queue_len=_div(queue_area, eff),
        staffed=staffed,
    )

    walked = log.outcome != DIVERTED
    day_values = {k: v[0] for k, v in _customer_kpis(np.zeros(len(cust), np.int64), 1, log, keep, target, margin).items()}
    day_values.update(
        utilization=_div(np.array(busy_area.sum()), np.array(staffed_area.sum())),
        mean_queue_len=np.asarray(queue_area.sum() / (f.close - warm)),
        staff_hours=np.asarray(hours.sum()),
        staff_cost=np.asarray(hours.sum() * sc.costs.staff_hour),
        greeter_cost=np.asarray(costs["greeter_cost"].sum()),
        kiosk_cost=np.asarray(sc.kiosks.count * sc.costs.kiosk_day),
        last_departure_min=np.asarray(float(log.leave_min[walked].max()) if walked.any() else math.nan),
    )
    seg_values = _customer_kpis(cust.segment.astype(np.int64), len(sc.segments), log, keep, target, margin)

    service = (s_start, s_end, log.group[in_service], service_ov)
    grp_day_values, grp_iv_values = _group_kpis(f, log, keep, interval, service)

    day, day_names = _pack(day_values, "day", None)
    iv, iv_names = _pack(iv_values, "interval", m)
    seg, seg_names = _pack(seg_values, "segment", len(sc.segments))
    n_g = len(f.group_staffed)
    grp, grp_names = _pack(grp_day_values, "group", n_g)
    grp_iv, _ = _pack(grp_iv_values, "group", n_g * m)
    customers = customer_records(log, replication) if keep_customers else None
    return DaySummary(
        day=day, intervals=iv, segments=seg, customers=customers,
        names={"day": day_names, "interval": iv_names, "segment": seg_names, "group": grp_names},
        groups=grp, group_intervals=grp_iv.reshape(n_g, m, len(grp_names)),
    )


def customer_records(log: DayLog, replication: int) -> dict[str, np.ndarray]:
    """Per-customer columns (CUSTOMER_COLUMNS) for the walk-ins of one replication; codes, not names."""
    walked = np.flatnonzero(log.outcome != DIVERTED)
    c = log.customers
    served_counter = (log.outcome == SERVED) & ~np.isnan(log.service_start)
    wait = np.where(served_counter, log.service_start - log.queue_join, np.nan)
    cols = {
        "replication": np.full(len(walked), replication, np.int64),
        "customer": walked.astype(np.int64),
        "segment": c.segment,
        "transaction": c.transaction,
        "arrival_min": c.arrival_min,
        "used_kiosk": log.used_kiosk,
        "kiosk_join_min": log.kiosk_join,
        "kiosk_start_min": log.kiosk_start,
        "kiosk_end_min": log.kiosk_end,
        "kiosk_failed": log.kiosk_failed,
        "queue_join_min": log.queue_join,
        "service_start_min": log.service_start,
        "service_end_min": log.service_end,
        "counter_id": log.counter_id,
        "group": log.group,
        "pitched": log.pitched,
        "accepted": log.accepted,
        "outcome": log.outcome,
        "wait_min": wait,
        "leave_min": log.leave_min,  # when the customer left (service end, kiosk end, abandonment): calibration needs abandonment times
    }
    return {k: (v if k in ("replication", "customer") else v[walked]) for k, v in cols.items()}


# ---------------------------------------------------------------------------------------------
# across replications
# ---------------------------------------------------------------------------------------------


def mean_ci(values: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and Student t confidence interval over axis 0 (replications), ignoring NaN.

    Each column uses the replications where it is defined (n); the half-width is
    ``t_{(1+level)/2, n-1} · s / sqrt(n)``. With n < 2 the bounds are NaN (no interval can be given);
    with zero spread they equal the mean.
    """
    v = np.asarray(values, float)
    ok = ~np.isnan(v)
    n = ok.sum(axis=0)
    filled = np.where(ok, v, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, filled.sum(axis=0) / np.maximum(n, 1), np.nan)
        dev = np.where(ok, v - mean, 0.0)
        var = (dev**2).sum(axis=0) / np.maximum(n - 1, 1)
        tq = stdtrit(np.maximum(n - 1, 1), 0.5 + level / 2)
        half = np.where(n >= 2, tq * np.sqrt(var / np.maximum(n, 1)), np.nan)
    return mean, mean - half, mean + half


def _nan_to_none(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _triple(mean: float, lo: float, hi: float) -> dict[str, float | None]:
    return {"mean": _nan_to_none(float(mean)), "ci_low": _nan_to_none(float(lo)), "ci_high": _nan_to_none(float(hi))}


@dataclass(frozen=True)
class RunResult:
    """Results of ``run()``: KPI tables with 95% CIs, per-replication frames, provenance.

    ``kpis`` (index KPI name; mean, ci_low, ci_high), ``by_segment`` (segment, kpi, mean, ci_low, ci_high),
    ``intervals`` (interval, start, kpi, mean, ci_low, ci_high), ``days`` (replication + day KPIs),
    ``interval_reps`` (replication, interval, start + interval KPIs), ``segment_reps`` (replication,
    segment + segment KPIs), ``customers`` (per-customer records when asked for, else None).
    """

    scenario: Scenario
    replications: int
    seed: int
    kpis: pd.DataFrame
    by_segment: pd.DataFrame
    intervals: pd.DataFrame
    days: pd.DataFrame
    interval_reps: pd.DataFrame
    segment_reps: pd.DataFrame
    customers: pd.DataFrame | None
    provenance: dict[str, Any]
    day_values: np.ndarray
    """(replications × KPI_NAMES) array behind ``days`` (for paired comparisons)."""
    interval_values: np.ndarray
    """(replications × intervals × INTERVAL_KPI_NAMES) array behind ``interval_reps``."""
    by_group: pd.DataFrame
    """Counter groups (``Scenario.counter_groups()``) over the day: group, kpi, mean, ci_low, ci_high."""
    group_intervals: pd.DataFrame
    """Counter groups per interval: group, interval, start, kpi, mean, ci_low, ci_high."""
    group_reps: pd.DataFrame
    """Per replication: replication, group + group KPIs over the day."""

    @property
    def currency(self) -> str:
        """The currency of every money KPI (``costs.currency`` of the scenario, default CNY)."""
        return self.scenario.costs.currency

    def _groups_json(self) -> dict[str, Any]:
        return _groups_json_impl(self)

    def kpi_names(self, level: Level) -> tuple[str, ...]:
        """The KPIs this result holds at ``level`` ("day", "interval", "segment"), in report order."""
        if level == "day":
            return tuple(str(k) for k in self.kpis.index)
        frame = {"interval": self.intervals, "segment": self.by_segment, "group": self.by_group}[level]
        return tuple(dict.fromkeys(str(k) for k in frame["kpi"]))

    def to_json(self) -> dict[str, Any]:
        """The ``storeq run --format json`` object (DESIGN.md CLI contract); NaN becomes null."""
        k = self.kpis[["mean", "ci_low", "ci_high"]].to_numpy(float)
        kpis = {str(name): _triple(*k[i]) for i, name in enumerate(self.kpis.index)}
        by_segment: dict[str, dict[str, Any]] = {}
        b = self.by_segment[["mean", "ci_low", "ci_high"]].to_numpy(float)
        for i, (seg, kpi) in enumerate(zip(self.by_segment["segment"], self.by_segment["kpi"], strict=True)):
            by_segment.setdefault(str(seg), {})[str(kpi)] = _triple(*b[i])
        rows: list[dict[str, Any]] = [{"start": start} for start in self.scenario.interval_labels]
        v = self.intervals[["mean", "ci_low", "ci_high"]].to_numpy(float)
        for i, (iv, kpi) in enumerate(zip(self.intervals["interval"], self.intervals["kpi"], strict=True)):
            rows[int(iv)][str(kpi)] = _triple(*v[i])
        intervals = rows
        out = {
            "scenario": self.scenario.name,
            "replications": self.replications,
            "seed": self.seed,
            "currency": self.currency,
            "kpis": kpis,
            "by_segment": by_segment,
            "by_group": self._groups_json(),
            "intervals": intervals,
            "provenance": self.provenance,
        }
        # Round-trip once so the object is plain JSON (numpy scalars → Python).
        return json.loads(json.dumps(out, default=_json_default, allow_nan=False))


def _groups_json_impl(res: RunResult) -> dict[str, Any]:
    """``by_group`` of the JSON: per counter group, its ``kpis`` over the day and its ``intervals``."""
    labels = res.scenario.interval_labels
    out: dict[str, Any] = {}
    for name in dict.fromkeys(str(g) for g in res.by_group["group"]):
        out[name] = {"kpis": {}, "intervals": [{"start": start} for start in labels]}
    b = res.by_group[["mean", "ci_low", "ci_high"]].to_numpy(float)
    for i, (grp, kpi) in enumerate(zip(res.by_group["group"], res.by_group["kpi"], strict=True)):
        out[str(grp)]["kpis"][str(kpi)] = _triple(*b[i])
    v = res.group_intervals[["mean", "ci_low", "ci_high"]].to_numpy(float)
    cols = zip(res.group_intervals["group"], res.group_intervals["interval"], res.group_intervals["kpi"], strict=True)
    for i, (grp, iv, kpi) in enumerate(cols):
        out[str(grp)]["intervals"][int(iv)][str(kpi)] = _triple(*v[i])
    return out


def _json_default(x: Any) -> Any:
    if isinstance(x, np.generic):
        v = x.item()
        return None if isinstance(v, float) and not math.isfinite(v) else v
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")


def _share_bounds(names: Sequence[str], lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-KPI bounds for a CI: [lo, hi] for KPIs in the catalogue's ``share`` unit, unbounded otherwise."""
    share = np.array([name in catalogue.CATALOGUE and catalogue.CATALOGUE[name].unit == "share" for name in names])
    return np.where(share, lo, -np.inf), np.where(share, hi, np.inf)


def _kpi_bounds(names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per-KPI range of possible values: [0, 1] for shares, [0, ∞) for every KPI the catalogue does not
    mark ``signed`` (waits, counts, costs, hours can't be negative), unbounded otherwise."""
    floor, ceil = _share_bounds(names, 0.0, 1.0)
    nonneg = np.array(
        [name in catalogue.CATALOGUE and not catalogue.CATALOGUE[name].signed for name in names], dtype=bool
    )
    return np.where(nonneg, np.maximum(floor, 0.0), floor), ceil


def kpi_ci(values: np.ndarray, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and 95% CI over replications (axis 0) of KPI columns ``names`` (the last axis).

    The one CI rule for KPIs: every face and every caller outside this module (regions, sweeps)
    should use this (or :func:`diff_ci` for paired differences) rather than :func:`mean_ci`, so a
    proportion's bounds are the same everywhere.

    A proportion's interval is the Student t interval of the per-replication proportions clipped to
    [0, 1] (docs/model.md "KPIs"): the KPI is a mean of daily proportions, and
    customers of one day are not independent trials (one long queue delays everyone behind it), so
    the day, not the customer, is the unit of replication, and a binomial interval (Wilson on the
    pooled count) would be far too narrow. Clipping only removes impossible values: where the t
    interval lies inside [0, 1] nothing changes. By the same rule every KPI that cannot be negative
    (waits, counts, costs; all but those the catalogue marks ``signed``) has its lower bound clipped
    at 0: a few days with no abandonment give "0.0 … 2.7", not "-0.8 … 2.7".
    """
    mean, lo, hi = mean_ci(values)
    floor, ceil = _kpi_bounds(names)
    return mean, np.clip(lo, floor, ceil), np.clip(hi, floor, ceil)


def _per_row_frames(
    values: np.ndarray, names: tuple[str, ...], keys: dict[str, np.ndarray]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Frames of a per-row level (intervals, segments): per replication (wide) and summarised (long).

    ``values`` is replications × rows × KPIs; ``keys`` are the columns that name a row (e.g.
    interval and start), one value per row.
    """
    r_n, rows = values.shape[0], values.shape[1]
    reps = pd.DataFrame(values.reshape(r_n * rows, len(names)), columns=list(names))
    for col, v in reversed(list(keys.items())):
        reps.insert(0, col, np.tile(np.asarray(v), r_n))
    reps.insert(0, "replication", np.repeat(np.arange(r_n), rows))
    mean, lo, hi = kpi_ci(values, names)
    k_n = len(names)
    long = pd.DataFrame(
        {
            **{col: np.repeat(np.asarray(v), k_n) for col, v in keys.items()},
            "kpi": np.tile(np.asarray(names, dtype=object), rows),
            "mean": mean.ravel(),
            "ci_low": lo.ravel(),
            "ci_high": hi.ravel(),
        }
    )
    return reps, long


def build_result(
    scenario: Scenario,
    seed: int,
    summaries: list[DaySummary],
    provenance: dict[str, Any],
) -> RunResult:
    """Stack per-replication summaries (in replication order) into a :class:`RunResult`."""
    r_n = len(summaries)
    m = scenario.n_intervals
    labels = np.asarray(scenario.interval_labels, dtype=object)
    seg_names = np.asarray([s.name for s in scenario.segments], dtype=object)
    names = summaries[0].names if r_n else {lvl: kpi_names(lvl) for lvl in ("day", "interval", "segment", "group")}
    day_names, iv_names, sg_names, gr_names = names["day"], names["interval"], names["segment"], names["group"]
    grp_labels = np.asarray([g.name for g in scenario.counter_groups()], dtype=object)
    n_g = len(grp_labels)
    day = np.stack([s.day for s in summaries]) if r_n else np.empty((0, len(day_names)))
    iv = np.stack([s.intervals for s in summaries]) if r_n else np.empty((0, m, len(iv_names)))
    sg = np.stack([s.segments for s in summaries]) if r_n else np.empty((0, len(seg_names), len(sg_names)))

    days = pd.DataFrame(day, columns=list(day_names))
    days.insert(0, "replication", np.arange(r_n))
    mean, lo, hi = kpi_ci(day, day_names)
    kpis = pd.DataFrame({"mean": mean, "ci_low": lo, "ci_high": hi}, index=pd.Index(day_names, name="kpi"))
    interval_reps, intervals = _per_row_frames(iv, iv_names, {"interval": np.arange(m), "start": labels})
    segment_reps, by_segment = _per_row_frames(sg, sg_names, {"segment": seg_names})
    gr = np.stack([s.groups for s in summaries]) if r_n else np.empty((0, n_g, len(gr_names)))
    gr_iv = np.stack([s.group_intervals for s in summaries]) if r_n else np.empty((0, n_g, m, len(gr_names)))
    group_reps, by_group = _per_row_frames(gr, gr_names, {"group": grp_labels})
    _, group_intervals = _per_row_frames(
        gr_iv.reshape(r_n, n_g * m, len(gr_names)), gr_names,
        {"group": np.repeat(grp_labels, m), "interval": np.tile(np.arange(m), n_g), "start": np.tile(labels, n_g)},
    )

    customers = None
    if r_n and summaries[0].customers is not None:
        customers = customers_frame(scenario, [s.customers for s in summaries if s.customers is not None])

    return RunResult(
        scenario=scenario,
        replications=r_n,
        seed=seed,
        kpis=kpis,
        by_segment=by_segment,
        intervals=intervals,
        days=days,
        interval_reps=interval_reps,
        segment_reps=segment_reps,
        customers=customers,
        provenance=provenance,
        day_values=day,
        interval_values=iv,
        by_group=by_group,
        group_intervals=group_intervals,
        group_reps=group_reps,
    )


def customers_frame(scenario: Scenario, parts: list[dict[str, np.ndarray]]) -> pd.DataFrame:
    """Per-customer records of all replications as one tidy frame (names instead of codes)."""
    cols = {k: np.concatenate([p[k] for p in parts]) for k in CUSTOMER_COLUMNS}
    df = pd.DataFrame(cols)
    df["segment"] = np.asarray([s.name for s in scenario.segments], dtype=object)[cols["segment"]]
    df["transaction"] = np.asarray([t.name for t in scenario.transactions], dtype=object)[cols["transaction"]]
    df["outcome"] = np.asarray(OUTCOME_NAMES, dtype=object)[cols["outcome"].astype(int)]
    # the counter group's name; None for customers not served at a counter (code -1)
    group_names = np.asarray([g.name for g in scenario.counter_groups()] + [None], dtype=object)
    df["group"] = group_names[cols["group"].astype(int)]
    return df


# ---------------------------------------------------------------------------------------------
# comparisons
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompareResult:
    """Scenarios run on common random numbers, with paired differences against the first.

    ``differences``: scenario, kpi, diff_mean, diff_ci_low, diff_ci_high (day KPIs);
    ``interval_differences``: scenario, interval, start, kpi, diff_mean, diff_ci_low, diff_ci_high
    (only when all scenarios share the interval grid; empty otherwise).
    """

    results: list[RunResult]
    labels: list[str]
    differences: pd.DataFrame
    interval_differences: pd.DataFrame


def diff_ci(values: np.ndarray, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and 95% CI of paired differences; a difference of two proportions is kept inside [−1, 1]."""
    mean, lo, hi = mean_ci(values)
    floor, ceil = _share_bounds(names, -1.0, 1.0)
    return mean, np.clip(lo, floor, ceil), np.clip(hi, floor, ceil)


def paired_differences(results: list[RunResult], labels: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-replication difference (scenario − first), then mean and Student t CI over replications.

    Pairing replication r with replication r is what makes common random numbers pay off: both saw the
    same customers, so the variance of the difference is far below the sum of the variances.
    """
    base = results[0]
    rows = []
    irows = []
    same_grid = all(r.scenario.interval_labels == base.scenario.interval_labels for r in results)
    day_names, iv_names = base.kpi_names("day"), base.kpi_names("interval")
    for res in results[1:]:
        if res.kpi_names("day") != day_names or res.kpi_names("interval") != iv_names:
            raise ValueError("paired_differences: the results report different KPIs (made by different storeq versions?)")
    for res, label in zip(results[1:], labels[1:], strict=True):
        d = res.day_values - base.day_values
        mean, lo, hi = diff_ci(d, day_names)
        for k, name in enumerate(day_names):
            rows.append((label, name, mean[k], lo[k], hi[k]))
        if same_grid:
            mean, lo, hi = diff_ci(res.interval_values - base.interval_values, iv_names)
            for i, start in enumerate(base.scenario.interval_labels):
                for k, name in enumerate(iv_names):
                    irows.append((label, i, start, name, mean[i, k], lo[i, k], hi[i, k]))
    cols = ["scenario", "kpi", "diff_mean", "diff_ci_low", "diff_ci_high"]
    icols = ["scenario", "interval", "start", "kpi", "diff_mean", "diff_ci_low", "diff_ci_high"]
    return pd.DataFrame(rows, columns=cols), pd.DataFrame(irows, columns=icols)
