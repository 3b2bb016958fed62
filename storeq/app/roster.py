"""Roster page: service targets and shift rules in; the optimizer's verified roster out.

The optimizer (``optimizer.optimize_day``) finds the staff needed per interval (Erlang A, refined by
simulation), the cheapest set of shifts that covers it (CP-SAT), when to stop pitching, and then
simulates the plan to check it; this page draws what it returns and says plainly what it could not do.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from simulation import ScenarioError, format_clock, parse_clock, scenario_to_yaml
from storeq.app import charts, state
from storeq.app.common import clock_to_datetime, scenario_from_key, show_problems, workers
from storeq.app.editing import clock_options

ss = st.session_state

st.title("Roster")
try:
    import optimizer
except ImportError:  # the optimizer is an optional layer of the package
    optimizer = None  # type: ignore[assignment]
if optimizer is None or not hasattr(optimizer, "optimize_day"):
    st.info("The roster optimizer (`optimizer.optimize_day`) is not available in this build, so this page cannot build a roster. "
            "Use the What-if page to try staffing by hand.", icon=":material/construction:")
    st.stop()


@st.cache_data(show_spinner=False, max_entries=8)
def optimize_cached(yaml_text: str, target: tuple[float, float, float | None], rules: dict[str, Any], pitch: str, method: str,
                    replications: int, seed: int) -> Any:
    """``optimizer.optimize_day`` for this scenario, target and rules (cached; the progress bar lives inside)."""
    from optimizer import ServiceTarget, optimize_day
    from simulation.scenario import ShiftRules

    scenario = scenario_from_key(yaml_text)
    holder = st.empty()
    bar = holder.progress(0.0, text="Optimizing")
    stages = ["Finding the counters needed", "Building the cheapest roster", "Simulating the roster", "Checking pitch policies", "Done"]

    def tick(done: int, total: int) -> None:
        bar.progress(min(1.0, done / max(total, 1)), text=f"{stages[min(done, len(stages) - 1)]} ({done} of {total})")

    plan = optimize_day(
        scenario,
        ServiceTarget(service_level=target[0], target_wait_min=target[1], max_abandon=target[2]),
        rules=ShiftRules.model_validate(rules),
        method=method,  # type: ignore[arg-type]
        pitch=pitch,  # type: ignore[arg-type]
        search_replications=max(10, min(30, replications // 3)),
        replications=replications,
        seed=seed,
        workers=workers(),
        time_limit_s=20.0,
    )
    holder.empty()
    return plan


base, _err = state.edited_scenario()
source = "your edited plan (What-if page)"
if base is None:
    base, source = state.base_scenario(), f"the store as loaded ({ss['base_name']}), because your edited plan has problems"
st.caption(f"Optimizing **{base.name}**, {source}: demand, service times, kiosks and patience come from it; the optimizer chooses the counters and the pitching.")

rules0 = base.shifts
brk0 = rules0.break_ if rules0 else None
clocks = [c for c in clock_options(30) if base.store.open_min <= parse_clock(c) <= base.store.close_min]
LENGTHS = [3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]
# Defaults go into Session State once (from the scenario's shift rules, if it has any) and the widgets
# take their values from there only: giving a widget both makes Streamlit warn on every revisit.
defaults: dict[str, Any] = {
    "k_r_sl": 0.8,
    "k_r_wait": float(base.store.target_wait_min),
    "k_r_cap_on": False,
    "k_r_cap": 0.05,
    "k_r_lengths": [v for v in (rules0.lengths_hours if rules0 else (4.0, 6.0, 8.0)) if v in LENGTHS],
    "k_r_earliest": rules0.earliest_start if rules0 and rules0.earliest_start in clocks else clocks[0],
    "k_r_latest": rules0.latest_end if rules0 and rules0.latest_end in clocks else clocks[-1],
    "k_r_min": int(rules0.min_on_duty) if rules0 else 1,
    "k_r_brk_on": brk0 is not None,
    "k_r_brk_over": float(brk0.for_shifts_over_hours) if brk0 else 6.0,
    "k_r_brk_len": int(brk0.length_min) if brk0 else 30,
}
for key, value in defaults.items():
    ss.setdefault(key, value)
for key in ("k_r_earliest", "k_r_latest"):
    if ss[key] not in clocks:  # another store's hours: start from this store's
        ss[key] = defaults[key]
with st.form("roster_form", border=True):
    c1, c2, c3 = st.columns(3)
    with c1:
        st.markdown("**Targets**")
        sl = st.slider("Service level: share served within the target wait", 0.5, 0.99, step=0.01, key="k_r_sl")
        wait = st.number_input("Target wait (minutes)", 1.0, 120.0, step=1.0, key="k_r_wait")
        cap_on = st.checkbox("Cap abandonment", key="k_r_cap_on")
        cap = st.slider("Most customers who may give up waiting", 0.0, 0.3, step=0.01, key="k_r_cap", format="%.2f")
    with c2:
        st.markdown("**Shift rules**")
        lengths = st.multiselect("Shift lengths (hours)", LENGTHS, key="k_r_lengths")
        r1, r2 = st.columns(2)
        earliest = r1.selectbox("Earliest start", clocks, key="k_r_earliest")
        latest = r2.selectbox("Latest end", clocks, key="k_r_latest")
        min_duty = st.number_input("At least this many on duty while open", 0, 50, key="k_r_min")
    with c3:
        st.markdown("**Breaks and pitching**")
        brk_on = st.checkbox("Breaks on long shifts", key="k_r_brk_on")
        b1, b2 = st.columns(2)
        brk_over = b1.number_input("for shifts over (h)", 1.0, 12.0, step=0.5, key="k_r_brk_over")
        brk_len = b2.number_input("break (min)", 15, 120, step=15, key="k_r_brk_len")
        pitch = st.radio("Cross-selling", ["decide", "always", "never"], key="k_r_pitch", horizontal=True,
                         format_func={"decide": "Optimizer decides when", "always": "Always pitch", "never": "Never pitch"}.__getitem__)
        method = st.radio("Requirement", ["simulation", "erlang_a_lagged"], key="k_r_method",
                          format_func={"simulation": "Simulation-refined (slower, accounts for queues carried over)", "erlang_a_lagged": "Erlang A formula (fast)"}.__getitem__)
    submitted = st.form_submit_button("Build roster", type="primary", icon=":material/calendar_month:")

reps, seed = state.run_settings()
rules: dict[str, Any] = {"lengths_hours": sorted(lengths), "earliest_start": earliest, "latest_end": latest, "min_on_duty": int(min_duty)}
if brk_on:
    rules["break"] = {"for_shifts_over_hours": float(brk_over), "length_min": int(brk_len)}
problems: list[tuple[str, str]] = []
if not lengths:
    problems.append(("shifts.lengths_hours", "choose at least one shift length"))
if parse_clock(latest) <= parse_clock(earliest):
    problems.append(("shifts.latest_end", f"latest end {latest} must be after earliest start {earliest}"))
show_problems(problems)
request = {"yaml": scenario_to_yaml(base), "target": (float(sl), float(wait), float(cap) if cap_on else None), "rules": rules,
           "pitch": pitch, "method": method, "reps": reps, "seed": seed}
if submitted and not problems:
    ss["roster_request"] = request
if "roster_request" not in ss:
    st.caption("Set the targets and rules, then press **Build roster**. It takes a few seconds: every roster is simulated before it is shown.")
    st.stop()
req = ss["roster_request"]
if req != request:
    st.info("The inputs changed since this roster was built: press **Build roster** to update.", icon=":material/update:")
try:
    plan = optimize_cached(req["yaml"], req["target"], req["rules"], req["pitch"], req["method"], req["reps"], req["seed"])
except ScenarioError as err:
    show_problems(err.problems, "The optimizer could not use these inputs:")
    st.stop()

scenario = scenario_from_key(req["yaml"])
roster = plan.roster
st.divider()
status_word = {"OPTIMAL": "optimal", "FEASIBLE": "feasible (time limit reached before proving optimality)"}.get(roster.status, roster.status)
head = f"Solver status: **{status_word}**"
if roster.gap is not None:
    head += f", optimality gap {roster.gap:.1%}"
st.markdown(head)
m = st.columns(4)
m[0].metric("Staff hours", f"{roster.staff_hours:.1f} h", border=True)
m[1].metric("Staff cost", f"{roster.staff_cost:,.0f}", border=True)
sl_kpi = plan.verification.kpis.get("service_level", {})
m[2].metric(f"Served within {req['target'][1]:g} min", f"{sl_kpi.get('mean', float('nan')):.1%}",
            help=f"Simulated check of the roster. 95% CI {sl_kpi.get('ci_low', float('nan')):.1%}–{sl_kpi.get('ci_high', float('nan')):.1%}", border=True)
m[3].metric("Intervals meeting the target", f"{plan.verification.share_meeting:.0%}", border=True)
st.markdown(f"**Pitching:** {plan.pitch_rule}")
if plan.verification.missed:
    st.warning(f"Simulated with {plan.verification.replications} replications, these intervals miss the target: "
               + ", ".join(plan.verification.missed)
               + (f" (clearly, the whole CI below it: {', '.join(plan.verification.clearly_missed)})" if plan.verification.clearly_missed else ""),
               icon=":material/warning:")
else:
    st.success(f"Every interval meets the target in the simulated check ({plan.verification.replications} replications).", icon=":material/check_circle:")
for line in plan.explanation:
    if not line.startswith("simulated with"):  # the missed intervals are in the box above
        st.caption(line)

# --- Gantt of shifts ---
shifts = plan.shifts_frame().sort_values(["start", "end"]).reset_index(drop=True)
rows = []
brk_len_min = int(req["rules"].get("break", {}).get("length_min", 30))
k = 0
for s in shifts.itertuples(index=False):
    for _ in range(int(s.count)):
        k += 1
        label = f"Shift {k:>2}: {s.start}-{s.end}"
        rows.append({"staff": label, "start": s.start, "end": s.end, "kind": "shift"})
        if s.break_start:
            rows.append({"staff": label, "start": s.break_start, "end": format_clock(parse_clock(s.break_start) + brk_len_min), "kind": "break"})
gantt = pd.DataFrame(rows)
g1, g2 = st.columns(2)
with g1:
    st.markdown(f"**Shifts ({k} people)** — grey: break")
    if len(gantt):
        gantt["start"] = clock_to_datetime(gantt["start"]).to_numpy()
        gantt["end"] = clock_to_datetime(gantt["end"]).to_numpy()
        day = tuple(clock_to_datetime([scenario.store.open, scenario.store.close]))
        st.altair_chart(charts.gantt_chart(gantt, day), width="stretch")
    else:
        st.info("The roster has no shifts.")
with g2:
    st.markdown("**Staffed counters vs required**")
    iv = plan.intervals_frame()
    cover = pd.concat([
        pd.DataFrame({"series": "Staffed (roster)", "start": iv["start"], "counters": iv["staffed"]}),
        pd.DataFrame({"series": "Required", "start": iv["start"], "counters": iv["required"]}),
    ], ignore_index=True)
    windows = [tuple(w.split("-")) for w in plan.pitch_windows]
    chart = charts.staffing_chart(cover, ["Staffed (roster)"], close=scenario.store.close)
    if windows:
        chart = alt.layer(charts.windows_layer(windows, "No pitching"), chart).resolve_legend(fill="independent")
    st.altair_chart(chart, width="stretch")
    pitch_iv = [str(s) for s, p in zip(iv["start"], iv["pitch"], strict=True) if not p]
    st.caption("Required: counters needed per interval for the target "
               + ("with pitching where the roster pitches" if req["pitch"] != "never" else "without pitching")
               + f". No pitching in {len(pitch_iv)} of {len(iv)} intervals.")

st.markdown("**Simulated service level per interval (95% CI) against the target**")
svc = pd.DataFrame({"scenario": "Roster", "start": iv["start"], "mean": iv["service_level_mean"],
                    "ci_low": iv["service_level_ci_low"].clip(0, 1), "ci_high": iv["service_level_ci_high"].clip(0, 1)})  # a share
target_rule = charts.target_rule(req["target"][0])
st.altair_chart(charts.interval_band_chart(svc, ["Roster"], "Served within target (share)", ".1%", close=scenario.store.close) + target_rule, width="stretch")

d1, d2, d3 = st.columns(3)
d1.download_button("Download shifts (CSV)", shifts.to_csv(index=False).encode(), "storeq_roster_shifts.csv", "text/csv", icon=":material/download:")
d2.download_button("Download per-interval plan (CSV)", iv.to_csv(index=False).encode(), "storeq_roster_intervals.csv", "text/csv", icon=":material/download:")


def _save_roster() -> None:
    ss["saved_plans"]["Optimized roster"] = scenario_to_yaml(plan.scenario)


def _open_roster() -> None:
    label = f"optimized roster ({scenario.name})"
    text = scenario_to_yaml(plan.scenario)
    ss["uploads"][label] = text
    state.set_base(label, text)


d3.button("Save as a plan for Compare", on_click=_save_roster, icon=":material/bookmark_add:")
st.button("Open this roster on the What-if page", on_click=_open_roster, icon=":material/arrow_forward:",
          help="Makes the optimized scenario (roster and pitch windows) the What-if starting point, to try changes on it.")
