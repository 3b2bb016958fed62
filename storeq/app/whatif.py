"""What-if page: pick a store, move the knobs, run, and see what changes against the unedited store."""

from __future__ import annotations

import math
import time
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from simulation import ScenarioError, parse_clock, scenario_to_yaml
from storeq.app import charts, state
from storeq.app.common import (
    BASELINE,
    EDITED,
    KPIS,
    MAX_UPLOAD_BYTES,
    bundled_scenarios,
    busiest_clock,
    combined_pitch_rule_supported,
    currency_of,
    customers_cached,
    direction,
    fmt_ci,
    fmt_delta,
    fmt_delta_ci,
    fmt_value,
    kpi_row,
    literal,
    money_specs,
    paired_change,
    paired_differences_frame,
    paired_interval_change,
    required_counters,
    run_cached,
    show_problems,
    show_verdict,
    significant,
    staff_hours_of,
    time_answer,
)
from storeq.app.editing import (
    POLICY_LABELS,
    POLICY_MODES,
    add_counters,
    apply_row_edits,
    clock_options,
    describe_edits,
    describe_policy,
    interval_clocks,
    problems_by_section,
    schedule_text,
)
from storeq.app.verdict import verdict, verdict_direction
from storeq.present import day_rows

ss = st.session_state
CUSTOMER_REPS = 10  # replications with per-customer records (for the wait distribution and outcomes)

# ---------------------------------------------------------------------------------------------
# callbacks: they run before the page is drawn, so they may set widget values
# ---------------------------------------------------------------------------------------------


def _source_changed() -> None:
    name = ss["k_source"]
    ss["upload_problems"] = state.load_bundled(name)
    ss["upload_problems_source"] = name


def _file_uploaded() -> None:
    f = ss.get("upload_file")
    if f is None:
        ss.pop("upload_problems", None)  # the file was removed: its error goes with it
        return
    data = f.getvalue()
    ss["upload_problems"] = state.accept_upload(data, f.name) if len(data) <= MAX_UPLOAD_BYTES else [
        ("", f"{f.name} is {len(data):,} bytes; scenario files are at most {MAX_UPLOAD_BYTES:,} bytes (1 MB)")
    ]
    ss["upload_problems_source"] = f.name


def _paste_submitted() -> None:
    text = ss.get("paste_text", "")
    ss["upload_problems"] = state.accept_upload(text, "pasted scenario")
    ss["upload_problems_source"] = "pasted scenario"


def _hours_changed() -> None:
    base = state.base_scenario()
    new = interval_clocks(ss["k_open"], ss["k_close"], base.store.interval_min)
    if new:
        from storeq.app.editing import remap_by_clock

        state.set_demand_row(remap_by_clock(ss["demand_row"], ss["staff_clocks"], new))
        if ss.get("group_rows"):  # every group's row follows the hours by clock too
            ss["group_rows"] = {g: [int(v) for v in remap_by_clock(r, ss["staff_clocks"], new)] for g, r in ss["group_rows"].items()}
        state.set_staff_row([int(v) for v in remap_by_clock(ss["staff_row"], ss["staff_clocks"], new)], new)


def _all_day_changed() -> None:
    n = int(ss["k_all_day"])
    state.set_staff_row([n] * len(ss["staff_row"]), ss["staff_clocks"])
    ss["add_log"] = [f"set every interval to {n}"]


def _staff_edited(key: str, version: int) -> None:
    if version != ss["staff_ver"]:
        # The browser can resend an editor's edits after the row was replaced (and the editor redrawn
        # under a new key): those edits belong to a row that no longer exists, so they are dropped.
        return
    edits = ss.get(key, {}).get("edited_rows", {})
    state.set_staff_row(apply_row_edits(ss["staff_row"], ss["staff_clocks"], edits), ss["staff_clocks"])


def _demand_edited(key: str, version: int) -> None:
    if version != ss["demand_ver"]:  # a resent edit of a row since replaced (see _staff_edited)
        return
    edits = ss.get(key, {}).get("edited_rows", {})
    state.set_demand_row(apply_row_edits(ss["demand_row"], ss["staff_clocks"], edits, whole=False))


def _add_counters() -> None:
    a, b, n = ss["k_add_from"], ss["k_add_to"], int(ss["k_add_n"])
    before = list(ss["staff_row"])
    row, what = add_counters(before, ss["staff_clocks"], a, b, n)
    state.set_staff_row(row, ss["staff_clocks"])
    # each press is listed with the row before it, so a second press is visible and can be undone
    ss.setdefault("add_log", []).append(what)
    ss.setdefault("add_undo", []).append(before)


def _undo_add() -> None:
    if ss.get("add_undo"):
        state.set_staff_row(ss["add_undo"].pop(), ss["staff_clocks"])
        ss["add_log"].append("undone: " + ss["add_log"][-1] if ss.get("add_log") else "undone")


def _policy_changed() -> None:
    # Switching between a window rule and a queue rule keeps the other one when both can run together,
    # so choosing a window never silently drops the file's queue rule.
    base_policy = state.base_scenario().cross_sell.policy
    if combined_pitch_rule_supported() and ss["k_policy"] in ("windows", "queue_threshold") and base_policy.mode in ("windows", "queue_threshold"):
        ss["k_both"] = ss["k_policy"] != base_policy.mode or (bool(base_policy.suspend) and base_policy.threshold is not None)


def _reset_knobs() -> None:
    state.set_base(ss["base_name"], ss["base_yaml"])


def _save_plan() -> None:
    edited, _ = state.edited_scenario()
    name = (ss.get("k_plan_name") or "").strip() or f"Plan {len(ss['saved_plans']) + 1}"
    if edited is not None:
        ss["saved_plans"][name] = scenario_to_yaml(edited)
        ss.setdefault("saved_plan_base", {})[name] = ss["base_name"]  # its file, for a download that keeps the comments
        ss["plan_saved_msg"] = f"Saved “{literal(name)}”: pick it on the Compare page."


# ---------------------------------------------------------------------------------------------
# the page
# ---------------------------------------------------------------------------------------------

base = state.base_scenario()
edited, err = state.edited_scenario()
by_section: dict[str, list[tuple[str, str]]] = problems_by_section(err) if err is not None else {}

st.title("What-if")
st.caption(f"**{literal(base.name)}** · open {base.store.open}-{base.store.close} · {base.store.interval_min}-minute intervals · target wait {base.store.target_wait_min:g} min")

# --- where the scenario comes from ---
with st.container(border=True):
    c1, c2 = st.columns([1, 1])
    options = bundled_scenarios() + [k for k in ss["uploads"] if k not in bundled_scenarios()]
    if ss.get("k_source") not in options:
        ss["k_source"] = ss["base_name"] if ss["base_name"] in options else options[0]
    c1.selectbox("Store scenario", options, key="k_source", on_change=_source_changed, help="Bundled stores from scenarios/, and files you uploaded in this session.")
    c1.button("Reset all knobs to this scenario", on_click=_reset_knobs, icon=":material/restart_alt:")
    c2.file_uploader(
        "Or upload a scenario file (YAML, at most 1 MB)", type=["yaml", "yml"], key="upload_file", on_change=_file_uploaded, max_upload_size=1
    )
    with c2.expander("…or paste a scenario (YAML)"):
        st.text_area("Scenario YAML", key="paste_text", height=160, placeholder="name: My hall\nstore: {open: '09:00', close: '18:00'}\n...")
        st.button("Use the pasted scenario", on_click=_paste_submitted)
    if ss.get("upload_problems"):
        with c2:
            show_problems(ss["upload_problems"], f"**{literal(ss.get('upload_problems_source', 'The file'))}** was not loaded; the store above is unchanged:")

# --- the knobs ---
st.subheader("Your plan")
col_a, col_b, col_c = st.columns(3)
clocks = clock_options(15)
with col_a, st.container(border=True):
    st.markdown("**Opening hours and demand**")
    h1, h2 = st.columns(2)
    h1.selectbox("Opens", clocks, key="k_open", on_change=_hours_changed)
    h2.selectbox("Closes", clocks, key="k_close", on_change=_hours_changed)
    show_problems(by_section.get("hours", []))
    if base.demand.weekday_factors is not None or base.demand.day_of_month_factors:
        # the store's file has weekday / day-of-month demand factors: the day decides how busy it is
        st.date_input("Day", key="k_date", format="YYYY-MM-DD",
                      help="Weekday and day-of-month factors from the file apply to this day (e.g. payday, month end).")
        st.caption(f"Demand factor for this day: ×{edited.day_factor() if edited is not None else base.day_factor():.2f}")
    st.slider("Demand scale (1.0 = the forecast)", 0.5, 2.0, step=0.05, key="k_scale", help="1.1 = 10% more customers in every interval.")
    show_problems(by_section.get("demand", []))
    st.slider("Patience (1.0 = as in the file)", 0.5, 2.0, step=0.1, key="k_patience", help="Scales how long customers wait before giving up (2.0 = twice as patient).")
    show_problems(by_section.get("patience", []))
with col_b, st.container(border=True):
    st.markdown("**Counters**")
    if ss.get("group_rows"):
        st.selectbox("Counter group to staff", list(ss["group_rows"]), key="k_group", on_change=lambda: state.switch_group(ss["k_group"]),
                     help="This store has counter groups (skills): the row below and the controls here staff the group chosen; the others keep theirs.")
    st.number_input("Set every interval to (counters)", min_value=0, max_value=60, step=1, key="k_all_day", on_change=_all_day_changed,
                    help="Sets every interval of the row below to this number.")
    st.caption(f"Staffed now: **{schedule_text(ss['staff_row'], ss['staff_clocks'], ss['k_close'])}**")
    if not ss.get("group_rows"):  # with counter groups, VIP desks are a group of their own
        st.number_input("VIP counters (serve VIPs first, then anyone)", min_value=0, max_value=60, step=1, key="k_vip")
    show_problems(by_section.get("vip", []))
    ss.setdefault("k_add_n", 1)
    st.number_input("Add counters (negative: remove) in a time window", min_value=-20, max_value=20, step=1, key="k_add_n")
    a2, a3 = st.columns(2)
    day_clocks = [*ss["staff_clocks"], ss["k_close"]]
    if ss.get("k_add_from") not in day_clocks:
        ss["k_add_from"] = day_clocks[max(0, len(day_clocks) - 7)]
    if ss.get("k_add_to") not in day_clocks:
        ss["k_add_to"] = day_clocks[-1]
    a2.selectbox("from", day_clocks, key="k_add_from")
    a3.selectbox("to", day_clocks, key="k_add_to")
    st.button("Add to the row below", on_click=_add_counters, icon=":material/add:")
    if ss.get("add_undo"):  # its own line: beside "Add" both labels were cut at laptop widths
        st.button("Undo the last add", on_click=_undo_add, icon=":material/undo:", key="undo_add")
    if ss.get("add_log"):
        st.caption("Done so far: " + "; ".join(ss["add_log"][-4:]))
with col_c, st.container(border=True):
    st.markdown("**Kiosks, door and cross-selling**")
    st.number_input("Kiosks", min_value=0, max_value=50, step=1, key="k_kiosks")
    st.toggle("Greeter at the door", key="k_greeter", help="A greeter guides kiosk-able customers to the kiosks.")
    if ss.get("k_greeter"):
        st.text_input("Greeter's hours (empty: all day)", key="k_greeter_windows", placeholder="e.g. 14:00-18:00",
                      help="HH:MM-HH:MM, comma-separated: a greeter for the busy hours only costs less.")
    st.slider("Moved online (share of kiosk-able demand)", 0.0, 0.8, step=0.05, key="k_diversion", format="%.2f",
              help="SMS reminders and the app move this share of top-ups and bill payments out of the store.")
    show_problems(by_section.get("kiosks", []))
    st.selectbox("Cross-sell pitching", POLICY_MODES, key="k_policy", format_func=POLICY_LABELS.__getitem__, on_change=_policy_changed)
    combined = combined_pitch_rule_supported()
    if ss["k_policy"] == "windows":
        st.text_input("No pitches in (HH:MM-HH:MM, comma-separated)", key="k_suspend", help="e.g. 15:00-18:00 for no pitches after 15:00.")
        if combined:
            st.checkbox("…and none while the queue is long", key="k_both")
            if ss.get("k_both"):
                st.number_input("Stop pitching while this many or more are waiting", min_value=0, max_value=500, step=1, key="k_threshold")
    elif ss["k_policy"] == "queue_threshold":
        st.number_input("Stop pitching while this many or more are waiting", min_value=0, max_value=500, step=1, key="k_threshold")
        if combined:
            st.checkbox("…and none in time windows", key="k_both")
            if ss.get("k_both"):
                st.text_input("No pitches in (HH:MM-HH:MM, comma-separated)", key="k_suspend", help="e.g. 15:00-18:00 for no pitches after 15:00.")
    rule_now = describe_policy(edited.cross_sell.policy) if edited is not None else None
    if rule_now is not None:
        note = f"Rule in force: **{rule_now}**."
        file_rule = describe_policy(base.cross_sell.policy)
        if not combined and rule_now != file_rule and base.cross_sell.policy.mode in ("windows", "queue_threshold") \
                and ss["k_policy"] in ("windows", "queue_threshold") and ss["k_policy"] != base.cross_sell.policy.mode:
            note += f" It replaces the file's rule ({file_rule}): this build runs one pitch rule at a time."
        st.caption(note)
    show_problems(by_section.get("policy", []))

with st.container(border=True):
    st.markdown("**Staffed counters per interval** (edit a cell; the columns are interval start times)")
    editor_key = f"staff_editor_{ss['staff_ver']}"
    row = pd.DataFrame([ss["staff_row"]], columns=ss["staff_clocks"], index=["Counters"])
    st.data_editor(
        row,
        key=editor_key,
        on_change=_staff_edited,
        args=(editor_key, ss["staff_ver"]),
        num_rows="fixed",
        hide_index=True,
        column_config={c: st.column_config.NumberColumn(c, min_value=0, max_value=99, step=1, format="%d", width=72) for c in ss["staff_clocks"]},
        width="stretch",
    )
    show_problems(by_section.get("staffing", []))
    with st.expander("Demand forecast per interval (customers per hour, before the day factor and the demand scale)"):
        demand_key = f"demand_editor_{ss['demand_ver']}"
        st.data_editor(
            pd.DataFrame([ss["demand_row"]], columns=ss["staff_clocks"], index=["Customers per hour"]),
            key=demand_key,
            on_change=_demand_edited,
            args=(demand_key, ss["demand_ver"]),
            num_rows="fixed",
            hide_index=True,
            column_config={c: st.column_config.NumberColumn(c, min_value=0.0, max_value=5000.0, step=1.0, format="%.0f", width=72) for c in ss["staff_clocks"]},
            width="stretch",
        )
        show_problems(by_section.get("demand", []))
show_problems(by_section.get("general", []))

if edited is not None:
    changes = describe_edits(base, edited)
    st.caption("Changes from the file: " + ("; ".join(changes) if changes else "none yet — this is the store as loaded."))
else:
    st.warning("The plan above has problems (shown next to the inputs in red); fix them to run it. Nothing you entered was lost.")

reps, seed = state.run_settings()
b1, b2, b3 = st.columns([1, 1, 2])
clicked = b1.button("Run simulation", type="primary", icon=":material/play_arrow:", disabled=edited is None, key="run_btn")
b2.text_input("Plan name", key="k_plan_name", placeholder="e.g. Plan B", label_visibility="collapsed")
b3.button("Save this plan for Compare", on_click=_save_plan, disabled=edited is None, icon=":material/bookmark_add:")
saved_msg = ss.pop("plan_saved_msg", None)
if saved_msg:
    st.toast(saved_msg, icon=":material/bookmark_added:")


base_yaml = ss["base_yaml"]
edited_yaml = scenario_to_yaml(edited) if edited is not None else None
if clicked and edited_yaml is not None:
    ss["last_run"] = {"base": base_yaml, "edited": edited_yaml, "seed": seed, "reps": reps, "clicked": time.perf_counter()}
if "last_run" not in ss:
    # Show the store as loaded straight away: the manager's first question is "how is it today?"
    ss["last_run"] = {"base": base_yaml, "edited": base_yaml, "seed": seed, "reps": reps}

run = ss["last_run"]
stale = (run["edited"], run["seed"], run["reps"]) != (edited_yaml, seed, reps) or run["base"] != base_yaml
if run["base"] != base_yaml:
    ss["last_run"] = run = {"base": base_yaml, "edited": base_yaml, "seed": seed, "reps": reps}
    stale = edited_yaml != base_yaml

same = run["edited"] == run["base"]
try:
    res_base = run_cached(run["base"], run["seed"], run["reps"], f"Simulating the baseline ({run['reps']} days)")
    res_edit = res_base if same else run_cached(run["edited"], run["seed"], run["reps"], f"Simulating your plan ({run['reps']} days)")
except ScenarioError as err:
    show_problems(err.problems, "The simulation refused this plan:")
    st.stop()
except (ValueError, RuntimeError) as err:  # the engine's own checks (e.g. conservation): say it, keep the page
    st.error(f"The simulation failed on this plan: {literal(err)}. Your inputs are unchanged; please report the scenario (Scenario page) if it looks valid.")
    st.stop()
if "clicked" in run:
    ss["last_click_to_result_s"] = time.perf_counter() - run.pop("clicked")

st.divider()
st.subheader("Results" if not same else "Results: the store as loaded")
note = f"{run['reps']} simulated days, seed {run['seed']}, values are means with 95% confidence intervals."
if not same:
    note += " Changes are against the unedited store on the same simulated customers (common random numbers), with a 95% CI for the change."
st.caption(note)
if stale:
    st.info("You changed the plan since this run: press **Run simulation** to see the new results.", icon=":material/update:")

open_min = res_edit.scenario.store.open_min
currency = currency_of(res_edit.scenario)
md_currency = literal(currency)


def _card(col: Any, spec: Any) -> None:
    currency = md_currency  # the card's value, change and caption are Markdown: the file's currency shown literally
    mean, lo, hi = kpi_row(res_edit.kpis, spec.name)
    label = spec.label if spec.name != "service_level" else f"Served within {res_edit.scenario.store.target_wait_min:g} min"
    delta, delta_colour, change = None, "off", ""
    if not same and spec.name in change_table.index:
        d, dlo, dhi = (float(v) for v in change_table.loc[spec.name])
        if d == dlo == dhi == 0:  # identical on every simulated day (e.g. staff hours of the same roster)
            change = "no change"
        elif not math.isnan(d):
            delta = fmt_delta(d, spec.unit, currency)
            real = significant(dlo, dhi)
            if real and spec.better:
                delta_colour = "inverse" if spec.better == "lower" else "normal"
            same_every_day = fmt_delta(dlo, spec.unit, currency) == fmt_delta(dhi, spec.unit, currency)
            change = ("the same change every day" if same_every_day else f"change {fmt_delta_ci(dlo, dhi, spec.unit, currency)}") + ("" if real else " (could be chance)")
    col.metric(label, fmt_value(mean, spec.unit, open_min, currency), delta=delta, delta_color=delta_colour, help=spec.help, border=True)
    ci = fmt_ci(lo, hi, spec.unit, open_min, currency)
    # a KPI that is the same on every simulated day (staff hours of a fixed roster) has no range to show
    parts = [f"95% CI {ci}" if ci else "the same on every simulated day", change]
    col.caption(" · ".join(p for p in parts if p))


change_table = paired_change(res_base, res_edit) if not same else pd.DataFrame()
if not same:
    # one sentence first, as on the Compare page: where the wait changed most, and at what staff cost;
    # its day figures are the cards' (same result frames, same rounding)
    iwait = paired_interval_change(res_base, res_edit, "mean_wait_min")
    hours = staff_hours_of(res_edit.scenario) - staff_hours_of(res_base.scenario)
    day_change = tuple(change_table.loc["mean_wait_min"].to_numpy(dtype=float)) if "mean_wait_min" in change_table.index else (math.nan,) * 3
    if len(iwait):
        waits = [r.intervals.query("kpi == 'mean_wait_min'").set_index("interval")["mean"] for r in (res_base, res_edit)]
        served = res_base.intervals.query("kpi == 'served'").set_index("interval")["mean"]
        day_means = (kpi_row(res_base.kpis, "mean_wait_min")[0], kpi_row(res_edit.kpis, "mean_wait_min")[0])
        sentence = verdict("Your plan", iwait, waits[0], waits[1], res_base.scenario.store.interval_min, hours,
                           day_change, first="the store as loaded", weights=served, day_means=day_means)  # type: ignore[arg-type]
        how = verdict_direction(iwait)
        if how == "same":  # no interval stands out, but the day as a whole may
            how = direction("lower", day_change[1], day_change[2])
        show_verdict(sentence, how)
# three per row: at laptop widths with the sidebar open, five cards cut their values short
money = [m for m in money_specs(res_edit.kpis) if m.name != "staff_cost"]
with st.container(key="kpi_cards"):  # the key gives narrow screens two cards a row (entry.NARROW_CSS)
    for row_start in range(0, len(KPIS), 3):
        cards = st.columns(3)
        for col, spec in zip(cards, KPIS[row_start : row_start + 3], strict=False):
            _card(col, spec)
    if money:
        st.markdown(f"**Costs and net margin** ({literal(currency)} per day)")
        for row_start in range(0, len(money), 3):
            cards = st.columns(3)
            for col, spec in zip(cards, money[row_start : row_start + 3], strict=False):
                _card(col, spec)
    else:
        st.caption("Greeter and kiosk costs and the net margin appear here when the model reports them (costs: greeter_hour, kiosk_day).")
if "last_click_to_result_s" in ss and not same:
    st.caption(f"Computed in {ss['last_click_to_result_s']:.1f} s after the click ({run['reps']} replications).")



def _intervals(kpi: str) -> pd.DataFrame:
    frames = []
    for name, res in zip(names, results, strict=True):
        df = res.intervals
        df = df[df["kpi"] == kpi][["start", "mean", "ci_low", "ci_high"]].copy()
        df["scenario"] = name
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


names = [BASELINE] if same else [BASELINE, EDITED]
results = [res_base] if same else [res_base, res_edit]

# --- a direct answer for one time of day ---
with st.container(border=True):
    day_clocks_all = [c for c in clock_options(15) if res_edit.scenario.store.open_min <= parse_clock(c) < res_edit.scenario.store.close_min]
    if ss.get("k_at_time") not in day_clocks_all:
        ss["k_at_time"] = busiest_clock(res_edit)
    t1, t2 = st.columns([1, 3])
    at_time = t1.selectbox("At what time?", day_clocks_all, key="k_at_time", help="Pick a time: its interval's figures for each plan, with 95% CIs.")
    answer_changes = None
    if not same:
        answer_changes = paired_differences_frame(res_base, res_edit, names)
    t2.markdown(f"**What a customer arriving at {at_time} can expect** (means over the simulated days, 95% CI in brackets)")
    st.table(time_answer(results, names, at_time, answer_changes))

close = res_edit.scenario.store.close if res_edit.scenario.store.close == res_base.scenario.store.close else None
g1, g2 = st.columns(2)
with g1:
    st.markdown("**Mean wait for a counter, by interval of arrival**")
    wait_chart = charts.interval_band_chart(_intervals("mean_wait_min"), names, "Mean wait (minutes)", close=close)
    suspend = res_edit.scenario.cross_sell.policy.suspend if res_edit.scenario.cross_sell.policy.mode == "windows" else ()
    if suspend:  # show when the plan stops pitching: that is where pitching's extra minutes disappear
        label = "No pitching" + ("" if same else " (your plan)")
        wait_chart = alt.layer(charts.windows_layer([tuple(w.split("-")) for w in suspend], label), wait_chart).resolve_legend(fill="independent")
    st.altair_chart(wait_chart, width="stretch")
with g2:
    st.markdown("**People waiting for a counter (time average)**")
    st.altair_chart(charts.interval_band_chart(_intervals("mean_queue_len"), names, "People waiting", close=close), width="stretch")

g3, g4 = st.columns(2)
with g3:
    st.markdown("**Staffed counters vs required**")
    frames = []
    for name, res in zip(names, results, strict=True):
        sc = res.scenario
        frames.append(pd.DataFrame({"series": f"Staffed: {name.lower()}", "start": sc.interval_labels, "counters": sc.staffed_schedule()}))
    req, how = required_counters(res_edit.scenario)
    frames.append(pd.DataFrame({"series": "Required", "start": res_edit.scenario.interval_labels, "counters": req}))
    staff_df = pd.concat(frames, ignore_index=True)
    series_names = [f"Staffed: {n.lower()}" for n in names]
    st.altair_chart(charts.staffing_chart(staff_df, series_names, close=close), width="stretch")
    st.caption(f"Required: {how}")
with g4:
    n_cust = min(CUSTOMER_REPS, run["reps"])
    st.markdown("**How long counter customers waited**")
    waits, outcomes = [], []
    for i, (name, res) in enumerate(zip(names, results, strict=True)):
        yaml_text = run["base"] if i == 0 else run["edited"]
        cust = customers_cached(yaml_text, run["seed"], n_cust)
        if cust.empty:
            continue
        served_counter = cust[(cust["outcome"] == "served") & (cust["counter_id"] >= 0)]
        waits.append(pd.DataFrame({"scenario": name, "wait_min": served_counter["wait_min"].astype(float)}))
        per_day = 1.0 / n_cust
        counts = [
            ("Served at a counter", len(served_counter) * per_day, 0),
            ("Served at a kiosk", int(((cust["outcome"] == "served") & (cust["counter_id"] < 0)).sum()) * per_day, 1),
            ("Gave up waiting", int((cust["outcome"] == "abandoned").sum()) * per_day, 2),
            ("Walked out (queue too long)", int((cust["outcome"] == "balked").sum()) * per_day, 3),
        ]
        diverted = float(res.days["diverted"].mean()) if "diverted" in res.days else 0.0
        counts.append(("Went online instead", diverted, 4))
        outcomes += [{"scenario": name, "outcome": o, "customers": c, "order": k} for o, c, k in counts]
    if waits:
        st.altair_chart(charts.wait_histogram(pd.concat(waits, ignore_index=True), names, res_edit.scenario.store.target_wait_min), width="stretch")
        st.caption(f"From the first {n_cust} simulated days (per-customer records).")

st.markdown("**Where the day's customers went**")
if outcomes:
    st.altair_chart(charts.outcomes_chart(pd.DataFrame(outcomes), names), width="stretch")
    st.caption(f"Customers per day, averaged over the first {n_cust} simulated days; 'went online' over all {run['reps']}.")

INTERVAL_COLUMNS = {
    "arrivals": "Customers arriving",
    "staffed": "Counters staffed",
    "mean_wait_min": "Mean wait (min)",
    "p90_wait_min": "90% waited less than (min)",
    "service_level": "Served within target",
    "abandonment_rate": "Gave up waiting",
    "mean_queue_len": "People waiting",
    "utilization": "Counter utilization",
}

with st.expander("The numbers behind the charts (your plan, means over the simulated days)"):
    # every day figure the results carry, labelled and formatted from the KPI catalogue: a KPI added there shows here
    day = pd.DataFrame(day_rows(res_edit.kpis, open_min, currency)).set_index("label")[["value", "ci"]]
    day.index.name = "Day figure"
    st.dataframe(day.rename(columns={"value": "Mean per day", "ci": "95% CI"}), width="stretch", key="day_figures")
    wide = res_edit.intervals.pivot_table(index="start", columns="kpi", values="mean", sort=False)
    wide = wide[[c for c in INTERVAL_COLUMNS if c in wide.columns]].rename(columns=INTERVAL_COLUMNS)
    wide.index.name = "Interval start"
    # one format per unit, as on the cards: whole counters and customers, minutes to 0.1, shares in percent
    shares = [c for c in ("Served within target", "Gave up waiting", "Counter utilization") if c in wide.columns]
    wide[shares] = wide[shares] * 100
    formats = {"Customers arriving": "%.0f", "Counters staffed": "%d", "Mean wait (min)": "%.1f min",
               "90% waited less than (min)": "%.1f min", "People waiting": "%.1f", **{c: "%.1f%%" for c in shares}}
    st.dataframe(
        wide,
        width="stretch",
        column_config={c: st.column_config.NumberColumn(format=f) for c, f in formats.items() if c in wide.columns},
    )
    e1, e2 = st.columns(2)
    e1.download_button("Download interval results (CSV)", res_edit.intervals.to_csv(index=False).encode(), file_name="storeq_intervals.csv", mime="text/csv", icon=":material/download:")
    e2.download_button("Download day results (CSV)", res_edit.kpis.to_csv().encode(), file_name="storeq_day_kpis.csv", mime="text/csv", icon=":material/download:")
