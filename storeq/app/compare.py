"""Compare page: two to four plans on the same simulated customers, paired differences and a verdict."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from simulation import ScenarioError, scenario_to_yaml, with_updates
from storeq.app import charts, state
from storeq.app.common import (
    KPIS,
    bundled_scenarios,
    compare_cached,
    engine_ready,
    fmt_ci,
    fmt_delta,
    fmt_delta_ci,
    fmt_value,
    kpi_row,
    read_bundled,
    scenario_from_key,
    show_problems,
    significant,
    staff_hours_of,
)
from storeq.app.editing import POLICY_LABELS, POLICY_MODES
from storeq.app.verdict import staff_phrase, verdict

ss = st.session_state
LETTERS = "ABCD"

st.title("Compare plans")
st.caption(
    "Two to four plans run on the same simulated customers (same seed: common random numbers), so the differences "
    "below are the plans' effect, each with a 95% confidence interval. Plan A is the reference."
)


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
    row = [int(v) + (n if a <= c < b else 0) for v, c in zip(base.staffed_schedule(), base.interval_labels, strict=True)]
    updates: dict[str, object] = {"counters.staffed": row}
    if ss["k_var_policy"] != "(unchanged)":
        mode = ss["k_var_policy"]
        policy: dict[str, object] = {"mode": mode}
        if mode == "windows":
            policy["suspend"] = [f"{a}-{b}"]
        if mode == "queue_threshold":
            policy["threshold"] = 8
        updates["cross_sell.policy"] = policy
    name = (ss.get("k_var_name") or "").strip() or f"+{n} counters {a}-{b}"
    try:
        variant = with_updates(base, updates, source=f"variant “{name}”")
    except ScenarioError as err:
        ss["var_problems"] = err.problems
        return
    ss["var_problems"] = []
    ss["saved_plans"][name] = scenario_to_yaml(variant)
    picked = list(ss.get("k_cmp_pick", []))
    if len(picked) < 4:
        ss["k_cmp_pick"] = [*picked, f"Saved: {name}"]


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

picked = [p for p in ss["k_cmp_pick"] if p in plans]
reps, seed = state.run_settings()
ready = engine_ready()
clicked = st.button("Compare", type="primary", disabled=len(picked) < 2 or not ready, icon=":material/compare_arrows:", key="cmp_btn")
if len(picked) < 2:
    st.info("Pick at least two plans. Make one on the What-if page (save it) or with *Make a variant* above.")
if not ready:
    st.info("The simulation engine (`simulation.run` / `compare`) is not available in this build, so plans cannot be compared yet.")
    st.stop()
if clicked and len(picked) >= 2:
    ss["cmp_run"] = {"labels": picked, "yamls": tuple(plans[p] for p in picked), "seed": seed, "reps": reps}
if "cmp_run" not in ss:
    st.stop()

run = ss["cmp_run"]
if (run["labels"], run["seed"], run["reps"]) != (picked, seed, reps) or any(plans.get(p) != y for p, y in zip(run["labels"], run["yamls"], strict=True)):
    st.info("The plans or settings changed since this comparison: press **Compare** to update.", icon=":material/update:")
names = [f"{LETTERS[i]}: {label}" for i, label in enumerate(run["labels"])]
short = [f"Plan {LETTERS[i]}" for i in range(len(names))]
cmp = compare_cached(run["yamls"], run["seed"], run["reps"], tuple(short))
results = cmp.results
scenarios = [r.scenario for r in results]
diffs = cmp.differences.set_index(["scenario", "kpi"])
idiffs = cmp.interval_differences

st.divider()
st.caption(f"{run['reps']} simulated days per plan, seed {run['seed']}. Plans: " + " · ".join(names))

# --- verdicts ---
w0 = results[0].intervals.query("kpi == 'mean_wait_min'").set_index("interval")["mean"]
served0 = results[0].intervals.query("kpi == 'served'").set_index("interval")["mean"]
for i in range(1, len(results)):
    mine = idiffs[(idiffs["scenario"] == short[i]) & (idiffs["kpi"] == "mean_wait_min")] if len(idiffs) else idiffs
    wi = results[i].intervals.query("kpi == 'mean_wait_min'").set_index("interval")["mean"]
    day = tuple(float(v) for v in diffs.loc[(short[i], "mean_wait_min")])
    hours = staff_hours_of(scenarios[i]) - staff_hours_of(scenarios[0])
    if not len(idiffs):
        # different opening hours or grids: no interval pairs, so the sentence is about the day only
        d, lo, hi = day
        w_a, w_b = kpi_row(results[0].kpis, "mean_wait_min")[0], kpi_row(results[i].kpis, "mean_wait_min")[0]
        change = "cuts" if significant(lo, hi) and d < 0 else "raises" if significant(lo, hi) else "does not change (within chance)"
        text = (f"{short[i]} {change} the day's mean wait ({w_a:.1f} → {w_b:.1f} min, change {d:+.1f}, 95% CI {lo:+.1f} to {hi:+.1f}) "
                f"{staff_phrase(hours)}, against {short[0]}. The plans have different opening hours or intervals, so only day totals are compared.")
        st.success(f"**{text}**" if i == 1 else text, icon=":material/gavel:")
        continue
    text = verdict(
        short[i],
        mine,
        w0,
        wi,
        scenarios[0].store.interval_min,
        hours,
        day,  # type: ignore[arg-type]
        first=short[0],
        weights=served0,
    )
    st.success(f"**{text}**" if i == 1 else text, icon=":material/gavel:")

# --- the table ---
rows = []
for spec in KPIS:
    row = {"KPI": spec.label}
    for i, (name, res) in enumerate(zip(short, results, strict=True)):
        m, lo, hi = kpi_row(res.kpis, spec.name)
        open_min = res.scenario.store.open_min
        row[name] = f"{fmt_value(m, spec.unit, open_min)} ({fmt_ci(lo, hi, spec.unit, open_min)})"
        if i > 0 and (name, spec.name) in diffs.index:
            dm, dl, dh = (float(v) for v in diffs.loc[(name, spec.name)])
            mark = "" if significant(dl, dh) else " (could be chance)"
            row[f"{name} − A"] = "no change" if dm == dl == dh == 0 else f"{fmt_delta(dm, spec.unit)} ({fmt_delta_ci(dl, dh, spec.unit)}){mark}"
    rows.append(row)
st.markdown("**Day results: mean (95% CI), and the paired change against plan A (95% CI)**")
st.dataframe(pd.DataFrame(rows).set_index("KPI"), width="stretch")

# --- charts ---
common_close = scenarios[0].store.close if all(s.store.close == scenarios[0].store.close for s in scenarios) else None
frames = []
for name, res in zip(short, results, strict=True):
    df = res.intervals.query("kpi == 'mean_wait_min'")[["interval", "start", "mean", "ci_low", "ci_high"]].copy()
    df["scenario"] = name
    frames.append(df)
c1, c2 = st.columns(2)
with c1:
    st.markdown("**Mean wait by interval of arrival**")
    st.altair_chart(charts.interval_band_chart(pd.concat(frames, ignore_index=True), short, "Mean wait (minutes)", close=common_close), width="stretch")
with c2:
    st.markdown("**Change in mean wait against plan A (paired, 95% CI)**")
    if len(idiffs):
        st.altair_chart(charts.diff_chart(idiffs.query("kpi == 'mean_wait_min'"), short, "Change in mean wait (minutes)", close=common_close), width="stretch")
    else:
        st.info("The plans have different opening hours or intervals, so there is no interval-by-interval difference.")
st.markdown("**Staffed counters**")
staff = pd.concat(
    [pd.DataFrame({"series": n, "start": s.interval_labels, "counters": s.staffed_schedule()}) for n, s in zip(short, scenarios, strict=True)],
    ignore_index=True,
)
st.altair_chart(charts.staffing_chart(staff, short, close=common_close), width="stretch")
