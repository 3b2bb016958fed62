"""Interventions as scenario changes: what each fix does to one store, what it costs, what it uses.

:func:`apply` returns the store's scenario with the fix (or a combination of fixes) applied, or a
:class:`NotApplicable` saying in words why the fix makes no sense in that hall (no spare counter, no
kiosk-able transaction, nothing to pitch, ...). :func:`usage` is its cost per day and the resources
it takes from a regional budget (money, staff hours, kiosks, greeters). Pure: no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulation import Scenario, ScenarioError, scenario_from_dict
from simulation.clock import format_clock

from .model import Intervention


@dataclass(frozen=True)
class NotApplicable:
    """Why an intervention cannot be applied to a store."""

    reason: str


@dataclass(frozen=True)
class Usage:
    """What an intervention (or a combination) takes from the budget, per day."""

    cost_per_day: float = 0.0
    staff_hours: float = 0.0
    kiosks: int = 0
    greeters: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.cost_per_day + other.cost_per_day, self.staff_hours + other.staff_hours,
                     self.kiosks + other.kiosks, self.greeters + other.greeters)


def peak_window(scenario: Scenario, hours: float) -> tuple[int, int]:
    """The intervals ``[a, b)`` of ``hours`` where offered load per staffed counter is highest.

    Load per counter (arrival rate × mean counter time ÷ staffed) is where one more counter relieves
    the queue most; using the scenario's demand (not a simulation) keeps the choice deterministic.
    """
    n = scenario.n_intervals
    k = max(1, min(n, math.ceil(hours * 60 / scenario.store.interval_min - 1e-9)))
    mean_time = sum(t.share * t.counter_time.mean for t in scenario.transactions)
    load = scenario.arrival_rates_per_hour() * mean_time / 60 / np.maximum(scenario.staffed_schedule(), 1)
    sums = np.convolve(load, np.ones(k), mode="valid")
    a = int(np.argmax(sums))  # first of equals: the earliest peak window
    return a, a + k


def _window_text(scenario: Scenario, a: int, b: int) -> str:
    o, step = scenario.store.open_min, scenario.store.interval_min
    return f"{format_clock(o + a * step)}-{format_clock(o + b * step)}"


def group_staffing(scenario: Scenario) -> np.ndarray:
    """Staffed counters per counter group (rows, the file's order) and interval (columns)."""
    return np.array([sched.values for sched in scenario.group_schedules()], dtype=int)


def group_for_change(scenario: Scenario, a: int, b: int, change: int, staffed: np.ndarray | None = None) -> int | None:
    """The counter group that gains (``change`` > 0) or gives up (< 0) counters in intervals [a, b).

    A counter goes to the group whose own customers' offered load per staffed counter (their arrival
    rate × mean counter time ÷ the group's staffed counters, over the window) is highest: where one
    more counter relieves a queue most, as :func:`peak_window` judges the store. One leaves the group
    where that load is lowest among those keeping at least one counter in the window (a group with
    customers always keeps one; the scenario would refuse otherwise). None if no group can give one.
    ``staffed`` (groups × intervals) as edited so far; the scenario's schedules when None.
    """
    from optimizer.groups import group_demand

    demand = group_demand(scenario)
    if staffed is None:
        staffed = group_staffing(scenario)
    window = slice(a, b)
    loads = [
        float((d.rate_per_min[window] * d.handle_min / np.maximum(staffed[g, window], 1)).sum())
        for g, d in enumerate(demand)
    ]
    if change > 0:
        return int(np.argmax(loads))  # first of equals: the file's order
    able = [g for g in range(len(demand)) if int(staffed[g, window].min()) + change >= 1]
    return min(able, key=lambda g: loads[g]) if able else None


def _group_staffed(data: dict[str, Any], scenario: Scenario) -> np.ndarray:
    """Each group's staffed counters per interval from the plain data as edited so far."""
    n = scenario.n_intervals
    rows = []
    for grp in data["counters"]["groups"]:
        raw = grp["staffed"]
        rows.append([int(v) for v in raw] if isinstance(raw, list) else [int(raw)] * n)
    return np.array(rows, dtype=int)


def _window_group_text(scenario: Scenario, a: int, b: int) -> str:
    """' tellers' for a hall with counter groups (the group a counter there would go to), else ''."""
    if not scenario.counters.groups:
        return ""
    g = group_for_change(scenario, a, b, +1)
    return f" {scenario.counter_groups()[g].name}" if g is not None else ""


Edit = Callable[[dict[str, Any], Scenario, Intervention], "NotApplicable | None"]


def _kiosk_able(scenario: Scenario) -> bool:
    return any(t.kiosk_time is not None for t in scenario.transactions)


def _counter(data: dict[str, Any], scenario: Scenario, iv: Intervention) -> NotApplicable | None:
    if scenario.counters.groups:
        return _group_counter(data, scenario, iv)
    raw = data["counters"]["staffed"]  # as edited so far (a combination may hold two counter fixes)
    staffed = [int(v) for v in raw] if isinstance(raw, list) else [int(raw)] * scenario.n_intervals
    a, b = peak_window(scenario, iv.hours if iv.hours is not None else 3.0)
    new = [v + (iv.n if a <= i < b else 0) for i, v in enumerate(staffed)]
    physical = data["counters"].get("physical")
    if physical is not None and max(new) > int(physical):
        return NotApplicable(f"no spare counter: the hall has {physical} counters and staffs {max(staffed[a:b])} "
                             f"at its peak {_window_text(scenario, a, b)}")
    data["counters"]["staffed"] = new
    return None


def _group_counter(data: dict[str, Any], scenario: Scenario, iv: Intervention) -> NotApplicable | None:
    """A hall with counter groups: the counters go to the group busiest per counter in the peak window."""
    a, b = peak_window(scenario, iv.hours if iv.hours is not None else 3.0)
    staffed = _group_staffed(data, scenario)
    g = group_for_change(scenario, a, b, +1, staffed)
    assert g is not None  # a gain always has a group
    total = staffed.sum(axis=0)
    physical = data["counters"].get("physical")
    if physical is not None and int(total[a:b].max()) + iv.n > int(physical):
        return NotApplicable(f"no spare counter: the hall has {physical} counters and staffs {int(total[a:b].max())} "
                             f"at its peak {_window_text(scenario, a, b)}")
    staffed[g, a:b] += iv.n
    data["counters"]["groups"][g]["staffed"] = [int(v) for v in staffed[g]]
    return None


def _kiosk(data: dict[str, Any], scenario: Scenario, iv: Intervention) -> NotApplicable | None:
    if not _kiosk_able(scenario):
        return NotApplicable("no transaction here can be done at a kiosk (none has a kiosk_time)")
    data["kiosks"]["count"] = int(data["kiosks"].get("count", 0)) + iv.n
    return None


def _greeter(data: dict[str, Any], scenario: Scenario, iv: Intervention) -> NotApplicable | None:
    if int(data["kiosks"].get("count", 0)) == 0:
        return NotApplicable("no kiosks: a greeter guides customers to kiosks")
    if data["kiosks"].get("greeter") is True:
        return NotApplicable("the hall already has a greeter all day")
    if iv.hours is None:
        data["kiosks"]["greeter"] = True
    else:  # a greeter for the peak hours only (greeter windows, DESIGN.md "Policies")
        a, b = peak_window(scenario, iv.hours)
        data["kiosks"]["greeter"] = [_window_text(scenario, a, b)]
    return None


def _pitch_rule(data: dict[str, Any], scenario: Scenario, iv: Intervention) -> NotApplicable | None:
    cs = data.get("cross_sell") or {}
    if float(cs.get("acceptance", 0)) <= 0 or float(cs.get("margin", 0)) <= 0:
        return NotApplicable("the hall does not cross-sell (acceptance or margin is 0)")
    policy = cs.get("policy") or {"mode": "never"}
    mode = policy.get("mode")
    if mode == "never":
        return NotApplicable("the hall never pitches already")
    if policy.get("threshold") is not None and int(policy["threshold"]) <= iv.rule_threshold:
        return NotApplicable(f"the hall already stops pitching at {policy.get('threshold')} waiting")
    if mode == "windows":  # keep the windows, add the queue rule (both hold at once)
        data["cross_sell"] = {**cs, "policy": {"mode": "windows", "suspend": list(policy.get("suspend", [])),
                                               "threshold": iv.rule_threshold}}
    else:
        data["cross_sell"] = {**cs, "policy": {"mode": "queue_threshold", "threshold": iv.rule_threshold}}
    return None


def _shorter(data: dict[str, Any], scenario: Scenario, iv: Intervention) -> NotApplicable | None:
    from .profiles import _scale_dist

    names = set(iv.transactions) if iv.transactions is not None else None
    unknown = (names or set()) - {t.name for t in scenario.transactions}
    if unknown:
        return NotApplicable(f"no transaction {', '.join(sorted(unknown))} in this hall")
    for t in data["transactions"]:
        if names is None or t["name"] in names:
            t["counter_time"] = _scale_dist(t["counter_time"], 1 - iv.cut)
    return None


def _reminder(data: dict[str, Any], scenario: Scenario, iv: Intervention) -> NotApplicable | None:
    if not _kiosk_able(scenario):
        return NotApplicable("no kiosk-able transaction: reminders move only those online")
    now = float(data["demand"].get("online_diversion", 0.0))
    if now >= 1:
        return NotApplicable("all kiosk-able demand is online already")
    data["demand"]["online_diversion"] = round(min(1.0, now + iv.moved_online), 6)
    return None


EDITS: dict[str, Edit] = {
    "counter": _counter,
    "kiosk": _kiosk,
    "greeter": _greeter,
    "pitch_rule": _pitch_rule,
    "shorter_transactions": _shorter,
    "online_reminder": _reminder,
}
"""One edit of the scenario's plain data per intervention kind (each says why when it cannot apply)."""


def _apply_one(data: dict[str, Any], scenario: Scenario, iv: Intervention) -> NotApplicable | None:
    """Edit the scenario's plain data in place for one intervention (or say why it cannot apply)."""
    return EDITS[iv.kind](data, scenario, iv)


def apply(scenario: Scenario, interventions: Sequence[Intervention]) -> Scenario | NotApplicable:
    """The scenario with every intervention applied (in order), or why one of them cannot be."""
    data = scenario.to_dict()
    data.setdefault("kiosks", {})
    for iv in interventions:
        why = _apply_one(data, scenario, iv)
        if why is not None:
            return NotApplicable(f"{iv.name}: {why.reason}")
    label = " + ".join(iv.name for iv in interventions)
    try:
        return scenario_from_dict(data, f"{scenario.name} + {label}")
    except ScenarioError as exc:  # e.g. a threshold the store's policy refuses: not applicable, said plainly
        return NotApplicable(f"{label}: " + "; ".join(f"{p}: {m}" for p, m in exc.problems))


def usage(scenario: Scenario, iv: Intervention) -> Usage:
    """Cost per day and budget resources of one intervention in this store.

    Hourly and daily rates not given in the intervention come from the store's own ``costs``
    (``staff_hour`` for a counter, ``greeter_hour`` for a greeter, ``kiosk_day`` for a kiosk).
    """
    fixed = iv.cost_per_day or 0.0
    costs = scenario.costs
    if iv.kind == "counter":
        a, b = peak_window(scenario, iv.hours if iv.hours is not None else 3.0)
        hours = iv.n * (b - a) * scenario.store.interval_min / 60
        rate = iv.cost_per_hour if iv.cost_per_hour is not None else costs.staff_hour
        return Usage(cost_per_day=hours * rate + fixed, staff_hours=hours)
    if iv.kind == "greeter":
        if iv.hours is None:
            hours = scenario.store.duration_min / 60
        else:
            a, b = peak_window(scenario, iv.hours)
            hours = (b - a) * scenario.store.interval_min / 60
        rate = iv.cost_per_hour if iv.cost_per_hour is not None else costs.greeter_hour
        return Usage(cost_per_day=hours * rate + fixed, staff_hours=hours, greeters=1)
    if iv.kind == "kiosk":
        per_kiosk = iv.cost_per_day if iv.cost_per_day is not None else costs.kiosk_day
        return Usage(cost_per_day=iv.n * per_kiosk, kiosks=iv.n)
    return Usage(cost_per_day=fixed)


def total_usage(scenario: Scenario, interventions: Sequence[Intervention]) -> Usage:
    out = Usage()
    for iv in interventions:
        out = out + usage(scenario, iv)
    return out


def describe(scenario: Scenario, iv: Intervention) -> str:
    """One line a planner reads: what the fix is in this hall."""
    if iv.kind == "counter":
        a, b = peak_window(scenario, iv.hours if iv.hours is not None else 3.0)
        return f"+{iv.n}{_window_group_text(scenario, a, b)} counter{'s' if iv.n > 1 else ''} {_window_text(scenario, a, b)}"
    if iv.kind == "kiosk":
        return f"+{iv.n} kiosk{'s' if iv.n > 1 else ''}"
    if iv.kind == "greeter":
        if iv.hours is None:
            return "a greeter at the door all day"
        a, b = peak_window(scenario, iv.hours)
        return f"a greeter at the door {_window_text(scenario, a, b)}"
    if iv.kind == "pitch_rule":
        return f"no pitching while {iv.rule_threshold}+ wait"
    if iv.kind == "shorter_transactions":
        return f"counter times −{iv.cut:.0%} (standard answers)"
    return f"+{iv.moved_online:.0%} of kiosk-able demand online (reminders)"
