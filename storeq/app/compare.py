"""Compare page: two to four plans on the same simulated customers, paired differences and a verdict."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from simulation import Scenario, ScenarioError, parse_clock, scenario_to_yaml, with_updates
from storeq.app import charts, state
from storeq.app.common import (
    KPIS,
    bundled_scenarios,
    busiest_clock,
    compare_cached,
    currency_of,
    direction,
    fmt_change,
    fmt_delta,
    fmt_delta_ci,
    fmt_value,
    fmt_with_ci,
    kpi_row,
    literal,
    money_specs,
    read_bundled,
    scenario_from_key,
    show_problems,
    show_verdict,
    significant,
    staff_hours_of,
    time_answer,
)
from storeq.app.editing import POLICY_LABELS, POLICY_MODES, clock_options
from storeq.app.verdict import staff_phrase, verdict, verdict_direction

ss = st.session_state
LETTERS = "ABCD"

st.title("Compare plans")
st.caption(
    "Two to four plans run on the same simulated customers (same seed: common random numbers), so the differences "
    "below are the plans' effect, each with a 95% confidence interval. Plan A is the reference."
)


def _short_label(label: str, width: int = 26) -> str:
    """A plan's name for a chart legend: without its source prefix, cut to ``width`` characters."""
    for prefix in ("Saved: ", "File: ", "Upload: "):
        label = label.removeprefix(prefix)
    return label if len(label) <= width else label[: width - 1] + "…"


def _file_of(label: str) -> str:
    """Which store file a plan label comes from (its text, comments included, is what the Scenario page writes into)."""
    if label.startswith("File: "):
        return label.removeprefix("File: ")
    if label.startswith("Upload: "):
        return label.removeprefix("Upload: ")
    if label.startswith("Saved: "):
        return str(ss.get("saved_plan_base", {}).get(label.removeprefix("Saved: "), ""))
    return str(ss["base_name"])  # the store as loaded, or the What-if edit of it


def _same_plan_key(scenario: Scenario) -> str:
    """What makes two plans the same day (a staffing row of one number equals that number all day)."""
    data = scenario.to_dict()
    data.pop("name", None)
    data.setdefault("counters", {})["staffed"] = [int(v) for v in scenario.staffed_schedule()]
    return json.dumps(data, sort_keys=True, default=str)


def available_plans() -> dict[str, str]:
    """Every plan the user can compare: label → canonical YAML."""
    plans = {f"Store as loaded ({ss['base_name']})": ss["base_yaml"]}
    edited, _ = state.edited_scenario()
    if edited is not None:
        text = scenario_to_yaml(edited)
        if text != ss["base_yaml"]:
            plans["Edited plan (What-if page)"] = text
    for name in bundled_scenarios():
        if name != ss["base_name"]:
            try:
                plans[f"File: {name}"] = scenario_to_yaml(scenario_from_key(read_bundled(name)))
            except ScenarioError:
                continue
    for label, text in ss["uploads"].items():
        if label != ss["base_name"]:
            plans[f"Upload: {label}"] = text
    for name, text in ss["saved_plans"].items():
        plans[f"Saved: {name}"] = text
    return plans


def _make_variant() -> None:
    plans = available_plans()
    src = plans.get(ss["k_var_from"])
    if src is None:
        return
    base = scenario_from_key(src)
    a, b, n = ss["k_var_start"], ss["k_var_end"], int(ss["k_var_n"])
    updates: dict[str, object] = {}
    groups = base.counters.groups
    if groups:
        # a store with counter groups: the counters go to its biggest group (the general desks)
        k = max(range(len(groups)), key=lambda i: int(groups[i].staffed_schedule(base.n_intervals).sum()))
        current = groups[k].staffed_schedule(base.n_intervals)
        key = f"counters.groups.{k}.staffed"
    else:
        current, key = base.staffed_schedule(), "counters.staffed"
    row = [int(v) + (n if a <= c < b else 0) for v, c in zip(current, base.interval_labels, strict=True)]
    updates[key] = row[0] if len(set(row)) == 1 else row
    if ss["k_var_policy"] != "(unchanged)":
        mode = ss["k_var_policy"]
        policy: dict[str, object] = {"mode": mode}
        if mode == "windows":
            policy["suspend"] = [f"{a}-{b}"]
        if mode == "queue_threshold":
            policy["threshold"] = 8
        updates["cross_sell.policy"] = policy
    name = (ss.get("k_var_name") or "").strip() or f"{n:+d} counter{'s' if abs(n) != 1 else ''} {a}-{b}"
    try:
        variant = with_updates(base, updates, source=f"variant “{name}”")
    except ScenarioError as err:
        ss["var_problems"] = err.problems
        return
    ss["var_problems"] = []
    ss["saved_plans"][name] = scenario_to_yaml(variant)
    ss.setdefault("saved_plan_base", {})[name] = _file_of(ss["k_var_from"])  # for a download that keeps the file's comments
    picked = list(ss.get("k_cmp_pick", []))
    if len(picked) < 4:
        ss["k_cmp_pick"] = [*picked, f"Saved: {name}"]
        ss["var_note"] = f"Made “{literal(name)}” and added it to the plans compared."
    else:
        ss["var_note"] = (f"Made “{literal(name)}” (kept as “Saved: {literal(name)}”), but it is not in the comparison: at most 4 plans "
                          "are compared at once. Remove one from the list above, then pick it.")


plans = available_plans()
labels = list(plans)
if "k_cmp_pick" not in ss or any(p not in plans for p in ss["k_cmp_pick"]):
    # Default: the store as loaded against the What-if edit (when there is one), never two unrelated stores.
    ss["k_cmp_pick"] = [p for p in ss.get("k_cmp_pick", []) if p in plans] or [labels[0], *[x for x in labels if x.startswith("Edited plan")]]
st.multiselect("Plans to compare (the first is plan A, the reference)", labels, key="k_cmp_pick", max_selections=4)

with st.expander("Make a variant: add counters in a window, change pitching", expanded=len(labels) < 2):
    v1, v2, v3, v4 = st.columns([2, 1, 1, 1])
    if ss.get("k_var_from") not in labels:
        ss["k_var_from"] = labels[0]
    v1.selectbox("Start from", labels, key="k_var_from")
    base_for_variant = scenario_from_key(plans[ss["k_var_from"]]) if ss.get("k_var_from") in plans else state.base_scenario()
    clocks = [*base_for_variant.interval_labels, base_for_variant.store.close]
    ss.setdefault("k_var_n", 1)
    if ss.get("k_var_start") not in clocks:
        ss["k_var_start"] = clocks[max(0, len(clocks) - 7)]
    if ss.get("k_var_end") not in clocks:
        ss["k_var_end"] = clocks[-1]
    v2.number_input("Add counters", min_value=-20, max_value=20, step=1, key="k_var_n")
    v3.selectbox("from", clocks, key="k_var_start")
    v4.selectbox("to", clocks, key="k_var_end")
    w1, w2, w3 = st.columns([2, 2, 1])
    w1.selectbox("Pitching", ["(unchanged)", *POLICY_MODES], key="k_var_policy",
                 format_func=lambda m: POLICY_LABELS.get(m, "Unchanged") if m != "windows" else "No pitches in the same window")
    w2.text_input("Name", key="k_var_name", placeholder="e.g. Plan B: +1 counter 15:00-18:00")
    w3.button("Add plan", on_click=_make_variant, type="secondary", icon=":material/add:")
    show_problems(ss.get("var_problems", []), "The variant was not made:")
    if ss.get("var_note"):
        (st.warning if "not in the comparison" in ss["var_note"] else st.caption)(ss["var_note"])
    if len(ss.get("k_cmp_pick", [])) >= 4:
        st.caption("Four plans are picked, the most compared at once: a new variant is saved but not added until you remove one.")

picked = [p for p in ss["k_cmp_pick"] if p in plans]
reps, seed = state.run_settings()
clicked = st.button("Compare", type="primary", disabled=len(picked) < 2, icon=":material/compare_arrows:", key="cmp_btn")
if len(picked) < 2:
    st.info("Pick at least two plans. Make one on the What-if page (save it) or with *Make a variant* above.")
if clicked and len(picked) >= 2:
    ss["cmp_run"] = {"labels": picked, "yamls": tuple(plans[p] for p in picked), "seed": seed, "reps": reps}
if "cmp_run" not in ss:
    st.stop()

run = ss["cmp_run"]
if (run["labels"], run["seed"], run["reps"]) != (picked, seed, reps) or any(plans.get(p) != y for p, y in zip(run["labels"], run["yamls"], strict=True)):
    st.info("The plans or settings changed since this comparison: press **Compare** to update.", icon=":material/update:")
names = [f"{LETTERS[i]}: {label}" for i, label in enumerate(run["labels"])]
short = [f"Plan {LETTERS[i]}" for i in range(len(names))]
with st.spinner("Simulating the plans…", show_time=True):
    cmp = compare_cached(run["yamls"], run["seed"], run["reps"], tuple(short))
results = cmp.results
scenarios = [r.scenario for r in results]
diffs = cmp.differences.set_index(["scenario", "kpi"])
idiffs = cmp.interval_differences
currency = currency_of(scenarios[0])

# Different stores (not plans of one store): say "store", and say what the difference means.
other_store = [s.name != scenarios[0].name for s in scenarios]
word = ["Store" if other_store[i] or (any(other_store) and i == 0) else "Plan" for i in range(len(scenarios))]
short_words = [f"{word[i]} {LETTERS[i]}" for i in range(len(scenarios))]
# Chart legends: the letter and the plan's own name, short enough for a legend.
legend = [f"{LETTERS[i]}: {_short_label(label)}" for i, label in enumerate(run["labels"])]
# A plan identical to an earlier one would draw exactly over it: it is drawn once and said so.
keys = [_same_plan_key(s) for s in scenarios]
first_of = {k: i for i, k in reversed(list(enumerate(keys)))}
duplicate = {i: first_of[k] for i, k in enumerate(keys) if first_of[k] != i}

st.divider()
st.caption(f"{run['reps']} simulated days per plan, seed {run['seed']}. " + " · ".join(literal(n) for n in names))
if any(other_store):
    stores = ", ".join(dict.fromkeys(f"“{literal(s.name)}”" for s in scenarios))
    st.info(f"These are different stores ({stores}), not plans of one store: the differences below compare the stores "
            "with their own demand and staffing, not the effect of a change.", icon=":material/storefront:")
for i, j in duplicate.items():
    st.caption(f"{short_words[i]} is the same scenario as {short_words[j]}: same results, drawn once in the charts.")

# --- verdicts ---
w0 = results[0].intervals.query("kpi == 'mean_wait_min'").set_index("interval")["mean"]
served0 = results[0].intervals.query("kpi == 'served'").set_index("interval")["mean"]
for i in range(1, len(results)):
    if i in duplicate:
        continue
    mine = idiffs[(idiffs["scenario"] == short[i]) & (idiffs["kpi"] == "mean_wait_min")] if len(idiffs) else idiffs
    wi = results[i].intervals.query("kpi == 'mean_wait_min'").set_index("interval")["mean"]
    day = tuple(float(v) for v in diffs.loc[(short[i], "mean_wait_min")])
    hours = staff_hours_of(scenarios[i]) - staff_hours_of(scenarios[0])
    w_a, w_b = kpi_row(results[0].kpis, "mean_wait_min")[0], kpi_row(results[i].kpis, "mean_wait_min")[0]
    if not len(idiffs):
        # different opening hours or grids: no interval pairs, so the sentence is about the day only
        d, lo, hi = day
        change = "cuts" if significant(lo, hi) and d < 0 else "raises" if significant(lo, hi) else "does not change (within chance)"
        text = (f"{short_words[i]} {change} the day's mean wait ({fmt_value(w_a, 'min')} → {fmt_value(w_b, 'min')}, change "
                f"{fmt_delta(d, 'min')}, 95% CI {fmt_delta_ci(lo, hi, 'min')}) {staff_phrase(hours)}, against {short_words[0]}. "
                "They have different opening hours or intervals, so only day totals are compared.")
        show_verdict(text, direction("lower", lo, hi), bold=i == 1)
        continue
    text = verdict(short_words[i], mine, w0, wi, scenarios[0].store.interval_min, hours, day,  # type: ignore[arg-type]
                   first=short_words[0], weights=served0, day_means=(w_a, w_b))
    how = verdict_direction(mine)
    if how == "same":  # no interval stands out, but the day as a whole may
        how = direction("lower", day[1], day[2])
    show_verdict(text, how, bold=i == 1)

# --- the tables: values, then changes (two narrow tables: no sideways scrolling with four plans) ---
specs = [*KPIS, *[m for m in money_specs(results[0].kpis) if m.name not in {k.name for k in KPIS}]]
values, changes = [], []
for sp in specs:
    vrow: dict[str, str] = {"KPI": sp.label}
    crow: dict[str, str] = {"KPI": sp.label}
    for i, res in enumerate(results):
        m, lo, hi = kpi_row(res.kpis, sp.name)
        vrow[short_words[i]] = fmt_with_ci(m, lo, hi, sp.unit, res.scenario.store.open_min, currency_of(res.scenario))
        if i > 0 and (short[i], sp.name) in diffs.index:
            dm, dl, dh = (float(v) for v in diffs.loc[(short[i], sp.name)])
            if dm == dl == dh == 0:
                crow[f"{LETTERS[i]} − A"] = "no change"
            else:
                mark = {"better": " ✓ better", "worse": " ✗ worse"}.get(direction(sp.better, dl, dh), "" if significant(dl, dh) else " (could be chance)")
                crow[f"{LETTERS[i]} − A"] = fmt_change(dm, dl, dh, sp.unit, currency) + mark
    values.append(vrow)
    changes.append(crow)
st.markdown("**Day results: mean (95% CI)**")
st.table(pd.DataFrame(values).set_index("KPI"))
st.markdown(f"**Paired change against {short_words[0]} (95% CI)**")
st.table(pd.DataFrame(changes).set_index("KPI"))

# --- a direct answer for one time of day ---
with st.container(border=True):
    grid = scenarios[0]
    day_clocks_all = [c for c in clock_options(15) if grid.store.open_min <= parse_clock(c) < grid.store.close_min]
    if ss.get("k_cmp_time") not in day_clocks_all:
        ss["k_cmp_time"] = busiest_clock(results[0])
    t1, t2 = st.columns([1, 3])
    at_time = t1.selectbox("At what time?", day_clocks_all, key="k_cmp_time", help="Pick a time: its interval's figures for every plan, with 95% CIs.")
    t2.markdown(f"**What a customer arriving at {at_time} can expect, plan by plan** (95% CI in brackets)")
    ans_changes = idiffs.replace({"scenario": dict(zip(short, short_words, strict=True))}) if len(idiffs) else None
    st.table(time_answer(results, short_words, at_time, ans_changes))

# --- charts (legends: letter and name; a duplicate plan is drawn once) ---
drawn = [i for i in range(len(results)) if i not in duplicate]
common_close = scenarios[0].store.close if all(s.store.close == scenarios[0].store.close for s in scenarios) else None
frames = []
for i in drawn:
    df = results[i].intervals.query("kpi == 'mean_wait_min'")[["interval", "start", "mean", "ci_low", "ci_high"]].copy()
    df["scenario"] = legend[i]
    frames.append(df)
legend_drawn = [legend[i] for i in drawn]
st.markdown("**Mean wait by interval of arrival**")
st.altair_chart(charts.interval_band_chart(pd.concat(frames, ignore_index=True), legend_drawn, "Mean wait (minutes)", close=common_close), width="stretch")
st.markdown(f"**Change in mean wait against {short_words[0]} (paired, 95% CI)**")
if len(idiffs):
    dd = idiffs.query("kpi == 'mean_wait_min'")
    dd = dd[dd["scenario"].isin([short[i] for i in drawn])].replace({"scenario": dict(zip(short, legend, strict=True))})
    st.altair_chart(charts.diff_chart(dd, legend_drawn, "Change in mean wait (minutes)", close=common_close), width="stretch")
else:
    st.info("The plans have different opening hours or intervals, so there is no interval-by-interval difference.")
st.markdown("**Staffed counters**")
staff = pd.concat(
    [pd.DataFrame({"series": legend[i], "start": scenarios[i].interval_labels, "counters": scenarios[i].staffed_schedule()}) for i in drawn],
    ignore_index=True,
)
st.altair_chart(charts.staffing_chart(staff, legend_drawn, close=common_close), width="stretch")
