"""Altair charts for the app: one builder per chart, tidy frames in, a chart out.

Conventions every chart keeps: a real time axis labelled in "HH:MM" clocks, units in the axis
titles, and one colour per scenario taken from :data:`storeq.app.common.PALETTE` in the order the
scenarios are given (baseline / first plan blue, edited / second plan orange).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import pandas as pd

from .common import PALETTE, clock_to_datetime

HEIGHT = 260
_TIME_AXIS = alt.Axis(format="%H:%M", title="Time of day (interval start)", labelAngle=0, tickCount=10)


def with_closing_row(df: pd.DataFrame, close: str | None, group: str) -> pd.DataFrame:
    """Repeat each series' last interval at closing time, so step lines cover the last interval too."""
    if close is None or df.empty:
        return df
    last = df.sort_values("start").groupby(group, sort=False).tail(1).copy()
    last["start"] = close
    return pd.concat([df, last], ignore_index=True)


def top_legend(n: int) -> alt.Legend:
    """A legend above the chart; more than two entries go in two columns so long plan names never run off a narrow chart."""
    return alt.Legend(title=None, orient="top", columns=2 if n > 2 else n or 1, labelLimit=260)


def scenario_colours(names: Sequence[str]) -> alt.Scale:
    """A fixed colour per scenario, in order, so every chart on a page agrees."""
    return alt.Scale(domain=list(names), range=list(PALETTE[: len(names)]))


def interval_band_chart(df: pd.DataFrame, names: Sequence[str], y_title: str, value_format: str = ".1f", close: str | None = None) -> alt.LayerChart:
    """Mean per interval as a line with its 95% CI as a shaded band, one colour per scenario.

    ``df`` columns: scenario, start ("HH:MM"), mean, ci_low, ci_high. ``close``: closing clock, so
    the last interval's step is drawn to it.
    """
    data = with_closing_row(df, close, "scenario")
    data["time"] = clock_to_datetime(data["start"]).to_numpy()
    colour = alt.Color("scenario:N", scale=scenario_colours(names), legend=top_legend(len(names)))
    base = alt.Chart(data).encode(x=alt.X("time:T", axis=_TIME_AXIS))
    tooltip = [
        alt.Tooltip("scenario:N", title="Plan"),
        alt.Tooltip("start:N", title="Interval start"),
        alt.Tooltip("mean:Q", title=y_title, format=value_format),
        alt.Tooltip("ci_low:Q", title="95% CI low", format=value_format),
        alt.Tooltip("ci_high:Q", title="95% CI high", format=value_format),
    ]
    # every mark carries the same readable tooltip (a mark without one would show raw field names)
    band = base.mark_area(opacity=0.18, interpolate="step-after").encode(y="ci_low:Q", y2="ci_high:Q", color=colour.legend(None), tooltip=tooltip)
    line = base.mark_line(interpolate="step-after", strokeWidth=2).encode(
        y=alt.Y("mean:Q", title=y_title, axis=alt.Axis(format="%") if value_format.endswith("%") else alt.Axis()), color=colour, tooltip=tooltip
    )
    points = base.mark_point(filled=True, size=28, opacity=0).encode(y="mean:Q", color=colour.legend(None), tooltip=tooltip)
    # the band carries no legend; resolving legends independently keeps the line's legend on show
    return (band + line + points).resolve_legend(color="independent").properties(height=HEIGHT)


def windows_layer(windows: Sequence[tuple[str, str]], label: str) -> alt.Chart:
    """Shaded time windows (e.g. "no pitching") to draw under a time-axis chart; the label is the legend."""
    df = pd.DataFrame({"from": [a for a, _ in windows], "to": [b for _, b in windows], "what": label})
    df["from"] = clock_to_datetime(df["from"]).to_numpy() if len(df) else df["from"]
    df["to"] = clock_to_datetime(df["to"]).to_numpy() if len(df) else df["to"]
    return alt.Chart(df).mark_rect(opacity=0.35).encode(
        x="from:T", x2="to:T",
        fill=alt.Fill("what:N", scale=alt.Scale(domain=[label], range=["#F5D76E"]), legend=alt.Legend(title=None, orient="top")),
        tooltip=[alt.Tooltip("what:N", title=""), alt.Tooltip("from:T", title="From", format="%H:%M"), alt.Tooltip("to:T", title="To", format="%H:%M")],
    )


def target_rule(value: float, label: str | None = None) -> alt.LayerChart:
    """A dashed horizontal line at a target, labelled, to layer on a chart with a share axis."""
    df = pd.DataFrame({"y": [value], "label": [label or f"target {value:.0%}"]})
    rule = alt.Chart(df).mark_rule(color="#C0392B", strokeDash=[4, 3]).encode(y="y:Q")
    text = alt.Chart(df).mark_text(align="left", dx=4, dy=-6, color="#C0392B").encode(y="y:Q", x=alt.value(4), text="label:N")
    return rule + text


def staffing_chart(df: pd.DataFrame, names: Sequence[str], close: str | None = None) -> alt.Chart:
    """Counters per interval as steps: staffed per scenario, and the requirement when there is one.

    ``df`` columns: series (legend label), start ("HH:MM"), counters, kind ("staffed"/"required").
    Staffed lines take the scenario colours; the requirement is a dashed black line.
    """
    data = with_closing_row(df, close, "series")
    data["time"] = clock_to_datetime(data["start"]).to_numpy()
    series = list(dict.fromkeys(data["series"]))
    colours = [PALETTE[names.index(s)] if s in names else "#222222" for s in series]
    # plans that share a level for a while stay visible where they overlap: each plan its own dash
    plan_dashes = ([1, 0], [10, 4], [3, 3], [14, 4, 3, 4])
    dashes = [plan_dashes[names.index(s) % 4] if s in names else [6, 4] for s in series]
    return (
        alt.Chart(data)
        .mark_line(interpolate="step-after", strokeWidth=2.5)
        .encode(
            x=alt.X("time:T", axis=_TIME_AXIS),
            y=alt.Y("counters:Q", title="Counters", scale=alt.Scale(domain=[0, float(data["counters"].max()) + 1]), axis=alt.Axis(tickMinStep=1)),
            color=alt.Color("series:N", scale=alt.Scale(domain=series, range=colours), legend=top_legend(len(series))),
            strokeDash=alt.StrokeDash("series:N", scale=alt.Scale(domain=series, range=dashes), legend=None),
            tooltip=[alt.Tooltip("series:N", title="Series"), alt.Tooltip("start:N", title="Interval start"), alt.Tooltip("counters:Q", title="Counters", format=".0f")],
        )
        .properties(height=HEIGHT)
    )


def wait_histogram(df: pd.DataFrame, names: Sequence[str], target_min: float) -> alt.LayerChart:
    """Share of counter customers by wait (one-minute bins up to the 99th percentile), per scenario,
    with the target wait as a rule.

    ``df`` columns: scenario, wait_min.
    """
    data = df.copy()
    cap = max(float(data["wait_min"].quantile(0.99)) if len(data) else 0.0, target_min + 1)
    data["wait_min"] = data["wait_min"].clip(upper=cap)
    step = 1.0 if cap <= 60 else 2.0
    data["bin"] = (data["wait_min"] // step) * step
    counts = data.groupby(["scenario", "bin"]).size().rename("n").reset_index()
    # every bin for every scenario (zeros included), plus a closing edge, so the step lines are whole
    grid = pd.MultiIndex.from_product([list(dict.fromkeys(data["scenario"])), [i * step for i in range(int(cap // step) + 2)]], names=["scenario", "bin"])
    counts = counts.set_index(["scenario", "bin"]).reindex(grid, fill_value=0).reset_index()
    counts["share"] = counts["n"] / counts.groupby("scenario")["n"].transform("sum")
    colour = alt.Color("scenario:N", scale=scenario_colours(names), legend=top_legend(len(names)))
    bars = (
        alt.Chart(counts)
        .mark_area(interpolate="step-after", opacity=0.25, line={"strokeWidth": 2})
        .encode(
            x=alt.X("bin:Q", title=f"Wait for a counter (minutes, {step:g}-minute steps; last step = {cap:.0f}+)", scale=alt.Scale(domain=[0, cap + step], nice=False)),
            y=alt.Y("share:Q", title="Share of counter customers", axis=alt.Axis(format="%"), stack=None),
            color=colour,
            tooltip=[alt.Tooltip("scenario:N", title="Plan"), alt.Tooltip("bin:Q", title="Wait from (min)"), alt.Tooltip("share:Q", title="Share", format=".1%")],
        )
    )
    rule = alt.Chart(pd.DataFrame({"target": [target_min], "label": [f"target {target_min:g} min"]})).mark_rule(
        color="#C0392B", strokeDash=[4, 3]
    ).encode(x="target:Q")
    text = alt.Chart(pd.DataFrame({"target": [target_min], "label": [f"target {target_min:g} min"]})).mark_text(
        align="left", dx=4, dy=-4, color="#C0392B", baseline="top"
    ).encode(x="target:Q", y=alt.value(2), text="label:N")
    return (bars + rule + text).properties(height=HEIGHT)


def outcomes_chart(df: pd.DataFrame, names: Sequence[str]) -> alt.Chart:
    """Where the day's customers went, per scenario: a horizontal stacked bar of customers per day.

    ``df`` columns: scenario, outcome, customers (per day, averaged over replications), order.
    """
    outcomes = list(dict.fromkeys(df.sort_values("order")["outcome"]))
    colours = ["#2E7D32", "#66BB6A", "#E67E22", "#C0392B", "#5DADE2"][: len(outcomes)]
    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            y=alt.Y("scenario:N", title=None, sort=list(names), axis=alt.Axis(labelLimit=220)),
            x=alt.X("customers:Q", title="Customers per day (average over replications)", stack="zero"),
            color=alt.Color("outcome:N", scale=alt.Scale(domain=outcomes, range=colours), legend=alt.Legend(title=None, orient="top", columns=2, labelLimit=260)),
            order=alt.Order("order:Q"),
            tooltip=[alt.Tooltip("scenario:N", title="Plan"), alt.Tooltip("outcome:N", title="Outcome"), alt.Tooltip("customers:Q", title="Customers per day", format=".1f")],
        )
        .properties(height=alt.Step(34))
    )


def diff_chart(df: pd.DataFrame, names: Sequence[str], y_title: str, close: str | None = None) -> alt.LayerChart:
    """Paired difference per interval (plan minus the first plan) with its 95% CI and a zero line.

    ``df`` columns: scenario, start, diff_mean, diff_ci_low, diff_ci_high.
    """
    data = with_closing_row(df, close, "scenario")
    data["time"] = clock_to_datetime(data["start"]).to_numpy()
    # the reference plan has no line here, but every other plan keeps its colour from the other charts
    shown = [n for n in names if n in set(data["scenario"])]
    scale = alt.Scale(domain=shown, range=[PALETTE[list(names).index(n)] for n in shown])
    colour = alt.Color("scenario:N", scale=scale, legend=top_legend(len(shown)))
    base = alt.Chart(data).encode(x=alt.X("time:T", axis=_TIME_AXIS))
    tip = [alt.Tooltip("scenario:N", title="Plan"), alt.Tooltip("start:N", title="Interval start"), alt.Tooltip("diff_mean:Q", title=y_title, format="+.1f"),
           alt.Tooltip("diff_ci_low:Q", title="95% CI low", format="+.1f"), alt.Tooltip("diff_ci_high:Q", title="95% CI high", format="+.1f")]
    band = base.mark_area(opacity=0.18, interpolate="step-after").encode(y="diff_ci_low:Q", y2="diff_ci_high:Q", color=colour.legend(None), tooltip=tip)
    line = base.mark_line(interpolate="step-after", strokeWidth=2).encode(y=alt.Y("diff_mean:Q", title=y_title), color=colour, tooltip=tip)
    zero = alt.Chart(pd.DataFrame({"y": [0]})).mark_rule(color="#555555").encode(y="y:Q")
    return (band + line + zero).resolve_legend(color="independent").properties(height=HEIGHT)


def gantt_chart(df: pd.DataFrame, day: tuple[Any, Any] | None = None) -> alt.LayerChart:
    """Shifts as bars on the day, breaks as grey gaps.

    ``df`` columns: staff (label), start, end (datetimes), kind ("shift"/"break"); ``day``: the
    opening and closing datetimes, so the axis spans the whole day.
    """
    shifts = df[df["kind"] == "shift"]
    breaks = df[df["kind"] == "break"]
    order = list(dict.fromkeys(shifts.sort_values(["start", "end"])["staff"]))
    y = alt.Y("staff:N", sort=order, title=None, axis=alt.Axis(labelLimit=200))
    x = alt.X("start:T", axis=alt.Axis(format="%H:%M", title="Time of day", labelAngle=0, tickCount=12),
              scale=alt.Scale(domain=list(day)) if day is not None else alt.Undefined)
    tip = [alt.Tooltip("staff:N", title="Shift"), alt.Tooltip("start:T", title="From", format="%H:%M"), alt.Tooltip("end:T", title="To", format="%H:%M"), alt.Tooltip("kind:N", title="")]
    bars = alt.Chart(shifts).mark_bar(color=PALETTE[0], cornerRadius=3, height=14).encode(x=x, x2="end:T", y=y, tooltip=tip)
    gaps = alt.Chart(breaks).mark_bar(color="#DDDDDD", height=14).encode(x=x, x2="end:T", y=y, tooltip=tip)
    return (bars + gaps).properties(height=max(120, 24 * len(order) + 40))
