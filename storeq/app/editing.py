"""The knobs a manager thinks in, and how they become a validated Scenario.

Pure functions (no Streamlit) so the translation is tested apart from the widgets: the page keeps
the knob values in Session State, :func:`build_updates` turns them into dotted-key updates, and
``simulation.with_updates`` re-validates. When validation fails the knobs stay as the user typed
them and each problem is shown next to the knob it belongs to (:func:`section_of`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from simulation import Scenario, ScenarioError, format_clock, parse_clock, with_updates

POLICY_MODES = ("always", "never", "windows", "queue_threshold")
POLICY_LABELS = {
    "always": "Always pitch",
    "never": "Never pitch",
    "windows": "Not in time windows",
    "queue_threshold": "Not when the queue is long",
}

# Knob sections on the What-if page; a problem's key path decides where its message is shown.
SECTIONS = ("hours", "demand", "staffing", "vip", "kiosks", "policy", "patience", "general")
_SECTION_BY_PREFIX = (
    ("store", "hours"),
    ("demand.online_diversion", "kiosks"),
    ("demand", "demand"),
    ("counters.staffed", "staffing"),
    ("counters.vip", "vip"),
    ("counters", "staffing"),
    ("kiosks", "kiosks"),
    ("cross_sell", "policy"),
    ("segments", "patience"),
)


def clock_options(step_min: int = 15) -> list[str]:
    """Every clock of the day on a ``step_min`` grid, for the opening-hours pickers."""
    return [format_clock(m) for m in range(0, 24 * 60 + 1, step_min)]


def knobs_from_scenario(s: Scenario) -> dict[str, Any]:
    """The knob values that reproduce a scenario exactly (the starting point of every edit)."""
    policy = s.cross_sell.policy
    groups = group_rows(s)
    return {
        "open": s.store.open,
        "close": s.store.close,
        "scale": float(s.demand.scale),
        "staff_row": [int(v) for v in (groups[next(iter(groups))] if groups else s.staffed_schedule())],
        # counter groups (skills): one row per group; the row above is the first group's
        "group_rows": groups,
        "demand_row": raw_demand(s),
        "staff_clocks": list(s.interval_labels),
        "vip": int(s.counters.vip),
        "kiosks": int(s.kiosks.count),
        "greeter": bool(s.kiosks.greeter),
        # the greeter's hours: empty = all day, else windows "HH:MM-HH:MM, ..."
        "greeter_windows": ", ".join(s.kiosks.greeter) if isinstance(s.kiosks.greeter, tuple) else "",
        "diversion": float(s.demand.online_diversion),
        "policy": policy.mode,
        "suspend": ", ".join(policy.suspend) if policy.suspend else _default_window(s),
        "threshold": int(policy.threshold) if policy.threshold is not None else 8,
        # both rules at once (engine permitting): windows with a queue rule, or a queue rule with windows
        "both": bool(policy.suspend) and policy.threshold is not None,
        "patience": 1.0,
        "date": s.store.date,
    }


def group_rows(s: Scenario) -> dict[str, list[int]] | None:
    """Staffed counters per interval of each counter group, or None for a store without groups."""
    if not s.counters.groups:
        return None
    return {g.name: [int(v) for v in g.staffed_schedule(s.n_intervals)] for g in s.counters.groups}


def raw_demand(s: Scenario) -> list[float]:
    """Walk-ins per hour per interval as written in the file (before scale and day factors)."""
    raw = s.demand.arrivals_per_hour
    return [float(v) for v in raw] if isinstance(raw, tuple) else [float(raw)] * s.n_intervals


def _default_window(s: Scenario) -> str:
    """A sensible first window to offer: the last three hours of the day (the afternoon peak)."""
    start = max(s.store.open_min, s.store.close_min - 180)
    return f"{format_clock(start)}-{s.store.close}"


def interval_clocks(open_: str, close: str, interval_min: int) -> list[str]:
    """Interval start clocks for opening hours (empty if the hours are not a whole number of intervals)."""
    try:
        o, c = parse_clock(open_), parse_clock(close)
    except ValueError:
        return []
    if c <= o or (c - o) % interval_min:
        return []
    return [format_clock(m) for m in range(o, c, interval_min)]


def remap_by_clock(values: Sequence[float], clocks: Sequence[str], new_clocks: Sequence[str]) -> list[float]:
    """Carry per-interval values to new opening hours: each new interval takes the value of the old
    interval covering its start; intervals before the old opening or after the old closing take the
    first or last old value (the nearest hour the user has told us about)."""
    if not values or not clocks:
        return []
    starts = [parse_clock(c) for c in clocks]
    out = []
    for c in new_clocks:
        m = parse_clock(c)
        idx = max((i for i, s in enumerate(starts) if s <= m), default=0)
        out.append(values[idx])
    return out


def apply_row_edits(row: Sequence[float], clocks: Sequence[str], edited_rows: Mapping[Any, Mapping[str, Any]], whole: bool = True) -> list[Any]:
    """A row after a data-editor edit (``{row: {column clock: value}}``).

    Cleared cells keep their value; values are never below zero, and with ``whole`` (counters)
    rounded to whole numbers.
    """
    out: list[Any] = [int(v) if whole else float(v) for v in row]
    for changes in edited_rows.values():
        for clock, value in changes.items():
            if clock not in clocks or value is None:
                continue
            try:
                number = float(value)
            except (TypeError, ValueError):
                continue
            if number == number:  # NaN: a cleared cell
                out[list(clocks).index(clock)] = max(0, round(number)) if whole else max(0.0, number)
    return out


def _scaled_dist(spec: Mapping[str, Any], factor: float) -> dict[str, Any]:
    """A distribution spec with every time scaled by ``factor`` (the cv, a ratio, stays)."""
    out = dict(spec)
    for key in ("mean", "value", "low", "mode", "high"):
        if key in out and isinstance(out[key], int | float):
            out[key] = float(out[key]) * factor
    if isinstance(out.get("values"), list):
        out["values"] = [float(v) * factor for v in out["values"]]
    return out


def build_updates(base: Scenario, knobs: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted-key updates for ``with_updates`` that turn ``base`` into the plan the knobs describe.

    Only what differs from the base is written, so an untouched knob never changes the file.
    """
    k = dict(knobs_from_scenario(base))
    k.update({key: v for key, v in knobs.items() if v is not None})
    up: dict[str, Any] = {}
    new_clocks = interval_clocks(k["open"], k["close"], base.store.interval_min)
    if (k["open"], k["close"]) != (base.store.open, base.store.close):
        up["store.open"], up["store.close"] = k["open"], k["close"]
    # The demand row follows the hours by clock (the page remaps it when the hours change; a row
    # still on other clocks is remapped here). It is written only when it differs from the file.
    row_clocks = list(k.get("staff_clocks") or base.interval_labels)
    demand = [float(v) for v in k["demand_row"]]
    if new_clocks and row_clocks != new_clocks and len(demand) == len(row_clocks):
        demand = remap_by_clock(demand, row_clocks, new_clocks)
    if new_clocks and len(demand) == len(new_clocks) and (new_clocks != base.interval_labels or demand != raw_demand(base)):
        same_all_day = len(set(demand)) == 1 and not isinstance(base.demand.arrivals_per_hour, tuple)
        up["demand.arrivals_per_hour"] = demand[0] if same_all_day else demand
    if k.get("date") != base.store.date:
        up["store.date"] = k["date"].isoformat() if k.get("date") is not None else None
    if float(k["scale"]) != float(base.demand.scale):
        up["demand.scale"] = float(k["scale"])
    up.update(_staffing_updates(base, k))
    if int(k["vip"]) != base.counters.vip:
        up["counters.vip"] = int(k["vip"])
    if int(k["kiosks"]) != base.kiosks.count:
        up["kiosks.count"] = int(k["kiosks"])
    greeter = _greeter(k)
    if greeter != _greeter(knobs_from_scenario(base)):
        up["kiosks.greeter"] = greeter
    if float(k["diversion"]) != float(base.demand.online_diversion):
        up["demand.online_diversion"] = float(k["diversion"])
    policy = _policy(k)
    if policy != _policy(knobs_from_scenario(base)):
        up["cross_sell.policy"] = policy
    factor = float(k["patience"])
    if factor != 1.0:
        for i, seg in enumerate(base.segments):
            if seg.patience is not None:
                up[f"segments.{i}.patience"] = _scaled_dist(seg.patience.spec(), factor)
    return up


def _staffing_updates(base: Scenario, k: Mapping[str, Any]) -> dict[str, Any]:
    """The staffing rows' updates: ``counters.staffed``, or one per counter group whose row changed."""
    up: dict[str, Any] = {}
    if base.counters.groups:
        # one row per group: only a group whose row changed is written
        rows = dict(k.get("group_rows") or {})
        for i, g in enumerate(base.counters.groups):
            row = [int(v) for v in rows.get(g.name, g.staffed_schedule(base.n_intervals))]
            if row != [int(v) for v in g.staffed_schedule(base.n_intervals)]:
                up[f"counters.groups.{i}.staffed"] = row[0] if row and len(set(row)) == 1 else row
    else:
        staff = [int(v) for v in k["staff_row"]]
        if staff != [int(v) for v in base.staffed_schedule()]:
            up["counters.staffed"] = staff[0] if staff and len(set(staff)) == 1 else staff
    return up


def _greeter(k: Mapping[str, Any]) -> bool | list[str]:
    """``kiosks.greeter``: off, all day, or the windows typed (a greeter for the afternoon only)."""
    if not k.get("greeter"):
        return False
    windows = _windows(k.get("greeter_windows") or "")
    return windows or True


def _windows(text: Any) -> list[str]:
    return [w.strip() for w in str(text).replace(";", ",").split(",") if w.strip()]


def _policy(k: Mapping[str, Any]) -> dict[str, Any]:
    """The ``cross_sell.policy`` the knobs describe; ``both`` adds the other rule (windows + queue)."""
    mode = k["policy"]
    both = bool(k.get("both"))
    if mode == "windows":
        out: dict[str, Any] = {"mode": mode, "suspend": _windows(k["suspend"])}
        if both:
            out["threshold"] = int(k["threshold"])
        return out
    if mode == "queue_threshold":
        out = {"mode": mode, "threshold": int(k["threshold"])}
        if both and _windows(k["suspend"]):
            out["suspend"] = _windows(k["suspend"])
        return out
    return {"mode": mode}


def describe_policy(policy: Any) -> str:
    """The whole pitch rule in force, in words: "no pitches 15:00-18:00, and none while 8 or more wait"."""
    if policy.mode == "always":
        return "pitch to every customer who may be pitched"
    if policy.mode == "never":
        return "never pitch"
    parts = []
    if policy.suspend and policy.mode in ("windows", "queue_threshold"):
        parts.append(f"no pitches {', '.join(policy.suspend)}")
    if policy.threshold is not None and (policy.mode == "queue_threshold" or parts):
        parts.append(f"{'none' if parts else 'no pitches'} while {policy.threshold} or more are waiting")
    return ", and ".join(parts) if parts else "pitch"


def apply_knobs(base: Scenario, knobs: Mapping[str, Any]) -> Scenario:
    """The edited scenario, re-validated; raises ScenarioError (with every problem) if it is not valid."""
    updates = build_updates(base, knobs)
    if not updates:
        return base
    return with_updates(base, updates, source="your edits")


def section_of(path: str) -> str:
    """Which knob section a problem's key path belongs to."""
    for prefix, section in _SECTION_BY_PREFIX:
        if path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "["):
            return section
    return "general"


def problems_by_section(err: ScenarioError) -> dict[str, list[tuple[str, str]]]:
    """ScenarioError problems grouped by the knob section they belong to."""
    out: dict[str, list[tuple[str, str]]] = {}
    for path, msg in err.problems:
        out.setdefault(section_of(path), []).append((path, msg))
    return out


def describe_edits(base: Scenario, edited: Scenario) -> list[str]:
    """The edits in words, for captions and the Compare page's plan names."""
    out = []
    if (edited.store.open, edited.store.close) != (base.store.open, base.store.close):
        out.append(f"hours {edited.store.open}-{edited.store.close}")
    if edited.store.date != base.store.date:
        out.append(f"day {edited.store.date:%a %d %b %Y}" if edited.store.date else "no calendar day")
    if edited.demand.arrivals_per_hour != base.demand.arrivals_per_hour and edited.interval_labels == base.interval_labels:
        out.append("demand forecast edited")
    if edited.demand.scale != base.demand.scale:
        out.append(f"demand ×{edited.demand.scale:g}")
    a, b = base.staffed_schedule(), edited.staffed_schedule()
    if len(a) != len(b) or (a != b).any():
        diff = (b.sum() - a.sum()) * base.store.interval_min / 60 if len(a) == len(b) else None
        out.append(f"staffing {diff:+g} staff hours" if diff is not None else "staffing changed")
    if edited.counters.vip != base.counters.vip:
        out.append(f"{edited.counters.vip} VIP counters")
    if edited.kiosks.count != base.kiosks.count:
        out.append(f"{edited.kiosks.count} kiosks")
    if edited.kiosks.greeter != base.kiosks.greeter:
        g = edited.kiosks.greeter
        out.append(f"greeter at the door {', '.join(g)}" if isinstance(g, tuple) else "greeter at the door all day" if g else "no greeter")
    if edited.demand.online_diversion != base.demand.online_diversion:
        out.append(f"{edited.demand.online_diversion:.0%} of kiosk-able demand online")
    if edited.cross_sell.policy != base.cross_sell.policy:
        out.append(f"pitching: {describe_policy(edited.cross_sell.policy)}")
    if edited.segments != base.segments:
        out.append("patience changed")
    return out


def schedule_text(row: Sequence[int], clocks: Sequence[str], close: str) -> str:
    """The staffing row as it is, in words: "9 all day" or "9 09:00-15:00, 11 15:00-18:00"."""
    if not row:
        return "no intervals"
    if len(set(row)) == 1:
        return f"{row[0]} all day"
    parts = []
    start = 0
    for i in range(1, len(row) + 1):
        if i == len(row) or row[i] != row[start]:
            end = clocks[i] if i < len(clocks) else close
            parts.append(f"{row[start]} {clocks[start]}-{end}")
            start = i
    return ", ".join(parts)


def add_counters(row: Sequence[int], clocks: Sequence[str], start: str, end: str, n: int) -> tuple[list[int], str]:
    """``n`` more counters (fewer when negative) in [start, end), never below zero, and what it did in words."""
    hit = [start <= c < end for c in clocks]
    out = [max(0, int(v) + n) if h else int(v) for v, h in zip(row, hit, strict=True)]
    if not any(hit):
        return out, f"{n:+d} counters {start}-{end}: no interval starts in that window, nothing changed"
    changed = [c for c, a, b in zip(clocks, row, out, strict=True) if a != b]
    what = f"{'+' if n >= 0 else '−'}{abs(n)} counter{'s' if abs(n) != 1 else ''} {start}-{end}"
    if not changed:
        return out, f"{what}: nothing changed (already at zero)"
    return out, f"{what} ({len(changed)} interval{'s' if len(changed) != 1 else ''})"


def group_choices(groups: list[str], present: Any) -> list[str]:
    """The Group column's choices: each group alone, each group with one more it can also work
    ("tellers, advisers": own group first), and any longer list already in the table (from a file)."""
    pairs = [f"{g}, {h}" for g in groups for h in groups if g != h]
    kept = [str(v).strip() for v in present if isinstance(v, str) and "," in v]
    return list(dict.fromkeys([*groups, *pairs, *kept]))


def group_problems(table: pd.DataFrame, groups: list[str]) -> list[tuple[str, str]]:
    """Everyone on a store with counter groups must work one of them: name each person who does not.

    A cell may list several groups a person can work ("tellers, advisers"; their own first). The
    optimizer would refuse the whole week ("people without a group"); said here, next to the table and
    before planning, the manager sees who, which name is wrong and which groups are allowed.
    """
    allowed = ", ".join(groups)
    out = []
    for idx, row in enumerate(table.to_dict("records")):
        name = "" if pd.isna(row.get("name")) else str(row.get("name", "")).strip()
        raw = row.get("group")
        cell = "" if raw is None or (isinstance(raw, float) and pd.isna(raw)) else str(raw).strip()
        named = [part.strip() for part in cell.split(",") if part.strip()]
        unknown = [g for g in named if g not in groups]
        if named and not unknown:
            continue
        where = f"staff[{idx}]({name}).group" if name else f"staff[{idx}].group"
        who = name or f"row {idx + 1}"
        if unknown:
            wrong = ", ".join(repr(g) for g in unknown)
            out.append((where, f"{who}: {wrong} {'is' if len(unknown) == 1 else 'are'} not a counter group of this store; choose among {allowed}"))
        else:
            out.append((where, f"{who} has no counter group; choose one of {allowed} (or several, separated by commas)"))
    return out
