"""Any valid scenario runs, conserves customers and keeps its KPIs in range (STYLE.md layer 4).

Hypothesis generates scenarios across the whole v1 format: opening hours on the interval grid,
constant or per-interval demand (zeros included), scale and online diversion, 1-3 segments and
1-3 transaction types with shares summing to 1, every distribution kind (degenerate ones too: a
0-minute deterministic time, a patience of 0), kiosks with failures and a greeter, every cross-sell
policy (windows and a threshold together too), balking (even at 0: everybody balks), staffing
schedules with zeros in the middle (never at the end, which validation refuses), VIP counters that
serve VIPs first or only, calling by priority or by ticket, counter groups (one serving everyone, the
others some transactions and/or segments, then: any or none, each with its own schedule), greeter
windows and day-to-day demand spread (day_cv). Each runs two short replications and must:

* conserve customers in every replication: arrivals = served + abandoned + balked, nobody left
  inside at the end (every served customer's departure is at or before ``last_departure_min``);
* keep KPIs in range: shares and rates in [0, 1], waits and queue lengths ≥ 0, utilization ≤ 1;
* respect the queue discipline in the customer log: at each counter start fewer of the group's
  customers were in service than the group has staffed (no overlap per group; and in the whole store
  for the staffed/vip shorthand), nobody served by a group that neither owns them nor helps others,
  FCFS among customers with the same own groups and calling priority, and — with one priority queue
  (no groups, VIPs first, calling by priority) — no customer of a lower priority started while one of
  a higher priority was waiting.

``derandomize=True`` makes the examples a function of the test code alone, so CI is reproducible.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from simulation import run, scenario_from_dict

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,  # no replay of examples stored by earlier local runs: CI sees exactly what you see
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
EPS = 1e-9

# ---------------------------------------------------------------------------------------------
# strategies
# ---------------------------------------------------------------------------------------------

minutes = st.floats(min_value=0.2, max_value=15.0, allow_nan=False, allow_infinity=False)
cvs = st.floats(min_value=0.05, max_value=2.0, allow_nan=False, allow_infinity=False)


@st.composite
def distributions(draw: st.DrawFn, allow_zero: bool = True) -> dict[str, Any]:
    kind = draw(st.sampled_from(["exponential", "lognormal", "gamma", "deterministic", "uniform", "triangular", "empirical"]))
    if kind == "exponential":
        return {"dist": kind, "mean": draw(minutes)}
    if kind in ("lognormal", "gamma"):
        return {"dist": kind, "mean": draw(minutes), "cv": draw(cvs)}
    if kind == "deterministic":
        return {"dist": kind, "value": draw(st.just(0.0) | minutes) if allow_zero else draw(minutes)}
    if kind == "uniform":
        low = draw(st.floats(min_value=0.0, max_value=10.0))
        return {"dist": kind, "low": low, "high": low + draw(st.floats(min_value=0.1, max_value=10.0))}
    if kind == "triangular":
        pts = sorted(draw(st.lists(st.floats(min_value=0.0, max_value=20.0), min_size=3, max_size=3)))
        if pts[2] - pts[0] < 0.1:
            pts[2] = pts[0] + 0.1
        pts[1] = min(max(pts[1], pts[0]), pts[2])
        return {"dist": kind, "low": pts[0], "mode": pts[1], "high": pts[2]}
    return {"dist": kind, "values": draw(st.lists(st.floats(min_value=0.0, max_value=20.0), min_size=1, max_size=6))}


def _shares(draw: st.DrawFn, n: int) -> list[float]:
    """n shares summing to 1 within validation's 1e-6 (the last absorbs the rounding)."""
    w = draw(st.lists(st.integers(min_value=1, max_value=20), min_size=n, max_size=n))
    shares = [x / sum(w) for x in w[:-1]]
    return [*shares, 1.0 - sum(shares)]


def _schedule(draw: st.DrawFn, n_int: int, last_at_least: int = 0) -> Any:
    """A staffed number, or one per interval with zeros allowed (the last at least ``last_at_least``)."""
    counts = st.integers(min_value=0, max_value=5)
    if draw(st.booleans()):
        return draw(st.integers(min_value=max(1, last_at_least), max_value=6))
    return [*draw(st.lists(counts, min_size=n_int - 1, max_size=n_int - 1)), draw(st.integers(max(1, last_at_least), 5))]


@st.composite
def routing(draw: st.DrawFn, n_int: int, transactions: list[dict[str, Any]], segments: list[dict[str, Any]]) -> dict[str, Any]:
    """``counters``: the staffed/vip shorthand (VIPs first or only) or counter groups; calling order."""
    order = draw(st.sampled_from([None, "priority", "ticket"]))
    out: dict[str, Any] = {} if order is None else {"order": order}
    if draw(st.booleans()):
        staffed = _schedule(draw, n_int)
        lowest = staffed if isinstance(staffed, int) else min(staffed)
        last = staffed if isinstance(staffed, int) else staffed[-1]
        # VIP-only counters need a regular counter at closing for everyone else
        if lowest >= 1 and last >= 2 and draw(st.booleans()):
            vip = draw(st.integers(min_value=1, max_value=min(lowest, last - 1)))
            out.update({"staffed": staffed, "vip": vip, "vip_serves": draw(st.sampled_from(["only", "first"]))})
        else:
            out.update({"staffed": staffed, "vip": draw(st.integers(min_value=0, max_value=lowest))})
        return out
    # Groups: the first serves everyone (so every customer has a counter at closing), the others
    # some transactions and/or segments, each with its own schedule, helping others or not.
    groups: list[dict[str, Any]] = [{"name": "all", "staffed": _schedule(draw, n_int, last_at_least=1)}]
    tx_names = [t["name"] for t in transactions]
    seg_names = [g["name"] for g in segments]
    for i in range(draw(st.integers(min_value=0, max_value=2))):
        g: dict[str, Any] = {"name": f"g{i}", "staffed": draw(st.integers(min_value=0, max_value=3)) if draw(st.booleans()) else _schedule(draw, n_int)}
        if draw(st.booleans()):
            g["transactions"] = draw(st.lists(st.sampled_from(tx_names), min_size=1, max_size=len(tx_names), unique=True))
        if draw(st.booleans()):
            g["segments"] = draw(st.lists(st.sampled_from(seg_names), min_size=1, max_size=len(seg_names), unique=True))
        g["then"] = draw(st.sampled_from(["any", "none"]))
        groups.insert(draw(st.integers(min_value=0, max_value=len(groups))), g)
    out["groups"] = groups
    return out


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    interval = draw(st.sampled_from([15, 30, 60]))
    n_int = draw(st.integers(min_value=1, max_value=max(1, 240 // interval)))  # at most 4 hours
    open_min = draw(st.integers(min_value=6 * 60 // interval, max_value=12 * 60 // interval)) * interval
    close_min = open_min + n_int * interval
    clock = lambda m: f"{m // 60:02d}:{m % 60:02d}"  # noqa: E731

    rate = st.floats(min_value=5.0, max_value=150.0, allow_nan=False)
    arrivals: Any = draw(rate | st.lists(st.just(0.0) | rate | rate, min_size=n_int, max_size=n_int))

    n_seg = draw(st.integers(min_value=1, max_value=3))
    seg_shares = _shares(draw, n_seg)
    segments = [
        {
            "name": f"seg{i}",
            "share": seg_shares[i],
            "priority": draw(st.integers(min_value=0, max_value=2)),
            **({"patience": draw(distributions())} if draw(st.booleans()) else {}),
            "pitch": draw(st.booleans()),
        }
        for i in range(n_seg)
    ]
    n_tx = draw(st.integers(min_value=1, max_value=3))
    tx_shares = _shares(draw, n_tx)
    transactions = [
        {
            "name": f"tx{i}",
            "share": tx_shares[i],
            "counter_time": draw(distributions()),
            **({"kiosk_time": draw(distributions())} if draw(st.booleans()) else {}),
        }
        for i in range(n_tx)
    ]
    has_kiosk_work = any("kiosk_time" in t for t in transactions)

    counters = draw(routing(n_int, transactions, segments))

    def window() -> str:
        a = draw(st.integers(min_value=0, max_value=n_int * interval - 1))
        b = draw(st.integers(min_value=a + 1, max_value=n_int * interval))
        return f"{clock(open_min + a)}-{clock(open_min + b)}"

    mode = draw(st.sampled_from(["always", "never", "windows", "queue_threshold"]))
    policy: dict[str, Any] = {"mode": mode}
    # windows and a threshold together: pitching stops while either holds
    if mode == "windows" or (mode == "queue_threshold" and draw(st.booleans())):
        policy["suspend"] = [window()]
    if mode == "queue_threshold" or (mode == "windows" and draw(st.booleans())):
        policy["threshold"] = draw(st.integers(min_value=0, max_value=10))
    greeter: Any = draw(st.booleans()) if draw(st.booleans()) else [window()]

    data: dict[str, Any] = {
        "name": "generated",
        "store": {
            "open": clock(open_min),
            "close": clock(close_min),
            "interval_min": interval,
            "target_wait_min": draw(st.floats(min_value=0.5, max_value=20.0)),
        },
        "demand": {
            "arrivals_per_hour": arrivals,
            # mostly busy days: an empty day checks little (zero demand still comes from the rates)
            "scale": draw(st.floats(min_value=0.5, max_value=1.5)),
            "online_diversion": draw(st.floats(min_value=0.0, max_value=0.6)),
            "day_cv": draw(st.just(0.0) | st.floats(min_value=0.0, max_value=0.5)),
        },
        "segments": segments,
        "transactions": transactions,
        "counters": counters,
        "kiosks": {
            "count": draw(st.integers(min_value=0, max_value=3)) if has_kiosk_work else 0,
            "adoption": draw(st.floats(min_value=0.0, max_value=1.0)),
            "greeter_adoption": draw(st.floats(min_value=0.0, max_value=1.0)),
            "greeter": greeter,
            "failure": draw(st.floats(min_value=0.0, max_value=1.0)),
        },
        "cross_sell": {
            "pitch_time": draw(distributions()),
            "acceptance": draw(st.floats(min_value=0.0, max_value=1.0)),
            "margin": draw(st.floats(min_value=0.0, max_value=100.0)),
            "policy": policy,
        },
        "costs": {"staff_hour": draw(st.floats(min_value=0.0, max_value=80.0))},
        "simulation": {
            "replications": 2,
            "seed": draw(st.integers(min_value=0, max_value=2**32)),
            "warmup_min": draw(st.just(0.0) | st.floats(min_value=0.0, max_value=n_int * interval - 1)),
        },
    }
    if draw(st.booleans()):
        data["balking"] = {"queue_at_least": draw(st.integers(min_value=1, max_value=15))}
    return data


# ---------------------------------------------------------------------------------------------
# the properties
# ---------------------------------------------------------------------------------------------

RATE_KPIS = ("prob_wait", "service_level", "abandonment_rate", "utilization", "kiosk_share")
NONNEG_KPIS = ("mean_wait_min", "p90_wait_min", "mean_queue_len", "kiosk_mean_wait_min", "cross_sell_revenue",
               "staff_hours", "staff_cost", "last_departure_min", "pitches", "pitch_accepted")
COUNT_KPIS = ("arrivals", "served", "abandoned", "balked", "diverted")


def _in_range(frame: pd.DataFrame, where: str) -> None:
    for k in RATE_KPIS:
        if k in frame:
            v = frame[k].to_numpy(float)
            v = v[~np.isnan(v)]
            assert ((v >= -EPS) & (v <= 1 + EPS)).all(), f"{where}: {k} out of [0, 1]: {v}"
    for k in NONNEG_KPIS:
        if k in frame:
            v = frame[k].to_numpy(float)
            v = v[~np.isnan(v)]
            assert (v >= -EPS).all(), f"{where}: {k} negative: {v}"
    for k in COUNT_KPIS:
        v = frame[k].to_numpy(float)
        assert not np.isnan(v).any() and (v >= 0).all() and (v == np.round(v)).all(), f"{where}: {k} not a count: {v}"


def _one_priority_queue(sc: Any) -> bool:
    """v1 counters: every counter takes the head of one priority queue (no groups, VIPs first, by priority)."""
    c = sc.counters
    return c.groups is None and not c.vip_only and c.calling_order == "priority"


def _queue_discipline(cust: pd.DataFrame, sc: Any, priority: dict[str, int]) -> None:
    """No overlap (per group), who may serve whom, FCFS per class, and priority order, at every counter start."""
    served = cust[cust["service_start_min"].notna()]
    if served.empty:
        return
    interval = sc.store.interval_min
    start = served["service_start_min"].to_numpy(float)
    end = served["service_end_min"].to_numpy(float)
    join = served["queue_join_min"].to_numpy(float)
    by_ticket = sc.counters.calling_order == "ticket"
    prio = served["segment"].map(priority).to_numpy() * (0 if by_ticket else 1)
    assert (start >= join - EPS).all() and (end >= start - EPS).all()
    groups = sc.counter_groups()
    group = served["group"].to_numpy()
    schedules = [("the store", np.ones(len(served), bool), sc.staffed_schedule())] if sc.counters.groups is None else []
    schedules += [(g.name, group == g.name, g.staffed_schedule(sc.n_intervals)) for g in groups]
    for name, mine, staffed in schedules:
        s_, e_ = start[mine], end[mine]
        # at one instant, zero-length services start and end before a longer one takes the counter
        order = np.lexsort((e_, s_))
        for pos, i in enumerate(order):
            s = s_[i]
            # at a boundary the new interval's staffing applies; after closing the last interval's does
            k = int(staffed[min(int(s // interval), len(staffed) - 1)])
            busy = int((e_[order[:pos]] > s + EPS).sum())
            assert busy < k, f"{name}: customer started at {s:.4f} with {busy} in service and {k} counters staffed"
    # served only by a group that owns them or helps anyone; FCFS among customers with the same own
    # groups and calling priority (with one queue: within a priority)
    tx, seg = served["transaction"].to_numpy(), served["segment"].to_numpy()
    own = np.array([tuple(g.serves(t, s) for g in groups) for t, s in zip(tx, seg, strict=True)]).reshape(len(served), len(groups))
    for k, g in enumerate(groups):
        assert g.then == "any" or own[group == g.name, k].all(), f"group {g.name} served a customer it does not own"
    cls = np.array([hash(tuple(row)) for row in own]) if not _one_priority_queue(sc) else np.zeros(len(served))
    for key in {(c_, p) for c_, p in zip(cls, prio, strict=True)}:
        sel = (cls == key[0]) & (prio == key[1])
        order = np.argsort(join[sel], kind="stable")
        assert (np.diff(start[sel][order]) >= -EPS).all(), f"FCFS broken within class/priority {key}"
    if not _one_priority_queue(sc):
        return
    # nobody started while a customer of strictly higher priority (lower number) was waiting
    # (waiting = joined before s and started after s); abandoners are left out, which only weakens
    # the check, since their leaving time is not in the log
    for i in range(len(start)):
        s = start[i]
        waiting_higher = (prio < prio[i]) & (join < s - EPS) & (start > s + EPS)
        assert not waiting_higher.any(), f"priority {prio[i]} started at {s:.4f} while higher priority waited"


def _close(got: float, want: float, what: str) -> None:
    if math.isnan(want):
        assert math.isnan(got), f"{what}: engine {got!r}, records give no value"
    else:
        assert got == pytest.approx(want, rel=1e-9, abs=1e-9), f"{what}: engine {got!r}, from the records {want!r}"


def _kpis_from_records(g: pd.DataFrame, day: pd.Series, sc: Any) -> None:
    """Recompute the day KPIs from one replication's customer log, by the DESIGN.md definitions."""
    warm = sc.simulation.warmup_min
    c = g[g["arrival_min"] >= warm]
    n = len(c)
    at_counter = (c["outcome"] == "served") & c["service_start_min"].notna()
    w = c.loc[at_counter, "wait_min"].to_numpy(float)
    abandoned = int((c["outcome"] == "abandoned").sum())
    joined = int(c["queue_join_min"].notna().sum())
    nan = math.nan
    _close(day["mean_wait_min"], float(w.mean()) if len(w) else nan, "mean_wait_min")
    _close(day["p90_wait_min"], float(np.percentile(w, 90)) if len(w) else nan, "p90_wait_min")
    _close(day["prob_wait"], float((w > 0).mean()) if len(w) else nan, "prob_wait")
    within = int((w <= sc.store.target_wait_min).sum())
    _close(day["service_level"], within / (len(w) + abandoned) if len(w) + abandoned else nan, "service_level")
    _close(day["abandonment_rate"], abandoned / joined if joined else nan, "abandonment_rate")
    used = c["used_kiosk"].astype(bool)
    _close(day["kiosk_share"], float(used.sum()) / n if n else nan, "kiosk_share")
    kw = (c.loc[used, "kiosk_start_min"] - c.loc[used, "kiosk_join_min"]).to_numpy(float)
    _close(day["kiosk_mean_wait_min"], float(kw.mean()) if len(kw) else nan, "kiosk_mean_wait_min")
    _close(day["pitches"], float(c["pitched"].astype(bool).sum()), "pitches")
    _close(day["pitch_accepted"], float(c["accepted"].astype(bool).sum()), "pitch_accepted")
    assert not (c["accepted"].astype(bool) & ~c["pitched"].astype(bool)).any(), "accepted without a pitch"
    _close(day["cross_sell_revenue"], sc.cross_sell.margin * float(c["accepted"].astype(bool).sum()), "revenue")
    # pitches only to pitchable segments, after a counter visit
    no_pitch = {s.name for s in sc.segments if not s.pitch}
    assert not (c["pitched"].astype(bool) & c["segment"].isin(no_pitch)).any(), "a pitch: false segment was pitched"
    assert not (c["pitched"].astype(bool) & c["service_start_min"].isna()).any()
    hours = float(sc.staffed_schedule().sum()) * sc.store.interval_min / 60
    _close(day["staff_hours"], hours, "staff_hours")
    _close(day["staff_cost"], hours * sc.costs.staff_hour, "staff_cost")
    # time-average queue over [warm-up, close]: each joined customer waits from joining to its
    # service start, or to leaving if it abandoned (all customers, including the warm-up's)
    q = g[g["queue_join_min"].notna()]
    q_end = np.where(q["outcome"] == "abandoned", q["leave_min"], q["service_start_min"]).astype(float)
    lo = np.clip(q["queue_join_min"].to_numpy(float), warm, sc.store.duration_min)
    hi = np.clip(q_end, warm, sc.store.duration_min)
    _close(day["mean_queue_len"], float(np.clip(hi - lo, 0, None).sum()) / (sc.store.duration_min - warm), "mean_queue_len")


@pytest.mark.slow
@SETTINGS
@given(data=scenarios())
def test_any_valid_scenario_runs_and_conserves(data: dict[str, Any]) -> None:
    sc = scenario_from_dict(data, "generated")
    res = run(sc, replications=2, keep_customers=True)
    days = res.days
    assert len(days) == 2 and res.customers is not None
    # what the examples exercised (shown by --hypothesis-show-statistics)
    for label, hit in (
        ("abandonment", days["abandoned"].sum() > 0), ("balking", days["balked"].sum() > 0),
        ("kiosk failures", bool(res.customers["kiosk_failed"].any())), ("pitches", days["pitches"].sum() > 0),
        ("zero staffing mid-day", bool((sc.staffed_schedule()[:-1] == 0).any())), ("warm-up", sc.simulation.warmup_min > 0),
        ("no walk-ins", days["arrivals"].sum() == 0), ("counter groups", sc.counters.groups is not None),
        ("VIPs only", sc.counters.vip_only), ("ticket order", sc.counters.calling_order == "ticket"),
        ("windows and threshold", sc.cross_sell.policy.suspends_in_windows and sc.cross_sell.policy.suspends_on_queue),
        ("greeter windows", not isinstance(sc.kiosks.greeter, bool)), ("day_cv", sc.demand.day_cv > 0),
    ):
        if hit:
            event(label)
    _in_range(days, "day")
    assert (days["arrivals"] == days["served"] + days["abandoned"] + days["balked"]).all()
    if sc.kiosks.count == 0:
        assert (days["kiosk_share"].fillna(0) == 0).all()
    if sc.balking.queue_at_least is None:
        assert (days["balked"] == 0).all()
    if all(s.patience is None for s in sc.segments):
        assert (days["abandoned"] == 0).all()
    for col in ("mean", "ci_low", "ci_high"):
        assert not res.kpis.loc[list(COUNT_KPIS), col].isna().any()
    _in_range(res.interval_reps, "interval")
    # counts add up: over intervals (by arrival interval) and over segments, to the day's
    counts = [*COUNT_KPIS, "pitches", "pitch_accepted"]
    sums_i = res.interval_reps.groupby("replication")[counts].sum(min_count=0)
    sums_s = res.segment_reps.groupby("replication")[counts].sum(min_count=0)
    by_rep = days.set_index("replication")
    for k in counts:
        np.testing.assert_allclose(sums_i[k].fillna(0), by_rep.loc[sums_i.index, k], err_msg=f"intervals' {k}")
        np.testing.assert_allclose(sums_s[k].fillna(0), by_rep.loc[sums_s.index, k], err_msg=f"segments' {k}")

    cust = res.customers
    assert cust is not None
    duration = sc.store.duration_min
    priority = {s.name: s.priority for s in sc.segments}
    for r, g in cust.groupby("replication"):
        day = days.loc[days["replication"] == r].iloc[0]
        counted = g[g["arrival_min"] >= sc.simulation.warmup_min]
        # the log and the day KPIs agree, customer by customer
        assert len(counted) == day["arrivals"]
        assert (counted["outcome"] == "served").sum() == day["served"]
        assert (counted["outcome"] == "abandoned").sum() == day["abandoned"]
        assert (counted["outcome"] == "balked").sum() == day["balked"]
        assert set(g["outcome"]) <= {"served", "abandoned", "balked"}
        # doors close at closing time; everyone who walked in left by the last departure
        assert (g["arrival_min"] >= 0).all() and (g["arrival_min"] < duration + EPS).all()
        leave = np.fmax(g["service_end_min"].to_numpy(float), g["kiosk_end_min"].to_numpy(float))
        served = g["outcome"].to_numpy() == "served"
        assert not np.isnan(leave[served]).any(), "a served customer without a departure time"
        if served.any():
            assert leave[served].max() <= day["last_departure_min"] + EPS
        w = g["wait_min"].to_numpy(float)
        assert (w[~np.isnan(w)] >= -EPS).all()
        at_counter = g["service_start_min"].notna()
        np.testing.assert_allclose(
            g.loc[at_counter, "wait_min"], g.loc[at_counter, "service_start_min"] - g.loc[at_counter, "queue_join_min"],
            atol=1e-9,
        )
        # a failed kiosk visit goes on to the counters (or leaves them by abandoning/balking there)
        failed = g["kiosk_failed"].fillna(False).astype(bool).to_numpy()
        joined = g["queue_join_min"].notna().to_numpy()
        balked = (g["outcome"] == "balked").to_numpy()
        assert (joined | balked)[failed].all(), "a failed kiosk visit that neither queued at a counter nor balked"
        _queue_discipline(g, sc, priority)
        _kpis_from_records(g, day, sc)


def test_generated_example_smoke() -> None:
    """One fixed generated-style scenario in the quick suite, so a broken engine fails fast."""
    data = {
        "name": "smoke",
        "store": {"open": "10:00", "close": "12:00", "interval_min": 30},
        "demand": {"arrivals_per_hour": [30, 0, 90, 60]},
        "segments": [
            {"name": "a", "share": 0.7, "priority": 1, "patience": {"dist": "exponential", "mean": 5}},
            {"name": "b", "share": 0.3, "priority": 0, "pitch": False},
        ],
        "transactions": [
            {"name": "x", "share": 0.5, "counter_time": {"dist": "deterministic", "value": 3},
             "kiosk_time": {"dist": "uniform", "low": 1, "high": 2}},
            {"name": "y", "share": 0.5, "counter_time": {"dist": "triangular", "low": 1, "mode": 2, "high": 6}},
        ],
        "counters": {"staffed": [2, 0, 3, 1], "vip": 0},
        "kiosks": {"count": 1, "adoption": 0.7, "failure": 0.3},
        "cross_sell": {"pitch_time": {"dist": "empirical", "values": [1, 2, 4]}, "acceptance": 0.5, "margin": 10,
                       "policy": {"mode": "queue_threshold", "threshold": 2}},
        "balking": {"queue_at_least": 6},
        "simulation": {"replications": 3, "seed": 5},
    }
    sc = scenario_from_dict(data, "smoke")
    res = run(sc, keep_customers=True)
    d = res.days
    assert (d["arrivals"] == d["served"] + d["abandoned"] + d["balked"]).all()
    assert (d["arrivals"] > 0).all()
    _in_range(d, "day")
    assert res.customers is not None
    for r, g in res.customers.groupby("replication"):
        _queue_discipline(g, sc, {"a": 1, "b": 0})
        _kpis_from_records(g, d.loc[d["replication"] == r].iloc[0], sc)
    assert np.isfinite(res.kpis["mean"].to_numpy(float)[list(res.kpis.index).index("last_departure_min")])


@settings(max_examples=200, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=scenarios())
def test_the_generator_makes_valid_scenarios(data: dict[str, Any]) -> None:
    """The strategy itself: every generated dict validates (otherwise the property test checks nothing)."""
    sc = scenario_from_dict(data, "generated")
    assert sc.n_intervals >= 1 and sc.staffed_schedule()[-1] >= 1
