"""The Compare page's verdict: one sentence a manager can act on, from paired interval differences.

"Plan B cuts the 16:00-18:00 wait from 14 to 6 minutes for 2 more staff hours."

The window is the run of consecutive intervals whose paired difference is significant (95% CI
excludes zero) in the same direction, with the largest total change; it is only a claim when the
CI says the change is real, otherwise the sentence says the plans cannot be told apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from simulation import format_clock, parse_clock


@dataclass(frozen=True)
class Window:
    """Consecutive intervals (positions in the day) with a significant change of one sign."""

    first: int
    last: int
    total: float


def best_window(diff: pd.DataFrame) -> Window | None:
    """The run of consecutive same-sign significant differences with the largest total |change|.

    ``diff`` columns: interval, diff_mean, diff_ci_low, diff_ci_high (one row per interval).
    """
    d = diff.sort_values("interval")
    means = d["diff_mean"].to_numpy(dtype=float)
    lows = d["diff_ci_low"].to_numpy(dtype=float)
    highs = d["diff_ci_high"].to_numpy(dtype=float)
    best: Window | None = None
    start: int | None = None
    sign, total = 0, 0.0
    for i, (m, lo, hi) in enumerate(zip(means, lows, highs, strict=True)):
        s = 1 if lo > 0 else (-1 if hi < 0 else 0)
        if s != 0 and s == sign and start is not None:
            total += abs(float(m))
        elif s != 0:
            start, sign, total = i, s, abs(float(m))
        else:
            start, sign, total = None, 0, 0.0
        if start is not None and (best is None or total > best.total):
            best = Window(start, i, total)
    return best


def _minutes(x: float) -> str:
    # one decimal, as on the KPI cards, so the sentence and the cards never disagree by rounding
    return f"{x:.1f}"


def _hours(h: float) -> str:
    return f"{h:.0f}" if abs(h - round(h)) < 0.05 else f"{h:.1f}"


def verdict_direction(diff: pd.DataFrame) -> str:
    """"better" when the verdict's window cuts the wait, "worse" when it raises it, "same" otherwise."""
    window = best_window(diff)
    if window is None:
        return "same"
    rows = diff.sort_values("interval").reset_index(drop=True).iloc[window.first : window.last + 1]
    return "better" if rows["diff_mean"].sum() < 0 else "worse"


def staff_phrase(delta_hours: float) -> str:
    """'for 2 more staff hours' / 'and saves 1.5 staff hours' / 'with the same staff hours'."""
    if abs(delta_hours) < 0.05:
        return "with the same staff hours"
    if delta_hours > 0:
        return f"for {_hours(delta_hours)} more staff hour{'s' if abs(delta_hours - 1) > 0.05 else ''}"
    return f"and saves {_hours(-delta_hours)} staff hour{'s' if abs(delta_hours + 1) > 0.05 else ''}"


def verdict(
    plan: str,
    diff: pd.DataFrame,
    waits_first: pd.Series,
    waits_plan: pd.Series,
    interval_min: int,
    staff_hours_delta: float,
    day_diff: tuple[float, float, float],
    first: str = "Plan A",
    weights: pd.Series | None = None,
    day_means: tuple[float, float] | None = None,
) -> str:
    """One sentence on the wait change of ``plan`` against the first plan, with the staff-hour cost.

    ``diff``: the plan's paired interval differences of mean wait (interval, start, diff_mean,
    diff_ci_low, diff_ci_high). ``waits_first`` / ``waits_plan``: mean wait per interval, indexed
    by interval. ``day_diff``: (mean, ci_low, ci_high) of the day's mean-wait difference.
    ``day_means``: the two plans' day mean waits (the KPI cards' figures); when the window is the
    whole day the sentence quotes these, so it and the cards come from one source.
    ``weights``: customers per interval (indexed by interval), so the window's wait is a per-customer
    average like the day's, not an average of intervals.
    """
    staff = staff_phrase(staff_hours_delta)
    window = best_window(diff)
    d, lo, hi = day_diff
    day = ""
    if not math.isnan(d):
        day = f" Over the day the mean wait changes by {d:+.1f} min (95% CI {lo:+.1f} to {hi:+.1f})."
    if window is None:
        return f"{plan} makes no difference to waits that can be told apart from chance in any interval, {staff.removeprefix('and ')}.{day}"
    rows = diff.sort_values("interval").reset_index(drop=True).iloc[window.first : window.last + 1]
    intervals = rows["interval"].tolist()
    start = str(rows["start"].iloc[0])
    end = format_clock(parse_clock(str(rows["start"].iloc[-1])) + interval_min)
    w = weights.reindex(intervals).fillna(0.0) if weights is not None else pd.Series(1.0, index=intervals)
    if float(w.sum()) <= 0:
        w = pd.Series(1.0, index=intervals)
    before = float((waits_first.reindex(intervals) * w).sum() / w.sum())
    after = float((waits_plan.reindex(intervals) * w).sum() / w.sum())
    if len(rows) == len(diff) and day_means is not None:
        before, after = day_means
    verb = "cuts" if rows["diff_mean"].sum() < 0 else "raises"
    span = f"the wait all day ({start}-{end})" if len(rows) == len(diff) else f"the {start}-{end} wait"
    return f"{plan} {verb} {span} from {_minutes(before)} to {_minutes(after)} minutes {staff}, against {first}.{day}"
